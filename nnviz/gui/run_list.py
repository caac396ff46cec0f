"""The run list of a comparison: each run's colour, name, visibility and a short summary of its settings.

The panel holds the runs as an ordered list of ``(run_id, RunSpec)``. It edits what a run
looks like (name, colour, shown or hidden) and the list itself (add, copy, remove); the
training settings of the selected run are edited elsewhere (the main window's Training
panel) and come back through ``set_run_spec``. The words it shows (summaries, tooltips, unique
names) are made in ``run_names``.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyledItemDelegate,
    QToolBar,
    QToolTip,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nnviz.core.colours import colour_error
from nnviz.core.comparison import MAX_NAME_LENGTH, RunSpec
from nnviz.gui.run_names import (  # noqa: F401  (re-exported: the window and the tests import them from here)
    BATCH_NOTES,
    preset_base,
    renamed_for_preset,
    run_summary,
    run_tooltip,
    unique_name,
)

ERROR_COLOR = "#c0392b"
SUMMARY_COLOR = "#6b6b6b"
HIDDEN_COLOR = "#9a9a9a"  # the name of a hidden run
SWATCH_SIZE = 14  # pixels


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(SWATCH_SIZE, SWATCH_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(colour).darker(130))
    painter.setBrush(QColor(colour))
    painter.drawRoundedRect(1, 1, SWATCH_SIZE - 2, SWATCH_SIZE - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _NameDelegate(QStyledItemDelegate):
    """Inline editing of a run's name: the panel checks it; a refused name stays in the editor."""

    def __init__(self, panel: RunListPanel):
        super().__init__(panel.tree)
        self._panel = panel

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.setMaxLength(MAX_NAME_LENGTH)
        return editor

    def eventFilter(self, editor, event):
        # Return on a refused name keeps the editor open with the reason shown at it.
        if event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and isinstance(editor, QLineEdit):
            error = self._panel.name_error(editor.property("run_id"), editor.text())
            if error:
                self._panel.show_message(error, anchor=editor)
                return True
        return super().eventFilter(editor, event)

    def setEditorData(self, editor, index):
        super().setEditorData(editor, index)
        editor.setProperty("run_id", index.data(Qt.ItemDataRole.UserRole))

    def setModelData(self, editor, model, index):
        # Reached on Return with a valid name, or when focus leaves (a refused name is then dropped).
        try:
            self._panel.rename_run(index.data(Qt.ItemDataRole.UserRole), editor.text())
        except ValueError as exc:
            self._panel.show_message(str(exc))


