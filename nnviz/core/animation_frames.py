"""The frames of an animation of the training, drawn with Pillow (no Qt): the decision maps, the data and the curves.

``FramePainter`` lays the picture out once (the maps as small multiples or one run large, the cost curves
below them), draws what never changes (the data points, the curves, the axes) once, and then paints one frame
per call: each map's probabilities (``GridEvaluator``), its 0.5 contour, the titles and the curves' marker.
Frames are composed at their own size (the heat maps are smooth, Pillow's text is antialiased); what Pillow would
draw jagged (the contours, the dots, the curves) is drawn at ``SUPERSAMPLE`` times the size and reduced first.

The colours are the window's (``nnviz.gui.map_shared``, copied here because core never imports gui; a test
checks they agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from nnviz.core.contour import marching_squares
from nnviz.core.grid import GridEvaluator

# The window's colours (gui/map_shared.py).
BACKGROUND = "#ffffff"
FOREGROUND = "#3c3c3c"  # axes, ticks and titles
NOTE_COLOR = "#6b6b6b"
CLASS_COLORS = ("#154f91", "#c85200")  # class 0 blue, class 1 orange
CONTOUR_COLOR = "#e3000f"  # the notebook's red 0.5 line
MARGIN = 0.10  # the map covers the data bounds plus this fraction of their span on every side
PROBABILITY_STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
PROBABILITY_COLORS = ((124, 170, 218), (180, 207, 236), (247, 247, 247), (251, 206, 160), (244, 163, 96))
GRID_LINE = "#dcdcdc"  # the curves' grid lines
MARKER_LINE = "#9a9a9a"  # the curves' line at the frame's epoch, and the time bar's elapsed part
TRACK = "#e6e6e6"  # the time bar's part still to come

SUPERSAMPLE = 2  # lines and dots are drawn this many times larger, then reduced (antialiased)
REFERENCE_WIDTH = 800  # pixels: text and lines are scaled by width / this
MAX_POINTS_LARGE = 5000  # data points drawn on a large map (a fixed random subset beyond)
MAX_POINTS_SMALL = 2000  # on each small multiple
CELL_PIXELS = 3  # one grid cell per this many pixels of a map (drawn smoothed) ...
CELLS = (24, 400)  # ... and from this many to this many cells a side
MAX_MAPS_HEIGHT = 0.75  # the maps take at most this share of the width in height
ASPECT_RANGE = (0.5, 4.0)  # a map's width / height, whatever the data's


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def probability_lut(n: int = 256) -> np.ndarray:
    """The probability colour map as ``n`` RGB rows (uint8), p = 0 first (as the window's)."""
    p = np.linspace(0.0, 1.0, n)
    colors = np.asarray(PROBABILITY_COLORS, dtype=np.float64)
    return np.column_stack([np.interp(p, PROBABILITY_STOPS, colors[:, c]) for c in range(3)]).round().astype(np.uint8)


def data_extent(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` covering every point plus the margin (as the window's maps)."""
    points = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays if len(a)])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - MARGIN * span, high + MARGIN * span
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def fit_extent(extent, width: float, height: float) -> tuple[float, float, float, float]:
    """Widen ``extent`` about its centre to the aspect ratio ``width / height`` (the data keeps its scale)."""
    x_min, x_max, y_min, y_max = extent
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    half_x, half_y = (x_max - x_min) / 2, (y_max - y_min) / 2
    half_x, half_y = max(half_x, half_y * width / height), max(half_y, half_x * height / width)
    return cx - half_x, cx + half_x, cy - half_y, cy + half_y


@lru_cache(maxsize=32)
def font(pixels: int, bold: bool = False):
    """DejaVu Sans (the window's usual font) at ``pixels``, else Pillow's own scalable font."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", max(1, pixels))
    except OSError:
        return ImageFont.load_default(max(1, pixels))


def make_evaluator(layout, activation: str, extent, n: int, features) -> GridEvaluator:
    """The one place a GridEvaluator is made, evaluating the data's input features of every grid point."""
    return GridEvaluator(layout, activation, extent, n, features=features)


@dataclass
class _Map:
    run: object  # the FilmRun shown
    title: tuple[int, int]  # left, top of its title
    box: tuple[int, int, int, int]  # left, top, right, bottom of the plot
    extent: tuple[float, float, float, float]  # the data area the plot shows
    evaluator: GridEvaluator
    points: object  # RGBA image of the data points over the plot (transparent elsewhere)
    red: object  # RGB image of the plot's size in the contour's colour, pasted through the contour's mask


def _subset(X: np.ndarray, y: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    if len(X) <= cap:
        return X, y
    keep = np.sort(np.random.default_rng(0).choice(len(X), cap, replace=False))
    return X[keep], y[keep]


def nice_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round values in [low, high], at most ``most``."""
    span = max(high - low, 1e-12)
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    step = next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= most)
    return [k * step for k in range(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.0e}"


def _reduced(image):
    """An RGBA image drawn SUPERSAMPLE times too large, reduced with its colours weighted by their alpha (no dark
    fringe where a dot meets the transparent background)."""
    return image.convert("RGBa").reduce(SUPERSAMPLE).convert("RGBA")


class _CurvePainting:
    """The cost curves below the maps: a mix-in of FramePainter (it reads the painter's film, scale, size, epoch
    range and spacing)."""

    def _curve_x(self, epochs: np.ndarray) -> np.ndarray:
        e = np.asarray(epochs, dtype=np.float64)
        return np.log1p(e) if self.spacing == "log" else e

    def _draw_curves(self, draw, image) -> None:
        """The curves' axes, grid, labels, lines and legend on ``image`` (SUPERSAMPLE times the frame's size)."""
        ss, s = SUPERSAMPLE, self.scale
        tick_font, label_font = font(round(11 * s * ss)), font(round(12 * s * ss))
        lo_x, hi_x = self._curve_x(np.array([self.first, self.last]))
        hi_x = hi_x if hi_x > lo_x else lo_x + 1.0
        costs = []
        for run in self.film.runs:
            inside = (run.cost_epochs >= self.first) & (run.cost_epochs <= self.last) & np.isfinite(run.costs)
            costs.append(run.costs[inside])
        values = np.concatenate(costs) if costs else np.empty(0)
        self.log_cost = bool(values.size and values.min() > 0)
        if values.size == 0:
            low, high = 0.0, 1.0
        elif self.log_cost:
            low, high = math.log10(values.min()), math.log10(values.max())
        else:
            low, high = float(values.min()), float(values.max())
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        pad = 0.05 * (high - low)
        self.cost_range = (low - pad, high + pad)
        y_ticks = self._cost_ticks(*self.cost_range)
        y_labels = [_number(10 ** v if self.log_cost else v) for v in y_ticks]
        label_w = max((draw.textlength(t, font=tick_font) for t in y_labels), default=0) / ss
        left = self.margin + round(16 * s) + label_w + round(8 * s)
        top = self.curves_top + round(6 * s)
        bottom = self.curves_top + self.curves_height - round(34 * s)
        right = self.width - self.margin - round(6 * s)
        self.curve_box = box = (round(left), top, right, bottom)
        self.curve_x_range = (lo_x, hi_x)
        fg = rgb(FOREGROUND)
        thin = max(1, round(s * ss))
        oy = self.curves_top  # ``image`` starts at the curves' top
        box = (box[0], box[1] - oy, box[2], box[3] - oy)
        for value, text in zip(y_ticks, y_labels, strict=True):
            v = (self._cost_pixel(value) - oy) * ss
            draw.line([(box[0] * ss, v), (box[2] * ss, v)], fill=rgb(GRID_LINE), width=thin)
            draw.text((box[0] * ss - round(5 * s * ss), v), text, fill=fg, font=tick_font, anchor="rm")
        for epoch in self._epoch_ticks():
            u = self._epoch_pixel(epoch) * ss
            draw.line([(u, box[1] * ss), (u, box[3] * ss)], fill=rgb(GRID_LINE), width=thin)
            draw.text((u, box[3] * ss + round(4 * s * ss)), f"{epoch:,}", fill=fg, font=tick_font, anchor="ma")
        draw.rectangle([box[0] * ss, box[1] * ss, box[2] * ss, box[3] * ss], outline=fg, width=thin)
        x_label = "epoch (log scale)" if self.spacing == "log" else "epoch"
        draw.text(((box[0] + box[2]) / 2 * ss, (self.curves_height - round(4 * s)) * ss),
                  x_label, fill=fg, font=label_font, anchor="md")
        self._vertical_text(image, draw, "cost" + (" (log)" if self.log_cost else ""),
                            (self.margin * ss, (box[1] + box[3]) / 2 * ss), label_font)
        # The curves, each as at most a few points per pixel column (min and max of the rows in it).
        for run in self.film.runs:
            u, v = self._curve_points(run)
            if len(u) > 1:
                draw.line(list(zip((u * ss).tolist(), ((v - oy) * ss).tolist(), strict=True)), fill=rgb(run.colour),
                          width=max(1, round(1.6 * s * ss)), joint="curve")
        self._legend(draw, label_font)

    def _vertical_text(self, image, draw, text: str, at, text_font) -> None:
        from PIL import Image, ImageDraw

        w = round(draw.textlength(text, font=text_font)) + 4
        h = round(text_font.size * 1.3)
        label = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        ImageDraw.Draw(label).text((w / 2, h / 2), text, fill=rgb(FOREGROUND) + (255,), font=text_font, anchor="mm")
        label = label.rotate(90, expand=True)
        image.paste(label, (round(at[0]), round(at[1] - label.height / 2)), label)

    def _legend(self, draw, text_font) -> None:
        ss, s = SUPERSAMPLE, self.scale
        if len(self.film.runs) < 2:
            return
        line, pad, row_h = round(18 * s * ss), round(5 * s * ss), round(15 * s * ss)
        names = [run.name for run in self.film.runs]
        text_w = max(draw.textlength(n, font=text_font) for n in names)
        right, top = self.curve_box[2] * ss - pad, (self.curve_box[1] - self.curves_top) * ss + pad
        left = right - (line + 2 * pad + text_w + pad)
        bottom = top + pad + row_h * len(names) + pad // 2
        draw.rectangle([left, top, right, bottom], fill=(255, 255, 255), outline=rgb(GRID_LINE),
                       width=max(1, round(s * ss)))
        for k, run in enumerate(self.film.runs):
            y = top + pad + row_h * k + row_h / 2
            draw.line([(left + pad, y), (left + pad + line, y)], fill=rgb(run.colour), width=max(1, round(2 * s * ss)))
            draw.text((left + 2 * pad + line, y), run.name, fill=rgb(FOREGROUND), font=text_font, anchor="lm")

    def _cost_ticks(self, low: float, high: float) -> list[float]:
        if not self.log_cost:
            return nice_ticks(low, high, 5)
        decades = [float(d) for d in range(math.ceil(low), math.floor(high) + 1)]
        if len(decades) >= 3:
            return decades
        fine = [math.log10(m) + d for d in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)]
        return [v for v in fine if low <= v <= high] or [low, high]

    def _epoch_ticks(self) -> list[int]:
        first, last = self.first, max(self.last, self.first + 1)
        if self.spacing == "linear":
            return [int(v) for v in nice_ticks(first, last, 6) if float(v).is_integer()]
        candidates = [0] + [m * 10 ** d for d in range(0, 9) for m in (1, 3)]
        ticks = [e for e in candidates if first <= e <= last]
        return ticks if len(ticks) <= 8 else [e for e in ticks if e == 0 or str(e).startswith("1")]

    def _epoch_pixel(self, epoch) -> np.ndarray | float:
        left, _, right, _ = self.curve_box
        lo, hi = self.curve_x_range
        return left + (self._curve_x(epoch) - lo) / (hi - lo) * (right - left)

    def _cost_pixel(self, value) -> np.ndarray | float:
        _, top, _, bottom = self.curve_box
        lo, hi = self.cost_range
        return bottom - (np.asarray(value, dtype=np.float64) - lo) / (hi - lo) * (bottom - top)

    def _cost_value(self, cost) -> np.ndarray:
        cost = np.asarray(cost, dtype=np.float64)
        if not self.log_cost:
            return cost
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(cost)

    def _curve_points(self, run) -> tuple[np.ndarray, np.ndarray]:
        inside = (run.cost_epochs >= self.first) & (run.cost_epochs <= self.last) & np.isfinite(run.costs)
        if self.log_cost:
            inside &= run.costs > 0
        u = np.asarray(self._epoch_pixel(run.cost_epochs[inside]))
        v = np.asarray(self._cost_pixel(self._cost_value(run.costs[inside])))
        if len(u) > 4 * (self.curve_box[2] - self.curve_box[0]):
            column = np.floor(u * SUPERSAMPLE).astype(np.int64)
            starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
            top, low = np.minimum.reduceat(v, starts), np.maximum.reduceat(v, starts)
            u = np.repeat(u[starts], 2)
            v = np.column_stack([top, low]).reshape(-1)
        return u, v


class FramePainter(_CurvePainting):
    """Draws the frames of one animation; ``frame(epoch, fraction, should_stop)`` -> ndarray (height, width, 3).

    Parameters
    ----------
    film : nnviz.core.animation.Film
        The runs' snapshots and histories, the network's layout and the data.
    width : int
        Output width in pixels; the height follows the layout (``height``), even when ``even`` is set.
    large : str or None
        The name of the run shown large; None: every run, as small multiples.
    curves : bool
        Draw the cost curves (with a marker at the frame's epoch) below the maps.
    first, last : int
        The epochs of the first and the last frame (the curves' x range).
    spacing : "log" or "linear"
        How epochs are spaced over the frames: the curves' x axis is log(1 + epoch) or epoch to match, so
        their marker moves at a steady pace.
    should_stop : callable, optional
        Asked while the fixed parts are drawn: training.Stopped when it says so.
    """

    def __init__(self, film, width: int, large: str | None, curves: bool, first: int, last: int, spacing: str,
                 even: bool = False, should_stop: Callable[[], bool] | None = None):
        from PIL import Image, ImageDraw

        from nnviz.core.training import Stopped

        def check() -> None:
            if should_stop is not None and should_stop():
                raise Stopped

        self.film, self.width, self.curves_on = film, int(width), bool(curves)
        self.first, self.last, self.spacing = int(first), int(last), spacing
        runs = [r for r in film.runs if r.name == large] if large is not None else list(film.runs)
        self.scale = scale = self.width / REFERENCE_WIDTH
        self.margin = margin = round(8 * scale)
        self.header = round(30 * scale)  # the epoch, and the bar of the time elapsed below it
        data = film.data
        extent = data_extent(data.X, data.X_test)
        aspect = min(ASPECT_RANGE[1], max(ASPECT_RANGE[0], (extent[1] - extent[0]) / (extent[3] - extent[2])))

        # The maps' grid: the fewest columns (the largest maps) whose height fits MAX_MAPS_HEIGHT of the width.
        title_h, gap = round(18 * scale), round(8 * scale)
        inner = self.width - 2 * margin
        n = len(runs)
        for columns in range(1, n + 1):
            rows = math.ceil(n / columns)
            cell_w = (inner - (columns - 1) * gap) / columns
            plot_h = cell_w / aspect
            maps_h = rows * (title_h + plot_h) + (rows - 1) * gap
            if maps_h <= MAX_MAPS_HEIGHT * self.width or columns == n:
                break
        plot_h = min(plot_h, (MAX_MAPS_HEIGHT * self.width - (rows - 1) * gap) / rows - title_h)
        plot_w, plot_h = int(cell_w), max(8, int(plot_h))
        top = margin + self.header
        self.curves_top = top + rows * (title_h + plot_h) + (rows - 1) * gap + gap
        self.curves_height = max(round(110 * scale), round(0.26 * self.width)) if self.curves_on else 0
        height = self.curves_top + self.curves_height + (margin if self.curves_on else 0)
        if even:
            height += height % 2
        self.height = height

        compact = n > 1
        cells_x = int(np.clip(plot_w / CELL_PIXELS, *CELLS))
        cells = int(np.clip(max(cells_x, plot_h / CELL_PIXELS), *CELLS))
        features = getattr(data, "features", None)
        cap = MAX_POINTS_SMALL if compact else MAX_POINTS_LARGE
        train = _subset(data.X, data.y.reshape(-1), cap)
        test = _subset(data.X_test, data.y_test.reshape(-1), cap) if len(data.X_test) else None
        self.maps: list[_Map] = []
        for k, run in enumerate(runs):
            check()
            row, column = divmod(k, columns)
            left = margin + round(column * (cell_w + gap))
            title_top = top + row * (title_h + plot_h + gap)
            box = (left, title_top + title_h, left + plot_w, title_top + title_h + plot_h)
            shown = fit_extent(extent, plot_w, plot_h)
            evaluator = make_evaluator(film.layout, film.activation, shown, cells, features)
            points = self._points_layer(box, shown, train, test, compact)
            self.maps.append(_Map(run, (left, title_top), box, shown, evaluator, points,
                                  Image.new("RGB", (plot_w, plot_h), CONTOUR_COLOR)))
        self.lut = probability_lut()
        self.line_width = (2.0 if compact else 2.5) * scale * SUPERSAMPLE

        # What never changes: the background with the curves (axes, lines, legend), drawn once.
        check()
        self.base = Image.new("RGB", (self.width, self.height), BACKGROUND)
        if self.curves_on:  # drawn on the curves' area alone (SUPERSAMPLE times its size), then reduced
            big = Image.new("RGB", (self.width * SUPERSAMPLE, self.curves_height * SUPERSAMPLE), BACKGROUND)
            self._draw_curves(ImageDraw.Draw(big), big)
            check()
            self.base.paste(big.reduce(SUPERSAMPLE), (0, self.curves_top))
            self.dots = {run.name: self._dot(run.colour) for run in film.runs}
        self._image, self._draw = Image, ImageDraw

    def key_colours(self) -> list[tuple[int, int, int]]:
        """The flat colours every frame draws with (a GIF's palette must hold them exactly)."""
        named = [BACKGROUND, FOREGROUND, NOTE_COLOR, CONTOUR_COLOR, GRID_LINE, MARKER_LINE, TRACK, *CLASS_COLORS]
        return [rgb(c) for c in named + [run.colour for run in self.film.runs]]

    # ---- what never changes ------------------------------------------------------------------------

    def _to_plot(self, box, extent, xy: np.ndarray, factor: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Data coordinates -> pixels from a plot ``box``'s top left corner, showing ``extent``, × ``factor``."""
        left, top, right, bottom = box
        x_min, x_max, y_min, y_max = extent
        px = (xy[:, 0] - x_min) / (x_max - x_min) * (right - left) * factor
        py = (y_max - xy[:, 1]) / (y_max - y_min) * (bottom - top) * factor
        return px, py

    def _points_layer(self, box, extent, train, test, compact: bool):
        """The data points over a plot, as a transparent RGBA image the size of the plot."""
        from PIL import Image, ImageDraw

        ss, s = SUPERSAMPLE, self.scale
        left, top, right, bottom = box
        layer = Image.new("RGBA", ((right - left) * ss, (bottom - top) * ss), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        radius = (2.0 if compact else 3.0) * max(s, 0.6) * ss
        outline = max(1, round(0.6 * s * ss))
        for points, filled in ((train, True), (test, False)):
            if points is None:
                continue
            X, y = points
            px, py = self._to_plot(box, extent, X, ss)
            for label, colour in enumerate(CLASS_COLORS):
                mine = y == label
                for u, v in zip(px[mine].tolist(), py[mine].tolist(), strict=True):
                    corners = (u - radius, v - radius, u + radius, v + radius)
                    if filled:
                        draw.ellipse(corners, fill=rgb(colour) + (255,), outline=(255, 255, 255, 170), width=outline)
                    else:
                        draw.ellipse(corners, outline=rgb(colour) + (255,), width=max(1, round(1.4 * s * ss)))
        return _reduced(layer)

    def _dot(self, colour: str):
        """The curves' marker of a run: a dot in its colour with a white ring, RGBA, antialiased."""
        from PIL import Image, ImageDraw

        radius = 3.5 * self.scale * SUPERSAMPLE
        side = 2 * math.ceil(radius + SUPERSAMPLE)
        side += -side % SUPERSAMPLE
        image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        c = side / 2
        ImageDraw.Draw(image).ellipse((c - radius, c - radius, c + radius, c + radius), fill=rgb(colour) + (255,),
                                      outline=(255, 255, 255, 255), width=max(1, round(self.scale * SUPERSAMPLE)))
        return _reduced(image)

    # ---- one frame ---------------------------------------------------------------------------------

    def frame(self, epoch: int, fraction: float = 1.0,
              should_stop: Callable[[], bool] | None = None) -> np.ndarray | None:
        """The picture at ``epoch`` (each run at its newest snapshot at or before it) with the time bar filled to
        ``fraction`` (0..1, the frame's place in the animation): (height, width, 3) uint8. None as soon as
        ``should_stop()`` says so (asked twice a map: a large frame takes several of the 100 ms a stop may take).

        The bar grows by a pixel or more a frame while there are no more frames than it has pixels, so no two
        frames are the same (a GIF writer would merge them into one)."""
        Image, ImageDraw = self._image, self._draw
        ss, s = SUPERSAMPLE, self.scale
        canvas = self.base.copy()
        draw = ImageDraw.Draw(canvas)
        fg = rgb(FOREGROUND)
        text_y = self.margin + 10 * s
        draw.text((self.margin, text_y), f"epoch {epoch:,}", fill=fg, font=font(round(16 * s), bold=True),
                  anchor="lm")
        note = f"epochs {self.first:,} to {self.last:,}, " + ("spaced logarithmically" if self.spacing == "log"
                                                              else "spaced evenly")
        draw.text((self.width - self.margin, text_y), note, fill=rgb(NOTE_COLOR), font=font(round(11 * s)),
                  anchor="rm")
        title_font = font(round((12 if len(self.maps) > 1 else 14) * s))
        for item in self.maps:
            if should_stop is not None and should_stop():
                return None
            shown, params, cost = item.run.at(epoch)
            p = item.evaluator(params)
            left, top, right, bottom = item.box
            index = np.clip(np.rint(p[::-1] * 255), 0, 255).astype(np.uint8)
            heat = Image.fromarray(self.lut[index], "RGB").resize((right - left, bottom - top), Image.BILINEAR)
            canvas.paste(heat, (left, top))
            if should_stop is not None and should_stop():
                return None
            segments = marching_squares(p, 0.5, item.evaluator.xs, item.evaluator.ys)
            if len(segments):
                mask = Image.new("L", ((right - left) * ss, (bottom - top) * ss), 0)
                px, py = self._to_plot(item.box, item.extent, segments, ss)
                self._contour(ImageDraw.Draw(mask), px, py)
                canvas.paste(item.red, (left, top), mask.reduce(ss))
            canvas.paste(item.points, (left, top), item.points)
            draw.rectangle([left, top, right - 1, bottom - 1], outline=(200, 200, 200), width=max(1, round(s)))
            self._title(draw, item, shown, cost, title_font)
        if should_stop is not None and should_stop():
            return None
        if self.curves_on:
            u = round(float(self._epoch_pixel(min(max(epoch, self.first), self.last))))
            _, top, _, bottom = self.curve_box
            draw.line([(u, top + 1), (u, bottom - 1)], fill=rgb(MARKER_LINE), width=max(1, round(1.2 * s)))
            for run in self.film.runs:
                shown, _, cost = run.at(epoch)
                if cost is None or not math.isfinite(cost) or (self.log_cost and cost <= 0):
                    continue
                dot = self.dots[run.name]
                x, y = float(self._epoch_pixel(shown)), float(self._cost_pixel(self._cost_value(cost)))
                canvas.paste(dot, (round(x - dot.width / 2), round(y - dot.height / 2)), dot)
        out = np.array(canvas)
        top = self.margin + round(22 * s)
        bar = out[top:top + max(2, round(3 * s)), self.margin:self.width - self.margin]
        filled = round(min(max(fraction, 0.0), 1.0) * bar.shape[1])
        bar[:, :filled] = rgb(MARKER_LINE)
        bar[:, filled:] = rgb(TRACK)
        return out

    def _contour(self, draw, px: np.ndarray, py: np.ndarray) -> None:
        """The 0.5 contour's segments on a mask (SUPERSAMPLE times the plot's size), with round ends so the
        segments join without gaps."""
        width = max(1, round(self.line_width))
        radius = width / 2
        ends = np.column_stack([px, py]).reshape(-1, 4).tolist()
        for x0, y0, x1, y1 in ends:
            draw.line([(x0, y0), (x1, y1)], fill=255, width=width)
            draw.ellipse((x1 - radius, y1 - radius, x1 + radius, y1 + radius), fill=255)

    def _title(self, draw, item: _Map, shown: int, cost, title_font) -> None:
        s = self.scale
        left, top = item.title
        centre_y = top + round(9 * s)
        parts = [item.run.name, f"epoch {shown:,}"]
        if cost is not None:
            parts.append(f"cost {cost:.3g}" if math.isfinite(cost) else "diverged")
        text = " — ".join(parts)
        side = round(9 * s)
        width = side + round(5 * s) + draw.textlength(text, font=title_font)
        start = round(left + ((item.box[2] - item.box[0]) - width) / 2)
        draw.rectangle([start, centre_y - side // 2, start + side, centre_y - side // 2 + side],
                       fill=rgb(item.run.colour))
        draw.text((start + side + round(5 * s), centre_y), text, fill=rgb(FOREGROUND), font=title_font, anchor="lm")
