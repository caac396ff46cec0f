"""The decision map: the network's probability over the data as an image, its 0.5 contour, the data on top."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import Qt, Signal

from nnviz.core.contour import marching_squares
from nnviz.core.datasets import expand
from nnviz.core.files import write_atomic
from nnviz.core.grid import GridEvaluator
from nnviz.core.network import Layout, predict
from nnviz.gui.export import png_bytes
from nnviz.gui.map_readout import MapReadout, format_coordinate, format_probability
from nnviz.gui.map_render import render_map
from nnviz.gui.map_scatter import MapScatter
from nnviz.gui.map_shared import (  # noqa: F401  (BACKGROUND, MARGIN, data_extent: imported from here by others)
    BACKGROUND,
    COMPACT_DRAWN_POINTS,
    CONTOUR_COLOR,
    FOREGROUND,
    MARGIN,
    MAX_DRAWN_POINTS,
    PROBABILITY_COLORS,
    PROBABILITY_STOPS,
    MapPoints,
    data_extent,
    fit_extent,
    map_points,
)

pg.setConfigOptions(imageAxisOrder="row-major")


def probability_colormap() -> pg.ColorMap:
    """Diverging light blue (p = 0, class 0) -> near white (0.5) -> light orange (p = 1, class 1).

    Light enough that the darker class colours of the scatter stay readable on top of it.
    """
    return pg.ColorMap(np.array(PROBABILITY_STOPS), np.array(PROBABILITY_COLORS, dtype=np.ubyte),
                       name="nnviz-probability")


def no_si_prefix(axis: pg.AxisItem) -> None:
    """Data axes show the data's own numbers: never "x₂ (x0.001)" with rescaled ticks."""
    axis.enableAutoSIPrefix(False)


def style_axis(axis: pg.AxisItem) -> None:
    """Axis line, ticks and tick labels in the text colour."""
    axis.setPen(pg.mkPen(FOREGROUND))
    axis.setTextPen(pg.mkPen(FOREGROUND))


def probability_colorbar(image: pg.ImageItem, cmap: pg.ColorMap) -> pg.ColorBarItem:
    """The colour bar of the decision map: P(class 1) from 0 to 1; it keeps ``image``'s levels at (0, 1)."""
    bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=cmap, interactive=False, width=14, pen=FOREGROUND)
    bar.setImageItem(image)
    axis = bar.getAxis("right")
    style_axis(axis)
    no_si_prefix(axis)
    axis.setLabel("P(class 1)", color=FOREGROUND)
    axis.setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
    return bar


def save_png(item: pg.GraphicsItem, path, width: int | None = None) -> None:
    """Render a pyqtgraph item (e.g. a layout) to a PNG file, scaled to ``width`` pixels if given."""
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 16):
        raise ValueError(f"width={width!r}: must be an integer of at least 16 pixels")
    exporter = pyqtgraph.exporters.ImageExporter(item)
    if width is not None:
        exporter.parameters()["width"] = int(width)
    exporter.export(str(path))


