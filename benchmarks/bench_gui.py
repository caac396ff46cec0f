"""The live window under load: trains the sgd preset as fast as possible and prints numbers.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui.py [--seconds S] [--engine E] \\
        [--notebook | --runs N | --typing | --long] [--view maps|both|network] [--profile]

Default: frames drawn per second, epochs trained per second, the event-loop lag (how late a 10 ms
QTimer fires: median, p99, max) and the time of one decision-map redraw (grid + image + contour,
then with the widget painted). Targets (issue 4): >= 30 frames/s, p99 lag <= 50 ms, redraw <= 10 ms median.
--notebook trains the four notebook runs side by side (small maps, four curves) instead of one.
--runs N (issue 13) trains N runs side by side: the notebook's four, then variants of them (the same settings,
    data and weights under other names and colours); --runs 4 is --notebook, --runs 1 the default.
    Targets: 4 runs >= 55 frames/s with p99 lag <= 20 ms, 8 runs >= 30 frames/s with p99 lag <= 30 ms, with the
    curves, the small maps and the network view shown (--view both).
    The core compiles kernels specialised for the network in a background thread once the runs have trained a
    while (nnviz/core/specialised.py), which can fall inside the measured seconds and take the interpreter from
    the window; NNVIZ_SPECIALISE=0 measures without it.
--profile (issue 13) also prints where the GUI thread's time goes per frame, by item: the handling of a frame
    (update: curves, maps, network view, status, ...) and the painting of each view (paint: ...), each exclusive
    of what is nested in it (benchmarks/gui_profile.py; every event goes through Python then, so the figures
    without --profile are the ones to quote).
--view both|network (issue 9) shows the selected run's network view beside (or in place of) the maps, and
    --shape 2,8,8,1 trains another network than the notebook's 2-3-4-1. Target: >= 30 frames/s with the view
    open on 2-3-4-1 and on 2-8-8-1.
--typing (issue 8, item 11): types 1000000 into the samples field key by key (80 ms apart, as a user
    would), waits until the points are built and shown, then switches the data set at 1,000,000 points;
    prints the event-loop lag during each edit and its wall time. Target: p99 lag <= 50 ms.
--long (issue 8, memory and lag): the four notebook runs on 8 points (2-2-1) trained as fast as possible
    to 10^6 epochs each (really trained, not filled in); at 10^5 and 10^6 epochs a run it prints the
    process RSS, then the frame cost and the event-loop lag over --seconds of training. Target: p99 lag
    <= 50 ms at 10^6 epochs a run. Then, paused, the frame cost of --steps single epochs (Step): the GUI's
    own cost without a worker training beside it (the GIL and the cores are shared while training).
Runs offscreen unless QT_QPA_PLATFORM is set or a display is available.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from nnviz.core import kernels  # noqa: E402
from nnviz.core.comparison import PALETTE, notebook_runs, preset_shared  # noqa: E402
from nnviz.core.session import Session  # noqa: E402
from nnviz.core.training import Trainer, preset_config  # noqa: E402
from nnviz.gui.app import configure_interpreter  # noqa: E402
from nnviz.gui.main_window import MainWindow  # noqa: E402

try:
    from nnviz.gui import curve_items  # noqa: E402  (the curves' own items, issue 13)
except ImportError:
    curve_items = None
sys.path.insert(0, str(ROOT / "benchmarks"))
from gui_profile import ProfiledApplication  # noqa: E402

TIMER_MS = 10  # the lag timer's interval
KEY_MS = 80  # between two typed keys
TYPED = "1000000"
BIG = 1_000_000
LONG_CHECKPOINTS = (100_000, 1_000_000)  # epochs a run at which --long measures


# ---- measuring ------------------------------------------------------------------------------------

def wait(app: QApplication, seconds: float) -> None:
    """Run the real event loop for that long (as the app does; processEvents() would starve timers)."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_until(predicate, timeout: float) -> float | None:
    """Run the event loop until ``predicate()`` holds (checked every 5 ms); the perf_counter time it did, or None."""
    if predicate():
        return time.perf_counter()
    loop = QEventLoop()
    found = [None]

    def check():
        if predicate():
            found[0] = time.perf_counter()
            loop.quit()

    poll, deadline = QTimer(), QTimer()
    poll.setInterval(5)
    poll.timeout.connect(check)
    deadline.setSingleShot(True)
    deadline.setInterval(int(timeout * 1000))
    deadline.timeout.connect(loop.quit)
    poll.start()
    deadline.start()
    loop.exec()
    poll.stop()
    deadline.stop()
    return found[0]


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


