"""The controller: owns the comparison model and the worker, turns intents into model edits and
tells the views what changed.

Views send intents (play, add a run, change a setting) and draw what the signals tell them,
reading the model (``controller.model``) for the values; none keeps a copy of its state. Every
edit goes through ``core.comparison.edit_effect``; the slow part of a data or network change
(building the points, evaluating epoch 0) runs in a thread of its own (gui/jobs.py, controller_shared.py).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from nnviz.core.comparison import (
    DISPLAY,
    LIVE,
    RESTART_ALL,
    RESTART_RUN,
    TRAINING_FIELDS,
    Comparison,
    RunSpec,
    SharedSettings,
    edit_effect,
)
from nnviz.core.seeds import SeedSettings
from nnviz.core.training import LIVE_FIELDS, NumpyEngine
from nnviz.gui.controller_shared import SharedEdits
from nnviz.gui.jobs import Jobs
from nnviz.gui.seed_runner import SeedRunner
from nnviz.gui.status import READY
from nnviz.gui.worker import Frame, FrameClock, TrainingWorker, start_worker, stop_worker

PLACEHOLDER = SharedSettings(dataset="hard", n_samples=4, engine="numpy")


# Why a run goes back to epoch 0 when one of its training settings changes (the others apply live).
RESTART_REASONS = {
    "batch_size": "its batch size changed what an epoch is",
    "optimizer": "another optimiser's state (its moments) means something else",
    "update_order": "the update order changes every step from the first",
}


class Controller(SharedEdits, QObject):
    """Intents in (the public methods), change signals out; views read the model for the values. The edits of
    what every run shares (``set_shared``, ``replace``) and their preparation are in controller_shared.py."""

    runs_changed = Signal()  # runs added, removed, restarted, restyled or replaced: views rebuild from the model
    records_appended = Signal()  # new epochs in the model's histories (at most ~72 times a second)
    epoch_shown = Signal(object)  # the epoch the views show: an int on the timeline, None for the newest (live)
    selection_changed = Signal(int)  # the run the panel and the status bar follow (-1: none)
    state_changed = Signal()  # playing, ended or busy changed: the run bar and the status follow
    message = Signal(str, str)  # a line for the status bar and its kind: "", "error" or "done"
    run_ended = Signal(str)  # every run has reached its target: "finished", or "diverged" if some run diverged
    errored = Signal(str)  # training failed (the worker stopped; a new one takes over)
    restored = Signal(bool)  # an opened session's runs were retrained: True when every one matched its history

    def __init__(self, shared: SharedSettings, specs: list[RunSpec], epochs_per_second: float | None = None,
                 parent: QObject | None = None, seeds: SeedSettings | None = None):
        super().__init__(parent)
        # A placeholder of four points until the real comparison is prepared in a thread of its own (loading or
        # compiling the kernel, building the points): the window appears at once.
        self.model = Comparison(PLACEHOLDER, engine=NumpyEngine())
        self._speed = epochs_per_second
        self.clock = FrameClock(self)  # frames timed until painted, told back to the worker; the smoothed rate
        self._start_worker()
        self._playing = False
        self._shown: int | None = None  # epoch on the timeline, None: live
        self._selected = next(iter(self.model.ids()), -1)
        self.jobs = Jobs(self)  # data and network prepared off the GUI thread
        self.jobs.done.connect(self._on_job_done)
        self.jobs.failed.connect(self._on_job_failed)
        self.seeds = SeedRunner(self)  # the runs' seeds, trained in the background while the count is above 1
        self._undo = None  # (checkpoint, text) of the last edit that restarted runs
        self._play_when_ready = False
        self._target = None  # the (shared, seed) settings being prepared (controller_shared.py)
        self._restoring = False  # a session's runs are being retrained (restored says how it went)
        self.replace(shared, specs, busy=f"preparing the training kernel and {shared.n_samples:,} points",
                     done_message=READY, seeds=seeds)

    def _start_worker(self) -> None:
        self.worker = TrainingWorker(self.model, self._speed)
        self.worker.frame.connect(self._on_frame)
        self.worker.errored.connect(self._on_error)
        self.clock.worker = self.worker
        self.worker_thread = start_worker(self.worker)

    # ---- queries ---------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def shown_epoch(self) -> int | None:
        return self._shown

    @property
    def selected_run_id(self) -> int:
        return self._selected if self._selected in self.model else -1

    @property
    def ended(self) -> bool:
        return len(self.model) > 0 and self.model.done

    @property
    def can_undo(self) -> bool:
        return self._undo is not None

    # ---- running ---------------------------------------------------------------------------

    def play(self) -> None:
        """Train every run continuously (if all have ended, they start again from epoch 0). Asked while the
        comparison is being prepared, training starts once it is ready."""
        if self.busy:
            self._play_when_ready = True
            return
        if not len(self.model):
            return
        again = self.ended
        if again:
            self._checkpoint("the restart of the finished runs")
            self.model.reset()
            self.runs_changed.emit()
        self._playing = True
        self.worker.play()
        self.show_epoch(None)
        self.message.emit("training again from epoch 0 (Ctrl+Z brings the finished runs back)" if again
                          else "training…", "")
        self.state_changed.emit()

    def pause(self) -> None:
        self._play_when_ready = False
        self.worker.pause()
        was = self._playing
        self._playing = False
        if was:
            epoch = max((run.epoch for run in self.model), default=0)
            self.message.emit(f"paused at epoch {epoch:,}", "")
        self.state_changed.emit()

    def step(self) -> None:
        """Exactly one more epoch of every unfinished run, then stay paused."""
        if not len(self.model) or self.ended or self.busy:
            return
        self._playing = False
        self.show_epoch(None)
        self.worker.step(1)
        self.state_changed.emit()

    def reset(self) -> None:
        """Every run back to epoch 0: the same data and initial weights (Ctrl+Z brings the epochs back)."""
        self.pause()
        lost = self.model.trained_epochs()
        if lost:
            self._checkpoint("reset")
        self.model.reset()
        self._after_edit()
        self.message.emit("every run is back at epoch 0" + (" (Ctrl+Z: undo)" if lost else ""), "")

    def set_speed(self, epochs_per_second: float | None) -> None:
        self._speed = epochs_per_second
        self.worker.set_speed(epochs_per_second)

    def show_epoch(self, epoch: int | None) -> None:
        """Show every run at ``epoch`` of the timeline (None: the newest, live)."""
        if epoch != self._shown:
            self._shown = epoch
            self.epoch_shown.emit(epoch)

    def select(self, run_id: int) -> None:
        if run_id != self._selected and (run_id in self.model or run_id == -1):
            self._selected = run_id
            self.selection_changed.emit(run_id)

    # ---- edits -----------------------------------------------------------------------------

    def add_run(self, spec: RunSpec, select: bool = True) -> int:
        """A new run at epoch 0 (the others go on where they are); its name made unique, its colour free."""
        self._undo = None  # an undo now would throw the new run away
        name = self.model.unique_name(spec.name)
        colour = spec.colour if spec.colour not in {s.colour for s in self.model.specs()} else self.model.next_colour()
        run_id = self.model.add(spec.replace(name=name, colour=colour))
        self._after_edit()
        if select:
            self.select(run_id)
        self.message.emit(f"“{name}” added at epoch 0, from the same weights; the other runs go on where they are",
                          "")
        return run_id

    def copy_run(self, run_id: int) -> int:
        """A copy of a run's settings as a new run at epoch 0."""
        return self.add_run(self.model[run_id].spec)

    def remove_run(self, run_id: int) -> None:
        self._undo = None
        if self.model[run_id].epoch:
            self._checkpoint(f"the removal of “{self.model[run_id].spec.name}”")
        index = self.model.ids().index(run_id)
        self.model.remove(run_id)
        ids = self.model.ids()
        if self._selected == run_id:
            self.select(ids[min(index, len(ids) - 1)] if ids else -1)
        self._after_edit()
        self.message.emit(f"run removed; {len(ids)} run(s) continue from where they are" if ids
                          else "no runs: add one (Add, or Notebook runs)", "")

    def edit_run(self, run_id: int, **changes) -> str:
        """Change some of a run's fields (validated: ValueError); returns the effect (edit_effect)."""
        run = self.model[run_id]
        spec = run.spec.replace(**changes)
        effect = edit_effect(run.spec, spec)
        if effect in (LIVE, RESTART_RUN):
            self._undo = None  # an undo must not bring back settings older than this edit
        if effect == RESTART_RUN and run.epoch:
            self._checkpoint(f"the restart of “{spec.name}”")
        self.model.edit(run_id, spec)
        self._after_edit()
        if effect == RESTART_RUN and run.epoch:
            changed = [name for name in TRAINING_FIELDS if name not in LIVE_FIELDS
                       and getattr(spec, name) != getattr(run.spec, name)]
            why = RESTART_REASONS.get(changed[0], "its settings changed") if changed else "its settings changed"
            self.message.emit(f"“{spec.name}” is back at epoch 0: {why} (Ctrl+Z: undo)", "")
        return effect

    def undo(self) -> bool:
        """Bring back the runs as they were before the last edit that restarted them."""
        if self._undo is None:
            return False
        checkpoint, what = self._undo
        self._undo = None
        self.pause()
        self.model.restore(checkpoint)
        if self._selected not in self.model:
            self.select(next(iter(self.model.ids()), -1))
        self._after_edit()
        self.message.emit(f"undone: {what}", "done")
        return True

    def _checkpoint(self, what: str) -> None:
        self._undo = (self.model.checkpoint(), what)

    def _after_edit(self) -> None:
        self.worker.touch()
        self.runs_changed.emit()
        self.records_appended.emit()
        self.state_changed.emit()

    # ---- frames -------------------------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        self.clock.received(frame)
        if not frame.playing and self._playing and not self.worker.active:
            self._playing = False  # the worker stopped itself (not a stale frame from before a play)
        if frame.trained and self._undo is not None and not self._restoring:
            self._undo = None  # trained since the reset or restart: an undo would throw that away
        self.records_appended.emit()
        self._check_restored()
        if frame.ended:
            self._playing = False
            diverged = any(run.status == "diverged" for run in self.model)
            self.run_ended.emit("diverged" if diverged else "finished")
        self.state_changed.emit()

    def _check_restored(self) -> None:
        """Once an opened session's runs are retrained to their saved histories: say how it went."""
        if not self._restoring or self.model.restoring:
            return
        self._restoring = False
        bad = [run.spec.name for run in self.model if run.restored is False]
        self.restored.emit(not bad)
        self.message.emit("retrained: every run reproduces its saved history" if not bad else
                          f"retrained, but {', '.join(bad)} differ from the saved histories", "done" if not bad
                          else "error")

    def _on_error(self, message: str) -> None:
        """The worker stopped on an error: say so and start a new one on the same model (nothing is lost)."""
        if self.jobs.closing:
            return
        self._playing = False
        self._restoring = False
        self.model.stop_restoring()  # a retrain that failed is not tried again by itself
        stop_worker(self.worker, self.worker_thread)
        self._start_worker()
        self.message.emit(message, "error")
        self.state_changed.emit()
        self.errored.emit(message)

    def shutdown(self) -> None:
        """Stop the worker (within one chunk of an epoch) and join its thread; jobs under way stop too."""
        self._playing = False
        self.jobs.closing = True
        stop_worker(self.worker, self.worker_thread)


__all__ = ["Controller", "DISPLAY", "LIVE", "RESTART_ALL", "RESTART_RUN"]
