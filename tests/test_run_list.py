"""The run list: notebook runs, copies, renaming, colours, removal and visibility (pytest-qt, offscreen).

The panel is a view: it emits intents (add_requested, notebook_requested, remove_requested, edit_requested,
selection_changed) that the window's controller applies to the model before showing the runs again, so these
tests drive the panel inside a window (the `window` fixture, `window.runs`) and check the intents, then the rows
shown once the controller answered."""

import pytest
from helpers import ready
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLineEdit, QStyle, QStyleOptionViewItem

from nnviz.core.colours import colour_error
from nnviz.core.comparison import NOTEBOOK_PRESETS, PALETTE, RunSpec, notebook_runs, preset_run
from nnviz.core.text import FULL_BATCH
from nnviz.gui.run_list import renamed_for_preset, run_summary, run_tooltip, unique_name


def _names(panel):
    return [spec.name for _, spec in panel.runs()]


def _row_texts(panel):
    return [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]


def _ids(panel):
    return [run_id for run_id, _ in panel.runs()]


def notebook(qtbot, window):
    """The notebook's four runs in the window (they replace its lone, untrained sgd run); their ids."""
    with qtbot.waitSignal(window.runs.notebook_requested, timeout=1000):
        window.runs.add_notebook_runs()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 4, timeout=20000)
    return _ids(window.runs)


def set_runs(qtbot, window, specs):
    """A new comparison of these runs, as File → New comparison or opening a session makes; their ids."""
    names = [spec.name for spec in specs]
    window.controller.replace(window.model.shared, specs)
    qtbot.waitUntil(lambda: not window.controller.busy and [s.name for s in window.model.specs()] == names,
                    timeout=20000)
    assert _names(window.runs) == names
    return _ids(window.runs)


def test_notebook_runs_adds_the_four_presets_in_distinct_colours(qtbot, window):
    panel = window.runs
    ids = notebook(qtbot, window)
    assert len(ids) == 4 and len(set(ids)) == 4
    assert _names(panel) == list(NOTEBOOK_PRESETS) == _row_texts(panel)
    colours = [spec.colour for _, spec in panel.runs()]
    assert len(set(colours)) == 4
    assert panel.spec(ids[2]) == preset_run("momentum", colours[2])
    assert panel.tree.topLevelItem(2).text(1) == "α 0.03 · batch 1 · β 0.9 · 150 ep"
    assert panel.tree.topLevelItem(3).text(1) == "α 0.03 · batch 1 · γ 0.015 · 150 ep"
    # A second click adds four more, with unique names and still distinct colours.
    panel.add_notebook_runs()
    names = _names(panel)
    assert len(names) == 8 and len(set(names)) == 8
    assert "momentum (2)" in names
    assert len({spec.colour for _, spec in panel.runs()}) == 8


SELECTION_LOST = ("after a comparison is replaced (notebook runs over the lone sgd run, New comparison, "
                   "an opened session) no run is selected: Controller.replace selects ids[0] before runs_changed, "
                   "ViewSync.selection_changed -> RunListPanel.select_run finds no row for the new id, the panel emits "
                   "selection_changed(-1) and the controller selects -1 (issue 8, item 2: 'Add: select the run to copy "
                   "first')")


def test_the_notebook_runs_select_the_first(qtbot, window):
    ids = notebook(qtbot, window)
    assert window.runs.selected_run_id() == ids[0] == window.selected_run_id


def test_notebook_runs_button_adds_them(qtbot, window):
    panel = window.runs
    with qtbot.waitSignal(panel.notebook_requested, timeout=1000):
        panel.notebook_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 4, timeout=20000)
    assert _names(panel) == list(NOTEBOOK_PRESETS)
    assert "Ctrl+Shift+N" in panel.notebook_action.toolTip()


