"""Small-multiple decision maps and the timeline slider (pytest-qt, offscreen)."""

from types import SimpleNamespace

import numpy as np
import pytest
from helpers import shown
from PySide6.QtCore import QPoint, Qt

from nnviz.core.datasets import make_hard, split_train_test
from nnviz.core.grid import GridEvaluator
from nnviz.core.network import Layout, init_params
from nnviz.gui.maps_panel import MapsPanel, grid_columns, map_title
from nnviz.gui.timeline import TimelineSlider


class _Comparison(list):
    """Four runs of the notebook's network on its data, each with its own parameters, cost and epoch (the
    maps only draw what they are given: no training needed, and no dependence on the comparison model)."""

    layout = Layout((2, 3, 4, 1))
    initial_params = init_params((2, 3, 4, 1), 1234)
    X, y, X_test, y_test = split_train_test(*make_hard(1000, seed=1337), 0.2, 0)


@pytest.fixture(scope="module")
def comparison():
    runs = _Comparison()
    for k, (name, colour) in enumerate([("sgd", "#1f77b4"), ("decay", "#ff7f0e"), ("momentum", "#2ca02c"),
                                        ("mini-batch", "#d62728")]):
        theta = init_params(_Comparison.layout.shape, 1234) + 0.8 * init_params(_Comparison.layout.shape, k)
        runs.append(SimpleNamespace(name=name, colour=colour, theta=theta, cost=0.69 - 0.01 * k, epoch=5))
    return runs


def _show(panel, comparison, ids):
    for run_id, run in zip(ids, comparison, strict=True):
        panel.show_state(run_id, run.theta, comparison.layout, "relu", run.cost, run.epoch)


@pytest.fixture
def panel(qtbot, comparison):
    panel = MapsPanel(compact_resolution=40, large_resolution=60)
    qtbot.addWidget(panel)
    panel.resize(700, 700)
    panel.show()
    qtbot.waitExposed(panel)
    ids = [10, 11, 12, 13]
    panel.set_runs([(run_id, run.name, run.colour) for run_id, run in zip(ids, comparison, strict=True)])
    panel.set_data(comparison.X, comparison.y, comparison.X_test, comparison.y_test)
    _show(panel, comparison, ids)
    return panel, ids


def _shown_maps(panel, ids):
    return [run_id for run_id in ids if panel.map_view(run_id).isVisible()]


def _click(qtbot, view):
    centre = view.mapFromScene(view.plot.sceneBoundingRect().center())
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=QPoint(centre.x(), centre.y()))


def test_one_map_per_run_each_showing_its_own_parameters_and_cost(panel, comparison):
    panel, ids = panel
    assert _shown_maps(panel, ids) == ids
    assert panel.grid_shape == (4, 1)  # the data is ~3.4 times wider than high: one wide map a row
    for run_id, run in zip(ids, comparison, strict=True):
        view = panel.map_view(run_id)
        assert f"{run.name} — cost {run.cost:.3g}" in view.title
        assert run.colour in view.title
        expected = GridEvaluator(comparison.layout, "relu", view.extent, view.resolution)(run.theta)
        np.testing.assert_allclose(view.probabilities, expected, atol=1e-6)
        assert tuple(view.image.getLevels()) == (0.0, 1.0)
    # Different strategies, different maps.
    assert not np.array_equal(panel.map_view(ids[0]).probabilities, panel.map_view(ids[1]).probabilities)


