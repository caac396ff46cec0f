"""`python main.py [--preset NAME] [training options] [--session FILE] [--view maps|both|network]
[--update-sizes] [--run] [--screenshot PATH] [--export-csv PATH] [--animation OUT.gif|.mp4|.webm
[--animation-seconds S]]`: the window.

`--session F --run --animation OUT.gif` trains the runs to their epochs, renders the training as an animation
(800 px wide, 20 frames per second, S seconds, default 10: File ▸ Export ▸ The training as an animation… with its
defaults) in a thread, and exits 0; Ctrl-C stops it with nothing written.

Ctrl-C in the terminal closes the window from its event loop (its workers stopped) and exits
with status 130: the signal handler only sets a flag that a timer reads, so no KeyboardInterrupt
is ever raised inside Qt's code (a paint event, a slot).
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import threading
from argparse import Namespace

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from nnviz import version
from nnviz.core.animation import DEFAULTS as ANIMATION_DEFAULTS
from nnviz.core.animation import SECONDS_RANGE, AnimationOptions, MissingLibrary, require
from nnviz.core.seeds import SeedSettings
from nnviz.core.session import SessionError, load_session
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS
from nnviz.core.text import shorten
from nnviz.gui.curves import X_AXES
from nnviz.gui.export import ExportError, save_widget_png
from nnviz.gui.inside_views import VIEW_MODES
from nnviz.gui.main_window import APPLICATION, ORGANIZATION, MainWindow, app_icon
from nnviz.interrupts import MESSAGE, InterruptFlag
from nnviz.options import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Parser,
    UsageError,
    add_data_options,
    add_training_options,
    check_output_path,
    config_from_args,
    data_overrides,
    explicit_options,
    integer_in,
    load_data,
    with_options,
)

SCREENSHOT_DELAY_MS = 300  # lets the last frame paint before the window is grabbed
EXIT_WAIT_S = 10.0  # at most this long for background threads at exit, once the window has closed
INTERRUPT_POLL_MS = 100  # how often the event loop looks whether Ctrl-C was pressed
# The numpy engine trains in Python and holds the GIL; the GUI thread then waits up to one switch interval
# (5 ms by default) for every Python call of a repaint. 0.2 ms keeps the window fluid (bench_gui.py --engine
# numpy: p99 lag 330 -> 45 ms) and costs the compiled engine, which releases the GIL, nothing measurable.
GIL_SWITCH_INTERVAL_S = 0.0002


def build_parser() -> Parser:
    parser = Parser(prog="nnviz", description="Open the window: train live and watch the decision boundary. "
                     "`nnviz train --help` trains headless.")
    add_training_options(parser)
    add_data_options(parser, " (with --session: instead of its own)")
    parser.add_argument("--session", metavar="FILE.nnviz.json",
                        help="open a saved comparison (its shared settings, runs and any histories); of the "
                             "options above only --data-csv, --keep-order, --rescale and --features go with it")
    parser.add_argument("--x-axis", choices=list(X_AXES), help="what the curves' x axis counts (default: as last used)")
    parser.add_argument("--log-cost", action="store_true", help="logarithmic cost axis")
    parser.add_argument("--view", choices=list(VIEW_MODES),
                        help="maps: the decision maps; both: the selected run's network beside them; network: the "
                             "network in their place (default: as last used)")
    parser.add_argument("--update-sizes", action="store_true",
                        help="show each layer's update size ‖ΔW‖/‖W‖ per epoch beside the curves")
    parser.add_argument("--seeds", type=integer_in(1, MAX_SEEDS), metavar="K",
                        help=f"repeat every run over K seeds, 1 to {MAX_SEEDS} (median and 10–90 %% band on the "
                             "curves, the seeds summary shown); a scripted screenshot waits for them")
    parser.add_argument("--seed-kind", choices=SEED_KINDS,
                        help="with --seeds: which seeds vary, init (initial weights, default), data or both")
    parser.add_argument("--run", action="store_true", help="start training at once")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="save a PNG of the window when the run ends (without --run: once drawn), then exit")
    parser.add_argument("--export-csv", metavar="PATH",
                        help="write the long-form CSV of all runs when the run ends (without --run: once drawn), "
                             "then exit; the rows `nnviz compare --csv` writes for the same session")
    parser.add_argument("--animation", metavar="OUT",
                        help="write the training as an animation when the run ends (without --run: of what is "
                             "trained), then exit: OUT ends in .gif, .mp4 or .webm (the format); every shown run's "
                             "map and the cost curves, 800 px wide, 20 frames per second, epochs spaced in log(1 + "
                             "epoch); needs pip install 'nnviz[animation]'")
    parser.add_argument("--animation-seconds", type=integer_in(*SECONDS_RANGE), metavar="S",
                        help=f"with --animation: its length in seconds, {SECONDS_RANGE[0]} to {SECONDS_RANGE[1]} "
                             f"(default {ANIMATION_DEFAULTS['seconds']:g})")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    return parser


def seeds_from_args(args, session=None) -> SeedSettings | None:
    """The seed settings --seeds and --seed-kind ask for (None: none asked); with a session, its target and the
    seed its maps show stay (the shown seed within the new count). UsageError for --seed-kind alone."""
    if args.seeds is None:
        if args.seed_kind is not None:
            raise UsageError("--seed-kind: give --seeds K too (the seeds it varies)")
        return None
    kind = args.seed_kind or "init"
    if session is None:
        return SeedSettings(args.seeds, kind)
    return session.seeds.replace(count=args.seeds, kind=kind, shown=min(session.seeds.shown, args.seeds))


def animation_from_args(args) -> AnimationOptions | None:
    """The animation --animation and --animation-seconds ask for (None: none); UsageError naming the option."""
    if args.animation is None:
        if args.animation_seconds is not None:
            raise UsageError("--animation-seconds: give --animation OUT too (the animation it is the length of)")
        return None
    check_output_path("--animation", args.animation)
    seconds = ANIMATION_DEFAULTS["seconds"] if args.animation_seconds is None else args.animation_seconds
    try:
        options = AnimationOptions(args.animation, seconds=seconds)
        require(options.format)
    except (ValueError, MissingLibrary) as exc:
        raise UsageError(f"--animation: {exc}") from None
    return options


def configure_interpreter() -> None:
    """Let the GUI thread take the GIL back quickly from a worker training in Python."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def warm_up_kernel() -> threading.Thread:
    """Compile (or load from numba's cache) the training kernel in the background; the window appears at once."""

    def warm():
        try:
            from nnviz.core import kernels

            kernels.warm_up()
        except Exception:  # no numba: training.get_engine falls back to numpy and says so
            pass

    thread = threading.Thread(target=warm, name="nnviz-kernel-warm-up", daemon=True)
    thread.start()
    return thread


