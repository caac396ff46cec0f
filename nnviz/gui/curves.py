"""Training curves of one or several runs: cost, accuracy and learning rate, stacked with a shared x axis."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nnviz.gui.boundary_view import BACKGROUND, FOREGROUND, save_png

# Per-epoch columns kept for every run, in the order of a stored row.
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
# Plots: name -> (train column, test column or None, y label)
PLOTS = {
    "cost": ("cost", "test_cost", "cost"),
    "accuracy": ("accuracy", "test_accuracy", "accuracy"),
    "learning_rate": ("learning_rate", None, "learning rate"),
}
_INITIAL_CAPACITY = 1024
_TEST_COST = FIELDS.index("test_cost")
# Samples per pixel column kept by auto-downsampling (pyqtgraph's default is 5). In "peak" mode each
# kept sample is a min/max pair: one per column still draws every extreme a pixel can show.
DOWNSAMPLE_FACTOR = 1.0
MARKER_COLOR = "#7a7a7a"


class _SparseLogAxis(pg.AxisItem):
    """A log axis that labels only mantissas 1 and 3, so a short plot spanning decades stays legible."""

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        mantissas = np.round(10 ** (np.asarray(values, dtype=float) % 1.0), 6)
        return [text if m in (1.0, 3.0) else "" for text, m in zip(strings, mantissas, strict=True)]


def _row(record) -> tuple[float, ...]:
    nan = float("nan")
    return (
        record.epoch,
        record.cost,
        record.accuracy,
        nan if record.test_cost is None else record.test_cost,
        nan if record.test_accuracy is None else record.test_accuracy,
        record.learning_rate,
        record.updates,
        record.samples,
        record.elapsed_s,
    )


class _History:
    """Growing column buffers: appending k rows costs O(k) amortised (capacity doubles)."""

    def __init__(self):
        self.length = 0
        self.has_test = False  # some row held has a finite test cost (kept in O(k) per append, not O(n) per frame)
        self._table = np.empty((len(FIELDS), _INITIAL_CAPACITY))  # one row per field, one column per epoch

    def append(self, rows: np.ndarray) -> None:
        """rows : ndarray of shape (k, len(FIELDS)), epochs increasing."""
        k = len(rows)
        if k == 0:
            return
        # A record for an epoch already held restarts the history from there (e.g. after a reset).
        first = rows[0, 0]
        if self.length and first <= self._table[0, self.length - 1]:
            self.length = int(np.searchsorted(self._table[0, : self.length], first, side="left"))
            self.has_test = bool(np.isfinite(self._table[_TEST_COST, : self.length]).any())  # rare: a restart
        need = self.length + k
        if need > self._table.shape[1]:
            capacity = max(need, 2 * self._table.shape[1])
            table = np.empty((len(FIELDS), capacity))
            table[:, : self.length] = self._table[:, : self.length]
            self._table = table
        self._table[:, self.length : need] = rows.T
        self.length = need
        self.has_test = self.has_test or bool(np.isfinite(rows[:, _TEST_COST]).any())

    def column(self, name: str) -> np.ndarray:
        """A read-only view of that column, trimmed to the rows held."""
        view = self._table[FIELDS.index(name), : self.length]
        view.flags.writeable = False
        return view

    def clear(self) -> None:
        self.length = 0
        self.has_test = False


@dataclass
class _Run:
    name: str
    color: object
    visible: bool = True
    stale: bool = False  # hidden while its data changed: its items are set when it is shown again
    history: _History = field(default_factory=_History)
    curves: dict = field(default_factory=dict)  # (plot name, "train" | "test") -> PlotDataItem


class CurvesView(QWidget):
    """Three stacked plots sharing x: cost (optionally log-y), accuracy (train solid, test dashed),
    learning rate; one colour per run, a legend, a hover readout and an optional epoch marker."""

    run_visibility_changed = Signal(str, bool)  # run id, visible (also when toggled from the legend)

    def __init__(self, parent=None, show_controls: bool = True):
        super().__init__(parent)
        self._runs: dict[str, _Run] = {}
        self._x_kind = "epoch"
        self._marker_epoch: int | None = None
        self._log_cost = False

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
        self.graphics.ci.setContentsMargins(4, 4, 8, 4)
        self.graphics.ci.setSpacing(2)
        layout.addWidget(self.graphics, 1)

        self.plots: dict[str, pg.PlotItem] = {}
        self._markers: dict[str, pg.InfiniteLine] = {}
        self._marker_dots: dict[str, pg.PlotDataItem] = {}
        for row, (name, (_, _, y_label)) in enumerate(PLOTS.items()):
            axes = {"left": _SparseLogAxis("left")} if name != "accuracy" else None  # the two that may go log
            plot = self.graphics.addPlot(row=row, col=0, axisItems=axes)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            # No grid: pyqtgraph replays grid lines through each axis's QPicture, ~18 ms a frame for three plots.
            plot.setMenuEnabled(False)
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(FOREGROUND))
                axis.setTextPen(pg.mkPen(FOREGROUND))
            plot.getAxis("left").setWidth(54)  # the same width on all three so the x axes line up
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            if row < len(PLOTS) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)  # x is shared: numbers only at the bottom
            plot.setLabel("left", y_label, color=FOREGROUND)
            if row:
                plot.setXLink(self.plots["cost"])
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.DashLine))
            line.setZValue(5)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=7, symbolPen=pg.mkPen("w", width=1))
            dots.setZValue(6)
            plot.addItem(dots, ignoreBounds=True)
            dots.setDownsampling(ds=1, auto=False)  # one brush per point: never thin these out
            dots.setClipToView(False)
            self.plots[name] = plot
            self._markers[name] = line
            self._marker_dots[name] = dots
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.plots["accuracy"].setLimits(yMin=-0.02, yMax=1.02)
        self.plots["learning_rate"].setLogMode(y=True)  # decays span decades (the notebook plots α on a log scale)
        # A key for the line styles, shown once some run has a test set.
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
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # ---- runs ------------------------------------------------------------------------------

    def add_run(self, run_id: str, name: str, color) -> None:
        """A new, empty run drawn in ``color`` (anything pg.mkColor accepts) and named in the legend."""
        if run_id in self._runs:
            raise ValueError(f"run_id={run_id!r}: a run with this id already exists")
        run = _Run(name=name, color=color)
        for plot_name, (_, test_column, _) in PLOTS.items():
            plot = self.plots[plot_name]
            for part in ("train", "test") if test_column else ("train",):
                item = pg.PlotDataItem(name=name if (plot_name, part) == ("cost", "train") else None)
                item.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
                plot.addItem(item)
                run.curves[plot_name, part] = item
        self._runs[run_id] = run
        self._style(run)
        run.curves["cost", "train"].visibleChanged.connect(lambda: self._on_visible_changed(run_id))

    def remove_run(self, run_id: str) -> None:
        run = self._run(run_id)
        for (plot_name, _), item in run.curves.items():
            if plot_name == "cost":
                self.legend.removeItem(item)
            self.plots[plot_name].removeItem(item)
        del self._runs[run_id]
        self._update_marker()

    def set_run_visible(self, run_id: str, visible: bool) -> None:
        self._run(run_id).curves["cost", "train"].setVisible(bool(visible))  # the others follow

    def set_run_style(self, run_id: str, name: str | None = None, color=None) -> None:
        run = self._run(run_id)
        if name is not None:
            run.name = name
            run.curves["cost", "train"].opts["name"] = name
            for sample, label in self.legend.items:
                if sample.item is run.curves["cost", "train"]:
                    label.setText(name)
        if color is not None:
            run.color = color
        self._style(run)
        self._update_marker()

    def run_ids(self) -> list[str]:
        return list(self._runs)

    # ---- data ------------------------------------------------------------------------------

    def append(self, run_id: str, records: Sequence) -> None:
        """Add EpochRecords (epoch order) to a run and redraw that run only.

        A record whose epoch is already held restarts the run's history from that epoch.
        """
        run = self._run(run_id)
        if not len(records):
            return
        self._append_rows(run, np.array([_row(r) for r in records], dtype=np.float64))

    def append_columns(self, run_id: str, columns: Mapping[str, np.ndarray]) -> None:
        """Like ``append``, from whole columns named as FIELDS (a missing test column is NaN), e.g. a
        saved History's: no Python object per row."""
        run = self._run(run_id)
        n = len(columns["epoch"])
        if not n:
            return
        rows = np.empty((n, len(FIELDS)))
        for i, name in enumerate(FIELDS):
            rows[:, i] = columns[name] if name in columns else np.nan
        self._append_rows(run, rows)

    def _append_rows(self, run: _Run, rows: np.ndarray) -> None:
        run.history.append(rows)
        self._redraw(run)
        if self._marker_epoch is not None:
            self._update_marker()

    def clear(self, run_id: str | None = None) -> None:
        """Drop the data of one run, or of all runs."""
        runs = [self._run(run_id)] if run_id is not None else list(self._runs.values())
        for run in runs:
            run.history.clear()
            self._redraw(run)
        self._update_marker()

    def data(self, run_id: str) -> dict[str, np.ndarray]:
        """Read-only views of the run's columns (see FIELDS), trimmed to the epochs held."""
        history = self._run(run_id).history
        return {name: history.column(name) for name in FIELDS}

    def save_png(self, path, width: int | None = None) -> None:
        """Write the three plots as a PNG, ``width`` pixels wide (default: as shown)."""
        save_png(self.graphics.ci, path, width)

    # ---- display options -------------------------------------------------------------------

    def set_log_cost(self, on: bool) -> None:
        self._log_cost = bool(on)
        self.plots["cost"].setLogMode(y=self._log_cost)
        self.plots["cost"].enableAutoRange(y=True)
        if self.log_checkbox.isChecked() != self._log_cost:
            self.log_checkbox.setChecked(self._log_cost)
        self._update_marker()

    @property
    def log_cost(self) -> bool:
        return self._log_cost

    def set_x_axis(self, kind: str) -> None:
        """'epoch', 'updates', 'samples' or 'seconds'."""
        if kind not in X_AXES:
            raise ValueError(f"x axis {kind!r}: allowed are {', '.join(X_AXES)}")
        self._x_kind = kind
        self.plots["learning_rate"].setLabel("bottom", X_AXES[kind][1], color=FOREGROUND)
        for run in self._runs.values():
            self._redraw(run)
        for plot in self.plots.values():
            plot.enableAutoRange(x=True)
        index = self.x_axis_combo.findData(kind)
        if self.x_axis_combo.currentIndex() != index:
            self.x_axis_combo.setCurrentIndex(index)
        self._update_marker()

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
            if not run.visible or run.history.length == 0:
                continue
            xs = run.history.column(x_column)
            i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1)) if len(xs) > 1 else 0
            if len(xs) > 1 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
                i -= 1
            epoch = int(run.history.column("epoch")[i])
            epochs.add(epoch)
            color = pg.mkColor(run.color).name()
            parts.append((f'<span style="color:{color}">■</span> {run.name}', epoch, run.history.column(column)[i]))
        if not parts:
            return ""
        what = PLOTS[plot][2]
        gap = " &nbsp; "
        if len(epochs) == 1:  # always so on the epoch axis
            return f"epoch {epochs.pop()}, {what}: " + gap.join(f"{name} {value:.4g}" for name, _, value in parts)
        return f"{what} @ epoch: " + gap.join(f"{name} {value:.4g} @ {epoch}" for name, epoch, value in parts)

    # ---- internals -------------------------------------------------------------------------

    def _run(self, run_id: str) -> _Run:
        try:
            return self._runs[run_id]
        except KeyError:
            raise KeyError(f"run_id={run_id!r}: no such run (have {', '.join(self._runs) or 'none'})") from None

    def _style(self, run: _Run) -> None:
        color = pg.mkColor(run.color)
        for (_, part), item in run.curves.items():
            # Dashed lines wider than 1 px are stroked as paths, ~45 ms per curve of peak-downsampled data;
            # solid 2 px lines take pyqtgraph's drawLines path and 1 px dashes stay cheap.
            style = Qt.SolidLine if part == "train" else Qt.DashLine
            item.setPen(pg.mkPen(color, width=2 if part == "train" else 1, style=style))

    def _redraw(self, run: _Run) -> None:
        history = run.history
        if not self._style_key.isVisible() and history.length and np.isfinite(history.column("test_cost")[-1]):
            self._style_key.setVisible(True)
        if not run.visible:
            run.stale = True  # pyqtgraph still spends O(n) on each setData of a hidden item
            return
        run.stale = False
        x = history.column(X_AXES[self._x_kind][0])
        for (plot_name, part), item in run.curves.items():
            train_column, test_column, _ = PLOTS[plot_name]
            if part == "test" and not history.has_test:
                if item.xData is not None and len(item.xData):
                    item.setData([], [])  # no test set: nothing to draw (and nothing to redo every frame)
                continue
            item.setData(x, history.column(train_column if part == "train" else test_column))

    def _on_visible_changed(self, run_id: str) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        visible = run.curves["cost", "train"].isVisible()
        if visible == run.visible:
            return
        run.visible = visible
        for item in run.curves.values():
            item.setVisible(visible)
        if visible and run.stale:
            self._redraw(run)
        self._update_marker()
        self.run_visibility_changed.emit(run_id, visible)

    def _update_marker(self) -> None:
        epoch = self._marker_epoch
        x_column = X_AXES[self._x_kind][0]
        points = []  # (x, {plot: y}, color) per visible run holding that epoch
        if epoch is not None:
            for run in self._runs.values():
                if not run.visible or run.history.length == 0:
                    continue
                epochs = run.history.column("epoch")
                i = int(np.searchsorted(epochs, epoch))
                if i < len(epochs) and epochs[i] == epoch:
                    values = {name: run.history.column(columns[0])[i] for name, columns in PLOTS.items()}
                    points.append((run.history.column(x_column)[i], values, pg.mkColor(run.color)))
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
            else:
                dots.setData([], [])

    def _on_mouse_moved(self, position) -> None:
        for name, plot in self.plots.items():
            if plot.sceneBoundingRect().contains(position):
                x = plot.vb.mapSceneToView(position).x()
                self.readout.setText(self.readout_at(x, name) or " ")
                return
