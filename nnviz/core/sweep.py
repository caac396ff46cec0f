"""Sweeps: one run's settings trained over a grid of one or two hyper-parameters, optionally over seeds.

Every cell trains from the shared start (the data and the initial weights of a single `nnviz train` of that
cell's settings) and equals that run: ``train_configs`` cuts the cells into lockstep blocks (lockstep.py: many
cells of one network side by side, the same arithmetic as a single run) on threads, on processes for the numpy
engine, or on a Dask cluster (cluster.py), and hands back each result as its block finishes; it can be stopped
within 100 ms and keeps the cells that finished. ``run_config`` is the single-Trainer reference.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from nnviz.core import cluster, lockstep
from nnviz.core.datasets import Dataset, held_out_size
from nnviz.core.history import read_only
from nnviz.core.network import Layout, init_params
from nnviz.core.text import quoted
from nnviz.core.training import CHUNK_WORK, MAX_SEED, Stopped, TrainConfig, Trainer, get_engine

MAX_COUNT = 64  # values per axis
SCALES = ("lin", "log")
SEED_KINDS = ("init", "data", "both")
MAX_SEEDS = 100
INTEGER_FIELDS = ("batch_size", "epochs")  # values rounded to integers, duplicates removed
# field -> (allowed range in words, test of one value): the fields a sweep may vary, as TrainConfig checks them
SWEEPABLE = {
    "learning_rate": ("> 0", lambda v: v > 0),
    "momentum": ("0 ≤ momentum < 1", lambda v: 0 <= v < 1),
    "rho": ("0 ≤ rho < 1", lambda v: 0 <= v < 1),
    "beta1": ("0 ≤ beta1 < 1", lambda v: 0 <= v < 1),
    "beta2": ("0 ≤ beta2 < 1", lambda v: 0 <= v < 1),
    "epsilon": ("> 0", lambda v: v > 0),
    "batch_size": ("1 to 1,000,000", lambda v: 1 <= round(v) <= 1_000_000),
    "gamma": ("0 ≤ gamma < 1", lambda v: 0 <= v < 1),
    "l2": ("≥ 0", lambda v: v >= 0),
    "epochs": ("0 to 10,000,000", lambda v: 0 <= round(v) <= 10_000_000),
}
AXIS_FORM = "NAME=LOW:HIGH:lin|log:COUNT, e.g. learning_rate=1e-3:1:log:30"
POLL_S = 0.05  # how often a waiting sweep asks should_stop (cancelling takes at most this plus one chunk)
MIN_BLOCK = 4  # fewer cells of a kind train one by one (a lockstep block of one is slower than the single kernel)
MAX_BLOCK = 256
BLOCK_VALUES = 4_000_000  # numbers in each of a block's parameter (and batch activation) arrays, at most
BATCH_WORK = 10 * CHUNK_WORK  # products in one batch of every cell of a block, at most (see block_width)
MP_CONTEXT = "spawn"  # fresh worker processes: safe when the caller has threads (the window), unlike fork


@dataclass(frozen=True)
class Axis:
    """One swept setting: ``count`` values from ``low`` to ``high``, evenly spaced (lin) or in ratio (log)."""

    name: str  # a TrainConfig field, one of SWEEPABLE
    low: float  # first value
    high: float  # last value, > low
    scale: str = "lin"  # "lin" or "log" (log needs low > 0)
    count: int = 10  # 1 to MAX_COUNT values (1: low alone)

    def __post_init__(self):
        check_axis(self)

    def values(self) -> list:
        """The axis' values, low first: floats, or for batch_size and epochs rounded integers without
        duplicates (so a log axis of batch sizes 1..8 over 30 values has 8 values, not 30)."""
        if self.count == 1:
            raw = np.array([self.low])
        elif self.scale == "log":
            raw = np.geomspace(self.low, self.high, self.count)
        else:
            raw = np.linspace(self.low, self.high, self.count)
        if self.name in INTEGER_FIELDS:
            return list(dict.fromkeys(int(round(v)) for v in raw))
        return [float(v) for v in raw]

    def text(self) -> str:
        """The axis as ``parse_axis`` reads it."""
        return f"{self.name}={self.low!r}:{self.high!r}:{self.scale}:{self.count}"


def check_axis(axis: Axis) -> None:
    """ValueError (one line naming the wrong part and what is allowed) unless ``axis`` can be swept."""
    head = f"axis {quoted(axis.name)}"
    if axis.name not in SWEEPABLE:
        raise ValueError(f"{head}: the name must be one of {', '.join(SWEEPABLE)}")
    allowed, ok = SWEEPABLE[axis.name]
    for part, value in (("low", axis.low), ("high", axis.high)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{head}: {part} {quoted(value)} must be a finite number")
        if not ok(value):
            raise ValueError(f"{head}: {part} {value:g} is out of range; allowed: {allowed}")
    if not axis.low < axis.high:
        raise ValueError(f"{head}: low {axis.low:g} must be below high {axis.high:g}")
    if axis.scale not in SCALES:
        raise ValueError(f"{head}: scale {quoted(axis.scale)} must be lin or log")
    if axis.scale == "log" and axis.low <= 0:
        raise ValueError(f"{head}: a log axis needs low > 0 (got {axis.low:g}); use lin, or a low above 0")
    if isinstance(axis.count, bool) or not isinstance(axis.count, int) or not 1 <= axis.count <= MAX_COUNT:
        raise ValueError(f"{head}: count {quoted(axis.count)} must be an integer from 1 to {MAX_COUNT}")


def parse_axis(text: str) -> Axis:
    """``"learning_rate=1e-3:1:log:30"`` as an Axis; ValueError (one line) naming the wrong part."""
    name, equals, rest = text.partition("=")
    name = name.strip()
    parts = rest.split(":")
    if not equals or len(parts) != 4:
        raise ValueError(f"{quoted(text)}: an axis is {AXIS_FORM}")
    numbers = []
    for part, raw in zip(("low", "high"), parts[:2], strict=True):
        try:
            numbers.append(float(raw))
        except ValueError:
            raise ValueError(f"axis {quoted(name)}: {part} {quoted(raw)} is not a number; an axis is {AXIS_FORM}") \
                from None
    try:
        count = int(parts[3])
    except ValueError:
        raise ValueError(f"axis {quoted(name)}: count {quoted(parts[3])} must be an integer from 1 to {MAX_COUNT}") \
            from None
    return Axis(name, numbers[0], numbers[1], parts[2].strip().lower(), count)


@dataclass(frozen=True)
class SweepCell:
    """One cell of a sweep: its place in the grid order, its settings and its seed."""

    index: int  # position in grid order: the first axis slowest, the seed fastest
    values: dict  # swept field -> value
    seed: int  # seed index, 0 to seeds − 1 (0: the base's own seeds)


@dataclass(frozen=True)
class CellResult:
    """What one cell's run came to; every number is finite (a diverged run's come from its last finite epoch)."""

    values: dict  # swept field -> value
    seed: int  # seed index (0: the base's seeds)
    final_cost: float  # training cost (with the L2 term) at the last epoch trained
    best_cost: float  # least training cost over the epochs, epoch 0 included
    epochs_to_target: int | None  # first epoch with cost ≤ target (0: the start already was); None if never
    updates_to_target: int | None  # parameter updates done by that epoch; None if never
    final_accuracy: float  # training accuracy at the last epoch trained
    diverged: bool  # the Trainer stopped the run as diverged (then final_* are the last finite epoch's)
    epochs: int = 0  # epochs trained (below the config's when it diverged)
    index: int = 0  # the cell's position in grid order (SweepCell.index), or in train_configs' list
    # Per-epoch values, epoch 0 first, up to the last epoch trained (the last finite one when it diverged);
    # only when asked for (history=True). Read-only float arrays; test_* None without a test set.
    costs: np.ndarray | None = field(default=None, compare=False, repr=False)  # training cost, with the L2 term
    accuracies: np.ndarray | None = field(default=None, compare=False, repr=False)
    test_costs: np.ndarray | None = field(default=None, compare=False, repr=False)
    test_accuracies: np.ndarray | None = field(default=None, compare=False, repr=False)


def seeded(base: TrainConfig, seed: int | None, seed_kind: str = "init") -> TrainConfig:
    """The config of seed index ``seed``: init_seed + seed and/or data_seed + seed as ``seed_kind`` says
    (modulo 2³², so every seed stays valid); seed 0 or None is ``base`` itself."""
    if seed_kind not in SEED_KINDS:
        raise ValueError(f"seed_kind={quoted(seed_kind)}: allowed are {', '.join(SEED_KINDS)}")
    if not seed:
        return base
    changes = {}
    if seed_kind in ("init", "both"):
        changes["init_seed"] = (base.init_seed + seed) % (MAX_SEED + 1)
    if seed_kind in ("data", "both"):
        changes["data_seed"] = (base.data_seed + seed) % (MAX_SEED + 1)
    return base.replace(**changes)


def seed_configs(config: TrainConfig, seeds: int, seed_kind: str = "init") -> list[TrainConfig]:
    """The configs of seed indexes 0 to seeds − 1 of ``config`` (see seeded): seed i of two runs has the same
    weights and data when their configs share them, so runs repeated over seeds stay paired."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds={quoted(seeds)}: must be an integer from 1 to {MAX_SEEDS}")
    return [seeded(config, seed, seed_kind) for seed in range(seeds)]