def test_grid_reflows_with_the_number_of_runs_and_the_shape(qtbot, panel):
    panel, ids = panel
    panel.set_runs([(ids[0], "a", "#112233")])
    assert panel.grid_shape == (1, 1)
    panel.set_runs([(ids[0], "a", "#112233"), (ids[1], "b", "#445566")])
    assert panel.grid_shape[0] * panel.grid_shape[1] == 2
    panel.set_runs([(i, f"r{i}", "#445566") for i in ids[:3]])
    assert panel.grid_shape == (3, 1)
    panel.resize(1400, 450)
    assert panel.grid_shape == (2, 2)
    panel.resize(2400, 300)
    assert panel.grid_shape == (1, 3)
    assert grid_columns(9, 600, 600) == 3 and grid_columns(1, 10, 10) == 1 and grid_columns(5, 0, 0) == 3
    # Wide data (the notebook's is ~3.4 times wider than high) packs four maps 2 × 2, not in one row.
    assert grid_columns(4, 1050, 340) == 4 and grid_columns(4, 1050, 340, aspect=3.4) == 2


def test_click_shows_the_run_large_and_escape_returns(qtbot, panel, comparison):
    panel, ids = panel
    view = panel.map_view(ids[2])
    with qtbot.waitSignal(panel.run_clicked, timeout=1000) as clicked:
        _click(qtbot, view)
    assert clicked.args == [ids[2]]
    assert panel.large_run_id == ids[2] and panel.current_view() is panel.large
    qtbot.waitUntil(panel.large.isVisible, timeout=1000)
    assert not view.isVisible()
    run = list(comparison)[2]
    assert "momentum — epoch 5 — cost" in panel.large.title
    expected = GridEvaluator(comparison.layout, "relu", panel.large.extent, 60)(run.theta)
    np.testing.assert_allclose(panel.large.probabilities, expected, atol=1e-6)
    with qtbot.waitSignal(panel.large_changed, timeout=1000) as closed:
        qtbot.keyClick(panel, Qt.Key_Escape)
    assert closed.args == [-1] and panel.large_run_id == -1 and panel.current_view() is None
    assert _shown_maps(panel, ids) == ids
    panel.show_large(ids[1])
    qtbot.keyClick(panel.large, Qt.Key_Escape)  # also when the large map has the focus
    assert panel.large_run_id == -1


def test_the_back_button_returns_and_a_small_map_catches_up_afterwards(qtbot, panel, comparison):
    panel, ids = panel
    panel.show_large(ids[0])
    small = panel.map_view(ids[3])
    before = small.probabilities
    new_theta = np.asarray(comparison.initial_params)
    panel.show_state(ids[3], new_theta, comparison.layout, "relu", 0.7, 0)
    np.testing.assert_array_equal(small.probabilities, before)  # hidden behind the large view: not drawn yet
    panel.back_button.click()
    assert panel.large_run_id == -1
    expected = GridEvaluator(comparison.layout, "relu", small.extent, 40)(new_theta)
    np.testing.assert_allclose(small.probabilities, expected, atol=1e-6)
    assert "cost 0.7" in small.title


def test_an_unchanged_state_is_not_evaluated_again(panel, comparison, monkeypatch):
    panel, ids = panel
    calls = []
    view = panel.map_view(ids[0])
    monkeypatch.setattr(view, "set_model", lambda *args: calls.append(args))
    run = list(comparison)[0]
    panel.show_state(ids[0], run.theta.copy(), comparison.layout, "relu", 0.5, 5)
    assert calls == []
    panel.show_state(ids[0], run.theta + 0.1, comparison.layout, "relu", 0.5, 5)
    assert len(calls) == 1


def test_hiding_a_run_hides_its_map_and_closes_it_if_large(qtbot, panel):
    panel, ids = panel
    panel.set_run_visible(ids[1], False)
    assert _shown_maps(panel, ids) == [ids[0], ids[2], ids[3]]
    panel.show_large(ids[2])
    panel.set_run_visible(ids[2], False)
    assert panel.large_run_id == -1
    assert _shown_maps(panel, ids) == [ids[0], ids[3]] and panel.grid_shape[0] * panel.grid_shape[1] == 2
    panel.set_run_visible(ids[1], True)
    assert _shown_maps(panel, ids) == [ids[0], ids[1], ids[3]]


