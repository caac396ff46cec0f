"""The update-size view's per-frame cost: ``refresh()`` after each added epoch, and a paint, at several lengths.

    .venv/bin/python benchmarks/bench_update_view.py [--layers L] [--frames F]

Fills an UpdateSizes (capacity 65536, the core's default) with random steps of a 2-h-...-h-1 network to
1,000, 10,000, 65,536 and 200,000 epochs (past the capacity: thinned), then times F frames of "one epoch
added, refresh(), repaint". Prints milliseconds of refresh() and of the repaint: median and max.
Runs offscreen unless QT_QPA_PLATFORM is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core.health import UpdateSizes  # noqa: E402
from nnviz.core.network import Layout, init_params  # noqa: E402
from nnviz.gui.update_view import UpdateSizesView  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--layers", type=int, default=3, help="hidden layers of 8 units (default 3)")
    parser.add_argument("--frames", type=int, default=200, help="frames timed per length (default 200)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    layout = Layout((2, *([8] * args.layers), 1))
    rng = np.random.default_rng(0)
    params = init_params(layout.shape, 0)
    sizes = UpdateSizes(layout, params)
    view = UpdateSizesView()
    view.resize(600, 350)
    view.show()
    view.show_run(sizes, "bench", "#1f77b4", layout.shape)
    epoch = 0
    step = rng.normal(0, 1e-3, (64, params.size))
    print(f"network {layout.shape}, {layout.n_layers} lines")
    for target in (1_000, 10_000, 65_536, 200_000):
        while epoch < target:
            epoch += 1
            params = params + step[epoch % 64]
            sizes.add(epoch, params)
        refresh, paint = [], []
        for _ in range(args.frames):
            epoch += 1
            params = params + step[epoch % 64]
            sizes.add(epoch, params)
            started = time.perf_counter()
            view.refresh()
            refreshed = time.perf_counter()
            app.processEvents()  # the repaint
            refresh.append(1000 * (refreshed - started))
            paint.append(1000 * (time.perf_counter() - refreshed))
        points = max(len(x) for x, _ in view.lines().values())
        print(f"{epoch:>8,} epochs ({len(sizes):,} rows, stride {sizes.stride}, {points:,} points a line): "
              f"refresh median {statistics.median(refresh):.2f} ms (max {max(refresh):.2f}), "
              f"repaint median {statistics.median(paint):.2f} ms (max {max(paint):.2f})")


if __name__ == "__main__":
    main()
