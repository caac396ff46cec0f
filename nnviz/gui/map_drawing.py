"""The pieces ``render_map`` paints a decision map with, in output pixels scaled by ``Frame.scale``:
point sprites, the probability image, rich-text titles, the axes, the colour bar, the legend and the note.

QImage, QPainter and QTextDocument only (no widget), so they run on any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QTextDocument, QTextOption

from nnviz.gui.map_shared import (
    CLASS_COLORS,
    CONTOUR_COLOR,
    FOREGROUND,
    NOTE_COLOR,
    PROBABILITY_STOPS,
    nice_ticks,
    probability_lut,
    tick_label,
)


def pixel_font(pixels: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, round(pixels)))
    font.setBold(bold)
    return font


def marker_sprite(diameter: float, pen: QPen, brush: QBrush) -> QImage:
    """One marker, drawn once and stamped at every point."""
    side = math.ceil(diameter + pen.widthF()) + 2
    image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(pen)
    painter.setBrush(brush)
    painter.drawEllipse(QPointF(side / 2, side / 2), diameter / 2, diameter / 2)
    painter.end()
    return image


def class_sprites(scale: float, compact: bool) -> list[QImage]:
    """Markers of (class 0 train, class 1 train, class 0 test, class 1 test), as the view draws them."""
    size = (4 if compact else 6) * scale
    filled = [marker_sprite(size, QPen(QColor(255, 255, 255, 160), 0.6 * scale), QBrush(QColor(c)))
              for c in CLASS_COLORS]
    hollow = [marker_sprite(size + scale, QPen(QColor(c), 1.4 * scale), QBrush(Qt.BrushStyle.NoBrush))
              for c in CLASS_COLORS]
    return filled + hollow


def heat_image(probabilities: np.ndarray, discretize: bool) -> QImage:
    """The grid as an RGB image, p = 0 light blue .. 1 light orange; row 0 of the image is the top (y max)."""
    lut = probability_lut().astype(np.uint32)
    argb = (0xFF000000 | (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]).astype(np.uint32)
    p = probabilities > 0.5 if discretize else probabilities  # the same threshold as network.accuracy
    index = np.clip(np.rint(np.asarray(p, dtype=np.float32) * 255), 0, 255).astype(np.intp)
    pixels = np.ascontiguousarray(argb[index][::-1])
    ny, nx = pixels.shape
    return QImage(pixels.data, nx, ny, 4 * nx, QImage.Format.Format_RGB32).copy()  # copy: own the pixels


def text_document(html: str, pixels: float, width: float) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(pixel_font(pixels))
    option = QTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    doc.setDefaultTextOption(option)
    doc.setHtml(f"<span style='color: {FOREGROUND}'>{html}</span>")
    doc.setTextWidth(width)
    return doc


@dataclass
class Frame:
    """Where things go in the image, in output pixels."""

    plot: QRectF
    height: int
    title_top: float
    scale: float
    tick: float
    gap: float


def draw_axes(painter: QPainter, frame: Frame, shown, y_labels: list[str]) -> None:
    plot, s = frame.plot, frame.scale
    x_min, x_max, y_min, y_max = shown
    painter.setPen(QPen(QColor(FOREGROUND), s))
    painter.drawLine(QLineF(plot.bottomLeft(), plot.topLeft()))
    painter.drawLine(QLineF(plot.bottomLeft(), plot.bottomRight()))
    tick_font, label_font = pixel_font(11 * s), pixel_font(13 * s)
    metrics = QFontMetricsF(tick_font)
    painter.setFont(tick_font)
    values, decimals = nice_ticks(x_min, x_max)
    for value in values:
        x = plot.left() + (value - x_min) / (x_max - x_min) * plot.width()
        painter.drawLine(QLineF(x, plot.bottom(), x, plot.bottom() + frame.tick))
        text = tick_label(value, decimals)
        painter.drawText(QPointF(x - metrics.horizontalAdvance(text) / 2,
                                 plot.bottom() + frame.tick + frame.gap + metrics.ascent()), text)
    values, decimals = nice_ticks(y_min, y_max)
    for value, text in zip(values, y_labels, strict=False):
        y = plot.bottom() - (value - y_min) / (y_max - y_min) * plot.height()
        painter.drawLine(QLineF(plot.left() - frame.tick, y, plot.left(), y))
        painter.drawText(QPointF(plot.left() - frame.tick - frame.gap - metrics.horizontalAdvance(text),
                                 y + metrics.ascent() / 2 - metrics.descent() / 2), text)
    painter.setFont(label_font)
    label_metrics = QFontMetricsF(label_font)
    bottom_label_y = plot.bottom() + frame.tick + 2 * frame.gap + metrics.height() + label_metrics.ascent()
    painter.drawText(QPointF(plot.center().x() - label_metrics.horizontalAdvance("x₁") / 2, bottom_label_y), "x₁")
    draw_vertical(painter, "x₂", frame.title_top + label_metrics.ascent(), plot.center().y(), label_metrics)


def draw_vertical(painter: QPainter, text: str, baseline_x: float, centre_y: float, metrics: QFontMetricsF) -> None:
    """Text read bottom to top, its baseline at ``baseline_x``, centred on ``centre_y``."""
    painter.save()
    painter.translate(baseline_x, centre_y + metrics.horizontalAdvance(text) / 2)
    painter.rotate(-90)
    painter.drawText(QPointF(0, 0), text)
    painter.restore()


def draw_colorbar(painter: QPainter, frame: Frame) -> None:
    plot, s = frame.plot, frame.scale
    bar = QRectF(plot.right() + 10 * s, plot.top(), 14 * s, plot.height())
    lut = probability_lut()[::-1]  # p = 1 at the top
    gradient = np.ascontiguousarray(
        (0xFF000000 | (lut[:, 0].astype(np.uint32) << 16) | (lut[:, 1].astype(np.uint32) << 8) | lut[:, 2])
        .astype(np.uint32).reshape(-1, 1))
    painter.drawImage(bar, QImage(gradient.data, 1, len(gradient), 4, QImage.Format.Format_RGB32).copy())
    painter.setPen(QPen(QColor(FOREGROUND), s))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    tick_font = pixel_font(11 * s)
    metrics = QFontMetricsF(tick_font)
    painter.setFont(tick_font)
    widest = 0.0
    for value in PROBABILITY_STOPS:
        y = bar.bottom() - value * bar.height()
        painter.drawLine(QLineF(bar.right(), y, bar.right() + frame.tick, y))
        text = f"{value:g}"
        widest = max(widest, metrics.horizontalAdvance("0.75"))
        baseline = y + metrics.ascent() / 2 - metrics.descent() / 2
        painter.drawText(QPointF(bar.right() + frame.tick + frame.gap, baseline), text)
    label_font = pixel_font(13 * s)
    painter.setFont(label_font)
    label_metrics = QFontMetricsF(label_font)
    x = bar.right() + frame.tick + 2 * frame.gap + widest + label_metrics.ascent()
    draw_vertical(painter, "P(class 1)", x, bar.center().y(), label_metrics)


def draw_legend(painter: QPainter, frame: Frame, sprites: list[QImage], has_test: bool) -> None:
    plot, s = frame.plot, frame.scale
    entries = [("class 0", sprites[0]), ("class 1", sprites[1])]
    if has_test:
        entries.append(("test (hollow)", sprites[2]))
    entries.append(("p = 0.5", None))
    font = pixel_font(12 * s)
    metrics = QFontMetricsF(font)
    pad, symbol = 6 * s, 20 * s
    row = max(metrics.height(), sprites[2].height()) + 2 * s
    box = QRectF(0, 0, pad + symbol + pad + max(metrics.horizontalAdvance(t) for t, _ in entries) + pad,
                 2 * pad + row * len(entries))
    box.moveTopRight(QPointF(plot.right() - 8 * s, plot.top() + 8 * s))
    painter.setPen(QPen(QColor(200, 200, 200), s))
    painter.setBrush(QColor(255, 255, 255, 200))
    painter.drawRect(box)
    painter.setFont(font)
    for i, (text, sprite) in enumerate(entries):
        centre = QPointF(box.left() + pad + symbol / 2, box.top() + pad + (i + 0.5) * row)
        if sprite is None:
            pen = QPen(QColor(CONTOUR_COLOR), 2 * s)
            painter.setPen(pen)
            painter.drawLine(QLineF(centre.x() - symbol / 2, centre.y(), centre.x() + symbol / 2, centre.y()))
        else:
            painter.drawImage(QPointF(centre.x() - sprite.width() / 2, centre.y() - sprite.height() / 2), sprite)
        painter.setPen(QColor(FOREGROUND))
        painter.drawText(QPointF(box.left() + pad + symbol + pad, centre.y() + metrics.ascent() / 2
                                 - metrics.descent() / 2), text)


def draw_note(painter: QPainter, frame: Frame, text: str, compact: bool) -> None:
    plot, s = frame.plot, frame.scale
    font = pixel_font((9 if compact else 10) * s)
    metrics = QFontMetricsF(font)
    pad = 3 * s
    box = QRectF(0, 0, metrics.horizontalAdvance(text) + 2 * pad, metrics.height() + 2 * pad)
    box.moveBottomLeft(QPointF(plot.left() + 4 * s, plot.bottom() - 4 * s))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(255, 255, 255, 200))
    painter.drawRect(box)
    painter.setFont(font)
    painter.setPen(QColor(NOTE_COLOR))
    painter.drawText(QPointF(box.left() + pad, box.top() + pad + metrics.ascent()), text)
