"""Decision maps of a comparison as small multiples: one compact map per shown run, one click to see it large."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.network import Layout
from nnviz.gui.boundary_view import FOREGROUND, BoundaryView
from nnviz.gui.map_render import MapPoints, map_points

COMPACT_RESOLUTION = 100  # grid points per side of a small map
LARGE_RESOLUTION = 200  # of the large map
TITLE_HEIGHT = 20  # pixels a small map's title takes above it, for choosing the grid
MIN_MAP_SIZE = 110  # pixels, the smallest a small map gets


def grid_columns(n: int, width: float, height: float, aspect: float = 1.0) -> int:
    """Columns that give ``n`` maps of the data's ``aspect`` (width / height) the largest size in a
    ``width`` × ``height`` area (fewer columns on a tie); ceil(√n) when the area is not known yet."""
    if n <= 1:
        return 1
    if width < 2 * MIN_MAP_SIZE / 3 or height < 2 * MIN_MAP_SIZE / 3:
        return math.ceil(math.sqrt(n))

    def side(columns: int) -> float:  # the height of the data in each map
        rows = math.ceil(n / columns)
        return min(width / columns / aspect, height / rows - TITLE_HEIGHT)

    return max(range(1, n + 1), key=lambda columns: (side(columns), -columns))


def map_title(name: str, colour: str, cost: float | None, epoch: int | None = None, seed: int = 1) -> str:
    """Rich-text title: a swatch in the run's colour, its name, the seed the run trains from when it is not
    seed 1 (its seeds over the seed settings), and the cost (and epoch) shown."""
    parts = [f"<span style='color: {colour}'>■</span>&nbsp;{html.escape(name)}"]
    if seed != 1:
        parts.append(f"seed {seed}")
    if epoch is not None:
        parts.append(f"epoch {epoch}")
    if cost is not None:
        parts.append(f"cost {cost:.3g}" if math.isfinite(cost) else "diverged")
    return " — ".join(parts)


@dataclass
class _Run:
    name: str
    colour: str
    visible: bool = True
    state: tuple | None = None  # (theta, layout, activation, cost, epoch) last given


class MapsPanel(QWidget):
    """One compact BoundaryView per shown run in a grid that reflows, all with the same colour scale (0..1);
    clicking one shows that run large above a "back" button (Esc returns to the grid).

    Views are updated only when visible and only when their run's parameters changed; a hidden
    map catches up when it is shown again. Signals: ``run_clicked(int run_id)`` when a small
    map is clicked, ``large_changed(int run_id)`` when the large view opens (-1 when it closes).
    """

    run_clicked = Signal(int)
    large_changed = Signal(int)

    def __init__(self, parent=None, compact_resolution: int = COMPACT_RESOLUTION,
                 large_resolution: int = LARGE_RESOLUTION):
        super().__init__(parent)
        self.compact_resolution = compact_resolution
        self._runs: dict[int, _Run] = {}  # in display order
        self._maps: dict[int, BoundaryView] = {}
        self._points: MapPoints | None = None  # the data and the points every map draws, chosen once per set_data
        self._discretize = False
        self._large_id = -1
        self._seed = 1  # the seed the runs train from (see SeedSettings.shown), named in the titles when not 1
        self._columns = 0
        self._aspect = 1.0  # width / height of the data's extent: wide data packs the maps in fewer columns
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        # Page 0: the small multiples.
        self._grid_page = QWidget()
        self._grid = QGridLayout(self._grid_page)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(4)
        self._empty = QLabel("No run shown: tick a run in the run list.")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setStyleSheet(f"color: {FOREGROUND};")
        self._grid.addWidget(self._empty, 0, 0)

        # Page 1: one run, large.
        self._large_page = QWidget()
        self.back_button = QPushButton("← All maps")
        self.back_button.setToolTip("Back to the maps of all runs (Esc)")
        self.back_button.clicked.connect(self.show_all)
        self.large = BoundaryView(resolution=large_resolution)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.back_button)
        bar.addStretch(1)
        large_layout = QVBoxLayout(self._large_page)
        large_layout.setContentsMargins(0, 0, 0, 0)
        large_layout.setSpacing(2)
        large_layout.addLayout(bar)
        large_layout.addWidget(self.large, 1)

        self._stack = QStackedWidget()
        self._stack.addWidget(self._grid_page)
        self._stack.addWidget(self._large_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    # ---- public API -------------------------------------------------------------------------

    def set_runs(self, runs: Iterable[tuple]) -> None:
        """The runs to show, in order: ``(run_id, name, colour)`` or ``(run_id, name, colour, visible)``.
        Maps of runs still present are kept (with their state); maps of runs gone are dropped."""
        new: dict[int, _Run] = {}
        for entry in runs:
            run_id, name, colour, *rest = entry
            old = self._runs.get(run_id)
            visible = bool(rest[0]) if rest else (old.visible if old else True)
            run = old or _Run(name, colour)
            run.name, run.colour, run.visible = name, colour, visible
            new[run_id] = run
        for run_id in [r for r in self._maps if r not in new]:
            view = self._maps.pop(run_id)
            self._grid.removeWidget(view)
            view.deleteLater()
        self._runs = new
        for run_id in new:
            if run_id not in self._maps:
                self._maps[run_id] = self._new_map(run_id)
            self._update_title(run_id)
        if self._large_id != -1 and (self._large_id not in new or not new[self._large_id].visible):
            self.show_all()
        elif self._large_id != -1:
            self._update_large()
        self._reflow(force=True)

    def set_data(self, X, y, X_test=None, y_test=None) -> None:
        """The points every map shows (and whose extent they cover); see BoundaryView.set_data.

        The points drawn are chosen once here (a fixed subset above ``map_render.MAX_DRAWN_POINTS``)
        and shared by every map, small and large.
        """
        self._points = points = map_points(X, y, X_test, y_test)
        x_min, x_max, y_min, y_max = points.extent
        self._aspect = (x_max - x_min) / (y_max - y_min)
        self._reflow(force=True)
        for view in self._maps.values():
            view.set_points(points)
            view.setToolTip(self._tooltip(view))
        self.large.set_points(points)

    def show_state(self, run_id: int, theta: np.ndarray, layout: Layout, activation: str, cost: float | None,
                   epoch: int | None) -> None:
        """The parameters (and their cost and epoch) a run's map shows; drawn now if the map is on screen."""
        if run_id not in self._runs:
            raise KeyError(f"run_id={run_id}: no such run in the maps panel")
        self._runs[run_id].state = (theta, layout, activation, None if cost is None else float(cost), epoch)
        if self._large_id == -1:
            self._update_map(run_id)
        elif self._large_id == run_id:
            self._update_large()

    def set_seed(self, seed: int) -> None:
        """The seed the runs train from (1: the user's own seeds); the titles name it when it is not 1."""
        if seed != self._seed:
            self._seed = seed
            for run_id in self._maps:
                self._update_title(run_id)
            if self._large_id in self._runs:
                self._update_large_title()

    @property
    def seed(self) -> int:
        """The seed the titles name (1: none named)."""
        return self._seed

    def set_discretize(self, on: bool) -> None:
        """Hard 0/1 maps instead of probabilities, in every view."""
        self._discretize = bool(on)
        for view in (*self._maps.values(), self.large):
            view.set_discretize(self._discretize)

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        """Show or hide a run's map (the grid reflows; a hidden large run returns to the grid)."""
        run = self._runs[run_id]
        if run.visible == bool(visible):
            return
        run.visible = bool(visible)
        if not visible and self._large_id == run_id:
            self.show_all()
        self._reflow(force=True)
        if visible and self._large_id == -1:
            self._update_map(run_id)

    def set_run_style(self, run_id: int, name: str, colour: str) -> None:
        """A run's new name or colour (its title)."""
        run = self._runs[run_id]
        run.name, run.colour = name, colour
        self._update_title(run_id)
        if self._large_id == run_id:
            self._update_large_title()

    def show_large(self, run_id: int) -> None:
        """Show one run's map large instead of the grid."""
        if run_id not in self._runs:
            raise KeyError(f"run_id={run_id}: no such run in the maps panel")
        changed = run_id != self._large_id
        self._large_id = run_id
        self._stack.setCurrentWidget(self._large_page)
        self._update_large()
        self.setFocus(Qt.FocusReason.OtherFocusReason)  # so that Esc comes here
        if changed:
            self.large_changed.emit(run_id)

    def show_all(self) -> None:
        """Back to the grid of every shown run; maps that missed updates catch up."""
        if self._large_id == -1:
            return
        self._large_id = -1
        self._stack.setCurrentWidget(self._grid_page)
        for run_id in self._runs:
            self._update_map(run_id)
        self.large_changed.emit(-1)

    @property
    def large_run_id(self) -> int:
        """The run shown large, -1 when the grid is shown."""
        return self._large_id

    def map_view(self, run_id: int) -> BoundaryView:
        """The small map of a run."""
        return self._maps[run_id]

    def current_view(self) -> BoundaryView | None:
        """The large view when one run is shown large, else None (for exporting "the current map")."""
        return self.large if self._large_id != -1 else None

    @property
    def grid_shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid of small maps; (0, 0) when no run is shown."""
        n = sum(run.visible for run in self._runs.values())
        if n == 0:
            return (0, 0)
        return (math.ceil(n / self._columns), self._columns)

    # ---- internals --------------------------------------------------------------------------

    def _new_map(self, run_id: int) -> BoundaryView:
        view = BoundaryView(resolution=self.compact_resolution, colorbar=False, compact=True)
        view.setMinimumSize(MIN_MAP_SIZE, MIN_MAP_SIZE)
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        view.setCursor(Qt.CursorShape.PointingHandCursor)
        view.set_discretize(self._discretize)
        if self._points is not None:
            view.set_points(self._points)
        view.setToolTip(self._tooltip(view))
        view.clicked.connect(lambda: self._on_map_clicked(run_id))
        return view

    @staticmethod
    def _tooltip(view: BoundaryView) -> str:
        note = view.points_note
        return "Click to show this run large" + (f"\n{note} (a fixed random subset, class shares kept)" if note else "")

    def _on_map_clicked(self, run_id: int) -> None:
        self.run_clicked.emit(run_id)
        self.show_large(run_id)

    def _update_map(self, run_id: int) -> None:
        run = self._runs[run_id]
        if run.state is None or not run.visible:
            return
        self._draw(self._maps[run_id], run_id)
        self._update_title(run_id)

    def _update_large(self) -> None:
        run = self._runs[self._large_id]
        if run.state is not None:
            self._draw(self.large, self._large_id)
        else:
            self.large.set_probabilities(np.full((self.large.resolution,) * 2, 0.5))
        self._update_large_title()

    def _draw(self, view: BoundaryView, run_id: int) -> None:
        """Evaluate the view's grid, unless it already shows these parameters."""
        theta, layout, activation = self._runs[run_id].state[:3]
        if not view.shows_model(theta, layout, activation):
            view.set_model(theta, layout, activation)

    def _update_title(self, run_id: int) -> None:
        run = self._runs[run_id]
        cost = run.state[3] if run.state else None
        self._maps[run_id].set_title(map_title(run.name, run.colour, cost, seed=self._seed))

    def _update_large_title(self) -> None:
        run = self._runs[self._large_id]
        cost, epoch = (run.state[3], run.state[4]) if run.state else (None, None)
        self.large.set_title(map_title(run.name, run.colour, cost, epoch, self._seed))

    def _reflow(self, force: bool = False) -> None:
        """Put the shown maps in the grid, in run order, with the columns that make them largest."""
        shown = [run_id for run_id, run in self._runs.items() if run.visible]
        columns = grid_columns(len(shown), self.width(), self.height(), self._aspect)
        if not force and columns == self._columns:
            return
        self._columns = columns
        while self._grid.count():
            self._grid.takeAt(0)
        for r in range(self._grid.rowCount()):
            self._grid.setRowStretch(r, 0)
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 0)
        self._empty.setVisible(not shown)
        if not shown:
            self._grid.addWidget(self._empty, 0, 0)
        for i, run_id in enumerate(shown):
            self._grid.addWidget(self._maps[run_id], i // columns, i % columns)
            self._grid.setRowStretch(i // columns, 1)
            self._grid.setColumnStretch(i % columns, 1)
        for run_id, view in self._maps.items():
            view.setVisible(self._runs[run_id].visible)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._large_id != -1:
            self.show_all()
            event.accept()
            return
        super().keyPressEvent(event)
