"""What the network view paints with: the units' colour scales, where every unit goes, which lines are drawn.

Numpy and QPainter only (no widget). A layer's units are coloured with one lookup-table operation for the
whole layer (values -> uint8 index -> ARGB), and lines are drawn in a few batches of equal pen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen

from nnviz.gui.map_drawing import pixel_font
from nnviz.gui.map_shared import FOREGROUND, NOTE_COLOR, PROBABILITY_COLORS, PROBABILITY_STOPS

LUT_SIZE = 255  # odd, so that the middle entry (127) is exactly the centre of a diverging scale
NEUTRAL = (247, 247, 247)  # a unit's 0 (tanh, relu, inputs) and p = 0.5: the same near white
# Diverging purple (−) -> near white (0) -> green (+) for unit values: apart from the class colours (blue,
# orange) of the decision map and of the weight lines.
DIVERGING_STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
DIVERGING_COLORS = ((118, 42, 131), (194, 165, 207), NEUTRAL, (166, 219, 160), (27, 120, 55))
SEQUENTIAL_STOPS = (0.0, 0.5, 1.0)  # relu: 0 near white .. the layer's max dark green
SEQUENTIAL_COLORS = (NEUTRAL, (166, 219, 160), (27, 120, 55))
POSITIVE_WEIGHT = "#2b74c4"  # lines (and bias bars) of positive weights: blue
NEGATIVE_WEIGHT = "#ef7d28"  # ... of negative weights: orange
LINE_LEVELS = 8  # line widths are drawn in this many steps (one pen, one drawLines call each)
MIN_LINE_WIDTH, MAX_LINE_WIDTH = 0.5, 4.0  # pixels, for |w| -> 0 and |w| = the layer's largest
MAX_LINES = 3000  # more than this many lines between shown units: only the strongest are drawn
MANY_LINES = 500  # above this many lines drawn, they are fainter and thinner


def lut_argb(stops, colors, n: int = LUT_SIZE) -> np.ndarray:
    """``n`` opaque ARGB32 colours (uint32) interpolated between ``colors`` at ``stops`` (0..1)."""
    t = np.linspace(0.0, 1.0, n)
    rgb = np.asarray(colors, dtype=np.float64)
    channels = [np.rint(np.interp(t, stops, rgb[:, c])).astype(np.uint32) for c in range(3)]
    return (0xFF000000 | (channels[0] << 16) | (channels[1] << 8) | channels[2]).astype(np.uint32)


@dataclass(frozen=True)
class Scale:
    """How one column's values become colours: ``low`` .. ``high`` over a lookup table."""

    kind: str  # "diverging" (centred on 0), "sequential" (relu, 0..max) or "probability" (the output)
    low: float
    high: float
    table: np.ndarray  # (LUT_SIZE,) uint32 ARGB

    def images(self, values: np.ndarray) -> np.ndarray:
        """values (m, n, n) float, row i at the grid's ys[i] -> (m, n, n) uint32 ARGB, row 0 at the top (y max)."""
        span = self.high - self.low
        t = values[:, ::-1, :] - np.float32(self.low)  # one new array: flipped, then scaled in place
        t *= np.float32((LUT_SIZE - 1) / span if span > 0 else 0.0)
        np.fmax(t, 0, out=t)  # fmax and fmin clip and take a NaN to 0 (np.clip keeps it; nan_to_num costs more)
        np.fmin(t, LUT_SIZE - 1, out=t)
        np.rint(t, out=t)
        return self.table[t.astype(np.uint8)]

    def label(self, value: float) -> str:
        if self.kind == "probability":
            return f"{value:g}"
        return f"{value:.3g}"


_TABLES: dict[str, np.ndarray] = {}


def _table(kind: str) -> np.ndarray:
    if kind not in _TABLES:
        stops, colors = {"diverging": (DIVERGING_STOPS, DIVERGING_COLORS),
                         "sequential": (SEQUENTIAL_STOPS, SEQUENTIAL_COLORS),
                         "probability": (PROBABILITY_STOPS, PROBABILITY_COLORS)}[kind]
        _TABLES[kind] = lut_argb(stops, colors)
    return _TABLES[kind]


def diverging(half_range: float) -> Scale:
    """−half_range .. +half_range, 0 exactly at the neutral colour."""
    half_range = float(half_range) if half_range > 0 and math.isfinite(half_range) else 1.0
    return Scale("diverging", -half_range, half_range, _table("diverging"))


def sequential(high: float) -> Scale:
    """0 .. high (a relu layer's max over the grid; 1 when the layer is all 0)."""
    high = float(high) if high > 0 and math.isfinite(high) else 1.0
    return Scale("sequential", 0.0, high, _table("sequential"))


