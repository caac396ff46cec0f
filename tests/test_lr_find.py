"""The learning-rate finder (core and `nnviz lr-find`): rates, costs, smoothing, the edge, the suggestion, the CLI."""

import math

import numpy as np
import pytest
from helpers import read_csv, run_cli

from nnviz.core.comparison import prepare
from nnviz.core.datasets import Dataset
from nnviz.core.lr_find import LrFind, Stopped, find_learning_rate, suggest
from nnviz.core.network import Layout, init_params, l2_penalty
from nnviz.core.specs import SharedSettings
from nnviz.core.training import TrainConfig, Trainer, get_engine, preset_config

SMALL = TrainConfig(dataset="moons", n_samples=60, shape=(2, 4, 1), batch_size=8, engine="numpy", l2=0.01)
SMALL_ARGS = ["--dataset", "moons", "--samples", "60", "--shape", "2,4,1", "--batch-size", "8", "--engine", "numpy"]


def small_start(config=SMALL):
    data = Dataset.generate(config.dataset, config.n_samples, config.noise, config.data_seed, config.test_fraction)
    return data.X, data.y, init_params(config.shape, config.init_seed, config.init)


@pytest.fixture(scope="module")
def notebook_start():
    return prepare(SharedSettings())


def test_rates_rise_exponentially_from_low_to_high():
    result = find_learning_rate(SMALL, small_start(), get_engine("numpy"), low=1e-6, high=1e-3, steps=40)
    assert result.edge is None and len(result.rates) == result.steps == 40
    assert result.rates[0] == 1e-6 and result.rates[-1] == 1e-3
    ratios = result.rates[1:] / result.rates[:-1]
    assert np.allclose(ratios, (1e-3 / 1e-6) ** (1 / 39), rtol=1e-12)


def test_default_steps_are_one_epochs_batches_from_100_to_1000():
    start = small_start()
    engine = get_engine("numpy")
    # 60 points in batches of 8: 8 batches, fewer than 100, so the pass cycles over the data.
    assert find_learning_rate(SMALL, start, engine, high=1e-3).steps == 100
    X, y, params = start
    many = (np.repeat(X, 20, axis=0), np.repeat(y, 20, axis=0), params)  # 1200 points
    assert find_learning_rate(SMALL.replace(batch_size=2), many, engine, high=1e-4).steps == 600
    assert find_learning_rate(SMALL.replace(batch_size=1), many, engine, high=1e-4).steps == 1000


def test_costs_are_the_training_cost_after_each_batch_step_in_epoch_order():
    config = SMALL.replace(momentum=0.5)
    X, y, params = small_start(config)
    engine = get_engine("numpy")
    result = find_learning_rate(config, (X, y, params), engine, low=1e-3, high=1.0, steps=20)
    # By hand: one step per batch, the batches of an epoch in order, again from the first after the last.
    layout = Layout(config.shape)
    theta, state = params.copy(), engine.new_state(layout.size)
    starts = list(range(0, len(X), config.batch_size))
    for i, rate in enumerate(result.rates):
        a = starts[i % len(starts)]
        engine.train_epoch(theta, state, layout, X[a:a + 8], y[a:a + 8], 8, rate, config.update_rule(), config.l2,
                           config.activation)
        expected = engine.evaluate(theta, layout, X, y, config.activation)[0] + l2_penalty(theta, layout, config.l2)
        assert result.costs[i] == pytest.approx(expected, rel=1e-12)


def test_smoothed_is_the_bias_corrected_moving_average():
    result = find_learning_rate(SMALL, small_start(), get_engine("numpy"), steps=30, high=1e-2, smoothing=0.9)
    average = 0.0
    for i, cost in enumerate(result.costs):
        average = 0.9 * average + 0.1 * cost
        assert result.smoothed[i] == pytest.approx(average / (1 - 0.9 ** (i + 1)), rel=1e-12)
    assert result.smoothed[0] == result.costs[0]


