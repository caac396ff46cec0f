"""The sweep view: a sweep study's metric as a heat map over two settings, or as a line over one.

Two axes: the metric (median over the seeds) on a log colour scale with a colour bar, one cell per grid point
(the axes in grid steps, so a log axis is drawn in log), diverged cells grey with a cross (every seed diverged)
or with a small cross (some did), open circles on the cells of the comparison's runs. One axis: the median as a
line with the 10–90 % band over the seeds, diverged points crossed. The view draws what it is told
(``show_study``); the pointer's readout goes out as ``hovered(text)``, a click as ``cell_clicked(i, j)``.
``render_study`` draws the same picture into a QImage (the command line's --png, the window's export).
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from nnviz.core.sweep_study import ALL, METRICS, SOME, SweepStudy
from nnviz.core.text import shorten
from nnviz.gui.landscape_render import cost_lut

DIVERGED_GREY = (150, 150, 150, 255)  # a cell where every seed diverged
CROSS_COLOUR = (210, 30, 30)  # the crosses on diverged cells
LINE_COLOUR = "#1f77b4"  # the one-axis median and its band
MAX_TICKS = 8  # value labels per axis
FOREGROUND = "#3c3c3c"  # axes, ticks and titles
RED = "#d21e1e"


def legend(study: SweepStudy, marks: int) -> str:
    """The legend under the plot: only what it shows (no red cross is drawn where nothing diverged)."""
    two = len(study.definition.axes) == 2
    parts = []
    if not two:
        parts.append("line: median over the seeds · band: 10–90 % of the seeds" if study.definition.seeds > 1
                     else "line: the metric of each value")
    state = study.diverged()
    if (state == ALL).any():
        grey = "<span style='color:#969696'>■</span>" if two else ""
        parts.append(f"{grey}<span style='color:{RED}'>✕</span> every seed diverged")
    if (state == SOME).any():
        parts.append(f"<span style='color:{RED}'>×</span> some seeds diverged")
    if marks:
        parts.append("○ a run of the comparison")
    if not study.complete:
        parts.append(f"{'blank' if two else 'missing'}: not trained yet")
    return " · ".join(parts)


def log_scale(metric: str) -> bool:
    """Whether the metric is drawn on a log scale (costs and counts; not the accuracy)."""
    return METRICS[metric][1]


def colour_values(metric: str, grid: np.ndarray) -> np.ndarray:
    """What the heat map's image holds for a metric grid: log10 of it on a log scale (NaN where ≤ 0), else it."""
    grid = np.asarray(grid, dtype=float)
    if not log_scale(metric):
        return grid.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(grid > 0, np.log10(np.where(grid > 0, grid, 1.0)), np.nan)


