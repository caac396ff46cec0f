"""The parameter panel: Data, Network and Training fields, each validated where it is typed."""

from __future__ import annotations

import math
import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.datasets import DATASETS
from nnviz.core.network import ACTIVATIONS
from nnviz.core.optimizers import SCHEDULES
from nnviz.core.training import LIVE_FIELDS, MAX_SEED, TrainConfig, load_presets

FULL_BATCH = 1_000_000  # the largest batch TrainConfig accepts: always at least the whole training set
LOG_LR_MIN, LOG_LR_MAX, LOG_LR_STEPS = -4.0, 1.0, 100  # slider: α from 1e-4 to 10, 100 positions a decade
ERROR_STYLE = "QLineEdit { border: 1px solid #d0342c; background: #fff2f0; }"
LIVE_NOTE = "Applies live, from the next epoch."
RESET_NOTE = "Changing it starts the run again from epoch 0."

# Tooltips: what each field controls, as a formula where there is one.
TOOLTIPS = {
    "dataset": "The 2-D points x = (x₁, x₂) with labels y ∈ {0, 1}.\n"
               "hard: the notebook's three clusters (noise unused).",
    "n_samples": "n, the number of points (4 to 1,000,000; a multiple of 4 for 'hard').\n"
                 "The cost averages over them: J = −(1/n) Σ [y·log(p + ε) + (1 − y)·log(1 − p + ε)], ε = 1e-8.",
    "noise": "Gaussian noise added to every point, in units of the data's spread (0 to 1).",
    "test_fraction": "Fraction of the points held out as a test set (0 to 0.9): never trained on,\n"
                     "its cost and accuracy are shown dashed.",
    "data_seed": "Seed of the random generator that draws the data (0 to 2³²−1).",
    "hidden": "Units of each hidden layer, comma-separated, e.g. 3,4 (each 1 to 256; empty: none).\n"
              "Layer l: a⁽ˡ⁾ = f(a⁽ˡ⁻¹⁾·W⁽ˡ⁾ + b⁽ˡ⁾); output p = σ(a·W + b), σ(z) = 1/(1 + e⁻ᶻ).",
    "activation": "f of the hidden layers: relu f(z) = max(0, z), or tanh f(z) = tanh(z).",
    "init_seed": "Seed of the initial weights W and biases b (0 to 2³²−1).",
    "preset": "Load the settings of one of the notebook's runs.",
    "learning_rate": "α, the step size: θ ← θ − α·v (finite, > 0).\nDrag on a log scale or type any value.",
    "batch_size": "B, samples per update: g = (1/B) Σ ∇Jᵢ over the batch (1 to 1,000,000).\n"
                  "1 is per-sample SGD; 'full batch' uses every training sample per update.",
    "momentum": "β of the notebook's momentum: v ← β·v + (1 − β)·g, θ ← θ − α·v (0 ≤ β < 1; 0 is plain SGD).",
    "schedule": "α used in epoch e:\n constant: αₑ = α\n exponential: αₑ = α·(1 − γ)^(e − 1)\n"
                " step: αₑ = α·f^⌊(e − 1)/k⌋",
    "gamma": "γ of the exponential schedule: αₑ = α·(1 − γ)^(e − 1) (0 ≤ γ < 1).",
    "step_every": "k of the step schedule: αₑ = α·f^⌊(e − 1)/k⌋, epochs between steps (≥ 1).",
    "step_factor": "f of the step schedule: αₑ = α·f^⌊(e − 1)/k⌋ (0 < f ≤ 1).",
    "l2": "λ of the L2 penalty: J + (λ/2)·Σ w² over the weights, not the biases (λ ≥ 0).\n"
          "Adds λ·w to each weight's gradient.",
    "epochs": "Epochs to train; one epoch passes every training sample once (0 to 10,000,000).",
}


def _parse_int(text: str) -> int:
    try:
        return int(text.strip().replace(",", "_"))
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a whole number") from None


def _parse_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    return value


def _parse_hidden(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        hidden = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"{text.strip()!r}: give the hidden layer sizes as whole numbers, e.g. 3,4") from None
    return (2, *hidden, 1)


def format_number(value: float) -> str:
    """Short text of a float that parses back to the same value where 6 digits suffice."""
    text = f"{value:.6g}"
    return text if float(text) == value else repr(value)


