"""File ▸ Open data… and File ▸ Export data as CSV… in the window: points read off the GUI thread become the data
set "custom" (rescaled only when asked, shuffled unless kept in order), every run restarts from the same weights, a
malformed file changes nothing and says its line and column, and an exported file opens back to the same points."""

import numpy as np
from helpers import ready

from nnviz.core.datasets import Dataset, Points
from nnviz.core.points_csv import read_points, rescaled, write_points
from nnviz.core.training import preset_config

RNG = np.random.default_rng(11)
X = RNG.normal(2.0, 3.0, size=(40, 2))
Y = (X[:, 0] > 2).astype(float)


def opened(qtbot, window, path, **options):
    window.data_files.open_from(path, **options)
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)


def test_open_data_trains_every_run_on_the_files_points_from_the_same_weights(qtbot, make_window, tmp_path):
    path = tmp_path / "mine.csv"
    write_points(path, X, Y, ("no", "yes"))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.controller.add_run(window.model.specs()[0].replace(name="fast", learning_rate=0.1))
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 2)
    opened(qtbot, window, path)
    shared = window.model.shared
    assert shared.points == Points(X, Y, ("no", "yes")) and not shared.keep_order
    order = np.random.RandomState(shared.data_seed).permutation(40)
    assert np.array_equal(window.model.data.X, X[order])  # shuffled once with the data seed
    starts = [window.model.params_at(run_id, 0)[1] for run_id in window.model.ids()]
    assert np.array_equal(starts[0], starts[1])
    assert window.panel.dataset.currentText() == "custom" and window.panel.fields["n_samples"].edit.text() == "40"


def test_rescale_and_keep_order_are_taken_only_when_asked(qtbot, make_window, tmp_path):
    path = tmp_path / "mine.csv"
    write_points(path, X, Y)
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    opened(qtbot, window, path, rescale=True, keep_order=True)
    expected = rescaled(read_points(path))
    assert window.model.shared.points == expected
    assert np.array_equal(window.model.data.X, expected.X)  # the file's order


def test_a_malformed_file_changes_nothing_and_names_its_line_and_column(qtbot, make_window, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,label\n1,2,0\n3,4,1\n5,oops,1\n7,8,0\n")
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    before = window.model.shared
    window.data_files.open_from(path)
    qtbot.waitUntil(lambda: window.alert is not None and window.alert.isVisible(), timeout=10000)
    assert "line 4, column x2" in window.alert.text()
    assert window.model.shared == before


def test_export_data_writes_the_training_and_test_points_that_open_back_the_same(qtbot, make_window, tmp_path):
    window = make_window(preset_config("sgd", n_samples=100, epochs=5, test_fraction=0.2))
    path = tmp_path / "out.csv"
    window.data_files.export_to(path)
    qtbot.waitUntil(path.exists, timeout=10000)
    data = window.model.data
    back = read_points(path)
    assert np.array_equal(back.X, np.vstack([data.X, data.X_test]))
    assert np.array_equal(back.y, np.concatenate([data.y[:, 0], data.y_test[:, 0]]))
    assert "set" in path.read_text().splitlines()[0]
    # opened again (its order kept), the comparison holds exactly those points
    opened(qtbot, window, path, keep_order=True)
    assert window.model.shared.points == Points(np.vstack([data.X, data.X_test]),
                                                np.concatenate([data.y[:, 0], data.y_test[:, 0]]))
    assert np.array_equal(window.model.data.X, Dataset.of(window.model.shared).X)


def test_the_open_data_dialog_refuses_a_missing_file_in_one_line(qtbot, make_window, tmp_path):
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.open_data_action.trigger()
    dialog = window.data_files.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.rescale.isChecked()
    dialog.path.setText(str(tmp_path / "nothing.csv"))
    dialog.buttons.accepted.emit()
    assert "no such file" in dialog.message.text() and dialog.isVisible()
    dialog.reject()


def test_the_next_start_reopens_the_users_points(qtbot, make_window, tmp_path):
    path = tmp_path / "mine.csv"
    write_points(path, X, Y, ("no", "yes"))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    opened(qtbot, window, path, keep_order=True)
    window.close()
    again = make_window()
    assert again.model.shared.dataset == "custom" and again.model.shared.points == Points(X, Y, ("no", "yes"))
    assert again.model.shared.keep_order and np.array_equal(again.model.data.X, X)


def test_a_session_of_many_points_is_saved_and_opened_in_the_background(qtbot, make_window, tmp_path):
    from nnviz.gui.documents import BIG_SESSION_POINTS

    rng = np.random.default_rng(2)
    n = BIG_SESSION_POINTS + 1000
    many = Points(rng.normal(size=(n, 2)), (rng.random(n) > 0.5).astype(float))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.controller.set_shared(window.controller.shared.replace(dataset="custom", points=many))
    qtbot.waitUntil(lambda: window.model.shared.points == many and ready(window), timeout=30000)
    path = tmp_path / "many.nnviz.json"
    window.documents.path = path
    window.save_action.trigger()  # returns at once: written in a thread
    qtbot.waitUntil(lambda: path.exists() and window.documents.path == path, timeout=30000)
    qtbot.waitUntil(lambda: not any(t.is_alive() for t in window.documents.background.tasks), timeout=30000)
    window.controller.set_shared(window.controller.shared.replace(dataset="circle", n_samples=100))
    qtbot.waitUntil(lambda: window.model.shared.dataset == "circle" and ready(window), timeout=30000)
    assert window.open_recent(str(path))
    qtbot.waitUntil(lambda: window.model.shared.points == many and ready(window), timeout=30000)


def test_the_run_settings_csv_shows_custom_points_as_their_count(qtbot, make_window, tmp_path):
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.controller.set_shared(window.controller.shared.replace(dataset="custom", points=Points(X, Y)))
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)
    path = tmp_path / "settings.csv"
    window.documents.ask_file = lambda *args: str(path)
    window.export_settings_action.trigger()
    qtbot.waitUntil(path.exists, timeout=10000)
    header, row = path.read_text().splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=False))
    assert values["points"] == "40 points" and values["dataset"] == "custom" and "Points(" not in row