def run_gui(argv: list[str], interrupted: InterruptFlag | None = None) -> int:
    """Open the window; returns the exit status. Raises options.UsageError on bad options (exit 2).

    ``interrupted`` is the flag Ctrl-C raises (default: one installed here); KeyboardInterrupt is
    raised only before the window exists; afterwards Ctrl-C closes it and the status is 130.
    """
    if interrupted is None:
        interrupted = InterruptFlag().install()
        try:
            return run_gui(argv, interrupted)
        finally:
            interrupted.restore()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"nnviz {version()}")
        return 0
    scripted = bool(args.screenshot or args.export_csv or args.animation)  # runs once and exits
    check_output_path("--screenshot", args.screenshot)
    check_output_path("--export-csv", args.export_csv)
    animation = animation_from_args(args)
    load_data(args)  # the points of --data-csv: a bar on a terminal, Ctrl-C stops
    overrides = data_overrides(args) if args.session is not None else {}  # replace the session's own
    explicit = args.preset is not None or any(field not in overrides for field in explicit_options(args))
    if args.session is not None and explicit:
        raise UsageError("give either --session or training options, not both (with a session: only --data-csv, "
                         "--keep-order, --rescale and --features)")
    config = config_from_args(args if args.session is None else Namespace(preset=None)) if explicit or scripted \
        else None
    session = None
    if args.session is not None:
        try:
            session = load_session(args.session)
        except SessionError as exc:
            raise UsageError(str(exc)) from None  # the message the Open dialog shows
        if not session.runs:
            raise UsageError(f"{shorten(args.session, 160)}: the session has no runs")
        for warning in session.warnings:
            print(f"nnviz: warning: {warning}", file=sys.stderr)
        if overrides:  # its histories were trained on the data the options replace
            shared = with_options(session.shared, overrides)
            if shared != session.shared:
                session = dataclasses.replace(session, shared=shared, histories={})
    seeds = seeds_from_args(args, session)
    if session is not None and seeds is not None:
        session = dataclasses.replace(session, seeds=seeds)

    if interrupted:
        raise KeyboardInterrupt
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(app_icon())
    configure_interpreter()
    warming = warm_up_kernel()

    scratch = None
    if scripted:
        # A scripted screenshot is reproducible: default geometry, and the user's settings stay untouched.
        scratch = tempfile.TemporaryDirectory(prefix="nnviz-settings-")
        settings = QSettings(f"{scratch.name}/nnviz.ini", QSettings.Format.IniFormat)
    else:
        settings = QSettings(ORGANIZATION, APPLICATION)
    window = MainWindow(config, settings=settings, restore_parameters=config is None, seeds=seeds)
    window.set_save_settings(not scripted)
    if scripted:  # a scripted run trains as fast as possible: its figures, not its animation, are wanted
        window.speed.setCurrentIndex(window.speed.findText("as fast as possible"))
    if session is not None:
        window.apply_session(session)
    if args.x_axis is not None:
        window.curves.set_x_axis(args.x_axis)
    if args.log_cost:
        window.curves.set_log_cost(True)
    if args.view is not None:
        window.set_view_mode(args.view)
    if args.update_sizes:
        window.show_update_sizes(True)
    if seeds is not None and seeds.count > 1:
        window.seed_views.show_summary()
    outcome = {"code": 0}

    def end(code: int) -> None:
        outcome["code"], outcome["ended"] = code, True  # app.exit does nothing before app.exec runs
        window.force_close()  # stops the workers; never asks (scripted, or Ctrl-C)
        app.exit(code)

    def fail(message: str, code: int = EXIT_FAILED) -> None:
        print(f"nnviz: error: {message}", file=sys.stderr)
        end(code)

    def shoot() -> None:
        try:
            save_widget_png(window, args.screenshot)  # the package's one PNG exporter: atomic
        except ExportError as exc:
            fail(f"--screenshot {exc}")
            return
        print(f"saved {shorten(args.screenshot, 160)}", file=sys.stderr)
        finish()

    def export_csv() -> bool:
        if window.export_csv_to(args.export_csv):
            print(f"saved {shorten(args.export_csv, 160)}", file=sys.stderr)
            return True
        fail(f"--export-csv {shorten(args.export_csv, 160)}: cannot write the CSV")
        return False

    def finish() -> None:
        end(outcome["code"])

    def when_done() -> None:
        # The CSV first (the histories are complete now), then the animation, then the screenshot once the last
        # frame is painted.
        if args.export_csv and not export_csv():
            return
        if animation is not None:
            animate()
        else:
            after_animation()

    def animate() -> None:
        runner = window.animation  # its thread; closing the window (Ctrl-C) stops it, nothing written
        runner.saved.connect(lambda path: (print(f"saved {shorten(path, 160)}", file=sys.stderr), after_animation()))
        runner.failed.connect(lambda message: fail(f"--animation {message}"))
        runner.start(animation)

    def after_animation() -> None:
        if args.screenshot:
            shoot_when_drawn()
        else:
            finish()

    def shoot_when_drawn() -> None:
        # A landscape still being computed (its grid extended over the finished paths) is waited for, and so are
        # the seeds under training.
        if window.inside.landscape.computing or window.controller.seeds.busy:
            QTimer.singleShot(100, shoot_when_drawn)
        else:
            QTimer.singleShot(SCREENSHOT_DELAY_MS, shoot)

    def on_end(status: str) -> None:
        if status == "diverged":
            print(f"nnviz: {window.message.text()}", file=sys.stderr)
            outcome["code"] = EXIT_DIVERGED
        when_done()

    def poll_interrupt() -> None:
        if interrupted and not outcome.get("ended"):
            print(MESSAGE, file=sys.stderr)
            end(EXIT_INTERRUPTED)

    if scripted or args.run:
        window.errored.connect(lambda message: fail(message))
    if scripted:
        if args.run:
            window.run_ended.connect(on_end)
        else:
            drawn = []

            def once_drawn():
                if not drawn:
                    drawn.append(True)
                    when_done()

            window.frame_drawn.connect(once_drawn)
    poll = QTimer()  # the Python signal handler runs only when the GUI thread runs Python: this makes it run
    poll.timeout.connect(poll_interrupt)
    poll.start(INTERRUPT_POLL_MS)
    try:
        poll_interrupt()
        if not outcome.get("ended"):
            window.show()
            if args.run:
                window.start()
        # show() and start() may process events: the run may have ended (or Ctrl-C closed it) already.
        code = outcome["code"] if outcome.get("ended") else app.exec()
    finally:
        poll.stop()
        if scratch is not None:
            scratch.cleanup()
        # The window is gone: let background threads leave numba and numpy before the interpreter shuts down
        # (one still loading the kernel's cache at exit crashed it). They stop or end within a second or two.
        warming.join(EXIT_WAIT_S)
        window.controller.jobs.wait(EXIT_WAIT_S)
        window.controller.seeds.wait(EXIT_WAIT_S)
    if interrupted and not outcome.get("ended"):  # pressed as the loop ended
        window.force_close()
        print(MESSAGE, file=sys.stderr)
        return EXIT_INTERRUPTED
    return outcome["code"] if outcome["code"] else code
