"""What the training curves plot, and one run's share of it.

The columns, x-axis kinds and plots; a run's curve items and how they are drawn (decimated to the pixels
shown); the legends naming them; what the runs hold at an x (the hover readout) and at an epoch (the
epoch marker).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from nnviz.core.history import History
from nnviz.gui.boundary_view import FOREGROUND
from nnviz.gui.curve_items import AppendingCurve

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
MARKER_COLOR = "#7a7a7a"


@dataclass
class RunCurves:
    """One run of the view: its name, colour and History, and the plot items that draw it."""

    name: str
    color: object  # QColor
    visible: bool = True
    history: History | None = None  # the model's (set_history), or the view's own (append)
    owned: bool = False  # history made by append/append_columns (the old API)
    curves: dict = field(default_factory=dict)  # (plot name, "train" | "test") -> PlotDataItem
    drawn: tuple | None = None  # (history, rows, view state) at the last draw
    shown: dict = field(default_factory=dict)  # (plot name, part) -> y values drawn (for fitting y)

    @classmethod
    def added_to(cls, plots: dict[str, pg.PlotItem], name: str, color) -> RunCurves:
        """A run with one curve item per plot and part, added to ``plots`` and styled."""
        run = cls(name=name, color=pg.mkColor(color))
        for plot_name, (_, test_column, _, _) in PLOTS.items():
            for part in ("train", "test") if test_column else ("train",):
                item = AppendingCurve()  # the view decimates: no clipping or downsampling on top
                plots[plot_name].addItem(item)
                run.curves[plot_name, part] = item
        run.style()
        return run

    def remove_from(self, plots: dict[str, pg.PlotItem]) -> None:
        for (plot_name, _), item in self.curves.items():
            plots[plot_name].removeItem(item)

    def style(self) -> None:
        for (_, part), item in self.curves.items():
            # Dashed lines wider than 1 px are stroked as paths (slow); solid 2 px and 1 px dashes stay cheap.
            style = Qt.SolidLine if part == "train" else Qt.DashLine
            item.setPen(pg.mkPen(self.color, width=2 if part == "train" else 1, style=style))

    def own_history(self, first_epoch: int, has_test: bool) -> tuple[History, bool]:
        """The view's own History for the run, cut before ``first_epoch`` when it holds it already; and
        whether it is a new one."""
        old = self.history if self.owned else None
        if old is not None and old.has_test == has_test and (not len(old) or old.last("epoch") < first_epoch):
            return old, False
        history = History(has_test)
        if old is not None and old.has_test == has_test:
            history.append_columns(old.arrays(stop=old.searchsorted("epoch", first_epoch)))
        self.history, self.owned, self.drawn = history, True, None
        return history, True

    def draw(self, state: tuple) -> bool:
        """Draw the run for ``state`` = (x kind, (x min, x max), bins, test shown); False when drawn already."""
        history = self.history
        rows = len(history) if history is not None else 0
        if self.drawn is not None and self.drawn[0] is history and self.drawn[1:] == (rows, state):
            return False
        self.drawn = (history, rows, state)
        kind, (x_min, x_max), bins, test = state
        columns = {(plot, part): PLOTS[plot][0 if part == "train" else 1] for plot, part in self.curves
                   if rows and (part == "train" or (test and history.has_test))}
        x, ys = None, {}
        if columns:  # one snapshot and one set of bins for all the run's curves
            x, ys = history.decimated_columns(X_AXES[kind][0], set(columns.values()), x_min, x_max, bins)
        for key, item in self.curves.items():
            if key in columns:
                y = ys[columns[key]]
                item.setData(x, y)
            else:
                y = np.empty(0)
                if self.shown.get(key) is None or len(self.shown[key]):
                    item.setData([], [])  # no data, or no test set: nothing to draw (nor to redo every frame)
            self.shown[key] = y
        return True


def readout_text(runs: Iterable[RunCurves], x_kind: str, x: float, plot: str = "cost") -> str:
    """Rich text of each visible run's value in ``plot`` at the epoch nearest to ``x`` (x-axis units)."""
    column = PLOTS[plot][0]
    x_column = X_AXES[x_kind][0]
    parts, epochs = [], set()
    for run in runs:
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


