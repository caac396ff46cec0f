"""The loss landscape: the training cost over the plane the runs share, every run's path on it, a marker at the
shown epoch.

The grid (``core.landscape.Landscape``) is drawn once per landscape as filled contours: an image whose colours
are the bands of a log scale (``landscape_scale.LogScale``), with the iso-lines at the band edges. The paths
change every frame while training: only a path whose points changed is sent again, thinned to what can be
seen. A path's points are coloured by the run's own cost on the same scale, so where the plane's cost under a
point differs from the run's (the plane holds only part of its displacement), the point stands out.
"""

from __future__ import annotations

import functools
import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from nnviz.core.contour import marching_squares
from nnviz.core.health import percent
from nnviz.core.text import shorten
from nnviz.gui.boundary_view import BACKGROUND, FOREGROUND, no_si_prefix
from nnviz.gui.landscape_paths import PathDrawing
from nnviz.gui.landscape_scale import LogScale, upsample
from nnviz.gui.map_readout import MapReadout, format_coordinate

pg.setConfigOptions(imageAxisOrder="row-major")

FINE_PIXELS = 480  # the grid's image has about this many pixels a side (whole pixels per cell)
QUANTUM_STEPS = 1500  # a path's point is drawn when it leaves the square of this share of the grid's span
ISOLINE_PEN = (50, 50, 60, 90)
START_COLOUR = "#202020"
HOVER_PIXELS = 8  # the readout names a path point within this many pixels of the pointer
START_LABEL = "θ₀, the common start"
HINT = ("The training cost over a plane through θ₀, the runs' common start: (a, b) is θ₀ + a·d₁ + b·d₂, with d₁, d₂ "
        "the two directions that hold most of the runs' displacements. Each path's points are coloured by the run's "
        "own cost: where a point's colour differs from the ground under it, the run has left the plane.")


def format_cost(cost: float) -> str:
    """A cost to 3 significant digits ("–" when not finite)."""
    return f"{cost:.3g}" if math.isfinite(cost) else "–"


@functools.lru_cache(maxsize=256)
def _brush(colour: str) -> pg.QtGui.QBrush:
    """One brush per colour: the markers' symbols are cached by brush, a new one each frame would be drawn anew."""
    return pg.mkBrush(colour)


class _Canvas(pg.GraphicsLayoutWidget):
    """The plot and its colour bar; reports every pointer move (scene position) and the pointer leaving (None)."""

    moved = Signal(object)

    def mouseMoveEvent(self, event) -> None:
        # Here rather than the scene's sigMouseMoved, which drops moves under 1/60 s apart.
        super().mouseMoveEvent(event)
        self.moved.emit(self.mapToScene(event.position().toPoint()))

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.moved.emit(None)


