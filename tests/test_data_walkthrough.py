"""What a teacher or a student meets using their own data, input features and the animation export in the window
(issue 12), found by using the window under Xvfb: each test fails on the code before its fix."""

import numpy as np
from helpers import ready

from nnviz.core.points_csv import write_points
from nnviz.core.training import preset_config

RNG = np.random.default_rng(5)
X = RNG.normal(0.0, 1.0, size=(60, 2))
Y = (X[:, 0] * X[:, 1] > 0).astype(float)


def test_the_status_line_says_what_a_data_file_gave_after_the_runs_restart_on_it(qtbot, make_window, tmp_path):
    path = tmp_path / "lesson.csv"
    write_points(path, X, Y, ("blue", "red"))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.data_files.open_from(path)
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)
    qtbot.waitUntil(lambda: window.message.text().startswith("lesson.csv: 60 points"), timeout=5000)
    assert "blue → class 0, red → class 1" in window.message.text()
    qtbot.wait(200)  # nothing later replaces it (the restart's own "ready" line came first)
    assert window.message.text().startswith("lesson.csv: 60 points")


def test_opening_a_file_after_training_keeps_the_undo_hint(qtbot, make_window, tmp_path):
    path = tmp_path / "lesson.csv"
    write_points(path, X, Y)
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.controller.step()
    qtbot.waitUntil(lambda: window.model.trained_epochs() > 0 and ready(window), timeout=20000)
    window.data_files.open_from(path)
    qtbot.waitUntil(lambda: window.message.text().startswith("lesson.csv: 60 points"), timeout=20000)
    assert window.message.text().endswith("(Ctrl+Z: undo)")


def test_cancelling_the_reading_of_a_data_file_says_nothing_changed(qtbot, make_window, tmp_path):
    from PySide6.QtWidgets import QProgressDialog, QPushButton

    path = tmp_path / "big.csv"
    many = RNG.normal(size=(300_000, 2))
    write_points(path, many, (many[:, 0] > 0).astype(float))
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    before = window.model.shared
    window.data_files.open_from(path)
    dialog = next(d for d in window.findChildren(QProgressDialog) if d.labelText().startswith("Reading big.csv"))
    dialog.findChild(QPushButton).click()  # its Cancel button
    qtbot.waitUntil(lambda: window.message.text().startswith("Reading big.csv: cancelled"), timeout=20000)
    assert window.message.text() == "Reading big.csv: cancelled, nothing changed"
    assert window.model.shared == before


def test_new_data_says_what_it_does_to_the_users_own_points(qtbot):
    from nnviz.core.datasets import Points
    from nnviz.core.training import TrainConfig
    from nnviz.gui.controls import ParameterPanel

    panel = ParameterPanel()
    qtbot.addWidget(panel)
    generated = panel.new_data.toolTip()
    assert "another data set" in generated
    panel.set_config(TrainConfig(dataset="custom", points=Points(X, Y), n_samples=len(X)))
    custom = panel.new_data.toolTip()
    assert "Your points stay as they are" in custom and "shuffles" in custom and "test set" in custom
    panel.dataset.setCurrentText("circle")
    assert panel.new_data.toolTip() == generated


def test_turning_the_last_input_off_says_why_it_stays_on(qtbot):
    from PySide6.QtWidgets import QToolTip

    from nnviz.gui.data_controls import FeaturePicker

    picker = FeaturePicker()
    qtbot.addWidget(picker)
    picker.show()
    qtbot.waitExposed(picker)
    changes = []
    picker.changed.connect(lambda: changes.append(picker.features()))
    picker.buttons["x1"].click()
    assert picker.features() == ("x2",) and not QToolTip.isVisible()
    picker.buttons["x2"].click()  # the last one
    assert picker.features() == ("x2",) and changes == [("x2",)]
    assert QToolTip.isVisible() and "x₂ is the network's only input" in QToolTip.text()


def _feature_view(qtbot, features, health_epoch=None):
    from dataclasses import replace

    from nnviz.core.health import measure
    from nnviz.core.network import Layout, init_params
    from nnviz.gui.network_view import NetworkView

    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    layout = Layout((len(features), 4, 1), features)
    params = init_params(layout.shape, 2, "glorot")
    y = (X[:, 0] > 0).astype(float)
    view.set_data(X * 3, y)  # a plane wider than a sine's ±1
    health = None if health_epoch is None else replace(measure(params, layout, "tanh", X * 3, y), epoch=health_epoch)
    view.show_network(params, layout, "tanh", health=health)
    qtbot.waitUntil(lambda: view.resolution > 0)
    return view


def test_hovering_an_input_unit_gives_no_epoch_an_input_does_not_have(qtbot):
    view = _feature_view(qtbot, ("x1", "sin(x1)"), health_epoch=7)
    text = view.hover_text(view.unit_rect(0, 1).center())
    assert text.startswith("input sin x₁ · value") and "epoch" not in text
    assert "(at epoch 7)" in view.hover_text(view.unit_rect(1, 0).center())  # a hidden unit's share is of then


def test_an_input_shown_large_has_a_colour_scale_of_its_own_range(qtbot):
    view = _feature_view(qtbot, ("x1", "sin(x1)"))
    assert view.column_scale_range(0)[1] > 3  # the column: one scale for x₁ and sin x₁
    view.open_unit(0, 1)
    low, high = view.large_scale_range()
    values = view.large_map()
    assert low == -high and 0.9 < high <= 1.0  # sin x₁'s own range, not the plane's
    assert np.abs(values).max() > 0.9
    view.open_unit(0, 0)
    assert view.large_scale_range()[1] > 3  # x₁ spans the plane


def test_an_animation_refusal_leads_with_the_field_as_the_dialog_labels_it(qtbot, make_window, tmp_path):
    from helpers import run_to_end
    from PySide6.QtCore import Qt

    window = make_window(preset_config("sgd", n_samples=100, epochs=10))
    run_to_end(qtbot, window)
    window.export_animation_action.trigger()
    dialog = window.animation.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.path.setText(str(tmp_path / "lesson.gif"))
    dialog.first.setValue(8)
    dialog.last.setValue(3)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.message.text().startswith("epochs: ")
    dialog.first.setValue(0)
    dialog.last.setValue(10)
    dialog.fps.setValue(60)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.message.text().startswith("speed: ") and "50 frames per second" in dialog.message.text()
    dialog.reject()
    assert list(tmp_path.glob("lesson*")) == []
