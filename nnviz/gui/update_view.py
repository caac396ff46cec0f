"""Update sizes of one run: ‖W_e − W_{e−1}‖ / ‖W_{e−1}‖ per weight layer and epoch, on a log axis.

A rule of thumb (Karpathy): about 1e-3 per step is healthy. Far below, the layer barely learns; far above,
training is unstable. The view draws the run's ``health.UpdateSizes`` (it keeps a reference, never a copy)
and redraws on ``refresh()``, once a frame, only when rows were added; a long run is drawn as the lowest
and highest point of each of at most MAX_DRAWN_POINTS / 2 chunks per line (one per pixel column), so a
frame stays cheap.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from nnviz.core.health import UpdateSizes
from nnviz.core.text import shorten
from nnviz.gui.boundary_view import BACKGROUND, FOREGROUND, no_si_prefix
from nnviz.gui.curve_runs import MARKER_COLOR

MAX_DRAWN_POINTS = 2000  # per line at most (2 per pixel column): longer runs are drawn as each chunk's lowest
#                          and highest point
HEALTHY = 1e-3  # the rule of thumb's update size, drawn as a dotted reference line
PALETTE = ("viridis", 0.0, 0.8)  # the layers' colours: evenly spaced on this part of the colour map (no pale yellow)
HINT = ("‖ΔW‖ / ‖W‖: how much each layer's weights change in one epoch, relative to their size. "
        "About 1e-3 is a healthy step (Karpathy's rule of thumb); far below, the layer barely learns; "
        "far above, training is unstable.")


def layer_names(shape: tuple[int, ...]) -> list[str]:
    """One name per weight layer: "layer 1: 2→3", "layer 2: 3→4", ..., "output: 4→1"."""
    names = [f"layer {i + 1}: {a}→{b}" for i, (a, b) in enumerate(zip(shape[:-1], shape[1:], strict=True))]
    names[-1] = f"output: {shape[-2]}→{shape[-1]}"
    return names


def layer_colours(count: int) -> list:
    """``count`` distinct colours (QColor) of a sequential palette, first layer darkest."""
    name, low, high = PALETTE
    if count == 0:
        return []
    return pg.colormap.get(name).map(np.linspace(low, high, count) if count > 1 else [low], mode="qcolor")


def round_up(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at least ``value`` (≥ 10): the x range grows a few times a decade, so the
    axis is not redrawn every frame."""
    value = max(float(value), 10.0)
    decade = 10.0 ** np.floor(np.log10(value))
    return next(step * decade for step in (1, 2, 5, 10) if step * decade >= value)