class LandscapeView(QWidget):
    """The cost over the plane as banded colours on a log scale, every run's path, a marker at the shown epoch,
    a hover readout, the "Fit plane to current paths" button and the progress of a computation."""

    refit_requested = Signal()  # the user asks for a plane fitted to the paths as they are now
    cancel_requested = Signal()  # the user stops the computation in progress
    hovered = Signal(float, float, float)  # (a, b, the plane's cost there: nan outside the grid or before one)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._landscape = None  # the Landscape last shown (its grid)
        self._scale: LogScale | None = None
        self._brushes = np.empty(0, dtype=object)  # one QBrush per band of the scale
        self._quantum = 1e-9
        self._fine = 1  # image pixels per grid cell and axis
        self._runs: dict[str, PathDrawing] = {}
        self._marker_epoch: int | None = None
        self._markers_drawn: list = []  # (name, a, b, colour) of each marker drawn
        self._fitted_text = ""  # "plane fitted to the paths up to epoch N", N when the plane shown was fitted
        self._bar_labels: list[str] = []

        self.refit_button = QPushButton("Fit plane to current paths")
        self.refit_button.setToolTip("Fit d₁, d₂ to the runs' paths as they are now. Otherwise the plane stays "
                                     "fixed, so that the picture does not jump while the runs train.")
        self.refit_button.clicked.connect(self.refit_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.setVisible(False)
        self._status = QLabel("")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.refit_button)
        bar.addWidget(self._status, 1)
        bar.addWidget(self.cancel_button)

        self.canvas = _Canvas()
        self.canvas.setBackground(BACKGROUND)
        self.canvas.setToolTip(HINT)
        self.plot = self.canvas.addPlot(row=0, col=0)
        self.plot.setAspectLocked(True)  # a and b are distances along orthonormal directions
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.vb.disableAutoRange()
        for side, label in (("bottom", "a (along d₁)"), ("left", "b (along d₂)")):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen(FOREGROUND))
            axis.setTextPen(pg.mkPen(FOREGROUND))
            axis.setLabel(label, color=FOREGROUND)
            no_si_prefix(axis)

        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.isolines = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(ISOLINE_PEN, width=1), antialias=True,
                                        skipFiniteCheck=True)
        self.isolines.setZValue(1)
        self.plot.addItem(self.isolines)
        self.start = pg.ScatterPlotItem([0.0], [0.0], symbol="star", size=15, brush=pg.mkBrush(START_COLOUR),
                                        pen=pg.mkPen("w", width=1))
        self.start.setZValue(6)
        self.plot.addItem(self.start)
        self.markers = pg.ScatterPlotItem(size=12, pen=pg.mkPen("w", width=2))
        self.markers.setZValue(7)
        self.plot.addItem(self.markers)

        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=LogScale(1e-3, 1.0).colormap,
                                          interactive=False, width=14, pen=FOREGROUND)
        axis = self.colour_bar.getAxis("right")
        axis.setPen(pg.mkPen(FOREGROUND))
        axis.setTextPen(pg.mkPen(FOREGROUND))
        axis.setLabel("training cost (log scale)", color=FOREGROUND)
        axis.setWidth(None)  # as wide as its tick labels and title need (ColorBarItem fixes 45 px: they overlapped)
        no_si_prefix(axis)
        self.canvas.addItem(self.colour_bar, row=0, col=1)

        self._empty = pg.LabelItem("no landscape yet: “Fit plane to current paths” computes one",
                                   color=FOREGROUND, size="10pt")
        self._empty.setParentItem(self.plot.vb)
        self._empty.anchor(itemPos=(0.5, 0.5), parentPos=(0.5, 0.5))
        self._readout = MapReadout(self.plot.vb, self._describe, self.hovered)

        self._legend = QLabel("")
        self._legend.setWordWrap(True)
        self._legend.setTextFormat(Qt.TextFormat.RichText)
        self._legend_entries: list[tuple[str, str]] = []  # (colour, plain text) per run, in order

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self._legend)
        self.canvas.moved.connect(self._readout.move)
        self._update_legend()

    # ---- public API -------------------------------------------------------------------------

    def show_landscape(self, landscape) -> None:
        """Draw a new landscape: its grid as filled contours on a log colour scale over its own costs and its paths',
        and its paths (``set_paths(landscape.paths)``). The view shows the whole grid."""
        a = np.asarray(landscape.a, dtype=np.float64)
        b = np.asarray(landscape.b, dtype=np.float64)
        cost = np.asarray(landscape.cost, dtype=np.float64)
        if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2 or cost.shape != (len(b), len(a)):
            raise ValueError(f"landscape.cost: expected shape (len(b), len(a)) = ({len(b)}, {len(a)}), "
                             f"got {cost.shape}")
        previous, self._landscape = self._landscape, landscape
        self._scale = scale = LogScale.covering(cost, *(p.cost for p in landscape.paths))
        self._brushes = np.array([pg.mkBrush(*colour) for colour in scale.band_colours], dtype=object)
        # Each cell is split in `fine` × `fine` pixels coloured by the log cost interpolated between the grid's
        # points (as the iso-lines are): smooth band edges that meet the lines, not a staircase of cells.
        self._fine = fine = max(1, round(FINE_PIXELS / (max(len(a), len(b)) - 1)))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            fine_cost = 10.0 ** upsample(np.log10(np.where(cost > 0, cost, np.nan)), fine)
        self.image.setImage(scale.colours(fine_cost), autoLevels=False)
        step_a, step_b = (a[-1] - a[0]) / (len(a) - 1), (b[-1] - b[0]) / (len(b) - 1)
        x0, y0 = a[0] - step_a / fine / 2, b[0] - step_b / fine / 2  # pixel centres on the fine points
        width, height = a[-1] - a[0] + step_a / fine, b[-1] - b[0] + step_b / fine
        self.image.setRect(x0, y0, width, height)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_cost = np.where(cost > 0, np.log10(cost), np.nan)
        segments = [marching_squares(log_cost, math.log10(level), a, b) for level in scale.levels]
        segments = np.concatenate(segments) if segments else np.empty((0, 2))
        self.isolines.setData(segments[:, 0], segments[:, 1])
        self.colour_bar.setColorMap(scale.colormap)
        self.colour_bar.setLevels((scale.log_low, scale.log_high))
        ticks = self._bar_ticks(scale)
        self._bar_labels = [text for _, text in ticks]
        self.colour_bar.getAxis("right").setTicks([ticks])
        self._quantum = max(width, height) / QUANTUM_STEPS
        self.plot.setRange(xRange=(x0, x0 + width), yRange=(y0, y0 + height), padding=0)
        self._empty.setVisible(False)
        if previous is None or landscape.plane is not previous.plane:  # a new plane (else a new grid on the old one)
            last = [int(p.epochs[-1]) for p in landscape.paths if len(p.epochs)]
            self._fitted_text = f"plane fitted to the paths up to epoch {max(last)}" if last else ""
        if self.cancel_button.isHidden():
            self._status.setText(self._fitted_text)
        self.set_paths(landscape.paths)

    def set_paths(self, paths) -> None:
        """Draw these paths (in this order; runs not among them disappear). Only paths whose points changed since
        they were last given are sent to the plot; the grid and the colour scale stay as they are."""
        given = {path.name: path for path in paths}
        for name in [name for name in self._runs if name not in given]:
            self._runs.pop(name).remove()
        for name, path in given.items():
            run = self._runs.get(name)
            if run is None:
                run = self._runs[name] = PathDrawing(self.plot)
            run.draw(path, self._scale, self._brushes, self._quantum)
        if list(self._runs) != list(given):  # the given order: redo the dict in it
            self._runs = {name: self._runs[name] for name in given}
        self._update_legend()
        self._place_markers()
        self._readout.update()

    def set_marker(self, epoch: int | None) -> None:
        """Mark each path at this epoch: its newest stored point at or before it (None: the newest point)."""
        self._marker_epoch = None if epoch is None else int(epoch)
        self._place_markers()

    def set_progress(self, fraction: float | None) -> None:
        """Show the progress of a computation of the landscape (0..1) with a Cancel button; None: none running."""
        if fraction is None:
            self.cancel_button.setVisible(False)
            self.refit_button.setEnabled(True)
            self._status.setText(self._fitted_text)
            return
        fraction = float(fraction)
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"fraction={fraction!r}: must be from 0 to 1 (or None)")
        self._status.setText(f"computing the landscape… {math.floor(100 * fraction)} %")
        self.cancel_button.setVisible(True)
        self.refit_button.setEnabled(False)

    def status_text(self) -> str:
        """The status line's text ("" when empty)."""
        return self._status.text()

    def path_items(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What each run's line draws, by name: (a, b) of its drawn points, in epoch order."""
        return {name: run.drawn() for name, run in self._runs.items()}

    def point_colours(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each run's dots, by name: (indices into its path, their fill as RGBA uint8 of shape (k, 4))."""
        return {name: (run.dotted(), run.dot_colours()) for name, run in self._runs.items()}

    def marker_positions(self) -> dict[str, tuple[float, float]]:
        """Where each run's marker is, by name: (a, b); runs with no point at or before the epoch have none."""
        return {name: (float(a), float(b)) for name, a, b in self._marked()}

    def levels(self) -> list[float]:
        """The costs at the band edges (the iso-lines), increasing; [] before a landscape."""
        return [] if self._scale is None else [float(v) for v in self._scale.levels]

    def cell_colours(self) -> np.ndarray:
        """The colour the image shows at each grid point: RGBA uint8 of shape (len(b), len(a), 4), [i, j] at
        (a[j], b[i]); shape (0, 0, 4) before a landscape."""
        image = self.image.image
        return np.empty((0, 0, 4), dtype=np.uint8) if image is None else np.array(image[::self._fine, ::self._fine])

    def colour_bar_labels(self) -> list[str]:
        """The colour bar's tick labels, bottom to top ([] before a landscape)."""
        return list(self._bar_labels)

    def legend_labels(self) -> list[str]:
        """The legend's entries: one per run ("momentum — 97 % of its displacement in the plane"), then the start."""
        return [text for _, text in self._legend_entries] + [START_LABEL]

    def readout_text(self) -> str:
        """The hover readout ("" when hidden)."""
        return self._readout.text()

    def plane_cost(self, a: float, b: float) -> float:
        """The plane's cost at (a, b): bilinear between the grid's points (the nearest edge's within the image's
        half pixel beyond them); nan outside the image or before a landscape."""
        landscape = self._landscape
        if landscape is None or not (math.isfinite(a) and math.isfinite(b)):
            return math.nan
        cost = np.asarray(landscape.cost, dtype=np.float64)
        where = []
        for value, axis in ((a, landscape.a), (b, landscape.b)):
            step = (axis[-1] - axis[0]) / (len(axis) - 1)
            f = (value - axis[0]) / step
            if not -0.5 / self._fine <= f <= len(axis) - 1 + 0.5 / self._fine:
                return math.nan
            f = min(max(f, 0.0), len(axis) - 1.0)
            low = min(int(f), len(axis) - 2)
            where.append((low, f - low))
        (j, u), (i, v) = where
        return float((1 - v) * ((1 - u) * cost[i, j] + u * cost[i, j + 1])
                     + v * ((1 - u) * cost[i + 1, j] + u * cost[i + 1, j + 1]))

    # ---- internals --------------------------------------------------------------------------

    def _marked(self) -> list[tuple[str, float, float]]:
        out = []
        for name, run in self._runs.items():
            epochs = run.path.epochs
            if self._marker_epoch is None:
                k = len(epochs) - 1
            else:
                k = int(np.searchsorted(epochs, self._marker_epoch, side="right")) - 1
            if k >= 0:
                out.append((name, run.path.a[k], run.path.b[k]))
        return out

    def _place_markers(self) -> None:
        marked = self._marked()
        state = [(*m, self._runs[m[0]].path.colour) for m in marked]
        if state == self._markers_drawn:
            return
        self._markers_drawn = state
        self.markers.setData(x=[m[1] for m in marked], y=[m[2] for m in marked],
                             brush=[_brush(self._runs[m[0]].path.colour) for m in marked])

    def _update_legend(self) -> None:
        entries = [(run.path.colour, f"{shorten(name, 40)} — {self._share_text(run.path)}")
                   for name, run in self._runs.items()]
        if entries == self._legend_entries and self._legend.text():
            return
        self._legend_entries = entries
        parts = [f"<span style='color:{colour}'>━━●</span>&nbsp;{html.escape(text)}" for colour, text in entries]
        parts.append(f"<span style='color:{START_COLOUR}'>★</span>&nbsp;{START_LABEL}")
        self._legend.setText("&nbsp;&nbsp;&nbsp; ".join(f"<span style='white-space:nowrap'>{p}</span>"
                                                        for p in parts))

    @staticmethod
    def _share_text(path) -> str:
        """What share of the run's displacement the plane holds; a run still at θ₀ has none to hold."""
        at_start = path.share >= 1.0 and (not len(path.a) or (path.a[-1] == 0.0 and path.b[-1] == 0.0))
        return "at θ₀, not trained yet" if at_start else f"{percent(path.share)} of its displacement in the plane"

    @staticmethod
    def _bar_ticks(scale: LogScale) -> list[tuple[float, str]]:
        """The bar's ticks: the levels whose mantissa is 1, 2 or 5 when there are 3 or more, else every n-th."""
        levels = scale.levels
        round_ones = [v for v in levels if float(f"{v:.1e}"[:3]) in (1.0, 2.0, 5.0)]
        shown = round_ones if len(round_ones) >= 3 else list(levels[:: max(1, math.ceil(len(levels) / 8))])
        if not shown:  # no level between the ends (a flat or non-finite grid): the ends themselves
            shown = sorted({10.0 ** scale.log_low, 10.0 ** scale.log_high})
        return [(math.log10(v), f"{v:.3g}") for v in shown if v > 0 and math.isfinite(v)]

    def _describe(self, a: float, b: float, pixel_a: float, pixel_b: float) -> tuple[str, float]:
        """The readout's text at (a, b) under the pointer (the plane's cost, the path point there), and the cost."""
        cost = self.plane_cost(a, b)
        lines = [f"a = {format_coordinate(a, pixel_a)}, b = {format_coordinate(b, pixel_b)}"
                 + ("" if math.isnan(cost) else f": the plane's cost {format_cost(cost)}")]
        near = self._path_point_near(a, b, pixel_a, pixel_b)
        if near is not None:
            name, k = near
            path = self._runs[name].path
            lines.append(f"“{shorten(name, 30)}”, epoch {int(path.epochs[k])}: its cost "
                         f"{format_cost(float(path.cost[k]))}, the plane's "
                         f"{format_cost(self.plane_cost(float(path.a[k]), float(path.b[k])))}")
        return "\n".join(lines), cost

    def _path_point_near(self, a: float, b: float, pixel_a: float, pixel_b: float) -> tuple[str, int] | None:
        """(run name, index into its path) of the drawn point nearest the pointer within HOVER_PIXELS, or None."""
        best, best_distance = None, float(HOVER_PIXELS) ** 2
        for name, run in self._runs.items():
            if len(run.index) == 0:
                continue
            x = np.asarray(run.path.a)[run.index]
            y = np.asarray(run.path.b)[run.index]
            distance = ((x - a) / pixel_a) ** 2 + ((y - b) / pixel_b) ** 2
            k = int(np.nanargmin(distance)) if np.isfinite(distance).any() else -1
            if k >= 0 and distance[k] <= best_distance:
                best, best_distance = (name, int(run.index[k])), float(distance[k])
        return best
