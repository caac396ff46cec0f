"""The sweep core: axes and their errors, one cell equal to `nnviz train` of it, targets, divergence, seeds,
processes and cancelling."""

import math
import threading

import pytest
from helpers import read_csv, run_cli

from nnviz.core.sweep import (
    Axis,
    CellResult,
    cell_config,
    grid,
    parse_axis,
    run_cell,
    seed_configs,
    seeded,
    sweep,
    train_configs,
)
from nnviz.core.training import Stopped, preset_config

SGD = preset_config("sgd", epochs=4)


def train_rows(capsys, *options):
    """The per-epoch rows `nnviz train OPTIONS` writes (its exit code checked: 0, or 3 when it diverged)."""
    code, out, _ = run_cli(["train", *options, "--csv", "-"], capsys)
    assert code in (0, 3)
    return [{k: float(v) for k, v in row.items()} for row in read_csv(out)]


# ---- axes ---------------------------------------------------------------------------------------------------

def test_parse_axis_reads_each_part():
    axis = parse_axis("learning_rate=1e-3:1:log:30")
    assert axis == Axis("learning_rate", 1e-3, 1.0, "log", 30)
    values = axis.values()
    assert len(values) == 30 and values[0] == pytest.approx(1e-3) and values[-1] == pytest.approx(1.0)
    ratios = [b / a for a, b in zip(values[:-1], values[1:], strict=True)]
    assert max(ratios) == pytest.approx(min(ratios))  # evenly spaced in ratio
    lin = parse_axis("momentum=0:0.9:lin:4").values()
    assert lin == pytest.approx([0.0, 0.3, 0.6, 0.9])
    assert parse_axis("l2=0:1:lin:1").values() == [0.0]  # count 1: low alone
    assert parse_axis(axis.text()) == axis


def test_integer_axes_are_rounded_without_duplicates():
    values = parse_axis("batch_size=1:8:log:30").values()
    assert values == sorted(set(values)) and all(isinstance(v, int) for v in values)
    assert values[0] == 1 and values[-1] == 8 and len(values) == 8
    assert parse_axis("epochs=0:10:lin:3").values() == [0, 5, 10]


@pytest.mark.parametrize("text, words", [
    ("learning_rate", "NAME=LOW:HIGH:lin|log:COUNT"),
    ("learning_rate=1e-3:1:log", "NAME=LOW:HIGH:lin|log:COUNT"),
    ("shape=1:2:lin:3", "the name must be one of learning_rate, momentum"),
    ("alpha=1:2:lin:3", "the name must be one of"),
    ("learning_rate=x:1:log:3", "low 'x' is not a number"),
    ("learning_rate=1e-3:y:log:3", "high 'y' is not a number"),
    ("learning_rate=1:0.1:log:3", "low 1 must be below high 0.1"),
    ("learning_rate=1:1:lin:3", "low 1 must be below high 1"),
    ("momentum=0:1:lin:3", "high 1 is out of range; allowed: 0 ≤ momentum < 1"),
    ("learning_rate=0:1:lin:3", "low 0 is out of range; allowed: > 0"),
    ("l2=0:1:log:3", "a log axis needs low > 0"),
    ("momentum=0:0.9:cubic:3", "scale 'cubic' must be lin or log"),
    ("momentum=0:0.9:lin:65", "count 65 must be an integer from 1 to 64"),
    ("momentum=0:0.9:lin:0", "count 0 must be an integer from 1 to 64"),
    ("momentum=0:0.9:lin:2.5", "count '2.5' must be an integer from 1 to 64"),
    ("learning_rate=nan:1:log:3", "must be a finite number"),
])
def test_parse_axis_errors_name_the_part(text, words):
    with pytest.raises(ValueError) as error:
        parse_axis(text)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_grid_order_and_its_errors():
    x, y = parse_axis("learning_rate=0.01:0.1:log:2"), parse_axis("momentum=0:0.5:lin:3")
    cells = grid([x, y], seeds=2)
    assert len(cells) == 12 and [c.index for c in cells] == list(range(12))
    assert [c.seed for c in cells[:4]] == [0, 1, 0, 1]
    assert [c.values for c in cells[:2]] == [{"learning_rate": 0.01, "momentum": 0.0}] * 2
    assert cells[-1].values == {"learning_rate": pytest.approx(0.1), "momentum": 0.5}
    for axes, seeds in (([x, x], 1), ([], 1), ([x, y, x], 1), ([x], 0), ([x], 101)):
        with pytest.raises(ValueError):
            grid(axes, seeds)


