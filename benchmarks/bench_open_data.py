"""File ▸ Open data… on a million points: how long the window takes, and the longest the event loop waits meanwhile.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_open_data.py [FILE.csv]

Without a file, a million points are written to a temporary CSV first. Prints numbers, asserts nothing.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def main() -> None:
    app = QApplication([])
    from nnviz.core.points_csv import write_points
    from nnviz.core.training import preset_config
    from nnviz.gui.main_window import MainWindow

    if len(sys.argv) > 1:
        path = sys.argv[1]
    else:
        path = str(Path(tempfile.mkdtemp()) / "million.csv")
        X = np.random.default_rng(0).normal(size=(1_000_000, 2))
        write_points(path, X, (np.sin(3 * X[:, 0]) > X[:, 1]).astype(float))
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "nnviz.ini"), QSettings.Format.IniFormat)
    window = MainWindow(preset_config("sgd", n_samples=200, epochs=20), settings=settings, confirm=False)
    window.resize(1400, 900)
    window.show()

    def ready():
        return not window.controller.busy

    deadline = time.perf_counter() + 60
    while not ready() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
    gaps, last = [], [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(5)
    start = time.perf_counter()
    window.data_files.open_from(path)
    while not (window.model.shared.dataset == "custom" and ready()) and time.perf_counter() - start < 120:
        app.processEvents()
        time.sleep(0.002)
    took = time.perf_counter() - start
    top = sorted((round(1000 * g) for g in gaps), reverse=True)[:5]
    print(f"{len(window.model.shared.points):,} points opened in {took:.2f} s; longest event-loop wait "
          f"{1000 * max(gaps):.0f} ms; waits over 100 ms: {sum(g > 0.1 for g in gaps)}; longest five (ms): {top}")
    window.close()


if __name__ == "__main__":
    main()
