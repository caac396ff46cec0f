"""The main window driven like a user would (pytest-qt, offscreen): short runs on small data."""

import csv
import sys

import numpy as np
import pytest
from helpers import config_of, curve, epochs, ready, run_main, run_to_end
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from nnviz import cli
from nnviz.core.comparison import TRAINING_FIELDS
from nnviz.core.training import Trainer, preset_config
from nnviz.gui import worker as worker_module
from nnviz.gui.main_window import MainWindow

SMALL = {"n_samples": 200, "epochs": 20}


def set_speed(window, epochs_per_second):
    window.speed.setCurrentIndex(window.speed.findData(epochs_per_second))


def test_opens_at_epoch_0_ready_to_start(window):
    assert epochs(window) == [0]
    assert window.start_action.isEnabled()
    assert window.status == "ready"
    assert window.windowTitle().startswith("nnviz")
    assert not window.windowIcon().isNull()
    assert window.minimumWidth() > 0 and window.minimumHeight() > 0


def test_start_trains_to_the_end_with_the_costs_of_nnviz_train(qtbot, window, tmp_path):
    run_to_end(qtbot, window)
    path = tmp_path / "train.csv"
    assert cli.main(["train", "--preset", "sgd", "--samples", "200", "--epochs", "20", "--csv", str(path)]) == 0
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = curve(window)
    assert epochs(window) == [int(r["epoch"]) for r in rows] == list(range(21))
    assert data["cost"].tolist() == [float(r["cost"]) for r in rows]
    assert data["accuracy"].tolist() == [float(r["accuracy"]) for r in rows]
    assert data["learning_rate"].tolist() == [float(r["learning_rate"]) for r in rows]
    assert window.message.text().startswith("finished: 20 epochs")
    assert window.progress.value() == window.progress.maximum()
    assert window.epoch_label.text() == "epoch 20 / 20"
    assert window.cost_label.text() == f"cost {float(rows[-1]['cost']):.6f}"
    assert not window.step_action.isEnabled()


def test_epoch_axis_spans_the_target_and_grows_in_steps_for_long_runs(qtbot, window, make_window):
    (x_min, x_max), _ = window.curves.plots["accuracy"].viewRange()
    assert x_min < 0 < 20 < x_max < 21  # 0 to the target, before any epoch (linked axes)
    long = make_window(preset_config("sgd", n_samples=100, epochs=1_000_000))
    assert long.curves.plots["cost"].viewRange()[0][1] < 5200
    long.curves.set_x_axis("updates")
    long.step_action.trigger()
    qtbot.waitUntil(lambda: long.epoch == 1)
    long.curves.set_x_axis("epoch")
    long.step_action.trigger()
    qtbot.waitUntil(lambda: long.epoch == 2)
    assert 5000 <= long.curves.plots["cost"].viewRange()[0][1] < 5200


def test_numpy_engine_gives_the_same_costs_as_its_trainer(qtbot, make_window):
    config = preset_config("momentum", engine="numpy", **SMALL)
    window = make_window(config)
    run_to_end(qtbot, window)
    assert curve(window)["cost"].tolist() == [r.cost for r in Trainer(config)]


def test_pause_and_resume(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=200, epochs=100_000))
    set_speed(window, 100)
    window.start_action.trigger()
    assert window.playing and window.start_action.text() == "Pause"
    qtbot.waitUntil(lambda: window.epoch >= 3, timeout=10000)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # pause
    assert not window.playing and window.start_action.text() == "Start"
    qtbot.wait(150)
    paused_at = window.epoch
    qtbot.wait(300)
    assert window.epoch == paused_at
    assert epochs(window) == list(range(paused_at + 1))
    window.start_action.trigger()  # resume from there, not from 0
    qtbot.waitUntil(lambda: len(epochs(window)) > paused_at + 3, timeout=10000)
    assert epochs(window) == list(range(len(epochs(window))))
    window.close()


def test_step_trains_exactly_one_epoch(qtbot, window):
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.epoch == 1)
    qtbot.wait(200)
    assert epochs(window) == [0, 1]
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.epoch == 2)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.epoch == 3)
    qtbot.wait(200)
    assert epochs(window) == [0, 1, 2, 3]
    assert curve(window)["cost"].tolist() == [r.cost for r in list(Trainer(config_of(window)))[:4]]


