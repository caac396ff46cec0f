"""Entry point of `nnviz`, `python -m nnviz` and `python main.py`: dispatches `train`, `compare`, `landscape`,
`lr-find`, `sweep` and the window.

This module imports only the standard library at its top, so that Ctrl-C is handled from the
very start (numpy, numba's cache and Qt load later, inside ``main``): at any moment it ends the
program with exit status 130, the one line "nnviz: interrupted" and no partial file.
"""

from __future__ import annotations

import signal
import sys

from nnviz import version
from nnviz.interrupts import EXIT_INTERRUPTED, MESSAGE, InterruptFlag, activate, check, exit_now

COMMANDS = ("train", "compare", "landscape", "lr-find", "sweep")


def _window(argv: list[str], flag: InterruptFlag) -> int:
    from nnviz.gui.app import run_gui  # Qt is loaded for the window only

    check()
    return run_gui(argv, flag)


def _dispatch(argv: list[str], flag: InterruptFlag) -> int:
    from nnviz.options import EXIT_USAGE, UsageError

    check()
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        if command == "train":
            from nnviz.train_cli import train_command

            check()
            return train_command(argv[1:])
        if command == "compare":
            from nnviz.compare_cli import compare_command

            check()
            return compare_command(argv[1:])
        if command == "landscape":
            from nnviz.landscape_cli import landscape_command

            check()
            return landscape_command(argv[1:])
        if command == "lr-find":
            from nnviz.lr_find_cli import lr_find_command

            check()
            return lr_find_command(argv[1:])
        if command == "sweep":
            from nnviz.sweep_cli import sweep_command

            check()
            return sweep_command(argv[1:])
        return _window(argv, flag)
    except UsageError as exc:
        print(f"nnviz{' ' + command if command else ''}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run nnviz with ``argv`` (default: the process's arguments); returns the exit status.

    Called without ``argv`` (as a program), a Ctrl-C after it returns also ends the process
    with status 130 and no traceback; called with ``argv`` (tests), the previous handler is restored.
    """
    as_program = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv in (["--version"], ["-V"]):
        print(f"nnviz {version()}")
        return 0
    # Ctrl-C raises a flag read at safe points (see nnviz.interrupts); a second one ends the program at once.
    flag = InterruptFlag()
    try:
        flag.install()
        activate(flag)
        return _dispatch(argv, flag)
    except KeyboardInterrupt:
        if flag.previous is not None:
            signal.signal(signal.SIGINT, exit_now)
        try:
            sys.stdout.flush()
            print(MESSAGE, file=sys.stderr)
        except OSError:  # a closed pipe: the status says it all
            pass
        return EXIT_INTERRUPTED
    finally:
        activate(None)
        handled = flag.previous is not None
        flag.restore()
        if handled and as_program:
            signal.signal(signal.SIGINT, exit_now)
