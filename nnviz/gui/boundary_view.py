"""The decision map: the network's probability over the data as an image, its 0.5 contour, the data on top."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import Qt, Signal

from nnviz.core.contour import marching_squares
from nnviz.core.grid import GridEvaluator
from nnviz.core.network import Layout

pg.setConfigOptions(imageAxisOrder="row-major")

BACKGROUND = "#ffffff"
FOREGROUND = "#3c3c3c"  # axes, ticks and titles
CLASS_COLORS = ("#154f91", "#c85200")  # class 0 blue, class 1 orange (scatter)
CONTOUR_COLOR = "#e3000f"  # the notebook's red 0.5 line
MARGIN = 0.10  # the map covers at least the data bounds plus this fraction of their span on every side


def probability_colormap() -> pg.ColorMap:
    """Diverging light blue (p = 0, class 0) -> near white (0.5) -> light orange (p = 1, class 1).

    Light enough that the darker class colours of the scatter stay readable on top of it.
    """
    stops = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    colors = np.array(
        [
            (124, 170, 218),
            (180, 207, 236),
            (247, 247, 247),
            (251, 206, 160),
            (244, 163, 96),
        ],
        dtype=np.ubyte,
    )
    return pg.ColorMap(stops, colors, name="nnviz-probability")


def data_extent(*arrays: np.ndarray | None) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` covering every point of the arrays plus the margin."""
    points = np.vstack([np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays if a is not None and len(a)])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    low, high = low - MARGIN * span, high + MARGIN * span
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


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

    ``compact=True`` makes a small multiple: no axes, no colour bar, small points, a short title.
    """

    clicked = Signal()  # a left click on the plot (small multiples: show this one large)

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
        self._grid_extent = None  # what the current grid covers (== _extent unless set_probabilities)
        self._evaluator: GridEvaluator | None = None
        self._model: tuple[np.ndarray, Layout, str] | None = None  # last (theta copy, layout, activation)
        self._discretize = False
        self._raw = np.full((self.resolution, self.resolution), 0.5, dtype=np.float32)  # last probabilities
        self._shown = self._raw.copy()  # what the image shows (raw or 0/1)
        self._hard = np.empty(self._raw.shape, dtype=bool)

        # The title sits in its own row so that the plot and the colour bar below it line up.
        self._title = self.addLabel("", row=0, col=0, colspan=2, color=FOREGROUND, size="9pt" if compact else "11pt")
        self._title.setVisible(False)
        self.plot = self.addPlot(row=1, col=0)
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=not compact, y=not compact)
        self.plot.vb.disableAutoRange()
        if compact:
            for side in ("left", "bottom"):
                self.plot.hideAxis(side)
        else:
            self._style_axes()

        cmap = probability_colormap()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(cmap)
        self.image.setLevels((0.0, 1.0))
        self.image.setImage(self._shown, autoLevels=False)
        self.plot.addItem(self.image)

        self.colorbar: pg.ColorBarItem | None = None
        if colorbar and not compact:
            self.colorbar = pg.ColorBarItem(
                values=(0.0, 1.0), colorMap=cmap, interactive=False, width=14, pen=FOREGROUND
            )
            self.colorbar.setImageItem(self.image)  # keeps the image's levels at (0, 1)
            self._style_axis(self.colorbar.getAxis("right"))
            self.colorbar.getAxis("right").setLabel("P(class 1)", color=FOREGROUND)
            self.colorbar.getAxis("right").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
            self.addItem(self.colorbar, row=1, col=1)

        size = 4 if compact else 6
        self._scatter = []  # (class 0 train, class 1 train, class 0 test, class 1 test)
        for hollow in (False, True):
            for color in CLASS_COLORS:
                if hollow:
                    item = pg.ScatterPlotItem(size=size + 1, pen=pg.mkPen(color, width=1.4), brush=None)
                else:
                    item = pg.ScatterPlotItem(size=size, pen=pg.mkPen(255, 255, 255, 160, width=0.6), brush=color)
                item.setZValue(2)
                self.plot.addItem(item)
                self._scatter.append(item)

        self.contour = pg.PlotDataItem(
            connect="pairs", pen=pg.mkPen(CONTOUR_COLOR, width=2), antialias=True, skipFiniteCheck=True
        )
        self.contour.setZValue(3)  # over the image and the points, as in the notebook
        self.plot.addItem(self.contour)

        self.legend: pg.LegendItem | None = None
        if not compact:
            self.legend = pg.LegendItem(
                offset=(-8, 8),
                brush=pg.mkBrush(255, 255, 255, 200),
                pen=pg.mkPen(200, 200, 200),
                labelTextColor=FOREGROUND,
            )
            self.legend.setParentItem(self.plot.vb)
            self._update_legend(has_test=False)

        self.scene().sigMouseClicked.connect(self._on_click)
        self.plot.vb.sigResized.connect(self._fit_extent)
        self._apply_extent()
        self._place_grid(self._extent)

    # ---- public API -------------------------------------------------------------------------

    def set_data(self, X, y, X_test=None, y_test=None) -> None:
        """Show the training points (filled) and test points (hollow); the map covers them plus 10 %.

        X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1) with labels 0/1; the test set likewise.
        """
        X, y = self._checked_points("X", "y", X, y)
        if len(X) == 0:
            raise ValueError("X: no points; the map's extent is taken from the data")
        has_test = X_test is not None and len(X_test) > 0
        if has_test:
            X_test, y_test = self._checked_points("X_test", "y_test", X_test, y_test)
        sets = [(X, y), (X_test, y_test) if has_test else (np.empty((0, 2)), np.empty(0))]
        for k, (points, labels) in enumerate(sets):
            for label in (0, 1):
                chosen = points[labels == label]
                self._scatter[2 * k + label].setData(pos=chosen)
        if self.legend is not None:
            self._update_legend(has_test)
        self._data_extent = data_extent(X, X_test if has_test else None)
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
        self._place_grid(ev.extent)
        self._redraw()

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
        self._place_grid(extent)
        self._redraw()

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

    def save_png(self, path, width: int | None = None) -> None:
        """Write the view (map, points, contour, colour bar) as a PNG, ``width`` pixels wide (default: as shown)."""
        save_png(self.ci, path, width)

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
        x_min, x_max, y_min, y_max = self._data_extent
        width, height = self.plot.vb.width(), self.plot.vb.height()
        if width >= 2 and height >= 2:
            cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
            half_x, half_y = (x_max - x_min) / 2, (y_max - y_min) / 2
            half_x, half_y = max(half_x, half_y * width / height), max(half_y, half_x * height / width)
            x_min, x_max, y_min, y_max = cx - half_x, cx + half_x, cy - half_y, cy + half_y
        extent = (x_min, x_max, y_min, y_max)
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

    def _checked_points(self, x_name, y_name, X, y):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != 2:
            raise ValueError(f"{x_name}: expected shape (n_samples, 2), got {X.shape}")
        y = np.asarray(y).reshape(-1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{y_name}: expected {X.shape[0]} labels (one per row of {x_name}), got {y.shape[0]}")
        return X, y

    def _style_axis(self, axis: pg.AxisItem) -> None:
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))

    def _style_axes(self) -> None:
        for side, label in (("bottom", "x₁"), ("left", "x₂")):
            axis = self.plot.getAxis(side)
            self._style_axis(axis)
            axis.setLabel(label, color=FOREGROUND)

    def _update_legend(self, has_test: bool) -> None:
        self.legend.clear()
        self.legend.addItem(self._scatter[0], "class 0")
        self.legend.addItem(self._scatter[1], "class 1")
        if has_test:
            self.legend.addItem(self._scatter[2], "test (hollow)")
        self.legend.addItem(self.contour, "p = 0.5")

    def _on_click(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.plot.sceneBoundingRect().contains(event.scenePos()):
            self.clicked.emit()
