"""The training worker: a QObject in its own QThread that advances a comparison model and reports frames.

The worker holds no policy: it trains the model's runs round-robin while playing (or for the
epochs asked with ``step``) and emits at most ~60 small frames a second. The model itself records every epoch
(histories, snapshots) under its lock, so the views read it directly.

The GUI talks to the worker only through thread-safe methods (flags and events): the worker's
loop is busy training, so queued slots would wait behind it. Every long epoch is trained in
chunks; a request (pause, stop) interrupts it between two chunks, within milliseconds.

Life cycle (the only safe order, see ``stop_worker``)::

    worker_thread.started -> worker.run          worker.finished -> worker_thread.quit
    stop: worker.request_stop(); worker_thread.quit(); worker_thread.wait()
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QThread, Signal, Slot

from nnviz.core.comparison import Comparison
from nnviz.core.text import shorten

# At most ~72 frames a second reach the GUI. Issue 13: 1/60 held four runs at 49-51 frames/s (a frame goes out
# only between training rounds, so the spacing overshoots the cap); 1/72: 57-59, p99 lag 19-23 ms (bench_gui.py
# --notebook, load 0.4-1.0, A/B in the same period).
FRAME_INTERVAL_S = 1 / 72
# The GUI reports how long a frame kept it busy (handling and painting); frames are spaced by at least
# that times this factor, so the event loop is idle a third of the time and its timers keep running. While the
# GUI draws a frame, training waits (GUI_TURN_S): bench_gui.py, 4 runs at 10^5 epochs, lag p99 580 -> 39 ms.
# Issue 13: 2.0 -> 1.5 once a frame cost ~10 ms (the curves repaint only their newest points): 4 runs 40-44 ->
# 43-53 frames/s; the lag is bounded by the longest frame, not by the idle share.
BUSY_FACTOR = 1.5
IDLE_WAIT_S = 0.5  # an idle worker re-checks its flags at least this often
# A frame slower than this (a rescaled plot, a busy machine) would share the interpreter with training, which
# makes it slower still: 0.04 -> 0.1 s.
GUI_TURN_S = 0.1  # at most this long after a frame, training waits for the GUI to have drawn it


@dataclass(frozen=True)
class Frame:
    """What the worker emits: the state of the loop since the previous frame (the news is in the model)."""

    playing: bool  # the loop is training continuously
    ended: bool  # every run has just reached its target or diverged (the loop paused itself)
    rounds_per_second: float  # round-robin rounds (epochs per run) per second since the previous frame
    trained: bool  # some run recorded an epoch since the previous frame


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
    """Advances a Comparison, one epoch of each run in turn, while playing or asked to step."""

    frame = Signal(object)  # Frame
    errored = Signal(str)  # a one-line message; the worker then finishes
    finished = Signal()  # the loop has ended (stop requested or error)

    def __init__(self, model: Comparison, epochs_per_second: float | None = None):
        super().__init__()
        self.model = model
        self._lock = threading.Lock()  # guards every field below that the GUI writes
        self._playing = False
        self._steps = 0  # single epochs requested while paused
        self._interval = self._interval_of(epochs_per_second)
        self._report = False  # play/pause or an edit: report it in a frame
        self._stop = threading.Event()
        self._interrupt = threading.Event()  # a request waits: leave the epoch between two chunks
        self._wake = threading.Event()  # set by every request so an idle loop reacts at once
        self._consumed = threading.Event()  # the GUI has handled the last frame: the next may go
        self._consumed.set()
        self._frame_interval = FRAME_INTERVAL_S  # seconds between frames, adapted to the GUI's cost
        # worker-thread state
        self._ended = False
        self._trained = False
        self._last_emit = 0.0
        self._rounds_since_emit = 0
        self._next_round_at = 0.0

    # ---- requests from the GUI thread (thread-safe) ------------------------------------------

    def _request(self, interrupt: bool = True) -> None:
        if interrupt:
            self._interrupt.set()
        self._wake.set()

    def play(self) -> None:
        with self._lock:
            self._playing = True
            self._report = True
        self._request(interrupt=False)

    def pause(self) -> None:
        with self._lock:
            self._playing = False
            self._steps = 0
            self._report = True  # the next frame says so, even without new epochs
        self._request()

    def step(self, epochs: int = 1) -> None:
        """Pause, then train exactly ``epochs`` more epochs of every unfinished run."""
        with self._lock:
            self._playing = False
            self._steps += epochs
            self._report = True
        self._request(interrupt=False)

    def set_speed(self, epochs_per_second: float | None) -> None:
        """Limit to that many epochs a second; None or 0: as fast as possible."""
        with self._lock:
            self._interval = self._interval_of(epochs_per_second)
        self._request(interrupt=False)

    def touch(self) -> None:
        """The model was edited: leave the epoch under way between two chunks (its trainer may have been
        replaced; a kept one goes on where it stopped); an ended loop may have epochs to train again."""
        with self._lock:
            self._report = True
        self._request()

    def frame_consumed(self, busy_s: float = 0.0) -> None:
        """The GUI has drawn the last frame, which kept it busy ``busy_s`` seconds; the next may be emitted."""
        self._frame_interval = max(FRAME_INTERVAL_S, BUSY_FACTOR * busy_s)
        self._consumed.set()
        self._wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._request()

    @property
    def playing(self) -> bool:
        with self._lock:
            return self._playing

    @property
    def active(self) -> bool:
        """Playing, or training epochs asked with step()."""
        with self._lock:
            return self._playing or self._steps > 0

    @staticmethod
    def _interval_of(epochs_per_second: float | None) -> float:
        return 1.0 / epochs_per_second if epochs_per_second else 0.0

    # ---- the loop (worker thread) ------------------------------------------------------------

    def _should_stop(self) -> bool:
        return self._interrupt.is_set()

    @Slot()
    def run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a dead thread would be silent: report it instead
            self.errored.emit(f"training failed: {type(exc).__name__}: {shorten(str(exc), 200)}")
        finally:
            # Hand the object back to the GUI thread, so that it can be dropped there once the thread ends.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.finished.emit()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # cleared before the checks, so a request made during them is not lost
            self._interrupt.clear()
            with self._lock:
                playing, steps, interval = self._playing, self._steps, self._interval
                if self._report:
                    self._report = False
                    self._dirty = True
            model = self.model
            now = time.perf_counter()
            if model.restoring:
                self._train(restoring_only=True)
                self._maybe_emit(time.perf_counter())
                continue
            active = not model.done
            if (playing or steps) and active and not self._consumed.is_set() \
                    and now - self._last_emit < GUI_TURN_S:
                # The GUI is drawing the last frame: leave it the interpreter for a moment. Training a small
                # network is mostly Python, and two threads sharing the GIL would make each frame many times
                # slower (the window would lag); consuming the frame wakes this thread at once.
                self._wake.wait(GUI_TURN_S - (now - self._last_emit))
                continue
            if (playing or steps) and not active:
                self._end()  # also drops steps asked for beyond the end
                continue
            if steps and active:
                if self._train():
                    with self._lock:  # counted before the frame says so: a Step pressed then is not lost
                        self._steps = max(self._steps - 1, 0)
                        if not self._steps:
                            self._dirty = True
                self._maybe_emit(time.perf_counter())
                continue
            if playing and now >= self._next_round_at:
                if self._train() and interval:
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

    def _train(self, restoring_only: bool = False) -> bool:
        """One round (or the rest of one stopped part-way); True when it went to its end."""
        records = self.model.step(should_stop=self._should_stop, restoring_only=restoring_only)
        if records:
            self._trained = True
        complete = not self.model.in_round
        if complete:
            self._rounds_since_emit += 1
        if complete and self.model.done and not restoring_only:
            self._end()
        return complete

    def _end(self) -> None:
        with self._lock:
            was_active = self._playing or self._steps
            self._playing = False
            self._steps = 0
        if was_active:
            self._ended = True
        self._dirty = True

    _dirty = False  # something to report even without new records (a status, a live change)

    def _has_news(self) -> bool:
        return self._dirty or self._trained

    def _maybe_emit(self, now: float) -> None:
        if self._has_news() and self._consumed.is_set() and now - self._last_emit >= self._frame_interval:
            self._emit()

    def _emit(self) -> None:
        now = time.perf_counter()
        with self._lock:
            playing = self._playing or self._steps > 0
        elapsed = now - self._last_emit if self._last_emit else 0.0
        rate = self._rounds_since_emit / elapsed if elapsed > 0 else 0.0
        frame = Frame(playing=playing, ended=self._ended, rounds_per_second=rate, trained=self._trained)
        self._ended = self._dirty = self._trained = False
        self._rounds_since_emit = 0
        self._last_emit = now
        self._consumed.clear()
        self.frame.emit(frame)


FRAME_PAINTED = QEvent.Type(QEvent.registerEventType())  # posted after a frame: acknowledges it once painted
RATE_SMOOTHING = 0.3


class FrameClock(QObject):
    """The GUI thread's side of the frames: how long each kept the GUI busy (handled and painted), told back
    to the worker so that it paces the next one, and the training rate, smoothed for reading."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker: TrainingWorker | None = None  # the worker whose frames these are
        self.rate = 0.0  # round-robin rounds (epochs a run) a second
        self.frame_costs: deque[float] = deque(maxlen=1000)  # seconds each recent frame kept the GUI busy
        self._started = 0.0

    def received(self, frame: Frame) -> None:
        """A frame arrived: time it until painted; 0 rate once the runs have ended."""
        self._started = time.perf_counter()
        if frame.ended:
            self.rate = 0.0
        elif frame.rounds_per_second > 0:
            rate = frame.rounds_per_second
            self.rate = rate if self.rate == 0 else (1 - RATE_SMOOTHING) * self.rate + RATE_SMOOTHING * rate
        # A low-priority event runs after the repaint the frame's handlers ask for: then it is painted.
        QCoreApplication.postEvent(self, QEvent(FRAME_PAINTED), Qt.EventPriority.LowEventPriority.value)

    def event(self, event) -> bool:
        if event.type() == FRAME_PAINTED:
            cost = time.perf_counter() - self._started
            self.frame_costs.append(cost)
            if self.worker is not None:
                self.worker.frame_consumed(cost)
            return True
        return super().event(event)