class LagMeter:
    """A QTimer at a fixed interval measuring its own lateness: lag = how late each tick fires."""

    def __init__(self, interval_ms: int = TIMER_MS):
        self.interval_ms = interval_ms
        self.lags: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        if self._last:
            self.lags.append(max((now - self._last) / 1e6 - self.interval_ms, 0.0))
        self._last = now

    def start(self) -> None:
        self.lags, self._last = [], 0
        self._clock.start()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return self.lags

    def summary(self) -> str:
        lags = self.lags
        return (f"median {percentile(lags, 50):6.2f} ms   p99 {percentile(lags, 99):6.2f} ms   "
                f"max {max(lags, default=float('nan')):7.2f} ms   ({len(lags)} ticks of a {self.interval_ms} ms timer)")


def rss_mb() -> float:
    """The process's resident memory now (not its peak), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def commit_measured() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cd", "--date=short"],
                              capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# ---- the window ------------------------------------------------------------------------------------

def ready(window: MainWindow) -> bool:
    """The comparison is prepared (nothing in the worker) and shown."""
    if not hasattr(window, "controller"):  # the window before issue 8 (--typing only): its first frame is shown
        return window._last is not None
    return not window.controller.busy


def shows(window: MainWindow, n_samples: int, dataset: str | None = None) -> bool:
    """The window shows ``n_samples`` points (of ``dataset``), prepared and drawn."""
    if not hasattr(window, "controller"):
        # The window before issue 8 (commit 4a8a9fa, for "before" figures): no model; the data set is built by a
        # new worker, whose first frame shows it.
        shared = window._shared
        return shared is not None and shared.n_samples == n_samples and window._last is not None and \
            (dataset is None or shared.dataset == dataset)
    model = window.model
    return ready(window) and len(model.data) == n_samples and (dataset is None or model.shared.dataset == dataset)


def make_window(app: QApplication, config, settings: QSettings) -> MainWindow:
    old = "confirm" not in inspect.signature(MainWindow).parameters  # before issue 8 (--typing only)
    window = MainWindow(config, settings=settings, restore_parameters=False, **({} if old else {"confirm": False}))
    window.set_save_settings(False)
    window.resize(1480, 900)
    window.show()
    window.activateWindow()
    if wait_until(lambda: ready(window), 60) is None:
        raise SystemExit("bench_gui: the window did not get ready within 60 s")
    wait(app, 0.3)
    return window


def set_speed(window: MainWindow, epochs_per_second) -> None:
    index = window.speed.findData(epochs_per_second)
    window.speed.setCurrentIndex(index)


def header(app: QApplication, what: str) -> str:
    return (f"bench_gui: {what}; window 1480x900, Qt platform {app.platformName()}, commit {commit_measured()}, "
            f"{os.cpu_count()} cores (load {os.getloadavg()[0]:.1f})")


def run_specs(n: int) -> tuple:
    """``n`` runs: the notebook's four, then variants of them (same settings, other names and colours)."""
    base = notebook_runs()
    runs = []
    for i in range(n):
        spec = base[i % len(base)]
        if i >= len(base):
            spec = spec.replace(name=f"{spec.name} ({i // len(base) + 1})", colour=PALETTE[i % len(PALETTE)])
        runs.append(spec.replace(epochs=10_000_000))
    return tuple(runs)


def profile_items(app: ProfiledApplication, window: MainWindow) -> None:
    """Name the views whose paints are timed, and time the handlers of a frame (see gui_profile.py)."""
    for widget, name in ((window, "window (other)"), (window.curves, "curves"), (window.maps, "maps"),
                         (window.network, "network view"), (window.timeline, "timeline"),
                         (window.statusBar(), "status bar"), (window.runs, "run list"), (window.panel, "panel")):
        app.name_widget(widget, name)
    for owner, method, item in ((window.curves, "refresh", "update: curves"),
                                (window.views, "draw_maps", "update: maps"),
                                (window.inside, "draw", "update: network view"),
                                (window.timeline, "set_max_epoch", "update: timeline"),
                                (window.timeline, "set_note", "update: timeline"),
                                (window.statusline, "show_run", "update: status"),
                                (window.actions, "set_state", "update: actions")):
        app.wrap(owner, method, item)