def test_the_finder_changes_no_weights(notebook_start):
    before = np.array(notebook_start.initial_params)
    X, y, params = small_start()
    params_before = params.copy()
    find_learning_rate(preset_config("sgd"), notebook_start, get_engine("compiled"))
    find_learning_rate(SMALL, (X, y, params), get_engine("numpy"))
    assert np.array_equal(notebook_start.initial_params, before)
    assert np.array_equal(params, params_before)


def test_it_stops_at_the_edge():
    result = find_learning_rate(SMALL, small_start(), get_engine("numpy"), low=1e-2, high=1e6, steps=200)
    assert result.edge is not None and len(result.rates) < result.steps
    assert result.edge == result.rates[-1]
    last, before = result.smoothed[-1], result.smoothed[:-1]
    assert not math.isfinite(last) or last > 4 * before.min()
    assert np.all(before <= 4 * np.minimum.accumulate(before))  # it did not diverge earlier
    assert result.suggestion < result.edge / 10 + 1e-15


def test_the_suggestion_trains_on_the_notebooks_data(notebook_start):
    config = preset_config("sgd")
    result = find_learning_rate(config, notebook_start, get_engine(config.engine))
    assert result.rule.split(":")[0] in ("steepest descent", "minimum / 10")
    trainer = Trainer(config.replace(learning_rate=result.suggestion), data=notebook_start.data,
                      initial_params=notebook_start.initial_params)
    last = list(trainer)[-1]
    assert trainer.status == "finished" and last.epoch == config.epochs
    assert last.cost < trainer.initial_cost  # it learns, not only survives


@pytest.mark.parametrize("preset, high", [("sgd", 100.0), ("nesterov", 10.0)])
def test_training_at_three_times_the_edge_diverges(notebook_start, preset, high):
    # The sgd network's cost stays below 4 × its minimum up to α = 10 (no edge there): the range is widened.
    config = preset_config(preset, engine="numpy")
    result = find_learning_rate(config, notebook_start, get_engine("numpy"), high=high)
    assert result.edge is not None
    trainer = Trainer(config.replace(learning_rate=3 * result.edge), data=notebook_start.data,
                      initial_params=notebook_start.initial_params)
    list(trainer)
    assert trainer.status == "diverged"


def test_suggest_takes_the_steepest_descent_well_before_the_minimum():
    rates = np.logspace(-5, 1, 601)
    x = np.log10(rates)
    smoothed = 1.0 - 0.5 / (1 + np.exp(-(x + 3) * 3)) + 0.02 * np.maximum(x, 0) ** 2  # falls fastest at 1e-3
    alpha, rule = suggest(rates, smoothed, None)
    assert alpha == pytest.approx(1e-3, rel=0.05) and rule.startswith("steepest descent")


def test_suggest_falls_back_to_a_tenth_of_the_minimum():
    rates = np.logspace(-5, 1, 601)
    x = np.log10(rates)
    cut_short = 1.0 - 0.1 * np.clip(x + 1, 0, None) ** 2 * (x < 0) + 5 * np.clip(x, 0, None)  # minimum at α = 1
    alpha, rule = suggest(rates, cut_short, 3.0)
    assert alpha == pytest.approx(rates[np.argmin(cut_short)] / 10) and rule.startswith("minimum / 10")
    flat = np.full(601, 0.7)
    alpha, rule = suggest(rates, flat, None)
    assert rule.startswith("minimum / 10") and "no edge" in rule


def test_stop_and_progress():
    calls = []
    result = find_learning_rate(SMALL, small_start(), get_engine("numpy"), steps=30, high=1e-2,
                                progress=lambda done, steps: calls.append((done, steps)))
    assert calls == [(i, 30) for i in range(1, 31)] and isinstance(result, LrFind)
    asked = []
    with pytest.raises(Stopped):
        find_learning_rate(SMALL, small_start(), get_engine("numpy"), steps=30,
                           should_stop=lambda: asked.append(1) or len(asked) >= 5)
    assert len(asked) == 5


