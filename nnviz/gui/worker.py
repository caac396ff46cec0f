"""The training worker: a QObject in its own QThread that trains runs round-robin and emits frames.

The GUI talks to the worker only through thread-safe methods (flags, events and a locked dict of
pending changes): the worker's loop is busy training, so queued slots would wait behind it. The
worker talks back through signals carrying immutable frames, at most ~60 a second.

Life cycle (the only safe order, see ``stop_worker``)::

    worker_thread.started -> worker.run          worker.finished -> worker_thread.quit
    stop: worker.request_stop(); worker_thread.quit(); worker_thread.wait()
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from nnviz.core.network import Layout
from nnviz.core.training import EpochRecord, TrainConfig, Trainer

FRAME_INTERVAL_S = 1 / 60  # at most ~60 frames a second reach the GUI
# The GUI reports how long a frame kept it busy (handling and painting); frames are spaced by at least
# that times this factor, so the event loop is idle a third of the time and its timers keep running.
BUSY_FACTOR = 1.5
IDLE_WAIT_S = 0.5  # an idle worker re-checks its flags at least this often


@dataclass(frozen=True)
class RunSetup:
    """What a view needs to know about a run once: its data and its network (read-only arrays)."""

    X: np.ndarray  # (n_train, 2)
    y: np.ndarray  # (n_train, 1)
    X_test: np.ndarray  # (n_test, 2), n_test may be 0
    y_test: np.ndarray  # (n_test, 1)
    layout: Layout
    activation: str
    engine: str  # name of the engine that trains it: "compiled" or "numpy"


@dataclass(frozen=True)
class RunFrame:
    """One run's news since the previous frame."""

    run_id: str
    records: tuple[EpochRecord, ...]  # every epoch since the previous frame, in order (may be empty)
    params: np.ndarray = field(repr=False)  # latest finite parameters (read-only)
    epoch: int  # epochs trained so far
    epochs: int  # target number of epochs
    status: str  # ready, running, finished or diverged
    learning_rate: float  # α the next epoch will use
    diverged_epoch: int | None = None
    divergence_reason: str = ""
    setup: RunSetup | None = None  # sent with the run's first frame only


@dataclass(frozen=True)
class Frame:
    """What the worker emits: one RunFrame per run, and the state of the loop."""

    session: int  # the worker's session number (the GUI drops frames of a worker it has replaced)
    runs: dict[str, RunFrame]
    playing: bool  # the loop is training continuously
    ended: bool  # every run has just reached its target or diverged (the loop paused itself)
    rounds_per_second: float  # round-robin rounds (epochs per run) per second since the previous frame


_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def worker_threads() -> list[QThread]:
    """Every worker thread created so far and still alive as a Python object (for leak checks)."""
    return list(_threads)


def stop_all_workers() -> int:
    """Stop every running worker thread (a safety net for tests); returns how many were running."""
    running = [t for t in worker_threads() if t.isRunning()]
    for thread in running:
        stop_worker(getattr(thread, "worker", None), thread)
    return len(running)