def thread_for(worker: QObject, name: str) -> QThread:
    """A new thread (not started) that runs ``worker.run()`` once started and quits as it ends; ``worker`` (with
    ``run`` and a ``finished`` signal) is moved to it. Keep a reference to the thread."""
    thread = QThread()
    thread.setObjectName(name)
    # The specialised kernels keep up to specialised.MAX_STACK_BYTES of arrays on the stack: 8 MB as on Linux,
    # where some platforms give a secondary thread 512 kB.
    thread.setStackSize(8 << 20)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # Direct: quit() (thread-safe) runs in the worker thread as run() ends, whatever the GUI thread is doing.
    # Never connect thread.finished -> worker.deleteLater (segfaults seen).
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    return thread


def start_worker(worker: TrainingWorker) -> QThread:
    """Move the worker to a new thread, wire it and start it; returns the thread (keep a reference)."""
    worker_thread = thread_for(worker, "worker_thread")
    worker_thread.worker = worker  # for stop_all_workers; dropped with the thread
    _threads.add(worker_thread)
    worker_thread.start()
    return worker_thread


def stop_worker(worker: TrainingWorker | None, worker_thread: QThread | None) -> None:
    """Stop and join: the stop flag first, then quit, then wait (returns once the thread has ended)."""
    if worker is not None:
        worker.request_stop()
    if worker_thread is not None:
        worker_thread.quit()
        worker_thread.wait()