class BoundaryView(pg.GraphicsLayoutWidget):
    """Heat map of P(class 1) with fixed levels 0..1, the red 0.5 contour and the data as a scatter.

    ``compact=True`` makes a small multiple: no axes, no colour bar, small points, a short title, and at
    most ``map_render.COMPACT_DRAWN_POINTS`` points drawn (``MAX_DRAWN_POINTS`` when large).
    """

    clicked = Signal()  # a left click on the plot (small multiples: show this one large)
    # The mouse over the plot: (x₁, x₂, P(class 1)) at the cursor, P nan before a map is shown. Emitted on each
    # move over the plot, and when the map or the range under a resting cursor changes.
    hovered = Signal(float, float, float)

    def __init__(self, parent=None, resolution: int = 200, colorbar: bool = True, compact: bool = False):
        super().__init__(parent)
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 2 <= resolution <= 2000:
            raise ValueError(f"resolution={resolution!r}: must be an integer from 2 to 2000")
        self.resolution = int(resolution)
        self.compact = compact
        self.setBackground(BACKGROUND)
        margin = 2 if compact else 6
        self.ci.setContentsMargins(margin, margin, margin, margin)

        self._data_extent = (-1.0, 1.0, -1.0, 1.0)  # data bounds + margin
        self._extent = self._data_extent  # what the plot shows: the above, widened to the plot's aspect
        self._held: tuple[float, float, float, float] | None = None  # hold_extent: shown whatever the data
        self._grid_extent = None  # what the current grid covers (== _extent unless set_probabilities)
        self._evaluator: GridEvaluator | None = None
        self._model: tuple[np.ndarray, Layout, str] | None = None  # last (theta copy, layout, activation)
        self._points: MapPoints | None = None  # the data and the points drawn of it (set_data / set_points)
        self._discretize = False
        self._raw = np.full((self.resolution, self.resolution), 0.5, dtype=np.float32)  # last probabilities
        self._shown = self._raw.copy()  # what the image shows (raw or 0/1)
        self._hard = np.empty(self._raw.shape, dtype=bool)
        self._grid_shown = False  # set_model or set_probabilities called: _raw holds a real map

        # The title sits in its own row so that the plot and the colour bar below it line up.
        self._title = self.addLabel("", row=0, col=0, colspan=2, color=FOREGROUND, size="9pt" if compact else "11pt")
        self._title.setVisible(False)
        self.plot = self.addPlot(row=1, col=0)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=not compact, y=not compact)
        self.plot.vb.disableAutoRange()
        for side in ("left", "bottom", "right", "top"):
            no_si_prefix(self.plot.getAxis(side))
        for side, label in (("bottom", "x₁"), ("left", "x₂")):
            if compact:
                self.plot.hideAxis(side)
            else:
                style_axis(self.plot.getAxis(side))
                self.plot.getAxis(side).setLabel(label, color=FOREGROUND)

        cmap = probability_colormap()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(cmap)
        self.image.setLevels((0.0, 1.0))
        self.image.setImage(self._shown, autoLevels=False)
        self.plot.addItem(self.image)

        self.colorbar: pg.ColorBarItem | None = None
        if colorbar and not compact:
            self.colorbar = probability_colorbar(self.image, cmap)
            self.addItem(self.colorbar, row=1, col=1)

        self.contour = pg.PlotDataItem(
            connect="pairs", pen=pg.mkPen(CONTOUR_COLOR, width=2), antialias=True, skipFiniteCheck=True
        )
        self.contour.setZValue(3)  # over the image and the points, as in the notebook
        self.plot.addItem(self.contour)
        self._scatter = MapScatter(self.plot, self.contour, compact)  # the points, the legend, the note
        self.legend: pg.LegendItem | None = self._scatter.legend

        # The readout under the cursor, in the top left corner (the legend is top right, the note bottom left).
        self._readout = MapReadout(self.plot.vb, self._describe, self.hovered, 7.5 if compact else 9.0)

        self.scene().sigMouseClicked.connect(self._on_click)
        self.plot.vb.sigResized.connect(self._fit_extent)
        self._apply_extent()
        self._place_grid(self._extent)

    # ---- public API -------------------------------------------------------------------------

    def set_data(self, X, y, X_test=None, y_test=None) -> None:
        """Show the training points (filled) and test points (hollow); the map covers them plus 10 %.

        X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1) with labels 0/1; the test set likewise
        (None or empty: no test set). Above ``map_render.MAX_DRAWN_POINTS`` points a fixed random subset is
        drawn (each class's share kept) and the map says so (``points_note``).
        """
        self.set_points(map_points(X, y, X_test, y_test))

    def set_points(self, points: MapPoints) -> None:
        """Like ``set_data``, with the points chosen once by ``map_render.map_points`` (shared by many maps)."""
        points = points.limited(COMPACT_DRAWN_POINTS if self.compact else MAX_DRAWN_POINTS)
        self._scatter.show(points)
        self._points = points
        self._data_extent = points.extent
        self._fit_extent()

    def hold_extent(self, extent: tuple[float, float, float, float] | None) -> None:
        """Keep the plot on ``extent`` (x_min, x_max, y_min, y_max) whatever the data, e.g. while points are drawn
        (the map must not move under the mouse); None: follow the data again."""
        self._held = None if extent is None else tuple(float(v) for v in extent)
        self._fit_extent()

    def set_model(self, theta: np.ndarray, layout: Layout, activation: str) -> None:
        """Evaluate the network on the grid and redraw the image and the 0.5 contour."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (layout.size,):
            raise ValueError(f"theta: expected shape ({layout.size},) for layout {layout.shape}, got {theta.shape}")
        ev = self._evaluator
        if ev is None or ev.layout != layout or ev.activation != activation or ev.extent != self._extent:
            ev = self._evaluator = GridEvaluator(layout, activation, self._extent, self.resolution)
        self._model = (theta.copy(), layout, activation)
        np.copyto(self._raw, ev(theta))
        self._grid_shown = True
        self._place_grid(ev.extent)
        self._redraw()
        self._readout.update()

    def shows_model(self, theta: np.ndarray, layout: Layout, activation: str) -> bool:
        """Whether the map shows this network as ``set_model`` last evaluated it (so a redraw would change nothing)."""
        model = self._model
        return model is not None and model[1] == layout and model[2] == activation and np.array_equal(model[0], theta)

    def set_probabilities(self, grid: np.ndarray, extent: tuple[float, float, float, float] | None = None) -> None:
        """Show a grid evaluated elsewhere (e.g. by the worker) instead of evaluating one here.

        grid : ndarray of shape (resolution, resolution), the output of
        ``GridEvaluator(layout, activation, extent, view.resolution)``; extent : what it covers, by default
        this view's current ``extent``. ``extent`` follows the plot's size, so pass the one the grid was
        evaluated over: the image is placed there. ``set_model`` instead re-evaluates on every resize.
        """
        grid = np.asarray(grid)
        if grid.shape != self._raw.shape:
            raise ValueError(f"grid: expected shape {self._raw.shape} (resolution × resolution), got {grid.shape}")
        extent = self._extent if extent is None else tuple(float(v) for v in extent)
        if len(extent) != 4 or not np.isfinite(extent).all() or extent[0] >= extent[1] or extent[2] >= extent[3]:
            raise ValueError(f"extent={extent!r}: must be finite (x_min, x_max, y_min, y_max) with min < max")
        self._model = None
        np.copyto(self._raw, grid, casting="unsafe")
        self._grid_shown = True
        self._place_grid(extent)
        self._redraw()
        self._readout.update()

    def set_discretize(self, on: bool) -> None:
        """Show the hard decision (p > 0.5 -> 1, else 0) instead of the probability."""
        self._discretize = bool(on)
        self._redraw()

    def set_title(self, text: str) -> None:
        """Text above the map (hidden when empty)."""
        if text == self._title.text:
            return  # LabelItem.setText relayouts the view even for the same text (~0.1 ms a map, every redraw)
        self._title.setText(text)
        self._title.setVisible(bool(text))

    def render_state(self) -> dict:
        """What ``map_render.render_map`` needs to draw this map as shown, as its keyword arguments.

        ``render_map(**view.render_state(), width=W)`` renders it (also in a worker thread: the arrays are
        not changed afterwards, set_model and set_data replace them). Keys: theta (None before a network is
        shown), layout, activation, X, y, X_test, y_test (None before set_data), extent (the range shown),
        discretize, title, screen_width (the view's width now), compact.
        """
        theta, layout, activation = self._model if self._model is not None else (None, None, "relu")
        X, y, X_test, y_test = self._points.data if self._points is not None else (None, None, None, None)
        extent = self._extent
        if self.plot.vb.width() >= 2 and self.plot.vb.height() >= 2:  # zoomed or panned: what is shown
            (x_min, x_max), (y_min, y_max) = self.plot.vb.viewRange()
            extent = (x_min, x_max, y_min, y_max)
        return {"theta": theta, "layout": layout, "activation": activation, "X": X, "y": y, "X_test": X_test,
                "y_test": y_test, "extent": extent, "discretize": self._discretize, "title": self._title.text,
                "screen_width": self.width(), "compact": self.compact}

    def export_height(self, width: int) -> int | None:
        """The height an export ``width`` pixels wide has, keeping the view's shape on screen (None: unknown)."""
        if self.width() < 16 or self.height() < 16:
            return None
        return max(16, round(width * self.height() / self.width()))

    def save_png(self, path, width: int | None = None) -> None:
        """Write the map as a PNG ``width`` pixels wide (default: as shown), drawn at that resolution.

        The grid, the contour, the points and the text are drawn for the export's size by
        ``map_render.render_map`` (on this thread; a window runs it in a worker with ``render_state``), and
        written by ``core.files.write_atomic``: a failure (WriteError, an OSError) leaves any old file intact.
        """
        if width is not None and (isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 16):
            raise ValueError(f"width={width!r}: must be an integer of at least 16 pixels")
        if self._points is None:
            raise ValueError("map: no data to draw yet")
        width = int(width) if width is not None else max(16, self.width())
        image = render_map(**self.render_state(), width=width, height=self.export_height(width))
        write_atomic(path, png_bytes(image))

    def readout_text(self) -> str:
        """The readout under the cursor, e.g. "x₁ = 0.412, x₂ = −1.03, P(class 1) = 0.873" ("" when hidden).

        P is the shown run's probability at that very point: the network evaluated there after ``set_model``,
        the grid cell's value after ``set_probabilities``. A compact map shows only P.
        """
        return self._readout.text()

    @property
    def title(self) -> str:
        """The title's text as set (rich text), empty when there is none."""
        return self._title.text

    @property
    def points_note(self) -> str:
        """The note on the map when only a subset of the points is drawn ("" when all are)."""
        return self._points.note if self._points is not None else ""

    def scatter_items(self) -> tuple[pg.ScatterPlotItem, ...]:
        """The scatter items: (class 0 train, class 1 train, class 0 test, class 1 test)."""
        return self._scatter.items

    def drawn_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The points the scatter draws: (class 0 train, class 1 train, class 0 test, class 1 test), each (k, 2)."""
        return self._scatter.drawn_points()

    def legend_labels(self) -> list[str]:
        """The legend's entries, top to bottom ([] for a compact map, which has none)."""
        return self._scatter.legend_labels()

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` the plot shows and ``set_model`` evaluates over: the data with
        its margin, widened to the plot's aspect ratio. Changes when the view is resized or gets new data."""
        return self._extent

    @property
    def grid_xs(self) -> np.ndarray:
        """x of each column of the grid shown (cell centres, as GridEvaluator places them), length ``resolution``."""
        return self._xs.copy()

    @property
    def grid_ys(self) -> np.ndarray:
        """y of each row of the grid shown (cell centres), length ``resolution``."""
        return self._ys.copy()

    @property
    def probabilities(self) -> np.ndarray:
        """The grid last shown, shape (resolution, resolution): probabilities, or 0/1 when discretized."""
        return self._shown.copy()

    def contour_segments(self) -> np.ndarray:
        """What the contour item draws: ndarray of shape (2k, 2), consecutive rows are one segment."""
        x, y = self.contour.getData()
        if x is None:
            return np.empty((0, 2))
        return np.column_stack([x, y])

    # ---- internals --------------------------------------------------------------------------

    def _redraw(self) -> None:
        if self._discretize:
            np.greater(self._raw, 0.5, out=self._hard)  # the same threshold as network.accuracy
            np.copyto(self._shown, self._hard)
        else:
            np.copyto(self._shown, self._raw)
        self.image.setImage(self._shown, autoLevels=False, levels=(0.0, 1.0))
        # The line always follows the probabilities: the 0/1 map has its edge at the same place.
        segments = marching_squares(self._raw, 0.5, self._xs, self._ys)
        self.contour.setData(segments[:, 0], segments[:, 1])

    def _fit_extent(self, *_) -> None:
        """Widen the data extent to the plot's pixel aspect so that, with the aspect locked, the map
        fills the plot instead of leaving bands of background; re-evaluate when it changes."""
        extent = fit_extent(self._held or self._data_extent, self.plot.vb.width(), self.plot.vb.height())
        if np.allclose(extent, self._extent, rtol=0, atol=1e-9 * max(map(abs, extent))):
            return
        self._extent = extent
        self._apply_extent()
        if self._model is not None:
            self.set_model(*self._model)

    def _apply_extent(self) -> None:
        x_min, x_max, y_min, y_max = self._extent
        self.plot.setRange(xRange=(x_min, x_max), yRange=(y_min, y_max), padding=0)

    def _place_grid(self, extent: tuple[float, float, float, float]) -> None:
        """Put the image over ``extent`` and take the contour's coordinates from it."""
        if extent == self._grid_extent:
            return
        self._grid_extent = extent
        x_min, x_max, y_min, y_max = extent
        cells = (np.arange(self.resolution) + 0.5) / self.resolution  # the same points as GridEvaluator's
        self._xs = x_min + (x_max - x_min) * cells
        self._ys = y_min + (y_max - y_min) * cells
        self.image.setRect(x_min, y_min, x_max - x_min, y_max - y_min)

    def probability_at(self, x1: float, x2: float) -> float:
        """P(class 1) the map shows at (x1, x2): exact with a model, else the grid cell's (nan outside it or
        before any map)."""
        if self._model is not None:
            theta, layout, activation = self._model
            inputs = expand(np.array([[x1, x2]]), layout.inputs)  # the network sees the point's features
            return float(predict(theta, layout, inputs, activation)[0, 0])
        if not self._grid_shown or self._grid_extent is None:
            return math.nan
        x_min, x_max, y_min, y_max = self._grid_extent
        column = math.floor((x1 - x_min) / (x_max - x_min) * self.resolution)
        row = math.floor((x2 - y_min) / (y_max - y_min) * self.resolution)
        if not (0 <= column < self.resolution and 0 <= row < self.resolution):
            return math.nan
        return float(self._raw[row, column])

    def mouseMoveEvent(self, event) -> None:
        # Here rather than the scene's sigMouseMoved, which drops moves under 1/60 s apart: the last one
        # before the mouse rests could be lost and the readout would name a point the cursor has left.
        super().mouseMoveEvent(event)
        self._readout.move(self.mapToScene(event.position().toPoint()))

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self._readout.move(None)

    def _describe(self, x1: float, x2: float, pixel_x: float, pixel_y: float) -> tuple[str, float]:
        """The readout's text at (x1, x2) under the mouse, and P(class 1) there."""
        p = self.probability_at(x1, x2)
        parts = [] if math.isnan(p) else [f"P(class 1) = {format_probability(p)}"]
        if not self.compact:  # a small multiple has no room for the coordinates
            parts[:0] = [f"x₁ = {format_coordinate(x1, pixel_x)}", f"x₂ = {format_coordinate(x2, pixel_y)}"]
        return ", ".join(parts), p

    def _on_click(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.plot.sceneBoundingRect().contains(event.scenePos()):
            self.clicked.emit()
