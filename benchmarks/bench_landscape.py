"""The loss landscape: seconds to fit the plane and to compute the cost grid for the notebook's four runs
(and for bigger networks), and how soon a stop request is honoured (the longest gap between two calls of
``should_stop``, and the time from a request to Stopped). Prints a markdown table; asserts nothing. From the
repository root:

    .venv/bin/python benchmarks/bench_landscape.py
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core.comparison import Comparison, SharedSettings, notebook_runs, preset_shared  # noqa: E402
from nnviz.core.landscape import compute_landscape, plane_of  # noqa: E402
from nnviz.core.training import Stopped  # noqa: E402


def measure(label: str, shared: SharedSettings, epochs: int, resolution: int) -> None:
    comparison = Comparison(shared, [run.replace(epochs=epochs) for run in notebook_runs()])
    comparison.run_to_end()
    compute_landscape(comparison, 5)  # compiles / warms up
    fits = []
    for _ in range(3):
        start = time.perf_counter()
        plane_of(comparison)
        fits.append(time.perf_counter() - start)
    fit = min(fits)

    asked: list[float] = []

    def should_stop() -> bool:
        asked.append(time.perf_counter())
        return False

    start = time.perf_counter()
    compute_landscape(comparison, resolution, should_stop=should_stop)
    total = time.perf_counter() - start
    gaps = [b - a for a, b in zip(asked, asked[1:], strict=False)]

    requested: list[float] = []
    flag = threading.Event()

    def request() -> None:
        requested.append(time.perf_counter())
        flag.set()

    timer = threading.Timer(total / 2, request)
    timer.start()
    try:
        compute_landscape(comparison, resolution, should_stop=flag.is_set)
        latency = float("nan")
    except Stopped:
        latency = time.perf_counter() - requested[0]
    finally:
        timer.cancel()
    print(f"| {label} | {resolution}×{resolution} | {fit * 1000:.1f} | {total:.3f} | "
          f"{max(gaps) * 1000:.2f} | {latency * 1000:.1f} |")


def main() -> None:
    print("| notebook's 4 runs, data, network | grid | fit plane, ms | grid, s | longest gap between stop checks, ms "
          "| stop request to Stopped, ms |")
    print("|---|---|---|---|---|---|")
    measure("hard 1000, 2-3-4-1 (notebook), 150 epochs", preset_shared(), 150, 61)
    measure("hard 1000, 2-64-64-1, 20 epochs", preset_shared().replace(shape=(2, 64, 64, 1)), 20, 61)
    measure("moons 2,000, 2-256-256-256-1, 2 epochs",
            SharedSettings(dataset="moons", n_samples=2_000, shape=(2, 256, 256, 256, 1)), 2, 11)


if __name__ == "__main__":
    main()
