"""What a new user hit in the window (issue 8), each driven as a user would, through the shared window fixture."""

import numpy as np
import pytest
from helpers import config_of, ready, run_to_end
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nnviz.core.comparison import notebook_runs, preset_shared
from nnviz.core.session import save_session
from nnviz.core.training import preset_config

SMALL = {"n_samples": 200, "epochs": 20}


def notebook(qtbot, window, epochs=8):
    """The notebook's four runs, each with a short epoch target."""
    window.runs.notebook_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 4, timeout=20000)
    for run in window.model:
        window.controller.edit_run(run.id, epochs=epochs)
    return window.model.ids()


def test_add_works_after_a_new_comparison_and_after_opening_a_session(qtbot, window, tmp_path):
    window.new_action.trigger()
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    window.runs.add_action.trigger()
    qtbot.waitUntil(lambda: len(window.model) == 2)
    assert not window.runs.message.isVisible()
    path = tmp_path / "two.nnviz.json"
    save_session(path, preset_shared().replace(n_samples=100), notebook_runs()[:2])
    assert window.open_session_from(path)
    qtbot.waitUntil(lambda: ready(window) and [s.name for s in window.model.specs()] == ["sgd", "mini-batch"])
    window.runs.tree.setFocus()
    qtbot.keyClick(window.runs.tree, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.model) == 3)
    assert "select the run" not in window.runs.message.text()


def test_add_copies_the_selected_run_not_the_one_whose_box_was_ticked(qtbot, window):
    notebook(qtbot, window)
    decay = window.model.by_name("decay").id
    window.runs.select_run(decay)
    qtbot.waitUntil(lambda: window.selected_run_id == decay)
    item = window.runs.tree.topLevelItem(0)  # sgd
    item.setCheckState(0, Qt.CheckState.Unchecked)
    qtbot.waitUntil(lambda: not window.model.by_name("sgd").spec.visible)
    assert window.selected_run_id == decay
    window.runs.add_action.trigger()
    qtbot.waitUntil(lambda: len(window.model) == 5)
    copy = window.model.specs()[-1]
    assert copy.name == "decay (2)" and copy.training() == window.model.by_name("decay").spec.training()


def test_live_after_scrubbing_clears_the_showing_epoch_message(qtbot, window):
    run_to_end(qtbot, window)
    window.timeline.set_epoch(5)
    qtbot.waitUntil(lambda: window.controller.shown_epoch == 5)
    assert "showing epoch 5" in window.message.text()
    window.timeline.set_live(True)
    qtbot.waitUntil(lambda: window.controller.shown_epoch is None)
    assert "showing epoch" not in window.message.text()
    assert window.epoch_label.text() == "epoch 20 / 20"


def test_the_test_legend_goes_when_the_test_fraction_goes_back_to_0(qtbot, window):
    field = window.panel.fields["test_fraction"]
    field.edit.setText("0.25")
    window.panel.flush()
    qtbot.waitUntil(lambda: ready(window) and window.model.has_test, timeout=10000)
    assert any("test" in label for label in window.boundary.legend_labels())
    field.edit.setText("0")
    window.panel.flush()
    qtbot.waitUntil(lambda: ready(window) and not window.model.has_test, timeout=10000)
    assert not any("test" in label for label in window.boundary.legend_labels())


def test_a_diverged_run_says_so_in_full_and_its_map_does_not_show_a_cost_from_before(qtbot, window):
    window.panel.fields["learning_rate"].edit.setText("100")
    qtbot.waitUntil(lambda: config_of(window).learning_rate == 100)
    run_to_end(qtbot, window, expected="diverged")
    run = window.model[window.selected_run_id]
    text = window.message.text()
    assert text.endswith("lower the learning rate") and f"diverged at epoch {run.trainer.diverged_epoch}" in text
    assert run.trainer.divergence_reason in window.message.toolTip()  # the details, uncut
    assert window.message.fontMetrics().horizontalAdvance(text) <= window.message.width()  # not cut off
    assert "diverged" in window.boundary.title


def test_full_batch_is_full_in_the_run_list(qtbot, window):
    window.panel.full_batch.setChecked(True)
    window.panel.flush()
    qtbot.waitUntil(lambda: config_of(window).batch_size == 1_000_000)
    row = window.runs.tree.topLevelItem(0)
    assert "full batch" in row.text(1) and "1000000" not in row.text(1) and "1000000" not in row.toolTip(0)


def test_at_the_minimum_size_the_panes_and_the_status_labels_do_not_cover_each_other(qtbot, make_window):
    window = make_window(preset_config("sgd", **SMALL))
    window.resize(window.minimumSize())
    qtbot.wait(200)
    assert (window.width(), window.height()) == (window.minimumWidth(), window.minimumHeight())
    assert window.minimumWidth() >= 800 and window.minimumHeight() >= 560
    left = window.left_splitter.geometry()
    right = window.splitter.geometry()
    assert left.right() < right.left()  # side by side, not covering
    assert window.maps.height() >= 150 and window.curves.height() >= 150
    for label in (window.epoch_label, window.cost_label, window.accuracy_label, window.lr_label):
        assert label.isVisible() and label.width() >= label.fontMetrics().horizontalAdvance(label.text())


