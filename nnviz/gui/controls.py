"""The parameter panel: Data, Network and Training fields, each validated where it is typed.

Signals of ``ParameterPanel``:

- ``changed()``: any value changed (a key typed, a choice, a preset, ``set_config``), at once:
  for showing whether the values are valid (``config()``, ``errors()``).
- ``committed()``: the values are settled, act on them. At once for choices, buttons, presets,
  ``set_config`` and the training fields; for a field typed in the Data or Network group (whose
  change rebuilds the data or restarts every run) ``COMMIT_DELAY_MS`` after the last keystroke,
  or at once on Enter or when the field loses focus. ``flush()`` sends a waiting one at once.
- ``preset_chosen(str name)``: the user picked a preset (after its settings were shown and committed).

The layout of the fields, the Training group (and which of its rows show), the learning-rate slider and the
checking rules are in ``panel_forms``.
"""

from __future__ import annotations

import random

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from nnviz.core.datasets import CUSTOM, DATASETS
from nnviz.core.network import ACTIVATIONS, INITS
from nnviz.core.text import FULL_BATCH
from nnviz.core.training import MAX_SEED, TrainConfig, load_presets
from nnviz.gui.data_controls import NEW_DATA, DataRows, FeaturePicker, keep_order_box
from nnviz.gui.fields import (  # noqa: F401  (ALLOWED: what each field accepts, re-exported)
    ALLOWED,
    NOISE_UNUSED,
    TOOLTIPS,
    TextField,
    format_number,
    parse_batch,
    parse_float,
    parse_hidden,
    parse_int,
    refusal_reason,
    safe_float,
    safe_int,
)
from nnviz.gui.panel_forms import (  # noqa: F401  (LIVE_NOTE, RESET_NOTE and the LOG_LR_ bounds, re-exported)
    LIVE_NOTE,
    LOG_LR_MAX,
    LOG_LR_MIN,
    LOG_LR_STEPS,
    RESET_NOTE,
    FieldForms,
    TrainingGroup,
    checked_config,
    matching_presets,
)
from nnviz.gui.seed_control import SeedControl

COMMIT_DELAY_MS = 400  # a typed Data or Network value is committed this long after the last keystroke
RESTART_FIELDS = ("n_samples", "noise", "test_fraction", "data_seed", "hidden", "init_seed")  # typing is debounced
NOTEBOOK_GAMMA = 0.015  # the notebook's decay: γ given when the exponential schedule is chosen with γ = 0
DEFAULT_BATCH = "32"  # the batch size shown when "full batch" is unticked and no other size was typed


