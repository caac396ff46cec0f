"""Time the network view: one show_network (a grid evaluation and the unit images) plus its repaint, per frame.
Prints numbers (issue 9 target: the window keeps >= 30 frames/s with the view open, so a frame of the view
should cost a few ms on 2-3-4-1 and 2-8-8-1).

    python benchmarks/bench_network_view.py [--repeats N] [--size WxH]

Runs offscreen unless QT_QPA_PLATFORM is set. Each case: the notebook's data, a network's weights changing
every frame (as in training), the view shown at the given size; "show all" and "large" cases for the wide net.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core.datasets import make_hard  # noqa: E402
from nnviz.core.health import measure  # noqa: E402
from nnviz.core.network import Layout, init_params  # noqa: E402
from nnviz.gui.network_view import NetworkView  # noqa: E402

CASES = [((2, 3, 4, 1), "normal"), ((2, 8, 8, 1), "normal"), ((2, 256, 256, 256, 1), "normal"),
         ((2, 256, 256, 256, 1), "show all"), ((2, 256, 256, 256, 1), "large"), ((2, 3, 4, 1), "large")]


def frame_times(view: NetworkView, app: QApplication, frames: list[np.ndarray], layout: Layout, health,
                repeats: int) -> list[float]:
    """ms of show_network + the repaint it causes, per frame."""
    times = []
    for k in range(repeats + 1):
        start = time.perf_counter()
        view.show_network(frames[k % len(frames)], layout, "relu", health=health, title=f"epoch {k}")
        view.repaint()  # paint now, as the window's frame does
        app.processEvents()
        if k:  # the first call builds the evaluators
            times.append(1000 * (time.perf_counter() - start))
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--size", default="900x560", help="the view's size in pixels, WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    app = QApplication.instance() or QApplication([])
    X, y = make_hard(1000)
    print(f"network view, {width}x{height}, {args.repeats} frames each (show_network + repaint):")
    for shape, mode in CASES:
        layout = Layout(shape)
        rng = np.random.default_rng(0)
        base = init_params(shape, 1234, "he")
        frames = [base + 0.01 * rng.standard_normal(base.shape) for _ in range(8)]  # weights that move
        health = measure(base, layout, "relu", X, y, 2000)
        view = NetworkView()
        view.resize(width, height)
        view.show()
        view.set_data(X, y)
        view.show_network(base, layout, "relu", health=health)
        if mode == "show all":
            view.set_show_all(True)
        elif mode == "large":
            view.open_unit(1, view.shown_unit_indices(1)[0])
        app.processEvents()
        times = frame_times(view, app, frames, layout, health, args.repeats)
        times.sort()
        label = f"{'-'.join(map(str, shape))} {mode}"
        extra = f"  (unit cells {view.resolution}, units drawn {sum(view.shown_units())})"
        print(f"  {label:<26} median {statistics.median(times):7.2f} ms   p90 {times[int(0.9 * (len(times) - 1))]:7.2f}"
              f" ms{extra}")
        view.close()
        view.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
