"""One unit of the network view shown large: its map at a higher resolution, the data on top, a colour bar."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from nnviz.core.datasets import FEATURE_LABELS
from nnviz.core.grid import GridEvaluator
from nnviz.gui.map_drawing import Frame, class_sprites, draw_axes, draw_vertical, pixel_font
from nnviz.gui.map_shared import BACKGROUND, FOREGROUND, MapPoints, fit_extent, nice_ticks, tick_label
from nnviz.gui.network_canvas import cells_for, column_scale, grid_values, reuse_evaluator, unit_name
from nnviz.gui.network_paint import Scale, diverging, qimage

LEFT, RIGHT, TOP, BOTTOM = 58, 86, 10, 46  # pixels around the plot: y axis, colour bar, x axis
LARGE_WORK = 500_000_000  # multiply-adds the large unit's grid may cost (~12 ms here) ...
LARGE_CELLS = (48, 200)  # ... with 48 to 200 cells per side


class LargeUnit:
    """The unit shown large: which one, its ``UnitPage`` and a grid of its own at a higher resolution.
    ``unit_text(layer, unit, value, x1, x2)`` words a hover read-out, ``say(text)`` shows it."""

    def __init__(self, unit_text: Callable[[int, int, float, float, float], str], say: Callable[[str], None]):
        self.page = UnitPage()
        self.unit: tuple[int, int] | None = None  # (layer, unit) shown, None when closed
        self._unit_text, self._say = unit_text, say
        self._evaluator: GridEvaluator | None = None
        self._source: tuple | None = None  # (model, extent, title) last drawn from, for a resize
        self.page.map.hovered.connect(self._hover)
        self.page.map.resized.connect(self._resized)

    def open(self, layer: int, unit: int, model: tuple, extent, title: str) -> None:
        self.unit = (int(layer), int(unit))
        self.show(model, extent, title)
        self.page.button.setFocus()

    def close(self) -> None:
        self.unit = self._source = None
        self._evaluator = None  # its buffers are the largest the view holds

    def show(self, model: tuple | None, extent, title: str) -> None:
        """Draw the unit from ``model`` = (params, layout, activation) over the data's plane ``extent``, in one
        grid evaluation; ``title`` names what is shown."""
        self._source = (model, extent, title)
        if self.unit is None or model is None:
            return
        layer, unit = self.unit
        params, layout, activation = model
        area = self.page.map.plot_area()
        ev = self._evaluator = reuse_evaluator(self._evaluator, layout, activation,
                                               fit_extent(extent, area.width(), area.height()),
                                               cells_for(layout, LARGE_WORK, LARGE_CELLS))
        outputs = grid_values(ev, params)
        layers = len(layout.shape)
        # The column's scale rule over the data's plane (the page shows a wider one): the same colours as small;
        # an input, shown alone, on its own range over that plane.
        x0, x1, y0, y1 = extent
        rows = np.flatnonzero((ev.ys >= y0) & (ev.ys <= y1))
        cols = np.flatnonzero((ev.xs >= x0) & (ev.xs <= x1))
        inside = outputs[layer][:, rows][:, :, cols] if len(rows) and len(cols) else outputs[layer]
        if layer == 0:  # one input alone, on its own range: sin x₁ (±1) on the plane's ±6 would look blank
            scale = diverging(float(np.abs(inside[unit]).max()) or 1.0)
        else:
            scale = column_scale(layer, inside, activation, layers, extent)
        label = "P(class 1)" if layer == layers - 1 else f"{activation} output"
        if layer == 0:
            label = FEATURE_LABELS.get(layout.inputs[unit], layout.inputs[unit])
        self.page.map.show_values(outputs[layer][unit].copy(), ev.xs, ev.ys, scale, ev.extent, label)
        name = unit_name(layer, unit, layout.shape, layout.inputs)
        self.page.set_title(f"{name} — {title}" if title else name)

    def values(self) -> np.ndarray | None:
        """The values shown, (n, n) (a copy; None when closed)."""
        values = self.page.map.values
        return None if self.unit is None or values is None else values.copy()

    def scale_range(self) -> tuple[float, float] | None:
        """(low, high) of the colour scale shown (None when closed)."""
        if self.unit is None:
            return None
        scale = self.page.map.scale
        return scale.low, scale.high

    @property
    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(x₁ of each column, x₂ of each row) of the map's grid (cell centres)."""
        return self.page.map.xs.copy(), self.page.map.ys.copy()

    def text(self, pos: QPointF) -> str:
        """The read-out at ``pos`` (the map's coordinates), '' off the map or when closed."""
        cell = self.page.map.cell_at(pos)
        if cell is None or self.unit is None:
            return ""
        i, j = cell
        large = self.page.map
        return self._unit_text(*self.unit, float(large.values[i, j]), large.xs[j], large.ys[i])

    def _hover(self, pos: QPointF | None) -> None:
        self._say((self.text(pos) if pos is not None else "") or " ")

    def _resized(self) -> None:
        if self.unit is not None and self._source is not None:
            self.show(*self._source)


