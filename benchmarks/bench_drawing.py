"""Drawing on the map of a large data set: what the GUI thread spends on a press, on each mouse move of a drag
(painting, erasing) and on the release (the stroke applied, the edit handed to the preparation thread), and
the time until every run has restarted on the new points. Offscreen window; prints a table, asserts nothing.
From the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_drawing.py [n_points ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core.datasets import Points  # noqa: E402
from nnviz.core.training import preset_config  # noqa: E402


def wait(app, condition, timeout=120.0) -> float:
    start = time.perf_counter()
    while not condition():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the window did not get ready")
    return time.perf_counter() - start


def measure(app, window, n: int) -> dict:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    points = Points(X, (X[:, 0] * X[:, 1] > 0).astype(float))
    c = window.controller
    c.set_shared(c.shared.replace(dataset="custom", points=points, test_fraction=0.0))
    wait(app, lambda: not c.busy and len(window.model.data) == n)
    for _ in range(20):
        app.processEvents()
    window.drawing.set_active(True)
    tool = window.drawing.tool

    def scene(x1, x2):
        return tool.view.plot.vb.mapViewToScene(QPointF(x1, x2))

    times = {}
    t = time.perf_counter()
    tool.press(scene(0.5, 0.5), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier)
    times["erase press (nearest)"] = time.perf_counter() - t
    moves = []
    for i in range(1, 31):
        t = time.perf_counter()
        tool.move(scene(0.5 + i * 0.02, 0.5))
        moves.append(time.perf_counter() - t)
    times["erase move (median of 30)"] = float(np.median(moves))
    t = time.perf_counter()
    tool.release()
    times["erase release (stroke + edit)"] = time.perf_counter() - t
    times["until every run restarted"] = wait(app, lambda: not c.busy)
    tool.press(scene(-1.0, -1.0), Qt.MouseButton.LeftButton)
    moves = []
    for i in range(1, 31):
        t = time.perf_counter()
        tool.move(scene(-1.0 + i * 0.05, -1.0))
        moves.append(time.perf_counter() - t)
    times["paint move (median of 30)"] = float(np.median(moves))
    t = time.perf_counter()
    tool.release()
    times["paint release (stroke + edit)"] = time.perf_counter() - t
    wait(app, lambda: not c.busy)
    t = time.perf_counter()
    window.drawing.undo()
    times["undo (stroke + edit)"] = time.perf_counter() - t
    wait(app, lambda: not c.busy)
    window.drawing.set_active(False)
    return times


def main() -> None:
    sizes = [int(v) for v in sys.argv[1:]] or [10_000, 1_000_000]
    app = QApplication.instance() or QApplication([])
    from nnviz.gui.main_window import MainWindow

    print(f"{os.cpu_count()} CPUs; times on the GUI thread in ms (the last row: the preparation thread)\n")
    rows = {}
    for n in sizes:
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnviz.ini"), QSettings.Format.IniFormat)
        window = MainWindow(preset_config("sgd", n_samples=200, epochs=10), settings=settings, confirm=False)
        window.resize(1400, 900)
        window.show()
        wait(app, lambda w=window: len(w.model) > 0 and not w.controller.busy)
        rows[n] = measure(app, window, n)
        window.controller.shutdown()
        window.close()
    print("| | " + " | ".join(f"{n:,} points" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in rows[sizes[0]]:
        print(f"| {name} | " + " | ".join(f"{1000 * rows[n][name]:.1f}" for n in sizes) + " |")


if __name__ == "__main__":
    main()
