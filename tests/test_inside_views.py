"""The window's network view, update sizes and health banner: where they go, what they follow, what they say."""

import numpy as np
import pytest
from helpers import ready, run_to_end
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from nnviz.core.network import predict
from nnviz.core.training import preset_config


def _output_matches(window, params):
    """Whether the network view's output unit shows ``params``' probabilities at its grid points."""
    net = window.network
    layers = len(window.model.shared.shape) - 1
    shown = net.unit_map(layers, 0)
    xs, ys = net.grid_xs, net.grid_ys
    rows, cols = np.arange(0, len(ys), 7), np.arange(0, len(xs), 5)
    points = np.array([[xs[c], ys[r]] for r in rows for c in cols])
    expected = predict(params, window.model.layout, points, window.model.shared.activation).ravel()
    return np.allclose(shown[np.ix_(rows, cols)].ravel(), expected, atol=1e-4)


def test_the_view_modes_place_the_network_and_are_remembered(make_window, settings, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=5))
    assert window.maps.isVisible() and not window.network.isVisible()  # default: the maps only
    window.set_view_mode("both")
    assert window.maps.isVisible() and window.network.isVisible()
    assert window.view_mode.currentData() == "both" and window.view_both_action.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.network.isVisible() and not window.maps.isVisible()
    assert window.view_mode.currentData() == "network"
    assert window.network.shown_units() == [2, 3, 4, 1]
    window.network.set_show_all(True)
    window.close()
    again = make_window(preset_config("sgd", n_samples=200, epochs=5), settings=settings)
    assert again.inside.mode == "network" and again.network.isVisible() and not again.maps.isVisible()
    assert again.network.show_all
    qtbot.keyClick(again, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert again.maps.isVisible() and not again.network.isVisible()


@pytest.mark.parametrize("shape, units", [((2, 5, 1), [2, 5, 1]), ((2, 8, 8, 1), [2, 8, 8, 1])])
def test_the_view_shows_every_unit_of_the_network(make_window, shape, units):
    window = make_window(preset_config("sgd", n_samples=200, epochs=5, shape=shape))
    window.set_view_mode("both")
    assert window.network.shown_units() == units


def test_the_network_view_follows_the_selection_the_live_frames_and_the_timeline(make_window, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=20))
    window.set_view_mode("both")
    first = window.selected_run_id
    second = window.controller.copy_run(first)
    window.controller.edit_run(second, learning_rate=0.3)
    run_to_end(qtbot, window)
    model = window.model
    for run_id in (first, second):
        window.controller.select(run_id)
        qtbot.waitUntil(lambda run_id=run_id: _output_matches(window, model.params_at(run_id)[1]))
        assert not _output_matches(window, model.params_at(first if run_id == second else second)[1])
    window.controller.show_epoch(5)  # the timeline scrubbed back
    qtbot.waitUntil(lambda: _output_matches(window, model.params_at(second, 5)[1]))
    assert not _output_matches(window, model.params_at(second)[1])
    window.controller.show_epoch(None)
    qtbot.waitUntil(lambda: _output_matches(window, model.params_at(second)[1]))


def test_a_saturated_wide_network_gets_the_warning_and_the_remedy(make_window, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=2, shape=(2, 256, 256, 256, 1)))
    banner = window.health_banner
    qtbot.waitUntil(lambda: banner.isVisible())
    assert "The output is saturated on 100 % of the points: the initial weights are too large for 256 units " \
           "a layer; try init 'he'" in banner.text()
    assert banner.button.isVisible() and banner.button.text() == "Use init 'he'"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ready(window) and window.model.shared.init == "he", timeout=30000)
    qtbot.waitUntil(lambda: not banner.isVisible())
    assert window.panel.config().init == "he"  # the panel shows what the runs use
    window.controller.set_shared(window.model.shared.replace(init="notebook"))  # back: the warning comes back
    qtbot.waitUntil(lambda: window.model.shared.init == "notebook" and banner.isVisible(), timeout=30000)


def test_a_healthy_network_gets_no_warning(window):
    assert not window.health_banner.isVisible() and window.health_banner.text() == ""


def test_update_sizes_show_beside_the_curves_for_the_selected_run(window, qtbot):
    assert not window.updates.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert window.updates.isVisible() and window.update_sizes_action.isChecked()
    run_to_end(qtbot, window)
    lines = window.updates.lines()
    assert len(lines) == 3  # 2-3-4-1: three weight layers
    epochs, ratios = window.model[window.selected_run_id].update_sizes.arrays()
    for (x, y), column in zip(lines.values(), ratios.T, strict=True):
        assert list(x) == list(epochs) and np.allclose(y, column)
    window.controller.show_epoch(7)
    qtbot.waitUntil(lambda: window.updates.marker_epoch == 7)


