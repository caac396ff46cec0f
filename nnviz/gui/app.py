"""`python main.py [--preset NAME] [training options] [--session FILE] [--run] [--screenshot PATH]`: the window."""

from __future__ import annotations

import sys
import tempfile
import threading

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from nnviz.cli import (
    TRAINING_OPTIONS,
    Parser,
    UsageError,
    add_training_options,
    check_output_path,
    config_from_args,
)
from nnviz.core.session import SessionError, load_session
from nnviz.gui.curves import X_AXES
from nnviz.gui.main_window import APPLICATION, ORGANIZATION, MainWindow, app_icon

EXIT_FAILED = 1
EXIT_DIVERGED = 3  # as `nnviz train`
SCREENSHOT_DELAY_MS = 300  # lets the last frame paint before the window is grabbed
# The numpy engine trains in Python and holds the GIL; the GUI thread then waits up to one switch interval
# (5 ms by default) for every Python call of a repaint. 0.2 ms keeps the window fluid (bench_gui.py --engine
# numpy: p99 lag 330 -> 45 ms) and costs the compiled engine, which releases the GIL, nothing measurable.
GIL_SWITCH_INTERVAL_S = 0.0002


def build_parser() -> Parser:
    parser = Parser(prog="nnviz", description="Open the window: train live and watch the decision boundary. "
                     "`nnviz train --help` trains headless.")
    add_training_options(parser)
    parser.add_argument("--session", metavar="FILE.nnviz.json",
                        help="open a saved comparison (its shared settings, runs and any histories)")
    parser.add_argument("--x-axis", choices=list(X_AXES), help="what the curves' x axis counts (default: as last used)")
    parser.add_argument("--log-cost", action="store_true", help="logarithmic cost axis")
    parser.add_argument("--run", action="store_true", help="start training at once")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="save a PNG of the window when the run ends (without --run: once drawn), then exit")
    return parser


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


def run_gui(argv: list[str]) -> int:
    """Open the window; returns the exit status. Raises cli.UsageError on bad options (exit 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    explicit = args.preset is not None or any(getattr(args, f) is not None for _, f, _, _ in TRAINING_OPTIONS)
    config = config_from_args(args) if explicit or args.screenshot else None
    check_output_path("--screenshot", args.screenshot)
    session = None
    if args.session is not None:
        if explicit:
            raise UsageError("give either --session or training options, not both")
        try:
            session = load_session(args.session)
        except SessionError as exc:
            raise UsageError(str(exc)) from None  # the message the Open dialog shows
        if not session.runs:
            raise UsageError(f"{args.session}: the session has no runs")
        for warning in session.warnings:
            print(f"nnviz: warning: {warning}", file=sys.stderr)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(app_icon())
    configure_interpreter()
    warm_up_kernel()

    scratch = None
    if args.screenshot:
        # A scripted screenshot is reproducible: default geometry, and the user's settings stay untouched.
        scratch = tempfile.TemporaryDirectory(prefix="nnviz-settings-")
        settings = QSettings(f"{scratch.name}/nnviz.ini", QSettings.Format.IniFormat)
    else:
        settings = QSettings(ORGANIZATION, APPLICATION)
    window = MainWindow(config, settings=settings, restore_parameters=config is None)
    window.set_save_settings(not args.screenshot)
    if session is not None:
        window.apply_session(session)
    if args.x_axis is not None:
        window.curves.set_x_axis(args.x_axis)
    if args.log_cost:
        window.curves.set_log_cost(True)
    outcome = {"code": 0}

    def fail(message: str, code: int = EXIT_FAILED) -> None:
        print(f"nnviz: error: {message}", file=sys.stderr)
        outcome["code"] = code
        window.close()
        app.exit(code)

    def shoot() -> None:
        if not window.grab().save(args.screenshot, "PNG"):
            fail(f"--screenshot {args.screenshot}: could not write the PNG")
            return
        print(f"saved {args.screenshot}", file=sys.stderr)
        window.close()
        app.exit(outcome["code"])

    def on_end(status: str) -> None:
        if status == "diverged":
            print(f"nnviz: {window.message.text()}", file=sys.stderr)
            outcome["code"] = EXIT_DIVERGED
        QTimer.singleShot(SCREENSHOT_DELAY_MS, shoot)

    if args.screenshot or args.run:
        window.errored.connect(lambda message: fail(message))
    if args.screenshot:
        if args.run:
            window.run_ended.connect(on_end)
        else:
            shots = []

            def once_drawn():
                if not shots:
                    shots.append(True)
                    QTimer.singleShot(SCREENSHOT_DELAY_MS, shoot)

            window.frame_drawn.connect(once_drawn)
    window.show()
    if args.run:
        window.start()
    code = app.exec()
    if scratch is not None:
        scratch.cleanup()
    return outcome["code"] if outcome["code"] else code
