"""The run list: notebook runs, copies, renaming, colours, removal and visibility (pytest-qt, offscreen)."""

import pytest
from helpers import shown
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLineEdit, QStyle, QStyleOptionViewItem

from nnviz.core.colours import colour_error
from nnviz.core.comparison import NOTEBOOK_PRESETS, PALETTE, RunSpec, notebook_runs, preset_run
from nnviz.core.text import FULL_BATCH
from nnviz.gui.run_list import RunListPanel, renamed_for_preset, run_summary, run_tooltip, unique_name


@pytest.fixture
def panel(qtbot):
    return shown(qtbot, RunListPanel(), 420, 300)


def _names(panel):
    return [spec.name for _, spec in panel.runs()]


def _row_texts(panel):
    return [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]


def test_notebook_runs_adds_the_four_presets_in_distinct_colours(qtbot, panel):
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        ids = panel.add_notebook_runs()
    assert len(ids) == 4 and len(set(ids)) == 4
    assert _names(panel) == list(NOTEBOOK_PRESETS) == _row_texts(panel)
    colours = [spec.colour for _, spec in panel.runs()]
    assert len(set(colours)) == 4
    assert panel.spec(ids[2]) == preset_run("momentum", colours[2])
    assert panel.tree.topLevelItem(2).text(1) == "α 0.03 · batch 1 · β 0.9 · 150 ep"
    assert panel.tree.topLevelItem(3).text(1) == "α 0.03 · batch 1 · γ 0.015 · 150 ep"
    assert panel.selected_run_id() == ids[0]
    # A second click adds four more, with unique names and still distinct colours.
    panel.add_notebook_runs()
    names = _names(panel)
    assert len(names) == 8 and len(set(names)) == 8
    assert "momentum (2)" in names
    assert len({spec.colour for _, spec in panel.runs()}) == 8


def test_notebook_runs_button_adds_them(qtbot, panel):
    panel.notebook_action.trigger()
    assert _names(panel) == list(NOTEBOOK_PRESETS)
    assert "Ctrl+Shift+N" in panel.notebook_action.toolTip()


def test_add_copies_the_selected_run_with_a_unique_name_and_the_next_colour(qtbot, panel):
    ids = panel.set_runs([preset_run("momentum", PALETTE[0]), preset_run("sgd", PALETTE[1])])
    panel.select_run(ids[0])
    with qtbot.waitSignal(panel.runs_changed, timeout=1000), \
            qtbot.waitSignal(panel.selection_changed, timeout=1000) as selected:
        panel.add_action.trigger()
    copy_id = selected.args[0]
    copy = panel.spec(copy_id)
    assert copy.name == "momentum (2)"
    assert copy.colour == PALETTE[2]
    assert copy.training() == panel.spec(ids[0]).training()
    assert panel.add_copy(ids[0]) != copy_id and panel.spec(panel.selected_run_id()).name == "momentum (3)"


def test_rename_accepts_a_new_name_and_refuses_empty_or_taken_ones(qtbot, panel):
    ids = panel.add_notebook_runs()
    with qtbot.waitSignal(panel.run_edited, timeout=1000) as edited:
        panel.rename_run(ids[0], "  per-sample  ")
    assert edited.args[0] == ids[0] and edited.args[1].name == "per-sample"
    assert panel.tree.topLevelItem(0).text(0) == "per-sample"
    with qtbot.assertNotEmitted(panel.run_edited):
        with pytest.raises(ValueError, match="name.*another run"):
            panel.rename_run(ids[0], "decay")
        with pytest.raises(ValueError, match="name: must not be empty"):
            panel.rename_run(ids[0], "   ")
    assert _names(panel)[0] == "per-sample"


def test_inline_rename_shows_the_reason_at_the_field(qtbot, panel):
    ids = panel.add_notebook_runs()
    panel.select_run(ids[1])
    panel.rename_action.trigger()  # F2
    editor = panel.tree.findChild(QLineEdit)
    assert editor is not None and editor.text() == "mini-batch"
    for refused, reason in (("sgd", "another run"), ("  ", "must not be empty")):
        editor.setText(refused)
        with qtbot.assertNotEmitted(panel.run_edited, wait=50):
            qtbot.keyClick(editor, Qt.Key_Return)
        assert panel.message.isVisible() and reason in panel.message.text()
        assert editor.isVisible()  # still editing, with the refused text to correct
        assert _names(panel)[1] == "mini-batch"
    editor.setText("batches of 32")
    with qtbot.waitSignal(panel.run_edited, timeout=1000):
        qtbot.keyClick(editor, Qt.Key_Return)
    assert _names(panel)[1] == "batches of 32" and not panel.message.isVisible()