# ---- one cell -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, options", [
    ({"learning_rate": 0.05, "momentum": 0.5}, ["--alpha", "0.05", "--beta", "0.5"]),
    ({"batch_size": 32, "learning_rate": 0.2}, ["--batch-size", "32", "--alpha", "0.2"]),
    ({"gamma": 0.1}, ["--gamma", "0.1"]),
    ({"l2": 0.01, "epochs": 3}, ["--l2", "0.01", "--epochs", "3"]),
])
def test_a_cell_equals_nnviz_train_of_it(capsys, values, options):
    result = run_cell(SGD, values)
    rows = train_rows(capsys, "--epochs", "4", *options)
    assert result.epochs == int(rows[-1]["epoch"])
    assert math.isclose(result.final_cost, rows[-1]["cost"], rel_tol=0, abs_tol=1e-9)
    assert math.isclose(result.best_cost, min(r["cost"] for r in rows), rel_tol=0, abs_tol=1e-9)
    assert result.final_accuracy == rows[-1]["accuracy"]
    assert not result.diverged and result.values == values


def test_epochs_to_target_is_the_first_epoch_at_or_below_it(capsys):
    rows = train_rows(capsys, "--epochs", "4")
    costs = [r["cost"] for r in rows]
    target = (costs[2] + costs[3]) / 2  # reached at epoch 3, not before (the cost falls every epoch here)
    assert costs[2] > target >= costs[3]
    result = run_cell(SGD, {"momentum": 0.0}, target=target)
    assert result.epochs_to_target == 3 and result.updates_to_target == 3 * 1000  # per-sample: n updates an epoch
    mini = run_cell(SGD, {"batch_size": 32}, target=costs[0] * 2)
    assert mini.epochs_to_target == 0 and mini.updates_to_target == 0  # the start is already below
    never = run_cell(SGD, {"momentum": 0.0}, target=min(costs) / 2)
    assert never.epochs_to_target is None and never.updates_to_target is None


def test_a_diverged_cell_is_marked_and_holds_finite_numbers(capsys):
    result = run_cell(SGD, {"learning_rate": 10.0}, target=0.01)
    rows = train_rows(capsys, "--epochs", "4", "--alpha", "10")
    assert result.diverged
    assert result.epochs == int(rows[-1]["epoch"]) < 4
    assert result.final_cost == rows[-1]["cost"] and result.final_accuracy == rows[-1]["accuracy"]
    assert all(math.isfinite(v) for v in (result.final_cost, result.best_cost, result.final_accuracy))
    assert not run_cell(SGD, {"learning_rate": 0.01}).diverged


# ---- seeds ----------------------------------------------------------------------------------------------------

def test_seeds_change_the_init_and_data_as_said(capsys):
    assert seeded(SGD, 0, "both") == SGD and seeded(SGD, None, "both") == SGD
    init, data, both = (seeded(SGD, 3, kind) for kind in ("init", "data", "both"))
    assert (init.init_seed, init.data_seed) == (SGD.init_seed + 3, SGD.data_seed)
    assert (data.init_seed, data.data_seed) == (SGD.init_seed, SGD.data_seed + 3)
    assert (both.init_seed, both.data_seed) == (SGD.init_seed + 3, SGD.data_seed + 3)
    assert seeded(SGD.replace(init_seed=2**32 - 1), 2, "init").init_seed == 1  # wraps, stays valid
    with pytest.raises(ValueError, match="seed_kind"):
        seeded(SGD, 1, "weights")
    # A seeded cell trains what `nnviz train` trains with those seeds.
    result = run_cell(SGD, {"momentum": 0.5}, seed=2, seed_kind="both")
    rows = train_rows(capsys, "--epochs", "4", "--beta", "0.5", "--init-seed", str(SGD.init_seed + 2),
                      "--data-seed", str(SGD.data_seed + 2))
    assert result.seed == 2 and math.isclose(result.final_cost, rows[-1]["cost"], rel_tol=0, abs_tol=1e-9)
    # Different seeds give different runs; the data kind changes the start's cost, the init kind too.
    costs = {kind: run_cell(SGD, {}, seed=1, seed_kind=kind).final_cost for kind in ("init", "data", "both")}
    assert len({*costs.values(), run_cell(SGD, {}).final_cost}) == 4


def test_a_swept_gamma_makes_the_schedule_exponential():
    assert cell_config(SGD, {"gamma": 0.1}).schedule == "exponential"
    assert cell_config(SGD.replace(schedule="step"), {"gamma": 0.1}).schedule == "step"
    with pytest.raises(ValueError, match="momentum"):
        cell_config(SGD, {"momentum": 1.5})


# ---- sweeps ---------------------------------------------------------------------------------------------------

AXES = [parse_axis("learning_rate=0.003:0.3:log:3"), parse_axis("momentum=0:0.9:lin:2")]


@pytest.fixture(scope="module")
def in_process():
    seen = []
    results = sweep(SGD.replace(epochs=3), AXES, seeds=2, seed_kind="init", target=0.5, workers=1,
                    on_result=seen.append)
    return results, seen