class TrainingWorker(QObject):
    """Trains a list of runs, one epoch of each in turn, while playing or asked to step.

    Parameters
    ----------
    runs : sequence of (run_id, Trainer or TrainConfig)
        A TrainConfig is turned into a Trainer in the worker thread (so compiling the kernel never
        blocks the GUI); the runs given as configs after the first share its data and initial weights
        (``Trainer(like=...)``), so they start from the same point.
    """

    frame = Signal(object)  # Frame
    errored = Signal(str)  # a one-line message; the worker then finishes
    finished = Signal()  # the loop has ended (stop requested or error)

    def __init__(self, runs: Sequence[tuple[str, Trainer | TrainConfig]], playing: bool = False,
                 epochs_per_second: float | None = None, session: int = 0):
        super().__init__()
        self.session = session
        self._specs = list(runs)
        self._trainers: list[tuple[str, Trainer]] = []  # touched by the worker thread only
        self._lock = threading.Lock()  # guards every field below that the GUI writes
        self._playing = playing
        self._steps = 0  # single epochs requested while paused
        self._interval = self._interval_of(epochs_per_second)
        self._changes: dict[str, dict] = {}  # run_id -> live TrainConfig changes for the next epoch
        self._report = False  # play/pause changed: report it in a frame
        self._run_ops: list[tuple[str, str, Trainer | TrainConfig | None]] = []  # runs to add or remove
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by every request so an idle loop reacts at once
        self._consumed = threading.Event()  # the GUI has handled the last frame: the next may go
        self._consumed.set()
        self._frame_interval = FRAME_INTERVAL_S  # seconds between frames, adapted to the GUI's cost
        # worker-thread state
        self._pending: dict[str, list[EpochRecord]] = {}
        self._setups: dict[str, RunSetup] = {}
        self._params: dict[str, np.ndarray] = {}  # run_id -> parameters of its latest record (always finite)
        self._ended = False
        self._dirty = False  # something to report even without new records (a status, a live change)
        self._last_emit = 0.0
        self._rounds_since_emit = 0
        self._next_round_at = 0.0

    # ---- requests from the GUI thread (thread-safe) ------------------------------------------

    def play(self) -> None:
        with self._lock:
            self._playing = True
            self._report = True
        self._wake.set()

    def pause(self) -> None:
        with self._lock:
            self._playing = False
            self._steps = 0
            self._report = True  # the next frame says so, even without new epochs
        self._wake.set()

    def step(self, epochs: int = 1) -> None:
        """Pause, then train exactly ``epochs`` more epochs of every unfinished run."""
        with self._lock:
            self._playing = False
            self._steps += epochs
        self._wake.set()

    def set_speed(self, epochs_per_second: float | None) -> None:
        """Limit to that many epochs a second; None or 0: as fast as possible."""
        with self._lock:
            self._interval = self._interval_of(epochs_per_second)
        self._wake.set()

    def update_config(self, run_id: str, **changes) -> None:
        """Live changes (training.LIVE_FIELDS) for a run, applied before its next epoch."""
        with self._lock:
            self._changes.setdefault(run_id, {}).update(changes)
        self._wake.set()

    def add_run(self, run_id: str, run: Trainer | TrainConfig) -> None:
        """Add a run before the next epoch; a TrainConfig shares the first run's data and initial weights."""
        with self._lock:
            self._run_ops.append(("add", run_id, run))
        self._wake.set()

    def remove_run(self, run_id: str) -> None:
        """Drop a run before the next epoch; frames no longer carry it."""
        with self._lock:
            self._run_ops.append(("remove", run_id, None))
        self._wake.set()

    def frame_consumed(self, busy_s: float = 0.0) -> None:
        """The GUI has drawn the last frame, which kept it busy ``busy_s`` seconds; the next may be emitted."""
        self._frame_interval = max(FRAME_INTERVAL_S, BUSY_FACTOR * busy_s)
        self._consumed.set()
        self._wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @staticmethod
    def _interval_of(epochs_per_second: float | None) -> float:
        return 1.0 / epochs_per_second if epochs_per_second else 0.0

    # ---- the loop (worker thread) ------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        try:
            self._build()
            if not self._stop.is_set():
                self._emit()
            while not self._stop.is_set():
                self._wake.clear()  # cleared before the checks, so a request made during them is not lost
                self._apply_changes()
                with self._lock:
                    playing, steps, interval = self._playing, self._steps, self._interval
                now = time.perf_counter()
                active = any(not trainer.done for _, trainer in self._trainers)
                if (playing or steps) and not active:
                    self._end()  # also drops steps asked for beyond the end
                    continue
                if steps and active:
                    with self._lock:
                        self._steps -= 1
                    self._train_round()
                    self._maybe_emit(time.perf_counter())
                    continue
                if playing and now >= self._next_round_at:
                    self._train_round()
                    if interval:
                        self._next_round_at = max(self._next_round_at + interval, now)
                    self._maybe_emit(time.perf_counter())
                    continue
                # Nothing to train right now: report what is pending, then sleep until woken or due.
                self._maybe_emit(now)
                timeout = IDLE_WAIT_S
                if playing:
                    timeout = min(timeout, self._next_round_at - now)
                if self._has_news():
                    timeout = min(timeout, max(self._last_emit + self._frame_interval - now, 0.001))
                self._wake.wait(max(timeout, 0.0))
        except Exception as exc:  # a dead thread would be silent: report it instead
            self.errored.emit(f"training failed: {type(exc).__name__}: {exc}")
        finally:
            # Hand the object back to the GUI thread, so that it can be dropped there once the thread ends.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.finished.emit()

    def _build(self) -> None:
        for run_id, spec in self._specs:
            if self._stop.is_set():
                return  # replaced before it started (e.g. a field typed digit by digit): stop_worker waits less
            self._add(run_id, spec)

    def _add(self, run_id: str, spec: Trainer | TrainConfig) -> None:
        if any(existing == run_id for existing, _ in self._trainers):
            raise ValueError(f"run_id={run_id!r}: a run with this id already exists")
        reference = self._trainers[0][1] if self._trainers else None
        trainer = spec if isinstance(spec, Trainer) else Trainer(spec, like=reference)
        self._trainers.append((run_id, trainer))
        self._pending[run_id] = [trainer.initial_record()] if trainer.epoch == 0 else []
        self._params[run_id] = _frozen(trainer.theta.copy())
        self._setups[run_id] = self._setup_of(trainer)
        self._ended = False
        self._dirty = True

    def _remove(self, run_id: str) -> None:
        self._trainers = [(existing, t) for existing, t in self._trainers if existing != run_id]
        for table in (self._pending, self._params, self._setups):
            table.pop(run_id, None)
        self._dirty = True

    @staticmethod
    def _setup_of(trainer: Trainer) -> RunSetup:
        arrays = []
        for a in (trainer.X, trainer.y, trainer.X_test, trainer.y_test):
            a = np.array(a, dtype=np.float64)
            a.flags.writeable = False
            arrays.append(a)
        return RunSetup(*arrays, layout=trainer.layout, activation=trainer.config.activation,
                        engine=trainer.engine.name)

    def _apply_changes(self) -> None:
        with self._lock:
            changes, self._changes = self._changes, {}
            run_ops, self._run_ops = self._run_ops, []
            if self._report:
                self._report = False
                self._dirty = True
        for op, run_id, spec in run_ops:
            if op == "add":
                self._add(run_id, spec)
            else:
                self._remove(run_id)
        for index, (run_id, trainer) in enumerate(self._trainers):
            if run_id not in changes:
                continue
            if trainer.epoch == 0:
                # Nothing trained yet: start afresh, so epoch 0 reports the new settings too.
                like = self._trainers[0][1] if index else None
                trainer = Trainer(trainer.config.replace(**changes[run_id]), engine=trainer.engine, like=like)
                self._trainers[index] = (run_id, trainer)
                initial = trainer.initial_record()
                self._pending[run_id] = [initial]
                self._params[run_id] = initial.params
            else:
                trainer.update_config(**changes[run_id])
            self._ended = False
            self._dirty = True

    def _train_round(self) -> None:
        for run_id, trainer in self._trainers:
            if trainer.done:
                continue
            record = trainer.step()
            if record is not None:
                self._pending[run_id].append(record)
                self._params[run_id] = record.params
            else:
                self._dirty = True  # diverged: the status changed
        self._rounds_since_emit += 1
        if all(trainer.done for _, trainer in self._trainers):
            self._end()

    def _end(self) -> None:
        with self._lock:
            self._playing = False
            self._steps = 0
        self._ended = True
        self._dirty = True

    def _has_news(self) -> bool:
        return self._dirty or any(self._pending.values())

    def _maybe_emit(self, now: float) -> None:
        if self._has_news() and self._consumed.is_set() and now - self._last_emit >= self._frame_interval:
            self._emit()

    def _emit(self) -> None:
        now = time.perf_counter()
        runs = {}
        for run_id, trainer in self._trainers:
            records = tuple(self._pending[run_id])
            self._pending[run_id] = []
            runs[run_id] = RunFrame(
                run_id=run_id,
                records=records,
                params=self._params[run_id],
                epoch=trainer.epoch,
                epochs=trainer.config.epochs,
                status=trainer.status,
                learning_rate=trainer.learning_rate_for(trainer.epoch + 1),
                diverged_epoch=trainer.diverged_epoch,
                divergence_reason=trainer.divergence_reason,
                setup=self._setups.pop(run_id, None),
            )
        with self._lock:
            playing = self._playing
        elapsed = now - self._last_emit if self._last_emit else 0.0
        rate = self._rounds_since_emit / elapsed if elapsed > 0 else 0.0
        frame = Frame(session=self.session, runs=runs, playing=playing, ended=self._ended, rounds_per_second=rate)
        self._ended = self._dirty = False
        self._rounds_since_emit = 0
        self._last_emit = now
        self._consumed.clear()
        self.frame.emit(frame)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def start_worker(worker: TrainingWorker) -> QThread:
    """Move the worker to a new thread, wire it and start it; returns the thread (keep a reference)."""
    worker_thread = QThread()
    worker_thread.worker = worker  # for stop_all_workers; dropped with the thread
    _threads.add(worker_thread)
    worker.moveToThread(worker_thread)
    worker_thread.started.connect(worker.run)
    # Direct: quit() (thread-safe) runs in the worker thread as run() ends, whatever the GUI thread is doing.
    # Never connect thread.finished -> worker.deleteLater (segfaults seen).
    worker.finished.connect(worker_thread.quit, Qt.ConnectionType.DirectConnection)
    worker_thread.start()
    return worker_thread


def stop_worker(worker: TrainingWorker | None, worker_thread: QThread | None) -> None:
    """Stop and join: the stop flag first, then quit, then wait (returns once the thread has ended)."""
    if worker is not None:
        worker.request_stop()
    if worker_thread is not None:
        worker_thread.quit()
        worker_thread.wait()