def test_reset_returns_to_the_same_epoch_0_map_as_a_fresh_window(qtbot, window, make_window, tmp_path):
    initial = window.boundary.probabilities
    run_to_end(qtbot, window)
    assert not np.array_equal(window.boundary.probabilities, initial)
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: epochs(window) == [0])
    np.testing.assert_array_equal(window.boundary.probabilities, initial)
    assert window.status == "ready" and window.epoch == 0
    fresh = make_window(preset_config("sgd", **SMALL), settings=QSettings(str(tmp_path / "other.ini"),
                                                                        QSettings.Format.IniFormat))
    assert fresh.boundary.extent == window.boundary.extent
    np.testing.assert_array_equal(fresh.boundary.probabilities, initial)


def test_live_learning_rate_change_shows_in_the_curve_at_the_next_epoch(qtbot, window):
    for epoch in (1, 2, 3):
        window.step_action.trigger()
        qtbot.waitUntil(lambda e=epoch: window.epoch == e)
    window.panel.fields["learning_rate"].edit.setText("0.05")
    for epoch in (4, 5):
        window.step_action.trigger()
        qtbot.waitUntil(lambda e=epoch: window.epoch == e)
    assert curve(window)["learning_rate"].tolist() == [0.01] * 4 + [0.05] * 2
    assert window.lr_label.text() == "α 0.05"


def test_live_learning_rate_change_while_training(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=200, epochs=60))
    set_speed(window, 100)
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.epoch >= 5, timeout=10000)
    changed_after = window.epoch
    with qtbot.waitSignal(window.run_ended, timeout=30000):
        window.panel.fields["learning_rate"].edit.setText("0.05")
    rates = curve(window)["learning_rate"]
    first = int(np.argmax(rates == 0.05))
    assert first > changed_after
    assert np.all(rates[:first] == 0.01) and np.all(rates[first:] == 0.05)
    assert epochs(window) == list(range(61))


def test_data_or_network_change_resets_the_run(qtbot, window):
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.epoch == 1)
    window.panel.fields["hidden"].edit.setText("5")
    qtbot.waitUntil(lambda: ready(window) and window.model.layout.shape == (2, 5, 1), timeout=10000)
    assert epochs(window) == [0]
    window.panel.fields["data_seed"].edit.setText("7")
    qtbot.waitUntil(lambda: ready(window) and config_of(window).data_seed == 7, timeout=10000)
    assert epochs(window) == [0]


INVALID = [
    ("n_samples", "3"), ("n_samples", "many"), ("n_samples", "1002"), ("noise", "1.5"), ("test_fraction", "0.95"),
    ("data_seed", "-1"), ("hidden", "3,x"), ("hidden", "3,300"), ("init_seed", "99999999999"),
    ("learning_rate", "0"), ("learning_rate", "-1"), ("learning_rate", "nan"), ("batch_size", "0"),
    ("momentum", "1"), ("gamma", "1"), ("step_every", "0"), ("step_factor", "0"), ("l2", "-0.1"), ("epochs", "-5"),
]


@pytest.mark.parametrize(("name", "text"), INVALID)
def test_invalid_value_is_marked_at_its_field_and_blocks_start(qtbot, window, name, text):
    field = window.panel.fields[name]
    good = field.edit.text()
    field.edit.setText(text)
    assert not field.error.isHidden() and field.error.text()
    assert not field.edit.isHidden()  # shown even when its schedule is not selected
    assert window.panel.config() is None and name in window.panel.errors()
    assert not window.start_action.isEnabled() and not window.step_action.isEnabled()
    assert window.message.text() == f"{window.panel.label_of(name)}: {window.panel.errors()[name]}"
    window.start_action.trigger()
    window.step_action.trigger()
    qtbot.wait(150)
    assert epochs(window) == [0] and not window.playing
    field.edit.setText(good)
    assert field.error.isHidden() and window.start_action.isEnabled()


