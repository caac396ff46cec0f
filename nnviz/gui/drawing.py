"""Drawing mode: points drawn on the decision map become the data every run trains on (issue 12, Draw).

The mode shows one run's map large, holds its range still, and lets the mouse draw there (gui/drawing_tool.py).
Each finished stroke is ONE edit of the shared settings, ``dataset="custom"`` with the drawing's points, so
every run restarts from the same start on the new data (controller.set_shared). The first stroke starts from
the points the maps show: a generated set's training and test points, or the user's own points in their own
order. Undo takes strokes back one by one, to the very arrays they had; undoing the first stroke drawn on a
generated set brings that set back (its settings, so the same points). A drawing with no point cannot train:
the comparison keeps its data, training pauses, and the next point drawn makes the edit.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QMenu, QToolBar

from nnviz.core.comparison import RESTART_ALL
from nnviz.core.datasets import CUSTOM, Dataset, Points
from nnviz.core.drawing import Drawing
from nnviz.gui.drawing_tool import EMPTY_HINT, DrawingTool
from nnviz.gui.map_shared import CLASS_COLORS

DRAW_TIP = ("Draw points on the decision map (D): left click adds a point of the current class, right click one of "
            "the other, drag to paint, Shift+click or the eraser removes the nearest point; every run restarts "
            "from the same start on your points. Esc or D leaves")
UNDO_TIP = "In drawing mode: take back the last stroke (then the last reset or restart)"


def data_key(shared) -> tuple:
    """What identifies the points of shared settings: a drawing made from them is stale once it differs."""
    if shared.dataset == CUSTOM:
        return CUSTOM, shared.points
    return shared.dataset, shared.n_samples, shared.noise, shared.data_seed, shared.test_fraction


def dots_icon(colours, size: int = 16) -> QIcon:
    """A small icon of dots in ``colours`` (one dot: a class's swatch; four: the drawing tool)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    spots = [(0.5, 0.5, 0.38)] if len(colours) == 1 else [(0.28, 0.3, 0.17), (0.7, 0.24, 0.17), (0.36, 0.74, 0.17),
                                                          (0.76, 0.7, 0.17)]
    for (x, y, r), colour in zip(spots, colours * 4, strict=False):
        painter.setPen(QColor("#ffffff"))
        painter.setBrush(QColor(colour))
        painter.drawEllipse(QRectF(size * (x - r), size * (y - r), 2 * r * size, 2 * r * size))
    painter.end()
    return QIcon(pixmap)