def test_a_unit_shown_large_gives_way_when_the_network_loses_it(make_window, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=5, shape=(2, 8, 8, 1)))
    window.set_view_mode("both")
    window.network.open_unit(2, 7)
    assert window.network.large_unit == (2, 7)
    window.controller.set_shared(window.model.shared.replace(shape=(2, 3, 1)))
    qtbot.waitUntil(lambda: ready(window) and window.model.shared.shape == (2, 3, 1))
    assert window.network.large_unit is None and window.network.shown_units() == [2, 3, 1]


def test_health_of_a_wide_network_is_measured_off_the_gui_thread_for_the_epoch_shown(make_window, qtbot):
    window = make_window(preset_config("mini-batch", n_samples=200, epochs=3, shape=(2, 256, 256, 1)))
    window.set_view_mode("both")
    run_to_end(qtbot, window)
    net = window.network
    for epoch in (1, 2):
        window.controller.show_epoch(epoch)
        qtbot.waitUntil(lambda epoch=epoch: window.inside.health() is not None
                        and window.inside.health().epoch == epoch, timeout=10000)
        rect = net.unit_rect(1, net.shown_unit_indices(1)[0])
        qtbot.waitUntil(lambda epoch=epoch, rect=rect: f"(at epoch {epoch})" in net.hover_text(rect.center()))
        text = net.hover_text(rect.center())
        assert "active on" in text and "—" not in text and "layer's ‖∂J/∂W‖" in text


def test_find_alpha_opens_the_finder_and_applies_its_suggestion_to_the_selected_run(window, qtbot):
    run_id = window.selected_run_id
    before = window.model.initial_params.copy()
    qtbot.mouseClick(window.panel.find_lr, Qt.MouseButton.LeftButton)
    dialog = window.findChild(QDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=30000)
    suggestion = dialog.outcome.suggestion
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)  # one click applies it
    shown = float(f"{suggestion:.3g}")  # the α the button names (3 significant digits)
    assert f"{shown:g}" in dialog.apply_button.text()
    qtbot.waitUntil(lambda: window.model[run_id].spec.learning_rate == shown)
    assert np.array_equal(window.model.initial_params, before)  # the finder changed no weights
    dialog.close()


def test_the_optimisers_button_adds_five_runs_from_the_same_start(window, qtbot):
    window.runs.optimizers_action.trigger()
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 5, timeout=30000)
    assert [run.trainer.config.optimizer for run in window.model] == \
        ["sgd", "heavy-ball", "nesterov", "rmsprop", "adam"]
    run_to_end(qtbot, window, timeout=120000)


def test_the_panel_shows_only_the_chosen_optimisers_fields(window):
    panel = window.panel
    visible = {name: panel.fields[name].row.isVisibleTo(panel) for name in ("momentum", "rho", "beta1", "beta2",
                                                                             "epsilon")}
    assert visible == {"momentum": True, "rho": False, "beta1": False, "beta2": False, "epsilon": False}
    panel.optimizer.setCurrentText("adam")
    visible = {name: panel.fields[name].row.isVisibleTo(panel) for name in visible}
    assert visible == {"momentum": False, "rho": False, "beta1": True, "beta2": True, "epsilon": True}
    assert window.model[window.selected_run_id].trainer.config.optimizer == "adam"  # a restart of the run
    panel.optimizer.setCurrentText("rmsprop")
    assert panel.fields["rho"].row.isVisibleTo(panel) and not panel.fields["beta1"].row.isVisibleTo(panel)
    assert "ρ·s + (1 − ρ)·g²" in panel.fields["rho"].edit.toolTip()


