"""Fair comparisons: several runs trained from the same initial weights on the same data.

A comparison holds ``SharedSettings`` (the data, the network and the engine: everything
that must be equal for a comparison to be fair) and one ``RunSpec`` per run (its name,
colour and training settings). ``Comparison`` builds the data and the initial weights
once, gives every run its own Trainer starting from them, and advances all runs
round-robin, one epoch each per ``step()``. Each run keeps its per-epoch scalars in a
``History`` and its parameters in a ``SnapshotStore`` of bounded size, for the timeline.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from nnviz.core.datasets import held_out_size
from nnviz.core.history import HISTORY_COLUMNS, INT_COLUMNS, TEST_COLUMNS, History  # noqa: F401 (re-exported)
from nnviz.core.training import LIVE_FIELDS, EpochRecord, TrainConfig, Trainer, get_engine, preset_config

# Fields every run of a comparison shares, and the fields each run sets for itself.
SHARED_FIELDS = ("dataset", "n_samples", "noise", "test_fraction", "data_seed", "shape", "activation", "init_seed",
                 "engine")
TRAINING_FIELDS = ("learning_rate", "batch_size", "momentum", "schedule", "gamma", "step_every", "step_factor", "l2",
                   "epochs")
RUN_FIELDS = ("name", "colour", "visible", *TRAINING_FIELDS)
_FLOAT_FIELDS = ("noise", "test_fraction", "learning_rate", "momentum", "gamma", "step_factor", "l2")

NOTEBOOK_PRESETS = ("sgd", "mini-batch", "momentum", "decay")
# Run colours, in the order new runs take them (matplotlib's tab10: distinct, readable on white).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
MAX_NAME_LENGTH = 60
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_DEFAULTS = TrainConfig()


def _normalise_numbers(obj) -> None:
    # Plain Python numbers, so that settings compare, hash and serialise alike whatever they were built from.
    for name in _FLOAT_FIELDS:
        if hasattr(obj, name):
            object.__setattr__(obj, name, float(getattr(obj, name)))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.integer):
            object.__setattr__(obj, f.name, int(value))


@dataclass(frozen=True)
class SharedSettings:
    """What every run of a comparison shares; constructing an invalid one raises ValueError
    with TrainConfig's message (``field=value: allowed range``)."""

    dataset: str = _DEFAULTS.dataset  # one of datasets.DATASETS
    n_samples: int = _DEFAULTS.n_samples  # 4 to 1,000,000 (a multiple of 4 for "hard")
    noise: float = _DEFAULTS.noise  # 0 to 1
    test_fraction: float = _DEFAULTS.test_fraction  # 0 to 0.9 held out as a test set
    data_seed: int = _DEFAULTS.data_seed  # 0 to 2³²−1
    shape: tuple[int, ...] = _DEFAULTS.shape  # (2, h1, ..., hk, 1), every h from 1 to 256
    activation: str = _DEFAULTS.activation  # relu or tanh
    init_seed: int = _DEFAULTS.init_seed  # 0 to 2³²−1
    engine: str = _DEFAULTS.engine  # compiled or numpy

    def __post_init__(self):
        if not isinstance(self.shape, (list, tuple)):
            raise ValueError(f"shape={self.shape!r}: must be (2, h1, ..., hk, 1) with every h an integer from 1 to 256")
        object.__setattr__(self, "shape", tuple(int(v) if isinstance(v, np.integer) else v for v in self.shape))
        TrainConfig(**self.to_dict())  # validates, with TrainConfig's messages
        _normalise_numbers(self)

    @classmethod
    def from_config(cls, config: TrainConfig) -> SharedSettings:
        return cls(**{name: getattr(config, name) for name in SHARED_FIELDS})

    def replace(self, **changes) -> SharedSettings:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-friendly dict of every field."""
        d = dataclasses.asdict(self)
        d["shape"] = list(self.shape)
        return d

    @property
    def has_test(self) -> bool:
        """Whether these settings hold out a non-empty test set."""
        return held_out_size(self.n_samples, self.test_fraction) > 0


@dataclass(frozen=True)
class RunSpec:
    """One run of a comparison: how it is shown and how it trains; invalid values raise ValueError."""

    name: str = "run"  # 1 to 60 printable characters, unique within a comparison
    colour: str = PALETTE[0]  # "#rrggbb", stored in lower case
    visible: bool = True  # shown in the views (a hidden run still trains)
    learning_rate: float = _DEFAULTS.learning_rate  # α, finite and > 0
    batch_size: int = _DEFAULTS.batch_size  # ≥ 1; 1 is per-sample SGD
    momentum: float = _DEFAULTS.momentum  # β, 0 ≤ β < 1
    schedule: str = _DEFAULTS.schedule  # constant, exponential or step
    gamma: float = _DEFAULTS.gamma  # γ of the exponential schedule, 0 ≤ γ < 1
    step_every: int = _DEFAULTS.step_every  # epochs between steps of the step schedule, ≥ 1
    step_factor: float = _DEFAULTS.step_factor  # factor of the step schedule, 0 < f ≤ 1
    l2: float = _DEFAULTS.l2  # λ ≥ 0
    epochs: int = _DEFAULTS.epochs  # 0 to 10,000,000

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip() or len(self.name) > MAX_NAME_LENGTH \
                or not self.name.isprintable():
            raise ValueError(f"name={self.name!r}: must be text of 1 to {MAX_NAME_LENGTH} printable characters")
        if not isinstance(self.colour, str) or not _COLOUR.fullmatch(self.colour):
            raise ValueError(f"colour={self.colour!r}: must be \"#rrggbb\" with hexadecimal digits")
        if not isinstance(self.visible, (bool, np.bool_)):
            raise ValueError(f"visible={self.visible!r}: must be true or false")
        TrainConfig(**self.training())  # validates, with TrainConfig's messages
        object.__setattr__(self, "colour", self.colour.lower())
        object.__setattr__(self, "visible", bool(self.visible))
        _normalise_numbers(self)

    @classmethod
    def from_config(cls, config: TrainConfig, name: str, colour: str = PALETTE[0], visible: bool = True) -> RunSpec:
        return cls(name=name, colour=colour, visible=visible, **{n: getattr(config, n) for n in TRAINING_FIELDS})

    def training(self) -> dict:
        """The training settings as TrainConfig fields."""
        return {name: getattr(self, name) for name in TRAINING_FIELDS}

    def config(self, shared: SharedSettings) -> TrainConfig:
        """The TrainConfig of this run within a comparison of ``shared`` settings."""
        return TrainConfig(**shared.to_dict(), **self.training())

    def replace(self, **changes) -> RunSpec:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """Plain JSON-friendly dict of every field."""
        return dataclasses.asdict(self)


def preset_run(name: str, colour: str = PALETTE[0]) -> RunSpec:
    """The RunSpec of a preset from resources/presets.json, named after it."""
    return RunSpec.from_config(preset_config(name), name, colour)


def preset_shared(name: str = NOTEBOOK_PRESETS[0]) -> SharedSettings:
    """The shared settings (data, network, engine) of a preset."""
    return SharedSettings.from_config(preset_config(name))


def notebook_runs() -> list[RunSpec]:
    """The notebook's four strategies (sgd, mini-batch, momentum, decay), each in its own colour."""
    return [preset_run(name, PALETTE[i]) for i, name in enumerate(NOTEBOOK_PRESETS)]