def _levels(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-9 * max(1.0, abs(low)):
        low, high = low - 0.5, high + 0.5
    return low, high


def value_label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def axis_ticks(values: list) -> list[tuple[float, str]]:
    """Labels at the centres of at most MAX_TICKS cells (cell i spans i to i + 1)."""
    step = max(1, math.ceil(len(values) / MAX_TICKS))
    return [(i + 0.5, value_label(values[i])) for i in range(0, len(values), step)]


def readout(study: SweepStudy, metric: str, i: int, j: int = 0) -> str:
    """One line on grid point (i, j): its settings, the metric's median, its seeds, whether it diverged."""
    d = study.definition
    where = ", ".join(f"{name}={value_label(value)}" for name, value in d.cell_values(i, j).items())
    finished, diverged = int(study.finished()[j, i]), int(study.diverged_seeds()[j, i])
    if not finished:
        return f"{where}: not trained yet"
    words = METRICS[metric][0]
    values = study.per_seed(metric)[j, i]
    counted = int(np.isfinite(values).sum())
    value = study.metric(metric)[j, i]
    text = f"{where}: {words} {value:.4g}" if counted else f"{where}: {words} —"
    if d.seeds > 1:
        text += f" (median of {counted} of {finished} seeds)" if counted else f" ({finished} seeds)"
    if diverged:
        text += f"; diverged: {'every seed' if diverged == finished else f'{diverged} of {finished} seeds'}"
    elif metric in ("epochs_to_target", "updates_to_target") and counted < finished:
        text += "; target never reached" if not counted else f"; {finished - counted} never reached the target"
    return text


def title(study: SweepStudy, metric: str) -> str:
    d, base = study.definition, study.definition.base
    names = " × ".join(axis.name for axis in d.axes)
    run = f"run “{shorten(d.run, 30)}”, " if d.run else ""
    seeds = f", median of {d.seeds} seeds" if d.seeds > 1 else ""
    return (f"{METRICS[metric][0].capitalize()} over {names} ({run}{base.optimizer}, batch {base.batch_size}, "
            f"{base.epochs} epochs{seeds})")


class SweepView(pg.GraphicsLayoutWidget):
    """The metric of a sweep study over its grid; created once, redrawn by ``show_study``."""

    hovered = Signal(str)  # the readout of the grid point under the pointer ("" off the grid)
    cell_clicked = Signal(int, int)  # (i, j) of the grid point clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.study: SweepStudy | None = None
        self.metric = "final_cost"
        self.title = self.addLabel("", row=0, col=0, colspan=2, color="#3c3c3c", size="11pt")
        self.plot = self.addPlot(row=1, col=0)
        self.bar = self.addPlot(row=1, col=1)
        self.legend = self.addLabel("", row=2, col=0, colspan=2, color="#3c3c3c", size="9pt")
        for plot in (self.plot, self.bar):
            for name in ("left", "bottom", "right"):
                plot.getAxis(name).setPen(FOREGROUND)
                plot.getAxis(name).setTextPen(FOREGROUND)
                plot.getAxis(name).enableAutoSIPrefix(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setMenuEnabled(False)
        # Two axes: diverged cells (grey) under the metric's image, crosses and run markers above.
        self.diverged_image = pg.ImageItem(axisOrder="row-major")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.crosses = pg.ScatterPlotItem(pxMode=True)
        self.markers = pg.ScatterPlotItem(pxMode=True)
        # One axis: the median and the band over the seeds.
        edge = pg.mkPen((0, 0, 0, 0))  # drawn (FillBetweenItem needs the curves), but unseen
        self.band_low = pg.PlotDataItem(pen=edge, connect="finite")
        self.band_high = pg.PlotDataItem(pen=edge, connect="finite")
        fill = pg.mkColor(LINE_COLOUR)
        fill.setAlpha(60)
        self.band = pg.FillBetweenItem(self.band_low, self.band_high, brush=fill)
        self.line = pg.PlotDataItem(pen=pg.mkPen(LINE_COLOUR, width=2), symbol="o", symbolSize=5,
                                    symbolBrush=LINE_COLOUR, symbolPen=None, connect="finite")
        for item in (self.diverged_image, self.image, self.band_low, self.band_high, self.band, self.line,
                     self.crosses, self.markers):
            self.plot.addItem(item)
        self.bar_image = pg.ImageItem(axisOrder="row-major")
        self.bar.addItem(self.bar_image)
        self.bar.hideAxis("left")
        self.bar.showAxis("right")
        self.bar.getAxis("bottom").setTicks([[]])
        self.bar.setLabel("bottom", " ")  # as tall as the plot's bottom axis: the bar spans the plot's height
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=False)  # the first value's label stays
        self.bar.setFixedWidth(80)
        self._marks: list[tuple[int, int, str, str]] = []
        self.scene().sigMouseClicked.connect(self._clicked)

    # ---- drawing -------------------------------------------------------------------------------------------

    def show_study(self, study: SweepStudy | None, metric: str | None = None) -> None:
        """Draw ``study``'s metric (default: the one shown); called again as cells arrive."""
        self.study = study
        if metric is not None:
            METRICS[metric]  # noqa: B018 (KeyError for a metric that does not exist)
            self.metric = metric
        if study is None:
            return
        two = len(study.definition.axes) == 2
        for item in (self.diverged_image, self.image):
            item.setVisible(two)
        for item in (self.band_low, self.band_high, self.band, self.line):
            item.setVisible(not two)
        self.bar.setVisible(two)
        self.title.setText(html.escape(title(study, self.metric)))
        self._draw_heat_map(study) if two else self._draw_line(study)
        self._draw_crosses(study, two)
        self._draw_markers()

    def set_marks(self, marks: list[tuple[int, int, str, str]]) -> None:
        """Circles on grid points: (i, j, colour, name) of each of the comparison's runs on the grid."""
        self._marks = list(marks)
        self._draw_markers()

    def _label_axes(self, study: SweepStudy, two: bool) -> None:
        d = study.definition
        bottom = self.plot.getAxis("bottom")
        bottom.setTicks([axis_ticks(d.values(0))])
        self.plot.setLabel("bottom", f"{d.axes[0].name} ({d.axes[0].scale})")
        left = self.plot.getAxis("left")
        if two:
            left.setTicks([axis_ticks(d.values(1))])
            self.plot.setLabel("left", f"{d.axes[1].name} ({d.axes[1].scale})")
        else:
            left.setTicks(None)
            scale = " (log)" if log_scale(self.metric) else ""
            self.plot.setLabel("left", METRICS[self.metric][0] + scale)

    def _draw_heat_map(self, study: SweepStudy) -> None:
        ny, nx = study.definition.shape
        self.plot.setLogMode(False, False)
        self._label_axes(study, True)
        values = colour_values(self.metric, study.metric(self.metric))
        low, high = _levels(values)
        lut = cost_lut(256) if METRICS[self.metric][2] else cost_lut(256)[::-1]  # the better end alike
        self.image.setImage(values, levels=(low, high), lut=lut, autoLevels=False)
        self.image.setRect(0, 0, nx, ny)
        grey = np.zeros((ny, nx, 4), dtype=np.ubyte)
        grey[study.diverged() == ALL] = DIVERGED_GREY
        self.diverged_image.setImage(grey, autoLevels=False, levels=(0, 255))
        self.diverged_image.setRect(0, 0, nx, ny)
        self.plot.setXRange(0, nx, padding=0)
        self.plot.setYRange(0, ny, padding=0)
        ramp = np.linspace(low, high, 256).reshape(256, 1)
        self.bar_image.setImage(ramp, levels=(low, high), lut=lut, autoLevels=False)
        self.bar_image.setRect(0, low, 1, high - low)
        self.bar.setLogMode(False, log_scale(self.metric))
        self.bar.setXRange(0, 1, padding=0)
        self.bar.setYRange(low, high, padding=0)
        self.bar.setLabel("right", METRICS[self.metric][0] + (" (log)" if log_scale(self.metric) else ""))

    def _draw_line(self, study: SweepStudy) -> None:
        nx = study.definition.shape[1]
        log = log_scale(self.metric)
        self.plot.setLogMode(False, log)
        self._label_axes(study, False)
        x = np.arange(nx) + 0.5
        median = study.metric(self.metric)[0]
        low, high = (band[0] for band in study.band(self.metric))
        if log:  # a log axis has no place for 0 (a target reached at epoch 0): the line leaves a gap there
            median, low, high = (np.where(v > 0, v, np.nan) for v in (median, low, high))
        for item, values in ((self.line, median), (self.band_low, low), (self.band_high, high)):
            if np.isfinite(values).any():  # gaps (NaN: no value yet) break the line
                item.setData(x, values)
            else:  # nothing yet: an empty item (all-NaN data makes pyqtgraph warn)
                item.setData([], [])
        self.plot.setXRange(0, nx, padding=0)
        self.plot.enableAutoRange(axis="y")

    def _draw_crosses(self, study: SweepStudy, two: bool) -> None:
        state = study.diverged()
        j_all, i_all = np.nonzero(state == ALL)
        j_some, i_some = np.nonzero(state == SOME)
        pen = pg.mkPen(CROSS_COLOUR, width=2)
        if two:
            y_all, y_some = j_all + 0.5, j_some + 0.5
        else:  # one axis: the crosses along the top of the plot
            top = self._line_top()
            y_all, y_some = np.full(len(i_all), top), np.full(len(i_some), top)
        spots = [{"pos": (i + 0.5, y), "size": 16, "symbol": "x", "pen": pen, "brush": pg.mkBrush(CROSS_COLOUR)}
                 for i, y in zip(i_all, y_all, strict=True)]
        spots += [{"pos": (i + 0.5, y), "size": 8, "symbol": "x", "pen": pen, "brush": pg.mkBrush(CROSS_COLOUR)}
                  for i, y in zip(i_some, y_some, strict=True)]
        self.crosses.setData(spots)

    def _line_top(self) -> float:
        """The top of the one-axis plot's data in its coordinates (log10 on a log scale)."""
        _, y = self.band_high.getData()
        _, m = self.line.getData()
        values = np.concatenate([v for v in (y, m) if v is not None] or [np.array([1.0])])
        values = values[np.isfinite(values)]
        return float(values.max()) if values.size else 0.0

    def _draw_markers(self) -> None:
        if self.study is not None:
            self.legend.setText(legend(self.study, len(self._marks)))
        one = self.study is not None and len(self.study.definition.axes) == 1
        _, line = self.line.getData() if one else (None, None)
        spots = []
        for i, j, colour, name in self._marks:
            y = j + 0.5
            if one:  # on the line (its display coordinates: log10 on a log scale); off it where it has no point
                if line is None or i >= len(line) or not np.isfinite(line[i]):
                    continue
                y = line[i]
            spots.append({"pos": (i + 0.5, y), "size": 15, "symbol": "o", "brush": None,
                          "pen": pg.mkPen(colour, width=2.5), "data": name})
        self.markers.setData(spots)

    # ---- the pointer ---------------------------------------------------------------------------------------

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """The grid point (i, j) under a scene position, or None."""
        if self.study is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        ny, nx = self.study.definition.shape
        point = self.plot.vb.mapSceneToView(scene_pos)
        i = math.floor(point.x())
        j = math.floor(point.y()) if ny > 1 or len(self.study.definition.axes) == 2 else 0
        return (i, j) if 0 <= i < nx and 0 <= j < ny else None

    def cell_centre(self, i: int, j: int = 0) -> QPointF:
        """Where grid point (i, j)'s centre is in the scene (the middle of the plot's height for one axis)."""
        if self.study is not None and len(self.study.definition.axes) == 2:
            return self.plot.vb.mapViewToScene(QPointF(i + 0.5, j + 0.5))
        rect = self.plot.vb.sceneBoundingRect()
        x = self.plot.vb.mapViewToScene(QPointF(i + 0.5, 0)).x()
        return QPointF(x, rect.center().y())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # Here rather than the scene's sigMouseMoved, which drops moves under 1/60 s apart: the readout could
        # name a cell the pointer has left.
        super().mouseMoveEvent(event)
        cell = self.cell_at(self.mapToScene(event.position().toPoint()))
        self.hovered.emit("" if cell is None else readout(self.study, self.metric, *cell))

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().leaveEvent(event)
        self.hovered.emit("")

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)


def render_study(study: SweepStudy, metric: str = "final_cost", width: int = 900, height: int = 675,
                 marks: list | None = None) -> QImage:
    """The view of ``study`` drawn into a QImage of width × height (needs a QApplication)."""
    view = SweepView()
    try:
        view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        view.resize(width, height)
        view.show_study(study, metric)
        view.set_marks(marks or [])
        QApplication.processEvents()
        image = QImage(width, height, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)  # render(), not grab(): grab() of this view crashes on the offscreen platform
        try:
            view.render(painter)
        finally:
            painter.end()
        return image
    finally:
        view.close()
        view.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)  # gone before the application