class DrawingMode(QObject):
    """The drawing mode of a MainWindow: its actions, its tool bar, and strokes turned into edits of the data."""

    changed = Signal()  # on or off, the class, the eraser, or the drawing changed

    def __init__(self, window):
        super().__init__(window)
        self.w, self.c = window, window.controller
        self._active = False
        self._drawing: Drawing | None = None  # the points being drawn, made at the first stroke
        self._key: tuple | None = None  # data_key of the settings the drawing matches (made from, or last set)
        self._origin: dict | None = None  # a generated set's data settings the drawing began on (undo goes back)
        self._classes: tuple[str, str] = ("0", "1")  # the names of the drawing's two classes
        self._undo_text = (window.undo_action.text(), window.undo_action.toolTip())
        self.tool = DrawingTool(window.maps.large, self._drawing_for_stroke)
        self.tool.stroke_finished.connect(self._apply)
        self.tool.refused.connect(lambda text: self._say(text, "error"))
        self._build_actions()
        self._build_bar()
        self.c.runs_changed.connect(self._runs_changed)
        self.c.state_changed.connect(self._state_changed)
        window.maps.large_changed.connect(lambda run_id: self.set_active(False) if run_id == -1 else None)
        # The network or the landscape in the maps' place (after the window has switched): no map to draw on.
        window.actions.view_group.triggered.connect(self._view_changed)
        window.view_mode.activated.connect(self._view_changed)
        window.panel.changed.connect(self._state_changed)  # after the window's own: it sets Undo for the model
        self._enable()

    # ---- construction ---------------------------------------------------------------------------

    def _action(self, text: str, tip: str, slot, shortcut=None, checkable: bool = False, icon=None) -> QAction:
        act = QAction(text, self.w)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            tip += f" ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        act.setToolTip(tip)
        act.setCheckable(checkable)
        if icon is not None:
            act.setIcon(icon)
        act.triggered.connect(slot)
        self.w.addAction(act)
        return act

    def _build_actions(self) -> None:
        self.draw_action = self._action("Draw points", DRAW_TIP, lambda on: self.set_active(on), Qt.Key.Key_D, True,
                                        dots_icon(list(CLASS_COLORS)))
        self.draw_action.setObjectName("draw_action")
        self.class_group = QActionGroup(self.w)
        self.class_actions = []
        for label, colour in enumerate(CLASS_COLORS):
            act = self._action(f"class {label}", f"Left click draws class {label}, right click the other class",
                               lambda _=False, label=label: self.set_class(label), checkable=True,
                               icon=dots_icon([colour]))
            self.class_group.addAction(act)
            self.class_actions.append(act)
        self.class_actions[0].setChecked(True)
        self.switch_action = self._action("Switch class", "Left click draws the other class",
                                          lambda: self.set_class(1 - self.current_class), Qt.Key.Key_C)
        self.eraser_action = self._action("Eraser", "Clicks remove the nearest point, drags erase along the way "
                                          "(Shift does the same with the pencil)", lambda on: self.set_eraser(on),
                                          Qt.Key.Key_E, True)
        self.clear_action = self._action("Clear", "Remove every point (Ctrl+Z brings them back); draw new ones",
                                         self.clear)
        self.undo_stroke_action = self._action("Undo stroke", "Take back the last stroke (Ctrl+Z in drawing mode)",
                                               self.undo)
        self.leave_action = self._action("Leave drawing mode", "Stop drawing", self._leave, Qt.Key.Key_Escape)
        edit_menu = next((a.menu() for a in self.w.menuBar().actions() if a.text() == "&Edit"), None)
        if isinstance(edit_menu, QMenu):
            edit_menu.addSeparator()
            for act in (self.draw_action, self.switch_action, self.eraser_action, self.clear_action):
                edit_menu.addAction(act)

    def _build_bar(self) -> None:
        self.w.run_bar.addSeparator()
        self.w.run_bar.addAction(self.draw_action)
        bar = QToolBar("Drawing")
        bar.setObjectName("drawing_bar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for act in self.class_actions:
            bar.addAction(act)
        bar.addSeparator()
        for act in (self.eraser_action, self.clear_action, self.undo_stroke_action):
            bar.addAction(act)
        bar.addSeparator()
        self.hint = QLabel()
        self.hint.setObjectName("drawing_hint")
        bar.addWidget(self.hint)
        self.w.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.w.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        bar.setVisible(False)
        self.bar = bar
        self._update_hint()

    # ---- the mode -------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """Drawing mode is on: the mouse draws on the large map."""
        return self._active

    @property
    def current_class(self) -> int:
        """The class a left click draws (a right click draws the other)."""
        return self.tool.current_class

    @property
    def eraser(self) -> bool:
        return self.tool.eraser

    @property
    def can_undo(self) -> bool:
        """In drawing mode, a stroke to take back."""
        drawing = self._current()
        return self._active and drawing is not None and drawing.can_undo

    def points(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The drawing's points (X (n, 2), y (n,)) as drawn so far; None before the first stroke (or once the
        data changed otherwise)."""
        drawing = self._current()
        return None if drawing is None else (drawing.X, drawing.y)

    def set_active(self, on: bool) -> bool:
        """Enter or leave drawing mode; entering shows a run's map large (refused without a shown run)."""
        on = bool(on)
        if on and not self._active:
            run_id = self._run_to_draw_on()
            if run_id == -1:
                self._say("drawing needs a run's map: tick a run in the run list", "error")
                on = False
            else:
                if self.w.inside.mode in ("network", "landscape"):
                    self.w.set_view_mode("maps")
                if self.w.maps.large_run_id == -1:
                    self.w.maps.show_large(run_id)
                view = self.tool.view
                view.hold_extent(view.extent)  # the map stays still while its points change
        if on == self._active:
            self.draw_action.setChecked(on)
            return on
        self._active = on
        self.draw_action.setChecked(on)
        self.tool.set_enabled(on)
        if not on:
            self.tool.view.hold_extent(None)
        self.tool.set_empty(on and self._is_empty())
        self.bar.setVisible(on)
        text, tip = ("&Undo stroke", UNDO_TIP) if on else self._undo_text
        self.w.undo_action.setText(text)
        self.w.undo_action.setToolTip(f"{tip} (Ctrl+Z)" if on else tip)
        self._enable()
        self._state_changed()
        if on:
            self.w.maps.setFocus()
            self._say(EMPTY_HINT if self._is_empty() else
                      "drawing mode: each stroke restarts every run on the points drawn (Esc or D: done)")
        self.changed.emit()
        return on

    def set_class(self, label: int) -> None:
        """The class a left click draws: 0 or 1."""
        if label not in (0, 1):
            raise ValueError(f"class={label!r}: must be 0 or 1")
        self.tool.current_class = label
        self.class_actions[label].setChecked(True)
        self._update_hint()
        self.changed.emit()

    def set_eraser(self, on: bool) -> None:
        """Clicks and drags erase instead of draw."""
        self.tool.eraser = bool(on)
        self.eraser_action.setChecked(bool(on))
        self._update_hint()
        self.changed.emit()

    def clear(self) -> None:
        """Remove every point, as one stroke (undo brings them back); the comparison keeps its data until the
        next point is drawn."""
        if not self._active:
            return
        drawing = self._drawing_for_stroke()
        self.tool.cancel()
        if drawing is not None and drawing.clear():
            self._apply()

    def undo(self) -> bool:
        """In drawing mode, take back the last stroke (True); False when there is none (the window's Undo then
        undoes the last reset or restart)."""
        drawing = self._current()
        if not self._active or drawing is None or not drawing.can_undo:
            return False
        self.tool.cancel()
        drawing.undo()
        self._apply(undoing=True)
        left = drawing.strokes
        self._say(f"undone: the last stroke ({left} more to undo)" if left else "undone: the first stroke", "done")
        return True

    # ---- strokes into edits ---------------------------------------------------------------------

    def _current(self) -> Drawing | None:
        """The drawing, if the comparison's data is still the one it matches."""
        if self._drawing is not None and data_key(self.c.shared) != self._key:
            self._drawing = None  # the data changed otherwise (the panel, a file, a session): its strokes are void
        return self._drawing

    def _drawing_for_stroke(self) -> Drawing | None:
        if self.c.jobs.pending("replace"):
            self._say("a comparison is being opened: draw once it is shown", "error")
            return None
        if self._current() is None:
            shared = self.c.shared
            if shared.dataset == CUSTOM:
                points = shared.points
                X, y, self._classes, self._origin = points.X, points.y, points.classes, None
            else:
                data = self.c.model.data if data_key(self.c.model.shared) == data_key(shared) else Dataset.of(shared)
                X, y = np.concatenate([data.X, data.X_test]), np.concatenate([data.y, data.y_test]).reshape(-1)
                self._classes, self._origin = ("0", "1"), {"dataset": shared.dataset, "n_samples": shared.n_samples}
            self._drawing, self._key = Drawing(X, y), data_key(shared)
        return self._drawing

    def _apply(self, undoing: bool = False) -> None:
        """The drawing as it now is becomes the comparison's data: one edit, every run back to epoch 0."""
        drawing = self._drawing
        self.tool.set_empty(self._active and not len(drawing))
        self._enable()
        if not len(drawing):  # nothing to train on: keep the data, wait for the next point
            self.c.pause()
            self.tool.clear_preview()
            self._say(EMPTY_HINT)
            self.changed.emit()
            return
        if not drawing.strokes and self._origin is not None:
            shared = self.c.shared.replace(**self._origin, points=None)  # back to the generated set
        else:
            shared = self.c.shared.replace(dataset=CUSTOM, points=Points(drawing.X, drawing.y, self._classes))
        playing, key = self.c.playing, self._key
        self._key = data_key(shared)  # before the edit: the views it updates must find the drawing current
        try:
            effect = self.c.set_shared(shared)
        except ValueError as exc:
            self._key = key
            if not undoing:
                drawing.undo()
            self.tool.clear_preview()
            self._say(f"the drawing cannot be trained on: {exc}", "error")
        else:
            if effect != RESTART_ALL or not self.c.busy:
                self.tool.clear_preview()
            if playing:
                self.c.play()  # training goes on, from epoch 0 on the new points, once they are prepared
        self._enable()
        self.changed.emit()

    def _is_empty(self) -> bool:
        drawing = self._current()
        return drawing is not None and not len(drawing)

    # ---- following the controller ---------------------------------------------------------------

    def _runs_changed(self) -> None:
        if not self.c.busy:
            self.tool.clear_preview()  # the map draws the applied points now
        self.tool.set_empty(self._active and self._is_empty())
        self._enable()

    def _state_changed(self) -> None:
        if not self._active:
            return
        if self.c.playing and self._is_empty():
            self.c.pause()  # the empty drawing cannot train; the comparison's data is not what is shown
            self._say(EMPTY_HINT, "error")
        self.w.undo_action.setEnabled(self.c.can_undo or self.can_undo)

    def _enable(self) -> None:
        for act in (*self.class_actions, self.switch_action, self.eraser_action, self.clear_action,
                    self.leave_action):
            act.setEnabled(self._active)
        self.undo_stroke_action.setEnabled(self.can_undo)
        if self._active:
            self.w.undo_action.setEnabled(self.c.can_undo or self.can_undo)
        else:
            self.w.undo_action.setEnabled(self.c.can_undo)

    def _run_to_draw_on(self) -> int:
        model = self.c.model
        shown = [run.id for run in model if run.spec.visible]
        large = self.w.maps.large_run_id
        for run_id in (large, self.c.selected_run_id):
            if run_id in shown:
                return run_id
        return shown[0] if shown else -1

    def _update_hint(self) -> None:
        if self.eraser:
            text = "click: remove the nearest point · drag: erase along the way"
        else:
            text = (f"left click: class {self.current_class} · right click: class {1 - self.current_class} · drag: "
                    "paint · Shift+click: erase")
        self.hint.setText(f"  {text} · C: switch class · Ctrl+Z: undo stroke · Esc: done")

    def _view_changed(self, *_) -> None:
        if self.w.inside.mode not in ("maps", "both"):
            self.set_active(False)

    def _leave(self) -> None:
        self.set_active(False)

    def _say(self, text: str, kind: str = "") -> None:
        self.w.statusline.set_message(text, kind)


__all__ = ["DrawingMode", "data_key"]
