"""Sweeps: the issue's target, the 30 × 30 (α, β) sweep of the notebook's sgd run (per-sample, 150 epochs, 900
cells), with the lockstep engine on 1 and 2 threads, beside the single-run baseline measured in the same run (the
ordinary Trainer, one cell after another: what a sweep cost before the lockstep engine), a mini-batch sweep, the
seeds of the notebook's four runs, and the time from a stop request to the sweep's return. Prints markdown tables;
asserts nothing. From the repository root:

    .venv/bin/python benchmarks/bench_sweep.py            # NNVIZ_BENCH_EPOCHS=30 for a quick look
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core.sweep import parse_axis, run_cell, seed_configs, sweep, train_configs  # noqa: E402
from nnviz.core.training import preset_config  # noqa: E402

EPOCHS = int(os.environ.get("NNVIZ_BENCH_EPOCHS", "150"))
AXES = [parse_axis("learning_rate=1e-3:1:log:30"), parse_axis("momentum=0:0.99:lin:30")]
BASELINE_CELLS = 12  # single runs timed for the baseline (every 75th cell of the grid), scaled to 900


def baseline(base, axes) -> float:
    """Seconds the whole grid takes as single runs one after another, from a sample of its cells."""
    cells = [{AXES[0].name: a, AXES[1].name: b} for a in axes[0].values() for b in axes[1].values()]
    sample = cells[:: max(1, len(cells) // BASELINE_CELLS)]
    run_cell(base, sample[0])  # loads the compiled kernels
    start = time.perf_counter()
    for values in sample:
        run_cell(base, values)
    return (time.perf_counter() - start) / len(sample) * len(cells)


def grid_table(title: str, base, axes) -> None:
    cells = len(axes[0].values()) * len(axes[1].values())
    sweep(base, [parse_axis(f"{axes[0].name}=0.01:0.02:lin:4")], workers=1)  # loads the lockstep kernels
    single = baseline(base, axes)
    print(f"\n{title}: {cells} cells, {base.epochs} epochs\n")
    print("| how | seconds | cells/s | × single runs |")
    print("|---|---:|---:|---:|")
    print(f"| single runs one after another (Trainer; {BASELINE_CELLS} timed) | {single:.2f} | "
          f"{cells / single:.0f} | 1.0 |")
    for workers in (1, 2):
        start = time.perf_counter()
        results = sweep(base, axes, workers=workers)
        seconds = time.perf_counter() - start
        diverged = sum(r.diverged for r in results)
        print(f"| lockstep, {workers} thread{'s' if workers > 1 else ''} ({diverged} diverged) | {seconds:.2f} | "
              f"{cells / seconds:.0f} | {single / seconds:.1f} |")


def seeds_table() -> None:
    configs = []
    for name in ("sgd", "mini-batch", "momentum", "decay"):
        configs += seed_configs(preset_config(name), 10, "init")
    start = time.perf_counter()
    train_configs(configs, history=True, workers=2)
    seconds = time.perf_counter() - start
    print(f"\nthe notebook's four runs × 10 init seeds, with per-epoch curves, 2 threads: {seconds:.2f} s")


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
    sweep(base.replace(epochs=10_000_000), AXES, workers=workers, should_stop=should_stop)
    return time.perf_counter() - should_stop.first


def main() -> None:
    print(f"{os.cpu_count()} cores")
    base = preset_config("sgd", epochs=EPOCHS)
    grid_table("the notebook's sgd run, α 1e-3..1 log × β 0..0.99 lin (the issue's target: ≤ 3 s)", base, AXES)
    mini = preset_config("mini-batch", epochs=min(EPOCHS, 300))
    grid_table("mini-batch (32), α 1e-3..1 log × β 0..0.99 lin", mini, AXES)
    seeds_table()
    for workers in (1, 2):
        print(f"stop with {workers} thread{'s' if workers > 1 else ''}: returned "
              f"{1000 * stop_latency(base, workers):.0f} ms after should_stop() first said so")


if __name__ == "__main__":
    main()
