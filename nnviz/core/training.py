"""TrainConfig (validated), per-epoch records and the Trainer that yields them."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnviz.core.datasets import (
    CUSTOM,
    DATASETS,
    DEFAULT_FEATURES,
    Dataset,
    Points,
    canonical_features,
    feature_error,
    held_out_size,
)
from nnviz.core.network import ACTIVATIONS, INITS, Layout, accuracy, cost, init_params, l2_penalty, predict
from nnviz.core.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    UPDATE_ORDERS,
    OptimizerState,
    UpdateRule,
    make_optimizer,
    scheduled_learning_rate,
    train_epoch,
    train_epoch_notebook_order,
    update_order_error,
)
from nnviz.core.text import quoted, shorten

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ENGINES = ("compiled", "numpy")
MAX_SEED = 2**32 - 1
DIVERGENCE_FACTOR = 10.0  # a cost above 10 × its epoch-0 value counts as diverged


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={quoted(value)}: must be an integer from {low} to {high}")
    if not low <= value <= high:
        shown = shorten(value) if abs(value) < 10**60 else "a huge integer"
        raise ValueError(f"{name}={shown}: must be an integer from {low} to {high}")


def _check_float(name, value, allowed, ok):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name}={quoted(value)}: must be a number {allowed}")
    if isinstance(value, int) and abs(value) > 2**1023:  # a huge integer (e.g. from JSON) has no float
        bits = abs(value).bit_length()
        raise ValueError(f"{name}: an integer of {bits} bits is too large; must be {allowed}")
    if not (math.isfinite(value) and ok(value)):
        raise ValueError(f"{name}={shorten(value)}: must be {allowed}")


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name}={quoted(value)}: allowed are {', '.join(choices)}")


@dataclass(frozen=True)
class TrainConfig:
    """Every parameter of one training run; constructing an invalid one raises ValueError."""

    # data
    dataset: str = "hard"  # one of DATASETS, or "custom" (the user's points)
    n_samples: int = 1000  # 4 to 1,000,000 (a multiple of 4 for "hard"); custom: the number of points
    noise: float = 0.1  # 0 to 1, in units of the data's spread (unused by "hard" and custom)
    test_fraction: float = 0.0  # 0 to 0.9 held out as a test set
    data_seed: int = 1337  # 0 to 2³²−1
    points: Points | None = None  # custom: the user's points (drawn or loaded); None for a generated set
    keep_order: bool = False  # custom: keep the points' order (else shuffled once with data_seed)
    # network
    features: tuple[str, ...] = DEFAULT_FEATURES  # the inputs the network sees (datasets.FEATURES)
    shape: tuple[int, ...] = (2, 3, 4, 1)  # (inputs, h1, ..., hk, 1), every h from 1 to 256; the input size
    #                                         is always the number of features
    activation: str = "relu"  # hidden layers: relu or tanh; the output is a sigmoid
    init_seed: int = 1234  # 0 to 2³²−1
    init: str = "notebook"  # initial weights: notebook N(0, 0.5), glorot or he (see network.INITS)
    # training
    learning_rate: float = 0.01  # α, finite and > 0
    batch_size: int = 1  # ≥ 1; 1 is per-sample SGD, ≥ n is full batch
    momentum: float = 0.0  # β of sgd (μ of heavy-ball and nesterov), 0 ≤ β < 1
    optimizer: str = "sgd"  # one of OPTIMIZERS (see optimizers.py for each rule)
    rho: float = 0.9  # ρ of rmsprop, 0 ≤ ρ < 1
    epsilon: float = 1e-8  # ε of rmsprop and adam, finite and > 0
    beta1: float = 0.9  # β₁ of adam, 0 ≤ β₁ < 1
    beta2: float = 0.999  # β₂ of adam, 0 ≤ β₂ < 1
    update_order: str = "true"  # "true" backpropagation or "notebook" (the notebook as written; sgd only)
    schedule: str = "constant"  # constant, exponential or step
    gamma: float = 0.0  # γ of the exponential schedule, 0 ≤ γ < 1
    step_every: int = 100  # epochs between steps of the step schedule, ≥ 1
    step_factor: float = 0.5  # factor of the step schedule, 0 < f ≤ 1
    l2: float = 0.0  # λ ≥ 0, penalty (λ/2)·Σw² on weights, not biases
    epochs: int = 150  # 0 to 10,000,000
    engine: str = "compiled"  # compiled (numba) or numpy (the readable reference)

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(self.shape))
        self._check_data()
        if self.dataset == "hard" and self.n_samples % 4:
            raise ValueError(f"n_samples={self.n_samples}: the 'hard' data set needs a multiple of 4")
        _check_float("noise", self.noise, "from 0 to 1", lambda v: 0 <= v <= 1)
        _check_float("test_fraction", self.test_fraction, "from 0 to 0.9", lambda v: 0 <= v <= 0.9)
        _check_int("data_seed", self.data_seed, 0, MAX_SEED)
        self._check_shape()
        _check_choice("activation", self.activation, tuple(ACTIVATIONS))
        _check_int("init_seed", self.init_seed, 0, MAX_SEED)
        _check_choice("init", self.init, tuple(INITS))
        _check_float("learning_rate", self.learning_rate, "finite and > 0", lambda v: v > 0)
        _check_int("batch_size", self.batch_size, 1, 1_000_000)
        _check_float("momentum", self.momentum, "from 0 to below 1", lambda v: 0 <= v < 1)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_float("rho", self.rho, "from 0 to below 1", lambda v: 0 <= v < 1)
        _check_float("epsilon", self.epsilon, "finite and > 0", lambda v: v > 0)
        _check_float("beta1", self.beta1, "from 0 to below 1", lambda v: 0 <= v < 1)
        _check_float("beta2", self.beta2, "from 0 to below 1", lambda v: 0 <= v < 1)
        _check_choice("update_order", self.update_order, UPDATE_ORDERS)
        if update_order_error(self.optimizer, self.update_order):
            raise ValueError(update_order_error(self.optimizer, self.update_order))
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_float("gamma", self.gamma, "from 0 to below 1", lambda v: 0 <= v < 1)
        _check_int("step_every", self.step_every, 1, 10_000_000)
        _check_float("step_factor", self.step_factor, "above 0 and at most 1", lambda v: 0 < v <= 1)
        _check_float("l2", self.l2, "finite and ≥ 0", lambda v: v >= 0)
        _check_int("epochs", self.epochs, 0, 10_000_000)
        _check_choice("engine", self.engine, ENGINES)
        if self.n_samples - held_out_size(self.n_samples, self.test_fraction) < 1:
            raise ValueError(f"test_fraction={self.test_fraction}: leaves no training sample")

    def _check_data(self):
        _check_choice("dataset", self.dataset, (*DATASETS, CUSTOM))
        if self.dataset == CUSTOM:
            if not isinstance(self.points, Points) or len(self.points) < 1:
                raise ValueError("dataset=custom: needs points (draw them, or open a CSV file of at least one point)")
            object.__setattr__(self, "n_samples", len(self.points))  # the points say how many there are
            _check_int("n_samples", self.n_samples, 1, 1_000_000)
        else:
            object.__setattr__(self, "points", None)  # a generated set's points come from its settings
            _check_int("n_samples", self.n_samples, 4, 1_000_000)
        if not isinstance(self.keep_order, (bool, np.bool_)):
            raise ValueError(f"keep_order={quoted(self.keep_order)}: must be true or false")
        object.__setattr__(self, "keep_order", bool(self.keep_order))
        features = tuple(self.features) if isinstance(self.features, (tuple, list)) else self.features
        problem = feature_error(features)
        if problem:
            raise ValueError(problem)
        object.__setattr__(self, "features", canonical_features(features))  # the inputs in FEATURES' order

    def _check_shape(self):
        inputs = len(self.features)
        allowed = f"({inputs}, h1, ..., hk, 1) with every h an integer from 1 to 256"
        if self.features != DEFAULT_FEATURES:
            allowed += f": the network's {inputs} inputs are the features"
        s = self.shape
        if len(s) < 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in s):
            raise ValueError(f"shape={s}: must be {allowed}")
        if s[0] != inputs or s[-1] != 1 or any(not 1 <= h <= 256 for h in s[1:-1]):
            raise ValueError(f"shape={','.join(map(str, s))}: must be {allowed}")

    def replace(self, **changes) -> TrainConfig:
        """A copy with some fields changed (validated); new features without a new shape resize its inputs."""
        return dataclasses.replace(self, **with_inputs(self.shape, changes))

    def to_dict(self) -> dict:
        """Dict of every field: plain JSON-friendly values, except ``points`` (a Points value, or None)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["shape"] = list(self.shape)
        d["features"] = list(self.features)
        return d

    def update_rule(self) -> UpdateRule:
        """The optimiser and its constants, as the engines take them."""
        return UpdateRule(self.optimizer, self.momentum, self.rho, self.epsilon, self.beta1, self.beta2,
                          self.update_order)


