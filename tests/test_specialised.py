"""Kernels specialised for a shape (nnviz.core.specialised) compute the generic kernels' numbers bit for bit."""

import os
import threading

import numpy as np
import pytest
from numba.core.compiler_lock import global_compiler_lock

from nnviz.core import kernels, specialised
from nnviz.core.training import NumpyEngine, TrainConfig, Trainer

# One compilation per row (1–4 s the first time, then cached): every path of the generator, not every combination.
# Wide sizes (≥ specialised.WIDE) keep run-time loop bounds; three inputs are features.
CASES = [
    # shape, features, activation, optimizer, update order, batch size, l2
    ((2, 3, 4, 1), ("x1", "x2"), "relu", "sgd", "true", 1, 0.0),
    ((3, 9, 8, 1), ("x1", "x2", "x1*x2"), "tanh", "adam", "true", 1, 1e-3),
    ((2, 5, 1), ("x1", "x2"), "relu", "sgd", "notebook", 1, 1e-3),
    ((2, 16, 16, 1), ("x1", "x2"), "relu", "sgd", "true", 7, 1e-3),
    ((2, 4, 3, 5, 1), ("x1", "x2"), "tanh", "rmsprop", "true", 32, 0.0),
    ((2, 9, 1), ("x1", "x2"), "tanh", "sgd", "notebook", 16, 0.0),
    ((2, 1), ("x1", "x2"), "relu", "sgd", "true", 1000, 0.0),
    ((2, 20, 17, 1), ("x1", "x2"), "tanh", "heavy-ball", "true", 9, 1e-3),  # sums over > intrinsics.UNROLL terms
    # arrays too big for the stack, on the heap; rows of more than GROUP vectors, more than UNROLL chunks of them
    ((2, 90, 90, 1), ("x1", "x2"), "tanh", "sgd", "true", 24, 1e-3),
]

# Each rule's own kernel on 3-9-8-1, whose 9-8 layer per sample keeps its weights also transposed for some rules.
OPTIMIZER_CASES = [("heavy-ball", 1), ("nesterov", 7), ("adam", 32), ("nesterov", 1), ("sgd", 1), ("rmsprop", 1)]

# Plain sgd (β = 0) per sample, then β raised: the wide ones keep some layers' weights also transposed
# (specialised._mirrored), in widths that are and are not multiples of a vector register.
PLAIN_CASES = [
    ((2, 3, 4, 1), "relu", "true", 1, 1e-3), ((2, 5, 1), "tanh", "notebook", 1, 0.0),
    ((2, 9, 1), "relu", "true", 1, 0.0), ((2, 16, 16, 1), "relu", "true", 1, 1e-3),
    ((2, 10, 13, 1), "tanh", "notebook", 1, 1e-3), ((2, 12, 5, 9, 1), "relu", "true", 1, 0.0),
    ((2, 18, 20, 1), "tanh", "true", 1, 1e-3), ((2, 90, 90, 1), "relu", "true", 1, 0.0)]  # the last on the heap


def _config(shape, features, activation, optimizer, order, batch_size, l2, **more):
    learning_rate = 0.005 if optimizer in ("adam", "rmsprop") else 0.1
    return TrainConfig(dataset="spiral", n_samples=300, noise=0.1, test_fraction=0.2, data_seed=4, shape=shape,
                       features=features, activation=activation, optimizer=optimizer, update_order=order,
                       batch_size=batch_size, learning_rate=learning_rate, l2=l2, momentum=0.5, epochs=6,
                       schedule="exponential", gamma=0.1, **more)


@pytest.fixture(scope="module", autouse=True)
def _ask_for_every_kernel_at_once():
    # Child processes then compile every kernel these tests use, one a core (one a kernel would start ~40
    # interpreters).
    specialised.SPECIALISER.children = max(1, os.cpu_count() or 1)
    configs = [_config(*case) for case in CASES]
    configs += [_config((3, 9, 8, 1), ("x1", "x2", "x1*x2"), "tanh", optimizer, "true", batch, 1e-3)
                for optimizer, batch in OPTIMIZER_CASES]
    configs += [_config(shape, ("x1", "x2"), activation, "sgd", order, batch, l2).replace(momentum=0.0)
                for shape, activation, order, batch, l2 in PLAIN_CASES]
    for config in configs:
        Trainer(config).specialise(wait=False)
    yield
    specialised.SPECIALISER.children = 1  # the application's: the window keeps a core


def _run(config, specialise):
    trainer = Trainer(config)
    if specialise:
        assert trainer.specialise(wait=True), "the specialised kernels should be ready"
    records = list(trainer)
    return records, trainer


