"""TrainConfig validation, data sets, and the Trainer's records, live changes and divergence."""

import dataclasses

import numpy as np
import pytest

from nnviz.core.datasets import DATASETS, make_dataset, split_train_test
from nnviz.core.optimizers import UpdateRule
from nnviz.core.specs import TRAINING_FIELDS as TRAINING
from nnviz.core.training import LIVE_FIELDS, TrainConfig, Trainer, load_presets, preset_config

SMALL = dict(dataset="moons", n_samples=64, noise=0.1, shape=(2, 4, 1), epochs=5, engine="numpy")


@pytest.mark.parametrize("field, value, message", [
    ("dataset", "blobs", "dataset='blobs': allowed are hard, circle"),
    ("n_samples", 3, "n_samples=3: must be an integer from 4 to 1000000"),
    ("n_samples", 1_000_001, "n_samples=1000001"),
    ("n_samples", 10.5, "n_samples=10.5: must be an integer"),
    ("noise", -0.1, "noise=-0.1: must be from 0 to 1"),
    ("noise", 1.5, "noise=1.5"),
    ("test_fraction", 0.95, "test_fraction=0.95: must be from 0 to 0.9"),
    ("data_seed", -1, "data_seed=-1: must be an integer from 0 to 4294967295"),
    ("data_seed", 2**32, "data_seed=4294967296"),
    ("shape", (3, 4, 1), "shape=3,4,1: must be (2, h1, ..., hk, 1)"),
    ("shape", (2, 4, 2), "shape=2,4,2"),
    ("shape", (2, 0, 1), "shape=2,0,1"),
    ("shape", (2, 257, 1), "shape=2,257,1"),
    ("shape", (2,), "shape=(2,)"),
    ("activation", "sigmoid", "activation='sigmoid': allowed are relu, tanh"),
    ("init_seed", "x", "init_seed='x': must be an integer"),
    ("learning_rate", 0.0, "learning_rate=0.0: must be finite and > 0"),
    ("learning_rate", float("inf"), "learning_rate=inf"),
    ("learning_rate", float("nan"), "learning_rate=nan"),
    ("batch_size", 0, "batch_size=0: must be an integer from 1"),
    ("momentum", 1.0, "momentum=1.0: must be from 0 to below 1"),
    ("momentum", -0.5, "momentum=-0.5"),
    ("schedule", "cosine", "schedule='cosine': allowed are constant, exponential, step"),
    ("gamma", 1.0, "gamma=1.0: must be from 0 to below 1"),
    ("step_every", 0, "step_every=0: must be an integer from 1"),
    ("step_factor", 0.0, "step_factor=0.0: must be above 0 and at most 1"),
    ("step_factor", 1.5, "step_factor=1.5"),
    ("l2", -1e-3, "l2=-0.001: must be finite and ≥ 0"),
    ("epochs", -1, "epochs=-1: must be an integer from 0 to 10000000"),
    ("epochs", 10_000_001, "epochs=10000001"),
    ("epochs", True, "epochs=True: must be an integer"),
    ("engine", "gpu", "engine='gpu': allowed are compiled, numpy"),
    ("optimizer", "adagrad", "optimizer='adagrad': allowed are sgd, heavy-ball, nesterov, rmsprop, adam"),
    ("rho", 1.0, "rho=1.0: must be from 0 to below 1"),
    ("rho", -0.1, "rho=-0.1: must be from 0 to below 1"),
    ("epsilon", 0.0, "epsilon=0.0: must be finite and > 0"),
    ("epsilon", float("inf"), "epsilon=inf: must be finite and > 0"),
    ("beta1", 1.0, "beta1=1.0: must be from 0 to below 1"),
    ("beta2", -1e-3, "beta2=-0.001: must be from 0 to below 1"),
    ("beta2", "0.9", "beta2='0.9': must be a number"),
    ("update_order", "deferred", "update_order='deferred': allowed are true, notebook"),
])
def test_every_invalid_value_is_refused_with_field_value_and_range(field, value, message):
    with pytest.raises(ValueError) as excinfo:
        TrainConfig(**{field: value})
    assert message in str(excinfo.value)


def test_hard_needs_a_multiple_of_four():
    with pytest.raises(ValueError, match="n_samples=1001: the 'hard' data set needs a multiple of 4"):
        TrainConfig(dataset="hard", n_samples=1001)
    TrainConfig(dataset="moons", n_samples=1001)


def test_defaults_are_the_sgd_preset():
    assert TrainConfig() == preset_config("sgd")


