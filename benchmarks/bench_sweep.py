"""Sweeps: cells per second for a 10 × 10 (α, β) grid of the notebook's sgd run (per-sample, 50 and 150 epochs) with
1 worker (in process) and 2 worker processes, beside a single run trained alone in the same process (the
baseline a compiled lockstep kernel has to beat), and the time from a stop request to the sweep's return.
Prints a markdown table; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/bench_sweep.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core.sweep import parse_axis, run_cell, sweep  # noqa: E402
from nnviz.core.training import preset_config  # noqa: E402

EPOCHS = 50
AXES = [parse_axis("learning_rate=1e-3:1:log:10"), parse_axis("momentum=0:0.99:lin:10")]


def grid_rates(epochs: int) -> None:
    base = preset_config("sgd", epochs=epochs)
    run_cell(base, {})  # loads the compiled kernels
    start = time.perf_counter()
    for _ in range(5):
        run_cell(base, {})
    single = (time.perf_counter() - start) / 5
    cells = len(AXES[0].values()) * len(AXES[1].values())
    print(f"\nsgd, per-sample, {epochs} epochs, {cells} cells (10 × 10 α × β)\n")
    print("| how | seconds | cells/s |")
    print("|---|---:|---:|")
    print(f"| single runs, one after another (estimate from 5) | {single * cells:.2f} | {1 / single:.1f} |")
    for workers in (1, 2):
        start = time.perf_counter()
        results = sweep(base, AXES, workers=workers)
        seconds = time.perf_counter() - start
        assert len(results) == cells
        label = "sweep, 1 worker (in process)" if workers == 1 else f"sweep, {workers} worker processes (spawned)"
        print(f"| {label} | {seconds:.2f} | {cells / seconds:.1f} |")


def main() -> None:
    for epochs in (EPOCHS, 150):
        grid_rates(epochs)
    base = preset_config("sgd", epochs=EPOCHS)
    # Stopping: cells of ten million epochs, stop requested 1 s in; the sweep returns once the workers stopped.
    for workers in (1, 2):
        print(f"\nstop with {workers} worker{'s' if workers > 1 else ''}: returned "
              f"{1000 * stop_latency(base, workers):.0f} ms after should_stop() first said so")


class StopAfter:
    """A should_stop that says so from ``seconds`` after it was made, and remembers when it first did."""

    def __init__(self, seconds: float):
        self.start, self.seconds, self.first = time.perf_counter(), seconds, None

    def __call__(self) -> bool:
        now = time.perf_counter()
        if now - self.start < self.seconds:
            return False
        self.first = self.first or now
        return True


def stop_latency(base, workers: int) -> float:
    should_stop = StopAfter(1.0)
    sweep(base.replace(epochs=10_000_000), AXES[:1], workers=workers, should_stop=should_stop)
    return time.perf_counter() - should_stop.first

if __name__ == "__main__":
    main()