def profile_item_classes(app: ProfiledApplication) -> None:
    """Time the paint of pyqtgraph's items by class: before any is made (PySide looks overrides up once)."""
    for cls in (pg.PlotCurveItem, pg.AxisItem, pg.ImageItem, pg.ScatterPlotItem, pg.LabelItem, pg.LegendItem,
                pg.TextItem, pg.InfiniteLine, pg.ViewBox, pg.PlotItem, pg.GraphicsLayout,
                *(getattr(curve_items, name) for name in ("_SplitCurve", "_Tail", "_Piece") if curve_items
                  and hasattr(curve_items, name))):
        app.wrap_paint(cls)


# ---- the cases ------------------------------------------------------------------------------------

def bench_training(app: QApplication, args, settings: QSettings) -> None:
    """Default and --notebook: frames/s, lag and map redraws while training as fast as possible."""
    config = preset_config("sgd", epochs=10_000_000, engine=args.engine, shape=args.shape)
    window = make_window(app, config, settings)
    set_speed(window, None)
    if args.view != "maps":
        window.set_view_mode(args.view)
    n_runs = 4 if args.notebook else args.runs
    if n_runs > 1:
        runs = run_specs(n_runs)
        window.apply_session(Session(preset_shared().replace(engine=args.engine, shape=args.shape), runs))
        wait_until(lambda: ready(window) and len(window.model) == len(runs), 60)
        wait(app, 0.3)

    # ---- one decision-map redraw, outside training
    trainer = Trainer(preset_config("sgd", engine=args.engine, shape=args.shape))
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
    network_draws = []
    show_network = window.network.show_network

    def counted(*args, **kwargs):
        network_draws.append(time.perf_counter())
        show_network(*args, **kwargs)

    window.network.show_network = counted
    profiling = args.profile and isinstance(app, ProfiledApplication)
    if profiling:
        profile_items(app, window)
        from nnviz.gui import worker

        app.frame_event = getattr(worker, "FRAME_PAINTED", None)
    frames = []
    window.frame_drawn.connect(lambda: frames.append(time.perf_counter()))
    meter = LagMeter()
    window.reset()
    wait(app, 0.2)
    window.start()
    wait(app, 0.3)  # ramp-up
    frames.clear()
    network_draws.clear()
    window.controller.clock.frame_costs.clear()
    epoch_start = window.epoch
    meter.start()
    if profiling:
        app.start()
    python_profile = cProfile.Profile() if args.cprofile else None
    if python_profile is not None:
        python_profile.enable()  # the GUI thread only
    start = time.perf_counter()
    wait(app, args.seconds)
    elapsed = time.perf_counter() - start
    if profiling:
        app.stop()
    if python_profile is not None:
        python_profile.disable()
    meter.stop()
    epochs = window.epoch - epoch_start
    costs = [1000 * c for c in window.controller.clock.frame_costs]
    window.pause()
    wait(app, 0.1)
    held = len(window.model[window.selected_run_id].history)
    window.close()

    what = f"{n_runs} runs side by side" if n_runs > 1 else "sgd preset (1000 samples, per-sample SGD)"
    what += f", network {'-'.join(map(str, args.shape))}, view {args.view!r}"
    print(header(app, f"{what}, {args.engine} engine, {args.seconds:g} s of training"))
    print(f"frames drawn         {len(frames) / elapsed:8.1f} /s   (target >= 30)")
    if args.view != "maps":
        print(f"network view drawn   {len(network_draws) / elapsed:8.1f} /s   (at most 12 /s while training)")
    print(f"GUI busy per frame   median {percentile(costs, 50):6.2f} ms   p90 {percentile(costs, 90):6.2f} ms   "
          f"(frame handled and painted; frames are spaced by >= 1.5 x this)")
    per = " of each run" if n_runs > 1 else ""
    print(f"epochs trained       {epochs / elapsed:8.0f} /s{per}   ({held:,} epochs held in the history)")
    print(f"event-loop lag       {meter.summary()}; target p99 <= 50 ms")
    print(f"decision-map redraw  median {statistics.median(model_ms):6.2f} ms   "
          f"p90 {percentile(model_ms, 90):6.2f} ms   (grid {view.resolution}x{view.resolution} + image + contour; "
          "target <= 10 ms median)")
    print(f"  ... and on screen  median {statistics.median(painted_ms):6.2f} ms   "
          f"p90 {percentile(painted_ms, 90):6.2f} ms")
    if profiling:
        print("\n".join(app.report(len(frames), elapsed)))
    if python_profile is not None:
        print(f"GUI thread's Python functions over {len(frames)} frames (cProfile, slows what it measures):")
        for order in ("tottime", "cumulative"):
            pstats.Stats(python_profile).sort_stats(order).print_stats(args.cprofile)


