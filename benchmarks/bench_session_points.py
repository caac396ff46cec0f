"""Writing and reading a session of a user's many points in a background thread, as the window does (File ▸ Save,
File ▸ Open of a big session): how long it takes, and the longest time another thread (the GUI's) waits for the
interpreter lock meanwhile, with the window's switch interval. Prints a table, asserts nothing. From the
repository root:

    .venv/bin/python benchmarks/bench_session_points.py [n_points ...]
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from nnviz.core.datasets import Points  # noqa: E402
from nnviz.core.session import parse_session, session_text  # noqa: E402
from nnviz.core.specs import RunSpec, SharedSettings  # noqa: E402
from nnviz.gui.app import GIL_SWITCH_INTERVAL_S  # noqa: E402

TICK_S = 0.002  # the other thread's sleep between two looks at the clock (a 500 Hz timer)


def in_thread(work) -> tuple[float, float]:
    """(seconds ``work`` took in a thread, longest gap between two ticks of this thread meanwhile)."""
    done = threading.Event()
    thread = threading.Thread(target=lambda: (work(), done.set()))
    start = last = time.perf_counter()
    thread.start()
    gap = 0.0
    while not done.is_set():
        time.sleep(TICK_S)
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
    thread.join()
    return time.perf_counter() - start, gap


def main(sizes: list[int]) -> None:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    print(f"{'points':>10} {'save s':>8} {'save gap ms':>12} {'open s':>8} {'open gap ms':>12} {'MB':>6}")
    for n in sizes:
        rng = np.random.default_rng(0)
        points = Points(rng.normal(size=(n, 2)), (rng.random(n) > 0.5).astype(float))
        shared = SharedSettings(dataset="custom", points=points)
        text = session_text(shared, [RunSpec()])
        save, save_gap = in_thread(lambda: session_text(shared, [RunSpec()]))  # noqa: B023
        load, load_gap = in_thread(lambda: parse_session(text))  # noqa: B023
        print(f"{n:>10,} {save:>8.2f} {save_gap * 1000:>12.0f} {load:>8.2f} {load_gap * 1000:>12.0f} "
              f"{len(text) / 1e6:>6.1f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