def test_add_copies_the_selected_run_with_a_unique_name_and_the_next_colour(qtbot, window):
    panel = window.runs
    ids = set_runs(qtbot, window, [preset_run("momentum", PALETTE[0]), preset_run("sgd", PALETTE[1])])
    panel.select_run(ids[0])
    with qtbot.waitSignal(panel.add_requested, timeout=1000) as requested:
        panel.add_action.trigger()
    assert requested.args == [ids[0]]
    copy_id = panel.selected_run_id()
    assert copy_id not in ids and _ids(panel) == [*ids, copy_id]
    copy = panel.spec(copy_id)
    assert copy.name == "momentum (2)"
    assert copy.colour == PALETTE[2]
    assert copy.training() == panel.spec(ids[0]).training()
    assert panel.add_copy(ids[0]) == ids[0]  # returns the run copied; the new copy is selected
    assert panel.selected_run_id() not in (copy_id, *ids) and panel.spec(panel.selected_run_id()).name == "momentum (3)"


def test_rename_accepts_a_new_name_and_refuses_empty_or_taken_ones(qtbot, window):
    panel = window.runs
    ids = notebook(qtbot, window)
    with qtbot.waitSignal(panel.edit_requested, timeout=1000) as edited:
        panel.rename_run(ids[0], "  per-sample  ")
    assert edited.args == [ids[0], {"name": "per-sample"}]
    assert panel.tree.topLevelItem(0).text(0) == "per-sample"
    assert window.model[ids[0]].spec.name == "per-sample"
    with qtbot.assertNotEmitted(panel.edit_requested):
        with pytest.raises(ValueError, match="name.*another run"):
            panel.rename_run(ids[0], "decay")
        with pytest.raises(ValueError, match="name: must not be empty"):
            panel.rename_run(ids[0], "   ")
    assert _names(panel)[0] == "per-sample"


def test_inline_rename_shows_the_reason_at_the_field(qtbot, window):
    panel = window.runs
    ids = notebook(qtbot, window)
    panel.select_run(ids[1])
    panel.rename_action.trigger()  # F2
    editor = panel.tree.findChild(QLineEdit)
    assert editor is not None and editor.text() == "mini-batch"
    for refused, reason in (("sgd", "another run"), ("  ", "must not be empty")):
        editor.setText(refused)
        with qtbot.assertNotEmitted(panel.edit_requested, wait=50):
            qtbot.keyClick(editor, Qt.Key_Return)
        assert panel.message.isVisible() and reason in panel.message.text()
        assert editor.isVisible()  # still editing, with the refused text to correct
        assert _names(panel)[1] == "mini-batch"
    editor.setText("batches of 32")
    with qtbot.waitSignal(panel.edit_requested, timeout=1000):
        qtbot.keyClick(editor, Qt.Key_Return)
    assert _names(panel)[1] == "batches of 32" and not panel.message.isVisible()
    assert window.model[ids[1]].spec.name == "batches of 32"


def test_recolour_through_the_dialog(qtbot, window, monkeypatch):
    panel = window.runs
    ids = notebook(qtbot, window)
    panel.select_run(ids[1])
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor("#123456")))
    with qtbot.waitSignal(panel.edit_requested, timeout=1000) as edited:
        panel.colour_action.trigger()
    assert edited.args == [ids[1], {"colour": "#123456"}] and panel.spec(ids[1]).colour == "#123456"
    assert window.model[ids[1]].spec == panel.spec(ids[1])
    icon = panel.tree.topLevelItem(1).icon(0).pixmap(14, 14).toImage()
    assert icon.pixelColor(7, 7) == QColor("#123456")
    # Cancelling the dialog changes nothing.
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor()))
    with qtbot.assertNotEmitted(panel.edit_requested):
        panel.colour_action.trigger()
    with pytest.raises(ValueError, match="colour"):
        panel.set_run_colour(ids[0], "red")