def test_presets_are_the_notebooks_four_runs_then_adam_and_nesterov():
    presets = load_presets()
    assert list(presets) == ["sgd", "mini-batch", "momentum", "decay", "adam", "nesterov"]
    mb, mom, dec = (preset_config(n) for n in ("mini-batch", "momentum", "decay"))
    assert (mb.learning_rate, mb.batch_size, mb.epochs) == (0.1, 32, 2000)
    assert (mom.learning_rate, mom.momentum, mom.batch_size) == (0.03, 0.9, 1)
    assert (dec.learning_rate, dec.schedule, dec.gamma) == (0.03, "exponential", 0.015)
    adam, nesterov = preset_config("adam"), preset_config("nesterov")
    assert (adam.optimizer, adam.learning_rate, adam.batch_size, adam.epochs) == ("adam", 0.01, 32, 300)
    assert (nesterov.optimizer, nesterov.learning_rate, nesterov.momentum, nesterov.batch_size, nesterov.epochs) \
        == ("nesterov", 0.03, 0.9, 1, 150)
    for name in presets:  # the same data, network and initial weights as the notebook's runs
        assert TrainConfig(**presets[name]).replace(**{f: getattr(TrainConfig(), f) for f in TRAINING}) == TrainConfig()
    with pytest.raises(ValueError, match="preset='rmsprop'"):
        preset_config("rmsprop")


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_are_seeded_shaped_and_leave_global_state_alone(name):
    np.random.seed(99)
    before = np.random.get_state()[1].copy()
    X, y = make_dataset(name, 200, 0.1, 7)
    assert np.array_equal(np.random.get_state()[1], before)
    assert X.shape == (200, 2) and X.dtype == np.float64 and y.shape == (200, 1)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert 0.3 < y.mean() < 0.7
    X2, y2 = make_dataset(name, 200, 0.1, 7)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make_dataset(name, 200, 0.1, 8)
    assert not np.array_equal(X, X3)


def test_noise_spreads_the_points():
    X0, _ = make_dataset("circle", 500, 0.0, 1)
    X1, _ = make_dataset("circle", 500, 0.3, 1)
    assert np.abs(np.hypot(*X0.T)).max() <= 1.0 + 1e-12
    assert np.abs(np.hypot(*X1.T)).max() > 1.2


def test_split_is_seeded_and_keeps_training_order():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = (np.arange(20) % 2).reshape(-1, 1).astype(float)
    Xtr, ytr, Xte, yte = split_train_test(X, y, 0.25, 3)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert np.all(np.diff(Xtr[:, 0]) > 0)  # the rest, in its order
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]]).tolist()) == X[:, 0].tolist()
    again = split_train_test(X, y, 0.25, 3)
    assert np.array_equal(again[2], Xte)
    assert len(split_train_test(X, y, 0.0, 3)[2]) == 0


def test_records_count_epochs_and_are_immutable_copies():
    trainer = Trainer(TrainConfig(**SMALL))
    records = list(trainer)
    assert [r.epoch for r in records] == list(range(6))
    assert trainer.status == "finished"
    assert [r.updates for r in records] == [0, 64, 128, 192, 256, 320]
    assert records[-1].samples == 5 * 64
    assert all(b.elapsed_s >= a.elapsed_s for a, b in zip(records, records[1:], strict=False))
    with pytest.raises(dataclasses.FrozenInstanceError):
        records[1].cost = 0.0
    with pytest.raises(ValueError):
        records[1].params[0] = 1.0
    assert not np.array_equal(records[0].params, records[-1].params)
    assert not np.shares_memory(records[-1].params, trainer.theta)


def test_costs_fall_and_test_set_is_reported():
    trainer = Trainer(TrainConfig(**{**SMALL, "test_fraction": 0.25, "batch_size": 8, "learning_rate": 0.5,
                                     "epochs": 30}))
    records = list(trainer)
    assert len(trainer.X_test) == 16 and len(trainer.X) == 48
    assert records[-1].cost < records[0].cost
    assert records[-1].test_cost is not None and 0 <= records[-1].test_accuracy <= 1
    assert records[-1].updates == 30 * 6


def test_l2_adds_its_penalty_to_the_cost():
    plain = Trainer(TrainConfig(**SMALL)).initial_record()
    penalised = Trainer(TrainConfig(**{**SMALL, "l2": 0.1})).initial_record()
    weights = np.sum(plain.params ** 2 * Trainer(TrainConfig(**SMALL)).layout.weight_mask())
    assert penalised.cost == pytest.approx(plain.cost + 0.05 * weights, rel=1e-12)


