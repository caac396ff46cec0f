"""Work in a thread of its own with a progress dialog and Cancel: a big export, reading or writing a big file.

``Background.run(title, work, done)`` runs ``work(progress, cancelled)`` off the GUI thread; ``progress(fraction)``
moves the dialog's bar, ``cancelled()`` says Cancel was pressed (the work stops and raises Cancelled, or its result
is dropped); ``done(result)`` runs on the GUI thread after success; a failure is shown as a one-line message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from nnviz.gui.export import ExportError

PROGRESS_DELAY_MS = 300  # a background job shows its progress dialog only if it takes longer


class Cancelled(Exception):
    """The user cancelled a background job: nothing was written or changed."""


class _Bridge(QObject):
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    progress = Signal(float)


class Background:
    """The background jobs of a window; ``say(text, kind)`` shows a status message, ``show_alert(text)`` a failure."""

    def __init__(self, window: QWidget, say: Callable[[str, str], None], show_alert: Callable[[str], None]):
        self.window = window
        self.say = say
        self.show_alert = show_alert
        self.tasks: list[threading.Thread] = []  # jobs under way
        self._tasks_cancel: list = []  # their cancel events

    def run(self, title: str, work: Callable, done: Callable, unchanged: str = "nothing written") -> threading.Thread:
        """``work(progress, cancelled)`` in a thread, with a progress dialog (after PROGRESS_DELAY_MS) whose
        Cancel makes ``cancelled()`` true and drops the result; ``done(result)`` runs here after success.
        ``unchanged`` says what a Cancel leaves as it was ("nothing written"; a file read: "nothing changed")."""
        bridge = _Bridge(self.window)
        cancel = threading.Event()
        dialog = QProgressDialog(title + "…", "Cancel", 0, 0, self.window)  # busy until a progress report
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(PROGRESS_DELAY_MS)
        dialog.setAutoClose(False)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.canceled.connect(cancel.set)
        dialog.setValue(0)  # starts the dialog's delay: it shows only if the work takes longer

        def finish():
            dialog.canceled.disconnect(cancel.set)  # closing a QProgressDialog emits canceled
            dialog.close()
            bridge.deleteLater()

        def succeeded(result):
            finish()
            if not cancel.is_set():
                done(result)
            else:
                self.say(f"{title}: cancelled, {unchanged}", "")

        def failed(text):
            finish()
            if cancel.is_set():
                self.say(f"{title}: cancelled, {unchanged}", "")
            else:
                self.show_alert(text)

        def cancelled():
            finish()
            self.say(f"{title}: cancelled, {unchanged}", "")

        bridge.done.connect(succeeded)
        bridge.failed.connect(failed)
        bridge.cancelled.connect(cancelled)
        def progressed(fraction: float) -> None:
            if not cancel.is_set():
                dialog.setMaximum(1000)
                dialog.setValue(int(1000 * fraction))

        bridge.progress.connect(progressed)

        def run():
            try:
                result = work(bridge.progress.emit, cancel.is_set)
            except Cancelled:
                bridge.cancelled.emit()
            except Exception as exc:  # every failure becomes a message: a dead thread would be silent
                bridge.failed.emit(str(exc) if isinstance(exc, (OSError, ExportError, ValueError))
                                   else f"{type(exc).__name__}: {exc}")
            else:
                bridge.done.emit(result)

        thread = threading.Thread(target=run, name="nnviz-export", daemon=True)
        self.tasks = [t for t in self.tasks if t.is_alive()] + [thread]
        self._tasks_cancel = [c for c in self._tasks_cancel if not c.is_set()] + [cancel]
        thread.start()
        return thread

    def wait(self, timeout: float = 30.0) -> None:
        """The window is closing: cancel the background work (a map being drawn stops within ~100 ms) and let
        a write under way end, so that no half-done file or temporary file is left."""
        for cancel in self._tasks_cancel:
            cancel.set()
        for thread in self.tasks:
            thread.join(timeout)