def test_remove_with_the_delete_key_selects_the_next_run(qtbot, window):
    panel = window.runs
    ids = notebook(qtbot, window)
    panel.select_run(ids[1])
    panel.tree.setFocus()
    with qtbot.waitSignal(panel.remove_requested, timeout=1000) as removed:
        qtbot.keyClick(panel.tree, Qt.Key_Delete)
    assert removed.args == [ids[1]]
    assert [run_id for run_id, _ in panel.runs()] == [ids[0], ids[2], ids[3]] == window.model.ids()
    assert panel.selected_run_id() == ids[2] == window.selected_run_id
    assert _row_texts(panel) == ["sgd", "momentum", "decay"]


def test_the_last_run_cannot_be_removed_from_the_panel(qtbot, window):
    panel = window.runs
    (only,) = _ids(panel)
    assert not panel.remove_action.isEnabled()
    with qtbot.assertNotEmitted(panel.remove_requested):
        panel.remove_action.triggered.emit()  # as a shortcut still bound to it would
    assert panel.message.isVisible() and "at least one run" in panel.message.text()
    assert [run_id for run_id, _ in panel.runs()] == [only] == window.model.ids()


def test_show_hide_checkbox_emits_edit_requested(qtbot, window):
    panel = window.runs
    ids = notebook(qtbot, window)
    item = panel.tree.topLevelItem(2)
    with qtbot.waitSignal(panel.edit_requested, timeout=1000) as edited:
        item.setCheckState(0, Qt.CheckState.Unchecked)
    assert edited.args == [ids[2], {"visible": False}]
    assert panel.spec(ids[2]).visible is False and window.model[ids[2]].spec.visible is False
    with qtbot.waitSignal(panel.edit_requested, timeout=1000):
        panel.set_run_visible(ids[2], True)
    assert item.checkState(0) == Qt.CheckState.Checked


def test_a_training_change_updates_the_row_without_an_intent(qtbot, window):
    # The Training group edits the selected run through the controller; the list only shows the result.
    panel = window.runs
    ids = notebook(qtbot, window)
    panel.select_run(ids[0])
    with qtbot.assertNotEmitted(panel.edit_requested), qtbot.assertNotEmitted(panel.add_requested), \
            qtbot.assertNotEmitted(panel.remove_requested):
        for name, text in (("learning_rate", "0.5"), ("l2", "0.001"), ("epochs", "40")):
            window.panel.fields[name].edit.setText(text)
    spec = preset_run("sgd", panel.spec(ids[0]).colour).replace(learning_rate=0.5, l2=0.001, epochs=40)
    assert panel.spec(ids[0]) == spec == window.model[ids[0]].spec
    assert _ids(panel) == ids
    assert panel.tree.topLevelItem(0).text(1) == "α 0.5 · batch 1 · λ 0.001 · 40 ep"
    with pytest.raises(ValueError, match="name"):
        window.controller.edit_run(ids[0], name="decay")
    assert panel.spec(ids[0]).name == "sgd"


def test_runs_of_equal_names_are_refused(qtbot, window):
    before = window.runs.runs()
    with pytest.raises(ValueError, match="name='a'"):
        window.controller.replace(window.model.shared, [RunSpec(name="a"), RunSpec(name="a")])
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=20000)
    assert window.runs.runs() == before


def test_selection_reports_minus_one_when_empty(qtbot, window):
    panel = window.runs
    set_runs(qtbot, window, [RunSpec(name="a")])
    assert panel.selected_run_id() != -1
    with qtbot.waitSignal(window.controller.selection_changed, timeout=20000) as selected:
        set_runs(qtbot, window, [])
    # The controller's selection is the truth; the list shows it without sending it back as an intent.
    assert selected.args == [-1] and panel.selected_run_id() == -1 and window.selected_run_id == -1
    assert not panel.add_action.isEnabled()


def test_summary_and_unique_names():
    step = RunSpec(name="s", learning_rate=0.1, batch_size=32, schedule="step", step_every=100, step_factor=0.5)
    assert run_summary(step) == "α 0.1 · batch 32 · ×0.5 every 100 · 150 ep"
    assert unique_name("sgd", ["sgd", "sgd (2)"]) == "sgd (3)"
    assert len(unique_name("x" * 60, ["x" * 60])) == 60