def bench_typing(app: QApplication, args, settings: QSettings) -> int:
    """--typing: 1000000 typed into samples key by key, then another data set at 1,000,000 points."""
    window = make_window(app, preset_config("sgd", engine=args.engine), settings)
    panel = window.panel
    edit = panel.fields["n_samples"].edit
    meter = LagMeter()
    print(header(app, f"typing {TYPED} into samples ({KEY_MS} ms between keys), then switching the data set, "
                      f"{args.engine} engine"))

    # ---- typing, as a user: click into the field, select its text, type the digits
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    QTest.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    wait(app, 0.2)
    meter.start()
    first_key = time.perf_counter()
    for i, char in enumerate(TYPED):
        QTest.keyClick(edit, char)
        if i < len(TYPED) - 1:
            wait(app, KEY_MS / 1000)
    last_key = time.perf_counter()
    shown = wait_until(lambda: shows(window, BIG), args.timeout)
    wait(app, args.tail)  # the repaints that follow
    meter.stop()
    typing_lags = list(meter.lags)
    if shown is None:
        print(f"typing: the points were not shown within {args.timeout:g} s (field {edit.text()!r})")
        return 1
    print(f"typing -> shown      {shown - first_key:6.2f} s from the first key, {shown - last_key:6.2f} s from the "
          f"last ({typing_delay()})")
    print(f"  event-loop lag     {meter.summary()}; target p99 <= 50 ms")

    # ---- switching the data set: the combo box, one item down (or up from the last item)
    combo = panel.dataset
    before = combo.currentText()
    down = combo.currentIndex() < combo.count() - 1
    target = combo.itemText(combo.currentIndex() + (1 if down else -1))
    combo.setFocus()
    wait(app, 0.2)
    meter.start()
    key = time.perf_counter()
    QTest.keyClick(combo, Qt.Key.Key_Down if down else Qt.Key.Key_Up)
    shown = wait_until(lambda: shows(window, BIG, target), args.timeout)
    wait(app, args.tail)
    meter.stop()
    if shown is None:
        print(f"switch: {target!r} was not shown within {args.timeout:g} s (combo {combo.currentText()!r})")
        return 1
    print(f"switch -> shown      {shown - key:6.2f} s   ({before} -> {target} at {BIG:,} points)")
    print(f"  event-loop lag     {meter.summary()}; target p99 <= 50 ms")
    both = typing_lags + meter.lags
    print(f"both edits           p99 lag {percentile(both, 99):6.2f} ms   max {max(both):7.2f} ms   "
          f"(lag measured from the first key to {args.tail:g} s after each edit was shown)")
    window.close()
    return 0


def typing_delay() -> str:
    from nnviz.gui import controls

    delay = getattr(controls, "COMMIT_DELAY_MS", None)
    return "no debounce" if delay is None else f"its {delay} ms debounce included"


def bench_long(app: QApplication, args, settings: QSettings) -> int:
    """--long: 4 runs trained to 10^6 epochs each; RSS, frame cost and lag at 10^5 and 10^6 epochs a run."""
    shared = preset_shared().replace(n_samples=8, shape=(2, 2, 1), test_fraction=0.0, engine=args.engine)
    runs = tuple(spec.replace(epochs=10_000_000) for spec in notebook_runs())
    window = make_window(app, preset_config("sgd", engine=args.engine), settings)
    window.apply_session(Session(shared, runs))
    wait_until(lambda: ready(window) and len(window.model) == len(runs) and len(window.model.data) == 8, 60)
    set_speed(window, None)
    wait(app, 0.3)
    print(header(app, f"{len(runs)} notebook runs on 8 points (2-2-1), {args.engine} engine, trained as fast as "
                      f"possible; measured over {args.seconds:g} s at each checkpoint"))
    print(f"RSS before training  {rss_mb():8.1f} MB")
    model = window.model
    frames = []
    window.frame_drawn.connect(lambda: frames.append(time.perf_counter()))
    meter = LagMeter()
    started = time.perf_counter()
    window.start()
    for checkpoint in args.checkpoints:
        reached = wait_until(lambda c=checkpoint: min(run.epoch for run in model) >= c, args.timeout)
        if reached is None:
            print(f"{checkpoint:>9,} epochs a run: not reached within {args.timeout:g} s "
                  f"({min(run.epoch for run in model):,} epochs)")
            return 1
        rss = rss_mb()
        epoch_start = min(run.epoch for run in model)
        frames.clear()
        window.controller.clock.frame_costs.clear()
        meter.start()
        begin = time.perf_counter()
        wait(app, args.seconds)
        elapsed = time.perf_counter() - begin
        meter.stop()
        costs = [1000 * c for c in window.controller.clock.frame_costs]
        epochs = min(run.epoch for run in model) - epoch_start
        history_mb = sum(run.history.nbytes for run in model) / 2**20
        print(f"{checkpoint:>9,} epochs a run (after {reached - started:5.0f} s): RSS {rss:7.1f} MB   "
              f"(histories {history_mb:.1f} MB in RAM, snapshots {model.snapshot_nbytes / 2**20:.1f} MB)")
        print(f"  frames drawn       {len(frames) / elapsed:8.1f} /s   epochs trained {epochs / elapsed:8.0f} /s a run")
        print(f"  frame cost         median {percentile(costs, 50):6.2f} ms   p99 {percentile(costs, 99):6.2f} ms   "
              f"(frame handled and painted)")
        print(f"  event-loop lag     {meter.summary()}; target p99 <= 50 ms")
        costs = step_frame_costs(app, window, args.steps)
        print(f"  frame cost, Step   median {percentile(costs, 50):6.2f} ms   p99 {percentile(costs, 99):6.2f} ms   "
              f"({len(costs)} single epochs stepped while paused: the GUI's own cost, no training beside it)")
        window.start()
    window.pause()
    wait(app, 0.1)
    window.close()
    return 0