class ParameterPanel(DataRows, QWidget):
    """Grouped fields that build a TrainConfig; ``config()`` is None while any field is invalid.

    Signals: ``changed()`` at once on any change, ``committed()`` when the values are settled
    (typing in a Data or Network field is debounced), ``preset_chosen(str)`` when the user picks
    a preset; see the module's docstring.
    """

    changed = Signal()  # any value changed, at once (validity display)
    committed = Signal()  # the values are settled: act on them (typed data/network fields debounced)
    preset_chosen = Signal(str)  # the user picked this preset: its training settings are shown
    find_learning_rate_requested = Signal()  # "Find α…": the window runs the learning-rate finder

    def __init__(self, parent=None):
        super().__init__(parent)
        self._presets = load_presets()
        self._loading = False
        self._last_batch = DEFAULT_BATCH  # the batch size typed before "full batch" was ticked
        self._commit_timer = QTimer(self)
        self._commit_timer.setSingleShot(True)
        self._commit_timer.setInterval(COMMIT_DELAY_MS)
        self._commit_timer.timeout.connect(self._commit)
        self._config: TrainConfig | None = TrainConfig()
        self._valid = self._config  # the last valid config: each field is checked against it
        self._engine = TrainConfig().engine  # not a field of the panel: kept from the config last set
        self._points = None  # the user's points (drawn or loaded) the "custom" data set offers, from the last config
        self._errors: dict[str, str] = {}
        forms = FieldForms(self._on_text, self.flush, RESTART_FIELDS)
        self.fields: dict[str, TextField] = forms.fields
        self._forms = forms.forms  # group title -> its form

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        # ---- Data
        data = forms.group(layout, "Data")
        self.dataset = QComboBox()
        self.dataset.addItems(list(DATASETS))
        forms.add_widget(data, "data set", "dataset", self.dataset)
        self.keep_order = keep_order_box()
        self.keep_order.toggled.connect(self._on_choice)
        data.addRow("", self.keep_order)
        forms.add_text(data, "samples", "n_samples", parse_int)
        forms.add_text(data, "noise", "noise", parse_float)
        forms.add_text(data, "test fraction", "test_fraction", parse_float)
        self.new_data = QPushButton("new data")
        self.new_data.setToolTip(NEW_DATA)
        self.new_data.clicked.connect(lambda: self._new_seed("data_seed"))
        forms.add_text(data, "data seed", "data_seed", parse_int, extra=self.new_data)

        # ---- Network
        network = forms.group(layout, "Network")
        self.features = FeaturePicker()
        self.features.changed.connect(self._on_choice)
        network.addRow("inputs", self.features)
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
        forms.add_text(network, "hidden layers", "hidden", parse_hidden, extra=layer_buttons)
        self.activation = QComboBox()
        self.activation.addItems(list(ACTIVATIONS))
        forms.add_widget(network, "activation", "activation", self.activation)
        self.init = QComboBox()
        self.init.addItems(list(INITS))
        forms.add_widget(network, "init", "init", self.init)  # named as the warnings name it
        self.new_weights = QPushButton("new weights")
        self.new_weights.setToolTip("Draw other initial weights: a new random init seed.")
        self.new_weights.clicked.connect(lambda: self._new_seed("init_seed"))
        forms.add_text(network, "init seed", "init_seed", parse_int, extra=self.new_weights)

        # ---- Seeds: every run repeated over seeds (not a TrainConfig field: the window wires it to the controller)
        self.seeds = SeedControl()
        forms.group(layout, "Seeds").addRow("seeds", self.seeds)

        # ---- Training
        self._training = training = TrainingGroup(forms, layout, self._presets)
        self.preset, self.lr_slider, self.full_batch = training.preset, training.lr_slider, training.full_batch
        self.find_lr, self.optimizer = training.find_lr, training.optimizer
        self.update_order, self.schedule = training.update_order, training.schedule
        self.preset.activated.connect(self._on_preset)
        self.lr_slider.valueChanged.connect(self._on_lr_slider)
        self.fields["learning_rate"].edit.textChanged.connect(self._sync_lr_slider)
        self.full_batch.toggled.connect(self._on_full_batch)
        self.find_lr.clicked.connect(self.find_learning_rate_requested)
        self.schedule.currentTextChanged.connect(self._on_schedule)
        layout.addStretch(1)
        keys = QLabel("<b>Space</b> start / pause &nbsp; <b>S</b> or <b>→</b> one epoch &nbsp; <b>R</b> reset<br>"
                      "Hover a field for the formula it controls.")
        keys.setObjectName("keys")
        keys.setWordWrap(True)
        keys.setStyleSheet("color: #6b6b6b; font-size: 11px;")
        layout.addWidget(keys)

        for combo in (self.dataset, self.activation, self.init, self.optimizer, self.update_order):
            combo.currentTextChanged.connect(self._on_choice)
        self.set_config(TrainConfig())

    # ---- values ---------------------------------------------------------------------------

    def set_config(self, config: TrainConfig) -> None:
        """Show every value of ``config`` (emits ``changed`` and ``committed`` once each)."""
        self._loading = True
        self._engine = config.engine
        try:
            self._points = config.points or self._points  # a generated set keeps the points offered as custom
            self._offer_custom()
            self.dataset.setCurrentText(config.dataset)
            self.keep_order.setChecked(config.keep_order)
            self.features.set_features(config.features)
            self.activation.setCurrentText(config.activation)
            self.init.setCurrentText(config.init)
            for name in ("n_samples", "data_seed", "init_seed"):
                self.fields[name].edit.setText(str(getattr(config, name)))
            for name in ("noise", "test_fraction"):
                self.fields[name].edit.setText(format_number(getattr(config, name)))
            self.fields["hidden"].edit.setText(",".join(map(str, config.shape[1:-1])))
            self._show_training(config, config.n_samples)
            self._show_noise()
        finally:
            self._loading = False
        self._settled()

    def _show_training(self, config: TrainConfig, n_samples: int) -> None:
        """The training fields of ``config`` (a batch of at least ``n_samples`` shows as full)."""
        self.schedule.setCurrentText(config.schedule)
        self.optimizer.setCurrentText(config.optimizer)
        self.update_order.setCurrentText(config.update_order)
        for name in ("step_every", "epochs"):
            self.fields[name].edit.setText(str(getattr(config, name)))
        for name in ("learning_rate", "momentum", "rho", "beta1", "beta2", "epsilon", "gamma", "step_factor", "l2"):
            self.fields[name].edit.setText(format_number(getattr(config, name)))
        full = config.batch_size >= min(n_samples, FULL_BATCH)
        self._last_batch = DEFAULT_BATCH if full else str(config.batch_size)
        self.full_batch.setChecked(full)
        self.fields["batch_size"].edit.setText("full" if full else str(config.batch_size))
        self.fields["batch_size"].edit.setEnabled(not full)
        self._sync_lr_slider()
        self._training.show_used_rows(self.fields, self._errors)

    def config(self) -> TrainConfig | None:
        """The TrainConfig of the fields, or None while any is invalid (see ``errors``)."""
        return self._config

    def errors(self) -> dict[str, str]:
        """Field name -> reason its value is refused."""
        return dict(self._errors)

    def label_of(self, name: str) -> str:
        """The label a field shows in the panel, e.g. 'learning rate α'."""
        return self.fields[name].label if name in self.fields else name

    def error_message(self, name: str | None = None) -> str:
        """One line naming field ``name`` (default: the first invalid one), why its value is refused and
        what it accepts, e.g. "samples: must be an integer from 4 to 1,000,000, not '3'"; "" if valid."""
        name = next(iter(self._errors), None) if name is None else name
        return f"{self.label_of(name)}: {self._errors[name]}" if name in self._errors else ""

    def load_preset(self, name: str) -> None:
        """Show the TRAINING settings of preset ``name`` (data and network fields stay as they are);
        emits ``changed`` and ``committed``. Raises KeyError for an unknown preset."""
        preset = TrainConfig(**self._presets[name])
        try:
            n_samples = parse_int(self.fields["n_samples"].edit.text())
        except ValueError:
            n_samples = FULL_BATCH
        self._loading = True
        try:
            self._show_training(preset, n_samples)
        finally:
            self._loading = False
        self.preset.setCurrentIndex(self.preset.findData(name))
        self._settled()

    def set_training_title(self, title: str) -> None:
        """The Training group's title, e.g. which run it edits."""
        box = self._forms["Training"].parentWidget()
        if box.title() != title:
            box.setTitle(title)

    def training_title(self) -> str:
        return self._forms["Training"].parentWidget().title()

    def is_commit_pending(self) -> bool:
        """True while a typed Data or Network value waits to be committed."""
        return self._commit_timer.isActive()

    def flush(self) -> None:
        """Emit ``committed`` now if a typed value waits for it (e.g. before Start)."""
        if self._commit_timer.isActive():
            self._commit()

    def _values(self) -> tuple[dict, dict[str, str]]:
        dataset = self.dataset.currentText()
        values = {"dataset": dataset, "points": self._points if dataset == CUSTOM else None,
                  "keep_order": self.keep_order.isChecked(), "features": self.features.features(),
                  "activation": self.activation.currentText(),
                  "init": self.init.currentText(), "schedule": self.schedule.currentText(),
                  "optimizer": self.optimizer.currentText(), "update_order": self.update_order.currentText(),
                  "engine": self._engine}
        errors = {}
        for name, field in self.fields.items():
            if name == "batch_size" and self.full_batch.isChecked():
                values[name] = FULL_BATCH
                continue
            try:
                value = field.parse(field.edit.text())
            except ValueError:
                errors[name] = refusal_reason(name, field.edit.text())
                continue
            values["shape" if name == "hidden" else name] = value
        if "shape" in values:  # the inputs are the features
            values["shape"] = (len(values["features"]), *values["shape"][1:])
        return values, errors

    def _validate(self) -> None:
        values, errors = self._values()
        texts = {name: field.edit.text() for name, field in self.fields.items()}
        config, errors = checked_config(values, errors, self._valid, texts)
        self._errors = errors
        self._config = config
        self._valid = config or self._valid
        for name, field in self.fields.items():
            message = errors.get(name, "")
            field.set_error(message)
            field.form.setRowVisible(field.error, bool(message))
        self._training.show_used_rows(self.fields, self._errors)
        # The preset box names the preset whose training settings these are (whatever the epoch target), if any.
        matching = matching_presets(config, self._presets)
        current = self.preset.currentData()
        if current not in matching:
            self.preset.setCurrentIndex(self.preset.findData(matching[0]) if matching else 0)

    # ---- reactions ------------------------------------------------------------------------

    def _settled(self) -> None:
        """Validate, then emit ``changed`` and ``committed`` (a change to act on at once)."""
        self._validate()
        self.changed.emit()
        self._commit()

    def _commit(self) -> None:
        self._commit_timer.stop()
        self.committed.emit()

    def _on_text(self, field: TextField) -> None:
        if self._loading:
            return
        if field.name in RESTART_FIELDS and field.edit.typing:
            self._validate()
            self.changed.emit()
            self._commit_timer.start()  # restarted by every keystroke
        else:
            self._settled()

    def _on_choice(self, *_) -> None:
        self._show_noise()
        if self._loading:
            return
        if self.optimizer.currentText() != "sgd" and self.update_order.currentText() == "notebook":
            self._loading = True  # the notebook's order is sgd's only: another optimiser takes true backprop
            try:
                self.update_order.setCurrentText("true")
            finally:
                self._loading = False
        self._settled()

    def _on_schedule(self, schedule: str) -> None:
        if self._loading:
            return
        gamma = self.fields["gamma"].edit
        if schedule == "exponential" and safe_float(gamma.text()) == 0:
            self._loading = True  # one change, not two
            try:
                gamma.setText(format_number(NOTEBOOK_GAMMA))
            finally:
                self._loading = False
        self._settled()

    def _on_preset(self, index: int) -> None:
        name = self.preset.itemData(index)
        if name:
            self.load_preset(name)
            self.preset_chosen.emit(name)

    def _change_layers(self, delta: int) -> None:
        edit = self.fields["hidden"].edit
        try:
            hidden = list(parse_hidden(edit.text())[1:-1])
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
        if self._loading:
            return
        self._loading = True  # one change, not two
        try:
            if on:
                if 0 < safe_int(edit.text()) < FULL_BATCH:
                    self._last_batch = edit.text().strip()
                edit.setText("full")
            elif safe_int(edit.text()) >= FULL_BATCH or edit.text().strip().lower() == "full":
                edit.setText(self._last_batch)
        finally:
            self._loading = False
        self._settled()

    def _on_lr_slider(self, position: int) -> None:
        if self._loading:
            return
        self.fields["learning_rate"].edit.setText(self.lr_slider.text_at(position))

    def _sync_lr_slider(self, *_) -> None:
        self.lr_slider.follow(self.fields["learning_rate"].edit.text())
