"""The seed the live runs train from (the maps show it): the rule giving its shared settings, the model keeping
the user's own settings beside it, sessions; and the seeds' test-set columns with their band."""

import json

import numpy as np
import pytest

from nnviz.core.comparison import RESTART_ALL, Comparison, RunSpec, SharedSettings
from nnviz.core.network import init_params
from nnviz.core.seeds import SeedCurves, SeedSettings, band, run_seed_configs, shown_note, shown_shared
from nnviz.core.session import SessionError, parse_session, session_text
from nnviz.core.sweep import train_configs

SHARED = SharedSettings(dataset="moons", n_samples=200, noise=0.2, shape=(2, 4, 1), engine="numpy",
                        init_seed=1234, data_seed=7)
RUNS = [RunSpec("slow", learning_rate=0.05, batch_size=10, epochs=4),
        RunSpec("fast", learning_rate=0.5, batch_size=10, epochs=4, colour="#ff7f0e")]
TOP = 2**32 - 1


@pytest.mark.parametrize(("kind", "init_seed", "data_seed"), [("init", 1236, 7), ("data", 1234, 9),
                                                              ("both", 1236, 9)])
def test_the_shown_seed_offsets_the_seeds_its_kind_varies(kind, init_seed, data_seed):
    seeded = shown_shared(SHARED, SeedSettings(5, kind, shown=3))
    assert (seeded.init_seed, seeded.data_seed) == (init_seed, data_seed)
    assert seeded.replace(init_seed=1234, data_seed=7) == SHARED  # nothing else changes
    config = run_seed_configs(SHARED, RUNS[:1], SeedSettings(5, kind))[2]  # seed 3 as the band trains it
    assert (config.init_seed, config.data_seed) == (init_seed, data_seed)
    assert shown_shared(SHARED, SeedSettings(5, kind)) is SHARED  # seed 1: the user's own


def test_the_offset_wraps_modulo_two_to_the_32():
    top = SHARED.replace(init_seed=TOP, data_seed=TOP - 1)
    seeded = shown_shared(top, SeedSettings(4, "both", shown=4))
    assert (seeded.init_seed, seeded.data_seed) == (2, 1)


@pytest.mark.parametrize(("values", "message"), [
    ({"count": 3, "shown": 4}, "shown_seed=4: must be an integer from 1 to the seed count (3)"),
    ({"count": 3, "shown": 0}, "shown_seed=0: must be an integer from 1 to the seed count (3)"),
    ({"shown": 2}, "shown_seed=2: must be an integer from 1 to the seed count (1)"),
    ({"count": 3, "shown": 1.5}, "shown_seed=1.5: must be an integer"),
    ({"count": 3, "shown": True}, "shown_seed=True: must be an integer"),
])
def test_a_shown_seed_beyond_the_count_is_refused_in_one_line(values, message):
    with pytest.raises(ValueError) as info:
        SeedSettings(**values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_note_names_the_shown_seed_and_its_seeds():
    assert shown_note(SHARED, SeedSettings(5, "init", shown=3)) == "maps: seed 3 (init seed 1236)"
    assert shown_note(SHARED, SeedSettings(5, "both", shown=2)) == "maps: seed 2 (init seed 1235, data seed 8)"
    assert shown_note(SHARED, SeedSettings(5, "init")) == ""


def test_the_model_trains_the_live_runs_from_the_shown_seed_and_keeps_the_users_settings():
    model = Comparison(SHARED, RUNS)
    model.seeds.set_settings(SeedSettings(4, "init"))
    before = model.start
    assert model.set_shared(SHARED, seeds=SeedSettings(4, "init", shown=3)) == RESTART_ALL
    assert model.shared == SHARED and model.shown_shared.init_seed == 1236
    np.testing.assert_array_equal(model.initial_params, init_params(SHARED.shape, 1236, SHARED.init))
    np.testing.assert_array_equal(model.data.X, before.data.X)  # init only: the same points
    for run in model:
        np.testing.assert_array_equal(run.snapshots.nearest(0)[1], init_params(SHARED.shape, 1236, SHARED.init))
    seed3 = train_configs(run_seed_configs(SHARED, RUNS[:1], SeedSettings(4))[2:3], history=True, workers=1)[0]
    assert model.by_name("slow").history.column("cost")[0] == seed3.costs[0]
    # an edit of the user's seeds keeps the offset
    model.set_shared(SHARED.replace(init_seed=10))
    assert model.shared.init_seed == 10 and model.shown_shared.init_seed == 12
    # undo brings back the runs and the seed they trained from
    checkpoint = model.checkpoint()
    model.set_shared(SHARED.replace(init_seed=10), seeds=SeedSettings(4, "init", shown=1))
    assert model.shown_shared.init_seed == 10
    model.restore(checkpoint)
    assert model.seeds.settings.shown == 3 and model.shown_shared.init_seed == 12 and model.shared.init_seed == 10


def test_replace_with_seed_settings_prepares_the_shown_seed():
    model = Comparison(SHARED, RUNS)
    model.replace(SHARED, RUNS, seeds=SeedSettings(3, "data", shown=2))
    assert model.shared == SHARED and model.shown_shared.data_seed == 8 and model.seeds.settings.shown == 2
    model.replace(SHARED, RUNS[:1])  # the seed settings stay
    assert model.shown_shared.data_seed == 8


def test_sessions_keep_the_shown_seed_and_older_files_open_with_seed_one():
    settings = SeedSettings(5, "both", 0.1, shown=4)
    text = session_text(SHARED, RUNS, seeds=settings)
    doc = json.loads(text)
    assert doc["seeds"]["shown"] == 4 and doc["shared"]["init_seed"] == 1234  # the user's seeds, not the offset
    assert parse_session(text).seeds == settings
    del doc["seeds"]["shown"]
    assert parse_session(json.dumps(doc)).seeds == SeedSettings(5, "both", 0.1)
    bad = text.replace('"shown": 4', '"shown": 6')
    with pytest.raises(SessionError, match=r"^<session>: seeds.shown: must be an integer from 1 to the seed count "
                                           r"\(5\), got 6$"):
        parse_session(bad)
    with pytest.raises(SessionError, match=r"seeds.shown: must be an integer, got \"3\""):
        parse_session(text.replace('"shown": 4', '"shown": "3"'))


def test_the_seeds_keep_their_test_columns_and_band_them():
    shared = SHARED.replace(test_fraction=0.25)
    configs = run_seed_configs(shared, RUNS[:1], SeedSettings(5))
    results = train_configs(configs, history=True, workers=1)
    curves = SeedCurves.from_results(configs[0], results)
    assert curves.has_test
    test_costs = np.array([r.test_costs for r in results])
    low, median, high = np.percentile(test_costs, [10, 50, 90], axis=0)
    test_band = band(curves, "test_cost")
    np.testing.assert_allclose(test_band.median, median, rtol=1e-12)
    np.testing.assert_allclose(test_band.low, low, rtol=1e-12)
    np.testing.assert_allclose(test_band.high, high, rtol=1e-12)
    assert not np.allclose(test_band.median, band(curves, "cost").median)  # its own numbers, not training's
    accuracies = np.array([r.test_accuracies for r in results])
    np.testing.assert_allclose(band(curves, "test_accuracy").median, np.median(accuracies, axis=0), rtol=1e-12)
    plain = SeedCurves.from_results(configs[0], train_configs(run_seed_configs(SHARED, RUNS[:1], SeedSettings(2)),
                                                              history=True, workers=1))
    assert not plain.has_test
    with pytest.raises(ValueError, match="column='test_cost': these seeds have no test set"):
        band(plain, "test_cost")
