"""The lockstep sweep engine: every cell of a block equals a single run of it (the Trainer's, as `nnviz train`
trains it) to 1e-9, over optimisers, update orders, activations, schedules, L2, epochs, seeds and divergence."""

import math

import numpy as np
import pytest

from nnviz.core.lockstep import block_key, train_block
from nnviz.core.sweep import (
    MIN_BLOCK,
    cell_config,
    grid,
    jobs_of,
    parse_axis,
    run_cell,
    run_config,
    sweep,
    train_configs,
)
from nnviz.core.training import TrainConfig, preset_config

SMALL = preset_config("sgd", n_samples=120, epochs=4)
FIELDS = ("final_cost", "best_cost", "final_accuracy")


def assert_same(result, reference):
    for name in FIELDS:
        assert getattr(result, name) == pytest.approx(getattr(reference, name), abs=1e-9, rel=0), name
    assert (result.epochs_to_target, result.updates_to_target, result.diverged, result.epochs) == \
           (reference.epochs_to_target, reference.updates_to_target, reference.diverged, reference.epochs)


def check_sweep(base, axes, seeds=1, seed_kind="init", target=None, picks=4):
    """Sweep in lockstep blocks; random cells (and the first and last) equal run_cell, the single Trainer."""
    results = sweep(base, [parse_axis(a) for a in axes], seeds, seed_kind, target, workers=1)
    cells = grid([parse_axis(a) for a in axes], seeds)
    assert [r.index for r in results] == list(range(len(cells)))
    rng = np.random.RandomState(len(cells))
    chosen = {0, len(cells) - 1, *rng.choice(len(cells), size=min(picks, len(cells)), replace=False).tolist()}
    for i in sorted(chosen):
        reference = run_cell(base, cells[i].values, target, cells[i].seed, seed_kind)
        assert_same(results[i], reference)
    for r in results:  # diverged or not, every number is finite
        assert all(math.isfinite(getattr(r, name)) for name in FIELDS)
    return results


def test_blocks_are_cut_by_what_cells_must_share():
    configs = [cell_config(SMALL, {"learning_rate": a}, seed, "data") for a in (0.01, 0.02, 0.03, 0.04, 0.05)
               for seed in range(2)]
    jobs = jobs_of(configs, workers=1)
    assert sorted(i for job in jobs for i, _ in job) == list(range(len(configs)))
    for job in jobs:
        assert len({block_key(c) for _, c in job}) == 1  # one data seed per block
        assert len(job) >= MIN_BLOCK or len(job) == 1
    assert any(len(job) > 1 for job in jobs)
    numpy = [SMALL.replace(engine="numpy", learning_rate=a) for a in (0.01, 0.02, 0.03, 0.04, 0.05)]
    assert all(len(job) == 1 for job in jobs_of(numpy))  # the numpy reference trains alone


def test_per_sample_sgd_over_rate_and_momentum_with_seeds():
    check_sweep(SMALL, ["learning_rate=1e-3:1:log:5", "momentum=0:0.95:lin:3"], seeds=2, target=0.6)


def test_mini_batches_over_decay_and_l2():
    results = check_sweep(SMALL.replace(batch_size=16, learning_rate=0.1),
                          ["gamma=0:0.2:lin:3", "l2=0:0.01:lin:3"], target=0.65)
    assert len({r.final_cost for r in results}) == len(results)  # every cell trained its own numbers


@pytest.mark.parametrize("optimizer, axes", [
    ("heavy-ball", ["momentum=0:0.9:lin:3", "learning_rate=0.001:0.01:log:2"]),
    ("nesterov", ["momentum=0:0.9:lin:3", "learning_rate=0.001:0.01:log:2"]),
    ("rmsprop", ["rho=0.5:0.99:lin:3", "epsilon=1e-8:1e-4:log:2"]),
    ("adam", ["beta1=0.5:0.95:lin:3", "beta2=0.9:0.999:lin:2"]),
])
@pytest.mark.parametrize("batch_size", [1, 8])
def test_every_optimiser(optimizer, axes, batch_size):
    check_sweep(SMALL.replace(optimizer=optimizer, batch_size=batch_size, learning_rate=0.01), axes)


