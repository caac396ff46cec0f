"""The decision map drawn straight to a QImage at any resolution, for exports; safe off the GUI thread.

``render_map`` evaluates the network on a grid matched to the output (one cell per
``PIXELS_PER_CELL`` pixels), recomputes the 0.5 contour on that grid and draws the points,
axes, colour bar, legend and title scaled to the output width. It uses QImage, QPainter and
QTextDocument only (no widget, no pyqtgraph item), so a worker thread can run it; it reports
progress and can be cancelled between row blocks of the grid.

This module also holds what the on-screen view and the export must agree on: the colours,
the extent of the data and the subset of points drawn when there are many (``map_points``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QLineF, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QTextDocument, QTextOption

from nnviz.core.contour import marching_squares
from nnviz.core.grid import grid_probabilities, operations_per_point
from nnviz.core.network import Layout

BACKGROUND = "#ffffff"
FOREGROUND = "#3c3c3c"  # axes, ticks and titles
NOTE_COLOR = "#6b6b6b"  # the "points drawn" note
CLASS_COLORS = ("#154f91", "#c85200")  # class 0 blue, class 1 orange (scatter)
CONTOUR_COLOR = "#e3000f"  # the notebook's red 0.5 line
MARGIN = 0.10  # the map covers at least the data bounds plus this fraction of their span on every side
# Diverging light blue (p = 0, class 0) -> near white (0.5) -> light orange (p = 1, class 1): light
# enough that the darker class colours of the scatter stay readable on top of it.
PROBABILITY_STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
PROBABILITY_COLORS = ((124, 170, 218), (180, 207, 236), (247, 247, 247), (251, 206, 160), (244, 163, 96))

MAX_DRAWN_POINTS = 20_000  # a map draws at most this many points (a fixed random subset, class shares kept)
COMPACT_DRAWN_POINTS = 5_000  # a small multiple, a few hundred pixels wide, at most this many (of the same subset)
SUBSAMPLE_SEED = 0  # so every map, and every export, draws the same subset of the same data
PIXELS_PER_CELL = 2  # an export evaluates one grid cell per this many output pixels ...
MAX_CELLS = 2000  # ... and at most this many cells per side ...
MAX_GRID_OPERATIONS = 30_000_000_000  # ... and of multiply-adds in all (~5 s here): a big network gets fewer cells
MIN_WIDTH, MAX_WIDTH = 16, 16384  # pixels an export may be wide (or high)
SCREEN_WIDTH = 600  # pixels: the on-screen width an export is scaled from when none is given


class Cancelled(Exception):
    """Not raised by render_map (it returns None); for callers that prefer an exception."""


# ---- the points and the extent, shared by the view and the export ---------------------------------


def data_extent(*arrays: np.ndarray | None) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` covering every point of the arrays plus the margin."""
    arrays = [np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays if a is not None and len(a)]
    # Column by column: min(axis=0) over an (n, 2) array is ~20 times slower (47 ms at 800,000 points).
    low = np.array([min(a[:, c].min() for a in arrays) for c in (0, 1)])
    high = np.array([max(a[:, c].max() for a in arrays) for c in (0, 1)])
    span = np.where(high > low, high - low, 1.0)
    low, high = low - MARGIN * span, high + MARGIN * span
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def checked_points(x_name: str, y_name: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """``(X as float64 (n, 2), y as (n,))``, or ValueError naming the field."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{x_name}: expected shape (n_samples, 2), got {X.shape}")
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{y_name}: expected {X.shape[0]} labels (one per row of {x_name}), got {y.shape[0]}")
    return X, y


@dataclass(frozen=True, eq=False)
class MapPoints:
    """The points a map draws, computed once per data set and shared by every map of a panel."""

    train: tuple[np.ndarray, np.ndarray]  # drawn training points of class 0 and of class 1, each (k, 2)
    test: tuple[np.ndarray, np.ndarray]  # drawn test points of class 0 and of class 1 (empty without a test set)
    n_train: int  # training points in the data
    n_test: int  # test points in the data
    extent: tuple[float, float, float, float]  # data_extent of all the data (train and test)
    data: tuple  # (X, y, X_test or None, y_test or None): the whole data, checked

    @property
    def drawn(self) -> int:
        """Points drawn, train and test."""
        return sum(len(p) for p in (*self.train, *self.test))

    @property
    def subsampled(self) -> bool:
        return self.drawn < self.n_train + self.n_test

    def limited(self, cap: int) -> MapPoints:
        """At most ``cap`` of the points drawn: the first ones of each set and class (each is in random
        order), so a smaller map draws part of the larger map's subset, with the same shares."""
        if self.drawn <= cap:
            return self
        fraction = cap / self.drawn
        return dataclasses.replace(self, train=tuple(p[: round(len(p) * fraction)] for p in self.train),
                                   test=tuple(p[: round(len(p) * fraction)] for p in self.test))

    @property
    def note(self) -> str:
        """What the map says about the points: empty when all are drawn."""
        if not self.subsampled:
            return ""
        return f"{self.drawn:,} of {self.n_train + self.n_test:,} points drawn"


def map_points(X, y, X_test=None, y_test=None, cap: int = MAX_DRAWN_POINTS, seed: int = SUBSAMPLE_SEED) -> MapPoints:
    """Check the data and choose the points to draw: all of them up to ``cap``, else a fixed random subset
    of about ``cap`` that keeps each set's and each class's share. Each class's points are in a random
    (seeded) order, so that ``MapPoints.limited`` can take a smaller subset as a prefix.

    X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1) with labels 0/1; the test set likewise
    (None or empty: no test set).
    """
    X, y = checked_points("X", "y", X, y)
    if len(X) == 0:
        raise ValueError("X: no points; the map's extent is taken from the data")
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
        raise ValueError(f"cap={cap!r}: must be an integer of at least 1")
    has_test = X_test is not None and len(X_test) > 0
    if has_test:
        X_test, y_test = checked_points("X_test", "y_test", X_test, y_test)
    else:
        X_test = y_test = None
    total = len(X) + (len(X_test) if has_test else 0)
    fraction = min(1.0, cap / total)
    rng = np.random.default_rng(seed)

    def drawn(points, labels):
        out = []
        for label in (0, 1):
            index = np.flatnonzero(labels == label)
            if fraction < 1.0:
                index = index[rng.choice(len(index), round(len(index) * fraction), replace=False)]  # shuffled
            else:
                index = index[rng.permutation(len(index))]
            out.append(points[index])
        return tuple(out)

    empty = (np.empty((0, 2)), np.empty((0, 2)))
    return MapPoints(train=drawn(X, y), test=drawn(X_test, y_test) if has_test else empty, n_train=len(X),
                     n_test=len(X_test) if has_test else 0, extent=data_extent(X, X_test),
                     data=(X, y, X_test, y_test))


def fit_extent(extent, width: float, height: float) -> tuple[float, float, float, float]:
    """Widen ``extent`` about its centre to the aspect ratio ``width / height`` (the data keeps its scale)."""
    x_min, x_max, y_min, y_max = (float(v) for v in extent)
    if width < 2 or height < 2:
        return x_min, x_max, y_min, y_max
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    half_x, half_y = (x_max - x_min) / 2, (y_max - y_min) / 2
    half_x, half_y = max(half_x, half_y * width / height), max(half_y, half_x * height / width)
    return cx - half_x, cx + half_x, cy - half_y, cy + half_y


def probability_lut(n: int = 256) -> np.ndarray:
    """The probability colour map as ``n`` RGB rows (uint8), p = 0 first."""
    p = np.linspace(0.0, 1.0, n)
    colors = np.asarray(PROBABILITY_COLORS, dtype=np.float64)
    return np.column_stack([np.interp(p, PROBABILITY_STOPS, colors[:, c]) for c in range(3)]).round().astype(np.uint8)


def nice_ticks(low: float, high: float, most: int = 6) -> tuple[np.ndarray, int]:
    """Round tick values in [low, high] (at most ``most``) and the decimals they need: (values, decimals)."""
    span = high - low
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    step = next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= most)
    values = np.arange(math.ceil(low / step), math.floor(high / step) + 1) * step
    return values, max(0, -math.floor(math.log10(step) + 1e-9))


