"""The window's shown seed: "maps show seed" restarts the live runs from that seed's start (the maps, the runs'
curves, undo) while the panel keeps the user's seeds and the band stays trained; sessions keep both; the test
curves get their seeds' band."""

import json

import numpy as np
import pytest

from nnviz.core.comparison import RunSpec, SharedSettings
from nnviz.core.network import init_params
from nnviz.core.seeds import SeedSettings, band, run_seed_configs
from nnviz.core.sweep import train_configs
from nnviz.core.training import TrainConfig

SHARED = SharedSettings(dataset="moons", n_samples=200, noise=0.2, shape=(2, 4, 1), init_seed=1234, data_seed=7)
RUNS = [RunSpec("slow", learning_rate=0.05, batch_size=10, epochs=6),
        RunSpec("fast", learning_rate=0.5, batch_size=10, epochs=6, colour="#ff7f0e")]


def _ready(window, qtbot, shared=SHARED):
    window.controller.replace(shared, RUNS)
    qtbot.waitUntil(lambda: not window.controller.busy and window.model.shared == shared
                    and [r.spec.name for r in window.model] == ["slow", "fast"], timeout=20000)
    return window


@pytest.fixture
def window(make_window, qtbot):
    window = make_window(TrainConfig(dataset="moons", n_samples=200, shape=(2, 4, 1), epochs=6))
    window.controller.seeds.workers = 1  # in this process: quick for a few tiny runs
    return _ready(window, qtbot)


def _trained(window):
    runner = window.controller.seeds
    return not runner.busy and all(runner.curves(run.id) is not None for run in window.model)


def _seed_results(shared, spec, settings):
    return train_configs(run_seed_configs(shared, [spec], settings), history=True, workers=1)


def test_the_maps_show_seed_three_without_retraining_the_band(window, qtbot):
    c, runner = window.controller, window.controller.seeds
    runner.set_settings(SeedSettings(4))
    qtbot.waitUntil(lambda: _trained(window), timeout=20000)
    kept = {run.id: runner.curves(run.id) for run in window.model}
    drawn = {run.id: window.curves.bands.items(str(run.id))["cost", "median"].yData.copy() for run in window.model}
    c.step()
    qtbot.waitUntil(lambda: window.model.trained_epochs() == len(window.model), timeout=20000)
    started = []
    runner.progress.connect(lambda done, total: started.append(total) if total else None)
    assert window.panel.seeds.shown.toolTip() and window.panel.seeds.shown.isEnabled()
    window.panel.seeds.shown.setValue(3)
    qtbot.waitUntil(lambda: not c.busy and window.model.seeds.settings.shown == 3, timeout=20000)
    seeded = init_params(SHARED.shape, 1234 + 2, SHARED.init)
    np.testing.assert_array_equal(window.model.initial_params, seeded)
    seed3 = _seed_results(SHARED, RUNS[0], SeedSettings(4))[2]
    for run in window.model:
        assert run.epoch == 0
        np.testing.assert_array_equal(run.snapshots.nearest(0)[1], seeded)
    assert window.model.by_name("slow").history.column("cost")[0] == seed3.costs[0]
    # the user's seeds stay in the panel and the model; the note and the titles name the seed shown
    assert window.model.shared == SHARED and window.panel.fields["init_seed"].edit.text() == "1234"
    assert window.panel.seeds.note.text() == "maps: seed 3 (init seed 1236)"
    assert "seed 3" in window.maps.map_view(window.model.by_name("fast").id).title
    assert window.seed_views.summary.note.text() == "4 seeds per run; maps: seed 3 (init seed 1236)"
    # the band: not retrained, the same numbers drawn
    assert started == [] and not runner.busy
    for run in window.model:
        assert runner.curves(run.id) is kept[run.id]
        np.testing.assert_array_equal(window.curves.bands.items(str(run.id))["cost", "median"].yData, drawn[run.id])
    # an edit of the user's seed keeps the offset
    c.set_shared(SHARED.replace(init_seed=50))
    qtbot.waitUntil(lambda: not c.busy and window.model.shared.init_seed == 50, timeout=20000)
    np.testing.assert_array_equal(window.model.initial_params, init_params(SHARED.shape, 52, SHARED.init))
    assert window.panel.seeds.note.text() == "maps: seed 3 (init seed 52)"