def _assert_identical(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.cost, x.accuracy, x.test_cost, x.test_accuracy) == (y.cost, y.accuracy, y.test_cost,
                                                                        y.test_accuracy), x.epoch
        assert np.array_equal(x.params, y.params), x.epoch


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c[0])) + f"-{c[2]}-{c[3]}-{c[4]}-b{c[5]}")
def test_specialised_kernels_train_and_evaluate_bit_for_bit_as_the_generic_ones(case, monkeypatch):
    config = _config(*case)
    special, trainer = _run(config, specialise=True)
    assert trainer.bound_kernels() == "specialised"
    monkeypatch.setenv(specialised.ENV_SWITCH, "0")
    generic, other = _run(config, specialise=False)
    assert other.bound_kernels() == "generic"
    _assert_identical(special, generic)
    assert special[-1].cost < special[0].cost  # it trained: equality would prove little otherwise
    # and both are the numpy reference's numbers
    reference = list(Trainer(config, engine=NumpyEngine()))
    for x, y in zip(special, reference, strict=True):
        assert abs(x.cost - y.cost) <= 1e-9 and abs(x.test_cost - y.test_cost) <= 1e-9
        np.testing.assert_allclose(x.params, y.params, rtol=0, atol=1e-9)


@pytest.mark.parametrize("optimizer, batch_size", OPTIMIZER_CASES)
def test_each_optimisers_own_kernel_keeps_its_numbers(optimizer, batch_size, monkeypatch):
    config = _config((3, 9, 8, 1), ("x1", "x2", "x1*x2"), "tanh", optimizer, "true", batch_size, 1e-3)
    special, _ = _run(config, specialise=True)
    monkeypatch.setenv(specialised.ENV_SWITCH, "0")
    _assert_identical(special, _run(config, specialise=False)[0])


def test_a_run_switching_to_the_specialised_kernels_mid_run_keeps_its_numbers(monkeypatch):
    # A shape no other test asks for: its kernels are not ready in this process until this run asks for them.
    config = _config((2, 6, 5, 1), ("x1", "x2"), "relu", "sgd", "true", 1, 0.0).replace(epochs=10)
    trainer = Trainer(config)
    first = [trainer.step() for _ in range(4)]
    assert trainer.bound_kernels() == "generic"
    assert trainer.specialise(wait=True)
    rest = list(trainer)[1:]
    assert trainer.bound_kernels() == "specialised"
    monkeypatch.setenv(specialised.ENV_SWITCH, "0")
    generic = list(Trainer(config))[1:]
    _assert_identical(first + rest, generic)


def _edited_runs(config, monkeypatch, **edit):
    """With and without specialised kernels: 3 epochs, a live edit, the rest; each run's records and its velocity
    just before the edit."""
    runs = []
    for switch in ("1", "0"):
        monkeypatch.setenv(specialised.ENV_SWITCH, switch)
        trainer = Trainer(config)
        trainer.specialise(wait=True)
        records = [trainer.step() for _ in range(3)]
        velocity = trainer.state.velocity.copy()
        trainer.update_config(**edit)
        records += list(trainer)[1:]
        assert trainer.bound_kernels() == ("specialised" if switch == "1" else "generic")
        runs.append((records, velocity))
    return runs


def test_a_live_edit_keeps_the_specialised_kernels_and_their_numbers(monkeypatch):
    config = _config((2, 3, 4, 1), ("x1", "x2"), "relu", "sgd", "true", 1, 0.0).replace(epochs=8)
    (special, _), (generic, _) = _edited_runs(config, monkeypatch, learning_rate=0.02, momentum=0.9)
    _assert_identical(special, generic)


def test_chunked_epochs_of_big_data_train_with_the_specialised_kernels_too(monkeypatch):
    # 2-16-16-1 on 8,000 points: an epoch takes two chunks (training.CHUNK_WORK) and stops between them.
    config = TrainConfig(dataset="spiral", n_samples=8000, noise=0.1, data_seed=2, shape=(2, 16, 16, 1),
                         batch_size=1, learning_rate=0.01, epochs=2)
    trainer = Trainer(config)
    assert trainer.specialise(wait=True)
    stopped = trainer.step(should_stop=lambda: True)
    assert stopped is None and trainer.in_epoch
    special = [trainer.step(), trainer.step()]
    monkeypatch.setenv(specialised.ENV_SWITCH, "0")
    generic = list(Trainer(config))[1:]
    _assert_identical(special, generic)