def test_no_two_actions_of_the_window_share_a_shortcut(window):
    from PySide6.QtGui import QAction

    seen = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen, f"{text}: {seen.get(text)} and {action.text()}"
            seen[text] = action.text()
    assert seen["Ctrl+Shift+I"] == window.open_data_action.text()


def test_too_many_points_to_remember_keep_the_other_shared_settings_at_the_next_start(qtbot, make_window, monkeypatch):
    # Found in review: the notebook's data came back with the notebook's network too (activation, seeds, init).
    from nnviz.gui import window_settings

    monkeypatch.setattr(window_settings, "MAX_REMEMBERED_POINTS", 10)
    window = make_window(preset_config("sgd", n_samples=100, epochs=5, activation="tanh", init_seed=7, init="he",
                                       data_seed=99, test_fraction=0.25))
    window.controller.set_shared(window.controller.shared.replace(dataset="custom", points=Points(X, Y),
                                                                  features=("x1", "x2", "x1^2")))
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)
    before = window.model.shared
    window.close()
    again = make_window().model.shared
    assert again.dataset != "custom" and again.points is None
    for name in ("activation", "init_seed", "init", "data_seed", "test_fraction", "features", "shape", "engine"):
        assert getattr(again, name) == getattr(before, name), name


def test_a_session_with_a_sweep_over_its_points_opens_from_other_data(qtbot, make_window, tmp_path):
    from nnviz.core.session import save_session
    from nnviz.core.specs import RunSpec, SharedSettings
    from nnviz.core.sweep import parse_axis
    from nnviz.core.sweep_study import SweepDefinition, SweepStudy

    shared = SharedSettings(dataset="custom", points=Points(X, Y))
    spec = RunSpec(name="mine", epochs=5)
    study = SweepStudy(SweepDefinition(spec.config(shared), (parse_axis("learning_rate=0.01:0.1:log:3"),), 1,
                                       run="mine"))
    path = tmp_path / "exercise.nnviz.json"
    save_session(path, shared, [spec], sweep=study.to_doc())
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))  # the notebook's data, not the points
    assert window.open_session_from(path)
    qtbot.waitUntil(lambda: window.model.shared == shared and ready(window), timeout=20000)
    assert window.documents.alert is None or not window.documents.alert.isVisible()


def test_a_big_file_is_read_in_a_process_of_its_own_with_the_same_points(qtbot, make_window, tmp_path, monkeypatch):
    from nnviz.gui import data_files

    monkeypatch.setattr(data_files, "APART_BYTES", 0)  # every file is "big"
    path = tmp_path / "mine.csv"
    write_points(path, X, Y, ("no", "yes"))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    opened(qtbot, window, path)
    assert window.model.shared.points == Points(X, Y, ("no", "yes"))
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2,0\n3,4,1\n5,oops,1\n")
    window.data_files.open_from(bad)
    qtbot.waitUntil(lambda: window.alert is not None and window.alert.isVisible(), timeout=20000)
    assert "line 4, column x2" in window.alert.text()
