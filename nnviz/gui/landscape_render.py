"""A static picture of a loss landscape (``core.landscape.Landscape``) drawn straight to a QImage.

The cost as filled contours on a log colour scale (core.landscape.cost_levels) with a colour bar, every
run's path in its colour with a dot at its end and a cross at the common start θ₀, and a legend with each
run's captured share. QImage and QPainter only (no widget, no pyqtgraph), so it runs on any thread and in
the headless `nnviz landscape --png`.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from nnviz.core.contour import marching_squares
from nnviz.core.landscape import Landscape, cost_levels, share_text
from nnviz.gui.map_drawing import draw_vertical, pixel_font
from nnviz.gui.map_shared import BACKGROUND, FOREGROUND, nice_ticks, tick_label

# Low cost dark, high cost light (viridis' stops): the valleys the paths run into stand out.
COST_STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
COST_COLORS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
MISSING_COLOR = (160, 160, 160)  # where the cost is not finite
BANDS = 16  # filled-contour bands between the least and the greatest cost
MIN_WIDTH, MAX_WIDTH = 320, 8192  # pixels


def cost_lut(n: int) -> np.ndarray:
    """``n`` RGB rows (uint8) of the cost colour map, the least cost first."""
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    colors = np.asarray(COST_COLORS, dtype=np.float64)
    return np.column_stack([np.interp(t, COST_STOPS, colors[:, c]) for c in range(3)]).round().astype(np.uint8)


def _argb(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.uint32)
    return (0xFF000000 | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]).astype(np.uint32)


def _resample(values: np.ndarray, axis_values: np.ndarray, positions: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` along ``axis`` at ``positions`` (the axis' coordinates)."""
    index = np.interp(positions, axis_values, np.arange(len(axis_values), dtype=np.float64))
    lower = np.clip(np.floor(index).astype(int), 0, len(axis_values) - 2)
    weight = index - lower
    first, second = np.take(values, lower, axis=axis), np.take(values, lower + 1, axis=axis)
    shape = [1, 1]
    shape[axis] = -1
    weight = weight.reshape(shape)
    return first * (1 - weight) + second * weight


def _band_image(log_cost: np.ndarray, a: np.ndarray, b: np.ndarray, log_levels: np.ndarray,
                width: int, height: int) -> QImage:
    """The bands as a ``width`` × ``height`` image, the bilinear surface through the grid sampled at pixel centres."""
    xs = a[0] + (np.arange(width) + 0.5) / width * (a[-1] - a[0])
    ys = b[-1] - (np.arange(height) + 0.5) / height * (b[-1] - b[0])  # image row 0 is the top: b max
    finite = np.isfinite(log_cost)
    filled = np.where(finite, log_cost, log_levels[-1])
    surface = _resample(_resample(filled, a, xs, 1), b, ys, 0)
    missing = _resample(_resample((~finite).astype(np.float64), a, xs, 1), b, ys, 0) > 0.5
    bands = len(log_levels) - 1
    band = np.clip(np.searchsorted(log_levels, surface, side="right") - 1, 0, bands - 1)
    palette = _argb(cost_lut(bands))
    pixels = palette[band]
    pixels[missing] = _argb(np.array(MISSING_COLOR))
    pixels = np.ascontiguousarray(pixels)
    return QImage(pixels.data, width, height, 4 * width, QImage.Format.Format_RGB32).copy()