def test_live_changes_apply_from_the_next_epoch():
    trainer = Trainer(TrainConfig(**{**SMALL, "epochs": 4}))
    first = trainer.step()
    trainer.update_config(learning_rate=0.5)
    second = trainer.step()
    assert first.learning_rate == 0.01 and second.learning_rate == 0.5
    with pytest.raises(ValueError, match="batch_size: cannot change during a run"):
        trainer.update_config(batch_size=4)
    with pytest.raises(ValueError, match="momentum=1.5"):
        trainer.update_config(momentum=1.5)
    assert set(LIVE_FIELDS) >= {"learning_rate", "momentum", "gamma", "l2"}


def test_raising_the_epoch_target_resumes_a_finished_run():
    trainer = Trainer(TrainConfig(**{**SMALL, "epochs": 2}))
    assert len(list(trainer)) == 3 and trainer.status == "finished"
    trainer.update_config(epochs=4)
    assert [r.epoch for r in iter(trainer.step, None)] == [3, 4]


def test_divergence_stops_before_a_non_finite_record():
    trainer = Trainer(preset_config("sgd", learning_rate=1e6, epochs=20, engine="numpy"))
    records = list(trainer)
    assert trainer.status == "diverged"
    assert trainer.diverged_epoch == len(records)  # the records before it are all kept
    assert all(np.isfinite(r.cost) and np.all(np.isfinite(r.params)) for r in records)
    assert all(r.cost <= 10 * records[0].cost for r in records)
    assert "rose above 10" in trainer.divergence_reason or "finite" in trainer.divergence_reason


def test_zero_epochs_yields_only_the_starting_point():
    trainer = Trainer(TrainConfig(**{**SMALL, "epochs": 0}))
    assert [r.epoch for r in trainer] == [0]
    assert trainer.status == "finished"


@pytest.mark.parametrize("optimizer", ["heavy-ball", "nesterov", "rmsprop", "adam"])
def test_the_notebooks_order_is_for_sgd_only(optimizer):
    with pytest.raises(ValueError) as info:
        TrainConfig(optimizer=optimizer, update_order="notebook")
    message = str(info.value)
    assert message.startswith("update_order='notebook': defined for optimizer sgd only") and "\n" not in message
    assert optimizer in message
    assert TrainConfig(update_order="notebook").update_rule().update_order == "notebook"


def test_update_rule_carries_the_optimizer_fields():
    config = TrainConfig(optimizer="adam", momentum=0.5, rho=0.8, epsilon=1e-6, beta1=0.7, beta2=0.99)
    rule = config.update_rule()
    assert (rule.optimizer, rule.momentum, rule.rho, rule.epsilon, rule.beta1, rule.beta2, rule.update_order) == (
        "adam", 0.5, 0.8, 1e-6, 0.7, 0.99, "true")
    assert TrainConfig().update_rule() == UpdateRule()  # sgd, β = 0: the notebook's plain SGD


def test_optimizer_constants_are_live_but_the_optimizer_and_order_restart():
    assert {"rho", "epsilon", "beta1", "beta2"} <= set(LIVE_FIELDS)
    assert not {"optimizer", "update_order"} & set(LIVE_FIELDS)
    config = TrainConfig(**{**SMALL, "optimizer": "adam", "epochs": 3, "learning_rate": 0.05})
    trainer, same = Trainer(config), Trainer(config)
    trainer.step()
    same.step()
    trainer.update_config(beta1=0.5, epsilon=1e-3)
    assert trainer.step().cost != same.step().cost  # the new constants act from the next epoch
    with pytest.raises(ValueError, match="optimizer: cannot change during a run"):
        trainer.update_config(optimizer="sgd")
    with pytest.raises(ValueError, match="update_order: cannot change during a run"):
        trainer.update_config(update_order="notebook")
    with pytest.raises(ValueError, match="beta2=1.0"):
        trainer.update_config(beta2=1.0)


def test_adam_continues_its_count_across_epochs():
    # One run of 2 epochs equals an epoch, then a second epoch on the same state: t does not restart.
    config = TrainConfig(**{**SMALL, "optimizer": "adam", "batch_size": 16, "epochs": 2, "learning_rate": 0.05})
    trainer = Trainer(config)
    records = list(trainer)
    assert trainer.state.t == 2 * 4
    fresh = Trainer(config.replace(epochs=1))
    list(fresh)
    restarted = fresh.theta.copy()
    fresh.state.t = 0  # what a count restarted every epoch would do
    fresh.engine.train_epoch(restarted, fresh.state, fresh.layout, fresh.X, fresh.y, 16, 0.05,
                             config.update_rule(), 0.0, config.activation)
    assert np.abs(restarted - records[-1].params).max() > 1e-6
