"""The window comparing runs (pytest-qt, offscreen): the notebook runs trained side by side from one start,
the timeline, small maps, sessions and exports. Small data and few epochs."""

import csv
import io
import json

import numpy as np
import pyqtgraph as pg
import pytest
from helpers import ROOT, config_of, curve, ready, run_main
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from nnviz.core.comparison import TRAINING_FIELDS, RunSpec, notebook_runs, preset_shared
from nnviz.core.grid import GridEvaluator
from nnviz.core.session import SessionError, load_session, parse_session, save_session
from nnviz.core.training import Trainer, preset_config
from nnviz.gui.window_views import curve_key

SIZE = (1300, 850)
EPOCHS = {"sgd": 12, "mini-batch": 40, "momentum": 12, "decay": 12}


def comparison_window(make_window):
    """A window on the sgd preset (150 epochs) with 200 points, a little larger than the default."""
    return make_window(preset_config("sgd", n_samples=200), size=SIZE)


def run_ids(window):
    return [run.id for run in window.model]


def at_epoch(window, epoch, ids=None):
    """Every run (or those of ``ids``) has trained to ``epoch`` and the curves show it."""
    ids = run_ids(window) if ids is None else ids
    return all(window.model[r].epoch == epoch and len(curve(window, r)["epoch"]) == epoch + 1 for r in ids)


def with_notebook_runs(qtbot, window):
    """The notebook runs, each given a short epoch target through the panel (as a user would)."""
    window.runs.notebook_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and [s.name for s in window.model.specs()] == list(EPOCHS), timeout=20000)
    ids = [run_id for run_id, _ in window.runs.runs()]
    for run_id, spec in window.runs.runs():
        window.runs.select_run(run_id)
        window.panel.fields["epochs"].edit.setText(str(EPOCHS[spec.name]))
    qtbot.waitUntil(lambda: ready(window) and all(config_of(window, r).epochs == EPOCHS[window.model[r].spec.name]
                                                  for r in ids), timeout=20000)
    return ids


def train_to_end(qtbot, window):
    with qtbot.waitSignal(window.run_ended, timeout=60000) as blocker:
        window.start_action.trigger()
    return blocker.args[0]


def marker(window, plot="cost"):
    """The vertical epoch marker of a curves plot (an InfiniteLine among the plot's items)."""
    (line,) = [item for item in window.curves.plots[plot].items
               if isinstance(item, pg.InfiniteLine) and item.angle == 90]
    return line


def cost_curve(window, run_id):
    """The cost curve the plot draws for a run (the legend's item of the run's name)."""
    name = window.model[run_id].spec.name
    (item,) = [sample.item for sample, label in window.curves.legend.items if label.text == name]
    assert item in window.curves.plots["cost"].listDataItems()
    return item


def test_notebook_runs_replace_the_lone_sgd_run_and_train_like_separate_trainers(qtbot, make_window):
    window = comparison_window(make_window)
    assert [spec.name for spec in window.runs.specs()] == ["sgd"]
    ids = with_notebook_runs(qtbot, window)
    assert [spec.name for spec in window.runs.specs()] == ["sgd", "mini-batch", "momentum", "decay"]
    assert window.maps.large_run_id == -1 and window.maps.grid_shape[0] * window.maps.grid_shape[1] >= 4
    assert window.curves.legend.isVisible()
    assert train_to_end(qtbot, window) == "finished"
    shared = window.model.shared
    for run_id in ids:
        spec = window.runs.spec(run_id)
        assert spec.epochs == EPOCHS[spec.name]
        expected = list(Trainer(spec.config(shared)))
        data = window.curves.data(curve_key(run_id))
        assert data["epoch"].astype(int).tolist() == list(range(spec.epochs + 1))
        for column in ("cost", "accuracy", "learning_rate", "updates", "samples"):
            assert data[column].tolist() == [getattr(r, column) for r in expected], (spec.name, column)
        assert window.histories()[spec.name].column("cost").tolist() == [r.cost for r in expected]
    assert window.message.text().startswith("finished: 4 runs")