def _log_ticks(low: float, high: float) -> list[float]:
    """Round costs (1, 2, 5 × 10^k) between ``low`` and ``high``; their decades alone when there are many."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0 ** exponent
            if low <= value <= high:
                ticks.append(value)
    if len(ticks) > 8:
        ticks = [t for t in ticks if f"{t:.0e}".startswith("1")]
    if len(ticks) < 2:
        ticks = sorted({low, high})
    return ticks


def _cost_label(value: float) -> str:
    return f"{value:.3g}"


def render_landscape(landscape: Landscape, width: int = 900, title: str = "") -> QImage:
    """The landscape as an image ``width`` pixels wide (320..8192) and three quarters as high."""
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or not MIN_WIDTH <= width <= MAX_WIDTH:
        raise ValueError(f"width={width!r}: must be an integer from {MIN_WIDTH} to {MAX_WIDTH} pixels")
    s = width / 900
    height = round(width * 0.75)
    a, b = np.asarray(landscape.a, dtype=np.float64), np.asarray(landscape.b, dtype=np.float64)
    cost = np.asarray(landscape.cost, dtype=np.float64)
    levels = cost_levels(cost, BANDS)
    log_levels = np.log10(levels)
    with np.errstate(all="ignore"):
        log_cost = np.where(np.isfinite(cost) & (cost > 0), np.log10(np.where(cost > 0, cost, 1.0)), np.nan)

    tick_font, label_font, title_font = pixel_font(12 * s), pixel_font(14 * s), pixel_font(16 * s, bold=True)
    tick_metrics, label_metrics = QFontMetricsF(tick_font), QFontMetricsF(label_font)
    b_ticks, b_decimals = nice_ticks(b[0], b[-1])
    a_ticks, a_decimals = nice_ticks(a[0], a[-1])
    b_labels = [tick_label(v, b_decimals) for v in b_ticks]
    bar_ticks = _log_ticks(levels[0], levels[-1])
    margin, tick, gap = 10 * s, 5 * s, 4 * s
    top = margin + (QFontMetricsF(title_font).height() + gap if title else 0)
    left = margin + label_metrics.height() + gap + max(tick_metrics.horizontalAdvance(t) for t in b_labels) + gap + tick
    bar_width = 16 * s
    right = 14 * s + bar_width + tick + gap + max(tick_metrics.horizontalAdvance(_cost_label(v)) for v in bar_ticks) \
        + gap + label_metrics.height() + margin
    bottom = tick + gap + tick_metrics.height() + gap + label_metrics.height() + margin
    plot = QRectF(left, top, width - left - right, height - top - bottom)

    def to_pixels(xa: np.ndarray, yb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (plot.left() + (xa - a[0]) / (a[-1] - a[0]) * plot.width(),
                plot.bottom() - (yb - b[0]) / (b[-1] - b[0]) * plot.height())

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(BACKGROUND))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if title:
            painter.setFont(title_font)
            painter.setPen(QColor(FOREGROUND))
            painter.drawText(QRectF(0, margin, width, top - margin), Qt.AlignmentFlag.AlignHCenter, title)

        # Filled bands, then their edges as thin lines.
        painter.drawImage(plot, _band_image(log_cost, a, b, log_levels, max(2, round(plot.width())),
                                            max(2, round(plot.height()))))
        painter.save()
        painter.setClipRect(plot)
        painter.setPen(QPen(QColor(255, 255, 255, 70), 0.8 * s))
        for level in log_levels[1:-1]:
            segments = marching_squares(log_cost, level, a, b)
            if len(segments):
                px, py = to_pixels(segments[:, 0], segments[:, 1])
                ends = np.column_stack([px, py]).reshape(-1, 4).tolist()
                painter.drawLines([QLineF(*end) for end in ends])

        # The paths: a light halo under each so that it reads on dark and light bands alike.
        for path in landscape.paths:
            keep = np.isfinite(path.a) & np.isfinite(path.b)
            px, py = to_pixels(np.asarray(path.a)[keep], np.asarray(path.b)[keep])
            if not len(px):
                continue
            line = QPainterPath(QPointF(px[0], py[0]))
            for x, y in zip(px[1:].tolist(), py[1:].tolist(), strict=True):
                line.lineTo(x, y)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(255, 255, 255, 200), 4.5 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            painter.drawPath(line)
            painter.setPen(QPen(QColor(path.colour), 2.2 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            painter.drawPath(line)
            painter.setPen(QPen(QColor(255, 255, 255), 1.5 * s))
            painter.setBrush(QColor(path.colour))
            painter.drawEllipse(QPointF(px[-1], py[-1]), 5 * s, 5 * s)
        ox, oy = to_pixels(np.array([0.0]), np.array([0.0]))
        painter.setPen(QPen(QColor(255, 255, 255), 2 * s))
        arm = 6 * s
        painter.drawLine(QLineF(ox[0] - arm, oy[0] - arm, ox[0] + arm, oy[0] + arm))
        painter.drawLine(QLineF(ox[0] - arm, oy[0] + arm, ox[0] + arm, oy[0] - arm))
        painter.restore()

        # Axes.
        painter.setPen(QPen(QColor(FOREGROUND), s))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(plot)
        painter.setFont(tick_font)
        for value in a_ticks:
            x = to_pixels(np.array([value]), np.array([0.0]))[0][0]
            painter.drawLine(QLineF(x, plot.bottom(), x, plot.bottom() + tick))
            text = tick_label(value, a_decimals)
            painter.drawText(QPointF(x - tick_metrics.horizontalAdvance(text) / 2,
                                     plot.bottom() + tick + gap + tick_metrics.ascent()), text)
        for value, text in zip(b_ticks, b_labels, strict=True):
            y = to_pixels(np.array([0.0]), np.array([value]))[1][0]
            painter.drawLine(QLineF(plot.left() - tick, y, plot.left(), y))
            painter.drawText(QPointF(plot.left() - tick - gap - tick_metrics.horizontalAdvance(text),
                                     y + tick_metrics.ascent() / 2 - tick_metrics.descent() / 2), text)
        painter.setFont(label_font)
        x_label = "a (along d₁)"
        painter.drawText(QPointF(plot.center().x() - label_metrics.horizontalAdvance(x_label) / 2,
                                 plot.bottom() + tick + 2 * gap + tick_metrics.height() + label_metrics.ascent()),
                         x_label)
        draw_vertical(painter, "b (along d₂)", margin + label_metrics.ascent(), plot.center().y(), label_metrics)

        # Colour bar: the same bands, log scale, the least cost at the bottom.
        bar = QRectF(plot.right() + 14 * s, plot.top(), bar_width, plot.height())
        column = _argb(cost_lut(len(log_levels) - 1))[::-1].reshape(-1, 1)
        column = np.ascontiguousarray(column)
        painter.drawImage(bar, QImage(column.data, 1, len(column), 4, QImage.Format.Format_RGB32).copy())
        painter.setPen(QPen(QColor(FOREGROUND), s))
        painter.drawRect(bar)
        painter.setFont(tick_font)
        span = log_levels[-1] - log_levels[0]
        widest = 0.0
        for value in bar_ticks:
            y = bar.bottom() - (math.log10(value) - log_levels[0]) / span * bar.height()
            painter.drawLine(QLineF(bar.right(), y, bar.right() + tick, y))
            text = _cost_label(value)
            widest = max(widest, tick_metrics.horizontalAdvance(text))
            painter.drawText(QPointF(bar.right() + tick + gap, y + tick_metrics.ascent() / 2
                                     - tick_metrics.descent() / 2), text)
        painter.setFont(label_font)
        cost_name = "training cost (log scale)" + (f", L2 λ = {landscape.l2:g}" if landscape.l2 else "")
        draw_vertical(painter, cost_name, bar.right() + tick + 2 * gap + widest + label_metrics.ascent(),
                      bar.center().y(), label_metrics)

        # Legend: each run with its captured share.
        if landscape.paths:
            font = pixel_font(12 * s)
            metrics = QFontMetricsF(font)
            entries = [f"{p.name}: plane holds {share_text(p.share)}" for p in landscape.paths]
            pad, symbol, row = 6 * s, 18 * s, metrics.height() + 2 * s
            box = QRectF(0, 0, pad + symbol + pad + max(metrics.horizontalAdvance(t) for t in entries) + pad,
                         2 * pad + row * len(entries))
            inset = plot.adjusted(8 * s, 8 * s, -8 * s, -8 * s)
            points = [to_pixels(np.asarray(p.a), np.asarray(p.b)) for p in landscape.paths]
            xs = np.concatenate([x for x, _ in points])
            ys = np.concatenate([y for _, y in points])

            def covered(corner: QRectF) -> int:  # path points (ends weigh most) the legend would hide there
                inside = (xs >= corner.left()) & (xs <= corner.right()) & (ys >= corner.top()) & (ys <= corner.bottom())
                ends = sum(corner.contains(QPointF(x[-1], y[-1])) for x, y in points if len(x))
                return int(np.count_nonzero(inside)) + 1000 * ends

            corners = []
            for place in ("moveTopRight", "moveTopLeft", "moveBottomRight", "moveBottomLeft"):
                corner = QRectF(box)
                point = {"moveTopRight": inset.topRight(), "moveTopLeft": inset.topLeft(),
                         "moveBottomRight": inset.bottomRight(), "moveBottomLeft": inset.bottomLeft()}[place]
                getattr(corner, place)(point)
                corners.append(corner)
            box = min(corners, key=covered)  # the first (top right) on a tie
            painter.setPen(QPen(QColor(200, 200, 200), s))
            painter.setBrush(QColor(255, 255, 255, 215))
            painter.drawRect(box)
            painter.setFont(font)
            for i, (path, text) in enumerate(zip(landscape.paths, entries, strict=True)):
                y = box.top() + pad + (i + 0.5) * row
                painter.setPen(QPen(QColor(path.colour), 2.5 * s))
                painter.drawLine(QLineF(box.left() + pad, y, box.left() + pad + symbol, y))
                painter.setPen(QColor(FOREGROUND))
                painter.drawText(QPointF(box.left() + 2 * pad + symbol, y + metrics.ascent() / 2
                                         - metrics.descent() / 2), text)
    finally:
        painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG in memory (ValueError if it cannot be)."""
    data = QByteArray()
    buffer = QBuffer(data)
    if not buffer.open(QIODevice.OpenModeFlag.WriteOnly) or not image.save(buffer, "PNG"):
        raise ValueError("the image could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def landscape_png(landscape: Landscape, width: int = 900, title: str = "") -> bytes:
    """The picture as PNG bytes; makes an offscreen QApplication first when none runs (the headless CLI: text
    needs one; a QApplication, not a QGuiApplication, so that widgets made later in the process still work)."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        global _app
        _app = QApplication(["nnviz", "-platform", "offscreen"])
    return png_bytes(render_landscape(landscape, width, title))


_app = None  # the offscreen application landscape_png made, kept for the process's life