def with_inputs(shape: tuple[int, ...], changes: dict) -> dict:
    """``changes`` with the shape's input size following new ``features`` when they change and the shape does not
    (the hidden layers stay)."""
    if "features" in changes and "shape" not in changes and isinstance(changes["features"], (tuple, list)):
        return {**changes, "shape": (len(changes["features"]), *shape[1:])}
    return changes


FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))
# Fields a running Trainer accepts from the next epoch on; anything else means a new run.
# optimizer and update_order restart the run: a new rule's moments mean something else.
LIVE_FIELDS = ("learning_rate", "momentum", "rho", "epsilon", "beta1", "beta2", "schedule", "gamma", "step_every",
               "step_factor", "l2", "epochs")


def load_presets(path: Path | None = None) -> dict[str, dict]:
    """The presets shipped in resources/presets.json: name -> dict of TrainConfig fields."""
    with open(path or RESOURCES / "presets.json", encoding="utf-8") as fh:
        raw = json.load(fh)
    return {name: {k: v for k, v in fields.items() if k in FIELDS} for name, fields in raw.items()}


def preset_config(name: str, **overrides) -> TrainConfig:
    """TrainConfig of a preset with some fields overridden."""
    presets = load_presets()
    if name not in presets:
        raise ValueError(f"preset={name!r}: allowed are {', '.join(presets)}")
    return TrainConfig(**{**presets[name], **overrides})


