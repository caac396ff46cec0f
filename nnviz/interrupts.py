"""Ctrl-C (SIGINT) for every command: exit status 130, one line, no traceback, no partial file.

Standard library only, so that the entry point can install its handler before numpy, numba or Qt load.
Headless commands let Ctrl-C raise KeyboardInterrupt (files being written remove their temporary file
as it unwinds); the window, whose Python code runs inside Qt's, only raises a flag that its event loop
reads (a KeyboardInterrupt raised inside Qt's code is turned into other errors, or worse).
"""

from __future__ import annotations

import os
import signal
import threading

EXIT_INTERRUPTED = 130  # as a shell reports a process ended by SIGINT
MESSAGE = "nnviz: interrupted"


def exit_now(signum=None, frame=None) -> None:
    """End the process at once with status 130 and the one line (a second Ctrl-C, or one after the work)."""
    try:
        os.write(2, (MESSAGE + "\n").encode())
    finally:
        os._exit(EXIT_INTERRUPTED)


def raise_interrupt(signum, frame) -> None:
    """Raise KeyboardInterrupt once; a second Ctrl-C while it unwinds ends the process at once."""
    signal.signal(signal.SIGINT, exit_now)
    raise KeyboardInterrupt


def can_handle() -> bool:
    """Whether this code may set the SIGINT handler: only in the main thread, and not when the program
    was started with Ctrl-C ignored (`nohup`, `cmd &` in a script), which it then keeps."""
    return threading.current_thread() is threading.main_thread() \
        and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN


class InterruptFlag:
    """A SIGINT handler that only counts: ``bool(flag)`` says whether Ctrl-C was pressed since ``install``."""

    def __init__(self):
        self.count = 0
        self.previous = None

    def __bool__(self) -> bool:
        return self.count > 0

    def _handle(self, signum, frame) -> None:
        self.count += 1

    def install(self) -> InterruptFlag:
        """Become the SIGINT handler (where allowed, see ``can_handle``); returns self."""
        if can_handle():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def restore(self) -> None:
        """Put back the handler ``install`` replaced."""
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
