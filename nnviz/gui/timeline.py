"""The timeline under the maps: scrub back through the epochs trained, or follow training live."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

NOTE_COLOR = "#6b6b6b"


class TimelineSlider(QWidget):
    """A slider over epochs 0..max with an epoch label and a Live toggle.

    Live (the start state): the handle stays at the newest epoch as ``set_max_epoch`` raises it,
    and nothing is emitted: the views show the latest state anyway. Moving the handle back
    (drag, click, arrows, PgUp/PgDn, Home) leaves live mode and emits ``epoch_changed(epoch)``;
    bringing it to the end (End, the Live button, or dragging to the end) returns to live mode
    and emits ``epoch_changed(max)``. ``live_changed(bool)`` reports each change of mode.
    """

    epoch_changed = Signal(int)
    live_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._live = True
        self._setting = False  # True while the slider is moved from code

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setTracking(True)
        self.slider.setToolTip("Scrub back through the epochs trained: the maps, the curve markers and the status "
                               "show that epoch.\nHome: epoch 0 · End: back to live · ←/→: one epoch · "
                               "PgUp/PgDn: 5 %")
        self.slider.valueChanged.connect(self._on_value_changed)
        self.setFocusProxy(self.slider)

        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.label.setToolTip("The epoch shown / the newest epoch trained")

        self.live_button = QToolButton()
        self.live_button.setText("● Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow training: show the newest epoch as it arrives (End)")
        self.live_button.toggled.connect(self.set_live)

        self.note = QLabel()
        self.note.setStyleSheet(f"color: {NOTE_COLOR};")
        self.note.setVisible(False)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.live_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.note)
        self._update_label()

    # ---- public API -------------------------------------------------------------------------

    def current_epoch(self) -> int:
        """The epoch the handle is at."""
        return self.slider.value()

    def max_epoch(self) -> int:
        return self.slider.maximum()

    def is_live(self) -> bool:
        """Whether the timeline follows training (handle at the newest epoch)."""
        return self._live

    def set_max_epoch(self, epoch: int) -> None:
        """The newest epoch trained; in live mode the handle follows it (no signal)."""
        if isinstance(epoch, bool) or int(epoch) != epoch or epoch < 0:
            raise ValueError(f"epoch={epoch!r}: must be an integer ≥ 0")
        epoch = int(epoch)
        self._setting = True
        try:
            self.slider.setMaximum(epoch)
            if self._live:
                self.slider.setValue(epoch)
            self.slider.setPageStep(max(1, epoch // 20))
        finally:
            self._setting = False
        self._update_label()

    def set_epoch(self, epoch: int) -> None:
        """Move the handle as a user would (clamped to 0..max): emits ``epoch_changed`` if it moved."""
        self.slider.setValue(max(0, min(int(epoch), self.slider.maximum())))

    def set_live(self, on: bool) -> None:
        """Follow training (handle to the newest epoch, ``epoch_changed(max)``) or stop following."""
        on = bool(on)
        if on == self._live:
            self._sync_button()
            return
        if on:
            self._set_live(True)
            if self.slider.value() != self.slider.maximum():
                self._setting = True
                try:
                    self.slider.setValue(self.slider.maximum())
                finally:
                    self._setting = False
            self._update_label()
            self.epoch_changed.emit(self.slider.value())
        else:
            self._set_live(False)
            self._update_label()

    def reset(self) -> None:
        """Back to epoch 0 of 0, live (after a reset of the training)."""
        self.set_max_epoch(0)
        self.set_live(True)

    def set_note(self, text: str) -> None:
        """A short grey note after the epoch, e.g. the memory the snapshots use (hidden when empty)."""
        if text == self.note.text():
            return
        self.note.setText(text)
        self.note.setVisible(bool(text))
        # Fixed, and only ever wider, so that the digits changing every frame do not relayout the window.
        width = max(self.note.minimumWidth(), self.note.fontMetrics().horizontalAdvance(text) + 4)
        if self.note.minimumWidth() != width or self.note.maximumWidth() != width:
            self.note.setFixedSize(width, self.note.sizeHint().height())

    # ---- internals --------------------------------------------------------------------------

    def _set_live(self, on: bool) -> None:
        self._live = on
        self._sync_button()
        self.live_changed.emit(on)

    def _sync_button(self) -> None:
        self.live_button.blockSignals(True)
        self.live_button.setChecked(self._live)
        self.live_button.setText("● Live" if self._live else "○ Live")
        self.live_button.blockSignals(False)

    def _on_value_changed(self, value: int) -> None:
        if self._setting:
            return
        at_end = value == self.slider.maximum()
        if at_end != self._live:
            self._set_live(at_end)
        self._update_label()
        self.epoch_changed.emit(value)

    def _update_label(self) -> None:
        maximum = self.slider.maximum()
        width = len(str(maximum))
        self.label.setText(f"epoch {self.slider.value():>{width}} / {maximum}")
        # A fixed size: new digits every frame must not relayout the window up to its top (Qt skips that only for
        # a widget whose size is fixed both ways); it changes when the maximum gets another digit.
        fixed = self.label.fontMetrics().horizontalAdvance(f"epoch {maximum} / {maximum}") + 4
        if self.label.minimumWidth() != fixed or self.label.maximumWidth() != fixed:
            self.label.setFixedSize(fixed, self.label.sizeHint().height())