class RunListPanel(QWidget):
    """The runs of a comparison as rows: colour swatch, visible checkbox, name, settings summary.

    A view of the model's runs (``show_runs``): what the user does here is sent as an intent to the
    controller, which edits the model and shows the runs again.

    Signals
    -------
    add_requested(int run_id)
        Add a copy of that run.
    notebook_requested()
        Add the notebook's four runs.
    optimizers_requested()
        Add the five optimisers (sgd, momentum, nesterov, rmsprop, adam).
    remove_requested(int run_id)
    edit_requested(int run_id, dict changes)
        New name, colour or visibility (already validated).
    selection_changed(int run_id)
        The selected run, -1 when none.
    """

    add_requested = Signal(int)
    notebook_requested = Signal()
    optimizers_requested = Signal()
    remove_requested = Signal(int)
    edit_requested = Signal(int, object)
    selection_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._runs: dict[int, RunSpec] = {}  # by id, in display order
        self._items: dict[int, QTreeWidgetItem] = {}
        self._updating = False  # True while rows are written from code (no itemChanged handling)
        # Rows as last shown (the model's, by id); the model is the truth, these only say what is on screen.

        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Run", "Settings"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setIconSize(QSize(SWATCH_SIZE, SWATCH_SIZE))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)  # F2 and double-click: see below
        self.tree.setItemDelegateForColumn(0, _NameDelegate(self))
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setToolTip("The runs of the comparison: all start from the same weights on the same data.\n"
                             "Tick to show a run in the plots; double-click or F2 to rename.")
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemDoubleClicked.connect(lambda item, _column: self.tree.editItem(item, 0))

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {ERROR_COLOR};")
        self.message.setVisible(False)

        def action(text, tip, shortcut, slot):
            act = QAction(text, self)
            act.setIconText(text)  # keeps the "…" that buttons otherwise drop
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            act.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.notebook_action = action("Notebook runs", "Add the notebook's four strategies: sgd, mini-batch, "
                                      "momentum and decay", "Ctrl+Shift+N", self.add_notebook_runs)
        self.optimizers_action = action("Optimisers", "Add five optimisers from the same start: sgd, momentum "
                                        "(heavy-ball), nesterov, rmsprop and adam", "Ctrl+Shift+O",
                                        self.add_optimizer_runs)
        for act in (self.notebook_action, self.optimizers_action):  # adding runs works from anywhere in the window
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        # A lambda: triggered(bool) would pass False, which add_copy took for run id 0 (False == 0).
        self.add_action = action("Add", "Add a copy of the selected run, in the next colour", "Ctrl+D",
                                 lambda: self.add_copy())
        self.rename_action = action("Rename", "Rename the selected run", "F2", self._start_rename)
        self.colour_action = action("Colour…", "Choose the selected run's colour", "Ctrl+Shift+C", self._choose_colour)
        self.remove_action = action("Remove", "Remove the selected run", "Delete", self._remove_selected)

        # A toolbar: when the panel is narrow, the last buttons move into its » menu.
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        for act in (self.notebook_action, self.optimizers_action, self.add_action, self.rename_action,
                    self.colour_action, self.remove_action):
            self.toolbar.addAction(act)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        self._update_actions()

    # ---- public API -------------------------------------------------------------------------

    def runs(self) -> list[tuple[int, RunSpec]]:
        """``[(run_id, spec), ...]`` as shown, in display order."""
        return list(self._runs.items())

    def specs(self) -> list[RunSpec]:
        return list(self._runs.values())

    def spec(self, run_id: int) -> RunSpec:
        return self._runs[run_id]

    def show_runs(self, runs: Iterable[tuple[int, RunSpec]], selected: int = -1) -> None:
        """Show these runs (the model's, by id) and select ``selected``; rows of runs already shown are
        rewritten in place, so an open editor or the scroll position survive a restyle."""
        runs = list(runs)
        self._updating = True
        try:
            if [run_id for run_id, _ in runs] != list(self._runs):
                self.tree.clear()
                self._runs.clear()
                self._items.clear()
                for run_id, spec in runs:
                    self._insert(run_id, spec)
            else:
                for run_id, spec in runs:
                    if self._runs[run_id] != spec:
                        self._runs[run_id] = spec
                        self._write_row(run_id)
            if selected != self.selected_run_id():
                self.tree.setCurrentItem(self._items.get(selected))
        finally:
            self._updating = False
        self._update_actions()

    def add_notebook_runs(self) -> None:
        """Ask for the notebook's four runs (notebook_requested)."""
        self.clear_message()
        self.notebook_requested.emit()

    def add_optimizer_runs(self) -> None:
        """Ask for the five optimisers' runs (optimizers_requested)."""
        self.clear_message()
        self.optimizers_requested.emit()

    def add_copy(self, run_id: int | None = None) -> int:
        """Ask for a copy of a run, the selected one by default (add_requested); returns the run copied."""
        run_id = self.selected_run_id() if run_id is None else run_id
        if run_id not in self._runs:
            self.show_message("Add: select the run to copy first")
            return -1
        self.clear_message()
        self.add_requested.emit(run_id)
        return run_id

    def remove_run(self, run_id: int) -> None:
        """Ask to remove a run (remove_requested)."""
        if run_id not in self._runs:
            raise KeyError(run_id)
        self.clear_message()
        self.remove_requested.emit(run_id)

    def rename_run(self, run_id: int, name: str) -> None:
        """Ask to rename a run (spaces around the name dropped). Raises ValueError naming the field when the
        name is empty, too long or another run's."""
        error = self.name_error(run_id, name)
        if error:
            raise ValueError(error)
        self._edit(run_id, name=name.strip())

    def name_error(self, run_id: int, name: str) -> str:
        """Why ``name`` cannot be the name of run ``run_id`` ("" if it can)."""
        name = name.strip()
        if not name:
            return "name: must not be empty"
        if len(name) > MAX_NAME_LENGTH or not name.isprintable():
            return f"name: must be 1 to {MAX_NAME_LENGTH} printable characters"
        try:
            self._check_name(name, run_id)
        except ValueError as exc:
            return str(exc)
        return ""

    def set_run_colour(self, run_id: int, colour: str | QColor) -> None:
        """Ask for a run's colour: ``"#rrggbb"`` or a QColor. Raises ValueError naming the field for an invalid
        colour or one too light to be seen on the white background (see ``nnviz.core.colours.colour_error``)."""
        if isinstance(colour, QColor):
            if not colour.isValid():
                raise ValueError("colour: not a valid colour")
            colour = colour.name()
        error = colour_error(colour)
        if error:
            raise ValueError(error)
        self._edit(run_id, colour=colour)

    def set_run_visible(self, run_id: int, visible: bool) -> None:
        """Ask to show or hide a run in the views (a hidden run still trains)."""
        self._edit(run_id, visible=bool(visible))

    def selected_run_id(self) -> int:
        """The selected run's id, -1 when none."""
        item = self.tree.currentItem()
        return -1 if item is None else int(item.data(0, Qt.ItemDataRole.UserRole))

    def select_run(self, run_id: int) -> None:
        """Select a run (-1: none), as a click does: selection_changed tells the controller."""
        self.tree.setCurrentItem(self._items.get(run_id))

    def show_selected(self, run_id: int) -> None:
        """Show the controller's selected run (-1: none), without sending it back as an intent."""
        updating, self._updating = self._updating, True
        try:
            self.tree.setCurrentItem(self._items.get(run_id))
        finally:
            self._updating = updating
        self._update_actions()

    def show_message(self, text: str, anchor: QWidget | None = None) -> None:
        """Show a problem under the list (and as a tooltip at ``anchor``, e.g. the name editor)."""
        self.message.setText(text)
        self.message.setVisible(True)
        if anchor is not None and anchor.isVisible():
            QToolTip.showText(anchor.mapToGlobal(QPoint(0, anchor.height())), text, anchor)

    def clear_message(self) -> None:
        self.message.clear()
        self.message.setVisible(False)

    # ---- internals --------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return [spec.name for spec in self._runs.values()]

    def _check_name(self, name: str, run_id: int | None = None) -> None:
        for other_id, spec in self._runs.items():
            if spec.name == name and other_id != run_id:
                raise ValueError(f"name: {name!r} is already the name of another run")

    def _insert(self, run_id: int, spec: RunSpec) -> None:
        item = QTreeWidgetItem()
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
                      | Qt.ItemFlag.ItemIsEditable)
        item.setData(0, Qt.ItemDataRole.UserRole, run_id)
        self._runs[run_id] = spec
        self._items[run_id] = item
        self.tree.addTopLevelItem(item)
        self._write_row(run_id)

    def _write_row(self, run_id: int) -> None:
        spec, item = self._runs[run_id], self._items[run_id]
        updating, self._updating = self._updating, True
        try:
            item.setText(0, spec.name)
            item.setForeground(0, QColor(HIDDEN_COLOR) if not spec.visible else self.palette().text().color())
            item.setIcon(0, _swatch(spec.colour))
            item.setCheckState(0, Qt.CheckState.Checked if spec.visible else Qt.CheckState.Unchecked)
            item.setText(1, run_summary(spec))
            item.setForeground(1, QColor(SUMMARY_COLOR))
            tip = run_tooltip(spec)
            item.setToolTip(0, tip + "\n\nTick: show in the plots · F2: rename")
            item.setToolTip(1, tip)
        finally:
            self._updating = updating

    def _edit(self, run_id: int, **changes) -> None:
        if run_id not in self._runs:
            raise KeyError(run_id)
        spec = self._runs[run_id]
        spec.replace(**changes)  # validates (ValueError naming the field)
        self.clear_message()
        if all(getattr(spec, name) == value for name, value in changes.items()):
            return
        self.edit_requested.emit(run_id, changes)

    def _update_actions(self) -> None:
        selected = self.selected_run_id() != -1
        for act in (self.add_action, self.rename_action, self.colour_action):
            act.setEnabled(selected)
        self.remove_action.setEnabled(selected and len(self._runs) > 1)

    def _on_current_changed(self, current, _previous) -> None:
        self._update_actions()
        if not self._updating:  # the user's choice, not rows rewritten from the model
            self.selection_changed.emit(self.selected_run_id())

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0:
            return
        run_id = int(item.data(0, Qt.ItemDataRole.UserRole))
        visible = item.checkState(0) == Qt.CheckState.Checked
        if visible != self._runs[run_id].visible:
            self.set_run_visible(run_id, visible)

    def _start_rename(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.tree.editItem(item, 0)

    def _choose_colour(self) -> None:
        run_id = self.selected_run_id()
        if run_id == -1:
            return
        spec = self._runs[run_id]
        colour = QColorDialog.getColor(QColor(spec.colour), self, f"Colour of {spec.name}")
        if not colour.isValid():
            return  # cancelled
        try:
            self.set_run_colour(run_id, colour)
        except ValueError as exc:  # e.g. white: the run keeps its colour
            self.show_message(str(exc))

    def _remove_selected(self) -> None:
        run_id = self.selected_run_id()
        if run_id == -1:
            return
        if len(self._runs) <= 1:
            self.show_message("Remove: a comparison needs at least one run")
            return
        self.remove_run(run_id)
