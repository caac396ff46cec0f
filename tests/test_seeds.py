"""Runs repeated over seeds: paired seeds, the median and band (checked against numpy on the CSV rows), the
summary's shares, a diverged seed's share of the band, the settings' checks and the store's edit rule."""

import math

import numpy as np
import pytest
from helpers import read_csv, run_cli

from nnviz.core.comparison import RunSpec, SharedSettings, preset_run, preset_shared
from nnviz.core.network import init_params
from nnviz.core.seeds import (
    SeedCurves,
    SeedSettings,
    SeedStore,
    band,
    quantiles,
    run_seed_configs,
    summarize,
)
from nnviz.core.session import SessionError, parse_session, session_text
from nnviz.core.sweep import train_configs

SHARED = SharedSettings(dataset="moons", n_samples=200, noise=0.2, shape=(2, 4, 1), engine="numpy")
RUNS = [RunSpec("slow", learning_rate=0.05, batch_size=10, epochs=6),
        RunSpec("fast", learning_rate=0.5, batch_size=10, epochs=6, colour="#ff7f0e")]


@pytest.mark.parametrize("kind", ["init", "data", "both"])
def test_seed_i_starts_every_run_from_the_same_weights_and_data(kind):
    configs = run_seed_configs(SHARED, RUNS, SeedSettings(3, kind))
    assert len(configs) == 6
    slow, fast = configs[:3], configs[3:]
    assert slow[0] == RUNS[0].config(SHARED)  # seed 1 is the run itself
    for i in range(3):
        assert (slow[i].init_seed, slow[i].data_seed) == (fast[i].init_seed, fast[i].data_seed)
    results = train_configs(configs, history=True, workers=1)
    for i in range(3):  # one start: the same epoch-0 cost, whatever the training settings
        assert results[i].costs[0] == results[3 + i].costs[0]
        assert np.array_equal(init_params(slow[i].shape, slow[i].init_seed, slow[i].init),
                              init_params(fast[i].shape, fast[i].init_seed, fast[i].init))
    starts = {results[i].costs[0] for i in range(3)}
    assert len(starts) == 3  # another seed is another start
    varies = {"init": ("init_seed",), "data": ("data_seed",), "both": ("init_seed", "data_seed")}[kind]
    for name in ("init_seed", "data_seed"):
        assert (getattr(slow[1], name) != getattr(slow[0], name)) == (name in varies)


def test_median_and_band_equal_numpy_on_the_per_seed_csv_rows(tmp_path, capsys):
    path = tmp_path / "seeds.csv"
    code, out, err = run_cli(["compare", "--presets", "sgd,momentum", "--samples", "200", "--epochs", "5",
                              "--engine", "numpy", "--seeds", "5", "--workers", "1", "--csv", str(path)], capsys)
    assert code == 0, err
    rows = read_csv(path.read_text())
    shared = preset_shared().replace(n_samples=200, engine="numpy")  # the presets' data and network, --samples
    for name in ("sgd", "momentum"):
        spec = preset_run(name).replace(epochs=5)
        configs = run_seed_configs(shared, [spec], SeedSettings(5))
        curves = SeedCurves.from_results(configs[0], train_configs(configs, history=True, workers=1))
        mine = [r for r in rows if r["run"] == name]
        costs = np.array([[float(r["cost"]) for r in mine if r["seed"] == str(s)] for s in range(1, 6)])
        assert costs.shape == (5, 6)
        expected = np.percentile(costs, [10, 50, 90], axis=0)
        cost_band = band(curves)
        np.testing.assert_allclose(cost_band.low, expected[0], rtol=1e-12)
        np.testing.assert_allclose(cost_band.median, expected[1], rtol=1e-12)
        np.testing.assert_allclose(cost_band.high, expected[2], rtol=1e-12)
        accuracies = np.array([[float(r["accuracy"]) for r in mine if r["seed"] == str(s)] for s in range(1, 6)])
        np.testing.assert_allclose(band(curves, "accuracy").median, np.median(accuracies, axis=0), rtol=1e-12)
        assert not np.allclose(cost_band.low, cost_band.high)  # the seeds differ: a band, not a line


