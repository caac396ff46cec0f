"""Entry point of `nnviz`, `python -m nnviz` and `python main.py`: dispatches `train`, `compare` and the window.

This module imports only the standard library at its top, so that Ctrl-C is handled from the
very start (numpy, numba's cache and Qt load later, inside ``main``): at any moment it ends the
program with exit status 130, the one line "nnviz: interrupted" and no partial file.
"""

from __future__ import annotations

import signal
import sys

from nnviz import version
from nnviz.interrupts import EXIT_INTERRUPTED, MESSAGE, InterruptFlag, can_handle, exit_now, raise_interrupt

COMMANDS = ("train", "compare")


def _window(argv: list[str]) -> int:
    # Qt's Python code turns a KeyboardInterrupt raised inside it into other errors (or aborts): from before
    # Qt is imported, Ctrl-C only raises a flag, which run_gui reads.
    flag = InterruptFlag().install()
    try:
        from nnviz.gui.app import run_gui

        if flag:
            raise KeyboardInterrupt
        return run_gui(argv, flag)
    finally:
        flag.restore()


def _dispatch(argv: list[str]) -> int:
    from nnviz.options import EXIT_USAGE, UsageError

    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        if command == "train":
            from nnviz.train_cli import train_command

            return train_command(argv[1:])
        if command == "compare":
            from nnviz.compare_cli import compare_command

            return compare_command(argv[1:])
        return _window(argv)
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
    handled = can_handle()
    previous = signal.signal(signal.SIGINT, raise_interrupt) if handled else None
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:
        if handled:
            signal.signal(signal.SIGINT, exit_now)
        try:
            sys.stdout.flush()
            print(MESSAGE, file=sys.stderr)
        except OSError:  # a closed pipe: the status says it all
            pass
        return EXIT_INTERRUPTED
    finally:
        if handled:
            signal.signal(signal.SIGINT, exit_now if as_program else previous)
