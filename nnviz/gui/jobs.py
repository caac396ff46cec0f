"""Slow preparations (building a million points, evaluating epoch 0 of a big network) in threads of their own.

A job is ``job(should_stop) -> result``; its result comes back to the GUI thread as ``apply(result)``. A newer
job of the same kind makes an older one void (typing 1, 10, 100, ... builds only what is still wanted): its
``should_stop()`` turns true, so it stops between two chunks of work (training.Stopped), and its result, if it
still arrives, is dropped. The threads are daemons: closing the window never waits for one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from nnviz.core.text import shorten
from nnviz.core.training import Stopped


class Jobs(QObject):
    """The jobs under way. Signals: ``done()`` after a job's result was applied (or it failed: ``failed(str)``)."""

    done = Signal()
    failed = Signal(str)  # one line: what went wrong
    _result = Signal(int, object)  # (ticket, result), from a job's thread
    _error = Signal(int, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ticket = 0
        self._jobs: dict[int, tuple[str, Callable]] = {}  # ticket -> (kind, apply) of jobs under way
        self.busy = ""  # what is being prepared, e.g. "preparing 1,000,000 points and the network"
        self.closing = False  # set when the window closes: every job stops
        self._threads: list[threading.Thread] = []
        self._result.connect(self._on_result)
        self._error.connect(self._on_error)

    def pending(self, kind: str) -> bool:
        return any(k == kind for k, _ in self._jobs.values())

    def cancel(self, kind: str) -> None:
        """Make the jobs of ``kind`` void (they stop at their next check; a result is dropped)."""
        self._jobs = {t: v for t, v in self._jobs.items() if v[0] != kind}
        if not self._jobs:
            self.busy = ""

    def submit(self, kind: str, busy: str, job: Callable, apply: Callable) -> None:
        """Run ``job(should_stop)`` in a thread, then ``apply(result)`` in this object's thread."""
        self._ticket += 1
        ticket = self._ticket
        self._jobs = {t: v for t, v in self._jobs.items() if v[0] != kind}
        self._jobs[ticket] = (kind, apply)
        self.busy = busy

        def should_stop() -> bool:
            return self.closing or ticket not in self._jobs

        def run() -> None:
            try:
                result = job(should_stop)
            except Stopped:
                return
            except Exception as exc:  # every failure becomes a message: a dead thread would be silent
                self._error.emit(ticket, f"{type(exc).__name__}: {shorten(str(exc), 200)}")
            else:
                self._result.emit(ticket, result)

        thread = threading.Thread(target=run, name=f"nnviz-{kind}-{ticket}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the jobs' threads to end (at exit, once the window is gone: a
        thread still inside numba or numpy while the interpreter shuts down can crash it)."""
        for thread in self._threads:
            thread.join(timeout)

    def _on_result(self, ticket: int, result) -> None:
        job = self._jobs.pop(ticket, None)
        if job is None or self.closing:
            return  # superseded, or the window is closing
        if not self._jobs:
            self.busy = ""
        job[1](result)
        self.done.emit()

    def _on_error(self, ticket: int, text: str) -> None:
        if self._jobs.pop(ticket, None) is None:
            return
        if not self._jobs:
            self.busy = ""
        self.failed.emit(text)