# ---- full batch, selection for Add, list filled anew, colours, presets --------------------------------------------


def _box_point(panel, row):
    """A point on the visibility box of a row, in the tree's viewport."""
    rect = panel.tree.visualItemRect(panel.tree.topLevelItem(row))
    for x in range(rect.left(), rect.left() + 40):
        point = QPoint(x + 3, rect.center().y())  # 3 px inside the box's left edge
        if panel.tree.indexAt(point).isValid() and _on_box(panel, point):
            return point
    raise AssertionError("no visibility box found")


def _on_box(panel, point):
    # The box is where a click toggles the check state (found by trying, in a throw-away copy of the state).
    option = QStyleOptionViewItem()
    index = panel.tree.indexAt(point)
    panel.tree.itemDelegateForColumn(0).initStyleOption(option, index)
    option.rect = panel.tree.visualRect(index)
    box = panel.tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, panel.tree)
    return box.contains(point)


def test_full_batch_is_shown_as_full_never_as_its_number(qtbot, window):
    panel = window.runs
    spec = RunSpec(name="whole", batch_size=FULL_BATCH, learning_rate=0.5)
    set_runs(qtbot, window, [spec])
    item = panel.tree.topLevelItem(0)
    assert run_summary(spec) == "α 0.5 · full batch · 150 ep" == item.text(1)
    assert "batch size = full" in run_tooltip(spec)
    for text in (item.text(1), item.toolTip(0), item.toolTip(1)):
        assert str(FULL_BATCH) not in text and "full" in text
    assert "batch size = 32" in run_tooltip(spec.replace(batch_size=32))


def test_add_copies_the_selected_run_not_the_one_whose_box_was_ticked(qtbot, window):
    panel = window.runs
    ids = set_runs(qtbot, window, notebook_runs())  # sgd, mini-batch, momentum, decay
    decay = ids[3]
    panel.select_run(decay)
    panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Unchecked)  # sgd hidden
    panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Checked)  # and shown again
    assert panel.selected_run_id() == decay == window.selected_run_id
    with qtbot.waitSignal(panel.add_requested, timeout=1000) as requested:
        panel.add_action.trigger()
    assert requested.args == [decay]
    copy_id = panel.selected_run_id()
    assert copy_id not in ids and panel.spec(copy_id).name == "decay (2)"
    assert panel.spec(copy_id).training() == panel.spec(decay).training()


def test_clicking_a_visibility_box_toggles_it_without_selecting_its_run(qtbot, window):
    panel = window.runs
    ids = set_runs(qtbot, window, notebook_runs())
    panel.select_run(ids[3])
    point = _box_point(panel, 0)
    with qtbot.waitSignal(panel.edit_requested, timeout=1000) as edited, \
            qtbot.assertNotEmitted(panel.selection_changed):
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert edited.args == [ids[0], {"visible": False}]
    assert not panel.spec(ids[0]).visible and not window.model[ids[0]].spec.visible
    assert panel.selected_run_id() == ids[3]
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert panel.spec(ids[0]).visible and panel.selected_run_id() == ids[3]
    with qtbot.waitSignal(panel.add_requested, timeout=1000):
        panel.add_action.trigger()
    assert panel.spec(panel.selected_run_id()).name == "decay (2)"
    # A click on the name still selects.
    name = panel.tree.visualItemRect(panel.tree.topLevelItem(1)).center()
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=name)
    assert panel.selected_run_id() == ids[1] == window.selected_run_id