def test_notebook_runs_again_add_four_more_and_the_status_says_so(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    assert train_to_end(qtbot, window) == "finished"
    # A second click adds the four again (the list is no longer the lone start run). New: the four new runs
    # start at epoch 0 and the others go on where they are (they used to restart too).
    window.runs.notebook_action.trigger()
    assert len(window.runs.runs()) == 8
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    new = [run_id for run_id, _ in window.runs.runs() if run_id not in ids]
    assert len(new) == 4 and all(window.model[r].epoch == 0 for r in new)
    assert [window.model[r].epoch for r in ids] == [EPOCHS[window.model[r].spec.name] for r in ids]
    assert "8 runs" in window.message.text()


def test_every_run_starts_from_the_same_weights_and_cost(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    starts = [window.model.params_at(run_id, 0) for run_id in ids]
    assert all(epoch == 0 for epoch, _ in starts)
    for _, params in starts[1:]:
        np.testing.assert_array_equal(params, starts[0][1])
    costs = {window.curves.data(curve_key(run_id))["cost"][0] for run_id in ids}
    assert len(costs) == 1
    window.step_action.trigger()
    qtbot.waitUntil(lambda: at_epoch(window, 1, ids), timeout=20000)
    after = [window.model.params_at(run_id, 1)[1] for run_id in ids]
    assert not np.array_equal(after[0], after[1])  # then each strategy goes its own way


def test_the_training_group_edits_the_selected_run_only(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    for epoch in (1, 2):  # Step waits for a step under way (item 10): one press an epoch
        qtbot.waitUntil(window.step_action.isEnabled, timeout=20000)
        window.step_action.trigger()
        qtbot.waitUntil(lambda e=epoch: at_epoch(window, e, ids), timeout=20000)
    window.runs.select_run(ids[2])
    assert window.panel.fields["momentum"].edit.text() == "0.9"
    assert "momentum" in window.panel.training_title()  # the preset box: see the test below
    window.panel.fields["learning_rate"].edit.setText("0.05")  # live: from the next epoch, this run only
    window.step_action.trigger()
    qtbot.waitUntil(lambda: at_epoch(window, 3, ids), timeout=20000)
    rates = {r: window.curves.data(curve_key(r))["learning_rate"].tolist() for r in ids}
    assert rates[ids[2]] == [0.03] * 3 + [0.05]
    assert rates[ids[0]] == [0.01] * 4
    assert window.runs.spec(ids[2]).learning_rate == 0.05
    # The batch size changes what an epoch is, and the status bar says so. New: only the run it touches
    # restarts at epoch 0 (it used to restart every run); the others stay at epoch 3.
    window.panel.fields["batch_size"].edit.setText("8")
    assert "batch size" in window.message.text() and "epoch 0" in window.message.text()
    qtbot.waitUntil(lambda: ready(window) and at_epoch(window, 0, [ids[2]]), timeout=20000)
    assert at_epoch(window, 3, [ids[0], ids[1], ids[3]])
    assert window.runs.spec(ids[2]).batch_size == 8 and window.runs.spec(ids[0]).batch_size == 1


def test_selecting_a_run_shows_its_preset_whatever_its_epoch_target(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)  # epoch targets of 12 and 40, not the presets' 150
    window.runs.select_run(ids[2])
    assert window.panel.fields["momentum"].edit.text() == "0.9"
    assert window.panel.preset.currentData() == "momentum"


def test_scrubbing_the_timeline_shows_each_runs_snapshot_of_that_epoch(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    train_to_end(qtbot, window)
    assert window.timeline.max_epoch() == 40
    assert "snapshots:" in window.timeline.note.text()
    window.timeline.set_epoch(5)
    assert not window.timeline.is_live() and window.controller.shown_epoch == 5
    model = window.model
    for run_id in ids:
        view = window.maps.map_view(run_id)
        epoch, params = model.params_at(run_id, 5)
        assert epoch == 5
        expected = GridEvaluator(model.layout, model.shared.activation, view.extent, view.resolution)(params)
        np.testing.assert_allclose(view.probabilities, expected, atol=1e-6)
    window.runs.select_run(ids[0])
    assert window.epoch_label.text() == "epoch 5 / 12"  # the selected run (sgd) at epoch 5
    cost = window.curves.data(curve_key(ids[0]))["cost"][5]
    assert window.cost_label.text() == f"cost {cost:.6f}"
    assert "showing epoch 5" in window.message.text()
    assert marker(window).isVisible() and marker(window).value() == 5
    # Past a run's end, its map stays at its last epoch; back to live shows the newest states.
    window.timeline.set_epoch(30)
    assert model.params_at(ids[0], 30)[0] == 12
    window.timeline.set_live(True)
    assert window.controller.shown_epoch is None
    assert not marker(window).isVisible()
    assert window.epoch_label.text() == "epoch 12 / 12"


def test_clicking_a_small_map_shows_it_large_and_hiding_a_run_hides_its_curve_and_map(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    view = window.maps.map_view(ids[1])
    centre = view.mapFromScene(view.plot.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(centre.x(), centre.y()))
    assert window.maps.large_run_id == ids[1]
    assert window.boundary is window.maps.large
    assert window.runs.selected_run_id() == ids[1]  # the run shown large is the one the panel edits
    assert window.selected_run_id == ids[1]
    qtbot.keyClick(window.maps, Qt.Key.Key_Escape)
    assert window.maps.large_run_id == -1
    window.runs.set_run_visible(ids[3], False)
    assert not window.model[ids[3]].spec.visible
    assert not cost_curve(window, ids[3]).isVisible()
    assert not window.maps.map_view(ids[3]).isVisible()
    assert window.maps.map_view(ids[0]).isVisible()
    window.runs.set_run_visible(ids[3], True)
    assert cost_curve(window, ids[3]).isVisible()


def test_removing_a_run_keeps_the_others_where_they_are(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: at_epoch(window, 1, ids), timeout=20000)
    window.runs.remove_run(ids[1])
    assert curve_key(ids[1]) not in window.curves.run_ids()
    assert at_epoch(window, 1, [ids[0], ids[2], ids[3]])
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.model[ids[0]].epoch == 2, timeout=20000)
    assert ids[1] not in window.model


def test_removing_a_run_says_so_in_the_status_bar(qtbot, make_window):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    window.runs.remove_run(ids[1])
    assert ids[1] not in window.model
    assert "removed" in window.message.text()


def _same_columns(a, b):
    """Two histories hold the same numbers (every column but the elapsed times, which a retraining changes)."""
    return a.columns == b.columns and len(a) == len(b) and all(
        np.array_equal(a.column(name), b.column(name)) for name in a.columns if name != "elapsed_s")


def test_save_and_open_give_the_same_settings_and_histories(qtbot, make_window, settings, tmp_path):
    window = comparison_window(make_window)
    with_notebook_runs(qtbot, window)
    window.runs.rename_run(window.runs.runs()[3][0], 'decay, "fast"')
    train_to_end(qtbot, window)
    path = tmp_path / "c.nnviz.json"
    assert window.save_session_to(path, histories=True)
    specs, shared, histories = window.runs.specs(), window.model.shared, window.histories()
    assert window.session_path == path

    other = make_window(None, settings=settings)
    assert other.open_session_from(path)
    qtbot.waitUntil(lambda: ready(other) and other.model.specs() == specs, timeout=20000)
    assert other.runs.specs() == specs and other.model.shared == shared
    # New: the saved runs are retrained in the background to their saved epochs (so that the maps and the
    # timeline have them) and checked against the saved histories (the elapsed times aside).
    qtbot.waitUntil(lambda: not other.model.restoring and other.controller.ended, timeout=60000)
    assert all(run.restored for run in other.model)
    assert other.histories().keys() == histories.keys()
    for name, history in histories.items():
        assert _same_columns(other.histories()[name], history), name
    qtbot.waitUntil(lambda: all(len(curve(other, r)["epoch"]) == len(histories[other.model[r].spec.name])
                                for r in run_ids(other)), timeout=20000)
    for run_id, spec in other.runs.runs():
        assert other.curves.data(curve_key(run_id))["cost"].tolist() == histories[spec.name].to_columns()["cost"]
    assert str(path.resolve()) == other.recent_sessions()[0]
    # Retrained from epoch 0: the same numbers again.
    train_to_end(qtbot, other)
    assert other.histories().keys() == histories.keys()
    for name, history in histories.items():
        assert other.histories()[name].column("cost").tolist() == history.column("cost").tolist()
    other.close()
    # Without histories: settings only.
    assert window.save_session_to(tmp_path / "plain.nnviz.json")
    assert load_session(tmp_path / "plain.nnviz.json").histories == {}


def test_saving_names_the_file_in_the_window_title(qtbot, window, tmp_path):
    path = tmp_path / "c.nnviz.json"
    assert window.save_session_to(path)
    assert window.session_path == path and path.name in window.windowTitle()


def _good_text():
    return (ROOT / "resources" / "notebook.nnviz.json").read_text()


def _edited(change):
    doc = json.loads(_good_text())
    change(doc)
    return json.dumps(doc)


BAD_SESSIONS = {
    "truncated": lambda: _good_text()[:200],
    "not json": lambda: "hello",
    "wrong type": lambda: _edited(lambda d: d["runs"][1].update(learning_rate="fast")),
    "out of range": lambda: _edited(lambda d: d["shared"].update(n_samples=-4)),
    "newer version": lambda: _edited(lambda d: d.update(version=99)),
    "not a session": lambda: json.dumps([1, 2, 3]),
    "no runs": lambda: _edited(lambda d: d.update(runs=[])),
}


def _state(window):
    return (window.runs.runs(), window.model.shared, {k: len(v) for k, v in window.histories().items()})


@pytest.mark.parametrize("kind", list(BAD_SESSIONS))
def test_a_malformed_session_is_refused_with_its_message_and_changes_nothing(qtbot, make_window, tmp_path, kind):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: at_epoch(window, 1, ids), timeout=20000)
    before = _state(window)
    path = tmp_path / "bad.nnviz.json"
    path.write_text(BAD_SESSIONS[kind]())
    assert not window.open_session_from(path)
    try:
        load_session(path)
        expected = f"{path}: the session has no runs"
    except SessionError as exc:
        expected = str(exc)
    assert window.alert.text() == expected and str(path) in expected
    assert window.alert.icon() == window.alert.Icon.Warning
    window.alert.close()
    qtbot.wait(50)
    assert not window.controller.busy  # nothing is being prepared
    assert _state(window) == before
    assert window.controller.worker_thread.isRunning() and at_epoch(window, 1, ids)


def test_unknown_keys_are_reported_when_opening(qtbot, window, tmp_path):
    path = tmp_path / "extra.nnviz.json"
    path.write_text(_edited(lambda d: (d.update(comment="hi"), d["runs"][0].update(colour_name="blue"))))
    assert window.open_session_from(path)
    assert "comment" in window.alert.text() and "colour_name" in window.alert.text()
    assert window.alert.icon() == window.alert.Icon.Information
    assert parse_session(path.read_text()).warnings  # the same keys the core reports
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 4, timeout=20000)
    assert len(window.runs.runs()) == 4


def test_a_missing_recent_file_leaves_the_list_with_a_message(qtbot, window, tmp_path):
    path = tmp_path / "gone.nnviz.json"
    save_session(path, preset_shared(), notebook_runs()[:2])
    assert window.open_session_from(path)
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 2, timeout=20000)
    path.unlink()
    window.documents.fill_recent_menu(window.recent_menu)
    assert [a.data() for a in window.recent_menu.actions()] == [str(path.resolve())]
    assert not window.open_recent(str(path.resolve()))
    assert "no such file" in window.alert.text()
    assert window.recent_sessions() == [] and len(window.runs.runs()) == 2


def test_new_comparison_is_one_sgd_run_at_epoch_0(qtbot, make_window):
    window = comparison_window(make_window)
    with_notebook_runs(qtbot, window)
    window.new_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 1, timeout=20000)
    assert [spec.name for spec in window.runs.specs()] == ["sgd"]
    assert window.runs.specs()[0] == RunSpec.from_config(preset_config("sgd"), "sgd", window.runs.specs()[0].colour)
    assert window.model[window.selected_run_id].epoch == 0
    assert window.maps.large_run_id == window.selected_run_id


