"""The window's seeds: the panel's control trains every run's seeds in the background, the curves draw each run's
median and 10–90 % band, the summary dock shows the numbers, an edit retrains only that run, Cancel stops."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from nnviz.core.comparison import RunSpec, SharedSettings
from nnviz.core.seeds import SeedSettings, cost_text, run_seed_configs
from nnviz.core.sweep import train_configs
from nnviz.core.training import TrainConfig

SHARED = SharedSettings(dataset="moons", n_samples=200, noise=0.2, shape=(2, 4, 1))
RUNS = [RunSpec("slow", learning_rate=0.05, batch_size=10, epochs=8),
        RunSpec("fast", learning_rate=0.5, batch_size=10, epochs=8, colour="#ff7f0e")]


@pytest.fixture
def window(make_window, qtbot):
    window = make_window(TrainConfig(dataset="moons", n_samples=200, shape=(2, 4, 1), epochs=8))
    window.controller.seeds.workers = 1  # in this process: quick for a few tiny runs
    window.controller.replace(SHARED, RUNS)
    qtbot.waitUntil(lambda: not window.controller.busy and [r.spec.name for r in window.model] == ["slow", "fast"],
                    timeout=20000)
    return window


def _trained(window):
    return all(window.controller.seeds.curves(run.id) is not None for run in window.model)


def _seed_costs(window, run):
    """Every seed's per-epoch costs of a run, trained here apart from the window."""
    configs = run_seed_configs(window.model.shared, [run.spec], window.controller.seeds.settings)
    return np.array([r.costs for r in train_configs(configs, history=True, workers=1)])


def test_three_seeds_draw_a_band_per_run_and_fill_the_summary(window, qtbot):
    assert window.curves.bands.keys() == []  # one seed: no band
    assert "median" in window.panel.seeds.count.toolTip() and window.panel.seeds.kind.toolTip()
    window.panel.seeds.count.setValue(3)
    assert window.controller.seeds.settings == SeedSettings(3)
    qtbot.waitUntil(lambda: _trained(window), timeout=20000)
    qtbot.waitUntil(lambda: not window.controller.seeds.busy)
    for run in window.model:
        costs = _seed_costs(window, run)
        items = window.curves.bands.items(str(run.id))
        np.testing.assert_allclose(items["cost", "median"].yData, np.median(costs, axis=0), rtol=1e-12)
        np.testing.assert_allclose(items["cost", "low"].yData, np.percentile(costs, 10, axis=0), rtol=1e-12)
        np.testing.assert_allclose(items["cost", "high"].yData, np.percentile(costs, 90, axis=0), rtol=1e-12)
        assert items["cost", "median"].xData.tolist() == list(range(9))
        fill = items["cost", "fill"]
        assert fill.isVisible() and fill.brush().color().name() == run.spec.colour
        assert 0 < fill.brush().color().alpha() < 255  # translucent
    window.seeds_summary_action.trigger()
    assert window.seed_views.summary.isVisible()
    rows = window.seed_views.summary.rows()
    assert [row[:2] for row in rows] == [["slow", "3"], ["fast", "3"]]
    costs = _seed_costs(window, window.model.by_name("fast"))
    assert rows[1][2] == cost_text(float(np.median(costs[:, -1])), 4)
    assert rows[1][5] == "0 %" and rows[1][6] == "—"
    target = float(np.median(costs[:, -1]))
    window.seed_views.summary.target.setText(repr(target))
    window.seed_views.summary.target.editingFinished.emit()
    missed = np.mean(~np.any(costs <= target, axis=1))  # seeds whose cost never got to the target
    assert window.seed_views.summary.rows()[1][6] == f"{100 * missed:.0f} %" and missed < 1
    assert window.controller.seeds.settings.target == target and not window.controller.seeds.busy


def test_an_edit_retrains_that_runs_seeds_and_a_rename_nothing(window, qtbot):
    window.controller.seeds.set_settings(SeedSettings(3, "data"))
    assert window.panel.seeds.count.value() == 3 and window.panel.seeds.kind.currentData() == "data"
    qtbot.waitUntil(lambda: _trained(window) and not window.controller.seeds.busy, timeout=20000)
    slow, fast = window.model.by_name("slow").id, window.model.by_name("fast").id
    kept = window.controller.seeds.curves(fast)
    window.controller.edit_run(fast, name="quick")
    assert not window.controller.seeds.busy and window.controller.seeds.curves(fast) is kept
    window.controller.edit_run(slow, learning_rate=0.2)
    assert window.controller.seeds.curves(slow) is None and str(slow) not in window.curves.bands.keys()
    qtbot.waitUntil(lambda: _trained(window) and not window.controller.seeds.busy, timeout=20000)
    assert window.controller.seeds.curves(fast) is kept
    costs = _seed_costs(window, window.model[slow])
    np.testing.assert_allclose(window.curves.bands.items(str(slow))["cost", "median"].yData,
                               np.median(costs, axis=0), rtol=1e-12)


def test_cancel_stops_the_seeds_and_keeps_them_stopped_until_asked(window, qtbot):
    window.controller.replace(SHARED, [spec.replace(epochs=20000) for spec in RUNS])
    qtbot.waitUntil(lambda: not window.controller.busy and window.model.by_name("slow").spec.epochs == 20000,
                    timeout=20000)
    window.panel.seeds.count.setValue(50)
    assert window.controller.seeds.busy
    qtbot.waitUntil(lambda: window.seed_views.cancel_button.isVisible())
    assert window.seed_views.label.text().startswith("seeds trained: 0 of 100")
    qtbot.mouseClick(window.seed_views.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.controller.seeds.busy and not window.seed_views.cancel_button.isVisible()
    threads = [t for t in threading.enumerate() if t.name.startswith("nnviz-seeds-")]
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)  # the job's thread has ended, not just been forgotten
    assert not _trained(window) and window.curves.bands.keys() == []
    window.controller.edit_run(window.model.by_name("slow").id, colour="#123456")  # an edit that trains nothing
    assert not window.controller.seeds.busy
    window.seed_views.summary.train.click()  # asked again
    assert window.controller.seeds.busy
    window.controller.seeds.cancel()
    assert not window.controller.seeds.busy


def test_seeds_still_training_when_the_seed_count_changes_under_them_are_dropped_quietly(window, qtbot):
    slow = [run.spec.replace(epochs=3000) for run in window.model]
    window.controller.replace(window.model.shared, slow)
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=20000)
    window.panel.seeds.count.setValue(2)
    qtbot.waitUntil(lambda: window.controller.seeds.busy, timeout=5000)
    window.model.seeds.set_settings(SeedSettings())  # as a session of one seed sets it, the job still running
    qtbot.waitUntil(lambda: not window.controller.seeds.busy, timeout=30000)
    qtbot.wait(200)
    assert all(window.controller.seeds.curves(run.id) is None for run in window.model)