def cell_config(base: TrainConfig, values: dict, seed: int | None = None, seed_kind: str = "init") -> TrainConfig:
    """The TrainConfig of one cell: ``base`` with the swept values and the seed's seeds. A swept γ on a
    constant schedule makes it exponential, as `nnviz train --gamma` does."""
    changes = dict(values)
    if "gamma" in changes and base.schedule == "constant":
        changes["schedule"] = "exponential"
    return seeded(base.replace(**changes), seed, seed_kind)


def _data(config: TrainConfig) -> Dataset:
    return _cached_data(*(getattr(config, name) for name in DATA_KEY))


DATA_KEY = ("dataset", "n_samples", "noise", "data_seed", "test_fraction", "points", "keep_order", "features")


@lru_cache(maxsize=8)
def _cached_data(*values) -> Dataset:
    return Dataset.of(TrainConfig().replace(**dict(zip(DATA_KEY, values, strict=True))))


@lru_cache(maxsize=8)
def _weights(shape: tuple, init_seed: int, init: str) -> np.ndarray:
    params = init_params(shape, init_seed, init)
    params.flags.writeable = False
    return params


def run_cell(base: TrainConfig, values: dict, target: float | None = None, seed: int | None = None,
             seed_kind: str = "init", should_stop: Callable[[], bool] | None = None, index: int = 0,
             history: bool = False) -> CellResult:
    """Train one cell from the shared start (the data and initial weights `nnviz train` of its config uses)
    with the ordinary Trainer: the reference the sweep engine's results equal.

    ``should_stop()`` is asked between epochs and between chunks of a long one: training.Stopped when it says so.
    """
    config = cell_config(base, values, seed, seed_kind)
    result = run_config(config, target, should_stop, index, history)
    return replace(result, values=dict(values), seed=seed or 0)