def test_divergence_is_reported_and_the_controls_stay_usable(qtbot, window):
    window.panel.fields["learning_rate"].edit.setText("1e6")
    qtbot.waitUntil(lambda: config_of(window).learning_rate == 1e6)
    run_to_end(qtbot, window, expected="diverged")
    assert "diverged at epoch" in window.message.text() and "lower the learning rate" in window.message.text()
    assert window.start_action.isEnabled() and window.panel.isEnabled()
    window.panel.fields["learning_rate"].edit.setText("0.01")
    run_to_end(qtbot, window)
    assert epochs(window) == list(range(21))


def test_an_error_in_the_worker_is_shown_and_the_window_stays_usable(qtbot, window, monkeypatch):
    def broken(self, should_stop=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(Trainer, "step", broken)
    with qtbot.waitSignal(window.errored, timeout=10000):
        window.start_action.trigger()
    assert "RuntimeError: boom" in window.message.text()
    assert window.start_action.isEnabled()
    monkeypatch.undo()
    run_to_end(qtbot, window)


def test_closing_during_training_stops_and_joins_the_worker(qtbot, make_window):
    window = make_window(preset_config("sgd", epochs=10_000_000))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: window.epoch >= 2, timeout=10000)
    thread = window.controller.worker_thread
    assert thread.isRunning()
    window.close()
    assert not thread.isRunning()
    assert not any(t.isRunning() for t in worker_module.worker_threads())


def test_fifty_fast_start_stop_reset_cycles(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=200, epochs=100_000))
    for _ in range(50):
        window.start_action.trigger()
        qtbot.wait(1)
        window.start_action.trigger()
        window.reset_action.trigger()
    qtbot.waitUntil(lambda: epochs(window) == [0], timeout=10000)
    assert window.epoch == 0 and not window.playing
    assert sum(t.isRunning() for t in worker_module.worker_threads()) == 1
    run_to_end(qtbot, make_window(preset_config("sgd", **SMALL)))


def test_parameters_and_geometry_are_remembered(qtbot, make_window, settings):
    window = make_window(preset_config("sgd", **SMALL))
    window.panel.fields["learning_rate"].edit.setText("0.05")
    window.discretize.setChecked(True)
    window.close()
    assert settings.value("window/geometry") is not None
    again = make_window(None, settings=settings)
    assert again.panel.fields["learning_rate"].edit.text() == "0.05"
    assert again.panel.config() == preset_config("sgd", **SMALL).replace(learning_rate=0.05)
    assert again.discretize.isChecked()
    assert set(np.unique(again.boundary.probabilities)) <= {0.0, 1.0}


def test_without_saved_parameters_the_sgd_preset_is_loaded(make_window):
    window = make_window(None)
    assert window.panel.config() == preset_config("sgd")
    assert window.panel.preset.currentData() == "sgd"


def test_preset_choice_loads_its_settings(qtbot, window):
    index = window.panel.preset.findData("decay")
    window.panel.preset.setCurrentIndex(index)
    window.panel.preset.activated.emit(index)
    decay = preset_config("decay")
    config = window.panel.config()
    assert {f: getattr(config, f) for f in TRAINING_FIELDS} == {f: getattr(decay, f) for f in TRAINING_FIELDS}
    assert config.n_samples == 200  # a preset sets the training settings only: the data stay
    assert not window.panel.fields["gamma"].edit.isHidden()
    assert window.panel.fields["step_every"].edit.isHidden()


def test_plus_and_minus_change_the_hidden_layers(qtbot, window):
    panel = window.panel
    panel.add_layer.click()
    assert panel.config().shape == (2, 3, 4, 4, 1)
    for _ in range(4):
        panel.remove_layer.click()
    assert panel.config().shape == (2, 1)  # no hidden layer: logistic regression
    qtbot.waitUntil(lambda: ready(window) and window.model.layout.shape == (2, 1), timeout=10000)
    run_to_end(qtbot, window)  # trains and draws without a hidden layer too
    panel.add_layer.click()
    assert panel.config().shape == (2, 4, 1)


