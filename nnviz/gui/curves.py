"""Training curves of one or several runs: cost, accuracy and learning rate, stacked with a shared x axis.

The view draws the model's Histories (``set_history`` hands it a reference; it never copies one) and redraws
on ``refresh()``, once a frame, only what changed. A long curve is drawn decimated to the pixels shown:
``History.decimated`` gives the min and max of each pixel column's rows from its summary pyramid, so a
frame costs the same at 1,000,000 epochs as at 1,000. The view fits its own ranges (pyqtgraph's auto-range
is off): x from 0 to the target epoch (long runs, and the other x axes: to a round step past the newest
value, so the range changes a few times a decade, not every frame), y to the data drawn. A pan or zoom with
the mouse stops the following; a double-click, ``reset_view()``, or another x axis or cost scale resumes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nnviz.core.history import History
from nnviz.gui.boundary_view import BACKGROUND, FOREGROUND, save_png

# Per-epoch columns of data(), in the order of a stored row.
FIELDS = (
    "epoch",
    "cost",
    "accuracy",
    "test_cost",
    "test_accuracy",
    "learning_rate",
    "updates",
    "samples",
    "elapsed_s",
)
# x-axis kinds: name -> (column, axis label)
X_AXES = {
    "epoch": ("epoch", "epoch"),
    "updates": ("updates", "parameter updates"),
    "samples": ("samples", "samples seen"),
    "seconds": ("elapsed_s", "training time (s)"),
}
# Plots: name -> (train column, test column or None, y label, short y label for a short axis)
PLOTS = {
    "cost": ("cost", "test_cost", "cost", "cost"),
    "accuracy": ("accuracy", "test_accuracy", "accuracy", "acc."),
    "learning_rate": ("learning_rate", None, "learning rate", "α"),
}
LONG_RUN_EPOCHS = 5000  # targets above this: the epoch axis grows in 1-2-5 steps instead of showing the target
MARKER_COLOR = "#7a7a7a"
_ROUND_STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)  # x ranges other than the target: data fills ≥ 80 % of them
_LABEL_NUDGE = 5  # pyqtgraph draws a left axis label this many pixels left of the axis


def _step_at_least(value: float, mantissas=(1, 2, 5)) -> float:
    """The smallest m·10^k (m in ``mantissas``) at or above ``value`` > 0."""
    scale = 10.0 ** math.floor(math.log10(value))
    for _ in range(2):
        for mantissa in mantissas:
            if mantissa * scale >= value * (1 - 1e-12):
                return mantissa * scale
        scale *= 10
    return 10 * scale


class _LeftAxis(pg.AxisItem):
    """A left axis whose label never overlaps its tick text, one width for a group of stacked axes.

    pyqtgraph reserves 0.8 of the label's height next to the tick text, so a wide tick label runs into the
    axis label; this one reserves all of it. All axes of ``group`` take the widest one's width, so the
    stacked plots line up. A label longer than the axis is tall gives way to its short form.
    """

    def __init__(self, group: list, labels: tuple[str, str], sparse_log: bool = False):
        super().__init__("left")
        self._group = group
        self._labels = labels
        self._sparse_log = sparse_log
        self.needed_width = 0
        group.append(self)

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        if not self._sparse_log:
            return strings
        # Mantissas 1 and 3 only, so a short plot spanning decades stays legible.
        mantissas = np.round(10 ** (np.asarray(values, dtype=float) % 1.0), 6)
        return [text if m in (1.0, 3.0) else "" for text, m in zip(strings, mantissas, strict=True)]

    def resizeEvent(self, ev=None):
        if self.label is not None and self.labelText and getattr(self, "_labels", None):
            long, short = self._labels
            margin = 2 * self.label.document().documentMargin()
            fits = QFontMetricsF(self.label.font()).horizontalAdvance(long) + margin <= self.size().height()
            text = long if fits else short
            if text != self.labelText:
                self.labelText = text
                self.label.setHtml(self.labelString())
                self._updateWidth()
        super().resizeEvent(ev)

    def _updateWidth(self):
        if getattr(self, "_group", None) is None or not self.isVisible() or self.fixedWidth is not None:
            super()._updateWidth()
            return
        label = self.label.boundingRect().height() - _LABEL_NUDGE if self.label.isVisible() else 0
        text = self.textWidth + self.style["tickTextOffset"][0] if self.style["showValues"] else 0
        self.needed_width = math.ceil(max(0.0, label) + text + max(0, self.style["tickLength"])) + 1
        width = max(axis.needed_width for axis in self._group)
        for axis in self._group:
            if axis.minimumWidth() != width or axis.maximumWidth() != width:
                axis.setMinimumWidth(width)
                axis.setMaximumWidth(width)
                axis.picture = None


@dataclass
class _Run:
    name: str
    color: object  # QColor
    visible: bool = True
    history: History | None = None  # the model's (set_history), or the view's own (append)
    owned: bool = False  # history made by append/append_columns (the old API)
    curves: dict = field(default_factory=dict)  # (plot name, "train" | "test") -> PlotDataItem
    drawn: tuple | None = None  # (history, rows, view state) at the last draw
    shown: dict = field(default_factory=dict)  # (plot name, part) -> y values drawn (for fitting y)


class CurvesView(QWidget):
    """Three stacked plots sharing x: cost (optionally log-y), accuracy (train solid, test dashed),
    learning rate; one colour per run, a legend, a hover readout and an optional epoch marker."""

    run_visibility_changed = Signal(str, bool)  # run key, visible (when toggled from the legend)

    def __init__(self, parent=None, show_controls: bool = True):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._x_kind = "epoch"
        self._marker_epoch: int | None = None
        self._log_cost = False
        self._has_test: bool | None = None  # None: shown when some run's history has test columns
        self._epoch_target: int | None = None
        self._follow = True  # the view fits its ranges (until the user pans or zooms)
        self._x_set: tuple | None = None  # the x range last set while following
        self._y_set: dict[str, tuple | None] = {}
        self._fit_y = True  # something changed that the y ranges may need to follow
        self._hover: tuple[float, str] | None = None  # (x, plot) under the mouse, for the readout
        self._quiet = False  # visibility set by set_runs: no run_visibility_changed
        self._shown_once = False
        self._later = QTimer(self, singleShot=True, interval=0)  # one refresh after range or size changes
        self._later.timeout.connect(self.refresh)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        # Optional controls row: log-y and the x-axis choice (the methods work without them).
        self.log_checkbox = QCheckBox("log cost")
        self.log_checkbox.setToolTip("Logarithmic y axis for the cost")
        self.log_checkbox.toggled.connect(self.set_log_cost)
        self.x_axis_combo = QComboBox()
        for kind, (_, label) in X_AXES.items():
            self.x_axis_combo.addItem(label, kind)
        self.x_axis_combo.setToolTip("What the x axis counts: the honest comparison of strategies depends on it")
        self.x_axis_combo.currentIndexChanged.connect(lambda i: self.set_x_axis(self.x_axis_combo.itemData(i)))
        self.readout = QLabel(" ")  # hover readout; long texts are cut, never widen the view
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        controls = QHBoxLayout()
        controls.setContentsMargins(6, 2, 6, 0)
        x_label = QLabel("x axis:")
        controls.addWidget(self.log_checkbox)
        controls.addSpacing(12)
        controls.addWidget(x_label)
        controls.addWidget(self.x_axis_combo)
        controls.addWidget(self.readout, 1)
        layout.addLayout(controls)
        for widget in (self.log_checkbox, x_label, self.x_axis_combo):
            widget.setVisible(show_controls)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        self.graphics.setToolTip("Drag or scroll to zoom; double-click to follow the runs again")
        self.graphics.ci.setContentsMargins(4, 4, 8, 4)
        self.graphics.ci.setSpacing(2)
        layout.addWidget(self.graphics, 1)

        self.plots: dict[str, pg.PlotItem] = {}
        self._markers: dict[str, pg.InfiniteLine] = {}
        self._marker_dots: dict[str, pg.PlotDataItem] = {}
        axes: list[_LeftAxis] = []
        for row, (name, (_, _, y_label, short_label)) in enumerate(PLOTS.items()):
            left = _LeftAxis(axes, (y_label, short_label), sparse_log=name != "accuracy")
            plot = self.graphics.addPlot(row=row, col=0, axisItems={"left": left})
            plot.setMenuEnabled(False)
            plot.hideButtons()  # pyqtgraph's auto-range button would fight the view's own fitting
            plot.vb.disableAutoRange()
            # No grid: pyqtgraph replays grid lines through each axis's QPicture, ~18 ms a frame for three plots.
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(FOREGROUND))
                axis.setTextPen(pg.mkPen(FOREGROUND))
                axis.enableAutoSIPrefix(False)  # never "(x0.001)": the numbers are the values
            if row < len(PLOTS) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)  # x is shared: numbers only at the bottom
            plot.setLabel("left", y_label, color=FOREGROUND)
            if row:
                plot.setXLink(self.plots["cost"])
            plot.vb.sigRangeChangedManually.connect(self._on_manual_range)
            plot.vb.sigResized.connect(self._later.start)
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.DashLine))
            line.setZValue(5)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=7, symbolPen=pg.mkPen("w", width=1))
            dots.setZValue(6)
            plot.addItem(dots, ignoreBounds=True)
            self.plots[name] = plot
            self._markers[name] = line
            self._marker_dots[name] = dots
            self._y_set[name] = None
        self.plots["cost"].vb.sigXRangeChanged.connect(self._later.start)  # new bins for the new range
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.plots["accuracy"].setLimits(yMin=-0.02, yMax=1.02)
        self.plots["learning_rate"].setLogMode(y=True)  # decays span decades (the notebook plots α on a log scale)
        # A key for the line styles, shown while the comparison has a test set.
        self._style_key = self.plots["accuracy"].addLegend(
            offset=(-8, -8), brush=pg.mkBrush(255, 255, 255, 200), pen=pg.mkPen(200, 200, 200),
            labelTextColor=FOREGROUND, colCount=2,
        )
        for label, style in (("train", Qt.SolidLine), ("test", Qt.DashLine)):
            self._style_key.addItem(pg.PlotDataItem(pen=pg.mkPen(MARKER_COLOR, width=2, style=style)), label)
        self._style_key.setVisible(False)
        self.plots["learning_rate"].setLabel("bottom", X_AXES["epoch"][1], color=FOREGROUND)
        self.legend = self.plots["cost"].addLegend(
            offset=(-8, 8),
            brush=pg.mkBrush(255, 255, 255, 200),
            pen=pg.mkPen(200, 200, 200),
            labelTextColor=FOREGROUND,
        )
        self.legend.setVisible(False)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.refresh()

    # ---- what the controller calls ---------------------------------------------------------

    def set_runs(self, runs: Sequence[tuple[str, str, str, bool]]) -> None:
        """Show exactly these runs, in this order: (key, name, colour "#rrggbb", visible); others go."""
        keys = [key for key, *_ in runs]
        if len(set(keys)) != len(keys):
            raise ValueError(f"runs: duplicate keys in {keys}")
        for key in [key for key in self._runs if key not in keys]:
            self._remove(key)
        self._quiet = True
        try:
            for key, name, colour, visible in runs:
                if key not in self._runs:
                    self._add(key, name, colour)
                self._restyle(key, name, colour)
                self._runs[key].curves["cost", "train"].setVisible(bool(visible))  # the others follow
        finally:
            self._quiet = False
        if list(self._runs) != keys:
            self._runs = {key: self._runs[key] for key in keys}
        self._sync_legend()
        self._fit_y = True
        self.refresh()
        self._update_readout()

    def set_history(self, key: str, history: History | None) -> None:
        """The model's History of that run (a reference: the view reads it, never copies it); None: no data."""
        run = self._run(key)
        if run.history is history:
            return
        run.history, run.owned, run.drawn = history, False, None
        self._fit_y = True
        self._update_readout()
        self._later.start()

    def refresh(self) -> None:
        """Redraw what changed since the last call (new rows, ranges, sizes); cheap when nothing did."""
        if self._shown_once and not self.isVisible():
            return  # drawn when shown again (showEvent)
        self._follow_x()
        x_range = tuple(self.plots["cost"].vb.viewRange()[0])
        bins = self._bins()
        test = self._test_shown()
        if self._style_key.isVisible() != test:
            self._style_key.setVisible(test)
        state = (self._x_kind, x_range, bins, test)
        changed = False
        for run in self._runs.values():
            if run.visible:
                changed |= self._draw(run, state)
        if changed or self._fit_y:
            self._fit_y = False
            self._follow_y()
            self._update_marker()

    def set_has_test(self, on: bool) -> None:
        """Whether the comparison has a test set: its curves and the train/test key are shown only then."""
        self._has_test = bool(on)
        self.refresh()

    def reset_view(self) -> None:
        """After a reset or a new comparison: ranges fitted from scratch, no readout, no marker."""
        self._follow = True
        self._x_set = None
        self._y_set = dict.fromkeys(self.plots)
        self._hover = None
        self.readout.setText(" ")
        self._marker_epoch = None
        for run in self._runs.values():
            run.drawn = None
        self._fit_y = True
        self.refresh()
        self._update_marker()

    def set_epoch_target(self, epochs: int) -> None:
        """The largest target epoch of the runs: the epoch axis shows 0 to it (long runs: 1-2-5 steps)."""
        epochs = int(epochs)
        if epochs != self._epoch_target:
            self._epoch_target = epochs

    # ---- display options -------------------------------------------------------------------

    def set_log_cost(self, on: bool) -> None:
        self._log_cost = bool(on)
        self.plots["cost"].setLogMode(y=self._log_cost)
        if self.log_checkbox.isChecked() != self._log_cost:
            self.log_checkbox.setChecked(self._log_cost)
        self._resume_following()

    @property
    def log_cost(self) -> bool:
        return self._log_cost

    def set_x_axis(self, kind: str) -> None:
        """'epoch', 'updates', 'samples' or 'seconds'."""
        if kind not in X_AXES:
            raise ValueError(f"x axis {kind!r}: allowed are {', '.join(X_AXES)}")
        self._x_kind = kind
        self.plots["learning_rate"].setLabel("bottom", X_AXES[kind][1], color=FOREGROUND)
        index = self.x_axis_combo.findData(kind)
        if self.x_axis_combo.currentIndex() != index:
            self.x_axis_combo.setCurrentIndex(index)
        self._resume_following()

    @property
    def x_axis(self) -> str:
        return self._x_kind

    def set_marker(self, epoch: int | None) -> None:
        """Mark that epoch on all three plots (a dot per visible run; a line on the epoch axis), None hides."""
        self._marker_epoch = None if epoch is None else int(epoch)
        self._update_marker()

    def readout_at(self, x: float, plot: str = "cost") -> str:
        """Rich text of each visible run's value in ``plot`` at the epoch nearest to ``x`` (x-axis units)."""
        column = PLOTS[plot][0]
        x_column = X_AXES[self._x_kind][0]
        parts, epochs = [], set()
        for run in self._runs.values():
            history = run.history
            n = len(history) if history is not None else 0
            if not run.visible or n == 0:
                continue
            i = min(history.searchsorted(x_column, x), n - 1)
            if i > 0 and abs(history.value(x_column, i - 1) - x) <= abs(history.value(x_column, i) - x):
                i -= 1
            epoch = history.value("epoch", i)
            epochs.add(epoch)
            color = pg.mkColor(run.color).name()
            parts.append((f'<span style="color:{color}">■</span> {run.name}', epoch, history.value(column, i)))
        if not parts:
            return ""
        what = PLOTS[plot][2]
        gap = " &nbsp; "
        if len(epochs) == 1:  # always so on the epoch axis
            return f"epoch {epochs.pop()}, {what}: " + gap.join(f"{name} {value:.4g}" for name, _, value in parts)
        return f"{what} @ epoch: " + gap.join(f"{name} {value:.4g} @ {epoch}" for name, epoch, value in parts)

    def curve_items(self, key: str) -> dict[tuple[str, str], pg.PlotDataItem]:
        """The plot items of a run by (plot, part), e.g. ("cost", "test"): what it draws, for exports and tests."""
        return dict(self._run(key).curves)

    def markers(self) -> dict[str, pg.InfiniteLine]:
        """The epoch marker line of each plot."""
        return dict(self._markers)

    def data(self, key: str) -> dict[str, np.ndarray]:
        """Read-only arrays of the run's columns (see FIELDS; test columns NaN without a test set)."""
        history = self._run(key).history
        if history is None:
            return {name: np.empty(0) for name in FIELDS}
        arrays = history.arrays()
        n = len(arrays["epoch"])
        return {name: arrays[name] if name in arrays else np.full(n, np.nan) for name in FIELDS}

    def run_ids(self) -> list[str]:
        return list(self._runs)

    def save_png(self, path, width: int | None = None) -> None:
        """Write the three plots as a PNG, ``width`` pixels wide (default: as shown)."""
        save_png(self.graphics.ci, path, width)

    # ---- the older calls: the view keeps its own History for a run ---------------------------

    def add_run(self, run_id: str, name: str, color) -> None:
        """A new, empty run drawn in ``color`` (anything pg.mkColor accepts) and named in the legend."""
        if run_id in self._runs:
            raise ValueError(f"run_id={run_id!r}: a run with this id already exists")
        self._add(run_id, name, color)
        self._sync_legend()

    def remove_run(self, run_id: str) -> None:
        self._run(run_id)
        self._remove(run_id)
        self._sync_legend()
        self._update_readout()
        self._update_marker()

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        self._run(run_id).curves["cost", "train"].setVisible(bool(visible))  # the others follow

    def set_run_style(self, run_id: str, name: str | None = None, color=None) -> None:
        run = self._run(run_id)
        self._restyle(run_id, run.name if name is None else name, run.color if color is None else color)
        self._sync_legend()

    def append(self, run_id: str, records: Sequence) -> None:
        """Add EpochRecords (epoch order) to the view's own history of a run, and redraw.

        A record whose epoch is already held restarts the run's history from that epoch.
        """
        run = self._run(run_id)
        if not len(records):
            return
        history = self._own_history(run, records[0].epoch, records[0].test_cost is not None)
        for record in records:
            history.append(record)
        self.refresh()

    def append_columns(self, run_id: str, columns: Mapping[str, np.ndarray]) -> None:
        """Like ``append``, from whole columns named as FIELDS (without test columns: no test values)."""
        run = self._run(run_id)
        if not len(columns["epoch"]):
            return
        has_test = all(name in columns for name in ("test_cost", "test_accuracy"))
        history = self._own_history(run, int(columns["epoch"][0]), has_test)
        history.append_columns(columns)
        self.refresh()

    def clear(self, run_id: str | None = None) -> None:
        """Drop the data of one run, or of all runs."""
        for run in [self._run(run_id)] if run_id is not None else self._runs.values():
            run.history, run.owned, run.drawn = None, False, None
        self._fit_y = True
        self.refresh()
        self._update_readout()

    # ---- internals -------------------------------------------------------------------------

    def _run(self, key: str) -> _Run:
        try:
            return self._runs[key]
        except KeyError:
            raise KeyError(f"run key {key!r}: no such run (have {', '.join(self._runs) or 'none'})") from None

    def _add(self, key: str, name: str, color) -> None:
        run = _Run(name=name, color=pg.mkColor(color))
        for plot_name, (_, test_column, _, _) in PLOTS.items():
            for part in ("train", "test") if test_column else ("train",):
                item = pg.PlotDataItem()  # the view decimates: no clipping or downsampling on top
                self.plots[plot_name].addItem(item)
                run.curves[plot_name, part] = item
        self._runs[key] = run
        self._style(run)
        run.curves["cost", "train"].visibleChanged.connect(lambda: self._on_visible_changed(key))

    def _remove(self, key: str) -> None:
        run = self._runs.pop(key)
        for (plot_name, _), item in run.curves.items():
            self.plots[plot_name].removeItem(item)
        self._fit_y = True

    def _restyle(self, key: str, name: str, color) -> None:
        run = self._runs[key]
        color = pg.mkColor(color)
        if name != run.name:
            run.name = name
            for sample, label in self.legend.items:
                if sample.item is run.curves["cost", "train"]:
                    label.setText(name)
        if color != run.color:
            run.color = color
            self._style(run)
            self._update_marker()

    def _sync_legend(self) -> None:
        """The legend lists the runs in order (rebuilt only when they change); shown for two runs or more."""
        items = [run.curves["cost", "train"] for run in self._runs.values()]
        if [sample.item for sample, _ in self.legend.items] != items:
            self.legend.clear()
            for run in self._runs.values():
                self.legend.addItem(run.curves["cost", "train"], run.name)
        self.legend.setVisible(len(self._runs) > 1)

    def _style(self, run: _Run) -> None:
        for (_, part), item in run.curves.items():
            # Dashed lines wider than 1 px are stroked as paths (slow); solid 2 px and 1 px dashes stay cheap.
            style = Qt.SolidLine if part == "train" else Qt.DashLine
            item.setPen(pg.mkPen(run.color, width=2 if part == "train" else 1, style=style))

    def _own_history(self, run: _Run, first_epoch: int, has_test: bool) -> History:
        """The view's own History for a run, cut before ``first_epoch`` when it holds it already."""
        old = run.history if run.owned else None
        if old is not None and old.has_test == has_test and (not len(old) or old.last("epoch") < first_epoch):
            return old
        history = History(has_test)
        if old is not None and old.has_test == has_test:
            history.append_columns(old.arrays(stop=old.searchsorted("epoch", first_epoch)))
        run.history, run.owned, run.drawn = history, True, None
        self._fit_y = True
        return history

    def _test_shown(self) -> bool:
        if self._has_test is not None:
            return self._has_test
        return any(run.history is not None and run.history.has_test for run in self._runs.values())

    def _bins(self) -> int:
        """Bins of a decimated curve: one per device pixel column of the plot (two points each)."""
        vb = self.plots["cost"].vb
        return max(int(vb.width() * self.graphics.devicePixelRatioF()), 200)

    def _draw(self, run: _Run, state: tuple) -> bool:
        history = run.history
        rows = len(history) if history is not None else 0
        if run.drawn is not None and run.drawn[0] is history and run.drawn[1:] == (rows, state):
            return False
        run.drawn = (history, rows, state)
        kind, (x_min, x_max), bins, test = state
        columns = {(plot, part): PLOTS[plot][0 if part == "train" else 1] for plot, part in run.curves
                   if rows and (part == "train" or (test and history.has_test))}
        x, ys = None, {}
        if columns:  # one snapshot and one set of bins for all the run's curves
            x, ys = history.decimated_columns(X_AXES[kind][0], set(columns.values()), x_min, x_max, bins)
        for key, item in run.curves.items():
            if key in columns:
                y = ys[columns[key]]
                item.setData(x, y)
            else:
                y = np.empty(0)
                if run.shown.get(key) is None or len(run.shown[key]):
                    item.setData([], [])  # no data, or no test set: nothing to draw (nor to redo every frame)
            run.shown[key] = y
        return True

    def _x_upper(self) -> float:
        column = X_AXES[self._x_kind][0]
        newest = max((run.history.last(column) for run in self._runs.values()
                      if run.history is not None and len(run.history)), default=0)
        if self._x_kind == "epoch" and self._epoch_target is not None:
            upper = max(self._epoch_target, 1)
            if upper > LONG_RUN_EPOCHS:
                upper = min(upper, _step_at_least(max(1.1 * newest, LONG_RUN_EPOCHS)))
            return max(upper, newest)
        return _step_at_least(newest, _ROUND_STEPS) if newest > 0 else 1.0

    def _follow_x(self) -> None:
        if not self._follow:
            return
        target = (0.0, float(self._x_upper()))
        if target != self._x_set:
            self._x_set = target
            self.plots["cost"].setXRange(*target, padding=0.02)  # the other plots share its x axis

    def _follow_y(self) -> None:
        if not self._follow:
            return
        for name, plot in self.plots.items():
            log = name == "learning_rate" or (name == "cost" and self._log_cost)
            parts = [y for run in self._runs.values() if run.visible
                     for (plot_name, _), y in run.shown.items() if plot_name == name and len(y)]
            values = np.concatenate(parts) if parts else np.empty(0)
            if log:
                values = values[values > 0]
                values = np.log10(values)
            values = values[np.isfinite(values)]
            if not len(values):
                target = (-1.0, 0.0) if log else (0.0, 1.0)
            else:
                low, high = float(values.min()), float(values.max())
                span = high - low
                pad = 0.05 * span if span > 0 else (0.5 if log else max(0.1 * abs(high), 0.05))
                target = (low - pad, high + pad)
            if target != self._y_set.get(name):
                self._y_set[name] = target
                plot.setYRange(*target, padding=0)

    def _resume_following(self) -> None:
        self._follow = True
        self._x_set = None
        self._y_set = dict.fromkeys(self.plots)
        self._fit_y = True
        self.refresh()
        self._update_marker()

    def _on_manual_range(self, *_) -> None:
        self._follow = False  # the user pans or zooms: the view stops following until a double-click

    def _on_mouse_clicked(self, event) -> None:
        if event.double():
            self._resume_following()

    def _on_visible_changed(self, key: str) -> None:
        run = self._runs.get(key)
        if run is None:
            return
        visible = run.curves["cost", "train"].isVisible()
        if visible == run.visible:
            return
        run.visible = visible
        for item in run.curves.values():
            item.setVisible(visible)
        self._fit_y = True
        if not self._quiet:
            self.refresh()  # a run shown again catches up
            self._update_readout()
            self.run_visibility_changed.emit(key, visible)

    def _update_readout(self) -> None:
        text = self.readout_at(*self._hover) if self._hover is not None else ""
        self.readout.setText(text or " ")

    def _update_marker(self) -> None:
        epoch = self._marker_epoch
        x_column = X_AXES[self._x_kind][0]
        points = []  # (x, {plot: y}, color) per visible run holding that epoch
        if epoch is not None:
            for run in self._runs.values():
                history = run.history
                if not run.visible or history is None or not len(history):
                    continue
                i = history.searchsorted("epoch", epoch)
                if i < len(history) and history.value("epoch", i) == epoch:
                    values = {name: history.value(columns[0], i) for name, columns in PLOTS.items()}
                    points.append((history.value(x_column, i), values, run.color))
        # One line is only honest when every run sits at the same x: always true on the epoch axis.
        line_x = None
        if epoch is not None and self._x_kind == "epoch":
            line_x = float(epoch)
        elif len(points) == 1:
            line_x = float(points[0][0])
        for name, line in self._markers.items():
            line.setVisible(line_x is not None)
            if line_x is not None:
                line.setValue(line_x)
            dots = self._marker_dots[name]
            if points:
                dots.setData(
                    [p[0] for p in points], [p[1][name] for p in points], symbolBrush=[p[2] for p in points]
                )
            elif dots.xData is not None and len(dots.xData):
                dots.setData([], [])

    def _on_mouse_moved(self, position) -> None:
        for name, plot in self.plots.items():
            if plot.sceneBoundingRect().contains(position):
                self._hover = (plot.vb.mapSceneToView(position).x(), name)
                self._update_readout()
                return

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._shown_once = True
        self.refresh()