def test_shapes_too_big_or_with_several_outputs_keep_the_generic_kernels():
    assert specialised.specialisable((2, 3, 4, 1)) and specialised.specialisable((2, 256, 256, 256, 1))
    assert not specialised.specialisable((2, 256, 256, 256, 256, 1))  # 197k parameters > MAX_PARAMETERS
    assert not specialised.specialisable((2, 3, 2))
    trainer = Trainer(TrainConfig(shape=(2, 256, 256, 256, 256, 1), n_samples=48, epochs=1))
    assert not trainer.specialise(wait=True)
    assert trainer.bound_kernels() == "generic"


def test_kernels_whose_arrays_do_not_fit_the_stack_keep_them_on_the_heap():
    # A kernel's frame has no stack probe: past MAX_STACK_BYTES its copies of θ, v, s (and the rest) are heap arrays
    # (the 90-90 rows of CASES and PLAIN_CASES check those kernels' numbers).
    name = specialised.variant_name("per_sample", "relu", "true", "sgd", False)
    small, big = (2, 64, 64, 1), (2, 90, 90, 1)
    assert specialised.stack_bytes(small) <= specialised.MAX_STACK_BYTES < specialised.stack_bytes(big)
    assert "theta = carray(stack_pointer(" in specialised.source(small, name)
    assert "theta = np.empty(" in specialised.source(big, name) and "t1 = np.empty(" in specialised.source(big, name)


def test_the_numpy_engine_has_no_specialised_kernels():
    trainer = Trainer(TrainConfig(engine="numpy", n_samples=48, epochs=1))
    assert not trainer.specialise(wait=True)
    assert trainer.bound_kernels() == "numpy"


def test_the_generated_module_is_written_once_where_asked(tmp_path, monkeypatch):
    monkeypatch.setenv(specialised.ENV_DIR, str(tmp_path))
    module = specialised.load_module((2, 3, 4, 1), "evaluate_relu")
    path = next(tmp_path.rglob("shape_2_3_4_1_evaluate_relu.py"))
    assert module.__file__ == str(path)  # this directory's module, not one loaded earlier from another
    stamp = path.stat().st_mtime_ns
    assert specialised.load_module((2, 3, 4, 1), "evaluate_relu") is module
    assert path.stat().st_mtime_ns == stamp  # not rewritten: numba's cache is keyed on the file's stamp
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_binding_a_run_does_not_wait_for_a_compilation_under_way():
    # The background thread holds numba's compiler lock for seconds while it compiles a specialised kernel; a new
    # run (a shape change) or a live edit must not wait for it when its own kernels are compiled already.
    config = TrainConfig(n_samples=200, epochs=3)
    Trainer(config).step()  # the generic kernels of these arguments exist
    done = threading.Event()
    with global_compiler_lock:  # as while the background thread compiles
        worker = threading.Thread(target=lambda: (list(Trainer(config)), done.set()), daemon=True)
        worker.start()
        finished = done.wait(30)
    worker.join()
    assert finished, "a new run waited for numba's compiler lock"


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_specialised_evaluation_equals_the_generic_one_on_read_only_parameters(activation):
    trainer = Trainer(TrainConfig(shape=(2, 9, 8, 1), n_samples=600, epochs=3, activation=activation))
    assert trainer.specialise(wait=True)
    record = list(trainer)[-1]
    theta = record.params  # read-only, as a record's parameters are
    engine = kernels.get_compiled_engine()
    assert engine.evaluate(theta, trainer.layout, trainer.X, trainer.y, activation) == (record.cost, record.accuracy)


def test_a_kernel_directory_that_cannot_be_written_keeps_the_generic_kernels(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(specialised.ENV_DIR, str(blocker))
    config = _config((2, 7, 1), ("x1", "x2"), "relu", "sgd", "true", 1, 0.0)  # a shape no other test asks for
    trainer = Trainer(config)
    assert not trainer.specialise(wait=True)
    assert trainer.bound_kernels() == "generic"
    monkeypatch.setenv(specialised.ENV_SWITCH, "0")
    _assert_identical(list(trainer)[1:], list(Trainer(config))[1:])


@pytest.mark.parametrize("shape, activation, order, batch_size, l2", PLAIN_CASES)
def test_plain_sgd_then_momentum_raised_mid_run_keeps_the_numbers(shape, activation, order, batch_size, l2,
                                                                   monkeypatch):
    # With β = 0 the specialised per-sample kernel keeps no velocity but the last step's (v = g, as the rule
    # leaves it): a β raised later must continue from exactly that velocity.
    config = _config(shape, ("x1", "x2"), activation, "sgd", order, batch_size, l2).replace(momentum=0.0, epochs=8)
    (special, velocity), (generic, reference) = _edited_runs(config, monkeypatch, momentum=0.9)
    _assert_identical(special, generic)
    assert np.array_equal(velocity, reference) and np.any(velocity != 0)
