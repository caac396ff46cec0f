"""The panel's controls for the network's inputs (the feature picker) and a user's own points (keep their order).

``FeaturePicker`` shows one toggle button per input feature (x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂); at least one
stays on (a click on the last one says so in a tooltip). ``changed()`` is emitted when the user toggles one;
``set_features`` shows a choice without emitting.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QToolButton, QToolTip, QWidget

from nnviz.core.datasets import CUSTOM, DEFAULT_FEATURES, FEATURE_LABELS, FEATURES, canonical_features
from nnviz.gui.fields import NOISE_UNUSED, format_number

FEATURES_TIP = ("The inputs the network sees of each point (x₁, x₂): the first layer has one unit per input.\n"
                "x₁² and x₂² let one unit draw a circle, x₁x₂ separates the quadrants of XOR, sin x₁ and sin x₂ a\n"
                "wave: a feature can replace a hidden layer. The maps stay over the (x₁, x₂) plane.\n"
                "At least one input stays on. Changing them restarts every run from new initial weights.")
KEEP_ORDER_TIP = ("Keep your points in their own order (as drawn, or as the file lists them).\n"
                  "Off: they are shuffled once with the data seed, as the notebook shuffles its data\n"
                  "(numpy's RandomState(data seed).permutation), so that mini-batches mix the classes.")
LAST_INPUT = "{} is the network's only input: turn another input on first"
COLUMNS = 4  # buttons per row
# An input that is on stands out (the platform's checked look is faint).
BUTTON_STYLE = ("QToolButton { padding: 1px 6px; border: 1px solid #b8b8b8; border-radius: 3px; color: #6b6b6b; }"
                "QToolButton:checked { background: #d6e6f5; border-color: #1f77b4; color: #0b3c68; }")


class FeaturePicker(QWidget):
    """Toggle buttons choosing the network's input features; ``features()`` in FEATURES' order."""

    changed = Signal()  # the user toggled a feature

    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(2)
        grid.setVerticalSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for i, name in enumerate(FEATURES):
            button = QToolButton()
            button.setText(FEATURE_LABELS[name])
            button.setCheckable(True)
            button.setObjectName(f"feature {name}")
            button.setToolTip(f"Input {FEATURE_LABELS[name]}: on or off.\n{FEATURES_TIP}")
            button.setAutoRaise(False)
            button.setStyleSheet(BUTTON_STYLE)
            button.toggled.connect(lambda on, n=name: self._on_toggled(n, on))
            grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self.buttons[name] = button
        self.setToolTip(FEATURES_TIP)
        self._loading = False
        self.set_features(DEFAULT_FEATURES)

    def features(self) -> tuple[str, ...]:
        return canonical_features(name for name, button in self.buttons.items() if button.isChecked())

    def set_features(self, features) -> None:
        """Show ``features`` (no ``changed``)."""
        self._loading = True
        try:
            for name, button in self.buttons.items():
                button.setChecked(name in set(features))
        finally:
            self._loading = False

    def _on_toggled(self, name: str, on: bool) -> None:
        if self._loading:
            return
        if not on and not self.features():  # the last input cannot go: the network needs one
            button = self.buttons[name]
            self._loading = True
            try:
                button.setChecked(True)
            finally:
                self._loading = False
            # Said where the user clicked: a click that changes nothing would look broken.
            QToolTip.showText(button.mapToGlobal(QPoint(0, button.height())), LAST_INPUT.format(FEATURE_LABELS[name]),
                              button)
            return
        self.changed.emit()


def keep_order_box() -> QCheckBox:
    """The "keep their order" check box of a user's points."""
    box = QCheckBox("keep their order")
    box.setObjectName("keep_order")
    box.setToolTip(KEEP_ORDER_TIP)
    return box


CUSTOM_SAMPLES = "The number of your points: draw or erase points, or open another file, to change it."
CUSTOM_NOISE = "Not used by your own points: they are used as they are."
NEW_DATA = "Draw another data set: a new random data seed."
CUSTOM_NEW_DATA = ("Your points stay as they are: a new random data seed shuffles them again and holds out\n"
                   "another test set (with 'keep their order' and test fraction 0, the seed changes nothing).")


class DataRows:
    """The Data group's rows that follow the data set chosen: a mix-in of ParameterPanel (it reads the panel's
    ``dataset`` box, ``fields``, ``keep_order``, ``new_data``, ``_points``, ``_errors``, ``_valid``, ``_loading``)."""

    def _offer_custom(self) -> None:
        """The data set box offers "custom" while there are points of the user's."""
        index = self.dataset.findText(CUSTOM)
        if self._points is not None and index < 0:
            self.dataset.addItem(CUSTOM)
            self.dataset.setItemData(self.dataset.count() - 1, f"Your {len(self._points):,} points (drawn or "
                                     "opened with File ▸ Open data…)", Qt.ItemDataRole.ToolTipRole)
        elif self._points is None and index >= 0:
            self.dataset.removeItem(index)

    def _show_noise(self) -> None:
        """Noise does nothing for 'hard' and a user's points: the field is greyed and says why; a user's points
        set the number of samples, and may keep their order."""
        custom = self.dataset.currentText() == CUSTOM
        self._forms["Data"].setRowVisible(self.keep_order, custom)
        samples = self.fields["n_samples"]
        samples.edit.setEnabled(not custom)
        samples.edit.setToolTip(CUSTOM_SAMPLES if custom else samples.tip)
        self.new_data.setToolTip(CUSTOM_NEW_DATA if custom else NEW_DATA)
        if custom and self._points is not None and not self._loading:
            self._set_quietly(samples.edit, str(len(self._points)))
        field = self.fields["noise"]
        used = self.dataset.currentText() not in ("hard", CUSTOM)
        if not used and "noise" in self._errors:  # a refused noise would block in a field that cannot be edited
            self._set_quietly(field.edit, format_number(self._valid.noise))
        field.edit.setEnabled(used)
        field.edit.setToolTip(field.tip if used else CUSTOM_NOISE if custom else NOISE_UNUSED)

    def _set_quietly(self, edit, text: str) -> None:
        """Set a field's text without it counting as the user's change."""
        loading, self._loading = self._loading, True
        try:
            edit.setText(text)
        finally:
            self._loading = loading