@dataclass(frozen=True)
class EpochRecord:
    """The state after one epoch (epoch 0: before any step). Arrays are read-only copies."""

    epoch: int  # 0 before any step, then 1..N
    cost: float  # mean cross-entropy on the training set (+ L2 term when λ > 0)
    accuracy: float  # fraction of the training set classified right
    learning_rate: float  # α used during this epoch (epoch 0: the one the first epoch will use)
    elapsed_s: float  # seconds of training (steps and evaluation) since the run started
    params: np.ndarray = field(repr=False)  # flat parameter vector, see network.Layout
    test_cost: float | None = None  # the same on the held-out set, when there is one
    test_accuracy: float | None = None
    updates: int = 0  # parameter updates since the start
    samples: int = 0  # training samples seen since the start


def _epoch_record(epoch, cost, accuracy, learning_rate, elapsed_s, params, test_cost, test_accuracy, updates,
                  samples) -> EpochRecord:
    """EpochRecord(...) at a sixth of the cost: a frozen dataclass's __init__ sets each field through
    object.__setattr__ (1.2 µs an epoch); giving the new record its __dict__ whole makes the same record."""
    record = _new(EpochRecord)
    _set(record, "__dict__", {"epoch": epoch, "cost": cost, "accuracy": accuracy, "learning_rate": learning_rate,
                              "elapsed_s": elapsed_s, "params": params, "test_cost": test_cost,
                              "test_accuracy": test_accuracy, "updates": updates, "samples": samples})
    return record


_new, _set = object.__new__, object.__setattr__
_clock, _isfinite = time.perf_counter, math.isfinite