def run_config(config: TrainConfig, target: float | None = None, should_stop: Callable[[], bool] | None = None,
               index: int = 0, history: bool = False) -> CellResult:
    """One run of ``config`` with the ordinary Trainer, summed up as a CellResult (values {}, seed 0)."""
    data = _data(config)
    trainer = Trainer(config, get_engine(config.engine), data=data,
                      initial_params=_weights(config.shape, config.init_seed, config.init), should_stop=should_stop)
    record = trainer.initial_record()
    records = [record]
    best = record.cost
    reached = (0, 0) if target is not None and record.cost <= target else None
    last = record
    while not trainer.done:
        if should_stop is not None and should_stop():  # between epochs (a short epoch is one chunk)
            raise Stopped
        record = trainer.step(should_stop)
        if record is None:
            if trainer.in_epoch:  # stopped part-way
                raise Stopped
            break
        last = record
        if history:
            records.append(record)
        best = min(best, record.cost)
        if reached is None and target is not None and record.cost <= target:
            reached = (record.epoch, record.updates)
    curves = {}
    if history:
        curves = {"costs": read_only([r.cost for r in records]), "accuracies": read_only([r.accuracy for r in records])}
        if trainer.has_test:
            curves["test_costs"] = read_only([r.test_cost for r in records])
            curves["test_accuracies"] = read_only([r.test_accuracy for r in records])
    return CellResult({}, 0, float(last.cost), float(best),
                      None if reached is None else reached[0], None if reached is None else reached[1],
                      float(last.accuracy), trainer.status == "diverged", last.epoch, index, **curves)


