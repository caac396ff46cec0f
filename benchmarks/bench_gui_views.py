"""Time the views: one decision-map redraw and one curves append with 100,000 epochs held. Prints numbers.

    python benchmarks/bench_gui_views.py [--repeats N]

Runs offscreen unless QT_QPA_PLATFORM is set (e.g. under xvfb-run for a real X server).
Targets (issue 4): decision-map redraw <= 10 ms median.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core.contour import marching_squares  # noqa: E402
from nnviz.core.grid import GridEvaluator  # noqa: E402
from nnviz.core.training import Trainer, preset_config  # noqa: E402
from nnviz.gui.boundary_view import BoundaryView  # noqa: E402
from nnviz.gui.curves import CurvesView  # noqa: E402


def median_ms(function, repeats: int) -> tuple[float, float]:
    """(median, p90) wall time of ``function()`` in milliseconds, after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - start))
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def report(label: str, result: tuple[float, float]) -> None:
    print(f"  {label:<58} median {result[0]:7.3f} ms   p90 {result[1]:7.3f} ms")


def bench_map(app: QApplication, repeats: int) -> None:
    config = preset_config("sgd", epochs=150, engine="compiled")
    trainer = Trainer(config)
    snapshots = [record.params for record in trainer]  # the notebook net at every epoch: the contour moves
    layout, activation = trainer.layout, config.activation
    view = BoundaryView(resolution=200)
    view.resize(900, 560)
    view.set_data(trainer.X, trainer.y)
    view.show()
    app.processEvents()
    n = view.resolution
    print(f"decision map {n}x{n}, network {config.shape} ({config.activation}), {len(snapshots)} sgd snapshots")

    evaluator = GridEvaluator(layout, activation, view.extent, n)
    cycle = iter(range(10**9))

    def theta():
        return snapshots[next(cycle) % len(snapshots)]

    report("grid (GridEvaluator)", median_ms(lambda: evaluator(theta()), repeats))
    grid = evaluator(snapshots[-1]).copy()
    report("contour (marching_squares)", median_ms(lambda: marching_squares(grid, 0.5, evaluator.xs, evaluator.ys),
                                                   repeats))
    report("redraw: set_model (grid + image + contour)", median_ms(lambda: view.set_model(theta(), layout, activation),
                                                                  repeats))

    def redraw_and_paint():
        view.set_model(theta(), layout, activation)
        view.viewport().repaint()  # paint synchronously: what a frame costs on screen

    report("redraw + paint of the whole view", median_ms(redraw_and_paint, repeats))

    # For the record: pyqtgraph's IsocurveItem on the same grid (path built in Python, cell by cell).
    iso = pg.IsocurveItem(level=0.5, pen="r")
    view.plot.addItem(iso)

    def isocurve():
        iso.setData(grid)
        iso.generatePath()

    report("IsocurveItem.setData + generatePath (for comparison)", median_ms(isocurve, max(5, repeats // 5)))
    segments = marching_squares(grid, 0.5, evaluator.xs, evaluator.ys)
    report("marching_squares + PlotDataItem.setData (connect='pairs')",
           median_ms(lambda: (lambda s: view.contour.setData(s[:, 0], s[:, 1]))(
               marching_squares(grid, 0.5, evaluator.xs, evaluator.ys)), repeats))
    print(f"  contour: {len(segments) // 2} segments")
    view.close()


def bench_curves(app: QApplication, repeats: int, n_epochs: int, n_runs: int, batch: int) -> None:
    template = Trainer(preset_config("mini-batch", epochs=1, test_fraction=0.2, engine="numpy")).initial_record()
    rng = np.random.default_rng(0)
    view = CurvesView()
    view.resize(900, 620)
    view.show()
    for run in range(n_runs):
        cost = 0.7 * np.exp(-np.arange(n_epochs) / 3000) + 0.01 + 0.005 * rng.random(n_epochs)
        records = [
            dataclasses.replace(template, epoch=e, cost=float(c), test_cost=float(c) * 1.1, updates=32 * e,
                                samples=1000 * e, elapsed_s=e * 1e-3)
            for e, c in enumerate(cost)
        ]
        view.add_run(f"run{run}", f"run {run}", pg.intColor(run, n_runs))
        view.append(f"run{run}", records)
    view.set_log_cost(True)
    app.processEvents()
    print(f"curves: {n_runs} run(s) holding {n_epochs:,} epochs each; one frame = append {batch} epochs to every run"
          " (each redraws its own curves), then paint")
    next_epoch = iter(range(n_epochs, 10**9))
    appends, paints = [], []
    for frame in range(repeats + 1):
        start = time.perf_counter()
        e0 = next(next_epoch) * batch
        for run in range(n_runs):
            view.append(f"run{run}", [dataclasses.replace(template, epoch=e0 + k) for k in range(batch)])
        middle = time.perf_counter()
        view.graphics.viewport().repaint()
        end = time.perf_counter()
        if frame:  # the first frame is a warm-up
            appends.append(1000 * (middle - start))
            paints.append(1000 * (end - middle))
    for label, times in (("append (all runs)", appends), ("paint", paints),
                         ("frame = append + paint", [a + p for a, p in zip(appends, paints, strict=True)])):
        times = sorted(times)
        report(label, (statistics.median(times), times[int(0.9 * (len(times) - 1))]))
    view.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per figure (default 100)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"platform {QApplication.platformName()}, pyqtgraph {pg.__version__}, numpy {np.__version__}")
    bench_map(app, args.repeats)
    for n_runs in (1, 4):
        bench_curves(app, args.repeats, n_epochs=100_000, n_runs=n_runs, batch=16)


if __name__ == "__main__":
    main()
