"""The sweep window's form: the axes, seeds, target, metric and scheduler, read into a SweepDefinition.

A field that cannot be read is marked and the one-line message under the form names it and what it allows;
the other fields keep what was typed.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGridLayout, QLabel, QVBoxLayout, QWidget

from nnviz.core.sweep import MAX_COUNT, MAX_SEEDS, SEED_KINDS, SWEEPABLE, Axis
from nnviz.core.sweep_study import METRICS, SweepDefinition
from nnviz.core.text import quoted, shorten
from nnviz.core.training import TrainConfig
from nnviz.gui.fields import ERROR_STYLE, TOOLTIPS, FieldEdit, format_number

NONE = "(none)"  # the y axis' first choice: one axis only
SCHEDULER_FORM = re.compile(r"^(tcp|tls|ws|wss|ucx)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}/?$")
SEED_KIND_TIPS = {"init": "initial weights", "data": "the data", "both": "initial weights and data"}


def setting_tip(name: str) -> str:
    """The panel's tooltip of a setting, without what only the panel has (its slider)."""
    lines = [line for line in TOOLTIPS.get(name, name).split("\n") if "drag" not in line.lower()]
    return "\n".join(lines).strip() or name


def default_range(name: str, base: TrainConfig) -> tuple[float, float, str]:
    """A first range for a setting, around the base's value where that makes sense: (low, high, scale)."""
    value = getattr(base, name)
    ranges = {"learning_rate": (value / 10, value * 10, "log"), "momentum": (0.0, 0.99, "lin"),
              "rho": (0.5, 0.999, "lin"), "beta1": (0.5, 0.99, "lin"), "beta2": (0.9, 0.9999, "lin"),
              "epsilon": (1e-10, 1e-4, "log"), "batch_size": (1, 256, "log"), "gamma": (0.0, 0.05, "lin"),
              "l2": (1e-5, 1e-1, "log"), "epochs": (10, max(20, 2 * base.epochs), "lin")}
    return ranges[name]


