"""The network view's pieces without its state: the columns drawn (which units, their images), the words of
the read-outs, and the canvas that paints a frame and passes the pointer on."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen, QPixmap, QStaticText
from PySide6.QtWidgets import QToolTip, QWidget

from nnviz.core.datasets import DEFAULT_FEATURES, FEATURE_LABELS
from nnviz.core.grid import GridEvaluator, operations_per_point
from nnviz.core.health import Health, percent
from nnviz.core.network import Layout
from nnviz.gui.map_drawing import pixel_font
from nnviz.gui.map_shared import BACKGROUND, FOREGROUND, NOTE_COLOR
from nnviz.gui.network_paint import (
    FOOT,
    NEGATIVE_WEIGHT,
    POSITIVE_WEIGHT,
    Lines,
    Plan,
    Scale,
    diverging,
    draw_centred,
    draw_lines,
    draw_scale_strip,
    probability,
    qimage,
    sequential,
)

TOP_K = 12  # a layer wider than this shows its TOP_K units of largest outgoing ‖w‖ unless "show all"
LABEL_BACKGROUND = QColor(255, 255, 255, 200)  # behind the text on a unit


KEY_TIP = ("Lines: the weights between the units shown, blue positive, orange negative, as wide as |w| relative "
           "to the largest |w| of their layer.\nThe bar along a unit's lower edge: its bias, to the right when "
           "positive (blue), to the left when negative (orange), as long as |b| relative to its layer's largest.")


def key_text(note: str) -> str:
    """The key over the network (rich text): the lines' colours and width, the bias bar, then ``note``."""
    return (f"<span style='color:{POSITIVE_WEIGHT}'>━</span> w &gt; 0 &nbsp;"
            f"<span style='color:{NEGATIVE_WEIGHT}'>━</span> w &lt; 0 &nbsp;(width ∝ |w|);"
            f" bar on a unit: its bias" + (f" &nbsp;· {note}" if note else ""))


def check_unit(shape: tuple[int, ...] | None, layer: int, unit: int) -> None:
    """Raise ValueError naming the field and its range unless ``unit`` of column ``layer`` is in ``shape``."""
    if shape is None:
        raise ValueError("no network shown")
    if not 0 <= layer < len(shape):
        raise ValueError(f"layer={layer}: must be from 0 to {len(shape) - 1}")
    if not 0 <= unit < shape[layer]:
        raise ValueError(f"unit={unit}: layer {layer} has units 0 to {shape[layer] - 1}")


def layer_name(layer: int, layers: int) -> str:
    """'inputs', 'hidden layer 2' or 'output' for column ``layer`` of ``layers`` columns."""
    return "inputs" if layer == 0 else "output" if layer == layers - 1 else f"hidden layer {layer}"


def unit_name(layer: int, unit: int, shape: tuple[int, ...], inputs: tuple[str, ...] = DEFAULT_FEATURES) -> str:
    """What a unit is called in read-outs; units are numbered from 1 ('hidden layer 2, unit 3 of 8'); an input by
    its feature ('input x₁²')."""
    if layer == 0:
        return f"input {FEATURE_LABELS.get(inputs[unit], inputs[unit])}"
    if layer == len(shape) - 1:
        return "output"
    return f"hidden layer {layer}, unit {unit + 1} of {shape[layer]}"


def unit_text(layer: int, unit: int, shape: tuple[int, ...], bias: float | None, activation: str,
              health: Health | None, value: float, x1: float, x2: float,
              inputs: tuple[str, ...] = DEFAULT_FEATURES) -> str:
    """The read-out of a unit: its name, bias, the share of the data it is active (or saturated) on, and its
    value at (x1, x2)."""
    parts = [unit_name(layer, unit, shape, inputs)]
    if bias is not None:
        parts.append(f"bias {bias:.4g}")
    if layer == len(shape) - 1:
        share = "—" if health is None else percent(health.output_saturated)
        parts.append(f"saturated (p within 1e-6 of 0 or 1) on {share} of the data")
        what = "P(class 1)"
    else:
        if layer > 0:
            share = "—" if health is None else percent(health.active[layer - 1][unit])
            state = "active" if activation == "relu" else "saturated (|tanh| > 0.99)"
            parts.append(f"{state} on {share} of the data")
        what = "value"
    if layer > 0 and health is not None:
        parts.append(f"layer's ‖∂J/∂W‖ {health.gradient[layer - 1]:.2g}")
    if layer > 0 and health is not None and health.epoch is not None:  # an input is the same at every epoch
        parts[-1] += f" (at epoch {health.epoch:,})"
    parts.append(f"{what} {value:.4g} at x₁ = {x1:.3g}, x₂ = {x2:.3g}")
    return " · ".join(parts)