def test_step_on_a_long_epoch_disables_step_and_pause_stops_it_part_way(qtbot, make_window):
    config = preset_config("sgd", dataset="moons", n_samples=4000, shape=(2, 256, 256, 256, 1), epochs=3)
    window = make_window(config)
    window.step_action.trigger()
    run = window.model[window.selected_run_id]
    qtbot.waitUntil(lambda: run.trainer.progress > 0.02, timeout=60000)
    assert not window.step_action.isEnabled()  # training that step
    assert "paused" not in window.message.text()
    window.start_action.trigger()  # Pause (the start action pauses while a step trains)
    qtbot.waitUntil(lambda: window.step_action.isEnabled(), timeout=5000)
    qtbot.wait(200)  # the chunk under way (a few ms) ends
    progress = run.trainer.progress
    qtbot.wait(300)
    assert run.epoch == 0 and run.trainer.in_epoch and run.trainer.progress == progress < 0.9
    window.reset_action.trigger()
    assert window.model[window.selected_run_id].epoch == 0 and not window.model[window.selected_run_id].trainer.in_epoch


def test_typing_a_million_samples_builds_them_once_off_the_gui_thread(qtbot, window):
    messages = []
    window.controller.message.connect(lambda text, kind: messages.append(text))
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    edit = window.panel.fields["n_samples"].edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "1000000")
    qtbot.waitUntil(lambda: window.controller.busy != "", timeout=5000)
    ticks.clear()
    qtbot.waitUntil(lambda: ready(window) and len(window.model.data) == 1_000_000, timeout=60000)
    timer.stop()
    built = [text for text in messages if text.startswith("preparing")]
    assert built == ["preparing 1,000,000 points and the network…"]  # debounced: seven keystrokes, one build
    assert len(ticks) >= 2  # the event loop kept running while the points were built


def test_a_session_saved_with_histories_reopens_with_its_maps_and_timeline(qtbot, window, make_window, tmp_path):
    run_to_end(qtbot, window)
    final = window.boundary.probabilities.copy()
    path = tmp_path / "with.nnviz.json"
    assert window.save_session_to(path, histories=True)
    other = make_window(None)
    assert other.open_session_from(path)
    qtbot.waitUntil(lambda: ready(other) and not other.model.restoring and other.epoch == 20, timeout=30000)
    assert [run.restored for run in other.model] == [True]
    assert other.timeline.max_epoch() == 20
    np.testing.assert_allclose(other.boundary.probabilities, final, atol=1e-6)
    assert "retrained" in other.message.text() or "opened" in other.message.text()


def test_message_boxes_are_freed_once_closed(qtbot, window, tmp_path):
    bad = tmp_path / "bad.nnviz.json"
    bad.write_text("{ not json")
    for _ in range(20):
        assert not window.open_session_from(bad)
        box = window.alert
        assert box is not None and "bad.nnviz.json" in box.text()
        box.close()
        qtbot.waitUntil(lambda: window.alert is None)
    qtbot.wait(50)
    assert not window.findChildren(QMessageBox)


def test_a_huge_number_in_a_session_is_refused_in_one_line(qtbot, window, tmp_path):
    path = tmp_path / "huge.nnviz.json"
    save_session(path, preset_shared(), notebook_runs()[:1])
    path.write_text(path.read_text().replace('"learning_rate": 0.01', '"learning_rate": ' + "9" * 400))
    assert not window.open_session_from(path)
    text = window.alert.text()
    assert "learning_rate" in text and "\n" not in text and len(text) < 300


def test_new_comparison_asks_before_throwing_trained_epochs_away(qtbot, make_window):
    window = make_window(preset_config("sgd", **SMALL), confirm=True)
    asked = []
    window.documents.ask = lambda text: asked.append(text) or False
    run_to_end(qtbot, window)
    window.new_action.trigger()
    assert asked and "20 trained epochs" in asked[0]
    assert window.model[window.selected_run_id].epoch == 20  # kept: the user said no
    window.documents.ask = lambda text: True
    window.new_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and window.model[window.selected_run_id].epoch == 0, timeout=10000)


def test_a_restart_can_be_undone(qtbot, window):
    run_to_end(qtbot, window)
    before = window.model[window.selected_run_id].history.column("cost").tolist()
    window.reset_action.trigger()
    assert window.epoch == 0 and window.undo_action.isEnabled()
    window.undo_action.trigger()
    qtbot.waitUntil(lambda: window.epoch == 20)
    assert window.model[window.selected_run_id].history.column("cost").tolist() == before


def test_the_whole_comparison_comes_back_at_the_next_start(qtbot, make_window, settings):
    window = make_window(preset_config("sgd", **SMALL))
    window.runs.notebook_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 4, timeout=20000)
    specs = window.model.specs()
    window.close()
    again = make_window(None, settings=settings)
    assert again.model.specs() == specs and again.model.shared == window.model.shared