def test_full_batch_and_learning_rate_slider(window):
    panel = window.panel
    panel.full_batch.setChecked(True)
    assert panel.config().batch_size >= panel.config().n_samples
    assert not panel.fields["batch_size"].edit.isEnabled()
    panel.lr_slider.setValue(panel.lr_slider.maximum())
    assert panel.config().learning_rate == 10.0
    panel.fields["learning_rate"].edit.setText("0.001")
    assert panel.lr_slider.value() == 100  # 1e-3 is one decade above the slider's 1e-4



def test_scripted_screenshot_after_a_run(tmp_path):
    path = tmp_path / "shot.png"
    done = run_main("--preset", "momentum", "--samples", "100", "--epochs", "5", "--run", "--screenshot", str(path))
    assert done.returncode == 0, done.stderr
    image = QImage(str(path))
    assert not image.isNull() and image.width() >= 1000


def test_scripted_screenshot_without_run_shows_epoch_0(tmp_path):
    path = tmp_path / "start.png"
    done = run_main("--samples", "100", "--screenshot", str(path))
    assert done.returncode == 0, done.stderr
    assert not QImage(str(path)).isNull()


def test_scripted_run_that_diverges_exits_3_with_the_message(tmp_path):
    done = run_main("--alpha", "1e6", "--samples", "100", "--run", "--screenshot", str(tmp_path / "d.png"))
    assert done.returncode == 3
    assert "diverged at epoch" in done.stderr and "lower the learning rate" in done.stderr


def test_screenshot_into_a_missing_folder_exits_2(tmp_path):
    done = run_main("--screenshot", str(tmp_path / "missing" / "x.png"))
    assert done.returncode == 2 and done.stderr.startswith("nnviz: error: --screenshot")


def test_bad_option_exits_2_with_the_message(capsys):
    assert cli.main(["--alpha", "-1"]) == 2
    assert capsys.readouterr().err.startswith("nnviz: error: --alpha")
    assert cli.main(["--run", "--bogus"]) == 2


def test_file_quit_closes_and_help_has_about(qtbot, window):
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    assert window.quit_action in menus["&File"].actions()
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.about_action in menus["&Help"].actions()
    window.start_action.trigger()
    window.quit_action.trigger()
    assert not window.isVisible() and not window.controller.worker_thread.isRunning()


def test_canary_methods_returning_nothing_keep_none_referenced(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for i in range(20_000):
        widget.setEnabled(i % 2 == 0)
        widget.setObjectName("canary")
    assert sys.getrefcount(None) > before - 10_000


def test_without_the_compiled_kernel_the_numpy_engine_trains_the_same(qtbot, make_window, monkeypatch):
    from nnviz.core import kernels, training

    def unavailable():
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(kernels, "get_compiled_engine", unavailable)
    monkeypatch.setattr(training, "_warned", True)  # the one-line warning is the CLI's business
    config = preset_config("sgd", **SMALL)
    window = make_window(config)
    assert window.model.engine.name == "numpy"
    run_to_end(qtbot, window)
    expected = [r.cost for r in Trainer(config.replace(engine="numpy"))]
    assert curve(window)["cost"].tolist() == expected


def test_the_window_appears_while_the_kernel_is_still_compiling(qtbot, settings, monkeypatch):
    import threading

    from nnviz.core import kernels

    compiled = kernels.get_compiled_engine()
    release = threading.Event()

    def slow():
        release.wait(10)
        return compiled

    monkeypatch.setattr(kernels, "get_compiled_engine", slow)
    window = MainWindow(preset_config("sgd", **SMALL), settings=settings, confirm=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(100)
    assert window.message.text().startswith("preparing")
    assert window.panel.isEnabled() and len(window.model) == 0 and not window.start_action.isEnabled()
    release.set()
    qtbot.waitUntil(lambda: ready(window))
    assert window.message.text().startswith("ready") and window.model.engine.name == "compiled"


def test_raising_the_epoch_target_after_the_end_continues_the_run(qtbot, window):
    run_to_end(qtbot, window)
    window.panel.fields["epochs"].edit.setText("30")
    qtbot.waitUntil(lambda: config_of(window).epochs == 30 and window.status == "running")
    assert window.step_action.isEnabled()
    run_to_end(qtbot, window)
    assert epochs(window) == list(range(31))
    assert curve(window)["cost"].tolist() == [r.cost for r in Trainer(config_of(window))]
