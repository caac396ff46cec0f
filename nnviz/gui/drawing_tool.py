"""The mouse on a decision map in drawing mode: presses, drags and releases become strokes of a core Drawing.

A left press paints a point of the current class, a right press one of the other class; dragging paints
more along the way (core.drawing.Brush: one every few pixels, slightly jittered). With Shift held, or the
eraser chosen, a press removes the nearest point under the cursor and a drag erases along its path. The
stroke is previewed over the map (new points in their class's colour, erased points crossed out) until the
mode has applied it to the comparison and the map shows the new data.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor

from nnviz.core.drawing import ERASE_RADIUS, PICK_RADIUS, Brush, Drawing
from nnviz.gui.boundary_view import BoundaryView
from nnviz.gui.map_shared import CLASS_COLORS, FOREGROUND

EMPTY_HINT = "draw points: left click class 0, right click class 1"
MAX_CROSSES = 500  # erased points crossed out at most (the eraser's path shows the rest; the map draws a subset)
_PREVIEW_Z = 4  # over the map's points and its contour


class DrawingTool(QObject):
    """Turns the mouse on ``view`` (a BoundaryView) into strokes of the Drawing ``drawing_for_stroke()`` gives
    at each press (None: no stroke). Disabled, it lets every event through to the map."""

    stroke_finished = Signal()  # a stroke changed the drawing (at the release)
    refused = Signal(str)  # a point could not be added: why

    def __init__(self, view: BoundaryView, drawing_for_stroke: Callable[[], Drawing | None]):
        super().__init__(view)
        self.view = view
        self._drawing_for_stroke = drawing_for_stroke
        self._enabled = False
        self.current_class = 0  # the class a left click paints (a right click paints the other)
        self.eraser = False  # presses erase instead of paint
        self._drawing: Drawing | None = None  # the drawing of the stroke under way
        self._label: int | None = None  # the class the stroke paints; None: it erases
        self._brush = Brush()
        self._last: tuple[float, float] | None = None  # the stroke's last position, in the plane
        self._said_full = False
        self._crossed = 0

        plot = view.plot
        self._added = []  # preview of the added points, one item per class
        for colour in CLASS_COLORS:
            item = pg.ScatterPlotItem(size=8, pen=pg.mkPen("#ffffff", width=1.2), brush=colour)
            item.setZValue(_PREVIEW_Z)
            plot.addItem(item)
            self._added.append(item)
        self._erased = pg.ScatterPlotItem(size=9, symbol="x", pen=None, brush=pg.mkBrush(FOREGROUND))
        self._erased.setZValue(_PREVIEW_Z)
        plot.addItem(self._erased)
        # The eraser's path, as wide as what it erases (the crosses alone would hide nothing on dense data).
        self._trail = pg.PlotCurveItem(pen=pg.mkPen(QColor(60, 60, 60, 60), width=2 * ERASE_RADIUS,
                                                    cap=Qt.PenCapStyle.RoundCap, join=Qt.PenJoinStyle.RoundJoin))
        self._trail.setZValue(_PREVIEW_Z)
        plot.addItem(self._trail)
        self._path: list[tuple[float, float]] = []  # the eraser's path during a stroke, in the plane
        self._hint = pg.LabelItem(EMPTY_HINT, color=FOREGROUND, size="12pt")
        self._hint.setParentItem(plot.vb)
        self._hint.anchor(itemPos=(0.5, 0.5), parentPos=(0.5, 0.5))
        self._hint.setVisible(False)
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        view.destroyed.connect(self._forget_view)

    # ---- state ----------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_enabled(self, on: bool) -> None:
        """Draw with the mouse (a crosshair cursor), or leave the map to its own mouse handling."""
        self._enabled = bool(on)
        viewport = self._viewport
        if viewport is None:
            return
        if self._enabled:
            viewport.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.cancel()
            viewport.unsetCursor()
            self.set_empty(False)

    def set_empty(self, empty: bool) -> None:
        """An empty drawing: the map's points hidden and a hint in their place (the model keeps its data)."""
        for item in self.view.scatter_items():
            item.setVisible(not empty)
        self._hint.setVisible(bool(empty))

    @property
    def shows_empty(self) -> bool:
        """The map shows the empty canvas (its points hidden, the hint shown)."""
        return self._hint.isVisible()

    @property
    def stroking(self) -> bool:
        """A stroke is under way (the mouse is down)."""
        return self._drawing is not None

    # ---- the mouse, in the scene's coordinates (the event filter calls these; tests may too) -------

    def data_position(self, scene_pos: QPointF) -> tuple[float, float]:
        """(x₁, x₂) in the plane under a point of the scene."""
        point = self.view.plot.vb.mapSceneToView(scene_pos)
        return point.x(), point.y()

    def viewport_position(self, x1: float, x2: float) -> QPoint:
        """The pixel of the map's viewport that shows (x₁, x₂) (for clicking there)."""
        return self.view.mapFromScene(self.view.plot.vb.mapViewToScene(QPointF(x1, x2)))

    def press(self, scene_pos: QPointF, button: Qt.MouseButton, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
        """Start a stroke at ``scene_pos``: paint (left: the current class, right: the other) or erase (Shift, or
        the eraser). False when the press is not a stroke (another button, outside the plot, no drawing)."""
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton) or not self._inside(scene_pos):
            return False
        self.cancel()
        drawing = self._drawing_for_stroke()
        if drawing is None:
            return False
        self._drawing = drawing
        drawing.begin()
        erase = self.eraser or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        self._label = None if erase else (self.current_class if button == Qt.MouseButton.LeftButton
                                          else 1 - self.current_class)
        self._said_full = False
        self._crossed = 0
        self._last = self.data_position(scene_pos)
        self._path = [self._last]
        if self._label is None:
            drawing.erase_nearest(*self._last, max_distance=PICK_RADIUS * self._pixel())
            self._brush.press(scene_pos.x(), scene_pos.y())
        else:
            self._paint(self._brush.press(scene_pos.x(), scene_pos.y()))
        self._show_preview()
        return True

    def move(self, scene_pos: QPointF) -> None:
        """The mouse moved to ``scene_pos`` during a stroke: paint or erase along the way."""
        if self._drawing is None:
            return
        here = self.data_position(scene_pos)
        if self._label is None:
            self._drawing.erase_along(self._last, here, ERASE_RADIUS * self._pixel())
            self._path.append(here)
        else:
            self._paint(self._brush.move(scene_pos.x(), scene_pos.y()))
        self._last = here
        self._show_preview()

    def release(self) -> bool:
        """End the stroke: it becomes one edit of the drawing (stroke_finished); True when it changed it."""
        drawing, self._drawing = self._drawing, None
        self._brush.release()
        if drawing is None:
            return False
        changed = drawing.finish()  # the preview stays: it shows what the stroke did until it is applied
        if changed:
            self.stroke_finished.emit()
        else:
            self.clear_preview()
        return changed

    def cancel(self) -> None:
        """Drop a stroke under way (nothing changes)."""
        if self._drawing is not None:
            self._drawing.cancel()
            self._drawing = None
            self._brush.release()
            self.clear_preview()

    def clear_preview(self) -> None:
        """The map shows the applied data: no more preview."""
        for item in (*self._added, self._erased):
            item.setData(pos=np.empty((0, 2)))
        self._trail.setData([], [])
        self._crossed = 0

    # ---- internals ------------------------------------------------------------------------------

    def _inside(self, scene_pos: QPointF) -> bool:
        return self.view.plot.vb.sceneBoundingRect().contains(scene_pos)

    def _pixel(self) -> float:
        """Units of the plane per pixel (the aspect is locked: the same along both axes)."""
        size = self.view.plot.vb.viewPixelSize()
        return float(max(size[0], size[1]))

    def _paint(self, scene_points: np.ndarray) -> None:
        vb = self.view.plot.vb
        for sx, sy in scene_points:
            scene = QPointF(sx, sy)
            if not self._inside(scene):
                continue
            point = vb.mapSceneToView(scene)
            if not self._drawing.add(point.x(), point.y(), self._label) and not self._said_full:
                self._said_full = True
                self.refused.emit(f"the drawing holds {self._drawing.limit:,} points, the most a data set may "
                                  "have: erase some first")

    def _show_preview(self) -> None:
        added_X, added_y, erased = self._drawing.pending
        for label, item in enumerate(self._added):
            item.setData(pos=added_X[added_y == label])
        # The erased points crossed out (the map still draws them until the stroke is applied), and the eraser's
        # path when it was dragged.
        if len(erased) != self._crossed:
            self._crossed = len(erased)
            self._erased.setData(pos=self._drawing.X[erased[:MAX_CROSSES]])
        if self._label is None and len(self._path) > 1:
            path = np.array(self._path)
            self._trail.setData(path[:, 0], path[:, 1])

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        # An exception must not leave an event filter: PySide 6.11 crashes storing it (PepException_GetArgs). A
        # failure drops the stroke and goes to sys.excepthook (the terminal, pytest-qt's capture) instead.
        try:
            return self._filter(watched, event)
        except Exception:
            self.cancel()
            sys.excepthook(*sys.exc_info())
            return True

    def _filter(self, watched, event) -> bool:
        if not self._enabled or watched is not self._viewport:
            return False
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            if self._drawing is not None:
                return True  # a second button during a stroke: ignored
            return self.press(self._scene(event), event.button(), event.modifiers())
        if kind == QEvent.Type.MouseMove and self._drawing is not None:
            self.move(self._scene(event))
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._drawing is not None:
            self.release()
            return True
        return False

    def _forget_view(self, *_) -> None:
        self._enabled = False  # the map is being deleted: its last events are not strokes
        self._viewport = None

    def _scene(self, event) -> QPointF:
        return self.view.mapToScene(event.position().toPoint())