def test_exports_parse_back(qtbot, make_window, tmp_path):
    window = comparison_window(make_window)
    ids = with_notebook_runs(qtbot, window)
    train_to_end(qtbot, window)
    assert window.export_csv_to(tmp_path / "h.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "h.csv").read_text())))
    assert list(rows[0]) == ["run", "epoch", "cost", "accuracy", "learning_rate", "updates", "samples", "elapsed_s"]
    assert len(rows) == sum(EPOCHS.values()) + 4
    momentum = [r for r in rows if r["run"] == "momentum"]
    assert [float(r["cost"]) for r in momentum] == window.curves.data(curve_key(ids[2]))["cost"].tolist()
    assert window.export_window_to(tmp_path / "w.png")
    image = QImage(str(tmp_path / "w.png"))
    assert (image.width(), image.height()) == (window.width(), window.height())
    assert window.export_curves_to(tmp_path / "c.png", width=900)
    assert QImage(str(tmp_path / "c.png")).width() == 900
    window.maps.show_large(ids[1])
    for width in (400, 2000):
        assert window.export_map_to(tmp_path / f"m{width}.png", width)
        assert QImage(str(tmp_path / f"m{width}.png")).width() == width
    assert not window.export_map_to(tmp_path / "missing" / "m.png", 400)
    assert "missing" in window.alert.text()


def test_the_training_fields_of_a_session_reach_the_worker(qtbot, window, tmp_path):
    runs = [spec.replace(epochs=3) for spec in notebook_runs()[:2]]
    path = tmp_path / "two.nnviz.json"
    save_session(path, preset_shared().replace(n_samples=100), runs)
    assert window.open_session_from(path)
    qtbot.waitUntil(lambda: ready(window) and window.model.specs() == runs, timeout=20000)
    assert train_to_end(qtbot, window) == "finished"
    for run_id, spec in window.runs.runs():
        config = config_of(window, run_id)
        assert {f: getattr(config, f) for f in TRAINING_FIELDS} == spec.training()
        assert len(window.histories()[spec.name]) == 4


def test_session_on_the_command_line(tmp_path):
    bad = tmp_path / "bad.nnviz.json"
    bad.write_text(_good_text()[:100])
    done = run_main("--session", str(bad))
    with pytest.raises(SessionError) as refused:
        load_session(bad)
    assert done.returncode == 2
    assert done.stderr.strip() == f"nnviz: error: {refused.value}"
    good = tmp_path / "good.nnviz.json"
    save_session(good, preset_shared().replace(n_samples=100), [s.replace(epochs=3) for s in notebook_runs()])
    shot = tmp_path / "shot.png"
    done = run_main("--session", str(good), "--x-axis", "updates", "--log-cost", "--run", "--screenshot", str(shot))
    assert done.returncode == 0, done.stderr
    assert not QImage(str(shot)).isNull()
    done = run_main("--session", str(good), "--alpha", "0.1")
    assert done.returncode == 2 and "either --session or training options" in done.stderr


def test_the_x_axis_choice_is_remembered(qtbot, make_window, settings):
    window = comparison_window(make_window)
    window.curves.x_axis_combo.setCurrentIndex(window.curves.x_axis_combo.findData("samples"))
    window.close()
    again = make_window(None, settings=settings)
    assert again.curves.x_axis == "samples"
    again.close()


def test_removing_every_run_stops_training_and_adding_one_starts_again(qtbot, make_window):
    window = comparison_window(make_window)
    window.runs.remove_run(window.selected_run_id)
    assert len(window.model) == 0 and window.selected_run_id == -1
    assert not window.start_action.isEnabled() and not window.step_action.isEnabled()
    window.start_action.trigger()
    assert not window.playing and not window.controller.worker.playing
    window.runs.notebook_action.trigger()
    qtbot.waitUntil(lambda: ready(window), timeout=20000)
    assert len(window.runs.runs()) == 4 and window.start_action.isEnabled()


def test_removing_every_run_says_there_are_no_runs(qtbot, window):
    window.runs.remove_run(window.selected_run_id)
    assert len(window.model) == 0
    assert window.message.text().startswith("no runs")


def test_the_file_menu_holds_sessions_recent_files_and_exports(window):
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    file_actions = menus["&File"].actions()
    for action in (window.new_action, window.open_action, window.save_action, window.save_as_action,
                   window.save_histories_action, window.quit_action, window.open_data_action,
                   window.export_data_action):
        assert action in file_actions
    assert window.open_data_action.shortcut().toString() == "Ctrl+Shift+I"
    assert window.recent_menu.menuAction() in file_actions and window.export_menu.menuAction() in file_actions
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    assert window.save_action.shortcut().toString() == "Ctrl+S"
    assert window.save_as_action.shortcut().toString() == "Ctrl+Shift+S"
    assert window.export_menu.actions() == [window.export_csv_action, window.export_settings_action,
                                            window.export_window_action,
                                            window.export_curves_action, window.export_map_action,
                                            window.export_animation_action]


def test_with_a_test_set_the_csv_has_the_test_columns(qtbot, window, tmp_path):
    path = tmp_path / "test.nnviz.json"
    save_session(path, preset_shared().replace(n_samples=200, test_fraction=0.2),
                 [spec.replace(epochs=4) for spec in notebook_runs()[:2]])
    assert window.open_session_from(path)
    qtbot.waitUntil(lambda: ready(window) and window.model.has_test, timeout=20000)
    train_to_end(qtbot, window)
    assert window.export_csv_to(tmp_path / "t.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert list(rows[0])[-2:] == ["test_cost", "test_accuracy"] and len(rows) == 10
    assert window.save_session_to(tmp_path / "again.nnviz.json", histories=True)
    assert load_session(tmp_path / "again.nnviz.json").histories["sgd"].has_test
