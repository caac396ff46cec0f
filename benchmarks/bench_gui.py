"""The live window under load: trains the sgd preset as fast as possible and prints numbers.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui.py [--seconds S] [--engine E] \\
        [--notebook]

Prints frames drawn per second, epochs trained per second, the event-loop lag (how late a 10 ms
QTimer fires: median, p99, max) and the time of one decision-map redraw (grid + image + contour,
then with the widget painted). Targets (issue 4): >= 30 frames/s, p99 lag <= 50 ms, redraw <= 10 ms median.
--notebook trains the four notebook runs side by side (small maps, four curves) instead of one.
Runs offscreen unless QT_QPA_PLATFORM is set or a display is available.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core import kernels  # noqa: E402
from nnviz.core.comparison import notebook_runs, preset_shared  # noqa: E402
from nnviz.core.session import Session  # noqa: E402
from nnviz.core.training import Trainer, preset_config  # noqa: E402
from nnviz.gui.app import configure_interpreter  # noqa: E402
from nnviz.gui.main_window import MainWindow, curve_key  # noqa: E402

TIMER_MS = 10


def wait(app: QApplication, seconds: float) -> None:
    """Run the real event loop for that long (as the app does; processEvents() would starve timers)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of training measured (default 5)")
    parser.add_argument("--engine", choices=("compiled", "numpy"), default="compiled")
    parser.add_argument("--redraws", type=int, default=50, help="decision-map redraws timed (default 50)")
    parser.add_argument("--notebook", action="store_true", help="the four notebook runs side by side")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_interpreter()  # as the app does
    if args.engine == "compiled":
        kernels.warm_up()
    scratch = tempfile.TemporaryDirectory()
    settings = QSettings(f"{scratch.name}/bench.ini", QSettings.Format.IniFormat)
    config = preset_config("sgd", epochs=10_000_000, engine=args.engine)
    window = MainWindow(config, settings=settings, restore_parameters=False)
    window.set_save_settings(False)
    window.resize(1480, 900)
    window.show()
    if args.notebook:
        runs = tuple(spec.replace(epochs=10_000_000) for spec in notebook_runs())
        window.apply_session(Session(preset_shared().replace(engine=args.engine), runs))
    deadline = time.perf_counter() + 30
    while window._last is None and time.perf_counter() < deadline:
        wait(app, 0.01)
    wait(app, 0.3)

    # ---- one decision-map redraw, outside training
    trainer = Trainer(preset_config("sgd", engine=args.engine))
    thetas = [record.params for record, _ in zip(trainer, range(args.redraws + 1), strict=False)]
    view = window.boundary
    layout, activation = trainer.layout, trainer.config.activation
    model_ms, painted_ms = [], []
    for theta in thetas:
        start = time.perf_counter()
        view.set_model(theta, layout, activation)
        model_ms.append(1000 * (time.perf_counter() - start))
        app.processEvents()  # the scene's queued update, then the window's repaint of the map
        painted_ms.append(1000 * (time.perf_counter() - start))

    # ---- training as fast as possible, with a 10 ms timer measuring its own lateness
    frames = []
    window.frame_drawn.connect(lambda: frames.append(time.perf_counter()))
    lags = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setInterval(TIMER_MS)
    last = [0]

    def tick():
        now = clock.nsecsElapsed()
        if last[0]:
            lags.append(max((now - last[0]) / 1e6 - TIMER_MS, 0.0))
        last[0] = now

    timer.timeout.connect(tick)
    window.reset()
    wait(app, 0.2)
    window.start()
    wait(app, 0.3)  # ramp-up
    frames.clear()
    window.frame_costs.clear()
    epoch_start = window.epoch
    clock.start()
    timer.start()
    start = time.perf_counter()
    wait(app, args.seconds)
    elapsed = time.perf_counter() - start
    timer.stop()
    epochs = window.epoch - epoch_start
    costs = [1000 * c for c in window.frame_costs]
    window.pause()
    wait(app, 0.1)
    held = len(window.curves.data(curve_key(window.selected_run_id))["epoch"])
    window.close()

    platform = app.platformName()
    what = "the 4 notebook runs side by side" if args.notebook else "sgd preset (1000 samples, per-sample SGD)"
    print(f"bench_gui: {what}, {args.engine} engine, "
          f"window 1480x900, Qt platform {platform}, {args.seconds:g} s of training")
    print(f"frames drawn         {len(frames) / elapsed:8.1f} /s   (target >= 30)")
    print(f"GUI busy per frame   median {percentile(costs, 50):6.2f} ms   p90 {percentile(costs, 90):6.2f} ms   "
          f"(frame handled and painted; frames are spaced by >= 1.5 x this)")
    per = " of each run" if args.notebook else ""
    print(f"epochs trained       {epochs / elapsed:8.0f} /s{per}   ({held:,} epochs held in the curves)")
    print(f"event-loop lag       median {percentile(lags, 50):6.2f} ms   p99 {percentile(lags, 99):6.2f} ms   "
          f"max {max(lags, default=float('nan')):6.2f} ms   ({len(lags)} ticks of a {TIMER_MS} ms timer; "
          f"target p99 <= 50 ms)")
    print(f"decision-map redraw  median {statistics.median(model_ms):6.2f} ms   "
          f"p90 {percentile(model_ms, 90):6.2f} ms   (grid {view.resolution}x{view.resolution} + image + contour; "
          "target <= 10 ms median)")
    print(f"  ... and on screen  median {statistics.median(painted_ms):6.2f} ms   "
          f"p90 {percentile(painted_ms, 90):6.2f} ms")
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
