"""Time the curves at long runs and measure a History's RAM. Prints numbers.

    python benchmarks/bench_curves.py [--rows N] [--runs N] [--frames N] [--per-frame N] [--memory] [--frame]

Frame: ``--runs`` runs of ``--rows`` epochs each (with test values), shown in a 1000×600 CurvesView; each
frame appends ``--per-frame`` rows to every run and calls refresh(). Prints refresh() median/p99 per frame
(wall), the same with the paint that follows (events processed), and that frame's CPU time in the GUI
thread (steadier than wall time on a busy machine); cases: linear cost, log cost, x = training time, the
view hidden.
Memory: ``History.nbytes`` (column buffers + drawing summaries held in RAM) at 10^6 and 10^7 rows with
test values, in bytes per row, and the traced allocation (tracemalloc) for comparison.

Runs offscreen unless QT_QPA_PLATFORM is set (e.g. under xvfb-run for a real X server).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from nnviz.core.history import History  # noqa: E402


def _columns(start: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Rows like a run's: decreasing noisy cost, a decaying learning rate, uneven times."""
    epochs = np.arange(start, start + n)
    return {
        "epoch": epochs,
        "cost": 0.7 / (1 + 1e-4 * epochs) + 0.01 * rng.random(n),
        "accuracy": np.minimum(1.0, 0.5 + 1e-6 * epochs + 0.01 * rng.random(n)),
        "learning_rate": 0.3 * 0.99999 ** epochs,
        "updates": 10 * epochs,
        "samples": 1000 * epochs,
        "elapsed_s": 1e-4 * epochs + 1e-5 * rng.random(n),
        "test_cost": 0.72 / (1 + 1e-4 * epochs) + 0.01 * rng.random(n),
        "test_accuracy": np.minimum(1.0, 0.5 + 1e-6 * epochs + 0.01 * rng.random(n)),
    }


def _fill(history: History, rows: int, rng: np.random.Generator, batch: int = 200_000) -> None:
    for start in range(len(history), rows, batch):
        history.append_columns(_columns(start, min(batch, rows - start), rng))


def bench_memory() -> None:
    print("History RAM (9 columns, bulk appends of 200,000 rows):")
    rng = np.random.default_rng(0)
    for rows in (10**6, 10**7):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        history = History(True)
        _fill(history, rows, rng)
        traced = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        plain = rows * 8 * len(history.columns)
        print(f"  {rows:>12,} rows: nbytes {history.nbytes / 2**20:7.1f} MB = {history.nbytes / rows:6.2f} B/row"
              f"   traced {traced / 2**20:7.1f} MB = {traced / rows:6.2f} B/row"
              f"   (plain columns: {plain / 2**20:,.0f} MB, {plain / rows:.0f} B/row)")
        del history


def _percentiles(times: list[float]) -> str:
    times = sorted(times)
    return f"median {statistics.median(times):7.2f} ms   p99 {times[int(0.99 * (len(times) - 1))]:7.2f} ms"


def bench_frames(rows: int, runs: int, frames: int, per_frame: int) -> None:
    from PySide6.QtWidgets import QApplication

    from nnviz.gui.curves import CurvesView

    app = QApplication.instance() or QApplication([])
    rng = np.random.default_rng(1)
    histories = {}
    for i in range(runs):
        histories[str(i)] = History(True)
        _fill(histories[str(i)], rows, rng)
    view = CurvesView()
    view.resize(1000, 600)
    view.show()
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    view.set_runs([(key, f"run {key}", colours[int(key) % len(colours)], True) for key in histories])
    for key, history in histories.items():
        view.set_history(key, history)
    view.set_has_test(True)
    view.set_epoch_target(2 * rows)
    view.refresh()
    app.processEvents()
    print(f"CurvesView: {runs} runs × {rows:,} epochs, +{per_frame:,} rows a run a frame, {frames} frames, "
          f"{view.graphics.width()}×{view.graphics.height()} px:")

    def run(label: str) -> None:
        refresh, total, cpu = [], [], []
        for _ in range(frames):
            for history in histories.values():
                _fill(history, len(history) + per_frame, rng)
            start, start_cpu = time.perf_counter(), time.thread_time()
            view.refresh()
            middle = time.perf_counter()
            app.processEvents()  # the paint the refresh asked for
            end = time.perf_counter()
            refresh.append(1000 * (middle - start))
            total.append(1000 * (end - start))
            cpu.append(1000 * (time.thread_time() - start_cpu))
        print(f"  {label:<18} refresh() {_percentiles(refresh)} | with paint {_percentiles(total)} "
              f"| CPU {_percentiles(cpu)}")

    run("linear cost")
    view.set_log_cost(True)
    run("log cost")
    view.set_log_cost(False)
    view.set_x_axis("seconds")
    run("x = training time")
    view.set_x_axis("epoch")
    view.hide()
    run("view hidden")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--rows", type=int, default=10**6, help="epochs a run holds before the frames")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--per-frame", type=int, default=1000, help="rows appended to each run a frame")
    parser.add_argument("--memory", action="store_true", help="only the memory figures")
    parser.add_argument("--frame", action="store_true", help="only the frame times")
    args = parser.parse_args()
    if not args.frame:
        bench_memory()
    if not args.memory:
        bench_frames(args.rows, args.runs, args.frames, args.per_frame)


if __name__ == "__main__":
    main()
