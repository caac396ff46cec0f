"""The curves' axes and ranges: three stacked plots sharing x, left axes that never overlap their labels,
and the ranges fitted to the runs.

pyqtgraph's auto-range is off: ``RangeFitter`` sets x from 0 to the target epoch (long runs, and the other
x axes: to a round step past the newest value, so the range changes a few times a decade, not every frame)
and y to the data drawn, until the user pans or zooms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from nnviz.gui.boundary_view import FOREGROUND
from nnviz.gui.curve_runs import PLOTS, X_AXES, RunCurves

LONG_RUN_EPOCHS = 5000  # targets above this: the epoch axis grows in 1-2-5 steps instead of showing the target
_ROUND_STEPS = (1, 1.2, 1.5, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8)  # x ranges other than the target: data fills ≥ 80 %
# A y range is kept while the data stays inside it and fills this share of it; when the data leaves it, the new
# range has this share of the data's span as extra room on that side. A range changed every frame costs a full
# repaint of every curve and the axes' ticks (bench_gui.py --notebook --profile: ~20 ms a frame).
_Y_KEEP_FILL = 0.6
_Y_GROW = 0.25
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


class LeftAxis(pg.AxisItem):
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


def stacked_plots(
    graphics: pg.GraphicsLayoutWidget, on_manual_range: Callable, on_resized: Callable
) -> dict[str, pg.PlotItem]:
    """The plots of PLOTS, one under the other in ``graphics``, sharing the cost plot's x axis.

    Auto-range is off (``RangeFitter`` fits them); ``on_manual_range`` is called when the user pans or
    zooms one, ``on_resized`` when one changes size.
    """
    plots: dict[str, pg.PlotItem] = {}
    axes: list[LeftAxis] = []
    for row, (name, (_, _, y_label, short_label)) in enumerate(PLOTS.items()):
        left = LeftAxis(axes, (y_label, short_label), sparse_log=name != "accuracy")
        plot = graphics.addPlot(row=row, col=0, axisItems={"left": left})
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
            plot.setXLink(plots["cost"])
        plot.vb.sigRangeChangedManually.connect(on_manual_range)
        plot.vb.sigResized.connect(on_resized)
        plots[name] = plot
    graphics.ci.layout.setRowStretchFactor(0, 2)
    plots["accuracy"].setLimits(yMin=-0.02, yMax=1.02)
    plots["learning_rate"].setLogMode(y=True)  # decays span decades (the notebook plots α on a log scale)
    plots["learning_rate"].setLabel("bottom", X_AXES["epoch"][1], color=FOREGROUND)
    return plots


class RangeFitter:
    """Fits the plots' ranges to the runs while following; a pan or zoom stops it, ``resume()`` restarts it."""

    def __init__(self, plots: dict[str, pg.PlotItem]):
        self._plots = plots
        self.following = True  # the view fits its ranges (until the user pans or zooms)
        self.epoch_target: int | None = None  # the largest target epoch of the runs
        self._x_set: tuple | None = None  # the x range last set while following
        self._y_set: dict[str, tuple | None] = dict.fromkeys(plots)

    def stop(self) -> None:
        self.following = False

    def resume(self) -> None:
        """Follow again, fitting every range from scratch."""
        self.following = True
        self._x_set = None
        self._y_set = dict.fromkeys(self._plots)

    def x_upper(self, runs: Iterable[RunCurves], x_kind: str) -> float:
        column = X_AXES[x_kind][0]
        newest = max((run.history.last(column) for run in runs
                      if run.history is not None and len(run.history)), default=0)
        if x_kind == "epoch" and self.epoch_target is not None:
            upper = max(self.epoch_target, 1)
            if upper > LONG_RUN_EPOCHS:
                upper = min(upper, _step_at_least(max(1.1 * newest, LONG_RUN_EPOCHS)))
            return max(upper, newest)
        return _step_at_least(newest, _ROUND_STEPS) if newest > 0 else 1.0

    def fit_x(self, runs: Iterable[RunCurves], x_kind: str) -> None:
        if not self.following:
            return
        target = (0.0, float(self.x_upper(runs, x_kind)))
        if target != self._x_set:
            self._x_set = target
            self._plots["cost"].setXRange(*target, padding=0.02)  # the other plots share its x axis

    def fit_y(self, runs: Iterable[RunCurves], log_cost: bool,
              extra: Callable[[str], list[np.ndarray]] | None = None) -> None:
        """Each plot's y range to the values its visible runs show (``RunCurves.shown``) and the arrays
        ``extra(plot name)`` gives (the seeds' bands)."""
        if not self.following:
            return
        runs = list(runs)
        for name, plot in self._plots.items():
            log = name == "learning_rate" or (name == "cost" and log_cost)
            parts = [y for run in runs if run.visible
                     for (plot_name, _), y in run.shown.items() if plot_name == name and len(y)]
            parts += extra(name) if extra is not None else []
            values = np.concatenate(parts) if parts else np.empty(0)
            if log:
                values = values[values > 0]
                values = np.log10(values)
            values = values[np.isfinite(values)]
            current = self._y_set.get(name)
            if not len(values):
                target = (-1.0, 0.0) if log else (0.0, 1.0)
            else:
                low, high = float(values.min()), float(values.max())
                span = high - low
                if current is not None and span > 0 and current[0] <= low and high <= current[1] \
                        and span >= _Y_KEEP_FILL * (current[1] - current[0]):
                    continue  # the range still fits: kept, so the axes and the curves drawn stay as they are
                pad = 0.05 * span if span > 0 else (0.5 if log else max(0.1 * abs(high), 0.05))
                target = (low - pad, high + pad)
                if current is not None and span > 0:  # the data left the range: room for it to go on that way
                    target = (target[0] - _Y_GROW * span if low < current[0] else target[0],
                              target[1] + _Y_GROW * span if high > current[1] else target[1])
            if target != current:
                self._y_set[name] = target
                plot.setYRange(*target, padding=0)