def probability() -> Scale:
    return Scale("probability", 0.0, 1.0, _table("probability"))


def qimage(pixels: np.ndarray) -> QImage:
    """A QImage over a C-contiguous (h, w) uint32 array (not copied: keep the array alive while it is used)."""
    h, w = pixels.shape
    return QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGB32)


# ---- where the units go ----------------------------------------------------------------------------------

HEAD = 50  # pixels above the units: column name, scale strip and its labels
FOOT = 36  # pixels below: the column notes and the lines note
MARGIN = 8
MAX_SIDE = 110  # a unit's largest side (few units)
MIN_SIDE = 6
GRID_SIDE = 26  # a unit's side in the "show all" grid
GRID_GAP = 5  # between units of the grid
MIN_COLUMN_GAP = 44  # between two layers' columns in the grid: room for the lines ...
NARROW_COLUMN_GAP = 12  # ... down to this when the view is too narrow for every column otherwise
MIN_COLUMN_WIDTH = 76  # a column of the grid is at least this wide: room for its header and scale


@dataclass(frozen=True)
class Plan:
    """Slots of every column: slot k of column c is drawn at ``slots[c][k]`` = (left, top); all have ``side``."""

    slots: tuple[np.ndarray, ...]  # per column, (m, 2) float: left, top of each slot, in display order
    side: float
    height: float  # the canvas height the plan needs
    centres: tuple[float, ...]  # x of each column's centre (for its header and note)
    widths: tuple[float, ...]  # the room each column has (for its header and note)


