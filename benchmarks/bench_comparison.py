"""Comparisons: epochs/s of the four notebook runs stepped round-robin in one thread, against the
same runs stepped two at a time by a thread pool (the compiled kernels release the GIL); and the
memory the parameter snapshots take. Prints markdown tables; asserts nothing. From the repository root:

    .venv/bin/python benchmarks/bench_comparison.py
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnviz.core.comparison import Comparison, SharedSettings, notebook_runs, preset_shared  # noqa: E402


def rounds_per_second(shared: SharedSettings, epochs: int, pool: ThreadPoolExecutor | None) -> float:
    """Rounds (one epoch of every run) per second."""
    comparison = Comparison(shared, [run.replace(epochs=epochs) for run in notebook_runs()])
    comparison.step()  # compiles / warms up
    start = time.perf_counter()
    n = 0
    while not comparison.done:
        comparison.step(pool)
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    print(f"{os.cpu_count()} CPUs\n")
    print("| data, network | engine | one thread, rounds/s | 2 threads, rounds/s | speed-up |")
    print("|---|---|---|---|---|")
    cases = [
        ("hard 1000, 2-3-4-1 (notebook)", preset_shared().replace(engine="compiled"), 300),
        ("moons 10,000, 2-32-32-1", SharedSettings(dataset="moons", n_samples=10_000, shape=(2, 32, 32, 1),
                                                   engine="compiled"), 10),
        ("hard 1000, 2-3-4-1 (notebook)", preset_shared().replace(engine="numpy"), 5),
    ]
    with ThreadPoolExecutor(2) as pool:
        for label, shared, epochs in cases:
            one = rounds_per_second(shared, epochs, None)
            two = rounds_per_second(shared, epochs, pool)
            print(f"| {label} | {shared.engine} | {one:,.1f} | {two:,.1f} | {two / one:.2f}× |")

    print("\n| snapshots per run | network | epochs trained | kept | bytes |")
    print("|---|---|---|---|---|")
    for shape, epochs in [((2, 3, 4, 1), 2000), ((2, 3, 4, 1), 20_000), ((2, 64, 64, 1), 20_000)]:
        shared = preset_shared().replace(engine="compiled", shape=shape, n_samples=8)
        comparison = Comparison(shared, [notebook_runs()[1].replace(epochs=epochs, batch_size=8)])
        comparison.run_to_end()
        store = next(iter(comparison)).snapshots
        print(f"| capacity {store.capacity} | {'-'.join(map(str, shape))} | {epochs:,} | {len(store)} "
              f"| {store.nbytes:,} |")


if __name__ == "__main__":
    main()
