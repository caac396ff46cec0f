"""Ctrl-C (SIGINT) for every command: exit status 130, one line, no traceback, no partial file.

Standard library only, so that the entry point can install its handler before numpy, numba or Qt load.
A KeyboardInterrupt raised inside an import or inside Qt's code is turned into other errors by the
code it interrupts (numpy's import reports an ImportError, PySide6 an AttributeError, or aborts), so
by default Ctrl-C only raises a flag (``InterruptFlag``) that the program reads at safe points
(``check``): after loading, in the window's event loop. Only around pure computation, the training
loops, does Ctrl-C raise KeyboardInterrupt at once (``raising``).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

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
        and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None)


class InterruptFlag:
    """A SIGINT handler that only counts: ``bool(flag)`` says whether Ctrl-C was pressed since ``install``."""

    def __init__(self):
        self.count = 0
        self.previous = None

    def __bool__(self) -> bool:
        return self.count > 0

    def _handle(self, signum, frame) -> None:
        self.count += 1
        if self.count > 1:  # pressed again while the first waits for a safe point: end at once
            exit_now()

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


_active: InterruptFlag | None = None  # the flag of the running ``nnviz.cli.main``, if any


def activate(flag: InterruptFlag | None) -> None:
    """Make ``flag`` the one ``check`` and ``raising`` use (None: none)."""
    global _active
    _active = flag


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed (a safe point of the program)."""
    if _active:
        raise KeyboardInterrupt


@contextmanager
def raising() -> Iterator[None]:
    """Within: Ctrl-C raises KeyboardInterrupt at once (meant for a computation loop); one pressed before
    raises on entry. Afterwards Ctrl-C only raises the flag again."""
    flag = _active
    if flag is None or flag.previous is None:  # not handling Ctrl-C here (a test's thread, nohup)
        yield
        return
    check()
    signal.signal(signal.SIGINT, raise_interrupt)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is raise_interrupt:  # no Ctrl-C: back to the flag
            signal.signal(signal.SIGINT, flag._handle)