@pytest.mark.parametrize("kwargs, message", [
    ({"low": 1.0, "high": 0.1}, "low=1, high=0.1: low must be below high"),
    ({"low": 0.0}, "low=0.0: must be a finite number > 0"),
    ({"high": math.inf}, "high=inf: must be a finite number > 0"),
    ({"steps": 1}, "steps=1: must be an integer from 2"),
    ({"smoothing": 1.0}, "smoothing=1.0: must be from 0 to below 1"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        find_learning_rate(SMALL, small_start(), get_engine("numpy"), **kwargs)


def test_params_of_another_shape_are_refused():
    X, y, _ = small_start()
    with pytest.raises(ValueError, match=r"initial_params: \(5,\) values, the shape \(2, 4, 1\) needs 17"):
        find_learning_rate(SMALL, (X, y, np.zeros(5)), get_engine("numpy"))


# ---- `nnviz lr-find` ----------------------------------------------------------------------------------------

def test_cli_prints_the_suggestion_and_the_edge_and_writes_the_csv(tmp_path, capsys):
    path = tmp_path / "lr.csv"
    code, out, err = run_cli(["lr-find", *SMALL_ARGS, "--low", "1e-3", "--high", "1e4", "--csv", str(path)], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("suggested α = ") and lines[1].startswith("edge of divergence")
    rows = read_csv(path.read_text())
    assert list(rows[0]) == ["step", "learning_rate", "cost", "smoothed"]
    config = SMALL.replace(l2=0.0)
    expected = find_learning_rate(config, prepare(SharedSettings.from_config(config)), get_engine("numpy"),
                                  low=1e-3, high=1e4)
    assert [int(r["step"]) for r in rows] == list(range(1, len(expected.rates) + 1))
    assert [float(r["learning_rate"]) for r in rows] == list(expected.rates)
    assert [float(r["smoothed"]) for r in rows] == list(expected.smoothed)
    assert f"{expected.suggestion:.3g}" in lines[0]
    assert (f"α = {expected.edge:.3g}" in lines[1]) if expected.edge else "none up to" in lines[1]
    assert (path.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask():
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_cli_csv_to_stdout_keeps_the_summary_on_stderr(capsys):
    code, out, err = run_cli(["lr-find", *SMALL_ARGS, "--high", "1e-2", "--csv", "-"], capsys)
    assert code == 0 and read_csv(out)[0]["step"] == "1"
    assert "suggested α" in err and "suggested" not in out


def test_cli_png(tmp_path, capsys):
    path = tmp_path / "lr.png"
    code, _, err = run_cli(["lr-find", *SMALL_ARGS, "--png", str(path)], capsys)
    assert code == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("argv, message", [
    (["--low", "1", "--high", "0.1"], "--low 1, --high 0.1: --low must be below --high"),
    (["--low", "0"], "--low: '0': allowed: a finite number > 0"),
    (["--high", "abc"], "--high: 'abc' is not a number"),
    (["--alpha", "-1"], "--alpha: learning_rate=-1.0: must be finite and > 0"),
    (["--csv", "/no/such/folder/x.csv"], "--csv /no/such/folder/x.csv: folder /no/such/folder does not exist"),
    (["--png", "-"], "--png -: give a file name"),
    (["--hi", "3"], "unrecognized arguments: --hi 3"),
])
def test_cli_errors_are_one_line(argv, message, capsys):
    code, out, err = run_cli(["lr-find", *SMALL_ARGS, *argv], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nnviz lr-find: error: ") and message in err


def test_cli_ctrl_c_exits_130_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import nnviz.lr_find_cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "find_learning_rate", interrupted)
    path = tmp_path / "lr.csv"
    code, out, err = run_cli(["lr-find", *SMALL_ARGS, "--csv", str(path)], capsys)
    assert code == 130 and "nnviz: interrupted" in err and not path.exists()