def _reason(message: str) -> str:
    """'learning_rate=0: must be > 0' -> 'must be > 0'."""
    head, sep, tail = message.partition(": ")
    return tail if sep and "=" in head else message


class _TextField:
    """A QLineEdit whose text parses to one TrainConfig value, with an error label under it."""

    def __init__(self, name: str, parse, width: int | None = None):
        self.name = name
        self.parse = parse
        self.edit = QLineEdit()
        self.edit.setObjectName(name)
        if width:
            self.edit.setMaximumWidth(width)
        self.error = QLabel()
        self.error.setObjectName(f"{name}_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0281e; font-size: 11px;")
        self.error.setVisible(False)

    def set_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.edit.setStyleSheet(ERROR_STYLE if message else "")


class ParameterPanel(QWidget):
    """Grouped fields that build a TrainConfig; ``config()`` is None while any field is invalid."""

    changed = Signal()  # any field was edited (or a preset loaded)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._presets = load_presets()
        self._loading = False
        self._config: TrainConfig | None = TrainConfig()
        self._engine = TrainConfig().engine  # not a field of the panel: kept from the config last set
        self._errors: dict[str, str] = {}
        self.fields: dict[str, _TextField] = {}
        self._forms: dict[str, QFormLayout] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        # ---- Data
        data = self._group(layout, "Data")
        self.dataset = QComboBox()
        self.dataset.addItems(list(DATASETS))
        self._add_widget(data, "data set", "dataset", self.dataset)
        self._add_text(data, "samples", "n_samples", _parse_int)
        self._add_text(data, "noise", "noise", _parse_float)
        self._add_text(data, "test fraction", "test_fraction", _parse_float)
        self.new_data = QPushButton("new data")
        self.new_data.setToolTip("Draw another data set: a new random data seed.")
        self.new_data.clicked.connect(lambda: self._new_seed("data_seed"))
        self._add_text(data, "data seed", "data_seed", _parse_int, extra=self.new_data)

        # ---- Network
        network = self._group(layout, "Network")
        layer_buttons = QWidget()
        buttons = QHBoxLayout(layer_buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(2)
        self.add_layer = QPushButton("+")
        self.add_layer.setToolTip("Add a hidden layer (as wide as the last one)")
        self.add_layer.clicked.connect(lambda: self._change_layers(+1))
        self.remove_layer = QPushButton("−")
        self.remove_layer.setToolTip("Remove the last hidden layer")
        self.remove_layer.clicked.connect(lambda: self._change_layers(-1))
        for button in (self.add_layer, self.remove_layer):
            button.setFixedWidth(28)
            buttons.addWidget(button)
        self._add_text(network, "hidden layers", "hidden", _parse_hidden, extra=layer_buttons)
        self.activation = QComboBox()
        self.activation.addItems(list(ACTIVATIONS))
        self._add_widget(network, "activation", "activation", self.activation)
        self.new_weights = QPushButton("new weights")
        self.new_weights.setToolTip("Draw other initial weights: a new random init seed.")
        self.new_weights.clicked.connect(lambda: self._new_seed("init_seed"))
        self._add_text(network, "init seed", "init_seed", _parse_int, extra=self.new_weights)

        # ---- Training
        training = self._group(layout, "Training")
        self.preset = QComboBox()
        self.preset.addItem("—", None)
        for name in self._presets:
            self.preset.addItem(name, name)
        self.preset.setToolTip(TOOLTIPS["preset"])
        self.preset.activated.connect(self._on_preset)
        training.addRow("preset", self.preset)

        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        self.lr_slider.setObjectName("learning_rate_slider")
        self.lr_slider.setRange(0, int(round((LOG_LR_MAX - LOG_LR_MIN) * LOG_LR_STEPS)))
        self.lr_slider.setToolTip(TOOLTIPS["learning_rate"])
        self.lr_slider.valueChanged.connect(self._on_lr_slider)
        lr = self._add_text(training, "learning rate α", "learning_rate", _parse_float, width=70,
                            leading=self.lr_slider)
        lr.edit.textChanged.connect(self._sync_lr_slider)

        self.full_batch = QCheckBox("full batch")
        self.full_batch.setToolTip("Every training sample in one update: batch gradient descent.")
        self.full_batch.toggled.connect(self._on_full_batch)
        self._add_text(training, "batch size B", "batch_size", _parse_int, width=80, extra=self.full_batch)
        self._add_text(training, "momentum β", "momentum", _parse_float, width=80)
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        self.schedule.currentTextChanged.connect(self._show_schedule_fields)
        self._add_widget(training, "α schedule", "schedule", self.schedule)
        self._add_text(training, "decay γ", "gamma", _parse_float, width=80)
        self._add_text(training, "step every k", "step_every", _parse_int, width=80)
        self._add_text(training, "step factor f", "step_factor", _parse_float, width=80)
        self._add_text(training, "L2 λ", "l2", _parse_float, width=80)
        self._add_text(training, "epochs", "epochs", _parse_int, width=80)
        layout.addStretch(1)
        keys = QLabel("<b>Space</b> start / pause &nbsp; <b>S</b> or <b>→</b> one epoch &nbsp; <b>R</b> reset<br>"
                      "Hover a field for the formula it controls.")
        keys.setObjectName("keys")
        keys.setWordWrap(True)
        keys.setStyleSheet("color: #6b6b6b; font-size: 11px;")
        layout.addWidget(keys)

        for combo in (self.dataset, self.activation, self.schedule):
            combo.currentTextChanged.connect(self._on_edit)
        self.set_config(TrainConfig())

    # ---- building -------------------------------------------------------------------------

    def _group(self, layout: QVBoxLayout, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setContentsMargins(8, 6, 8, 6)
        form.setVerticalSpacing(4)
        layout.addWidget(box)
        self._forms[title] = form
        return form

    def _note(self, name: str) -> str:
        if name in ("preset",):
            return ""
        return LIVE_NOTE if name in LIVE_FIELDS else RESET_NOTE

    def _add_widget(self, form: QFormLayout, label: str, name: str, widget: QWidget) -> None:
        widget.setObjectName(name)
        widget.setToolTip(f"{TOOLTIPS[name]}\n{self._note(name)}")
        form.addRow(label, widget)

    def _add_text(self, form, label, name, parse, width=None, extra: QWidget | None = None,
                  leading: QWidget | None = None) -> _TextField:
        field = _TextField(name, parse, width)
        field.label = label
        tip = f"{TOOLTIPS[name]}\n{self._note('shape' if name == 'hidden' else name)}"
        field.edit.setToolTip(tip)
        field.edit.textChanged.connect(self._on_edit)
        if extra is not None or leading is not None:
            row = QWidget()
            box = QHBoxLayout(row)
            box.setContentsMargins(0, 0, 0, 0)
            if leading is not None:
                box.addWidget(leading, 1)
            box.addWidget(field.edit, 0 if leading is not None else 1)
            if extra is not None:
                box.addWidget(extra)
        else:
            row = field.edit
            field.edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        form.addRow(label, row)
        field.row = row
        form.labelForField(row).setToolTip(tip)
        form.addRow(field.error)
        form.setRowVisible(field.error, False)
        field.form = form
        self.fields[name] = field
        return field

    # ---- values ---------------------------------------------------------------------------

    def set_config(self, config: TrainConfig) -> None:
        """Show every value of ``config`` (emits ``changed`` once)."""
        self._loading = True
        self._engine = config.engine
        try:
            self.dataset.setCurrentText(config.dataset)
            self.activation.setCurrentText(config.activation)
            self.schedule.setCurrentText(config.schedule)
            for name in ("n_samples", "data_seed", "init_seed", "step_every", "epochs"):
                self.fields[name].edit.setText(str(getattr(config, name)))
            for name in ("noise", "test_fraction", "learning_rate", "momentum", "gamma", "step_factor", "l2"):
                self.fields[name].edit.setText(format_number(getattr(config, name)))
            self.fields["hidden"].edit.setText(",".join(map(str, config.shape[1:-1])))
            full = config.batch_size >= config.n_samples
            self.full_batch.setChecked(full)
            self.fields["batch_size"].edit.setText(str(FULL_BATCH if full else config.batch_size))
            self._sync_lr_slider()
            self._show_schedule_fields()
        finally:
            self._loading = False
        self._on_edit()

    def config(self) -> TrainConfig | None:
        """The TrainConfig of the fields, or None while any is invalid (see ``errors``)."""
        return self._config

    def errors(self) -> dict[str, str]:
        """Field name -> reason its value is refused."""
        return dict(self._errors)

    def label_of(self, name: str) -> str:
        """The label a field shows in the panel, e.g. 'learning rate α'."""
        return self.fields[name].label if name in self.fields else name

    def load_preset(self, name: str) -> None:
        self.preset.setCurrentIndex(self.preset.findData(name))
        self.set_config(TrainConfig(**self._presets[name]))

    def _values(self) -> tuple[dict, dict[str, str]]:
        values = {"dataset": self.dataset.currentText(), "activation": self.activation.currentText(),
                  "schedule": self.schedule.currentText(), "engine": self._engine}
        errors = {}
        for name, field in self.fields.items():
            if name == "batch_size" and self.full_batch.isChecked():
                values[name] = FULL_BATCH
                continue
            try:
                value = field.parse(field.edit.text())
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            values["shape" if name == "hidden" else name] = value
        return values, errors

    def _validate(self) -> None:
        values, errors = self._values()
        # Each value on its own, against the last valid config (core's ranges and messages).
        base = self._config or TrainConfig()
        for name, value in values.items():
            try:
                base.replace(**{name: value})
            except ValueError as exc:
                errors["hidden" if name == "shape" else name] = _reason(str(exc))
        config = None
        if not errors:
            try:
                config = TrainConfig(**values)
            except ValueError as exc:  # a rule between fields, e.g. 'hard' needs a multiple of 4 samples
                name = str(exc).split("=", 1)[0]
                errors["hidden" if name == "shape" else name] = _reason(str(exc))
        self._errors = errors
        self._config = config
        for name, field in self.fields.items():
            message = errors.get(name, "")
            field.set_error(message)
            field.form.setRowVisible(field.error, bool(message))
        self._show_schedule_fields()
        # The preset box names the preset whose settings these are, if any.
        matching = [name for name, fields in self._presets.items() if config == TrainConfig(**fields)]
        current = self.preset.currentData()
        if current not in matching:
            self.preset.setCurrentIndex(self.preset.findData(matching[0]) if matching else 0)

    # ---- reactions ------------------------------------------------------------------------

    def _on_edit(self, *_) -> None:
        if self._loading:
            return
        self._validate()
        self.changed.emit()

    def _on_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.load_preset(name)

    def _change_layers(self, delta: int) -> None:
        edit = self.fields["hidden"].edit
        try:
            hidden = list(_parse_hidden(edit.text())[1:-1])
        except ValueError:
            return  # the field shows why; the buttons wait for a valid list
        if delta > 0:
            hidden.append(hidden[-1] if hidden else 4)
        elif hidden:
            hidden.pop()
        edit.setText(",".join(map(str, hidden)))

    def _new_seed(self, name: str) -> None:
        self.fields[name].edit.setText(str(random.randint(0, MAX_SEED)))

    def _on_full_batch(self, on: bool) -> None:
        edit = self.fields["batch_size"].edit
        edit.setEnabled(not on)
        if not self._loading:
            if not on and _safe_int(edit.text()) >= FULL_BATCH:
                edit.setText("32")
            self._on_edit()

    def _on_lr_slider(self, position: int) -> None:
        if self._loading:
            return
        value = 10 ** (LOG_LR_MIN + position / LOG_LR_STEPS)
        self.fields["learning_rate"].edit.setText(f"{value:.3g}")

    def _sync_lr_slider(self, *_) -> None:
        try:
            value = float(self.fields["learning_rate"].edit.text())
        except ValueError:
            return
        if not (math.isfinite(value) and value > 0):
            return
        position = (min(max(math.log10(value), LOG_LR_MIN), LOG_LR_MAX) - LOG_LR_MIN) * LOG_LR_STEPS
        self.lr_slider.blockSignals(True)
        self.lr_slider.setValue(int(round(position)))
        self.lr_slider.blockSignals(False)

    def _show_schedule_fields(self, *_) -> None:
        form = self._forms["Training"]
        schedule = self.schedule.currentText()
        for name, used in (("gamma", schedule == "exponential"), ("step_every", schedule == "step"),
                           ("step_factor", schedule == "step")):
            field = self.fields[name]
            error = bool(self._errors.get(name))
            form.setRowVisible(field.row, used or error)  # an unused field still shows when it blocks Start
            form.setRowVisible(field.error, error)


def _safe_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