def grid(axes: Sequence[Axis], seeds: int = 1) -> list[SweepCell]:
    """Every cell of the sweep in grid order: the first axis slowest, then the second, the seed fastest."""
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"axes: a sweep has 1 or 2 axes, not {len(axes)}")
    if len({axis.name for axis in axes}) < len(axes):
        raise ValueError(f"axes: {axes[0].name} is swept twice; give two different settings")
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"seeds={quoted(seeds)}: must be an integer from 1 to {MAX_SEEDS}")
    combos = [{}]
    for axis in axes:
        combos = [{**combo, axis.name: value} for combo in combos for value in axis.values()]
    return [SweepCell(i * seeds + s, combo, s) for i, combo in enumerate(combos) for s in range(seeds)]


# ---- worker processes --------------------------------------------------------------------------------------

_stop_event = None  # in a worker process: set by the parent to stop the cell under way
_parent = None  # in a worker process: the parent's pid; a worker whose parent died stops too


def _worker_init(event) -> None:
    """Ctrl-C is the parent's business (it stops the workers through ``event``)."""
    global _stop_event, _parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _stop_event, _parent = event, os.getppid()
    # A worker whose parent died (killed, or ended at once by a second Ctrl-C) would otherwise wait forever
    # for work: it ends itself.
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    while os.getppid() == _parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_should_stop() -> bool:
    return _stop_event.is_set() or os.getppid() != _parent


def _worker_job(job, target, history) -> list[CellResult]:
    return run_job(job, target, history, _worker_should_stop)


def run_job(job: Sequence[tuple[int, TrainConfig]], target: float | None = None, history: bool = False,
            should_stop: Callable[[], bool] | None = None) -> list[CellResult]:
    """The results of one job (a list of (index, config)), each with its index; training.Stopped when
    ``should_stop()`` said so before the job was done (nothing of it is kept). A job of several configs is a
    lockstep block (see jobs_of); one config trains alone."""
    if len(job) == 1:
        index, config = job[0]
        return [run_config(config, target, should_stop, index, history)]
    configs = [config for _, config in job]
    first = configs[0]
    data = _data(first)
    initial = [_weights(c.shape, c.init_seed, c.init) for c in configs]
    block = lockstep.train_block(configs, data, initial, target, history, should_stop)
    results = []
    for position, (index, _) in enumerate(job):
        reached = int(block.epochs_to_target[position])
        curves = {}
        if history:
            curves = {name: read_only(values) for name, values in block.curves[position].items()}
        results.append(CellResult({}, 0, float(block.final_cost[position]), float(block.best_cost[position]),
                                  None if reached < 0 else reached,
                                  None if reached < 0 else int(block.updates_to_target[position]),
                                  float(block.final_accuracy[position]), bool(block.diverged[position]),
                                  int(block.epochs[position]), index, **curves))
    return results


