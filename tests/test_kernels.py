"""The compiled engine against the numpy reference, the notebook's figures, and the fallback."""

import sys

import numpy as np
import pytest

import nnviz.core
from nnviz.core import kernels, training
from nnviz.core.network import Layout, accuracy, cost, init_params, predict
from nnviz.core.optimizers import UpdateRule
from nnviz.core.training import NumpyEngine, TrainConfig, Trainer, get_engine, preset_config

SHAPES = [(2, 1), (2, 5, 1), (2, 3, 4, 1), (2, 4, 3, 5, 1)]  # 0 to 3 hidden layers
BATCH_SIZES = [1, 7, 32, 1000]  # 1000 > n: full batch
N_SAMPLES = 200


@pytest.fixture(scope="module")
def compiled():
    return kernels.get_compiled_engine()


def _assert_same_runs(config, compiled_engine):
    ours = list(Trainer(config, engine=compiled_engine))
    reference = list(Trainer(config, engine=NumpyEngine()))
    assert len(ours) == len(reference) == config.epochs + 1
    for a, b in zip(ours, reference, strict=True):
        assert abs(a.cost - b.cost) <= 1e-9, f"epoch {a.epoch}: {a.cost} vs {b.cost}"
        assert a.accuracy == b.accuracy
        assert a.learning_rate == b.learning_rate
        np.testing.assert_allclose(a.params, b.params, rtol=0, atol=1e-9)
        if config.test_fraction:
            assert abs(a.test_cost - b.test_cost) <= 1e-9
            assert a.test_accuracy == b.test_accuracy
    # The runs must actually train, or equality would prove little.
    assert ours[-1].cost < ours[0].cost


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_same_costs_as_numpy_every_epoch(compiled, shape, batch_size, activation):
    # Vary β, the schedule and λ along with the grid so every combination kind is covered.
    case = SHAPES.index(shape) + BATCH_SIZES.index(batch_size)
    momentum = (0.0, 0.9, 0.5)[case % 3]
    schedule = ("constant", "exponential", "step")[case % 3 - 1]
    config = TrainConfig(
        dataset="xor", n_samples=N_SAMPLES, noise=0.1, data_seed=3, shape=shape, activation=activation,
        init_seed=11, learning_rate=0.05 if batch_size == 1 else 0.3, batch_size=batch_size, momentum=momentum,
        schedule=schedule, gamma=0.05, step_every=3, step_factor=0.5, l2=(0.0, 1e-3)[case % 2], epochs=8,
    )
    _assert_same_runs(config, compiled)


@pytest.mark.parametrize("l2", [0.0, 0.01])
@pytest.mark.parametrize("schedule", ["constant", "exponential", "step"])
def test_same_costs_with_test_set_and_schedules(compiled, l2, schedule):
    config = TrainConfig(
        dataset="circle", n_samples=N_SAMPLES, noise=0.05, test_fraction=0.25, data_seed=5, shape=(2, 6, 4, 1),
        activation="tanh", learning_rate=0.2, batch_size=16, momentum=0.8, schedule=schedule, gamma=0.1,
        step_every=4, step_factor=0.3, l2=l2, epochs=15,
    )
    _assert_same_runs(config, compiled)


def test_same_costs_on_the_hard_set_per_sample(compiled):
    _assert_same_runs(preset_config("sgd", epochs=20), compiled)


@pytest.mark.parametrize("preset, final_cost, final_accuracy", [
    ("sgd", 0.013439203, 0.997),
    ("decay", 0.012589529, 0.998),
    ("mini-batch", 0.012394222, 0.997),
])
def test_compiled_engine_reproduces_the_notebook(compiled, preset, final_cost, final_accuracy):
    records = list(Trainer(preset_config(preset), engine=compiled))
    assert len(records) == preset_config(preset).epochs + 1
    assert records[-1].cost == pytest.approx(final_cost, abs=1e-6)
    assert records[-1].accuracy == final_accuracy


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_evaluate_matches_network_cost_and_accuracy(compiled, activation):
    shape = (2, 7, 3, 1)
    layout = Layout(shape)
    theta = init_params(shape, 4) * 2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))  # more than one evaluation block
    y = rng.uniform(size=(600, 1))  # soft labels exercise the general form of the cost
    y[:300] = np.round(y[:300])
    p = predict(theta, layout, X, activation)
    c, a = compiled.evaluate(theta, layout, X, y, activation)
    assert c == pytest.approx(cost(p, y), rel=0, abs=1e-12)
    assert a == accuracy(p, y)