def test_the_default_speed_is_watchable(make_window, tmp_path):
    from PySide6.QtCore import QSettings

    window = make_window(None, settings=QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat))
    assert window.speed.currentText() == "50 epochs/s"
    assert window.speed.findText("as fast as possible") >= 0


def test_a_preset_renames_a_run_named_after_a_preset_and_keeps_the_data(qtbot, window):
    index = window.panel.preset.findData("momentum")
    window.panel.preset.setCurrentIndex(index)
    window.panel.preset.activated.emit(index)
    qtbot.waitUntil(lambda: window.model[window.selected_run_id].spec.name == "momentum")
    assert window.model[window.selected_run_id].spec.momentum == 0.9
    assert window.model.shared.n_samples == 200


def test_exporting_the_csv_runs_off_the_gui_thread(qtbot, window, tmp_path, monkeypatch):
    run_to_end(qtbot, window)
    path = tmp_path / "out.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.export_csv_action.trigger()
    qtbot.waitUntil(lambda: path.exists() and window.message.text().startswith("saved"), timeout=10000)
    assert path.read_text().splitlines()[0].startswith("run,epoch")


@pytest.mark.parametrize("key", [Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_R])
def test_space_s_and_r_work_with_the_focus_in_the_run_list(qtbot, window, key):
    window.runs.tree.setFocus()
    if key == Qt.Key.Key_R:
        window.step_action.trigger()
        qtbot.waitUntil(lambda: window.epoch == 1)
    qtbot.keyClick(window.runs.tree, key)
    if key == Qt.Key.Key_Space:
        qtbot.waitUntil(lambda: window.epoch > 0 or not window.playing, timeout=5000)
        assert window.epoch > 0 or window.playing
    elif key == Qt.Key.Key_S:
        qtbot.waitUntil(lambda: window.epoch == 1, timeout=5000)
    else:
        assert window.epoch == 0


def test_selecting_a_run_while_data_are_built_shows_its_own_settings(qtbot, window):
    notebook(qtbot, window)
    momentum, sgd = window.model.by_name("momentum").id, window.model.by_name("sgd").id
    window.runs.select_run(momentum)
    qtbot.waitUntil(lambda: window.selected_run_id == momentum)
    window.panel.fields["n_samples"].edit.setText("400000")
    window.panel.flush()
    assert window.controller.busy
    window.runs.select_run(sgd)
    qtbot.waitUntil(lambda: window.selected_run_id == sgd)
    assert window.panel.fields["momentum"].edit.text() == "0"  # sgd's, not momentum's 0.9
    window.panel.fields["epochs"].edit.setText("300")
    qtbot.waitUntil(lambda: ready(window), timeout=60000)
    assert window.model.by_name("sgd").spec.momentum == 0.0 and window.model.by_name("sgd").spec.epochs == 300


def test_a_new_comparison_fits_the_curves_again_after_a_zoom(qtbot, window):
    run_to_end(qtbot, window)
    window.curves.plots["cost"].setXRange(10, 20, padding=0)  # the user zooms: the view stops following
    window.new_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and window.model[window.selected_run_id].epoch == 0, timeout=10000)
    (x_min, x_max), _ = window.curves.plots["cost"].viewRange()
    assert x_min <= 0 < 150 <= x_max  # 0 to the new run's target again


def test_cancel_keeps_the_old_file(qtbot, window, tmp_path, monkeypatch):
    run_to_end(qtbot, window)
    path = tmp_path / "old.nnviz.json"
    path.write_text("OLD")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    original = window.documents.run_in_background

    def cancel_at_once(title, work, done):
        return original(title, lambda progress, cancelled: work(progress, lambda: True), done)

    window.documents.run_in_background = cancel_at_once
    window.save_histories_action.trigger()
    qtbot.waitUntil(lambda: "cancelled" in window.message.text(), timeout=10000)
    assert path.read_text() == "OLD"


def test_the_unsaved_question_follows_what_the_file_holds(qtbot, make_window, tmp_path):
    window = make_window(preset_config("sgd", **SMALL), confirm=True)
    asked = []
    window.documents.ask = lambda text: asked.append(text) or False
    run_to_end(qtbot, window)
    assert window.save_session_to(tmp_path / "plain.nnviz.json")  # settings only: the epochs are not in it
    assert not window.documents.may_discard("quitting") and len(asked) == 1
    assert window.save_session_to(tmp_path / "full.nnviz.json", histories=True)
    assert window.documents.may_discard("quitting") and len(asked) == 1  # they are in the file now
    other = make_window(None, confirm=True)
    other.documents.ask = lambda text: asked.append(text) or False
    got = []
    other.controller.message.connect(lambda t, k: got.append(t))
    assert other.open_session_from(tmp_path / "full.nnviz.json")
    qtbot.waitUntil(lambda: ready(other) and not other.model.restoring and other.epoch == 20, timeout=30000)
    assert "reproduces" in other.message.text(), got
    assert other.documents.may_discard("quitting") and len(asked) == 1  # retrained from the file: nothing to lose