class UnitPage(QWidget):
    """Back button and title over a ``LargeMap``; ``back`` is emitted by the button (Esc is the view's)."""

    back = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.button = QPushButton("← Back")
        self.button.setToolTip("Back to the whole network (Esc)")
        self.button.clicked.connect(self.back)
        self.title = QLabel()
        self.title.setStyleSheet(f"color: {FOREGROUND}; font-weight: bold;")
        self.map = LargeMap()
        top = QHBoxLayout()
        top.addWidget(self.button)
        top.addWidget(self.title, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.map, 1)

    def set_title(self, text: str) -> None:
        if text != self.title.text():
            self.title.setText(text)


class LargeMap(QWidget):
    """A unit's values over the plane (kept to the plane's aspect), the data as points, axes and a colour bar."""

    hovered = Signal(object)  # the pointer's QPointF in this widget, None when it leaves
    resized = Signal()  # the plot's aspect changed: the plane shown should be fitted again

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 200)
        self.values: np.ndarray | None = None  # (n, n), row i at ys[i]; what the image shows
        self.xs = self.ys = np.zeros(1)
        self._pixels: np.ndarray | None = None  # (n, n) uint32 ARGB, row 0 at the top
        self._scale: Scale | None = None
        self._extent = (-1.0, 1.0, -1.0, 1.0)
        self._bar_label = ""
        self._points: MapPoints | None = None
        self._overlay: tuple[tuple, QImage] | None = None  # ((size, points), the scatter drawn once)

    def show_values(self, values: np.ndarray, xs: np.ndarray, ys: np.ndarray, scale: Scale,
                    extent: tuple[float, float, float, float], bar_label: str) -> None:
        """values (n, n) float, row i at ys[i], column j at xs[j]; drawn with ``scale`` over ``extent``."""
        self.values, self.xs, self.ys = values, xs, ys
        self._pixels = np.ascontiguousarray(scale.images(values[None])[0])
        self._scale, self._extent, self._bar_label = scale, extent, bar_label
        self.update()

    @property
    def scale(self) -> Scale | None:
        """The colour scale of the values shown."""
        return self._scale

    def set_points(self, points: MapPoints | None) -> None:
        self._points = points
        self._overlay = None
        self.update()

    def plot_area(self) -> QRectF:
        """The room for the map (the plane shown is fitted to its aspect, as the decision map's is)."""
        return QRectF(LEFT, TOP, max(2.0, self.width() - LEFT - RIGHT), max(2.0, self.height() - TOP - BOTTOM))

    def resizeEvent(self, event) -> None:
        self.resized.emit()

    def plot_rect(self) -> QRectF:
        """Where the map is drawn: as large as fits, at the plane's aspect ratio."""
        x_min, x_max, y_min, y_max = self._extent
        aspect = (y_max - y_min) / (x_max - x_min)
        width = max(2.0, self.width() - LEFT - RIGHT)
        height = max(2.0, self.height() - TOP - BOTTOM)
        width, height = min(width, height / aspect), min(height, width * aspect)
        return QRectF(LEFT + (self.width() - LEFT - RIGHT - width) / 2, TOP, width, height)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(row i, column j) of the grid under ``pos`` (widget coordinates), None outside the map."""
        if self.values is None:
            return None
        plot = self.plot_rect()
        if not plot.contains(pos):
            return None
        n_rows, n_cols = self.values.shape
        j = min(int((pos.x() - plot.left()) / plot.width() * n_cols), n_cols - 1)
        i = n_rows - 1 - min(int((pos.y() - plot.top()) / plot.height() * n_rows), n_rows - 1)
        return i, j

    def mouseMoveEvent(self, event) -> None:
        self.hovered.emit(event.position())

    def leaveEvent(self, event) -> None:
        self.hovered.emit(None)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(BACKGROUND))
        if self._pixels is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        plot = self.plot_rect()
        painter.drawImage(plot, qimage(self._pixels))
        painter.drawImage(plot.topLeft(), self._scatter(plot))
        x_min, x_max, y_min, y_max = self._extent
        values, decimals = nice_ticks(y_min, y_max)
        frame = Frame(plot, self.height(), 4.0, 1.0, 4.0, 3.0)
        draw_axes(painter, frame, self._extent, [tick_label(v, decimals) for v in values])
        self._draw_colorbar(painter, plot)
        painter.end()

    def _scatter(self, plot: QRectF) -> QImage:
        """The data drawn once per size and data set, as a transparent layer over the map."""
        key = (round(plot.width()), round(plot.height()), id(self._points))
        if self._overlay is not None and self._overlay[0] == key:
            return self._overlay[1]
        image = QImage(max(1, key[0]), max(1, key[1]), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        if self._points is not None:
            x_min, x_max, y_min, y_max = self._extent
            painter = QPainter(image)
            for sprite, drawn in zip(class_sprites(1.0, False), (*self._points.train, *self._points.test),
                                     strict=True):
                if not len(drawn):
                    continue
                half = sprite.width() / 2
                px = (drawn[:, 0] - x_min) / (x_max - x_min) * key[0] - half
                py = (y_max - drawn[:, 1]) / (y_max - y_min) * key[1] - half
                for u, v in np.column_stack([np.rint(px), np.rint(py)]).astype(int).tolist():
                    painter.drawImage(QPoint(u, v), sprite)
            painter.end()
        self._overlay = (key, image)
        return image

    def _draw_colorbar(self, painter: QPainter, plot: QRectF) -> None:
        scale = self._scale
        bar = QRectF(plot.right() + 12, plot.top(), 14, plot.height())
        column = np.ascontiguousarray(scale.table[::-1].reshape(-1, 1))
        painter.drawImage(bar, qimage(column))
        painter.setPen(QPen(QColor(FOREGROUND), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(bar)
        font = pixel_font(11)
        metrics = QFontMetricsF(font)
        painter.setFont(font)
        values, decimals = nice_ticks(scale.low, scale.high, most=5)
        widest = 0.0
        for value in values:
            y = bar.bottom() - (value - scale.low) / (scale.high - scale.low) * bar.height()
            painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y))
            text = tick_label(value, decimals)
            widest = max(widest, metrics.horizontalAdvance(text))
            painter.drawText(QPointF(bar.right() + 7, y + metrics.ascent() / 2 - metrics.descent() / 2), text)
        label_font = pixel_font(12)
        painter.setFont(label_font)
        label_metrics = QFontMetricsF(label_font)
        draw_vertical(painter, self._bar_label, bar.right() + 10 + widest + label_metrics.ascent(), bar.center().y(),
                      label_metrics)