class NumpyEngine:
    """The readable reference: numpy, one mini-batch step at a time."""

    name = "numpy"

    def new_state(self, size: int) -> OptimizerState:
        """Every optimiser's moments (zero) and the update count t (0) of a new run of ``size`` parameters."""
        return OptimizerState(size)

    def train_epoch(self, theta: np.ndarray, state: OptimizerState, layout: Layout, X: np.ndarray, y: np.ndarray,
                    batch_size: int, learning_rate: float, rule: UpdateRule, l2: float, activation: str) -> None:
        """All mini-batch steps over (X, y) in order, in place on ``theta`` and ``state`` (t keeps counting)."""
        optimizer = make_optimizer(rule, state)
        if rule.update_order == "notebook":
            train_epoch_notebook_order(theta, optimizer, layout, X, y, batch_size, learning_rate, l2, activation)
        else:
            train_epoch(theta, optimizer, layout, X, y, batch_size, learning_rate, l2, activation)

    def evaluate(self, theta, layout, X, y, activation):
        """(mean cross-entropy without L2, accuracy) on (X, y)."""
        p = predict(theta, layout, X, activation)
        return cost(p, y), accuracy(p, y)


_warned = False


def get_engine(name: str):
    """The engine of that name; "compiled" falls back to numpy with one warning line
    when numba is missing or its compilation fails."""
    global _warned
    if name == "numpy":
        return NumpyEngine()
    try:
        from nnviz.core import kernels

        return kernels.get_compiled_engine()
    except Exception as exc:  # ImportError, numba errors: any failure means no compiled engine
        if not _warned:
            print(f"nnviz: warning: compiled engine unavailable ({type(exc).__name__}: {exc}); "
                  "using the numpy engine", file=sys.stderr)
            _warned = True
        return NumpyEngine()


# Work of one chunk of an epoch, in parameter × sample products (a few ms on these machines): a long epoch
# trains chunk by chunk and can stop between two chunks, so Pause, Reset and Close act within ~100 ms.
CHUNK_WORK = 2_000_000
EVAL_WORK = 3 * CHUNK_WORK  # evaluating a sample costs about a third of training on it


class Stopped(Exception):
    """Raised when ``should_stop()`` said so before a piece of work was done (nothing half-made is kept)."""


@dataclass(frozen=True)
class Evaluation:
    """Cost (without the L2 term) and accuracy of some parameters on the training and test sets."""

    cost: float
    accuracy: float
    test_cost: float | None = None
    test_accuracy: float | None = None