def test_undo_brings_back_the_runs_of_seed_one_and_fewer_seeds_show_the_last(window, qtbot):
    c = window.controller
    c.seeds.set_settings(SeedSettings(3, "data"))
    c.step()
    # (the epoch in every history, not only in the trainers: the worker appends it a moment later)
    qtbot.waitUntil(lambda: window.model.trained_epochs() == len(window.model), timeout=20000)
    before = window.model.initial_params
    c.seeds.set_settings(SeedSettings(3, "data", shown=3))
    qtbot.waitUntil(lambda: not c.busy and window.model.shown_shared.data_seed == 9, timeout=20000)
    assert all(run.epoch == 0 for run in window.model) and c.can_undo
    assert c.undo()
    assert window.model.seeds.settings == SeedSettings(3, "data") and window.model.shown_shared == SHARED
    assert window.model.initial_params is before and all(run.epoch == 1 for run in window.model)
    assert window.panel.seeds.shown.value() == 1 and not window.panel.seeds.note.isVisible()
    assert "seed" not in window.maps.map_view(window.model.by_name("fast").id).title
    window.panel.seeds.shown.setValue(3)
    qtbot.waitUntil(lambda: not c.busy and window.model.seeds.settings.shown == 3, timeout=20000)
    window.panel.seeds.count.setValue(2)  # below the shown seed: the maps show the last one
    qtbot.waitUntil(lambda: not c.busy and window.model.seeds.settings == SeedSettings(2, "data", shown=2),
                    timeout=20000)
    assert window.model.shown_shared.data_seed == 8 and window.panel.seeds.shown.maximum() == 2


def test_a_session_keeps_the_users_seeds_and_the_shown_seed(window, make_window, qtbot, tmp_path):
    c = window.controller
    settings = SeedSettings(3, "both", shown=2)
    c.seeds.set_settings(settings)
    qtbot.waitUntil(lambda: not c.busy and window.model.seeds.settings == settings, timeout=20000)
    c.play()
    qtbot.waitUntil(lambda: c.ended, timeout=20000)
    path = tmp_path / "shown.nnviz.json"
    assert window.save_session_to(path, histories=True)
    doc = json.loads(path.read_text())
    assert doc["seeds"]["shown"] == 2 and (doc["shared"]["init_seed"], doc["shared"]["data_seed"]) == (1234, 7)
    other = make_window(TrainConfig(dataset="moons", n_samples=200, shape=(2, 4, 1), epochs=6))
    other.controller.seeds.workers = 1
    with qtbot.waitSignal(other.controller.restored, timeout=30000) as restored:
        assert other.open_session_from(path)
    assert restored.args == [True]  # retrained from seed 2's start, the runs reproduce their saved histories
    model = other.model
    assert model.shared == SHARED and model.seeds.settings == settings
    assert (model.shown_shared.init_seed, model.shown_shared.data_seed) == (1235, 8)
    assert other.panel.fields["init_seed"].edit.text() == "1234" and other.panel.seeds.shown.value() == 2
    del doc["seeds"]["shown"]  # an older file: seed 1
    path.write_text(json.dumps(doc))
    assert other.open_session_from(path)
    qtbot.waitUntil(lambda: not other.controller.busy and other.model.seeds.settings.shown == 1, timeout=20000)
    assert other.model.shown_shared == SHARED


def test_the_test_curves_get_their_seeds_band(make_window, qtbot):
    shared = SHARED.replace(test_fraction=0.25)
    window = make_window(TrainConfig(dataset="moons", n_samples=200, shape=(2, 4, 1), epochs=6))
    window.controller.seeds.workers = 1
    _ready(window, qtbot, shared)
    window.controller.seeds.set_settings(SeedSettings(4))
    qtbot.waitUntil(lambda: _trained(window), timeout=20000)
    for run in window.model:
        results = _seed_results(shared, run.spec, SeedSettings(4))
        key = str(run.id)
        items = window.curves.bands.items(key)
        curves = window.controller.seeds.curves(run.id)
        for plot, column, values in (("cost", "test_cost", [r.test_costs for r in results]),
                                     ("accuracy", "test_accuracy", [r.test_accuracies for r in results])):
            np.testing.assert_array_equal(window.curves.bands.band(key, plot, test=True).median,
                                          band(curves, column).median)
            np.testing.assert_allclose(items[plot, "test_median"].yData, np.median(values, axis=0), rtol=1e-12)
            assert items[plot, "test_fill"].isVisible()
        low = np.percentile([r.test_costs for r in results], 10, axis=0)
        np.testing.assert_allclose(items["cost", "test_low"].yData, low, rtol=1e-12)
        assert not np.allclose(items["cost", "test_median"].yData, items["cost", "median"].yData)


def test_without_a_test_set_no_test_band_is_drawn(window, qtbot):
    window.controller.seeds.set_settings(SeedSettings(3))
    qtbot.waitUntil(lambda: _trained(window), timeout=20000)
    run = window.model.by_name("slow")
    items = window.curves.bands.items(str(run.id))
    assert items["cost", "fill"].isVisible() and ("cost", "test_fill") not in items
    with pytest.raises(KeyError):
        window.curves.bands.band(str(run.id), "cost", test=True)