def _tick_label(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def png_bytes(image: QImage) -> bytes:
    """The image encoded as PNG (in memory, so that one atomic write puts it on disk); OSError if it cannot be."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


# ---- drawing ------------------------------------------------------------------------------------


def _checked_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not MIN_WIDTH <= value <= MAX_WIDTH:
        raise ValueError(f"{name}={value!r}: must be an integer from {MIN_WIDTH} to {MAX_WIDTH} pixels")
    return int(value)


def _font(pixels: float, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, round(pixels)))
    font.setBold(bold)
    return font


def _sprite(diameter: float, pen: QPen, brush: QBrush) -> QImage:
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


def _sprites(scale: float, compact: bool) -> list[QImage]:
    """Markers of (class 0 train, class 1 train, class 0 test, class 1 test), as the view draws them."""
    size = (4 if compact else 6) * scale
    filled = [_sprite(size, QPen(QColor(255, 255, 255, 160), 0.6 * scale), QBrush(QColor(c))) for c in CLASS_COLORS]
    hollow = [_sprite(size + scale, QPen(QColor(c), 1.4 * scale), QBrush(Qt.BrushStyle.NoBrush))
              for c in CLASS_COLORS]
    return filled + hollow


def _heat_image(probabilities: np.ndarray, discretize: bool) -> QImage:
    """The grid as an RGB image, p = 0 light blue .. 1 light orange; row 0 of the image is the top (y max)."""
    lut = probability_lut().astype(np.uint32)
    argb = (0xFF000000 | (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]).astype(np.uint32)
    p = probabilities > 0.5 if discretize else probabilities  # the same threshold as network.accuracy
    index = np.clip(np.rint(np.asarray(p, dtype=np.float32) * 255), 0, 255).astype(np.intp)
    pixels = np.ascontiguousarray(argb[index][::-1])
    ny, nx = pixels.shape
    return QImage(pixels.data, nx, ny, 4 * nx, QImage.Format.Format_RGB32).copy()  # copy: own the pixels


def _text_document(html: str, pixels: float, width: float) -> QTextDocument:
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultFont(_font(pixels))
    option = QTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    doc.setDefaultTextOption(option)
    doc.setHtml(f"<span style='color: {FOREGROUND}'>{html}</span>")
    doc.setTextWidth(width)
    return doc


@dataclass
class _Frame:
    """Where things go in the image, in output pixels."""

    plot: QRectF
    height: int
    title_top: float
    scale: float
    tick: float
    gap: float


def _frame(width: int, height: int | None, extent, title: QTextDocument | None, scale: float, compact: bool,
           y_labels: list[str]) -> _Frame:
    margin = (2 if compact else 6) * scale
    tick, gap = 5 * scale, 3 * scale
    top = margin + (title.size().height() + gap if title is not None else 0)
    if compact:
        left = right = bottom = margin
    else:
        tick_metrics = QFontMetricsF(_font(11 * scale))
        label_height = QFontMetricsF(_font(13 * scale)).height()
        left = margin + label_height + gap + max(tick_metrics.horizontalAdvance(t) for t in y_labels) + gap + tick
        bottom = tick + gap + tick_metrics.height() + gap + label_height + margin
        right = 10 * scale + 14 * scale + tick + gap + tick_metrics.horizontalAdvance("0.75") + gap + label_height \
            + margin
    plot_width = width - left - right
    if plot_width < 2:
        raise ValueError(f"width={width}: too narrow for the map at this scale")
    if height is None:
        x_min, x_max, y_min, y_max = extent
        plot_height = plot_width * min(2.0, max(0.25, (y_max - y_min) / (x_max - x_min)))
        height = min(MAX_WIDTH, max(MIN_WIDTH, round(top + plot_height + bottom)))
    plot_height = height - top - bottom
    if plot_height < 2:
        raise ValueError(f"height={height}: too low for the map at this scale")
    return _Frame(QRectF(left, top, plot_width, plot_height), int(height), margin, scale, tick, gap)


def render_map(theta: np.ndarray | None, layout: Layout | None, activation: str, X, y, X_test=None, y_test=None,
               extent: tuple[float, float, float, float] | None = None, width: int = 1200, height: int | None = None,
               discretize: bool = False, title: str = "", progress: Callable[[float], None] | None = None,
               cancelled: Callable[[], bool] | None = None, *, screen_width: float | None = None,
               compact: bool = False) -> QImage | None:
    """The decision map as an image ``width`` pixels wide, drawn at that resolution.

    Parameters
    ----------
    theta : ndarray of shape (layout.size,), or None for a flat p = 0.5 map (no network yet)
    layout : Layout (None with theta None); activation : str
    X, y, X_test, y_test : the data, as ``map_points`` takes it (the same subset is drawn as on screen)
    extent : (x_min, x_max, y_min, y_max) to show, widened to the plot's aspect; default: the data's
    width : int, 16..16384; height : int or None (default: from the extent's aspect)
    discretize : the hard 0/1 decision instead of the probability; title : rich text above the map
    progress : called with the fraction done (0..1) as the grid is evaluated (blocks of points) and at the end
    cancelled : checked between blocks of the grid (~10 ms of arithmetic each) and between the drawing
        steps: when it returns True, render_map stops and returns None
    screen_width : the width the map has on screen: text, points and lines are scaled by
        ``width / screen_width`` (default ``SCREEN_WIDTH``)
    compact : draw as a small multiple (no axes, colour bar or legend)

    Returns
    -------
    image : QImage (Format_RGB32) of ``width`` × height pixels, or None when cancelled.
    """
    width = _checked_size("width", width)
    if height is not None:
        height = _checked_size("height", height)
    if theta is not None:
        theta = np.asarray(theta, dtype=np.float64)
        if layout is None or theta.shape != (layout.size,):
            raise ValueError(f"theta: expected shape ({getattr(layout, 'size', '?')},) for the layout, "
                             f"got {theta.shape}")
    points = map_points(X, y, X_test, y_test).limited(COMPACT_DRAWN_POINTS if compact else MAX_DRAWN_POINTS)
    extent = points.extent if extent is None else tuple(float(v) for v in extent)
    if len(extent) != 4 or not np.isfinite(extent).all() or extent[0] >= extent[1] or extent[2] >= extent[3]:
        raise ValueError(f"extent={extent!r}: must be finite (x_min, x_max, y_min, y_max) with min < max")
    screen_width = SCREEN_WIDTH if not screen_width or screen_width < MIN_WIDTH else float(screen_width)
    scale = width / screen_width

    title_doc = None
    if title:
        title_doc = _text_document(title, (12 if compact else 15) * scale, width - 2 * (2 if compact else 6) * scale)
    # The left axis' width depends on its labels, which depend on the extent fitted to the plot: two passes.
    y_labels = ["0"]
    for _ in range(2):
        frame = _frame(width, height, extent, title_doc, scale, compact, y_labels)
        shown = fit_extent(extent, frame.plot.width(), frame.plot.height())
        values, decimals = nice_ticks(shown[2], shown[3])
        y_labels = [_tick_label(v, decimals) for v in values] or ["0"]
    plot = frame.plot

    # The grid: one cell per PIXELS_PER_CELL pixels of the plot, cell centres as GridEvaluator places them.
    pixels_per_cell = float(PIXELS_PER_CELL)
    if theta is not None:  # fewer, larger cells when the grid would cost too much (drawn smoothed, never as blocks)
        cells = (plot.width() / pixels_per_cell) * (plot.height() / pixels_per_cell)
        affordable = MAX_GRID_OPERATIONS / operations_per_point(layout)
        pixels_per_cell *= max(1.0, math.sqrt(cells / affordable))
    nx = int(np.clip(round(plot.width() / pixels_per_cell), 2, MAX_CELLS))
    ny = int(np.clip(round(plot.height() / pixels_per_cell), 2, MAX_CELLS))
    x_min, x_max, y_min, y_max = shown
    xs = x_min + (x_max - x_min) * (np.arange(nx) + 0.5) / nx
    ys = y_min + (y_max - y_min) * (np.arange(ny) + 0.5) / ny
    if theta is None:
        probabilities = np.full((ny, nx), 0.5, dtype=np.float32)
    else:
        report = None if progress is None else (lambda fraction: progress(0.9 * fraction))
        probabilities = grid_probabilities(theta, layout, activation, xs, ys, report, cancelled)
        if probabilities is None:
            return None
    stop = cancelled if cancelled is not None else (lambda: False)
    if stop():
        return None
    segments = marching_squares(probabilities, 0.5, xs, ys) if theta is not None else np.empty((0, 2))
    if stop():
        return None

    image = QImage(width, frame.height, QImage.Format.Format_RGB32)
    image.fill(QColor(BACKGROUND))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if title_doc is not None:
            painter.save()
            painter.translate(frame.title_top, frame.title_top)
            title_doc.drawContents(painter)
            painter.restore()

        def to_pixels(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            px = plot.left() + (xy[:, 0] - x_min) / (x_max - x_min) * plot.width()
            py = plot.top() + (y_max - xy[:, 1]) / (y_max - y_min) * plot.height()
            return px, py

        painter.save()
        painter.setClipRect(plot)
        heat = _heat_image(probabilities, discretize)
        if stop():
            return None
        painter.drawImage(plot, heat)
        sprites = _sprites(scale, compact)
        for sprite, drawn in zip(sprites, (*points.train, *points.test), strict=True):
            if not len(drawn):
                continue
            px, py = to_pixels(drawn)
            half = sprite.width() / 2
            corners = np.column_stack([np.rint(px - half), np.rint(py - half)]).astype(int).tolist()
            for start in range(0, len(corners), 1000):
                if stop():
                    return None
                for u, v in corners[start:start + 1000]:
                    painter.drawImage(QPoint(u, v), sprite)
        if stop():
            return None
        if len(segments):
            pen = QPen(QColor(CONTOUR_COLOR), 2 * scale)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            px, py = to_pixels(segments)
            ends = np.column_stack([px, py]).reshape(-1, 4).tolist()
            painter.drawLines([QLineF(a, b, c, d) for a, b, c, d in ends])
        painter.restore()

        if not compact:
            _draw_axes(painter, frame, shown, y_labels)
            _draw_colorbar(painter, frame)
            _draw_legend(painter, frame, sprites, points.n_test > 0)
        if points.note:
            _draw_note(painter, frame, points.note, compact)
    finally:
        painter.end()
    if progress is not None:
        progress(1.0)
    return image


def _draw_axes(painter: QPainter, frame: _Frame, shown, y_labels: list[str]) -> None:
    plot, s = frame.plot, frame.scale
    x_min, x_max, y_min, y_max = shown
    painter.setPen(QPen(QColor(FOREGROUND), s))
    painter.drawLine(QLineF(plot.bottomLeft(), plot.topLeft()))
    painter.drawLine(QLineF(plot.bottomLeft(), plot.bottomRight()))
    tick_font, label_font = _font(11 * s), _font(13 * s)
    metrics = QFontMetricsF(tick_font)
    painter.setFont(tick_font)
    values, decimals = nice_ticks(x_min, x_max)
    for value in values:
        x = plot.left() + (value - x_min) / (x_max - x_min) * plot.width()
        painter.drawLine(QLineF(x, plot.bottom(), x, plot.bottom() + frame.tick))
        text = _tick_label(value, decimals)
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
    _draw_vertical(painter, "x₂", frame.title_top + label_metrics.ascent(), plot.center().y(), label_metrics)


def _draw_vertical(painter: QPainter, text: str, baseline_x: float, centre_y: float, metrics: QFontMetricsF) -> None:
    """Text read bottom to top, its baseline at ``baseline_x``, centred on ``centre_y``."""
    painter.save()
    painter.translate(baseline_x, centre_y + metrics.horizontalAdvance(text) / 2)
    painter.rotate(-90)
    painter.drawText(QPointF(0, 0), text)
    painter.restore()


def _draw_colorbar(painter: QPainter, frame: _Frame) -> None:
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
    tick_font = _font(11 * s)
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
    label_font = _font(13 * s)
    painter.setFont(label_font)
    label_metrics = QFontMetricsF(label_font)
    x = bar.right() + frame.tick + 2 * frame.gap + widest + label_metrics.ascent()
    _draw_vertical(painter, "P(class 1)", x, bar.center().y(), label_metrics)


def _draw_legend(painter: QPainter, frame: _Frame, sprites: list[QImage], has_test: bool) -> None:
    plot, s = frame.plot, frame.scale
    entries = [("class 0", sprites[0]), ("class 1", sprites[1])]
    if has_test:
        entries.append(("test (hollow)", sprites[2]))
    entries.append(("p = 0.5", None))
    font = _font(12 * s)
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


def _draw_note(painter: QPainter, frame: _Frame, text: str, compact: bool) -> None:
    plot, s = frame.plot, frame.scale
    font = _font((9 if compact else 10) * s)
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