class Trainer:
    """Runs one TrainConfig epoch by epoch.

    Iterating yields the epoch-0 record, then one record per epoch up to ``config.epochs``;
    ``step()`` advances by one epoch. ``status`` is "ready", "running", "finished" (as soon
    as ``config.epochs`` are trained, also for 0) or "diverged" (then ``diverged_epoch`` is
    set and no record with a non-finite value was yielded).

    An epoch is trained (and evaluated) in chunks of about CHUNK_WORK; ``step(should_stop)``
    checks ``should_stop()`` between chunks and, when it says so, returns None part-way
    through; the next ``step()`` resumes where it stopped, so the numbers are the same.
    """

    def __init__(self, config: TrainConfig, engine=None, like: Trainer | None = None, data: Dataset | None = None,
                 initial_params: np.ndarray | None = None, initial: Evaluation | None = None, should_stop=None):
        """``like``: a Trainer whose data, initial weights and epoch-0 evaluation this one shares instead of
        building its own (a fair comparison); ``data``, ``initial_params`` and ``initial`` (their epoch-0
        evaluation) give them directly. Shared values must agree with ``config``'s data and network fields.
        ``should_stop()`` is asked between chunks of the epoch-0 evaluation: Stopped when it says so."""
        self.config = config
        self.engine = engine or get_engine(config.engine)
        if like is not None:
            data, initial_params, initial = like.data, like.initial_record().params, like.initial_evaluation
        if data is None:
            data = Dataset.of(config)
        self.data = data
        # The network sees the points through the features: its inputs, not the (x1, x2) of the plane.
        self.X, self.y, self.X_test, self.y_test = data.inputs, data.y, data.inputs_test, data.y_test
        self.theta = init_params(config.shape, config.init_seed, config.init) if initial_params is None \
            else np.array(initial_params, dtype=np.float64)
        self.layout = Layout(config.shape)
        self.state = self.engine.new_state(self.layout.size)
        self.epoch = 0
        self.updates = 0
        self.samples = 0
        self.elapsed_s = 0.0
        self.progress = 0.0  # fraction of the current epoch done (0 between epochs)
        self._status = "ready"  # "ready", "running" or "diverged"; "finished" is derived (see status)
        self._job = None  # the epoch under way (a generator), when stopped part-way
        self.diverged_epoch: int | None = None
        self.divergence_reason = ""
        self._finite = np.empty(self.layout.size, dtype=bool)  # see _divergence
        self._bound = None  # (config, theta, state, BoundRun or None, the same when direct) of _bound_run()
        self.initial_evaluation = initial if initial is not None else _run_to_end(self._evaluation(), should_stop)
        self._initial = self._record(0, self.learning_rate_for(0), self.initial_evaluation)
        self.initial_cost = self._initial.cost

    @property
    def has_test(self) -> bool:
        return len(self.X_test) > 0

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (an epoch under way is finished first, even when the
        target was lowered below it meanwhile)."""
        if self._status != "diverged" and self.epoch >= self.config.epochs and self._job is None:
            return "finished"
        return self._status

    @property
    def done(self) -> bool:
        return self.status in ("finished", "diverged")

    @property
    def in_epoch(self) -> bool:
        """True while an epoch was stopped part-way (the next step() finishes it)."""
        return self._job is not None

    def learning_rate_for(self, epoch: int) -> float:
        """α used in ``epoch`` (≥ 1) under the current config; epoch 0 reports epoch 1's."""
        c = self.config
        if c.schedule == "constant":  # scheduled_learning_rate's first case, without its call (an epoch's overhead)
            return c.learning_rate
        return scheduled_learning_rate(c.schedule, c.learning_rate, max(epoch, 1), c.gamma, c.step_every, c.step_factor)

    def update_config(self, **changes) -> None:
        """Change live fields (learning rate, β, ρ, ε, β₁, β₂, schedule, γ, L2, epochs) from the next epoch."""
        bad = set(changes) - set(LIVE_FIELDS)
        if bad:
            raise ValueError(f"{', '.join(sorted(bad))}: cannot change during a run; start a new one")
        self.config = self.config.replace(**changes)

    def initial_record(self) -> EpochRecord:
        return self._initial

    def _chunk(self, per_sample_work: float, work: float) -> int:
        return max(1, int(work // max(per_sample_work, 1)))

    def _evaluate(self, which: int, run):
        """Generator: (mean cost, accuracy) of the current parameters on the training (``which`` 0) or test set (1),
        in chunks on big sets; through the bound kernels ``run`` when there are some."""
        X, y = (self.X, self.y) if which == 0 else (self.X_test, self.y_test)
        n = len(X)
        chunk = self._chunk(self.layout.size, EVAL_WORK)
        if n <= chunk:
            if run is not None:
                return run.evaluate(which)
            return self.engine.evaluate(self.theta, self.layout, X, y, self.config.activation)
        total = correct = 0.0
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            if run is not None:
                mean_cost, fraction = run.evaluate(which, a, b)
            else:
                mean_cost, fraction = self.engine.evaluate(self.theta, self.layout, X[a:b], y[a:b],
                                                           self.config.activation)
            total += mean_cost * (b - a)
            correct += fraction * (b - a)
            if b < n:
                yield
        return total / n, correct / n

    def _evaluation(self):
        """Generator returning the Evaluation of the current parameters."""
        run = self._bound_run()
        cost_, accuracy_ = yield from self._evaluate(0, run)
        if not self.has_test:
            return Evaluation(cost_, accuracy_)
        test_cost, test_accuracy = yield from self._evaluate(1, run)
        return Evaluation(cost_, accuracy_, test_cost, test_accuracy)

    def _record(self, epoch: int, learning_rate: float, evaluation: Evaluation, l2: float | None = None) -> EpochRecord:
        """The record of the current parameters; ``l2``: the λ the epoch trained with (default: the config's)."""
        params = self.theta.copy()
        params.flags.writeable = False
        return _epoch_record(epoch, evaluation.cost + self._penalty(self.config.l2 if l2 is None else l2),
                             evaluation.accuracy, learning_rate, self.elapsed_s, params, evaluation.test_cost,
                             evaluation.test_accuracy, self.updates, self.samples)

    def _penalty(self, l2: float) -> float:
        """The L2 term of the current parameters (squares of huge weights overflow to inf quietly)."""
        if l2 == 0:
            return 0.0
        with np.errstate(all="ignore"):
            return l2_penalty(self.theta, self.layout, l2)

    def _epoch(self):
        """Generator: the next epoch, chunk by chunk (yielding between chunks); returns its record."""
        c = self.config  # live changes made during the epoch apply from the next one
        epoch = self.epoch + 1
        lr = self.learning_rate_for(epoch)
        n = len(self.X)
        batch = min(c.batch_size, n)
        # Whole batches per chunk: the same steps in the same order as one call over the epoch.
        per_chunk = batch * max(1, self._chunk(self.layout.size * batch, CHUNK_WORK))
        run = self._bound_run()
        for a in range(0, n, per_chunk):
            b = min(a + per_chunk, n)
            started = time.perf_counter()
            if run is not None:
                run.train(lr, a, b)
            else:
                self.engine.train_epoch(self.theta, self.state, self.layout, self.X[a:b], self.y[a:b],
                                        c.batch_size, lr, c.update_rule(), c.l2, c.activation)
            self.elapsed_s += time.perf_counter() - started
            self.progress = 0.9 * b / n
            if b < n:
                yield
        started = time.perf_counter()
        evaluation = yield from self._evaluation()
        self.elapsed_s += time.perf_counter() - started
        # Counted once the epoch is whole: a run stopped while evaluating is not yet "finished".
        self.epoch = epoch
        self.updates += -(-n // batch)
        self.samples += n
        return self._record(epoch, lr, evaluation, c.l2)

    def _bound_run(self):
        """The compiled engine's kernel calls bound to this run's arrays and config (kernels.BoundRun), bound again
        after a live edit; None with the numpy engine."""
        bound = self._bound
        c = self.config
        if bound is not None and bound[0] is c and bound[1] is self.theta and bound[2] is self.state:
            return bound[3]
        run = direct = None
        bind = getattr(self.engine, "bind", None)
        if bind is not None:
            sets = [(self.X, self.y), (self.X_test, self.y_test)] if self.has_test else [(self.X, self.y)]
            run = bind(self.theta, self.state, self.layout, sets, c.batch_size, c.update_rule(), c.l2, c.activation)
            # An epoch in one call and its evaluation in one call each: step() makes them directly (the generator
            # would never yield, so ``should_stop`` would never be asked).
            n, size = len(self.X), self.layout.size
            batch = min(c.batch_size, n)
            one_chunk = n <= batch * max(1, self._chunk(size * batch, CHUNK_WORK))
            if one_chunk and max(n, len(self.X_test)) <= self._chunk(size, EVAL_WORK):
                direct = run
        self._bound = (c, self.theta, self.state, run, direct)
        return run

    def specialise(self, wait: bool = False) -> bool:
        """Ask now for the compiled kernels specialised for this run's shape (kernels.BoundRun.specialise), which
        the compiled engine otherwise asks for once a run has trained a while; ``wait`` blocks until they are
        compiled. Whether the next epoch trains with them (never with the numpy engine)."""
        run = self._bound_run()
        return run is not None and run.specialise(wait)

    def bound_kernels(self) -> str:
        """Which kernels train the next epoch: "specialised" (compiled for this shape), "generic" (compiled) or
        "numpy"."""
        run = self._bound_run()
        if run is None:
            return "numpy"
        return "specialised" if run.specialised else "generic"

    def _direct_epoch(self, run) -> tuple[EpochRecord, bool]:
        """The next epoch through the bound kernels (the same calls on the same arrays as _epoch makes): its record,
        and whether every parameter is still finite. (Written for its cost: a few µs an epoch, issue 13.)"""
        c = self._bound[0]  # the config they were bound to, which step() has just checked is the current one
        epoch = self.epoch + 1
        lr = self.learning_rate_for(epoch)
        started = _clock()
        finite = run.train(lr)
        self.progress = 0.9
        cost_, accuracy_, test_cost, test_accuracy = run.evaluate_all()
        self.elapsed_s += _clock() - started
        self.progress = 0.0
        self.epoch = epoch
        self.updates += run.updates
        self.samples += run.n
        params = self.theta.copy()
        params.setflags(write=False)
        return _epoch_record(epoch, cost_ + self._penalty(c.l2), accuracy_, lr, self.elapsed_s, params, test_cost,
                             test_accuracy, self.updates, self.samples), finite

    def step(self, should_stop=None) -> EpochRecord | None:
        """Train one epoch and return its record; None when finished or diverged, or when
        ``should_stop()`` (asked between chunks) stopped it part-way (then ``in_epoch`` is True)."""
        if self._job is None:
            if self._status == "diverged" or self.epoch >= self.config.epochs:  # self.done, read without its calls
                return None
            self._status = "running"
            self._bound_run()  # (bound again after a live edit)
            direct = self._bound[4]
            if direct is not None:  # an epoch in one call of each kernel
                record, finite = self._direct_epoch(direct)
                cost = record.cost
                if finite and _isfinite(cost) and cost <= DIVERGENCE_FACTOR * self.initial_cost:
                    return record  # (what _checked returns then, without its calls)
                return self._checked(record, finite)
            self._job = self._epoch()
        self._status = "running"
        try:
            with np.errstate(all="ignore"):
                while True:
                    next(self._job)
                    if should_stop is not None and should_stop():
                        return None
        except StopIteration as end:
            record = end.value
        except BaseException:
            self._job = None  # a dead generator must not be resumed; the error goes to the caller
            self.progress = 0.0
            raise
        self._job = None
        self.progress = 0.0
        return self._checked(record)

    def _checked(self, record: EpochRecord, finite: bool | None = None) -> EpochRecord | None:
        """The record, or None when it shows the run diverged (then the status says so); ``finite``: whether every
        parameter is finite, when the kernels said."""
        reason = self._divergence(record, finite)
        if reason:
            self._status = "diverged"
            self.diverged_epoch = record.epoch
            self.divergence_reason = reason
            return None
        return record

    def _divergence(self, record: EpochRecord, finite: bool | None = None) -> str:
        # np.all(np.isfinite(θ)) costs 2.3 µs, mostly the reduction's set-up; counting into a kept buffer 1 µs; the
        # bound kernels say it for nothing. The cost alone is not enough: a relu unit whose bias is −inf outputs 0
        # and the cost stays finite.
        if finite is None:
            params = record.params
            if len(self._finite) != len(params):
                self._finite = np.empty(len(params), dtype=bool)
            finite = np.count_nonzero(np.isfinite(params, out=self._finite)) == len(params)
        if not finite:
            return "a parameter is no longer finite"
        if not math.isfinite(record.cost):
            return "the cost is no longer finite"
        if record.cost > DIVERGENCE_FACTOR * self.initial_cost:
            return (f"the cost {record.cost:.4g} rose above {DIVERGENCE_FACTOR:g} × "
                    f"its start value {self.initial_cost:.4g}")
        return ""

    def __iter__(self) -> Iterator[EpochRecord]:
        yield self._initial
        while True:
            record = self.step()
            if record is None:
                return
            yield record


def _run_to_end(generator, should_stop=None):
    """The return value of a generator run to its end; Stopped if ``should_stop()`` says so between two steps."""
    while True:
        try:
            next(generator)
        except StopIteration as end:
            return end.value
        if should_stop is not None and should_stop():
            raise Stopped