def block_width(count: int, workers: int, size: int, batch: int = 1, units: int = 0) -> int:
    """Cells per lockstep block: up to MAX_BLOCK (wider blocks vectorise better), narrower when there are few
    cells (every worker gets about two blocks, for balance), many parameters (a block's parameter arrays stay
    within BLOCK_VALUES numbers each) or big batches (a batch's activations for every cell, batch × units, stay
    within BLOCK_VALUES too, and one batch of every cell, the smallest piece a block can stop after, within
    BATCH_WORK products: a full batch of 100,000 points stops in ~0.1 s, not seconds)."""
    width = min(MAX_BLOCK, max(MIN_BLOCK, -(-count // (2 * workers))))
    cap = BLOCK_VALUES // max(size, 1)
    if batch > 1:
        cap = min(cap, BLOCK_VALUES // max(batch * units, 1), BATCH_WORK // max(size * batch, 1))
    return max(1, min(width, cap))


def jobs_of(configs: Sequence[TrainConfig], workers: int = 1) -> list[list[tuple[int, TrainConfig]]]:
    """The configs cut into jobs, the units of work handed to a worker: lists of (index, config). Compiled
    configs that can share a lockstep block (lockstep.block_key) go in blocks of block_width cells, each block
    taking every n-th config of its group (so the blocks mix fast and slow cells alike); the rest train alone."""
    groups: dict[tuple, list[tuple[int, TrainConfig]]] = {}
    jobs = []
    for i, config in enumerate(configs):
        if config.engine == "compiled":
            groups.setdefault(lockstep.block_key(config), []).append((i, config))
        else:
            jobs.append([(i, config)])
    for members in groups.values():
        if len(members) < MIN_BLOCK:
            jobs.extend([member] for member in members)
            continue
        first = members[0][1]
        train = first.n_samples - held_out_size(first.n_samples, first.test_fraction)
        units = sum(first.shape) + 2 * max(first.shape)  # activations, delta and the delta below
        width = block_width(len(members), workers, Layout(first.shape).size, min(first.batch_size, train), units)
        if width < MIN_BLOCK:  # batches too big to share: one cell after another
            jobs.extend([member] for member in members)
            continue
        count = -(-len(members) // width)
        if count > 1:  # a multiple of the workers, so that they finish together
            count = min(-(-count // workers) * workers, max(1, len(members) // MIN_BLOCK))
        jobs.extend(members[b::count] for b in range(count))
    return sorted(jobs, key=lambda job: job[0][0])


def _check_target(target) -> None:
    if target is not None and not (isinstance(target, (int, float)) and not isinstance(target, bool)
                                   and math.isfinite(target) and target > 0):
        raise ValueError(f"target={quoted(target)}: must be a finite cost > 0")


def _check_workers(workers) -> int:
    workers = (os.cpu_count() or 1) if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={quoted(workers)}: must be an integer ≥ 1")
    return workers


def train_configs(configs: Sequence[TrainConfig], target: float | None = None, history: bool = False,
                  workers: int | None = None, should_stop: Callable[[], bool] | None = None,
                  on_result: Callable[[CellResult], None] | None = None,
                  scheduler: str | None = None) -> list[CellResult]:
    """Train every config from its shared start (the data and initial weights `nnviz train` of it uses);
    returns a CellResult per config (values {}, seed 0, ``index`` its position in ``configs``), in that order.

    ``history``: the results carry their per-epoch curves. ``workers`` threads (default os.cpu_count(); 1: this
    thread; processes when a config uses the numpy engine, which holds the GIL) train the jobs (see jobs_of);
    ``on_result(result)`` is called in this thread as each finishes. When ``should_stop()`` says so (it is asked
    every 50 ms, and between epochs in this thread) training stops: jobs not started are cancelled, jobs under
    way are stopped at their next epoch (or chunk of a long one) and dropped, worker processes end in the
    background, and the results that finished (exactly those handed to ``on_result``) are returned. A
    KeyboardInterrupt stops the workers the same way and propagates. ``scheduler``: the address of a Dask
    scheduler (tcp://HOST:PORT) whose workers train the jobs instead (see cluster.py; ``workers`` then only
    sizes the blocks: two per worker of this machine's count).
    """
    _check_target(target)
    workers = _check_workers(workers)
    if scheduler is not None:
        scheduler = cluster.check_scheduler(scheduler)
    results: list[CellResult] = []

    def deliver(result: CellResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)

    jobs = jobs_of(configs, workers)
    if not jobs:
        return []
    if scheduler is not None:
        cluster.train_on_cluster(jobs, target, history, scheduler, should_stop, deliver)
    elif workers == 1 or len(jobs) == 1:
        for job in jobs:
            if should_stop is not None and should_stop():
                break
            try:
                done = run_job(job, target, history, should_stop)
            except Stopped:
                break
            for result in done:
                deliver(result)
    elif all(config.engine == "compiled" for config in configs):
        _train_in_threads(jobs, target, history, min(workers, len(jobs)), should_stop, deliver)
    else:
        _train_in_processes(jobs, target, history, min(workers, len(jobs)), should_stop, deliver)
    return sorted(results, key=lambda r: r.index)


def _collect(order: dict, should_stop: Callable[[], bool] | None, deliver: Callable[[CellResult], None]) -> bool:
    """Hand each finished job's results (futures → first index in ``order``) to ``deliver``, jobs done together in
    their order, until all are done (True) or ``should_stop()``, asked every POLL_S, says so (False). A job's
    error (not Stopped: nothing asked it to stop) propagates."""
    pending = set(order)
    while pending:
        if should_stop is not None and should_stop():
            return False
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=order.get):
            for result in future.result():
                deliver(result)
    return True


def _train_in_threads(jobs, target, history, workers, should_stop, deliver) -> None:
    # The compiled kernels release the GIL: threads train in parallel with no process to start (a spawned
    # worker takes about a second to import numpy and load the kernels) and nothing to pickle.
    stop = threading.Event()

    def job_should_stop() -> bool:
        return stop.is_set()

    executor = ThreadPoolExecutor(workers, thread_name_prefix="nnviz-sweep")
    order = {executor.submit(run_job, job, target, history, job_should_stop): job[0][0] for job in jobs}
    try:
        _collect(order, should_stop, deliver)
    finally:
        # Stopped early (or an error, or Ctrl-C): jobs under way stop at their next epoch or chunk (a few ms)
        # and are dropped, those not started are cancelled.
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)


def sweep(base: TrainConfig, axes: Sequence[Axis], seeds: int = 1, seed_kind: str = "init",
          target: float | None = None, workers: int | None = None, should_stop: Callable[[], bool] | None = None,
          on_result: Callable[[CellResult], None] | None = None, scheduler: str | None = None) -> list[CellResult]:
    """Train every cell of the grid of ``axes`` (1 or 2) × ``seeds``; returns the results in grid order, each
    with its cell's values, seed and index. Workers, stopping, ``on_result`` and ``scheduler``: as
    train_configs."""
    if seed_kind not in SEED_KINDS:
        raise ValueError(f"seed_kind={quoted(seed_kind)}: allowed are {', '.join(SEED_KINDS)}")
    _check_target(target)
    cells = grid(axes, seeds)
    # Every setting is valid for this base (one line naming the field otherwise).
    configs = [cell_config(base, cell.values, cell.seed, seed_kind) for cell in cells]

    def named(result: CellResult) -> CellResult:
        cell = cells[result.index]
        return replace(result, values=dict(cell.values), seed=cell.seed)

    def deliver(result: CellResult) -> None:
        if on_result is not None:
            on_result(named(result))

    return [named(r) for r in train_configs(configs, target, False, workers, should_stop, deliver, scheduler)]


def _train_in_processes(jobs, target, history, workers, should_stop, deliver) -> None:
    context = multiprocessing.get_context(MP_CONTEXT)
    event = context.Event()
    # SIGINT is blocked while the workers start, so that they inherit it blocked (a Ctrl-C on the terminal
    # reaches the whole process group) until their initializer ignores it; here it is delivered afterwards.
    mask = hasattr(signal, "pthread_sigmask")
    if mask:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=(event,))
        order = {executor.submit(_worker_job, job, target, history): job[0][0] for job in jobs}
    finally:
        if mask:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    finished = False
    try:
        finished = _collect(order, should_stop, deliver)
    finally:
        # Stopped early: jobs under way stop at their next epoch or chunk (their results are dropped), those not
        # started are cancelled, and the workers end in the background (an interpreter takes ~0.2 s to exit;
        # the caller does not wait for that). Finished: the workers are waited for.
        event.set()
        executor.shutdown(wait=finished, cancel_futures=True)