class AxisRow:
    """One axis: the setting, low, high, lin/log and the count, on one row of a grid."""

    def __init__(self, label: str, optional: bool, grid: QGridLayout, row: int):
        self.label = label
        self.setting = QComboBox()
        self.setting.setObjectName(f"{label}_setting")
        if optional:
            self.setting.addItem(NONE)
        for name, (allowed, _) in SWEEPABLE.items():
            self.setting.addItem(name)
            tip = f"{setting_tip(name)}\nSwept range allowed: {allowed}"
            self.setting.setItemData(self.setting.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.low, self.high, self.count = FieldEdit(), FieldEdit(), FieldEdit()
        for edit, part in ((self.low, "low"), (self.high, "high"), (self.count, "count")):
            edit.setObjectName(f"{label}_{part}")
            edit.setMaximumWidth(90)
        self.count.setToolTip(f"Values on the axis, 1 to {MAX_COUNT} (batch_size and epochs: rounded, "
                              "duplicates dropped)")
        self.scale = QComboBox()
        self.scale.setObjectName(f"{label}_scale")
        self.scale.addItems(["lin", "log"])
        self.scale.setToolTip("lin: evenly spaced values; log: values in ratio (low must be > 0)")
        grid.addWidget(QLabel(f"{label} axis"), row, 0)
        for column, widget in enumerate((self.setting, self.low, self.high, self.scale, self.count), start=1):
            grid.addWidget(widget, row, column)

    def name(self) -> str | None:
        text = self.setting.currentText()
        return None if text == NONE else text

    def set_tips(self) -> None:
        name = self.name()
        allowed = SWEEPABLE[name][0] if name else ""
        self.setting.setToolTip(f"{setting_tip(name)}\nSwept range allowed: {allowed}" if name
                                else "Sweep a second setting (optional)")
        for edit, part in ((self.low, "first"), (self.high, "last")):
            edit.setToolTip(f"The {part} value of {name}; allowed: {allowed}" if name else "")
            edit.setEnabled(name is not None)
        self.scale.setEnabled(name is not None)
        self.count.setEnabled(name is not None)

    def fill(self, name: str | None, low=None, high=None, scale="lin", count=10) -> None:
        self.setting.setCurrentText(name or NONE)
        if name is not None:
            self.low.setText(format_number(low) if isinstance(low, float) else str(low))
            self.high.setText(format_number(high) if isinstance(high, float) else str(high))
            self.scale.setCurrentText(scale)
            self.count.setText(str(count))
        self.set_tips()


class SweepForm(QWidget):
    """The sweep's settings; ``definition()`` reads them (None, with the field marked, when one is wrong)."""

    metric_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.base: TrainConfig | None = None
        self.run_name = ""
        grid = QGridLayout()
        for column, text in enumerate(("", "setting", "low", "high", "scale", "count")):
            grid.addWidget(QLabel(f"<i>{text}</i>"), 0, column)
        self.x = AxisRow("x", False, grid, 1)
        self.y = AxisRow("y", True, grid, 2)
        for row in (self.x, self.y):
            row.setting.currentTextChanged.connect(lambda _text, r=row: self._setting_chosen(r))
        self.seeds, self.target, self.scheduler = FieldEdit(), FieldEdit(), FieldEdit()
        self.seeds.setObjectName("seeds")
        self.seeds.setText("1")
        self.seeds.setToolTip(f"Repeat every grid point over K seeds, 1 to {MAX_SEEDS}: seed 1 is the run's own "
                              "seeds, seed i adds i − 1 to them; the map shows the median over them")
        self.seed_kind = QComboBox()
        self.seed_kind.setObjectName("seed_kind")
        for kind in SEED_KINDS:
            self.seed_kind.addItem(kind)
            self.seed_kind.setItemData(self.seed_kind.count() - 1, f"The seeds vary {SEED_KIND_TIPS[kind]}",
                                       Qt.ItemDataRole.ToolTipRole)
        self.seed_kind.setToolTip("Which seeds vary from one seed to the next: init (the initial weights), data, "
                                  "or both")
        self.target.setObjectName("target")
        self.target.setPlaceholderText("none")
        self.target.setToolTip("A cost to reach (> 0): epochs and updates to target are counted to it")
        self.metric = QComboBox()
        self.metric.setObjectName("metric")
        for name, (words, _, _) in METRICS.items():
            self.metric.addItem(words, name)
        self.metric.setToolTip("What the map shows (the median over the seeds): final or best training cost, "
                               "epochs or parameter updates to reach the target cost, final accuracy")
        self.metric.currentIndexChanged.connect(lambda *_: self.metric_changed.emit(self.metric.currentData()))
        self.scheduler.setObjectName("scheduler")
        self.scheduler.setPlaceholderText("this machine")
        self.scheduler.setToolTip("A Dask scheduler's address to train on a cluster, e.g. tcp://host:8786; "
                                  "empty: the cores of this machine")
        form = QFormLayout()
        form.addRow("seeds", self.seeds)
        form.addRow("seed kind", self.seed_kind)
        form.addRow("target cost", self.target)
        form.addRow("metric", self.metric)
        form.addRow("scheduler", self.scheduler)
        self.message = QLabel("")
        self.message.setObjectName("sweep_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0281e;")
        self.message.setMinimumHeight(3 * self.message.fontMetrics().lineSpacing())
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addLayout(form)
        layout.addWidget(self.message)
        self.edits = [self.x.low, self.x.high, self.x.count, self.y.low, self.y.high, self.y.count, self.seeds,
                      self.target, self.scheduler, self.x.setting, self.y.setting]
        for edit in self.edits:  # a refusal goes as soon as the user changes something
            if isinstance(edit, FieldEdit):
                edit.textEdited.connect(self._edited)
            else:
                edit.activated.connect(self._edited)

    def _edited(self, *_) -> None:
        if self.message.text():
            self.clear_errors()

    # ---- filling -------------------------------------------------------------------------------------------

    def set_base(self, base: TrainConfig, run_name: str) -> None:
        """The run the sweep starts from; a first form (its α over a decade either side) when none is filled."""
        first = self.base is None
        self.base, self.run_name = base, run_name
        if first:
            self.x.fill("learning_rate", *default_range("learning_rate", base), 20)
            self.y.fill(None)

    def fill(self, definition: SweepDefinition) -> None:
        """Show a definition (an opened session's)."""
        self.base, self.run_name = definition.base, definition.run
        for row, k in ((self.x, 0), (self.y, 1)):
            if k < len(definition.axes):
                a = definition.axes[k]
                row.fill(a.name, a.low, a.high, a.scale, a.count)
            else:
                row.fill(None)
        self.seeds.setText(str(definition.seeds))
        self.seed_kind.setCurrentText(definition.seed_kind)
        self.target.setText("" if definition.target is None else format_number(definition.target))
        self.metric.setCurrentIndex(self.metric.findData(definition.metric))

    def _setting_chosen(self, row: AxisRow) -> None:
        name = row.name()
        if name is not None and self.base is not None:
            low, high, scale = default_range(name, self.base)
            row.fill(name, low, high, scale, row.count.text() or "10")
        row.set_tips()

    # ---- reading -------------------------------------------------------------------------------------------

    def refuse(self, widget, text: str) -> None:
        """Mark ``widget`` and say why in one line."""
        self.clear_errors()
        widget.setStyleSheet(ERROR_STYLE if isinstance(widget, FieldEdit) else "QComboBox { border: 1px solid "
                                                                                 "#d0342c; }")
        self.message.setText(shorten(text, 240))

    def clear_errors(self) -> None:
        for widget in self.edits:
            widget.setStyleSheet("")
        self.message.setText("")

    def _axis(self, row: AxisRow) -> Axis | None:
        name = row.name()
        allowed = SWEEPABLE[name][0]
        numbers = []
        for edit, part in ((row.low, "low"), (row.high, "high")):
            try:
                numbers.append(float(edit.text().strip()))
            except ValueError:
                self.refuse(edit, f"{row.label} {part}: must be a number ({name}: {allowed}), not "
                                  f"{quoted(edit.text().strip())}")
                return None
        try:
            count = int(row.count.text().strip())
        except ValueError:
            self.refuse(row.count, f"{row.label} count: must be an integer from 1 to {MAX_COUNT}, not "
                                   f"{quoted(row.count.text().strip())}")
            return None
        try:
            return Axis(name, numbers[0], numbers[1], row.scale.currentText(), count)
        except ValueError as exc:  # "axis 'momentum': high 1 is out of range; allowed: 0 ≤ momentum < 1"
            text = str(exc).split(": ", 1)[-1]
            part = next((p for p in ("low", "high", "count", "scale", "log") if text.startswith(p)), "low")
            widget = {"low": row.low, "high": row.high, "count": row.count, "scale": row.low, "log": row.low}[part]
            self.refuse(widget, f"{row.label} axis ({name}): {text}")
            return None

    def definition(self) -> SweepDefinition | None:
        """The sweep the form says, or None with the wrong field marked and named."""
        self.clear_errors()
        if self.base is None:
            self.message.setText("no run to sweep: select a run in the main window")
            return None
        axes = []
        for row in (self.x, self.y):
            if row.name() is None:
                continue
            if axes and row.name() == axes[0].name:
                self.refuse(row.setting, f"y axis: {row.name()} is already the x axis; choose another setting "
                                         "or (none)")
                return None
            axis = self._axis(row)
            if axis is None:
                return None
            axes.append(axis)
        try:
            seeds = int(self.seeds.text().strip())
            if not 1 <= seeds <= MAX_SEEDS:
                raise ValueError
        except ValueError:
            self.refuse(self.seeds, f"seeds: must be an integer from 1 to {MAX_SEEDS}, not "
                                    f"{quoted(self.seeds.text().strip())}")
            return None
        target = None
        if self.target.text().strip():
            try:
                target = float(self.target.text().strip())
                if not 0 < target < float("inf"):
                    raise ValueError
            except ValueError:
                self.refuse(self.target, "target cost: must be a finite number > 0, or empty for none, not "
                                         f"{quoted(self.target.text().strip())}")
                return None
        if self.scheduler_address() is None:
            self.refuse(self.scheduler, "scheduler: must be a Dask scheduler's address such as tcp://host:8786, "
                                        f"or empty for this machine, not {quoted(self.scheduler.text().strip())}")
            return None
        try:
            return SweepDefinition(self.base, tuple(axes), seeds, self.seed_kind.currentText(), target,
                                   self.run_name, self.metric.currentData())
        except ValueError as exc:
            self.refuse(self.x.low, f"x axis: {exc}")
            return None

    def scheduler_address(self) -> str | None:
        """The scheduler typed ("" for this machine), or None when it is no address."""
        text = self.scheduler.text().strip()
        return text if not text or SCHEDULER_FORM.match(text) else None