def test_recolour_through_the_dialog(qtbot, panel, monkeypatch):
    ids = panel.add_notebook_runs()
    panel.select_run(ids[1])
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor("#123456")))
    with qtbot.waitSignal(panel.run_edited, timeout=1000) as edited:
        panel.colour_action.trigger()
    assert edited.args == [ids[1], panel.spec(ids[1])] and panel.spec(ids[1]).colour == "#123456"
    icon = panel.tree.topLevelItem(1).icon(0).pixmap(14, 14).toImage()
    assert icon.pixelColor(7, 7) == QColor("#123456")
    # Cancelling the dialog changes nothing.
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor()))
    with qtbot.assertNotEmitted(panel.run_edited):
        panel.colour_action.trigger()
    with pytest.raises(ValueError, match="colour"):
        panel.set_run_colour(ids[0], "red")


def test_remove_with_the_delete_key_selects_the_next_run(qtbot, panel):
    ids = panel.add_notebook_runs()
    panel.select_run(ids[1])
    panel.tree.setFocus()
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        qtbot.keyClick(panel.tree, Qt.Key_Delete)
    assert [run_id for run_id, _ in panel.runs()] == [ids[0], ids[2], ids[3]]
    assert panel.selected_run_id() == ids[2]
    assert _row_texts(panel) == ["sgd", "momentum", "decay"]


def test_the_last_run_cannot_be_removed_from_the_panel(qtbot, panel):
    (only,) = panel.set_runs([preset_run("sgd")])
    assert not panel.remove_action.isEnabled()
    with qtbot.assertNotEmitted(panel.runs_changed):
        panel._remove_selected()
    assert panel.message.isVisible() and "at least one run" in panel.message.text()
    assert [run_id for run_id, _ in panel.runs()] == [only]


def test_show_hide_checkbox_emits_run_edited(qtbot, panel):
    ids = panel.add_notebook_runs()
    item = panel.tree.topLevelItem(2)
    with qtbot.waitSignal(panel.run_edited, timeout=1000) as edited:
        item.setCheckState(0, Qt.CheckState.Unchecked)
    assert edited.args[0] == ids[2] and edited.args[1].visible is False
    assert panel.spec(ids[2]).visible is False
    with qtbot.waitSignal(panel.run_edited, timeout=1000):
        panel.set_run_visible(ids[2], True)
    assert item.checkState(0) == Qt.CheckState.Checked


def test_set_run_spec_updates_the_row_without_a_signal(qtbot, panel):
    ids = panel.add_notebook_runs()
    spec = panel.spec(ids[0]).replace(learning_rate=0.5, l2=0.001, epochs=40)
    with qtbot.assertNotEmitted(panel.run_edited), qtbot.assertNotEmitted(panel.runs_changed):
        panel.set_run_spec(ids[0], spec)
    assert panel.spec(ids[0]) == spec
    assert panel.tree.topLevelItem(0).text(1) == "α 0.5 · batch 1 · λ 0.001 · 40 ep"
    with pytest.raises(ValueError, match="name"):
        panel.set_run_spec(ids[0], spec.replace(name="decay"))


def test_set_runs_refuses_equal_names_and_selection_reports_minus_one_when_empty(qtbot, panel):
    with pytest.raises(ValueError, match="name='a'"):
        panel.set_runs([RunSpec(name="a"), RunSpec(name="a")])
    assert panel.runs() == []
    panel.set_runs([RunSpec(name="a")])
    assert panel.selected_run_id() != -1
    with qtbot.waitSignal(panel.selection_changed, timeout=1000) as selected:
        panel.set_runs([])
    assert selected.args == [-1] and panel.selected_run_id() == -1
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


def test_full_batch_is_shown_as_full_never_as_its_number(qtbot, panel):
    spec = RunSpec(name="whole", batch_size=FULL_BATCH, learning_rate=0.5)
    (run_id,) = panel.set_runs([spec])
    item = panel.tree.topLevelItem(0)
    assert run_summary(spec) == "α 0.5 · full batch · 150 ep" == item.text(1)
    assert "batch size = full" in run_tooltip(spec)
    for text in (item.text(1), item.toolTip(0), item.toolTip(1)):
        assert str(FULL_BATCH) not in text and "full" in text
    assert "batch size = 32" in run_tooltip(spec.replace(batch_size=32))


def test_add_copies_the_selected_run_not_the_one_whose_box_was_ticked(qtbot, panel):
    ids = panel.set_runs(notebook_runs())  # sgd, mini-batch, momentum, decay
    decay = ids[3]
    panel.select_run(decay)
    panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Unchecked)  # sgd hidden
    panel.tree.topLevelItem(0).setCheckState(0, Qt.CheckState.Checked)  # and shown again
    assert panel.selected_run_id() == decay
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        panel.add_action.trigger()
    copy_id = panel.selected_run_id()
    assert copy_id not in ids and panel.spec(copy_id).name == "decay (2)"
    assert panel.spec(copy_id).training() == panel.spec(decay).training()