@pytest.mark.parametrize("batch_size", [1, 8])
def test_the_notebooks_update_order(batch_size):
    check_sweep(SMALL.replace(update_order="notebook", batch_size=batch_size),
                ["learning_rate=0.01:0.3:log:3", "momentum=0:0.9:lin:2"])


def test_tanh_a_deeper_network_and_seeds_of_both_kinds():
    base = SMALL.replace(activation="tanh", shape=(2, 5, 4, 3, 1), batch_size=4)
    check_sweep(base, ["learning_rate=0.01:0.5:log:4"], seeds=3, seed_kind="both", target=0.5)


def test_an_epochs_axis_stops_each_cell_at_its_own_epoch():
    results = check_sweep(SMALL, ["epochs=0:6:lin:4", "learning_rate=0.01:0.1:log:2"], target=0.69)
    assert sorted({r.epochs for r in results}) == [0, 2, 4, 6]


def test_diverged_cells_are_marked_and_hold_finite_numbers():
    base = SMALL.replace(epochs=6, batch_size=1)
    results = check_sweep(base, ["learning_rate=0.01:300:log:6"], picks=6)
    assert results[-1].diverged and not results[0].diverged
    assert results[-1].epochs < base.epochs


def test_histories_equal_the_trainers_records():
    configs = [SMALL.replace(learning_rate=a, test_fraction=0.25, epochs=e)
               for a, e in ((0.01, 3), (0.05, 4), (0.2, 2), (3.0, 4), (50.0, 4))]
    results = train_configs(configs, target=0.6, history=True, workers=1)
    for config, result in zip(configs, results, strict=True):
        reference = run_config(config, 0.6, history=True)
        assert_same(result, reference)
        for name in ("costs", "accuracies", "test_costs", "test_accuracies"):
            assert np.allclose(getattr(result, name), getattr(reference, name), rtol=0, atol=1e-9), name
            assert not getattr(result, name).flags.writeable


def test_two_threads_equal_one():
    configs = [SMALL.replace(learning_rate=a, momentum=b) for a in (0.003, 0.03, 0.3) for b in (0.0, 0.5, 0.9)]
    assert train_configs(configs, workers=2) == train_configs(configs, workers=1)


def test_a_block_refuses_configs_that_cannot_share_it():
    data_configs = [SMALL, SMALL.replace(batch_size=2)]
    with pytest.raises(ValueError, match="a block's configs must share"):
        train_block(data_configs, None, [None, None])


def test_a_block_of_default_configs_matches_the_notebook_preset_start():
    config = TrainConfig()
    result = train_configs([config.replace(epochs=0)] * MIN_BLOCK, workers=1)
    reference = run_config(config.replace(epochs=0))
    assert all(r.final_cost == pytest.approx(reference.final_cost, abs=1e-12) for r in result)


def test_no_configs_train_nothing():
    assert train_configs([], workers=2) == train_configs([], workers=1) == []


def test_big_batches_make_narrow_blocks_or_single_runs():
    from nnviz.core.sweep import BLOCK_VALUES

    big = [SMALL.replace(n_samples=40_000, batch_size=1_000_000, learning_rate=0.001 * (i + 1)) for i in range(64)]
    jobs = jobs_of(big, workers=2)
    units = sum(SMALL.shape) + 2 * max(SMALL.shape)
    assert all(len(job) * 40_000 * units <= BLOCK_VALUES or len(job) == 1 for job in jobs)
    assert sorted(i for job in jobs for i, _ in job) == list(range(64))
    huge = [SMALL.replace(n_samples=1_000_000, batch_size=1_000_000, learning_rate=0.001 * (i + 1)) for i in range(8)]
    assert all(len(job) == 1 for job in jobs_of(huge, workers=2))  # a million points a batch: one cell at a time