def line_text(lines: Lines, index: int, shape: tuple[int, ...], inputs: tuple[str, ...] = DEFAULT_FEATURES) -> str:
    layer, source, target = (int(v) for v in lines.source[index])
    return (f"weight {unit_name(layer, source, shape, inputs)} → {unit_name(layer + 1, target, shape)}: "
            f"{lines.weight[index]:.4g}")


@dataclass
class Column:
    """One layer as drawn this frame."""

    layer: int
    units: np.ndarray  # the units shown, in display order
    scale: Scale
    pixels: np.ndarray  # (m, n, n) uint32 ARGB of the shown units, row 0 at the top
    biases: np.ndarray | None  # (m,) the shown units' biases (None for the inputs)
    bias_max: float  # the layer's largest |b|
    note: str  # under the column: which units are shown
    labels: tuple[str, ...] = ()  # the inputs' names (x₁, x₂ or their features), for the input column


def cells_for(layout: Layout, work: float, cells: tuple[int, int]) -> int:
    """Cells per side so that one grid evaluation costs about ``work`` multiply-adds, within ``cells``."""
    return int(np.clip(math.isqrt(int(work // operations_per_point(layout))), *cells))


def reuse_evaluator(evaluator: GridEvaluator | None, layout: Layout, activation: str, extent,
                    n: int) -> GridEvaluator:
    """``evaluator`` when it evaluates this network over ``extent`` with ``n`` cells a side, else a new one."""
    extent = tuple(float(v) for v in extent)
    if (evaluator is None or evaluator.layout != layout or evaluator.activation != activation
            or evaluator.extent != extent or evaluator.n != n):
        evaluator = GridEvaluator(layout, activation, extent, n)
    return evaluator


def grid_values(evaluator: GridEvaluator, params: np.ndarray) -> list[np.ndarray]:
    """Every column's values over the evaluator's grid, (units, n, n) float32 each: the inputs, then every
    layer's outputs from the one call."""
    evaluator(params)
    return [evaluator.input_values(), *evaluator.layer_outputs()]


def column_scale(layer: int, values: np.ndarray, activation: str, layers: int, extent) -> Scale:
    """Inputs: ±their largest |x| (a feature larger than the plane, e.g. x₁²: ±its largest value over the grid);
    tanh: −1..1; relu: 0..the layer's max over the grid; output: p 0..1."""
    if layer == 0:
        plane = max(abs(v) for v in extent)
        largest = float(np.abs(values).max()) if values.size else 0.0
        return diverging(largest if largest > plane else plane)
    if layer == layers - 1:
        return probability()
    return diverging(1.0) if activation == "tanh" else sequential(float(values.max()))


def build_columns(values: list[np.ndarray], views, shape: tuple[int, ...], activation: str, extent,
                  show_all: bool, inputs: tuple[str, ...] = DEFAULT_FEATURES) -> list[Column]:
    """The columns of a frame: layers wider than TOP_K ordered by their outgoing weights' norm, cut to the
    top TOP_K unless ``show_all``; one lookup-table operation per layer makes the shown units' images."""
    layers = len(shape)
    columns = []
    for layer, grid in enumerate(values):
        total = shape[layer]
        units, note = np.arange(total), ""
        if 0 < layer < layers - 1 and total > TOP_K:
            strength = np.linalg.norm(views[layer][0], axis=1)  # each unit's outgoing weights
            units = np.argsort(-strength, kind="stable")
            note = f"all {total}, by outgoing |w|"
            if not show_all:
                units, note = units[:TOP_K], f"top {TOP_K} of {total} by outgoing |w|"
        scale = column_scale(layer, grid, activation, layers, extent)
        biases, bias_max = None, 0.0
        if layer > 0:
            b = views[layer - 1][1]
            biases, bias_max = b[units], float(np.max(np.abs(b)))
        labels = tuple(FEATURE_LABELS.get(name, name) for name in inputs) if layer == 0 else ()
        columns.append(Column(layer, units, scale, scale.images(grid[units]), biases, bias_max, note, labels))
    return columns


class NetworkCanvas(QWidget):
    """Paints a frame (columns, plan, lines) and reports the pointer; ``tooltip(pos)`` gives hover text."""

    hovered = Signal(object)  # QPointF in this widget, None when the pointer leaves
    pressed = Signal(object)  # QPointF of a left click
    resized = Signal()

    def __init__(self, tooltip=None):
        super().__init__()
        self.columns: list[Column] = []
        self.plan: Plan | None = None
        self.lines = Lines.empty()
        self.tooltip = tooltip or (lambda pos: "")
        self.paint_s = 0.0  # seconds the last paint took (what a redraw costs beyond show_frame)
        self._backdrop: tuple[Plan, tuple, QPixmap] | None = None  # (plan, what else it shows, pixmap)
        self.setMouseTracking(True)
        self.setMinimumSize(200, 160)

    def show_frame(self, columns: list[Column], plan: Plan | None, lines: Lines) -> None:
        self.columns, self.plan, self.lines = columns, plan, lines
        self.update()

    def unit_at(self, pos: QPointF) -> tuple[int, int, float, float] | None:
        """(layer, unit, fx, fy) of the unit under ``pos``, fx and fy from its top left, 0..1."""
        if self.plan is None:
            return None
        side = self.plan.side
        for column, slots in zip(self.columns, self.plan.slots, strict=True):
            fx = (pos.x() - slots[:, 0]) / side
            fy = (pos.y() - slots[:, 1]) / side
            inside = np.flatnonzero((fx >= 0) & (fx < 1) & (fy >= 0) & (fy < 1))
            if len(inside):
                k = inside[0]
                return column.layer, int(column.units[k]), float(fx[k]), float(fy[k])
        return None

    def resizeEvent(self, event) -> None:
        self.resized.emit()

    def mouseMoveEvent(self, event) -> None:
        self.hovered.emit(event.position())

    def leaveEvent(self, event) -> None:
        self.hovered.emit(None)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.pressed.emit(event.position())
        event.accept()

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            text = self.tooltip(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:
        started = time.perf_counter()
        try:
            self._paint()
        finally:
            self.paint_s = time.perf_counter() - started

    def _paint(self) -> None:
        painter = QPainter(self)
        plan = self.plan
        if not self.columns or plan is None:
            painter.fillRect(self.rect(), QColor(BACKGROUND))
            draw_centred(painter, "no network to show", self.width() / 2, self.height() / 2, 13, color=NOTE_COLOR)
            painter.end()
            return
        painter.drawPixmap(0, 0, self._backdrop_for(plan))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        draw_lines(painter, self.lines)
        draw_units(painter, self.columns, plan)
        painter.end()

    def _backdrop_for(self, plan: Plan) -> QPixmap:
        """The background, the columns' headers, colour strips and notes: drawn again only when they change
        (while training only the lines and the units do, and a repaint copies this pixmap instead)."""
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio,
               tuple((c.layer, c.scale.kind, c.scale.label(c.scale.low), c.scale.label(c.scale.high), c.note)
                     for c in self.columns))
        if self._backdrop is None or self._backdrop[0] is not plan or self._backdrop[1] != key:
            pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(QColor(BACKGROUND))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            draw_backdrop(painter, self.columns, plan, self.width())
            painter.end()
            self._backdrop = (plan, key, pixmap)
        return self._backdrop[2]


def draw_backdrop(painter: QPainter, columns: list[Column], plan: Plan, width: float) -> None:
    """Each column's name and colour strip above it and its note under it."""
    layers = len(columns)
    centres = list(plan.centres)
    gaps = [b - a for a, b in zip(centres, centres[1:], strict=False)] or [width]
    header = QFontMetricsF(pixel_font(12, True))
    for i, (column, centre, room_x) in enumerate(zip(columns, plan.centres, plan.widths, strict=True)):
        room = min(gaps[max(i - 1, 0)], gaps[min(i, len(gaps) - 1)]) - 6  # to the neighbouring headers
        names = [layer_name(column.layer, layers), f"hidden {column.layer}", f"h{column.layer}"]
        name = next((n for n in names if header.horizontalAdvance(n) <= room), names[-1])
        draw_centred(painter, name if 0 < column.layer < layers - 1 else names[0], centre, 14, 12, bold=True)
        draw_scale_strip(painter, centre, 22, float(np.clip(room_x - 30, 36, 100)), column.scale, room + 2)
    bottom = plan.height - FOOT + 14
    note = QFontMetricsF(pixel_font(10))
    for i, (column, centre) in enumerate(zip(columns, plan.centres, strict=True)):
        room = min(gaps[max(i - 1, 0)], gaps[min(i, len(gaps) - 1)]) - 4
        rows = column.note.split(" by ", 1) if column.note.startswith("top") else [column.note]
        if rows and max(note.horizontalAdvance(r) for r in rows) > room:  # narrow: "top 12 of 256", "12/256"
            rows = rows[:1]
            if note.horizontalAdvance(rows[0]) > room and rows[0].startswith("top "):
                rows = [rows[0][4:].replace(" of ", "/")]
        for row, text in enumerate(rows):
            draw_centred(painter, f"by {text}" if row else text, centre, bottom + 12 * row, 10, color=NOTE_COLOR)


SMOOTH_ABOVE = 1.25  # unit maps drawn larger than this times their cells a side are smoothed
FRAME_PEN = QPen(QColor(150, 150, 150), 0.8)  # a unit's frame
BIAS_COLORS = (QColor(POSITIVE_WEIGHT), QColor(NEGATIVE_WEIGHT))
_LABELS: dict[str, QStaticText] = {}  # laid out once: a repaint while training draws the same few again


def _label(text: str) -> QStaticText:
    label = _LABELS.get(text)
    if label is None:
        if len(_LABELS) > 512:
            _LABELS.clear()
        label = _LABELS[text] = QStaticText(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def draw_units(painter: QPainter, columns: list[Column], plan: Plan) -> None:
    """Each unit's image with a thin frame, its bias as a signed bar along its bottom, labels when large."""
    side = plan.side
    font = pixel_font(10)
    metrics = QFontMetricsF(font)
    painter.setFont(font)
    label_height = metrics.height()
    for column, slots in zip(columns, plan.slots, strict=True):
        rects = [QRectF(left, top, side, side) for left, top in slots.tolist()]
        # Smoothed only when enlarged: near its own size a map drawn from the nearest cells looks the same, and
        # a smooth (bilinear) transform costs ~6 times as much (0.29 -> 0.04 ms for the notebook's 10 units).
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, side > SMOOTH_ABOVE * column.pixels.shape[-1])
        for rect, pixels in zip(rects, column.pixels, strict=True):
            painter.drawImage(rect, qimage(pixels))
        painter.setPen(FRAME_PEN)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRects(rects)
        if column.biases is not None and column.bias_max > 0:
            half = np.abs(column.biases) / column.bias_max * side / 2
            for rect, bias, length in zip(rects, column.biases.tolist(), half.tolist(), strict=True):
                x = rect.left() + side / 2 - (length if bias < 0 else 0)
                painter.fillRect(QRectF(x, rect.top() + side - 3, length, 3), BIAS_COLORS[bias < 0])
        if side < 22:
            continue
        if column.layer == 0:
            labels = [column.labels[unit] for unit in column.units.tolist()]
        elif side >= 44 and column.biases is not None:
            labels = [f"b {bias:.2g}" for bias in column.biases.tolist()]
        else:
            continue
        painter.setPen(QColor(FOREGROUND))
        for rect, label in zip(rects, labels, strict=True):
            box = QRectF(rect.left() + 1, rect.top() + 1, metrics.horizontalAdvance(label) + 4, label_height)
            painter.fillRect(box, LABEL_BACKGROUND)
            painter.drawStaticText(QPointF(box.left() + 2, box.top()), _label(label))  # its top left