def test_clicking_a_visibility_box_toggles_it_without_selecting_its_run(qtbot, panel):
    ids = panel.set_runs(notebook_runs())
    panel.select_run(ids[3])
    point = _box_point(panel, 0)
    with qtbot.waitSignal(panel.run_edited, timeout=1000) as edited, \
            qtbot.assertNotEmitted(panel.selection_changed):
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert edited.args[0] == ids[0] and edited.args[1].visible is False
    assert panel.selected_run_id() == ids[3]
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert panel.spec(ids[0]).visible and panel.selected_run_id() == ids[3]
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        panel.add_action.trigger()
    assert panel.spec(panel.selected_run_id()).name == "decay (2)"
    # A click on the name still selects.
    name = panel.tree.visualItemRect(panel.tree.topLevelItem(1)).center()
    qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=name)
    assert panel.selected_run_id() == ids[1]


def test_add_and_ctrl_d_work_after_the_list_is_filled_anew(qtbot, panel):
    panel.set_runs([preset_run("decay", PALETTE[0])])
    ids = panel.set_runs([preset_run("momentum", PALETTE[0]), preset_run("sgd", PALETTE[1])])  # New comparison
    assert panel.selected_run_id() == ids[0] and panel.add_action.isEnabled()
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        panel.add_action.trigger()
    assert not panel.message.isVisible()
    assert _names(panel) == ["momentum", "sgd", "momentum (2)"]
    panel.set_runs(notebook_runs())  # opening a session
    panel.tree.setFocus()
    with qtbot.waitSignal(panel.runs_changed, timeout=1000):
        qtbot.keyClick(panel.tree, Qt.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert _names(panel) == [*NOTEBOOK_PRESETS, "sgd (2)"] and not panel.message.isVisible()


def test_set_runs_selects_the_run_of_the_same_name_again_else_the_first(qtbot, panel):
    panel.set_runs(notebook_runs())
    panel.select_run(panel.runs()[2][0])  # momentum
    ids = panel.set_runs([preset_run("sgd", PALETTE[0]), preset_run("momentum", PALETTE[1])])
    assert panel.selected_run_id() == ids[1]
    ids = panel.set_runs([preset_run("decay", PALETTE[0]), preset_run("sgd", PALETTE[1])])
    assert panel.selected_run_id() == ids[0]


@pytest.mark.parametrize("light", ["#ffffff", "#fefefe", "#f0f0f0"])
def test_a_colour_too_light_to_be_seen_is_refused_and_the_old_one_kept(qtbot, panel, monkeypatch, light):
    ids = panel.add_notebook_runs()
    panel.select_run(ids[1])
    old = panel.spec(ids[1]).colour
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args, **kw: QColor(light)))
    with qtbot.assertNotEmitted(panel.run_edited):
        panel.colour_action.trigger()
    assert panel.spec(ids[1]).colour == old
    assert panel.message.isVisible() and panel.message.text() == colour_error(light)
    assert "colour" in panel.message.text() and "\n" not in panel.message.text()
    with pytest.raises(ValueError, match="colour.*too light"):
        panel.set_run_colour(ids[1], light)


def test_a_run_named_after_a_preset_takes_the_new_presets_name(qtbot, panel):
    ids = panel.set_runs([preset_run("sgd", PALETTE[0]), preset_run("decay", PALETTE[1]),
                          RunSpec(name="sgd (2)", colour=PALETTE[2]), RunSpec(name="my run", colour=PALETTE[3])])
    with qtbot.waitSignal(panel.run_edited, timeout=1000) as edited:
        assert panel.rename_for_preset(ids[0], "momentum") == "momentum"
    assert edited.args[0] == ids[0] and edited.args[1].name == "momentum"
    # Names stay unique: "decay" is taken.
    assert panel.rename_for_preset(ids[2], "decay") == "decay (2)"
    with qtbot.assertNotEmitted(panel.run_edited):
        assert panel.rename_for_preset(ids[3], "decay") == "my run"  # the user's own name stays
        assert panel.rename_for_preset(ids[1], "decay") == "decay"
    assert _names(panel) == ["momentum", "decay", "decay (2)", "my run"] == _row_texts(panel)
    assert renamed_for_preset("sgd (3)", "decay", ["sgd (3)"], NOTEBOOK_PRESETS) == "decay"
    assert renamed_for_preset("sgd (x)", "decay", [], NOTEBOOK_PRESETS) == "sgd (x)"
