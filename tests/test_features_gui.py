"""The panel's input features and a user's own points in the window: the first layer follows the inputs, every run
restarts from the same new weights, the "custom" data set appears with the points, its sample count is theirs."""

import numpy as np
import pytest
from helpers import ready

from nnviz.core.datasets import Dataset, Points, expand
from nnviz.core.network import init_params, predict
from nnviz.core.training import preset_config

RNG = np.random.default_rng(3)
POINTS = Points(RNG.normal(size=(30, 2)), (RNG.random(30) > 0.5).astype(float))


def starts(window):
    return [window.model.params_at(run_id, 0)[1] for run_id in window.model.ids()]


def test_toggling_a_feature_grows_the_first_layer_and_restarts_every_run_from_one_start(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.controller.add_run(window.controller.model.specs()[0].replace(name="other", learning_rate=0.1))
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 2)
    panel = window.panel
    assert panel.features.features() == ("x1", "x2")
    panel.features.buttons["x1*x2"].click()
    qtbot.waitUntil(lambda: window.model.shared.features == ("x1", "x2", "x1*x2") and ready(window), timeout=20000)
    shared = window.model.shared
    assert shared.shape == (3, *preset_config("sgd").shape[1:])
    params = starts(window)
    assert np.array_equal(params[0], params[1])
    assert np.array_equal(params[0], init_params(shared.shape, shared.init_seed, shared.init))
    assert np.array_equal(window.model.data.inputs, expand(window.model.data.X, shared.features))
    # the last input cannot be switched off
    for name in ("x1", "x2"):
        panel.features.buttons[name].click()
    qtbot.waitUntil(lambda: window.model.shared.features == ("x1*x2",) and ready(window), timeout=20000)
    panel.features.buttons["x1*x2"].click()
    assert panel.features.buttons["x1*x2"].isChecked() and panel.features.features() == ("x1*x2",)


def test_custom_points_show_as_the_custom_data_set_with_their_count_and_keep_order(qtbot, make_window):
    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    panel = window.panel
    assert panel.dataset.findText("custom") < 0  # no points of the user's yet
    window.controller.set_shared(window.controller.shared.replace(dataset="custom", points=POINTS))
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)
    assert panel.dataset.currentText() == "custom"
    assert panel.fields["n_samples"].edit.text() == "30" and not panel.fields["n_samples"].edit.isEnabled()
    assert not panel.fields["noise"].edit.isEnabled() and panel.keep_order.isVisible()
    assert np.array_equal(window.model.data.X, Dataset.of(window.model.shared).X)
    panel.keep_order.click()
    qtbot.waitUntil(lambda: window.model.shared.keep_order and ready(window), timeout=20000)
    assert np.array_equal(window.model.data.X, POINTS.X)  # the points' own order
    # another data set, then custom again: the points are still offered
    panel.dataset.setCurrentText("circle")
    qtbot.waitUntil(lambda: window.model.shared.dataset == "circle" and ready(window), timeout=20000)
    assert not panel.keep_order.isVisible() and panel.fields["n_samples"].edit.isEnabled()
    panel.dataset.setCurrentText("custom")
    qtbot.waitUntil(lambda: window.model.shared.dataset == "custom" and ready(window), timeout=20000)
    assert window.model.shared.points == POINTS


def test_the_network_view_shows_the_feature_units_with_their_own_maps(qtbot):
    from nnviz.core.network import Layout
    from nnviz.gui.network_view import NetworkView

    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    features = ("x1", "x2^2", "sin(x1)")
    layout = Layout((3, 4, 1), features)
    X = RNG.normal(size=(50, 2))
    view.set_data(X, (X[:, 0] > 0).astype(float))
    view.show_network(init_params(layout.shape, 2, "glorot"), layout, "tanh")
    qtbot.waitUntil(lambda: view.resolution > 0)
    assert view.shown_unit_indices(0) == [0, 1, 2]
    gx, gy = np.meshgrid(view.grid_xs, view.grid_ys)
    plane = np.column_stack([gx.ravel(), gy.ravel()])
    for unit in range(3):
        expected = expand(plane, features)[:, unit].reshape(gx.shape)
        assert np.allclose(view.unit_map(0, unit), expected, atol=1e-5)
    view.open_unit(0, 1)
    assert "x₂²" in view.large_title


def test_hovering_a_map_of_a_network_on_features_reads_out_its_probability(qtbot, make_window):
    from PySide6.QtCore import QPoint

    window = make_window(preset_config("sgd", n_samples=100, epochs=5))
    window.panel.features.buttons["x1*x2"].click()
    qtbot.waitUntil(lambda: window.model.shared.features == ("x1", "x2", "x1*x2") and ready(window), timeout=20000)
    view = window.boundary
    layout = window.model.layout
    theta = window.model.params_at(window.model.ids()[0], 0)[1]
    expected = predict(theta, layout, expand(np.array([[0.3, -0.2]]), layout.inputs), "relu")[0, 0]
    assert view.probability_at(0.3, -0.2) == pytest.approx(expected, abs=1e-12)
    port = view.viewport()
    qtbot.mouseMove(port, QPoint(port.width() // 2, port.height() // 2))  # raised in the event handler before
    qtbot.mouseMove(port, QPoint(port.width() // 3, port.height() // 3))