def envelope(x: np.ndarray, y: np.ndarray, max_points: int = MAX_DRAWN_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` of the points (x, y) in order: each of ``max_points // 2`` consecutive chunks keeps
    its lowest and its highest point (every point drawn is a real one; the band of values stays visible).

    y must hold no NaN. O(len(y)) with no copy of it: called every frame on runs of 10⁵ rows.
    """
    n = len(y)
    if n <= max_points:
        return x, y
    per = -(-n // (max_points // 2))  # rows a chunk
    full = n // per
    blocks = y[: full * per].reshape(full, per)
    low, high = blocks.argmin(axis=1), blocks.argmax(axis=1)
    start = np.arange(full) * per
    pairs = [start + np.minimum(low, high), start + np.maximum(low, high)]
    if full * per < n:  # the last, shorter chunk
        tail = y[full * per:]
        ends = sorted((full * per + int(tail.argmin()), full * per + int(tail.argmax())))
        pairs = [np.append(pairs[0], ends[0]), np.append(pairs[1], ends[1])]
    index = np.column_stack(pairs).ravel()
    index = index[np.append(True, np.diff(index) > 0)]  # a chunk whose lowest point is its highest: once
    return x[index], y[index]


class UpdateSizesView(pg.PlotWidget):
    """One run's update size per weight layer and epoch: a line per layer on a log y axis, a legend, a dotted
    line at the healthy 1e-3, and a marker at the timeline's epoch."""

    def __init__(self, parent=None):
        super().__init__(parent, background=BACKGROUND)
        self._sizes: UpdateSizes | None = None
        self._run: tuple | None = None  # (sizes, name, colour, shape) as last shown
        self._drawn: tuple | None = None  # (sizes, rows, stride) at the last draw
        self._lines: dict[str, pg.PlotDataItem] = {}
        self.setToolTip(HINT)
        plot = self.plot = self.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLogMode(x=False, y=True)
        plot.enableAutoRange(x=False, y=False)  # x: 0 to a round epoch past the newest; y: the data and room
        #                                        above it for the legend (see _fit_y)
        self._y_span = None  # (lowest, highest) log10 update size drawn
        self._x_max = None
        plot.showGrid(x=False, y=True, alpha=0.15)
        for side, label in (("bottom", "epoch"), ("left", "‖ΔW‖ / ‖W‖ per epoch")):
            axis = plot.getAxis(side)
            axis.setPen(pg.mkPen(FOREGROUND))
            axis.setTextPen(pg.mkPen(FOREGROUND))
            axis.setLabel(label, color=FOREGROUND)
            no_si_prefix(axis)
        self.legend = plot.addLegend(offset=(-8, 8), brush=pg.mkBrush(255, 255, 255, 200),
                                     pen=pg.mkPen(200, 200, 200), labelTextColor=FOREGROUND)
        # In log mode an item's position is log10 of the value.
        self._healthy = pg.InfiniteLine(pos=np.log10(HEALTHY), angle=0, movable=False,
                                        pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.PenStyle.DotLine))
        plot.addItem(self._healthy, ignoreBounds=True)
        self._marker = pg.InfiniteLine(angle=90, movable=False,
                                       pen=pg.mkPen(MARKER_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self._marker.setZValue(5)
        self._marker.setVisible(False)
        plot.addItem(self._marker, ignoreBounds=True)
        # Says why nothing is drawn when every update was 0 (e.g. a saturated network: no gradient).
        self._nothing = pg.LabelItem("no update so far: every ‖ΔW‖ is 0 (no gradient reaches the weights)",
                                     color=MARKER_COLOR, size="9pt")
        self._nothing.setParentItem(plot.vb)
        self._nothing.anchor(itemPos=(0.5, 0.5), parentPos=(0.5, 0.5))
        self._nothing.setVisible(False)
        self._set_title("", None)

    # ---- public API -------------------------------------------------------------------------

    def show_run(self, update_sizes: UpdateSizes | None, name: str, colour: str, shape: tuple) -> None:
        """Show this run's update sizes (None: no run, no lines); cheap when called again with the same run.

        shape : the network's (2, h1, ..., hk, 1); it names the lines, one per weight layer.
        """
        shape = tuple(int(units) for units in shape)
        if self._run is not None and self._run[0] is update_sizes and self._run[1:] == (name, colour, shape):
            return
        if len(shape) < 2:
            raise ValueError(f"shape={shape}: must have at least 2 layers (inputs and output)")
        if update_sizes is not None and update_sizes.layers != len(shape) - 1:
            raise ValueError(f"update_sizes: has {update_sizes.layers} weight layers, shape {shape} has "
                             f"{len(shape) - 1}")
        names = layer_names(shape) if update_sizes is not None else []
        if list(self._lines) != names:
            for item in self._lines.values():
                self.plot.removeItem(item)  # also from the legend
            self._lines = {}
            for line_name, colour_of_line in zip(names, layer_colours(len(names)), strict=True):
                item = pg.PlotDataItem(name=line_name, pen=pg.mkPen(colour_of_line, width=1))
                self.plot.addItem(item)
                self._lines[line_name] = item
        self._run = (update_sizes, name, colour, shape)
        self._sizes = update_sizes
        self._drawn = None
        self._set_title(name, colour if update_sizes is not None else None)
        self.refresh()

    def refresh(self) -> None:
        """Draw the rows added since the last draw (nothing to do when none were: called every frame)."""
        sizes = self._sizes
        if sizes is None:
            return
        state = (sizes, len(sizes), sizes.stride)
        if self._drawn is not None and self._drawn[0] is sizes and self._drawn[1:] == state[1:]:
            return
        self._drawn = state
        epochs, ratios = sizes.arrays()
        x = epochs.astype(np.float64)
        # Two points (a chunk's lowest and highest) per pixel column are all a line can show.
        points = max(200, min(MAX_DRAWN_POINTS, 2 * round(self.plot.vb.width())))
        drawn, low, high = 0, np.inf, -np.inf
        for column, item in enumerate(self._lines.values()):
            y = ratios[:, column]
            kept = np.isfinite(y) & (y > 0)  # log axis: a zero or non-finite size has no place on it
            item.setData(*envelope(x, y, points) if kept.all() else envelope(x[kept], y[kept], points))
            drawn += int(kept.sum())
            if kept.any():
                low, high = min(low, float(y[kept].min())), max(high, float(y[kept].max()))
        self._nothing.setVisible(len(x) > 0 and drawn == 0)
        self._y_span = (np.log10(low), np.log10(high)) if drawn else None
        self._fit_y()
        x_max = round_up(x[-1] if len(x) else 0)
        if x_max != self._x_max:
            self._x_max = x_max
            self.plot.setXRange(0, x_max, padding=0.02)

    def set_marker(self, epoch: int | None) -> None:
        """Mark the timeline's epoch with a vertical line (None: no marker)."""
        if epoch is None:
            self._marker.setVisible(False)
            return
        self._marker.setValue(float(epoch))
        self._marker.setVisible(True)

    @property
    def marker_epoch(self) -> float | None:
        """The epoch marked (None when no marker is shown)."""
        return float(self._marker.value()) if self._marker.isVisible() else None

    def lines(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What each line draws, by its name ("layer 1: 2→3", ..., "output: 4→1"): (epochs, update sizes)."""
        out = {}
        for name, item in self._lines.items():
            x, y = item.getOriginalDataset()
            out[name] = (np.empty(0) if x is None else np.asarray(x), np.empty(0) if y is None else np.asarray(y))
        return out

    @property
    def note(self) -> str:
        """The note shown instead of lines ("" when there is none)."""
        return self._nothing.text if self._nothing.isVisible() else ""

    @property
    def title(self) -> str:
        """The title as plain text, e.g. "update size — “momentum”"."""
        return self._title_text

    # ---- internals --------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_y_span"):  # not while PlotWidget.__init__ lays itself out
            self._fit_y()

    def _fit_y(self) -> None:
        """The y range: the lines, and above them a band as tall as the legend, so that it covers none of them
        (it sits in the plot's top right corner, where the first epochs' large updates would be)."""
        low, high = self._y_span if self._y_span is not None else (np.log10(HEALTHY) - 1, np.log10(HEALTHY) + 1)
        low, high = min(low, np.log10(HEALTHY)), max(high, np.log10(HEALTHY))  # the healthy line in sight
        span = max(high - low, 0.5)
        low, high = low - 0.05 * span, high + 0.05 * span
        if self.plot.vb is None:
            return  # the plot is being taken down
        plot_height = self.plot.vb.height()
        band = self.legend.boundingRect().height() + 12  # the legend, its offset and a gap
        if 0 < band < 0.7 * plot_height:  # (a taller legend than that: the lines keep most of the height)
            high += (high - low) * band / (plot_height - band)
        self.plot.setYRange(low, high, padding=0)

    def _set_title(self, name: str, colour: str | None) -> None:
        name = shorten(name, 40)
        self._title_text = f"update size — “{name}”" if colour is not None else "update size"
        text = "update size"
        if colour is not None:
            text += f" — <span style='color: {colour}'>■</span>&nbsp;“{html.escape(name)}”"
        self.plot.setTitle(text, color=FOREGROUND, size="10pt")
