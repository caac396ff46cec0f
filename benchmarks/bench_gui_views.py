"""Time the views: one decision-map redraw, one curves append with 100,000 epochs held, the maps panel
given 1,000,000 points, and map exports. Prints numbers.

    python benchmarks/bench_gui_views.py [--repeats N] [--points N] [--only map,curves,panel,export]

Runs offscreen unless QT_QPA_PLATFORM is set (e.g. under xvfb-run for a real X server).
Targets (issue 4): decision-map redraw <= 10 ms median. The panel case uses only API that older
versions had too: run it with PYTHONPATH pointing at an older checkout for the "before" figures.
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
from nnviz.core.datasets import make_hard, split_train_test  # noqa: E402
from nnviz.core.grid import GridEvaluator  # noqa: E402
from nnviz.core.training import Trainer, preset_config  # noqa: E402
from nnviz.gui.boundary_view import BoundaryView  # noqa: E402
from nnviz.gui.curves import CurvesView  # noqa: E402
from nnviz.gui.maps_panel import MapsPanel  # noqa: E402


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


def timed_ms(function) -> float:
    start = time.perf_counter()
    function()
    return 1000 * (time.perf_counter() - start)


def bench_panel(app: QApplication, n_points: int, repeats: int) -> None:
    """The notebook's 4 runs shown in the maps panel at ``n_points`` points (20 % held out): what the window
    does when the data changes (set_data) and when a run is added (set_runs), each followed by a paint."""
    X, y = make_hard(n_points - n_points % 4, seed=1337)
    X_train, y_train, X_test, y_test = split_train_test(X, y.ravel(), 0.2, 0)
    config = preset_config("sgd", epochs=1, engine="numpy")
    trainer = Trainer(config)
    theta, layout = trainer.theta.copy(), trainer.layout
    print(f"maps panel, 4 runs, {len(X):,} points ({len(X_test):,} held out), 900x600, median of {repeats}")
    runs = [(k, f"run {k}", pg.intColor(k, 5).name(), True) for k in range(4)]

    def paint(panel):
        panel.repaint()
        app.processEvents()

    set_data, add, paints = [], [], []
    for _ in range(repeats):
        panel = MapsPanel()
        panel.resize(900, 600)
        panel.show()
        app.processEvents()
        panel.set_runs(runs)
        for run_id, *_ in runs:
            panel.show_state(run_id, theta, layout, config.activation, 0.5, 0)
        paint(panel)
        set_data.append(timed_ms(lambda p=panel: (p.set_data(X_train, y_train, X_test, y_test), paint(p))))
        paints.append(timed_ms(lambda p=panel: paint(p)))
        more = [*runs, (4, "run 4", "#000000", True)]

        def add_run(p=panel, more=more):
            p.set_runs(more)
            p.show_state(4, theta, layout, config.activation, 0.5, 0)
            paint(p)

        add.append(timed_ms(add_run))
        panel.close()
        panel.deleteLater()
        app.processEvents()
    for label, times in (("set_data + paint (4 maps + the large one)", set_data),
                         ("set_runs: add a 5th run + its state + paint", add), ("paint alone", paints)):
        report(label, (statistics.median(times), max(times)))
    print("  (the second column is the maximum here, not p90)")


def bench_export(app: QApplication, width: int) -> None:
    """A decision map exported ``width`` pixels wide: BoundaryView.save_png, and render_map alone if present."""
    import tempfile

    config = preset_config("sgd", epochs=150, test_fraction=0.2, engine="compiled")
    trainer = Trainer(config)
    records = list(trainer)
    view = BoundaryView()
    view.resize(900, 560)
    view.show()
    view.set_data(trainer.X, trainer.y, trainer.X_test, trainer.y_test)
    view.set_model(records[-1].params, trainer.layout, config.activation)
    app.processEvents()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "map.png"
        save = timed_ms(lambda: view.save_png(path, width))
        size = path.stat().st_size
    line = f"map export {width} px wide, network {config.shape}: save_png {save:.0f} ms ({size / 1e6:.1f} MB)"
    try:
        from nnviz.gui.map_render import render_map
    except ImportError:
        print(line)
        return
    state = view.render_state()
    render = timed_ms(lambda: render_map(**state, width=width, height=view.export_height(width)))
    print(f"{line}, of which render_map {render:.0f} ms (the rest: PNG encoding and writing)")
    view.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--repeats", type=int, default=100, help="timed calls per figure (default 100)")
    parser.add_argument("--points", type=int, default=1_000_000, help="points in the panel case (default 10^6)")
    parser.add_argument("--only", default="map,curves,panel,export", help="cases to run, comma-separated")
    args = parser.parse_args()
    cases = set(args.only.split(","))
    app = QApplication.instance() or QApplication([])
    print(f"platform {QApplication.platformName()}, pyqtgraph {pg.__version__}, numpy {np.__version__}")
    if "map" in cases:
        bench_map(app, args.repeats)
    if "curves" in cases:
        for n_runs in (1, 4):
            bench_curves(app, args.repeats, n_epochs=100_000, n_runs=n_runs, batch=16)
    if "panel" in cases:
        bench_panel(app, args.points, max(1, min(args.repeats, 5)))
    if "export" in cases:
        for width in (2000, 8000):
            bench_export(app, width)


if __name__ == "__main__":
    main()