def plan_columns(counts: list[int], width: float, height: float, grid: bool) -> Plan:
    """Slots for columns of ``counts`` units on a canvas ``width`` wide with ``height`` visible.

    Not ``grid``: one sub-column each (several for a column too tall for ``height``), all fitting in ``height``.
    ``grid``: units of side ``GRID_SIDE`` in rows of several sub-columns, as many as the width allows; the plan
    may be taller than ``height`` (scroll); a view too narrow for the columns' headers gets them closer.
    """
    columns = len(counts)
    usable_h = max(1.0, height - HEAD - FOOT)
    if not grid:
        pitch_x = max(1.0, (width - 2 * MARGIN) / columns)

        def fit(m: int, s: int) -> float:
            """The side of ``m`` units in ``s`` sub-columns: a tall column of a short view wraps into several, so
            that its units (and every other column's, which share the side) stay large enough to read."""
            across = min(MAX_SIDE, 0.42 * pitch_x) if s == 1 else 0.6 * pitch_x / (s + 0.25 * (s - 1))
            return min(across, usable_h / (1.25 * math.ceil(m / s)))

        side = max(MIN_SIDE, min(max(fit(m, s) for s in range(1, m + 1)) for m in counts))
        gap = 0.25 * side
        centres = [MARGIN + (c + 0.5) * pitch_x for c in range(columns)]
        slots = []
        for centre, m in zip(centres, counts, strict=True):
            s = next((s for s in range(1, m + 1) if fit(m, s) >= side), m)  # the fewest sub-columns that fit
            rows = math.ceil(m / s)
            top = HEAD + (usable_h - (rows * side + (rows - 1) * gap)) / 2
            left = centre - (s * side + (s - 1) * gap) / 2
            k = np.arange(m)
            slots.append(np.column_stack([left + (k % s) * (side + gap), top + (k // s) * (side + gap)]))
        return Plan(tuple(slots), side, height, tuple(centres), tuple([0.9 * pitch_x] * columns))
    side, pitch = float(GRID_SIDE), float(GRID_SIDE + GRID_GAP)
    fit_rows = max(1, int((usable_h + GRID_GAP) // pitch))
    wanted = [max(1, math.ceil(m / fit_rows)) for m in counts]  # sub-columns to fit the visible height
    free = width - 2 * MARGIN - (columns - 1) * MIN_COLUMN_GAP
    small = sum(MIN_COLUMN_WIDTH for w in wanted if w == 1)
    wide = [c for c, w in enumerate(wanted) if w > 1]
    share = (free - small) / max(1, len(wide))  # what each wide layer may take
    subs = [1 if w == 1 else max(1, min(w, int((share + GRID_GAP) // pitch))) for w in wanted]
    grids = [s * pitch - GRID_GAP for s in subs]  # the units' width in each column
    widths = [max(g, MIN_COLUMN_WIDTH) for g in grids]  # the column's, with room for its header
    rows = [math.ceil(m / s) for m, s in zip(counts, subs, strict=True)]
    content = max(rows) * pitch - GRID_GAP
    room = width - 2 * MARGIN - (columns - 1) * NARROW_COLUMN_GAP  # for the columns when the view is narrow
    if sum(widths) > room:  # columns no wider than their units rather than the last ones out of sight
        spare = sum(w - g for w, g in zip(widths, grids, strict=True))
        keep = max(0.0, room - sum(grids)) / spare if spare > 0 else 0.0
        widths = [g + min(1.0, keep) * (w - g) for w, g in zip(widths, grids, strict=True)]
    gap = max(NARROW_COLUMN_GAP, (width - 2 * MARGIN - sum(widths)) / max(1, columns - 1))
    left = MARGIN if columns > 1 else (width - widths[0]) / 2
    slots, centres = [], []
    for m, s, g, w, r in zip(counts, subs, grids, widths, rows, strict=True):
        top = HEAD + max(0.0, (min(content, usable_h) - (r * pitch - GRID_GAP)) / 2)
        k = np.arange(m)
        slots.append(np.column_stack([left + (w - g) / 2 + (k % s) * pitch, top + (k // s) * pitch]))
        centres.append(left + w / 2)
        left += w + gap
    return Plan(tuple(slots), side, HEAD + max(content, usable_h) + FOOT, tuple(centres), tuple(widths))


# ---- the lines -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """The weight lines drawn: one row per line, strongest last (drawn on top)."""

    ends: np.ndarray  # (k, 4) float: x0, y0 (source unit's right middle), x1, y1 (target's left middle)
    weight: np.ndarray  # (k,) the weight
    relative: np.ndarray  # (k,) |w| / the layer's largest |w|, 0..1
    source: np.ndarray  # (k, 3) int: layer of the source unit (0 = inputs), source unit, target unit
    total: int  # lines between shown units (more than drawn when over MAX_LINES)

    @staticmethod
    def empty() -> Lines:
        return Lines(np.empty((0, 4)), np.empty(0), np.empty(0), np.empty((0, 3), dtype=np.intp), 0)

    @property
    def note(self) -> str:
        drawn = len(self.weight)
        return "" if drawn == self.total else f"the strongest {drawn:,} of {self.total:,} lines drawn"


def select_lines(weights: list[np.ndarray], shown: list[np.ndarray], rects: list[np.ndarray], side: float,
                 max_lines: int = MAX_LINES) -> Lines:
    """The lines between shown units of consecutive columns, at most ``max_lines`` (the strongest).

    weights : per weight layer, W of shape (n_in, n_out); shown : per column, the units shown (display order);
    rects : per column, (m, 2) left, top of each shown unit.
    """
    weight, relative, sizes = [], [], []
    for layer, w in enumerate(weights):
        sub = w[np.ix_(shown[layer], shown[layer + 1])].ravel()  # row-major: source by source
        largest = float(np.max(np.abs(w))) if w.size else 0.0
        weight.append(sub)
        relative.append(np.abs(sub) / largest if largest > 0 else np.zeros(sub.size))
        sizes.append(sub.size)
    if not weight:
        return Lines.empty()
    weight, relative = np.concatenate(weight), np.concatenate(relative)
    total = len(weight)
    keep = np.argpartition(relative, total - max_lines)[total - max_lines:] if total > max_lines else np.arange(total)
    keep = keep[np.argsort(relative[keep], kind="stable")]  # weakest first: the strongest are drawn on top
    # Only the kept lines' ends: which layer, which source slot and which target slot each is.
    starts = np.concatenate([[0], np.cumsum(sizes)])
    layer = np.searchsorted(starts, keep, side="right") - 1
    local = keep - starts[layer]
    targets = np.array([len(shown[c + 1]) for c in range(len(weights))])[layer]
    a, b = local // targets, local % targets
    ends = np.empty((len(keep), 4))
    source = np.empty((len(keep), 3), dtype=np.intp)
    for c in np.unique(layer):
        at = layer == c
        ends[at, 0] = rects[c][a[at], 0] + side
        ends[at, 1] = rects[c][a[at], 1] + side / 2
        ends[at, 2] = rects[c + 1][b[at], 0]
        ends[at, 3] = rects[c + 1][b[at], 1] + side / 2
        source[at] = np.column_stack([np.full(at.sum(), c), shown[c][a[at]], shown[c + 1][b[at]]])
    return Lines(ends, weight[keep], relative[keep], source, total)


def draw_lines(painter: QPainter, lines: Lines) -> None:
    """Each line in its sign's colour, as wide as its |w| relative to its layer's largest, in LINE_LEVELS steps;
    fainter and thinner when there are many (the units stay readable through them)."""
    if not len(lines.weight):
        return
    many = len(lines.weight) > MANY_LINES
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, not many)  # many thin lines: 4 times as fast
    level = np.minimum((lines.relative * LINE_LEVELS).astype(int), LINE_LEVELS - 1)
    # One group per pen (level, sign), in the order the pens are drawn: a stable sort keeps the lines' own order.
    group = 2 * level + (lines.weight < 0)
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    ends = lines.ends[order].tolist()
    for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), len(order)], strict=True):
        painter.setPen(_line_pen(int(group[order[start]]), many))
        painter.drawLines([QLineF(*row) for row in ends[start:stop]])
    painter.restore()


_PENS: dict[tuple[int, bool], QPen] = {}


def _line_pen(group: int, many: bool) -> QPen:
    """The pen of lines at level group // 2, of negative weights when group is odd."""
    pen = _PENS.get((group, many))
    if pen is None:
        opacity_low, opacity_span, widest = (0.08, 0.4, 0.5 * MAX_LINE_WIDTH) if many else (0.35, 0.6, MAX_LINE_WIDTH)
        fraction = (group // 2 + 1) / LINE_LEVELS
        color = _tint(NEGATIVE_WEIGHT if group % 2 else POSITIVE_WEIGHT, opacity_low + opacity_span * fraction)
        pen = _PENS[(group, many)] = QPen(color, MIN_LINE_WIDTH + (widest - MIN_LINE_WIDTH) * fraction)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


def _tint(name: str, strength: float) -> QColor:
    """``name`` mixed with white: opaque, as the colour at opacity ``strength`` looks on the white background
    (a translucent pen costs ~7 times as much to draw)."""
    color = QColor(name)
    mix = [round(255 + (c - 255) * strength) for c in (color.red(), color.green(), color.blue())]
    return QColor(*mix)


def nearest_line(lines: Lines, x: float, y: float, tolerance: float = 4.0) -> int | None:
    """The index of the drawn line nearest to (x, y) within ``tolerance`` pixels, the strongest on a tie."""
    if not len(lines.weight):
        return None
    x0, y0, x1, y1 = lines.ends.T
    dx, dy = x1 - x0, y1 - y0
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((x - x0) * dx + (y - y0) * dy) / length2, 0.0, 1.0)
    distance = np.hypot(x0 + t * dx - x, y0 + t * dy - y)
    # Lines are sorted weakest first: the last of the nearest is the one drawn on top.
    best = len(distance) - 1 - int(np.argmin(distance[::-1]))
    return best if distance[best] <= tolerance else None


# ---- text and scale strips ---------------------------------------------------------------------------------


def draw_scale_strip(painter: QPainter, centre_x: float, top: float, width: float, scale: Scale,
                     room: float | None = None) -> None:
    """A horizontal colour strip of ``scale`` with its low and high values under its ends; the strip and its
    labels take at most ``room`` pixels across (narrowed to fit), and no label starts left of the canvas."""
    font = pixel_font(10)
    metrics = QFontMetricsF(font)
    low, high = scale.label(scale.low), scale.label(scale.high)
    ends = (metrics.horizontalAdvance(low) + metrics.horizontalAdvance(high)) / 2
    if room is not None:
        width = max(12.0, min(width, room - ends - 4))
    strip = QRectF(centre_x - width / 2, top, width, 8)
    row = np.ascontiguousarray(scale.table.reshape(1, -1))
    painter.drawImage(strip, qimage(row))
    painter.setPen(QPen(QColor(FOREGROUND), 0.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(strip)
    painter.setFont(font)
    baseline = strip.bottom() + 2 + metrics.ascent()
    painter.setPen(QColor(NOTE_COLOR))
    painter.drawText(QPointF(max(0.0, strip.left() - metrics.horizontalAdvance(low) / 2), baseline), low)
    painter.drawText(QPointF(strip.right() - metrics.horizontalAdvance(high) / 2, baseline), high)
    zero = metrics.horizontalAdvance("0")
    if scale.kind == "diverging" and width >= ends + 2 * zero:  # room for the middle label between the ends
        painter.drawText(QPointF(strip.center().x() - zero / 2, baseline), "0")


def draw_centred(painter: QPainter, text: str, centre_x: float, baseline: float, pixels: float = 11,
                 bold: bool = False, color: str = FOREGROUND) -> None:
    font = pixel_font(pixels, bold)
    painter.setFont(font)
    painter.setPen(QColor(color))
    painter.drawText(QPointF(centre_x - QFontMetricsF(font).horizontalAdvance(text) / 2, baseline), text)
