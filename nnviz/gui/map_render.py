"""The decision map drawn straight to a QImage at any resolution, for exports; safe off the GUI thread.

``render_map`` evaluates the network on a grid matched to the output (one cell per
``PIXELS_PER_CELL`` pixels), recomputes the 0.5 contour on that grid and draws the points,
axes, colour bar, legend and title scaled to the output width. It uses QImage, QPainter and
QTextDocument only (no widget, no pyqtgraph item), so a worker thread can run it; it reports
progress and can be cancelled between row blocks of the grid.

What the on-screen view and the export must agree on (the colours, the extent of the data and the
subset of points drawn when there are many, ``map_points``) lives in ``map_shared`` and is importable
from here too; ``map_drawing`` paints the sprites, axes, colour bar, legend and note.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QLineF, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen, QTextDocument

from nnviz.core.contour import marching_squares
from nnviz.core.grid import grid_probabilities, operations_per_point
from nnviz.core.network import Layout
from nnviz.gui.map_drawing import (
    Frame,
    class_sprites,
    draw_axes,
    draw_colorbar,
    draw_legend,
    draw_note,
    heat_image,
    pixel_font,
    text_document,
)
from nnviz.gui.map_shared import (  # noqa: F401 (re-exported: the view, the panel and the tests import them from here)
    BACKGROUND,
    CLASS_COLORS,
    COMPACT_DRAWN_POINTS,
    CONTOUR_COLOR,
    FOREGROUND,
    MARGIN,
    MAX_DRAWN_POINTS,
    NOTE_COLOR,
    PROBABILITY_COLORS,
    PROBABILITY_STOPS,
    SUBSAMPLE_SEED,
    MapPoints,
    checked_points,
    data_extent,
    fit_extent,
    map_points,
    nice_ticks,
    probability_lut,
    tick_label,
)

PIXELS_PER_CELL = 2  # an export evaluates one grid cell per this many output pixels ...
MAX_CELLS = 2000  # ... and at most this many cells per side ...
MAX_GRID_OPERATIONS = 30_000_000_000  # ... and of multiply-adds in all (~5 s here): a big network gets fewer cells
MIN_WIDTH, MAX_WIDTH = 16, 16384  # pixels an export may be wide (or high)
SCREEN_WIDTH = 600  # pixels: the on-screen width an export is scaled from when none is given


# ---- the image ------------------------------------------------------------------------------------


def _checked_size(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not MIN_WIDTH <= value <= MAX_WIDTH:
        raise ValueError(f"{name}={value!r}: must be an integer from {MIN_WIDTH} to {MAX_WIDTH} pixels")
    return int(value)


def _frame_for(width: int, height: int | None, extent, title: QTextDocument | None, scale: float, compact: bool,
               y_labels: list[str]) -> Frame:
    """Where the title, plot and labels go in an image ``width`` wide (``height`` high, or fitted)."""
    margin = (2 if compact else 6) * scale
    tick, gap = 5 * scale, 3 * scale
    top = margin + (title.size().height() + gap if title is not None else 0)
    if compact:
        left = right = bottom = margin
    else:
        tick_metrics = QFontMetricsF(pixel_font(11 * scale))
        label_height = QFontMetricsF(pixel_font(13 * scale)).height()
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
    return Frame(QRectF(left, top, plot_width, plot_height), int(height), margin, scale, tick, gap)


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
        title_doc = text_document(title, (12 if compact else 15) * scale, width - 2 * (2 if compact else 6) * scale)
    # The left axis' width depends on its labels, which depend on the extent fitted to the plot: two passes.
    y_labels = ["0"]
    for _ in range(2):
        frame = _frame_for(width, height, extent, title_doc, scale, compact, y_labels)
        shown = fit_extent(extent, frame.plot.width(), frame.plot.height())
        values, decimals = nice_ticks(shown[2], shown[3])
        y_labels = [tick_label(v, decimals) for v in values] or ["0"]
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
        heat = heat_image(probabilities, discretize)
        if stop():
            return None
        painter.drawImage(plot, heat)
        sprites = class_sprites(scale, compact)
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
            draw_axes(painter, frame, shown, y_labels)
            draw_colorbar(painter, frame)
            draw_legend(painter, frame, sprites, points.n_test > 0)
        if points.note:
            draw_note(painter, frame, points.note, compact)
    finally:
        painter.end()
    if progress is not None:
        progress(1.0)
    return image