def test_a_diverged_seed_counts_as_infinite_cost_and_zero_accuracy_after_it_diverged():
    config = RUNS[0].config(SHARED).replace(epochs=3)
    costs = [[0.7, 0.5, 0.4, 0.3], [0.7, 0.6, 0.5, 0.45], [0.7, 2.0]]  # the third diverged after epoch 1
    accuracies = [[0.5, 0.6, 0.7, 0.8], [0.5, 0.55, 0.6, 0.65], [0.5, 0.4]]
    curves = SeedCurves.from_values(config, costs, accuracies, [False, False, True])
    assert curves.costs[2, 2:].tolist() == [math.inf, math.inf] and curves.accuracies[2, 2:].tolist() == [0, 0]
    cost_band = band(curves)
    assert cost_band.high[2] == math.inf and cost_band.high[1] == pytest.approx(np.percentile([0.5, 0.6, 2.0], 90))
    assert cost_band.median[3] == 0.45  # sorted 0.3, 0.45, inf: the middle one
    assert cost_band.low[3] == pytest.approx(0.3 + 0.2 * 0.15)  # numpy's linear rule between the finite two
    summary = summarize(curves, target=0.42)
    assert summary.diverged_share == pytest.approx(1 / 3)
    assert summary.missed_share == pytest.approx(2 / 3)  # only the first seed got to 0.42 or below
    assert summary.final_cost_high == math.inf and summary.final_cost_median == 0.45
    assert summary.final_accuracy_median == 0.65
    assert summarize(curves).missed_share is None
    with pytest.raises(ValueError, match="seed 2: 3 epochs of values, but it did not diverge"):
        SeedCurves.from_values(config, [costs[0], costs[1][:3]], accuracies[:2], [False, False])


def test_a_really_diverging_run_makes_its_seeds_band_infinite():
    config = RUNS[0].replace(learning_rate=500.0, batch_size=1).config(SHARED)
    configs = run_seed_configs(SHARED, [RUNS[0].replace(learning_rate=500.0, batch_size=1)], SeedSettings(3))
    results = train_configs(configs, history=True, workers=1)
    curves = SeedCurves.from_results(config, results)
    assert curves.diverged.all() and all(len(r.costs) < 7 for r in results)
    assert band(curves).median[-1] == math.inf and summarize(curves).diverged_share == 1.0


def test_quantiles_match_numpy_on_finite_values():
    values = np.random.default_rng(5).normal(size=(7, 11))
    np.testing.assert_allclose(quantiles(values, (0.1, 0.5, 0.9)), np.quantile(values, (0.1, 0.5, 0.9), axis=0),
                               rtol=1e-12)


@pytest.mark.parametrize(("values", "message"), [
    ({"count": 0}, "seeds=0: must be an integer from 1 to 100"),
    ({"count": 101}, "seeds=101: must be an integer from 1 to 100"),
    ({"count": 2.5}, "seeds=2.5: must be an integer from 1 to 100"),
    ({"kind": "weights"}, "seed_kind='weights': allowed are init, data, both"),
    ({"target": 0}, "target=0: must be a finite cost > 0"),
    ({"target": math.nan}, "target=nan: must be a finite cost > 0"),
])
def test_settings_refuse_bad_values_in_one_line(values, message):
    with pytest.raises(ValueError) as info:
        SeedSettings(**values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_store_keeps_a_runs_seeds_through_display_edits_only():
    store = SeedStore(SeedSettings(2))
    spec = RUNS[0]
    config = spec.config(SHARED)
    curves = SeedCurves.from_values(config, [[1.0] * 7] * 2, [[0.5] * 7] * 2, [False, False])
    store.put(3, SHARED, spec, curves)
    assert store.current(3, SHARED, spec.replace(name="renamed", colour="#123456", visible=False)) is curves
    assert store.current(3, SHARED, spec.replace(learning_rate=0.1)) is None  # live edit: trained again
    assert store.current(3, SHARED, spec.replace(batch_size=5)) is None  # restart
    assert store.current(3, SHARED.replace(noise=0.3), spec) is None  # shared change
    assert store.stale([(3, SHARED, spec), (4, SHARED, spec)]) == [(4, SHARED, spec)]
    assert store.stale([(4, SHARED, spec)]) == [(4, SHARED, spec)] and store.current(3, SHARED, spec) is None
    store.put(4, SHARED, spec, curves)
    assert not store.set_settings(SeedSettings(2, target=0.1))  # a target trains nothing again
    assert store.current(4, SHARED, spec) is curves
    assert store.set_settings(SeedSettings(2, "data")) and store.current(4, SHARED, spec) is None
    assert store.set_settings(SeedSettings(1)) is True and store.stale([(4, SHARED, spec)]) == []


def test_sessions_keep_the_seed_settings_and_older_files_still_open():
    settings = SeedSettings(7, "both", 0.05)
    session = parse_session(session_text(SHARED, RUNS, seeds=settings))
    assert session.seeds == settings
    plain = session_text(SHARED, RUNS)
    assert '"seeds"' not in plain and parse_session(plain).seeds == SeedSettings()
    assert '"seeds"' not in session_text(SHARED, RUNS, seeds=SeedSettings())  # the default is not written
    bad = session_text(SHARED, RUNS, seeds=settings).replace('"count": 7', '"count": 0')
    with pytest.raises(SessionError, match=r"^<session>: seeds.count: must be an integer from 1 to 100, got 0$"):
        parse_session(bad)
    with pytest.raises(SessionError, match=r"seeds.kind: must be text, got 3"):
        parse_session(session_text(SHARED, RUNS, seeds=settings).replace('"kind": "both"', '"kind": 3'))