SNAPSHOT_CAPACITY = 2048  # snapshots per run before thinning: all of the notebook's 2,000 mini-batch epochs
SNAPSHOT_MAX_BYTES = 32 * 2**20  # per run; big networks get a smaller capacity


class SnapshotStore:
    """Parameter vectors by epoch at a bounded memory cost, for scrubbing back through a run.

    Every epoch is kept until the store holds ``capacity`` snapshots; then every second
    one is dropped and from then on only every 2nd epoch is kept, then every 4th, and
    so on (the stride doubles each time the store fills up). Epoch 0 and the latest
    snapshot are always kept. ``capacity`` shrinks for big networks so that the store
    never holds more than about ``max_bytes``.
    """

    def __init__(self, capacity: int = SNAPSHOT_CAPACITY, max_bytes: int = SNAPSHOT_MAX_BYTES):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 2:
            raise ValueError(f"capacity={capacity!r}: must be an integer ≥ 2")
        self.requested_capacity = int(capacity)
        self.capacity = int(capacity)  # maximum number of strided snapshots, fixed at the first add
        self.max_bytes = int(max_bytes)
        self.stride = 1  # epochs between kept snapshots
        self._epochs: list[int] = []  # sorted, multiples of stride
        self._params: list[np.ndarray] = []
        self._latest: tuple[int, np.ndarray] | None = None  # the newest snapshot when it is off the stride
        self._nbytes = 0  # bytes of every array held, kept up to date by add()

    def __len__(self) -> int:
        return len(self._epochs) + (self._latest is not None)

    @property
    def epochs(self) -> list[int]:
        """Epochs held, in increasing order."""
        return self._epochs + ([self._latest[0]] if self._latest else [])

    @property
    def last_epoch(self) -> int | None:
        """The newest epoch held, None when empty (O(1): add() asks on every epoch)."""
        if self._latest is not None:
            return self._latest[0]
        return self._epochs[-1] if self._epochs else None

    @property
    def nbytes(self) -> int:
        """Bytes held by the parameter vectors (O(1))."""
        return self._nbytes

    def clear(self) -> None:
        self.__init__(self.requested_capacity, self.max_bytes)

    def add(self, epoch: int, params: np.ndarray) -> None:
        """Keep the parameters after ``epoch``; epochs must increase from one call to the next."""
        last = self.last_epoch
        if last is not None and epoch <= last:
            raise ValueError(f"epoch={epoch}: must be after the last snapshot's epoch {last}")
        if params.flags.writeable or params.base is not None:
            params = params.copy()
            params.flags.writeable = False
        if not self._epochs:
            self.capacity = max(2, min(self.requested_capacity, self.max_bytes // max(params.nbytes, 1)))
        if self._latest is not None:
            self._nbytes -= self._latest[1].nbytes
        self._latest = None
        self._nbytes += params.nbytes
        if epoch % self.stride:
            self._latest = (epoch, params)
            return
        self._epochs.append(epoch)
        self._params.append(params)
        if len(self._epochs) > self.capacity:
            while len(self._epochs) > self.capacity:
                self.stride *= 2
                keep = [i for i, e in enumerate(self._epochs) if e % self.stride == 0 or i == 0]
                self._epochs = [self._epochs[i] for i in keep]
                self._params = [self._params[i] for i in keep]
            # Thinned (rarely: when the store fills up): count again, params included as the latest.
            self._nbytes = sum(p.nbytes for p in self._params) + (params.nbytes if self._epochs[-1] != epoch else 0)
        if self._epochs[-1] != epoch:
            self._latest = (epoch, params)

    def nearest(self, epoch: int) -> tuple[int, np.ndarray] | None:
        """``(stored_epoch, params)`` of the newest snapshot at or before ``epoch``; None if there is none."""
        if self._latest is not None and self._latest[0] <= epoch:
            return self._latest
        i = bisect.bisect_right(self._epochs, epoch) - 1
        if i < 0:
            return None
        return self._epochs[i], self._params[i]


@dataclass
class Run:
    """One run of a comparison: what it is, its trainer, and what it has produced so far."""

    id: int  # stable within its Comparison, never reused
    spec: RunSpec
    trainer: Trainer
    history: History  # one row per epoch trained, epoch 0 included
    snapshots: SnapshotStore  # parameters by epoch, thinned

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (see Trainer)."""
        return self.trainer.status

    @property
    def epoch(self) -> int:
        return self.trainer.epoch


class Comparison:
    """Runs trained side by side from the same data and the same initial weights.

    Parameters
    ----------
    shared : SharedSettings
        Data, network and engine of every run.
    runs : iterable of RunSpec
        The runs, with distinct names.
    snapshot_capacity : int
        Parameter snapshots kept per run before thinning (see SnapshotStore).
    """

    def __init__(self, shared: SharedSettings, runs: Iterable[RunSpec] = (), snapshot_capacity: int = SNAPSHOT_CAPACITY,
                 engine=None):
        self.shared = shared
        self.snapshot_capacity = snapshot_capacity
        self.engine = engine or get_engine(shared.engine)
        # Builds the data and the initial weights once; every run's Trainer shares them.
        self.reference = Trainer(TrainConfig(**shared.to_dict()), self.engine)
        self.runs: dict[int, Run] = {}  # by id, in the order added
        self._next_id = 0
        for spec in runs:
            self.add(spec)

    # The data and the starting point, for the views.
    @property
    def has_test(self) -> bool:
        return self.reference.has_test

    @property
    def layout(self):
        return self.reference.layout

    @property
    def initial_params(self) -> np.ndarray:
        """Read-only flat parameter vector every run starts from."""
        return self.reference.initial_record().params

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(list(self.runs.values()))

    def __getitem__(self, run_id: int) -> Run:
        return self.runs[run_id]

    def by_name(self, name: str) -> Run:
        for run in self.runs.values():
            if run.spec.name == name:
                return run
        raise KeyError(name)

    def _check_name(self, name: str, run_id: int | None = None) -> None:
        if any(run.spec.name == name and run.id != run_id for run in self.runs.values()):
            raise ValueError(f"name={name!r}: another run already has that name")

    def unique_name(self, base: str) -> str:
        """``base``, or ``base (2)``, ``base (3)``, ... whichever no run has yet."""
        names = {run.spec.name for run in self.runs.values()}
        if base not in names:
            return base
        n = 2
        while f"{base} ({n})"[:MAX_NAME_LENGTH] in names:
            n += 1
        return f"{base} ({n})"[:MAX_NAME_LENGTH]

    def next_colour(self) -> str:
        """The first palette colour no run uses (cycling when all are taken)."""
        used = {run.spec.colour for run in self.runs.values()}
        free = [c for c in PALETTE if c not in used]
        return free[0] if free else PALETTE[self._next_id % len(PALETTE)]

    def _start(self, run_id: int, spec: RunSpec) -> Run:
        trainer = Trainer(spec.config(self.shared), self.engine, like=self.reference)
        run = Run(run_id, spec, trainer, History(trainer.has_test), SnapshotStore(self.snapshot_capacity))
        first = trainer.initial_record()
        run.history.append(first)
        run.snapshots.add(0, first.params)
        return run

    def add(self, spec: RunSpec) -> int:
        """Add a run starting at epoch 0; returns its id. Raises ValueError if the name is taken."""
        self._check_name(spec.name)
        run_id = self._next_id
        self._next_id += 1
        self.runs[run_id] = self._start(run_id, spec)
        return run_id

    def remove(self, run_id: int) -> None:
        del self.runs[run_id]

    def update(self, run_id: int, spec: RunSpec) -> bool:
        """Change a run's spec. Name, colour and visibility change in place; training settings
        that a Trainer accepts live apply from the next epoch; any other change (batch size)
        restarts the run from epoch 0. Returns True when the run was restarted."""
        self._check_name(spec.name, run_id)
        run = self.runs[run_id]
        changes = {n: getattr(spec, n) for n in TRAINING_FIELDS if getattr(spec, n) != getattr(run.spec, n)}
        if set(changes) <= set(LIVE_FIELDS):
            if changes:
                run.trainer.update_config(**changes)
            run.spec = spec
            return False
        self.runs[run_id] = self._start(run_id, spec)
        return True

    def reset(self) -> None:
        """Every run back to epoch 0, from the same initial weights."""
        for run_id, run in list(self.runs.items()):
            self.runs[run_id] = self._start(run_id, run.spec)

    @property
    def done(self) -> bool:
        """True when no run has an epoch left to train (finished or diverged)."""
        return all(run.trainer.done for run in self.runs.values())

    def step(self, pool: Executor | None = None) -> dict[int, EpochRecord]:
        """Advance every unfinished run by one epoch; returns {run_id: record} of the runs that
        trained one, in run order (a run that diverges in this step has no record: see its status).

        With a ``pool`` (e.g. ``ThreadPoolExecutor(2)``, owned by the caller) the runs' epochs
        run concurrently; the results are the same. The compiled kernels release the GIL, so
        two cores train big networks about 1.5× faster; the numpy engine gains nothing
        (benchmarks/bench_comparison.py).
        """
        active = [run for run in self.runs.values() if not run.trainer.done]
        if pool is None or len(active) < 2:
            results = [run.trainer.step() for run in active]
        else:
            results = list(pool.map(lambda run: run.trainer.step(), active))
        out = {}
        for run, record in zip(active, results, strict=True):
            if record is None:
                continue
            run.history.append(record)
            run.snapshots.add(record.epoch, record.params)
            out[run.id] = record
        return out

    def run_to_end(self) -> None:
        """Step until every run has finished or diverged."""
        while not self.done:
            self.step()

    def specs(self) -> list[RunSpec]:
        return [run.spec for run in self.runs.values()]

    def histories(self) -> dict[str, History]:
        """Each run's history by run name, in run order."""
        return {run.spec.name: run.history for run in self.runs.values()}

    @property
    def snapshot_nbytes(self) -> int:
        """Bytes held by every run's parameter snapshots."""
        return sum(run.snapshots.nbytes for run in self.runs.values())