def test_add_and_ctrl_d_work_after_the_list_is_filled_anew(qtbot, window):
    panel = window.runs
    set_runs(qtbot, window, [preset_run("decay", PALETTE[0])])
    ids = set_runs(qtbot, window, [preset_run("momentum", PALETTE[0]), preset_run("sgd", PALETTE[1])])  # New
    assert panel.selected_run_id() == ids[0] and panel.add_action.isEnabled()
    with qtbot.waitSignal(panel.add_requested, timeout=1000):
        panel.add_action.trigger()
    assert not panel.message.isVisible()
    assert _names(panel) == ["momentum", "sgd", "momentum (2)"]
    set_runs(qtbot, window, notebook_runs())  # opening a session
    panel.tree.setFocus()
    with qtbot.waitSignal(panel.add_requested, timeout=1000):
        qtbot.keyClick(panel.tree, Qt.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert _names(panel) == [*NOTEBOOK_PRESETS, "sgd (2)"] and not panel.message.isVisible()


def test_a_new_comparison_selects_its_first_run(qtbot, window):
    # Changed: the panel no longer fills itself; a new comparison (or an opened session) selects its first run,
    # where the old panel selected the run of the same name again.
    panel = window.runs
    ids = set_runs(qtbot, window, notebook_runs())
    panel.select_run(ids[2])  # momentum
    ids = set_runs(qtbot, window, [preset_run("sgd", PALETTE[0]), preset_run("momentum", PALETTE[1])])
    assert panel.selected_run_id() == ids[0] == window.selected_run_id
    ids = set_runs(qtbot, window, [preset_run("decay", PALETTE[0]), preset_run("sgd", PALETTE[1])])
    assert panel.selected_run_id() == ids[0] == window.selected_run_id


@pytest.mark.parametrize("light", ["#ffffff", "#fefefe", "#f0f0f0"])
def test_a_colour_too_light_to_be_seen_is_refused_and_the_old_one_kept(qtbot, window, monkeypatch, light):
    panel = window.runs
    ids = notebook(qtbot, window)
    panel.select_run(ids[1])
    old = panel.spec(ids[1]).colour
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor(light)))
    with qtbot.assertNotEmitted(panel.edit_requested):
        panel.colour_action.trigger()
    assert panel.spec(ids[1]).colour == old == window.model[ids[1]].spec.colour
    assert panel.message.isVisible() and panel.message.text() == colour_error(light)
    assert "colour" in panel.message.text() and "\n" not in panel.message.text()
    with pytest.raises(ValueError, match="colour.*too light"):
        panel.set_run_colour(ids[1], light)


def _choose_preset(window, run_id, preset):
    """Select a run and pick a preset in the Training group, as a user would; the run's name afterwards."""
    window.runs.select_run(run_id)
    index = window.panel.preset.findData(preset)
    window.panel.preset.setCurrentIndex(index)
    window.panel.preset.activated.emit(index)
    return window.model[run_id].spec.name


def test_a_run_named_after_a_preset_takes_the_new_presets_name(qtbot, window):
    panel = window.runs
    ids = set_runs(qtbot, window, [preset_run("sgd", PALETTE[0]), preset_run("decay", PALETTE[1]),
                                   RunSpec(name="sgd (2)", colour=PALETTE[2]),
                                   RunSpec(name="my run", colour=PALETTE[3])])
    # The panel's preset choice renames the run through the controller (no edit_requested from the list).
    assert _choose_preset(window, ids[0], "momentum") == "momentum"
    assert panel.spec(ids[0]).name == "momentum"
    # Names stay unique: "decay" is taken.
    assert _choose_preset(window, ids[2], "decay") == "decay (2)"
    with qtbot.assertNotEmitted(panel.edit_requested):
        assert _choose_preset(window, ids[3], "decay") == "my run"  # the user's own name stays
        assert _choose_preset(window, ids[1], "decay") == "decay"
    assert _names(panel) == ["momentum", "decay", "decay (2)", "my run"] == _row_texts(panel)
    assert renamed_for_preset("sgd (3)", "decay", ["sgd (3)"], NOTEBOOK_PRESETS) == "decay"
    assert renamed_for_preset("sgd (x)", "decay", [], NOTEBOOK_PRESETS) == "sgd (x)"