def test_removed_runs_lose_their_map_and_discretize_reaches_every_map(panel):
    panel, ids = panel
    panel.show_large(ids[3])
    panel.set_runs([(ids[0], "renamed", "#000000"), (ids[1], "b", "#111111")])
    assert panel.large_run_id == -1
    with pytest.raises(KeyError):
        panel.map_view(ids[3])
    assert "renamed" in panel.map_view(ids[0]).title
    panel.set_discretize(True)
    assert set(np.unique(panel.map_view(ids[1]).probabilities)) <= {0.0, 1.0}
    assert set(np.unique(panel.large.probabilities)) <= {0.0, 1.0}
    with pytest.raises(KeyError, match="run_id=99"):
        panel.show_state(99, np.zeros(3), None, "relu", 0.1, 1)


def test_map_title_marks_divergence():
    assert map_title("a<b", "#ff0000", float("nan")).endswith("a&lt;b — diverged")
    assert map_title("sgd", "#ff0000", 0.01463, 150).endswith("sgd — epoch 150 — cost 0.0146")


# ---- TimelineSlider ------------------------------------------------------------------------------------


@pytest.fixture
def timeline(qtbot):
    return shown(qtbot, TimelineSlider(), 500, 40)


def test_live_timeline_follows_training_without_signals(qtbot, timeline):
    assert timeline.is_live() and timeline.current_epoch() == 0
    with qtbot.assertNotEmitted(timeline.epoch_changed):
        for epoch in (1, 2, 50):
            timeline.set_max_epoch(epoch)
    assert timeline.current_epoch() == 50 and timeline.is_live()
    assert timeline.label.text() == "epoch 50 / 50"


def test_scrubbing_back_leaves_live_mode_and_stays_put(qtbot, timeline):
    timeline.set_max_epoch(100)
    with qtbot.waitSignals([timeline.live_changed, timeline.epoch_changed], timeout=1000):
        timeline.slider.setValue(30)  # as a drag does
    assert not timeline.is_live() and timeline.current_epoch() == 30
    assert not timeline.live_button.isChecked()
    with qtbot.assertNotEmitted(timeline.epoch_changed):
        timeline.set_max_epoch(120)
    assert timeline.current_epoch() == 30 and timeline.label.text() == "epoch  30 / 120"
    # Dragging to the end goes live again.
    with qtbot.waitSignal(timeline.live_changed, timeout=1000) as live:
        timeline.slider.setValue(120)
    assert live.args == [True] and timeline.is_live()


def test_home_end_and_the_live_button(qtbot, timeline):
    timeline.set_max_epoch(40)
    timeline.setFocus()
    with qtbot.waitSignal(timeline.epoch_changed, timeout=1000) as changed:
        qtbot.keyClick(timeline.slider, Qt.Key_Home)
    assert changed.args == [0] and not timeline.is_live()
    with qtbot.waitSignal(timeline.epoch_changed, timeout=1000) as changed:
        qtbot.keyClick(timeline.slider, Qt.Key_Right)
    assert changed.args == [1]
    with qtbot.waitSignal(timeline.epoch_changed, timeout=1000) as changed:
        qtbot.keyClick(timeline.slider, Qt.Key_End)
    assert changed.args == [40] and timeline.is_live()
    timeline.set_epoch(7)
    assert not timeline.is_live()
    with qtbot.waitSignal(timeline.epoch_changed, timeout=1000) as changed:
        timeline.live_button.click()
    assert changed.args == [40] and timeline.is_live() and timeline.live_button.isChecked()
    timeline.set_max_epoch(41)
    assert timeline.current_epoch() == 41
    timeline.live_button.click()  # stop following, stay where it is
    assert not timeline.is_live()
    timeline.set_max_epoch(60)
    assert timeline.current_epoch() == 41
    timeline.reset()
    assert timeline.is_live() and timeline.current_epoch() == 0 and timeline.max_epoch() == 0
    with pytest.raises(ValueError, match="epoch=-1"):
        timeline.set_max_epoch(-1)
