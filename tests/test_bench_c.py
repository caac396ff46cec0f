"""benchmarks/bench_c.py's C reference trains as nnviz does: the same costs and accuracies epoch by epoch.

The tests that build the C are skipped when gcc is absent."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from nnviz.core.training import TrainConfig, Trainer, preset_config

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_c.py"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_c", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_c"] = module
    spec.loader.exec_module(module)
    return module


def tiny(**changes) -> TrainConfig:
    # 42 points: batches of 4 end with a partial one (2 points); batch 64 is one full batch of all 42.
    return TrainConfig(**{"dataset": "spiral", "n_samples": 42, "shape": (2, 5, 3, 1), "batch_size": 4,
                          "learning_rate": 0.05, "epochs": 3, "engine": "numpy", **changes})


@needs_gcc
@pytest.mark.parametrize("changes", [
    {"batch_size": 1},
    {"batch_size": 1, "momentum": 0.9},
    {"batch_size": 4},
    {"batch_size": 4, "momentum": 0.9},
    {"batch_size": 64},
    {"batch_size": 4, "activation": "tanh"},
    {"batch_size": 1, "shape": (2, 1)},
    {"batch_size": 3, "shape": (2, 4, 3, 3, 2, 1), "momentum": 0.5},
])
def test_c_reference_reaches_nnvizs_cost_every_epoch(bench, changes):
    config = tiny(**changes)
    case = bench.make_case("tiny", config)
    records = list(Trainer(config))[1:]  # after epochs 1, 2, 3 (the first record is epoch 0's)
    costs, accuracies = bench.CRun(case).train(config.epochs)
    assert len(costs) == len(records) == 3
    for record, c_cost, c_accuracy in zip(records, costs, accuracies, strict=True):
        assert c_cost == pytest.approx(record.cost, rel=1e-9)
        assert c_accuracy == record.accuracy
    assert costs[-1] != pytest.approx(Trainer(config).initial_cost, rel=1e-3)  # it did train


@needs_gcc
def test_a_run_goes_on_where_it_stopped(bench):
    case = bench.make_case("tiny", tiny(batch_size=4, momentum=0.9))
    at_once = bench.CRun(case).train(3)[0]
    run = bench.CRun(case)
    in_steps = [*run.train(1)[0], *run.train(2)[0]]
    assert list(at_once) == in_steps  # momentum and weights carried over between calls


@needs_gcc
def test_check_cost_passes_for_nnvizs_run(bench):
    case = bench.make_case("tiny", tiny(epochs=2))
    reference, c_cost = bench.check_cost(case, 2)
    assert c_cost == pytest.approx(reference, rel=1e-9)


@needs_gcc
def test_c_epochs_per_second_of_a_config(bench):
    assert bench.c_epochs_per_second(tiny(), budget_s=0.0) > 0


def test_configs_the_c_cannot_train_are_named(bench):
    assert "sgd" in bench.unsupported(preset_config("adam"))
    assert "L2" in bench.unsupported(tiny(l2=0.01))
    assert "test set" in bench.unsupported(tiny(test_fraction=0.2))
    assert bench.unsupported(preset_config("momentum")) == ""
    assert bench.c_epochs_per_second(preset_config("decay"), budget_s=0.0) is None


def test_an_unknown_case_name_says_which_exist(bench):
    with pytest.raises(ValueError, match="case 'nope': must be one of .*'hard 1000, 2-3-4-1, batch 1'"):
        bench.c_epochs_per_second("nope")


def test_without_gcc_a_note_and_no_table(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    bench.main([])
    out = capsys.readouterr().out
    assert "gcc: not found" in out
    assert "|" not in out
    assert bench.c_epochs_per_second("hard 1000, 2-3-4-1, batch 1") is None


@needs_gcc
def test_every_variant_reaches_nnvizs_cost(bench):
    # Plain sgd (beta = 0, whose step C writes without a velocity) and momentum, per sample and in batches.
    for changes in ({"batch_size": 1}, {"batch_size": 4, "momentum": 0.9}):
        config = tiny(**changes)
        case = bench.make_case("tiny", config)
        records = list(Trainer(config))[1:]
        for variant in bench.VARIANTS:
            costs, accuracies = bench.CRun(case, variant).train(config.epochs)
            assert list(costs) == pytest.approx([r.cost for r in records], rel=1e-9), variant
            assert list(accuracies) == [r.accuracy for r in records], variant


def test_an_unknown_variant_says_which_exist(bench):
    with pytest.raises(ValueError, match="variant 'O9': must be one of 'O3'"):
        bench.build((2, 1), "relu", "O9")
