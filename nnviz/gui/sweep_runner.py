"""A sweep trained off the GUI thread: a QObject worker in a QThread calling ``core.sweep.sweep``.

Finished cells reach the GUI in batches at display rate (``results(list)``), never one signal per cell; the
stop flag is the ``should_stop`` sweep() polls every 50 ms, so Cancel acts within 100 ms and the cells that
finished are kept (every one of them is in a batch before ``finished``).
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from nnviz.core import sweep as sweep_module
from nnviz.core.sweep_study import SweepDefinition
from nnviz.core.text import shorten
from nnviz.gui.worker import thread_for

BATCH_INTERVAL_S = 1 / 30  # at most this often a batch of finished cells goes to the GUI


class SweepWorker(QObject):
    """Trains one sweep; signals out, a stop flag in."""

    results = Signal(object)  # a list of CellResult that finished since the last batch
    finished = Signal(object)  # what sweep() returned (every finished cell, grid order); None when it failed
    errored = Signal(str)  # one line; ``finished(None)`` follows

    def __init__(self, definition: SweepDefinition, workers: int | None = None, scheduler: str = ""):
        super().__init__()
        self.definition, self.workers, self.scheduler = definition, workers, scheduler
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending: list = []
        self._sent = 0.0  # when the last batch went
        self.returned: list | None = None  # what sweep() returned, once run() is over

    def request_stop(self) -> None:
        """Thread-safe: the sweep stops at its next poll (≤ 50 ms) and keeps the cells that finished."""
        self._stop.set()

    def run(self) -> None:
        d = self.definition
        extra = {"scheduler": self.scheduler} if self.scheduler else {}  # only a named cluster is passed on
        returned = None
        try:
            returned = sweep_module.sweep(d.base, list(d.axes), d.seeds, d.seed_kind, d.target, workers=self.workers,
                                          should_stop=self._should_stop, on_result=self._on_result, **extra)
        except Exception as exc:  # a failure becomes a message, never a silent dead thread
            self.errored.emit(f"{type(exc).__name__}: {shorten(str(exc), 200)}")
        self._flush(force=True)
        self.returned = returned
        self.finished.emit(returned)

    def _on_result(self, result) -> None:
        with self._lock:
            self._pending.append(result)
        self._flush()

    def _should_stop(self) -> bool:
        self._flush()  # asked every 50 ms while cells train: a batch never waits for the next cell
        return self._stop.is_set()

    def _flush(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._sent < BATCH_INTERVAL_S:
            return
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._sent = now
            self.results.emit(batch)


class SweepRunner(QObject):
    """Starts a SweepWorker in a thread of its own and guarantees its stop (``stop``, also on close)."""

    results = Signal(object)  # forwarded from the worker, in the GUI thread
    finished = Signal(object)
    errored = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker: SweepWorker | None = None
        self.thread: QThread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, definition: SweepDefinition, workers: int | None = None, scheduler: str = "") -> None:
        self.stop()
        worker = SweepWorker(definition, workers, scheduler)
        thread = thread_for(worker, "sweep_thread")
        queued = Qt.ConnectionType.QueuedConnection
        worker.results.connect(self._on_results, queued)
        worker.errored.connect(self._on_error, queued)
        worker.finished.connect(self._on_finished, queued)
        self.worker, self.thread = worker, thread
        thread.start()

    # News of an older worker still queued when a new sweep started is dropped: it belongs to another sweep.
    def _current(self) -> bool:
        sender = self.sender()  # None once the sender is gone: never the current sweep's
        return sender is not None and sender is self.worker

    @Slot(object)
    def _on_results(self, batch) -> None:
        if self._current():
            self.results.emit(batch)

    @Slot(str)
    def _on_error(self, message: str) -> None:
        if self._current():
            self.errored.emit(message)

    @Slot(object)
    def _on_finished(self, returned) -> None:
        if self._current():
            self.finished.emit(returned)

    def cancel(self) -> None:
        """Ask the sweep to stop; ``finished`` follows with the cells that finished."""
        if self.worker is not None:
            self.worker.request_stop()

    def stop(self) -> list:
        """Stop and join (the stop flag, then quit, then wait); returns every cell the sweep finished. News of the
        stopped sweep still queued is dropped (a session's sweep restored meanwhile must not receive its cells),
        so the caller takes the cells from here."""
        worker = self.worker
        if worker is not None:
            worker.request_stop()
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
        self.worker = self.thread = None
        return list(worker.returned or []) if worker is not None else []
