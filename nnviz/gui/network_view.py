"""The network view: every unit drawn as a small map of its output over the data's plane, the weights between
units as lines (colour: sign, width: |w|), hover read-outs, and a unit shown large on a click.

All unit maps of a frame come from one ``GridEvaluator`` call (``layer_outputs``); a layer's images are made
with one lookup-table operation and painted with ``QPainter.drawImage``. The view keeps nothing but what it
was last given to draw.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from nnviz.core.grid import GridEvaluator
from nnviz.core.health import Health
from nnviz.core.network import Layout
from nnviz.gui.map_shared import FOREGROUND, NOTE_COLOR, MapPoints, map_points
from nnviz.gui.network_canvas import (  # noqa: F401  (TOP_K, unit_name, cells_for: importable from here)
    KEY_TIP,
    TOP_K,
    Column,
    NetworkCanvas,
    build_columns,
    cells_for,
    check_unit,
    grid_values,
    key_text,
    line_text,
    reuse_evaluator,
    unit_name,
    unit_text,
)
from nnviz.gui.network_paint import (
    Lines,
    Plan,
    nearest_line,
    plan_columns,
    select_lines,
)
from nnviz.gui.network_unit_page import LargeUnit

UNIT_WORK = 100_000_000  # multiply-adds a frame's grid may cost (~3 ms here): wide networks get fewer cells
UNIT_CELLS = (16, 48)  # cells per side of a unit's map: at most 48, at least 16
DEFAULT_EXTENT = (-1.0, 1.0, -1.0, 1.0)  # the plane before set_data


class NetworkView(QWidget):
    """The selected run's network: inputs, hidden layers and output as columns of unit maps, weights as lines."""

    unit_clicked = Signal(int, int)  # (layer, unit): layer 0 = inputs, 1..k hidden, k+1 output; unit from 0
    show_all_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._extent = DEFAULT_EXTENT
        self._points: MapPoints | None = None
        self._model: tuple[np.ndarray, Layout, str] | None = None  # last (params copy, layout, activation)
        self._health: Health | None = None
        self._title = ""
        self._evaluator: GridEvaluator | None = None
        self._outputs: list[np.ndarray] = []  # per column, (units, n, n) float32 (inputs, then layer_outputs)
        self._plan: tuple[tuple, Plan] | None = None  # (what it was made for, the slots' plan)
        self._hover: QPointF | None = None  # the pointer over the canvas (canvas coordinates)
        self._stale = False  # the network given is not evaluated yet (it came while the large view was open)

        self._title_label = QLabel()
        self._title_label.setStyleSheet(f"color: {FOREGROUND}; font-weight: bold;")
        self._title_label.setWordWrap(True)  # a narrow view wraps it rather than cut it ('epoch 1' of 'epoch 150')
        self._key = QLabel()
        self._key.setStyleSheet(f"color: {NOTE_COLOR};")
        self._key.setToolTip(KEY_TIP)
        self._check = QCheckBox("show all units")
        self._check.setToolTip(f"Layers wider than {TOP_K} units show their {TOP_K} units of largest outgoing "
                               "weights; checked: every unit, in a scrolling grid")
        self._check.toggled.connect(self.set_show_all)
        top = QHBoxLayout()
        top.addWidget(self._title_label, 1)
        top.addWidget(self._check)
        self._key.setWordWrap(True)

        self.canvas = NetworkCanvas(tooltip=self._canvas_text)
        self.canvas.hovered.connect(self._canvas_hover)
        self.canvas.pressed.connect(self._press)
        self.canvas.resized.connect(self._relayout)
        self._scroll = QScrollArea()
        self._scroll.setWidget(self.canvas)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._readout = QLabel(" ")
        self._readout.setStyleSheet(f"color: {FOREGROUND};")
        self._readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._readout.setWordWrap(True)  # a unit's read-out is longer than a narrow view is wide ...
        self._readout.setMinimumHeight(3 * self._readout.fontMetrics().lineSpacing())  # ... with room for 3 lines
        self._readout.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._large = LargeUnit(self._unit_text, self._readout.setText)  # the unit shown large, on a page
        self._large.page.back.connect(self.close_large)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._scroll)
        self._stack.addWidget(self._large.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self._key)
        layout.addWidget(self._stack, 1)
        layout.addWidget(self._readout)
        self.setMouseTracking(True)
        self._update_key()

    # ---- public API ------------------------------------------------------------------------------------

    def set_data(self, X, y, X_test=None, y_test=None) -> None:
        """The plane the units are drawn over (``map_shared.data_extent`` of the data) and the points that the
        large view draws. X : ndarray of shape (n, 2), y : (n,) labels 0/1; the test set likewise or None."""
        self._points = map_points(X, y, X_test, y_test)
        self._extent = self._points.extent
        self._large.page.map.set_points(self._points)
        if self._model is not None:
            self.show_network(*self._model, health=self._health, title=self._title)

    def show_network(self, params: np.ndarray, layout: Layout, activation: str, health: Health | None = None,
                     title: str = "") -> None:
        """Draw the network ``params`` (ndarray of shape (layout.size,)): one grid evaluation, then a repaint.
        ``health`` (of these params; None: unknown) gives the share of the data each unit is active on;
        ``title`` names what is shown (e.g. 'run 2 — epoch 150')."""
        params = np.asarray(params, dtype=np.float64)
        if params.shape != (layout.size,):
            raise ValueError(f"params: expected shape ({layout.size},) for shape {layout.shape}, got {params.shape}")
        self._model = (params.copy(), layout, activation)
        self._health = health if health is not None and tuple(health.shape) == tuple(layout.shape) else None
        self._title = title
        if title != self._title_label.text():
            self._title_label.setText(title)
        self._stale = True
        if self._large.unit is not None:
            layer, unit = self._large.unit
            if layer >= len(layout.shape) or unit >= layout.shape[layer]:
                self.close_large()  # the network changed shape: that unit is gone
        if self._large.unit is None:
            self._fresh()
        else:  # the network is hidden behind the large view: evaluated when it is next needed
            self._large.show(self._model, self._extent, self._title)

    def _fresh(self) -> None:
        """Evaluate the unit maps of the network last given, unless done already."""
        if not self._stale or self._model is None:
            return
        self._stale = False
        params, layout, activation = self._model
        self._evaluator = reuse_evaluator(self._evaluator, layout, activation, self._extent,
                                          cells_for(layout, UNIT_WORK, UNIT_CELLS))
        self._outputs = grid_values(self._evaluator, params)
        self._rebuild()

    def clear(self) -> None:
        """Show nothing (no network) and close the large view."""
        self._model = self._health = None
        self._outputs = []
        self.canvas.show_frame([], None, Lines.empty())
        self._title = ""
        self._title_label.setText("")
        self.close_large()
        self._update_key()
        self._readout.setText(" ")
        self.canvas.update()

    def shown_units(self) -> list[int]:
        """Units drawn per column: inputs, each hidden layer, output ([] with no network)."""
        self._fresh()
        return [len(column.units) for column in self.canvas.columns]

    def shown_unit_indices(self, layer: int) -> list[int]:
        """The units of column ``layer`` drawn, top to bottom (row by row in the grid)."""
        self._fresh()
        return [int(u) for u in self.canvas.columns[layer].units]

    def column_note(self, layer: int) -> str:
        """What column ``layer`` says under it about the units shown ('top 12 of 256 by outgoing |w|', or '')."""
        self._fresh()
        return self.canvas.columns[layer].note

    @property
    def lines_note(self) -> str:
        """'' when every line between shown units is drawn, else how many of them are."""
        self._fresh()
        return self.canvas.lines.note

    @property
    def resolution(self) -> int:
        """Cells per side of the unit maps (0 with no network)."""
        self._fresh()
        return self._evaluator.n if self._evaluator is not None and self._model is not None else 0

    def unit_map(self, layer: int, unit: int) -> np.ndarray:
        """The values unit ``unit`` of column ``layer`` shows: (n, n) float32, row i at ``grid_ys[i]``, column j
        at ``grid_xs[j]`` (a copy)."""
        self._fresh()
        self._check_unit(layer, unit)
        return self._outputs[layer][unit].copy()

    @property
    def grid_xs(self) -> np.ndarray:
        """x₁ of each column of the unit maps (cell centres)."""
        self._fresh()
        return self._evaluator.xs.copy()

    @property
    def grid_ys(self) -> np.ndarray:
        """x₂ of each row of the unit maps."""
        self._fresh()
        return self._evaluator.ys.copy()

    def unit_rect(self, layer: int, unit: int) -> QRectF:
        """Where the unit is drawn, in this widget's coordinates (an empty rect when it is not shown)."""
        self._fresh()
        self._check_unit(layer, unit)
        found = np.flatnonzero(self.canvas.columns[layer].units == unit)
        plan = self.canvas.plan
        if not len(found) or plan is None:
            return QRectF()
        left, top = plan.slots[layer][found[0]]
        corner = self.canvas.mapTo(self, QPointF(left, top))
        return QRectF(corner.x(), corner.y(), plan.side, plan.side)

    def hover_text(self, pos) -> str:
        """What hovering at ``pos`` (this widget's coordinates) says: a unit, a line, or '' over nothing."""
        pos = QPointF(pos)
        if self._large.unit is not None:
            return self._large.text(self._large.page.map.mapFrom(self, pos))
        self._fresh()
        return self._canvas_text(self.canvas.mapFrom(self, pos))

    def set_show_all(self, on: bool) -> None:
        """Every unit of every layer in a scrolling grid (on), or the top ``TOP_K`` of wider layers (off)."""
        on = bool(on)
        if self._check.isChecked() != on:
            self._check.setChecked(on)  # comes back here through toggled
            return
        self._scroll.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOn if on else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._rebuild()
        self.show_all_changed.emit(on)

    @property
    def show_all(self) -> bool:
        return self._check.isChecked()

    # ---- the large view ----------------------------------------------------------------------------------

    def open_unit(self, layer: int, unit: int) -> None:
        """Show unit ``unit`` of column ``layer`` large with the data on top (Esc or Back returns)."""
        self._check_unit(layer, unit)
        self._stack.setCurrentWidget(self._large.page)
        self._large.open(layer, unit, self._model, self._extent, self._title)

    def close_large(self) -> None:
        self._large.close()
        self._stack.setCurrentWidget(self._scroll)
        self._fresh()

    @property
    def large_unit(self) -> tuple[int, int] | None:
        """(layer, unit) shown large, None when the whole network is shown."""
        return self._large.unit

    @property
    def large_title(self) -> str:
        return self._large.page.title.text()

    def large_map(self) -> np.ndarray | None:
        """The values the large view shows, (n, n) as ``unit_map`` (a copy; None when closed)."""
        return self._large.values()

    def column_scale_range(self, layer: int) -> tuple[float, float]:
        """(low, high) of the colour scale column ``layer`` is drawn with (stated in its colour strip)."""
        self._fresh()
        scale = next(column.scale for column in self.canvas.columns if column.layer == layer)
        return scale.low, scale.high

    def large_scale_range(self) -> tuple[float, float] | None:
        """(low, high) of the colour scale of the unit shown large (None when none is)."""
        return self._large.scale_range()

    @property
    def large_grid(self) -> tuple[np.ndarray, np.ndarray]:
        """(x₁ of each column, x₂ of each row) of the large map's grid (cell centres)."""
        return self._large.grid

    # ---- evaluation -----------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """Which units each column shows, their images, the plan and the lines; then a repaint."""
        if self._stale:
            self._fresh()  # evaluates, then comes back here
            return
        if self._model is None:
            self.canvas.show_frame([], None, Lines.empty())
            return
        params, layout, activation = self._model
        views = layout.views(params)
        columns = build_columns(self._outputs, views, layout.shape, activation, self._extent, self.show_all,
                                layout.inputs)
        plan = self._replan(columns)
        lines = select_lines([w for w, _ in views], [c.units for c in columns], list(plan.slots), plan.side)
        self.canvas.show_frame(columns, plan, lines)
        self._update_key()
        if self._hover is not None:
            self._readout.setText(self._canvas_text(self._hover) or " ")

    def _replan(self, columns: list[Column]) -> Plan:
        """Where the slots go: made again only when the counts, the size or the mode change."""
        viewport = self._scroll.viewport()
        grid = self.show_all and any(len(c.units) > TOP_K for c in columns)
        key = (tuple(len(c.units) for c in columns), viewport.width(), viewport.height(), grid)
        if self._plan is None or key != self._plan[0]:
            plan = plan_columns(list(key[0]), max(1, viewport.width()), max(1, viewport.height()), grid)
            self._plan = (key, plan)  # before the canvas is resized: that comes back here at once
            self.canvas.setMinimumHeight(math.ceil(plan.height) if grid else 0)
        return self._plan[1]

    def _relayout(self) -> None:
        if self.canvas.columns:
            self._rebuild()

    def _update_key(self) -> None:
        text = key_text(self.canvas.lines.note)
        if text != self._key.text():
            self._key.setText(text)

    # ---- hover and click -------------------------------------------------------------------------------

    def _check_unit(self, layer: int, unit: int) -> None:
        check_unit(None if self._model is None else self._model[1].shape, layer, unit)

    def _canvas_text(self, pos: QPointF) -> str:
        if self._model is None:
            return ""
        found = self.canvas.unit_at(pos)
        if found is not None:
            layer, unit, fx, fy = found
            n = self._evaluator.n
            i, j = n - 1 - min(int(fy * n), n - 1), min(int(fx * n), n - 1)
            return self._unit_text(layer, unit, float(self._outputs[layer][unit, i, j]),
                                   self._evaluator.xs[j], self._evaluator.ys[i])
        line = nearest_line(self.canvas.lines, pos.x(), pos.y())
        return "" if line is None else line_text(self.canvas.lines, line, self._model[1].shape, self._model[1].inputs)

    def _unit_text(self, layer: int, unit: int, value: float, x1: float, x2: float) -> str:
        params, layout, activation = self._model
        bias = float(layout.views(params)[layer - 1][1][unit]) if layer > 0 else None
        return unit_text(layer, unit, layout.shape, bias, activation, self._health, value, x1, x2, layout.inputs)

    def _canvas_hover(self, pos: QPointF | None) -> None:
        self._hover = pos
        self._readout.setText((self._canvas_text(pos) if pos is not None else "") or " ")

    def _press(self, canvas_pos: QPointF) -> None:
        found = self.canvas.unit_at(canvas_pos)
        if found is not None:
            layer, unit = found[:2]
            self.unit_clicked.emit(layer, unit)
            self.open_unit(layer, unit)

    def mousePressEvent(self, event) -> None:
        """Clicks sent to the view itself (the canvas forwards its own)."""
        if event.button() == Qt.MouseButton.LeftButton and self._large.unit is None:
            self._press(self.canvas.mapFrom(self, event.position()))
        event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._large.unit is not None:
            self.close_large()
            event.accept()
        else:
            super().keyPressEvent(event)
