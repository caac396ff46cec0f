"""The parameter panel's parts: how its fields are laid out, the Training group (its widgets and which of its
optional rows show), the learning-rate slider, and the rules a
set of typed values is checked by (each value against the last valid config, then the rules between
fields). ``ParameterPanel`` in ``nnviz.gui.controls`` puts them together and reacts to the user.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.comparison import TRAINING_FIELDS
from nnviz.core.optimizers import OPTIMIZERS, SCHEDULES, UPDATE_ORDERS
from nnviz.core.training import LIVE_FIELDS, TrainConfig
from nnviz.gui.fields import TOOLTIPS, TextField, is_range_error, parse_batch, parse_float, parse_int, refusal_reason

LOG_LR_MIN, LOG_LR_MAX, LOG_LR_STEPS = -4.0, 1.0, 100  # slider: α from 1e-4 to 10, 100 positions a decade
LIVE_NOTE = "Applies live, from the next epoch."
RESET_NOTE = "Changing it starts the run again from epoch 0."


def _note(name: str) -> str:
    """What changing a field does to a run, for its tooltip."""
    if name in ("preset",):
        return ""
    return LIVE_NOTE if name in LIVE_FIELDS else RESET_NOTE


class FieldForms:
    """The panel's groups (a titled form each) and its text fields by name, each with its error row.

    ``on_text(field)`` is called as a field's text changes; ``on_finished()`` when Enter is pressed in, or
    the focus leaves, a field of ``debounced`` (one whose typed values are committed after a delay).
    """

    def __init__(self, on_text: Callable[[TextField], None], on_finished: Callable[[], None],
                 debounced: tuple[str, ...]):
        self.fields: dict[str, TextField] = {}
        self.forms: dict[str, QFormLayout] = {}  # group title -> its form
        self._on_text = on_text
        self._on_finished = on_finished
        self._debounced = debounced

    def group(self, layout: QVBoxLayout, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setContentsMargins(8, 6, 8, 6)
        form.setVerticalSpacing(4)
        layout.addWidget(box)
        self.forms[title] = form
        return form

    def add_widget(self, form: QFormLayout, label: str, name: str, widget: QWidget) -> None:
        widget.setObjectName(name)
        widget.setToolTip(f"{TOOLTIPS[name]}\n{_note(name)}")
        form.addRow(label, widget)

    def add_text(self, form, label, name, parse, width=None, extra: QWidget | None = None,
                 leading: QWidget | None = None) -> TextField:
        """A text field ``name`` read by ``parse``, with ``leading`` before it and ``extra`` after it."""
        field = TextField(name, parse, width)
        field.label = label
        tip = f"{TOOLTIPS[name]}\n{_note('shape' if name == 'hidden' else name)}"
        field.edit.setToolTip(tip)
        field.tip = tip
        field.edit.textChanged.connect(lambda _text: self._on_text(field))
        if name in self._debounced:  # Enter or leaving the field commits a typed value at once
            field.edit.editingFinished.connect(self._on_finished)
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


class LearningRateSlider(QSlider):
    """α on a log scale, from 10^LOG_LR_MIN to 10^LOG_LR_MAX, LOG_LR_STEPS positions a decade."""

    def __init__(self):
        super().__init__(Qt.Orientation.Horizontal)
        self.setObjectName("learning_rate_slider")
        self.setRange(0, int(round((LOG_LR_MAX - LOG_LR_MIN) * LOG_LR_STEPS)))
        self.setToolTip(TOOLTIPS["learning_rate"])

    @staticmethod
    def text_at(position: int) -> str:
        """The learning rate at a slider position, as the field shows it."""
        return f"{10 ** (LOG_LR_MIN + position / LOG_LR_STEPS):.3g}"

    def follow(self, text: str) -> None:
        """Move to the learning rate typed (clamped to the range; nothing for an invalid one), silently."""
        try:
            value = float(text)
        except ValueError:
            return
        if not (math.isfinite(value) and value > 0):
            return
        position = (min(max(math.log10(value), LOG_LR_MIN), LOG_LR_MAX) - LOG_LR_MIN) * LOG_LR_STEPS
        self.blockSignals(True)
        self.setValue(int(round(position)))
        self.blockSignals(False)


OPTIMIZER_ROWS = (("momentum β", "momentum"), ("ρ", "rho"), ("β₁", "beta1"), ("β₂", "beta2"), ("ε", "epsilon"))
SCHEDULE_ROWS = (("decay γ", "gamma", parse_float), ("step every k", "step_every", parse_int),
                 ("step factor f", "step_factor", parse_float), ("L2 λ", "l2", parse_float),
                 ("epochs", "epochs", parse_int))
MOMENTUM_OPTIMIZERS = ("sgd", "heavy-ball", "nesterov")  # the optimisers that read the momentum field


class TrainingGroup:
    """The Training group: preset, α (field and slider), Find α…, batch size (and full batch), the optimiser
    with its fields and update order, the α schedule with its fields, L2 λ and epochs. The panel connects them."""

    def __init__(self, forms: FieldForms, layout: QVBoxLayout, presets: Mapping[str, dict]):
        self.form = form = forms.group(layout, "Training")
        self.preset = QComboBox()
        self.preset.addItem("—", None)
        for name in presets:
            self.preset.addItem(name, name)
        self.preset.setToolTip(TOOLTIPS["preset"])
        form.addRow("preset", self.preset)

        self.lr_slider = LearningRateSlider()
        forms.add_text(form, "learning rate α", "learning_rate", parse_float, width=70, leading=self.lr_slider)
        self.full_batch = QCheckBox("full batch")
        self.full_batch.setToolTip("Every training sample in one update: batch gradient descent.")
        self.find_lr = QPushButton("Find α…")
        self.find_lr.setToolTip("Try α from 1e-5 to 10 in one pass from the shared start (no run is changed), "
                                "see where the cost falls fastest and where training diverges, apply a suggestion")
        form.addRow("", self.find_lr)
        forms.add_text(form, "batch size B", "batch_size", parse_batch, width=80, extra=self.full_batch)
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        forms.add_widget(form, "optimizer", "optimizer", self.optimizer)
        for label, name in OPTIMIZER_ROWS:
            forms.add_text(form, label, name, parse_float, width=80)
        self.update_order = QComboBox()
        self.update_order.addItems(list(UPDATE_ORDERS))
        forms.add_widget(form, "update order", "update_order", self.update_order)
        self.schedule = QComboBox()
        self.schedule.addItems(list(SCHEDULES))
        forms.add_widget(form, "α schedule", "schedule", self.schedule)
        for label, name, parse in SCHEDULE_ROWS:
            forms.add_text(form, label, name, parse, width=80)

    def show_used_rows(self, fields: Mapping[str, TextField], errors: Mapping[str, str]) -> None:
        """Only the rows the chosen schedule and optimiser use (and any field whose error blocks Start);
        the momentum field reads β for sgd, μ for the others; the update order shows for sgd (or if not 'true')."""
        form = self.form
        schedule = self.schedule.currentText()
        optimizer = self.optimizer.currentText()
        momentum = fields["momentum"]
        label = "momentum β" if optimizer == "sgd" else "momentum μ"
        if form.labelForField(momentum.row).text() != label:
            form.labelForField(momentum.row).setText(label)
            momentum.label = label
        form.setRowVisible(self.update_order, optimizer == "sgd" or self.update_order.currentText() != "true")
        for name, used in (("gamma", schedule == "exponential"), ("step_every", schedule == "step"),
                           ("step_factor", schedule == "step"), ("momentum", optimizer in MOMENTUM_OPTIMIZERS),
                           ("rho", optimizer == "rmsprop"), ("beta1", optimizer == "adam"),
                           ("beta2", optimizer == "adam"), ("epsilon", optimizer in ("rmsprop", "adam"))):
            field = fields[name]
            error = bool(errors.get(name))
            form.setRowVisible(field.row, used or error)  # an unused field still shows when it blocks Start
            form.setRowVisible(field.error, error)


def checked_config(values: dict, errors: dict[str, str], base: TrainConfig,
                   texts: Mapping[str, str]) -> tuple[TrainConfig | None, dict[str, str]]:
    """The TrainConfig of ``values`` (config field -> value; the hidden layers as ``shape``), or None, and
    the reason each refused field (panel field name -> reason; ``errors`` holds those that did not parse).

    Each value is checked on its own against ``base``, the last valid config (core's ranges), then all
    of them together (the rules between fields). ``texts`` are the fields' texts, quoted in the reasons.
    """
    errors = dict(errors)
    for name, value in values.items():
        field = "hidden" if name == "shape" else name
        if field in errors or field not in texts:  # the choices of a combo box are all valid
            continue
        together = {"features": values["features"]} if name == "shape" and "features" in values else {}
        try:
            base.replace(**{name: value, **together})  # the shape's inputs follow the features
        except ValueError as exc:
            if is_range_error(str(exc)):  # a rule between fields is checked below, on all the values
                errors[field] = refusal_reason(field, texts[field], str(exc))
    config = None
    if not errors:
        try:
            config = TrainConfig(**values)
        except ValueError as exc:  # a rule between fields, e.g. 'hard' needs a multiple of 4 samples
            name = str(exc).split("=", 1)[0]
            field = "hidden" if name == "shape" else name
            errors[field] = refusal_reason(field, texts[field], str(exc)) if field in texts else str(exc)
    return config, errors


def matching_presets(config: TrainConfig | None, presets: Mapping[str, dict]) -> list[str]:
    """The presets whose training settings ``config`` has (whatever the epoch target)."""
    return [name for name, fields in presets.items() if config is not None
            and all(getattr(config, n) == getattr(TrainConfig(**fields), n) for n in TRAINING_FIELDS if n != "epochs")]
