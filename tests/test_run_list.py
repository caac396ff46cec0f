"""The run list: notebook runs, copies, renaming, colours, removal and visibility (pytest-qt, offscreen)."""

import pytest
from helpers import shown
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLineEdit

from nnviz.core.comparison import NOTEBOOK_PRESETS, PALETTE, RunSpec, preset_run
from nnviz.gui.run_list import RunListPanel, run_summary, unique_name


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
