"""The landscape view's per-frame cost while training: ``set_paths`` with one new point on each run, and a paint.

    .venv/bin/python benchmarks/bench_landscape_view.py [--runs R] [--points N] [--frames F]

Shows a 61 × 61 landscape (a quadratic bowl), then times F frames in which each of R runs' paths of about N
points (wobbling spirals, so thinning keeps many of them) gains one point: ``set_paths``, then a repaint.
Prints milliseconds: median and max. Runs offscreen unless QT_QPA_PLATFORM is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core.landscape import Landscape, Path, Plane  # noqa: E402
from nnviz.gui.landscape_view import LandscapeView  # noqa: E402

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def bowl(a, b):
    return 0.02 + 0.3 * ((a - 3) ** 2 + 2 * (b - 1) ** 2)


def path(run: int, k: int, total: int) -> Path:
    """Run ``run``'s first k points of a wobbling spiral of ``total`` points into the bowl's minimum."""
    t = np.arange(k) / total
    decay = np.exp(-3 * t)
    wobble = 0.05 * np.sin(np.arange(k) * (2.1 + run))  # an epoch-to-epoch zig-zag, as momentum draws
    a = 3 - 3 * decay * np.cos((8 + run) * t) + wobble
    b = 1 - decay * np.cos((8 + run) * t) + 1.5 * decay * np.sin((8 + run) * t) - wobble
    return Path(f"run {run}", COLOURS[run % len(COLOURS)], np.arange(k), a, b, bowl(a, b), 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--runs", type=int, default=4, help="runs (default 4)")
    parser.add_argument("--points", type=int, default=10_000, help="points a path (default 10000)")
    parser.add_argument("--frames", type=int, default=200, help="frames timed (default 200)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    view = LandscapeView()
    view.resize(800, 650)
    view.show()
    axis = np.linspace(-1.5, 5.5, 61)
    A, B = np.meshgrid(axis, axis)
    start = args.points - args.frames
    paths = [path(run, start, args.points) for run in range(args.runs)]
    plane = Plane(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    t0 = time.perf_counter()
    view.show_landscape(Landscape(plane, axis, axis, bowl(A, B), paths))
    app.processEvents()
    print(f"show_landscape (61 x 61, {args.runs} paths of {start} points): {1e3 * (time.perf_counter() - t0):.1f} ms")
    full = [path(run, args.points, args.points) for run in range(args.runs)]
    setting, painting = [], []
    for frame in range(args.frames):
        k = start + frame + 1
        # What the controller sends: new Path objects holding the stored points so far.
        paths = [Path(p.name, p.colour, p.epochs[:k], p.a[:k], p.b[:k], p.cost[:k], p.share) for p in full]
        t0 = time.perf_counter()
        view.set_paths(paths)
        view.set_marker(None)
        t1 = time.perf_counter()
        view.canvas.viewport().repaint()
        t2 = time.perf_counter()
        setting.append(1e3 * (t1 - t0))
        painting.append(1e3 * (t2 - t1))
    drawn = sum(len(x) for x, _ in view.path_items().values())
    print(f"{args.runs} runs of ~{args.points} points ({drawn} drawn in all), {args.frames} frames:")
    print(f"  set_paths + set_marker: median {statistics.median(setting):.2f} ms, max {max(setting):.2f} ms")
    print(f"  repaint:                median {statistics.median(painting):.2f} ms, max {max(painting):.2f} ms")
    unchanged = []
    for _ in range(args.frames):
        t0 = time.perf_counter()
        view.set_paths([Path(p.name, p.colour, p.epochs.copy(), p.a.copy(), p.b.copy(), p.cost.copy(), p.share)
                        for p in paths])  # the same points again, in new records: compared, nothing is sent
        unchanged.append(1e3 * (time.perf_counter() - t0))
    print(f"  set_paths, nothing new: median {statistics.median(unchanged):.2f} ms")


if __name__ == "__main__":
    main()