class EpochMarker:
    """An epoch marked on every plot: a dot per visible run holding it, and a line where it is one x."""

    def __init__(self, plots: dict[str, pg.PlotItem]):
        self.lines: dict[str, pg.InfiniteLine] = {}
        self.dots: dict[str, pg.PlotDataItem] = {}
        for name, plot in plots.items():
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.DashLine))
            line.setZValue(5)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            dots = pg.PlotDataItem(pen=None, symbol="o", symbolSize=7, symbolPen=pg.mkPen("w", width=1))
            dots.setZValue(6)
            plot.addItem(dots, ignoreBounds=True)
            self.lines[name] = line
            self.dots[name] = dots

    def show(self, runs: Iterable[RunCurves], epoch: int | None, x_kind: str) -> None:
        """Mark ``epoch`` (None: nothing) for ``runs`` on the ``x_kind`` axis."""
        x_column = X_AXES[x_kind][0]
        points = []  # (x, {plot: y}, color) per visible run holding that epoch
        if epoch is not None:
            for run in runs:
                history = run.history
                if not run.visible or history is None or not len(history):
                    continue
                i = history.searchsorted("epoch", epoch)
                if i < len(history) and history.value("epoch", i) == epoch:
                    values = {name: history.value(columns[0], i) for name, columns in PLOTS.items()}
                    points.append((history.value(x_column, i), values, run.color))
        # One line is only honest when every run sits at the same x: always true on the epoch axis.
        line_x = None
        if epoch is not None and x_kind == "epoch":
            line_x = float(epoch)
        elif len(points) == 1:
            line_x = float(points[0][0])
        for name, line in self.lines.items():
            line.setVisible(line_x is not None)
            if line_x is not None:
                line.setValue(line_x)
            dots = self.dots[name]
            if points:
                dots.setData(
                    [p[0] for p in points], [p[1][name] for p in points], symbolBrush=[p[2] for p in points]
                )
            elif dots.xData is not None and len(dots.xData):
                dots.setData([], [])


class RunLegends:
    """The runs by name and colour on the cost plot (for two runs or more), and a key for the train/test
    line styles on the accuracy plot (while the comparison has a test set)."""

    def __init__(self, plots: dict[str, pg.PlotItem]):
        self.style_key = plots["accuracy"].addLegend(
            offset=(-8, -8), brush=pg.mkBrush(255, 255, 255, 200), pen=pg.mkPen(200, 200, 200),
            labelTextColor=FOREGROUND, colCount=2,
        )
        for label, style in (("train", Qt.SolidLine), ("test", Qt.DashLine)):
            self.style_key.addItem(pg.PlotDataItem(pen=pg.mkPen(MARKER_COLOR, width=2, style=style)), label)
        self.style_key.setVisible(False)
        self.runs = plots["cost"].addLegend(
            offset=(-8, 8),
            brush=pg.mkBrush(255, 255, 255, 200),
            pen=pg.mkPen(200, 200, 200),
            labelTextColor=FOREGROUND,
        )
        self.runs.setVisible(False)

    def show_style_key(self, on: bool) -> None:
        if self.style_key.isVisible() != on:
            self.style_key.setVisible(on)

    def sync(self, runs: Iterable[RunCurves]) -> None:
        """List ``runs`` in order (rebuilt only when they change); shown for two runs or more."""
        runs = list(runs)
        items = [run.curves["cost", "train"] for run in runs]
        if [sample.item for sample, _ in self.runs.items] != items:
            self.runs.clear()
            for run in runs:
                self.runs.addItem(run.curves["cost", "train"], run.name)
        self.runs.setVisible(len(runs) > 1)

    def rename(self, run: RunCurves, name: str) -> None:
        for sample, label in self.runs.items:
            if sample.item is run.curves["cost", "train"]:
                label.setText(name)


class HoverReadout:
    """The readout label: each visible run's value at the x under the mouse (see ``readout_text``)."""

    def __init__(self):
        self.label = QLabel(" ")  # long texts are cut, never widen the view
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hover: tuple[float, str] | None = None  # (x, plot) under the mouse

    def moved(self, plots: dict[str, pg.PlotItem], position) -> bool:
        """Take the mouse's scene ``position``; False when it is over no plot (the readout stays)."""
        for name, plot in plots.items():
            if plot.sceneBoundingRect().contains(position):
                self.hover = (plot.vb.mapSceneToView(position).x(), name)
                return True
        return False

    def update(self, runs: Iterable[RunCurves], x_kind: str) -> None:
        text = readout_text(runs, x_kind, *self.hover) if self.hover is not None else ""
        self.label.setText(text or " ")

    def clear(self) -> None:
        self.hover = None
        self.label.setText(" ")