def test_train_epoch_works_in_place_and_rejects_copies(compiled):
    layout = Layout((2, 3, 1))
    X, y = np.zeros((4, 2)), np.ones((4, 1))
    theta = init_params(layout.shape, 0)
    before = theta.copy()
    state = compiled.new_state(layout.size)
    rule = UpdateRule(momentum=0.5)
    compiled.train_epoch(theta, state, layout, X, y, 2, 0.1, rule, 0.0, "relu")
    assert not np.array_equal(theta, before)
    assert np.any(state.velocity != 0)
    with pytest.raises(ValueError, match="theta"):
        compiled.train_epoch(theta.astype(np.float32), state, layout, X, y, 2, 0.1, rule, 0.0, "relu")
    with pytest.raises(ValueError, match="theta"):
        compiled.train_epoch(np.zeros(2 * layout.size)[::2], state, layout, X, y, 2, 0.1, rule, 0.0, "relu")


def test_engine_is_cached_and_kernels_release_the_gil(compiled):
    assert kernels.get_compiled_engine() is compiled
    assert compiled.name == "compiled"
    assert kernels.warm_up() is True
    assert get_engine("compiled") is compiled
    for kernel in (kernels.train_epoch_kernel, kernels.evaluate_kernel):
        assert kernel.targetoptions["nogil"] is True


def _warning_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def _assert_numpy_fallback(capsys):
    engines = [get_engine("compiled"), get_engine("compiled")]
    assert all(isinstance(engine, NumpyEngine) for engine in engines)
    lines = _warning_lines(capsys)
    assert len(lines) == 1
    assert "warning" in lines[0] and "numpy" in lines[0]
    # Training still works, and says nothing more.
    records = list(Trainer(preset_config("sgd", epochs=3)))
    reference = list(Trainer(preset_config("sgd", epochs=3, engine="numpy")))
    assert [r.cost for r in records] == [r.cost for r in reference]
    assert records[-1].cost < records[0].cost
    assert _warning_lines(capsys) == []
    return lines[0]


def test_falls_back_to_numpy_when_numba_is_missing(monkeypatch, capsys):
    monkeypatch.setattr(training, "_warned", False)
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    monkeypatch.delitem(sys.modules, "nnviz.core.kernels")
    monkeypatch.delattr(nnviz.core, "kernels")
    assert "numba" in _assert_numpy_fallback(capsys)


def test_falls_back_to_numpy_when_compilation_fails(monkeypatch, capsys):
    def broken(*args):
        raise RuntimeError("simulated compilation failure")

    monkeypatch.setattr(training, "_warned", False)
    monkeypatch.setattr(kernels, "_engine", None)
    monkeypatch.setattr(kernels, "train_epoch_kernel", broken)
    assert kernels.warm_up() is False
    assert "simulated compilation failure" in _assert_numpy_fallback(capsys)


OPTIMIZER_SETTINGS = {  # α for batch 1 and for batch 16, and the rule's own constants
    "sgd": ((0.05, 0.3), dict(momentum=0.5)),
    "heavy-ball": ((0.01, 0.05), dict(momentum=0.8)),
    "nesterov": ((0.01, 0.05), dict(momentum=0.8)),
    "rmsprop": ((0.005, 0.02), dict(rho=0.8, epsilon=1e-6)),
    "adam": ((0.005, 0.02), dict(beta1=0.8, beta2=0.99, epsilon=1e-6)),
}


@pytest.mark.parametrize("optimizer", list(OPTIMIZER_SETTINGS))
@pytest.mark.parametrize("schedule", ["constant", "exponential", "step"])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_every_optimizer_same_as_numpy_every_epoch(compiled, optimizer, schedule, l2, batch_size, activation):
    rates, constants = OPTIMIZER_SETTINGS[optimizer]
    config = TrainConfig(
        dataset="moons", n_samples=120, noise=0.1, data_seed=2, shape=(2, 5, 3, 1), activation=activation,
        init_seed=3, learning_rate=rates[batch_size > 1], batch_size=batch_size, optimizer=optimizer, **constants,
        schedule=schedule, gamma=0.1, step_every=2, step_factor=0.5, l2=l2, epochs=6,
    )
    _assert_same_runs(config, compiled)


@pytest.mark.parametrize("schedule", ["constant", "exponential", "step"])
@pytest.mark.parametrize("l2", [0.0, 1e-3])
@pytest.mark.parametrize("batch_size", [1, 16])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_notebook_order_same_as_numpy_every_epoch(compiled, schedule, l2, batch_size, activation):
    config = TrainConfig(
        dataset="moons", n_samples=120, noise=0.1, data_seed=2, shape=(2, 5, 3, 1), activation=activation,
        init_seed=3, learning_rate=0.05 if batch_size == 1 else 0.3, batch_size=batch_size, momentum=0.5,
        update_order="notebook", schedule=schedule, gamma=0.1, step_every=2, step_factor=0.5, l2=l2, epochs=6,
    )
    _assert_same_runs(config, compiled)
