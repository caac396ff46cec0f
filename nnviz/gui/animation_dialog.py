"""File ▸ Export ▸ Animation…: the training of the comparison as GIF, MP4 or WebM (core/animation.py).

``AnimationDialog`` asks for the file, size, speed, length, epochs, spacing, layout and curves, and refuses bad
values in one line without closing. ``AnimationExport`` takes a consistent copy of the runs (``film_of``, under
the comparison's lock, so training may go on), renders it in a QThread (``AnimationWorker``) behind a progress
dialog whose Cancel stops it within 100 ms with nothing written, and says where the file went.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nnviz.core import animation as core
from nnviz.core.text import shorten
from nnviz.gui.worker import thread_for

PROGRESS_INTERVAL_S = 1 / 30  # the worker reports progress at most this often (display rate, not per frame)
FILTERS = "GIF (*.gif);;MP4 video (*.mp4);;WebM video (*.webm)"
FORMAT_NOTES = {"gif": "GIF — plays everywhere (slides, web pages); largest file",
                "mp4": "MP4 (H.264) — small, for slides and video players",
                "webm": "WebM (VP9) — small, for web pages"}


# The options' names in the core's messages -> the dialog's labels of their fields.
FIELD_LABELS = {"path": "file", "fps": "speed", "seconds": "duration", "first_epoch": "epochs", "last_epoch": "epochs",
                "layout": "maps"}


def worded(message: str) -> str:
    """A refusal led by the label of the field it names as the dialog shows it ("speed: fps=60: …")."""
    name = re.match(r"(\w+)=", message)
    label = FIELD_LABELS.get(name.group(1)) if name else None
    return f"{label}: {message}" if label else message


class AnimationDialog(QDialog):
    """The animation's options; ``options()`` -> AnimationOptions (ValueError naming the field when invalid).

    Enter exports (when the values are valid), Esc cancels. ``film`` gives the epochs trained and the runs shown.
    """

    def __init__(self, film: core.Film, path: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export the training as an animation")
        self.film = film
        trained = film.last_epoch
        form = QFormLayout()

        self.path = QLineEdit(path)
        self.path.setObjectName("animation_path")
        self.path.setToolTip("The file to write; its extension is the format: .gif, .mp4 or .webm")
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Choose the file in a save dialog")
        self.browse.setAutoDefault(False)  # Enter exports, whichever field has the focus
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        form.addRow("file", row)
        self.format_label = QLabel()
        self.format_label.setObjectName("animation_format")
        form.addRow("format", self.format_label)

        def spin(name, low, high, value, tip, suffix="", step=1):
            box = QSpinBox()
            box.setObjectName(f"animation_{name}")
            box.setRange(low, high)
            box.setValue(value)
            box.setSingleStep(step)
            box.setSuffix(suffix)
            box.setToolTip(tip)
            box.setKeyboardTracking(True)
            return box

        low, high = core.WIDTH_RANGE
        self.width_box = spin("width", low, high, core.DEFAULTS["width"],
                              f"Width of the picture in pixels, {low} to {high} (even for MP4 and WebM); the height "
                              "follows the layout", " px", 2)
        form.addRow("width", self.width_box)
        low, high = core.FPS_RANGE
        self.fps = spin("fps", low, high, core.DEFAULTS["fps"],
                        f"Frames per second, {low} to {high} (to {core.GIF_MAX_FPS} for GIF)", " frames/s")
        form.addRow("speed", self.fps)
        low, high = core.SECONDS_RANGE
        self.seconds = spin("seconds", low, high, round(core.DEFAULTS["seconds"]),
                            f"Length of the animation in seconds, {low} to {high}", " s")
        form.addRow("duration", self.seconds)
        self.first = spin("first", 0, max(trained - 1, 0), 0, "The epoch of the first frame")
        self.last = spin("last", 1 if trained else 0, max(trained, 1), trained,
                         f"The epoch of the last frame (the runs have trained up to epoch {trained:,})")
        epochs = QHBoxLayout()
        epochs.addWidget(self.first, 1)
        epochs.addWidget(QLabel("to"))
        epochs.addWidget(self.last, 1)
        form.addRow("epochs", epochs)
        self.spacing = QComboBox()
        self.spacing.setObjectName("animation_spacing")
        self.spacing.addItem("evenly in log(1 + epoch)", "log")
        self.spacing.addItem("evenly in epoch", "linear")
        self.spacing.setToolTip("How the frames' epochs are spaced: logarithmically (the first epochs, where the "
                                "maps change fastest, get as many frames as the last thousands), or evenly")
        form.addRow("spacing", self.spacing)
        self.layout_choice = QComboBox()
        self.layout_choice.setObjectName("animation_layout")
        self.layout_choice.addItem("all shown runs, side by side", core.GRID)
        for name in film.names():
            self.layout_choice.addItem(f"“{name}” large", name)
        self.layout_choice.setToolTip("Every shown run as small multiples, or one run's map large")
        form.addRow("maps", self.layout_choice)
        self.curves = QCheckBox("cost curves below the maps, with a marker at the frame's epoch")
        self.curves.setObjectName("animation_curves")
        self.curves.setChecked(core.DEFAULTS["curves"])
        self.curves.setToolTip("Draw every shown run's cost per epoch under the maps")
        form.addRow("", self.curves)

        self.summary = QLabel()
        self.summary.setObjectName("animation_summary")
        self.message = QLabel()
        self.message.setObjectName("animation_message")
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("animation_export")
        self.export_button.setToolTip("Render and write the file (Enter); Esc closes without writing")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # Enter exports: the default button is set once the buttons are in the dialog (before, Qt makes the first
        # auto-default button, Cancel, the default when the dialog shows).
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.export_button.setDefault(True)

        self.path.textChanged.connect(self._update)
        for box in (self.width_box, self.fps, self.seconds, self.first, self.last):
            box.valueChanged.connect(self._update)
        self._update()

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export the training as an animation", self.path.text(),
                                                FILTERS)
        if chosen:
            self.path.setText(chosen)

    def options(self) -> core.AnimationOptions:
        """The options shown, checked against the runs; ValueError (one line, naming the field) when invalid."""
        options = core.AnimationOptions(
            self.path.text().strip(), self.width_box.value(), self.fps.value(), self.seconds.value(),
            self.first.value(), self.last.value(), self.spacing.currentData(), self.layout_choice.currentData(),
            self.curves.isChecked())
        core.checked_range(self.film, options)
        return options

    def _update(self) -> None:
        suffix = Path(self.path.text().strip()).suffix.lower()
        fmt = core.FORMATS.get(suffix)
        self.format_label.setText(FORMAT_NOTES[fmt] if fmt else "end the name in .gif, .mp4 or .webm")
        frames = max(1, round(self.fps.value() * self.seconds.value()))
        self.summary.setText(f"{frames:,} frames of {self.width_box.value():,} px, epochs {self.first.value():,} "
                             f"to {self.last.value():,}")
        self.message.clear()

    def accept(self) -> None:
        """Close only with valid options and the libraries the format needs; else say why in one line."""
        try:
            options = self.options()
            core.require(options.format)
        except (ValueError, core.MissingLibrary) as exc:
            self.message.setText(worded(str(exc)))
            return
        self.chosen = options
        super().accept()


class AnimationWorker(QObject):
    """Renders one animation (``export_animation``) in its thread; signals out, a stop flag in."""

    progress = Signal(int, int)  # (frames done, total), at most every PROGRESS_INTERVAL_S
    finished = Signal(object)  # the AnimationResult, or None when stopped or failed
    errored = Signal(str)  # one line; finished(None) follows

    def __init__(self, film: core.Film, options: core.AnimationOptions):
        super().__init__()
        self.film, self.options = film, options
        self._stop = threading.Event()
        self._sent = 0.0

    def request_stop(self) -> None:
        """Thread-safe: the rendering stops at its next question (between maps: well within 100 ms)."""
        self._stop.set()

    def run(self) -> None:
        result = None
        try:
            result = core.export_animation(self.film, self.options, self._progress, self._stop.is_set)
        except core.Stopped:
            pass
        except (ValueError, OSError, core.MissingLibrary) as exc:
            self.errored.emit(shorten(str(exc), 300))
        except Exception as exc:  # a failure becomes a message, never a silent dead thread
            self.errored.emit(f"{type(exc).__name__}: {shorten(str(exc), 200)}")
        self.finished.emit(result)

    def _progress(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done >= total or now - self._sent >= PROGRESS_INTERVAL_S:
            self._sent = now
            self.progress.emit(done, total)


class AnimationExport(QObject):
    """The window's animation export: the dialog, then the worker in a QThread with a progress dialog and Cancel.

    Signals: ``saved(str path)`` when the file is written, ``cancelled()``, ``failed(str)`` (also shown in a
    message box). ``shutdown()`` stops a rendering under way (the window closes).
    """

    saved = Signal(str)
    cancelled = Signal()
    failed = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dialog: AnimationDialog | None = None
        self.progress_dialog: QProgressDialog | None = None
        self.worker: AnimationWorker | None = None
        self.thread: QThread | None = None
        self._last_path = ""
        self._in_set_value = False  # inside the progress dialog's setValue, which processes events (modal)
        self._close_pending = False  # the dialog was to be closed meanwhile: done once setValue has returned

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def _default_path(self) -> str:
        if self._last_path:
            return self._last_path
        session = getattr(self.window.documents, "path", None)
        folder = Path(session).resolve().parent if session else Path.cwd()
        return str(folder / "training.gif")

    def open_dialog(self) -> AnimationDialog | None:
        """Show the dialog (window-modal, not blocking); Export starts the rendering. None while one runs."""
        if self.running:
            self.window.controller.message.emit("an animation is being written: wait for it or cancel it", "")
            return None
        film = core.film_of(self.window.model)
        if self.dialog is not None:
            self.dialog.close()
        dialog = AnimationDialog(film, self._default_path(), self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self.start(dialog.chosen))
        self.dialog = dialog
        dialog.open()
        return dialog

    def start(self, options: core.AnimationOptions) -> None:
        """Render ``options`` from a copy of the runs taken now (training may go on)."""
        self.stop()
        self._last_path = options.path
        film = core.film_of(self.window.model)
        try:
            core.checked_range(film, options)  # the runs may have been restarted since the dialog opened
        except ValueError as exc:
            self._fail(str(exc))
            return
        worker = AnimationWorker(film, options)
        thread = thread_for(worker, "animation_thread")
        queued = Qt.ConnectionType.QueuedConnection
        worker.progress.connect(self._on_progress, queued)
        worker.errored.connect(self._on_error, queued)
        worker.finished.connect(self._on_finished, queued)
        progress = QProgressDialog(f"Rendering {Path(options.path).name}…", "Cancel", 0, options.frames + 1,
                                   self.window)
        progress.setObjectName("animation_progress")
        progress.setWindowTitle("Export animation")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setMinimumDuration(0)
        progress.setMinimumWidth(progress.fontMetrics().horizontalAdvance("M") * 34)  # room for "frame N of M"
        progress.canceled.connect(self.cancel)
        progress.setValue(0)
        self.progress_dialog, self.worker, self.thread = progress, worker, thread
        self._error = ""
        thread.start()

    def cancel(self) -> None:
        """Stop the rendering under way; nothing is written (an existing file stays as it was)."""
        if self.worker is not None:
            self.worker.request_stop()

    def stop(self) -> None:
        """Stop and join (the stop flag, then quit, then wait); also when the window closes."""
        if self.worker is not None:
            self.worker.request_stop()
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
        self.worker = self.thread = None
        self._close_progress()

    shutdown = stop

    def _current(self) -> bool:
        sender = self.sender()
        return sender is not None and sender is self.worker

    def _close_progress(self) -> None:
        if self._in_set_value:
            # The end arrived while the dialog's own setValue processed events: deleting it under that call
            # could crash Qt; close it when setValue has returned (_on_progress).
            self._close_pending = True
            return
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect(self.cancel)  # closing a QProgressDialog emits canceled
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        dialog = self.progress_dialog
        if not self._current() or dialog is None:
            return
        dialog.setLabelText(f"Rendering {Path(self.worker.options.path).name}: frame {min(done, total - 1):,} of "
                            f"{total - 1:,}…")
        dialog.setMaximum(total)
        self._in_set_value = True
        try:
            dialog.setValue(done)  # last: a modal QProgressDialog processes events here (the end may arrive)
        finally:
            self._in_set_value = False
        if self._close_pending:
            self._close_pending = False
            self._close_progress()

    @Slot(str)
    def _on_error(self, message: str) -> None:
        if self._current():
            self._error = message

    @Slot(object)
    def _on_finished(self, result) -> None:
        if not self._current():
            return
        worker, error = self.worker, self._error
        self.thread.wait()
        self.worker = self.thread = None
        self._close_progress()
        if result is not None:
            text = (f"saved {shorten(result.path, 160)} ({result.frames:,} frames, {result.width} × {result.height} "
                    f"px, {result.nbytes / 1e6:.1f} MB)")
            self.window.controller.message.emit(text, "done")
            self.saved.emit(result.path)
        elif error:
            self._fail(error)
        else:
            self.window.controller.message.emit(f"animation {Path(worker.options.path).name}: cancelled, nothing "
                                                "written", "")
            self.cancelled.emit()

    def _fail(self, message: str) -> None:
        self.failed.emit(message)
        self.window.documents.show_alert(message)