def step_frame_costs(app: QApplication, window: MainWindow, steps: int) -> list[float]:
    """Pause, then Step ``steps`` times: the cost in ms of each step's first frame (handled and painted)."""
    controller = window.controller
    window.pause()
    wait_until(lambda: not controller.worker.active, 10)
    wait(app, 0.3)
    costs = []
    for _ in range(steps):
        controller.clock.frame_costs.clear()
        window.step()
        if wait_until(lambda: len(controller.clock.frame_costs) > 0 and not controller.worker.active, 10) is None:
            break
        costs.append(1000 * controller.clock.frame_costs[0])
        wait(app, 0.05)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="seconds of training measured (default 5; --long: at each checkpoint)")
    parser.add_argument("--engine", choices=("compiled", "numpy"), default="compiled")
    parser.add_argument("--redraws", type=int, default=50, help="decision-map redraws timed (default 50)")
    parser.add_argument("--view", choices=("maps", "both", "network"), default="maps",
                        help="where the network view goes (default maps: not shown)")
    parser.add_argument("--shape", type=lambda s: tuple(int(v) for v in s.split(",")), default=(2, 3, 4, 1),
                        help="the network, e.g. 2,8,8,1 (default the notebook's 2,3,4,1)")
    case = parser.add_mutually_exclusive_group()
    case.add_argument("--notebook", action="store_true", help="the four notebook runs side by side")
    case.add_argument("--runs", type=int, default=1,
                      help="that many runs side by side: the notebook's four, then variants (default 1)")
    case.add_argument("--typing", action="store_true", help="type 1000000 samples, then switch the data set")
    case.add_argument("--long", action="store_true", help="4 runs trained to 10^6 epochs each")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="--typing, --long: seconds to wait for an edit or a checkpoint (default 600)")
    parser.add_argument("--tail", type=float, default=0.5,
                        help="--typing: seconds of lag still measured after an edit is shown (default 0.5)")
    parser.add_argument("--steps", type=int, default=20,
                        help="--long: single epochs stepped while paused at each checkpoint (default 20)")
    parser.add_argument("--checkpoints", type=lambda s: [int(v) for v in s.split(",")],
                        default=list(LONG_CHECKPOINTS), help="--long: epochs a run to measure at (default "
                        + ",".join(map(str, LONG_CHECKPOINTS)) + ")")
    parser.add_argument("--profile", action="store_true",
                        help="also print the GUI thread's time per frame by item (curves, maps, network view, ...)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="also print the GUI thread's N costliest Python functions (cProfile) while training")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs: {args.runs}: must be at least 1")

    app = QApplication.instance() or (ProfiledApplication if args.profile else QApplication)(sys.argv[:1])
    if args.profile and isinstance(app, ProfiledApplication):
        profile_item_classes(app)
    configure_interpreter()  # as the app does
    if args.engine == "compiled":
        kernels.warm_up()
    scratch = tempfile.TemporaryDirectory()
    settings = QSettings(f"{scratch.name}/bench.ini", QSettings.Format.IniFormat)
    try:
        if args.typing:
            return bench_typing(app, args, settings)
        if args.long:
            return bench_long(app, args, settings)
        bench_training(app, args, settings)
        return 0
    finally:
        scratch.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