def test_the_landscape_view_shows_every_runs_path_on_one_plane_and_follows_the_timeline(make_window, qtbot):
    from nnviz.core.landscape import project

    window = make_window(preset_config("sgd", n_samples=200, epochs=20))
    second = window.controller.copy_run(window.selected_run_id)
    window.controller.edit_run(second, momentum=0.9, learning_rate=0.03)
    run_to_end(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.inside.mode == "landscape" and not window.maps.isVisible()
    sync = window.inside.landscape
    qtbot.waitUntil(lambda: sync.landscape is not None and not sync.computing, timeout=60000)
    plane = sync.landscape.plane
    assert np.array_equal(plane.theta0, window.model.initial_params)  # the common start is the origin
    items = sync.view.path_items()
    assert list(items) == [run.spec.name for run in window.model]
    for run in window.model:
        epoch, params = window.model.params_at(run.id)
        a, b = project(plane, params)
        x, y = items[run.spec.name]
        assert x[-1] == pytest.approx(float(np.ravel(a)[0])) and y[-1] == pytest.approx(float(np.ravel(b)[0]))
    window.controller.show_epoch(3)
    qtbot.waitUntil(lambda: all(
        (pos[0], pos[1]) == pytest.approx(tuple(float(np.ravel(v)[0]) for v in project(
            plane, window.model.params_at(window.model.by_name(name).id, 3)[1])))
        for name, pos in sync.view.marker_positions().items()))
    shown = sync.landscape
    window.inside.landscape.view.refit_button.click()  # the same paths: a new plane, computed again
    qtbot.waitUntil(lambda: sync.landscape is not shown and not sync.computing, timeout=60000)


def test_the_run_settings_export_writes_a_row_per_run(window, qtbot, tmp_path, monkeypatch):
    from helpers import read_csv
    from PySide6.QtWidgets import QFileDialog

    window.controller.copy_run(window.selected_run_id)
    window.controller.edit_run(window.selected_run_id, optimizer="rmsprop", rho=0.8)
    path = tmp_path / "settings.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    window.export_settings_action.trigger()
    qtbot.waitUntil(lambda: path.exists() and window.message.text().startswith("saved"), timeout=10000)
    rows = read_csv(path.read_text())
    assert [(row["name"], row["optimizer"], row["rho"]) for row in rows] == \
        [(spec.name, spec.optimizer, repr(spec.rho)) for spec in window.model.specs()]
    assert {row["optimizer"] for row in rows} == {"sgd", "rmsprop"}


def test_the_landscape_grid_is_coarser_for_networks_whose_grid_would_take_long():
    from nnviz.core.grid import operations_per_point
    from nnviz.core.network import Layout
    from nnviz.gui.landscape_sync import GRID_WORK, RESOLUTION, SMALLEST, resolution_for

    assert resolution_for(Layout((2, 3, 4, 1)), 1000) == RESOLUTION  # the notebook's: the full grid
    for shape, n in (((2, 64, 64, 1), 1000), ((2, 16, 16, 1), 10_000)):
        r = resolution_for(Layout(shape), n)
        assert SMALLEST < r < RESOLUTION
        assert r * r * operations_per_point(Layout(shape)) * n <= GRID_WORK < (r + 1) ** 2 * \
            operations_per_point(Layout(shape)) * n
    assert resolution_for(Layout((2, 256, 256, 256, 1)), 1000) == SMALLEST


def test_the_landscape_follows_a_change_of_data_with_a_new_grid(make_window, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=10))
    run_to_end(qtbot, window)
    window.set_view_mode("landscape")
    sync = window.inside.landscape
    qtbot.waitUntil(lambda: sync.landscape is not None and not sync.computing, timeout=60000)
    first = sync.landscape
    window.controller.set_shared(window.model.shared.replace(dataset="moons", noise=0.2))  # same weights
    qtbot.waitUntil(lambda: ready(window) and window.model.shared.dataset == "moons", timeout=30000)
    run_to_end(qtbot, window)
    qtbot.waitUntil(lambda: sync.landscape is not first and not sync.computing, timeout=60000)
    landscape = sync.landscape
    i, j = list(landscape.b).index(0.0), list(landscape.a).index(0.0)
    assert landscape.cost[i, j] == pytest.approx(window.model.start.evaluation.cost, rel=1e-12)  # the new data's


def test_a_plane_fitted_before_the_runs_moved_is_fitted_again_as_they_train(make_window, qtbot):
    window = make_window(preset_config("sgd", n_samples=200, epochs=60))
    window.set_view_mode("landscape")  # at epoch 0: nothing has moved, the plane is arbitrary
    sync = window.inside.landscape
    qtbot.waitUntil(lambda: sync.landscape is not None and not sync.computing, timeout=60000)
    run_to_end(qtbot, window)
    qtbot.waitUntil(lambda: not sync.computing and sync.landscape.paths[0].epochs[-1] == 60, timeout=60000)
    assert sync.landscape.paths[0].share >= 0.9  # fitted to what the path became, not to its first step


def test_the_optimisers_shortcut_works_wherever_the_focus_is(window, qtbot):
    window.curves.setFocus()
    qtbot.keyClick(window.curves, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: ready(window) and len(window.model) == 5, timeout=30000)