def test_a_two_axis_sweep_in_process(in_process):
    results, seen = in_process
    assert len(results) == 3 * 2 * 2 and sorted(seen, key=lambda r: r.index) == results
    assert all(isinstance(r, CellResult) for r in results)
    for cell, result in zip(grid(AXES, 2), results, strict=True):
        assert (result.values, result.seed, result.index) == (cell.values, cell.seed, cell.index)
    one = run_cell(SGD.replace(epochs=3), results[5].values, 0.5, results[5].seed, "init", index=5)
    # The same training and the same costs bit for bit (both evaluate with vecmath's log, adding in the same order).
    assert one == results[5]


def test_two_workers_give_the_same_rows(in_process):
    seen = []
    results = sweep(SGD.replace(epochs=3), AXES, seeds=2, seed_kind="init", target=0.5, workers=2,
                    on_result=seen.append)
    assert results == in_process[0]
    assert sorted(seen, key=lambda r: r.index) == results


def test_cancelling_in_process_keeps_the_finished_cells(in_process):
    seen = []
    results = sweep(SGD.replace(epochs=3), AXES, seeds=2, target=0.5, workers=1, on_result=seen.append,
                    should_stop=lambda: len(seen) >= 3)
    assert 3 <= len(results) < len(in_process[0])  # stopped after the job that delivered the third cell
    assert results == sorted(seen, key=lambda r: r.index)
    assert all(r == in_process[0][r.index] for r in results)


def test_cancelling_with_workers_keeps_the_finished_cells(in_process):
    seen = []
    results = sweep(SGD.replace(epochs=3), AXES, seeds=2, target=0.5, workers=2, on_result=seen.append,
                    should_stop=lambda: len(seen) >= 1)
    assert 1 <= len(results) < len(in_process[0])
    assert results == sorted(seen, key=lambda r: r.index)
    assert all(r == in_process[0][r.index] for r in results)


@pytest.mark.parametrize("workers", [1, 2])
def test_cancelling_stops_cells_under_way(workers):
    """Cells of ten million epochs: the sweep returns only because the cells under way were stopped."""
    timer = threading.Timer(0.3, lambda: None)
    timer.start()
    results = sweep(SGD.replace(epochs=10_000_000), AXES[:1], workers=workers,
                    should_stop=lambda: not timer.is_alive())
    assert results == []


def test_a_stopped_cell_raises_stopped():
    with pytest.raises(Stopped):
        run_cell(SGD.replace(epochs=10_000_000), {}, should_stop=lambda: True)


def test_sweep_errors_are_one_line():
    for kwargs, words in (({"seed_kind": "x"}, "seed_kind"), ({"target": -1.0}, "target"),
                          ({"workers": 0}, "workers"), ({"seeds": 0}, "seeds")):
        with pytest.raises(ValueError, match=words):
            sweep(SGD, AXES, **kwargs)
    with pytest.raises(ValueError, match="momentum"):  # an axis built by hand is checked as parse_axis checks it
        sweep(SGD, [Axis("momentum", 0.5, 1.5, "lin", 3)])


def test_train_configs_histories_equal_the_trainers_records(capsys):
    configs = seed_configs(SGD.replace(test_fraction=0.2, n_samples=200), 2, "both")
    assert configs[0] == SGD.replace(test_fraction=0.2, n_samples=200)
    assert configs[1].init_seed == SGD.init_seed + 1 and configs[1].data_seed == SGD.data_seed + 1
    results = train_configs(configs, history=True, workers=1)
    assert [r.index for r in results] == [0, 1]
    for config, result in zip(configs, results, strict=True):
        rows = train_rows(capsys, "--epochs", "4", "--samples", "200", "--test-fraction", "0.2",
                          "--init-seed", str(config.init_seed), "--data-seed", str(config.data_seed))
        assert len(result.costs) == len(rows) == 5
        for row, cost, accuracy, test_cost in zip(rows, result.costs, result.accuracies, result.test_costs,
                                                  strict=True):
            assert cost == pytest.approx(row["cost"], abs=1e-9)
            assert accuracy == pytest.approx(row["accuracy"], abs=1e-9)
            assert test_cost == pytest.approx(row["test_cost"], abs=1e-9)
    assert results[0].costs[0] != results[1].costs[0]  # other seeds, other start
    with pytest.raises(ValueError, match="seeds=0: must be an integer from 1 to 100"):
        seed_configs(SGD, 0)


def test_numpy_engine_cells_train_in_worker_processes_with_the_same_results():
    base = SGD.replace(engine="numpy", n_samples=100, epochs=2)
    axis = [parse_axis("learning_rate=0.01:0.1:log:3")]
    seen = []
    results = sweep(base, axis, workers=2, on_result=seen.append)
    assert results == sweep(base, axis, workers=1) and sorted(seen, key=lambda r: r.index) == results
    timer = threading.Timer(0.3, lambda: None)
    timer.start()
    assert sweep(base.replace(epochs=10_000_000), axis, workers=2, should_stop=lambda: not timer.is_alive()) == []
