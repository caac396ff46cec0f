"""The model of a comparison: several runs trained from the same initial weights on the same data.

A comparison holds ``SharedSettings`` (the data, the network and the engine: everything
that must be equal for a comparison to be fair), the ``Start`` they make (the data set as a
value, the initial weights and their evaluation) and the ordered runs, each with its
``RunSpec`` (name, colour, visibility, training settings), its Trainer, its ``History`` of
per-epoch scalars and its ``SnapshotStore`` of parameters for the timeline.

``edit_effect`` (core/specs.py) is the one rule that says what an edit means. The command line and the
window both drive this model; nothing else keeps a copy of its state. It is safe to use
from two threads: a worker trains (``step``) while the GUI thread edits and reads, every
change of the runs is made under ``lock``, and a run's epoch is trained outside it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from nnviz.core.datasets import Dataset
from nnviz.core.health import MEASURE_POINTS, Health, UpdateSizes, measure
from nnviz.core.health import warnings as health_warnings
from nnviz.core.history import HISTORY_COLUMNS, INT_COLUMNS, TEST_COLUMNS, History  # noqa: F401 (re-exported)
from nnviz.core.network import Layout, init_params
from nnviz.core.run_queries import RunQueries
from nnviz.core.seeds import SeedSettings, SeedStore, shown_shared
from nnviz.core.snapshots import SNAPSHOT_CAPACITY, SNAPSHOT_MAX_BYTES, SnapshotStore  # noqa: F401 (re-exported)
from nnviz.core.specs import (  # noqa: F401 (re-exported)
    DISPLAY,
    LIVE,
    MAX_NAME_LENGTH,
    NOTEBOOK_PRESETS,
    PALETTE,
    RESTART_ALL,
    RESTART_RUN,
    RUN_FIELDS,
    SHARED_FIELDS,
    TRAINING_FIELDS,
    RunSpec,
    SharedSettings,
    check_unique_names,
    edit_effect,
    notebook_runs,
    preset_run,
    preset_shared,
    unique_name,
)
from nnviz.core.training import EpochRecord, Evaluation, Stopped, TrainConfig, Trainer, get_engine

DATA_FIELDS = ("dataset", "n_samples", "noise", "test_fraction", "data_seed", "points", "keep_order")
NETWORK_FIELDS = ("shape", "init_seed", "init")


@dataclass(frozen=True)
class Start:
    """What every run of a comparison starts from."""

    shared: SharedSettings
    data: Dataset
    initial_params: np.ndarray  # read-only flat parameter vector (network.Layout)
    evaluation: Evaluation  # of initial_params on data, without the L2 term
    health: Health | None = None  # of initial_params on (up to health.MEASURE_POINTS of) the training data

    def warnings(self) -> list[str]:
        """Why the runs may not learn from this start, in plain words with the remedy (empty: no problem seen)."""
        return [] if self.health is None else health_warnings(self.health, self.shared.init, 0)

    @property
    def layout(self) -> Layout:
        return Layout(self.shared.shape, self.shared.features)


def prepare(shared: SharedSettings, engine=None, data: Dataset | None = None, previous: Start | None = None,
            should_stop: Callable[[], bool] | None = None) -> Start:
    """Build the data, the initial weights and their evaluation (the slow part of a comparison: call it off
    the GUI thread). ``data`` replaces the generated points; ``previous`` lends its data when the data
    settings are unchanged and its weights when the network is unchanged. ``should_stop()`` is asked
    between the steps and between chunks of the evaluation: training.Stopped when it says so."""
    engine = engine or get_engine(shared.engine)
    same = previous is not None
    if data is None and same and all(getattr(previous.shared, f) == getattr(shared, f) for f in DATA_FIELDS):
        data = previous.data  # seen through the new features below if they changed
    if data is None:
        data = Dataset.of(shared)
    elif data.features != shared.features:
        data = data.with_features(shared.features)
    params = None
    if same and all(getattr(previous.shared, f) == getattr(shared, f) for f in NETWORK_FIELDS):
        params = previous.initial_params
    if params is None:
        params = init_params(shared.shape, shared.init_seed, shared.init)
        params.flags.writeable = False
    if should_stop is not None and should_stop():
        raise Stopped
    reference = Trainer(TrainConfig(**shared.to_dict()), engine, data=data, initial_params=params,
                        should_stop=should_stop)
    health = measure(params, Layout(shared.shape), shared.activation, data.inputs, data.y, MEASURE_POINTS,
                     should_stop)
    return Start(shared, data, params, reference.initial_evaluation, health)


@dataclass
class Run:
    """One run of a comparison: what it is, its trainer, and what it has produced so far."""

    id: int  # stable within its Comparison, never reused
    spec: RunSpec
    trainer: Trainer
    history: History  # one row per epoch trained, epoch 0 included
    snapshots: SnapshotStore  # parameters by epoch, thinned
    update_sizes: UpdateSizes  # ‖ΔW‖/‖W‖ per layer and epoch
    generation: int = 0  # increases at every restart: a record of an older trainer is dropped
    saved: History | None = None  # a session's saved history, to be retrained to and checked against
    restored: bool | None = None  # once retrained that far: whether it reproduced the saved history

    @property
    def status(self) -> str:
        """ready, running, finished or diverged (see Trainer)."""
        return self.trainer.status

    @property
    def epoch(self) -> int:
        return self.trainer.epoch


class Comparison(RunQueries):
    """Runs trained side by side from the same data and the same initial weights.

    Parameters
    ----------
    shared : SharedSettings
        Data, network and engine of every run.
    runs : iterable of RunSpec
        The runs, with distinct names.
    snapshot_capacity : int
        Parameter snapshots kept per run before thinning (see SnapshotStore).
    start : Start, optional
        The prepared data and initial weights (``prepare``); built here when not given.

    ``shared`` stays the user's settings (seed 1 of the runs' seeds); the runs train from ``start``, prepared
    for ``shown_shared``: the seed the seed settings show (``seeds.settings.shown``), seed 1 by default.
    """

    def __init__(self, shared: SharedSettings, runs: Iterable[RunSpec] = (), snapshot_capacity: int = SNAPSHOT_CAPACITY,
                 engine=None, start: Start | None = None):
        self.lock = threading.RLock()  # held for every change of the runs and every read that needs them steady
        self.snapshot_capacity = snapshot_capacity
        self.engine = engine or get_engine(shared.engine)
        self.seeds = SeedStore()  # the runs repeated over seeds: the setting and each run's trained seeds
        self._shared = shared  # the user's shared settings (start.shared adds the shown seed's offset)
        if start is None or start.shared != shared:
            start = prepare(shared, self.engine, previous=start)
        self.start = start
        self.runs: dict[int, Run] = {}  # by id, in display order
        self.version = 0  # increases whenever runs are added, removed, restarted or replaced
        self._next_id = 0
        self._todo: list[int] = []  # runs still to train in the current round-robin round
        for spec in runs:
            self.add(spec)

    # ---- what every run shares -----------------------------------------------------------

    @property
    def shared(self) -> SharedSettings:
        """The user's shared settings: seed 1 of the runs' seeds (the live runs train from ``shown_shared``)."""
        return self._shared

    @property
    def shown_shared(self) -> SharedSettings:
        """The shared settings the live runs train from: ``shared`` with the shown seed's offset."""
        return self.start.shared

    def effective(self, shared: SharedSettings | None = None, seeds: SeedSettings | None = None) -> SharedSettings:
        """What the live runs would train from with ``shared`` and ``seeds`` (default: the comparison's)."""
        return shown_shared(shared or self._shared, seeds or self.seeds.settings)

    @property
    def data(self) -> Dataset:
        return self.start.data

    @property
    def has_test(self) -> bool:
        return self.start.data.has_test

    @property
    def layout(self) -> Layout:
        return self.start.layout

    @property
    def initial_params(self) -> np.ndarray:
        """Read-only flat parameter vector every run starts from."""
        return self.start.initial_params

    # ---- the runs --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        with self.lock:
            return iter(list(self.runs.values()))

    def __getitem__(self, run_id: int) -> Run:
        return self.runs[run_id]

    def __contains__(self, run_id: int) -> bool:
        return run_id in self.runs

    def ids(self) -> list[int]:
        with self.lock:
            return list(self.runs)

    def _check_name(self, name: str, run_id: int | None = None) -> None:
        if any(run.spec.name == name and run.id != run_id for run in self.runs.values()):
            raise ValueError(f"name={name!r}: another run already has that name")

    def _new_run(self, run_id: int, spec: RunSpec, generation: int = 0) -> Run:
        start = self.start
        trainer = Trainer(spec.config(start.shared), self.engine, data=start.data,
                          initial_params=start.initial_params, initial=start.evaluation)
        run = Run(run_id, spec, trainer, History(trainer.has_test), SnapshotStore(self.snapshot_capacity),
                  UpdateSizes(start.layout, start.initial_params), generation)
        first = trainer.initial_record()
        run.history.append(first)
        run.snapshots.add(0, first.params)
        return run

    # ---- edits (each under the lock; all cheap once the Start is prepared) -------------------

    def add(self, spec: RunSpec, index: int | None = None) -> int:
        """Add a run at epoch 0 (at ``index`` in the order, default last); returns its id.
        The other runs go on where they are. Raises ValueError if the name is taken."""
        with self.lock:
            self._check_name(spec.name)
            run_id = self._next_id
            self._next_id += 1
            run = self._new_run(run_id, spec)
            items = list(self.runs.items())
            items.insert(len(items) if index is None else index, (run_id, run))
            self.runs = dict(items)
            self.version += 1
            return run_id

    def remove(self, run_id: int) -> None:
        with self.lock:
            del self.runs[run_id]
            self.version += 1

    def restart(self, run_id: int) -> None:
        """One run back to epoch 0."""
        with self.lock:
            run = self.runs[run_id]
            self.runs[run_id] = self._new_run(run_id, run.spec, run.generation + 1)
            self.version += 1

    def edit(self, run_id: int, spec: RunSpec) -> str:
        """Change a run's spec as ``edit_effect`` says; returns the effect. A live change of a run that
        has trained nothing yet (epoch 0, no epoch under way) restarts it (nothing is lost), so that its
        epoch-0 record shows the new settings."""
        with self.lock:
            self._check_name(spec.name, run_id)
            run = self.runs[run_id]
            effect = edit_effect(run.spec, spec)
            if effect == LIVE and (run.epoch > 0 or run.trainer.in_epoch):
                changes = {n: getattr(spec, n) for n in TRAINING_FIELDS if getattr(spec, n) != getattr(run.spec, n)}
                run.trainer.update_config(**changes)
                run.spec = spec
            elif effect in (LIVE, RESTART_RUN):
                # A new Run: the old one stays whole (its spec, trainer and history agree) for an undo.
                self.runs[run_id] = self._new_run(run_id, spec, run.generation + 1)
                self.version += 1
            else:
                run.spec = spec
            return effect

    def set_shared(self, shared: SharedSettings, start: Start | None = None,
                   seeds: SeedSettings | None = None) -> str:
        """New shared settings (and seed settings, if given): every run back to epoch 0 on the new start,
        ``prepare``d here for ``effective(shared, seeds)`` if not given (DISPLAY when ``start`` is the one the
        runs have)."""
        effective = self.effective(shared, seeds)
        if start is None or start.shared != effective:
            start = prepare(effective, self.engine, previous=self.start)
        with self.lock:
            self._shared = shared
            if seeds is not None:
                self.seeds.set_settings(seeds)
            if start is self.start:
                return DISPLAY
            self.start = start
            self.engine = get_engine(shared.engine) if shared.engine != self.engine.name else self.engine
            self._restart_all()
            return RESTART_ALL

    def replace(self, shared: SharedSettings, specs: Iterable[RunSpec], start: Start | None = None,
                saved: dict[str, History] | None = None, seeds: SeedSettings | None = None) -> None:
        """Every run replaced (a new comparison, an opened session). ``saved``: a session's histories by
        run name, which those runs are retrained to (``restoring``) and checked against; ``seeds``: new seed
        settings (default: the comparison's stay)."""
        specs = list(specs)
        check_unique_names(specs)
        effective = self.effective(shared, seeds)
        if start is None or start.shared != effective:
            start = prepare(effective, self.engine, previous=self.start)
        with self.lock:
            self._shared = shared
            if seeds is not None:
                self.seeds.set_settings(seeds)
            self.start = start
            self.engine = get_engine(shared.engine) if shared.engine != self.engine.name else self.engine
            self.runs = {}
            self._todo = []
            for spec in specs:
                run_id = self.add(spec)
                if saved and spec.name in saved and len(saved[spec.name]) > 1:
                    self.runs[run_id].saved = saved[spec.name]
            self.version += 1

    def reset(self) -> None:
        """Every run back to epoch 0, from the same initial weights."""
        with self.lock:
            self._restart_all()

    def _restart_all(self) -> None:
        for run_id, run in list(self.runs.items()):
            self.runs[run_id] = self._new_run(run_id, run.spec, run.generation + 1)
        self._todo = []
        self.version += 1

    def checkpoint(self) -> tuple:
        """What ``restore`` needs to undo the next edits: the start and the runs as they are now
        (an edit that restarts runs replaces their Run objects and leaves these untouched)."""
        with self.lock:
            return self.start, dict(self.runs), self.engine, self._shared, self.seeds.settings

    def restore(self, checkpoint: tuple) -> None:
        """Undo back to a ``checkpoint``: its start and its runs, with everything they had trained. The seed
        settings come back too only when the runs brought back trained from another seed than they show now."""
        with self.lock:
            self.start, runs, self.engine, self._shared, seeds = checkpoint
            if self.effective() != self.start.shared:
                self.seeds.set_settings(seeds)
            self.runs = dict(runs)
            self._todo = []
            self.version += 1

    # ---- training ------------------------------------------------------------------------------

    @property
    def restoring(self) -> bool:
        """True while a run is retrained towards a session's saved history."""
        with self.lock:
            for run in self.runs.values():
                if run.saved is not None and run.trainer.done:
                    self._check_restored(run)  # finished (or diverged, or its target lowered) before the end
            return any(run.saved is not None for run in self.runs.values())

    def stop_restoring(self) -> None:
        """No run is retrained towards a saved history any more (their curves stay as trained)."""
        with self.lock:
            for run in self.runs.values():
                run.saved = None

    def step(self, pool: Executor | None = None, should_stop: Callable[[], bool] | None = None,
             restoring_only: bool = False) -> dict[int, EpochRecord]:
        """Advance every unfinished run by one epoch; returns {run_id: record} of the runs that
        trained one, in run order (a run that diverges in this step has no record: see its status).

        ``should_stop()`` is asked between chunks of an epoch: when it says so the round stops
        part-way and the next call goes on where it stopped (same numbers). With
        ``restoring_only`` only runs retrained towards a saved history train. With a ``pool``
        (e.g. ``ThreadPoolExecutor(2)``, owned by the caller) the runs' epochs run concurrently;
        the results are the same (benchmarks/bench_comparison.py).
        """
        with self.lock:
            self._prune()
            if not self._todo:
                self._todo = [run.id for run in self.runs.values() if not run.trainer.done
                              and (not restoring_only or run.saved is not None)]
            todo = [self.runs[run_id] for run_id in self._todo]
        if pool is not None and len(todo) > 1 and should_stop is None:
            results = list(pool.map(lambda run: run.trainer.step(), todo))
        else:
            results = []
            for run in todo:
                record = run.trainer.step(should_stop)
                if run.trainer.in_epoch:
                    break  # stopped part-way: this run and those after it go on next time
                results.append(record)
        # The history first, outside the lock: a long one moves its oldest rows to disk now and then, and the
        # GUI thread, which takes the lock to read the runs, never waits for that (only this thread appends).
        # A run restarted or removed while it trained keeps its record too: an undo brings it back whole.
        done = list(zip(todo, results, strict=False))
        for run, record in done:
            if record is not None:
                run.history.append(record)
                run.update_sizes.add(record.epoch, record.params)
        out, current = {}, []
        with self.lock:
            for run, record in done:
                if run.id in self._todo:
                    self._todo.remove(run.id)
                if record is not None:
                    run.snapshots.add(record.epoch, record.params)
                if self.runs.get(run.id) is run:  # not restarted or removed meanwhile
                    current.append(run)
                    if record is not None:
                        out[run.id] = record
            for run in current:
                self._check_restored(run)
        return out

    @property
    def in_round(self) -> bool:
        """True while a round-robin round is under way (stopped part-way): the next step() finishes it."""
        with self.lock:
            self._prune()
            return bool(self._todo)

    def _prune(self) -> None:
        # Runs removed, restarted into a finished state or ended since the round began leave it.
        self._todo = [run_id for run_id in self._todo if run_id in self.runs and not self.runs[run_id].trainer.done]

    def _check_restored(self, run: Run) -> None:
        saved = run.saved
        if saved is None:
            return
        last = int(saved.last("epoch"))
        if run.epoch < last and not run.trainer.done:
            return
        run.saved = None
        run.restored = _same_history(saved, run.history)

    def run_to_end(self) -> None:
        """Step until every run has finished or diverged."""
        while not self.done:
            self.step()


def _same_history(saved: History, trained: History) -> bool:
    """Whether a retrained history reproduces a saved one (every column but the times)."""
    if len(trained) < len(saved) or saved.has_test != trained.has_test:
        return False
    n = len(saved)
    return all(np.array_equal(saved.column(name), trained.column(name)[:n])
               for name in saved.columns if name != "elapsed_s")
