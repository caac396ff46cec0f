"""The controller's edits of what every run shares: the data, the network, and the seed the runs train from.

Each is prepared in a thread of its own (gui/jobs.py: building the points, the initial weights and their
evaluation), then every run restarts from the new start. The comparison keeps the user's shared settings
(``model.shared``, seed 1 of the runs' seeds, what the panel shows and sessions save) and trains the live runs
from ``model.shown_shared``: those settings with the shown seed's offset (``core.seeds.shown_shared``), so
choosing the seed the maps show is a shared edit like any other, and never makes the seeds' band stale.
"""

from __future__ import annotations

from nnviz.core.comparison import DISPLAY, RESTART_ALL, RunSpec, SharedSettings, check_unique_names, prepare
from nnviz.core.history import History
from nnviz.core.seeds import SeedSettings
from nnviz.gui.status import READY


class SharedEdits:
    """The Controller's shared edits (a part of the Controller: it uses its signals, model and jobs)."""

    _target: tuple[SharedSettings, SeedSettings] | None = None  # the shared and seed settings being prepared
    _seeds_before: SeedSettings | None = None  # the seed settings before a replace being prepared gave new ones

    @property
    def shared(self) -> SharedSettings:
        """The user's shared settings the comparison has, or is being prepared with (seed 1's seeds)."""
        return self._target[0] if self._target is not None else self.model.shared

    @property
    def seed_settings(self) -> SeedSettings:
        """The seed settings the comparison has, or is being prepared with."""
        return self._target[1] if self._target is not None else self.model.seeds.settings

    def set_shared(self, shared: SharedSettings, seeds: SeedSettings | None = None, done_message: str = "") -> str:
        """New data or network for every run, and/or new seed settings (default: the current ones). When the
        runs would train from another start (other data or network, or another shown seed), it is prepared in a
        thread of its own, then every run restarts from epoch 0: RESTART_ALL. Otherwise the settings apply at
        once: DISPLAY (e.g. another seed count; the seed runner retrains the band). While a whole comparison is
        being replaced (an opened session), the panel's values wait for it: DISPLAY. ``done_message``: what the
        status bar says once the new start is applied (instead of "ready"; the Ctrl+Z hint is added to it)."""
        if self.jobs.pending("replace"):
            return DISPLAY
        seeds = seeds or self.seed_settings
        if (shared, seeds) == (self.shared, self.seed_settings):
            return DISPLAY if self._target is None else RESTART_ALL
        model = self.model
        effective = model.effective(shared, seeds)
        if effective == model.shown_shared:  # the start the runs have: nothing to prepare, any under way is void
            pending, self._target = self._target is not None, None
            self.jobs.cancel("shared")
            base_changed = shared != model.shared
            model.set_shared(shared, model.start, seeds)
            if base_changed:
                self._after_edit()
            self.state_changed.emit()
            if pending:
                self.message.emit(READY, "")
            return DISPLAY
        self._target = (shared, seeds)
        self.pause()
        seed_only = shared == model.shared
        what = f"the change to seed {seeds.shown} on the maps" if seed_only else "the data or network change"

        def apply(start):
            self._target = None
            # Counted now, not when asked: an epoch the worker was finishing then is in the histories by now.
            lost = self.model.trained_epochs()
            if lost:
                self._checkpoint(what)
            self.model.set_shared(shared, start, seeds)
            self._after_edit()
            if done_message:
                self.message.emit(done_message + (" (Ctrl+Z: undo)" if lost else ""), "done")
                return
            said = f"the runs now train from seed {seeds.shown}" if seed_only else "data or network changed"
            self.message.emit(f"{said}: every run is back at epoch 0 (Ctrl+Z: undo)" if lost else READY, "")

        self._prepare("shared", effective, apply)
        return RESTART_ALL

    def replace(self, shared: SharedSettings, specs: list[RunSpec], saved: dict[str, History] | None = None,
                done_message: str = "", busy: str = "", applied=None, seeds: SeedSettings | None = None) -> None:
        """Replace the whole comparison (new comparison, an opened session), prepared in a thread of its own;
        ``applied()`` is called once it is shown. Runs with a ``saved`` history are retrained to its last
        epoch and checked against it (``restored`` says how that went). ``seeds``: new seed settings, which the
        model has at once (default: the current settings stay); the runs train from their shown seed."""
        check_unique_names(specs)
        self.pause()
        self._undo = None
        self.jobs.cancel("shared")
        self._target = None
        if seeds is not None:
            if self._seeds_before is None:
                self._seeds_before = self.model.seeds.settings  # back to them if the preparation fails
            self.model.seeds.set_settings(seeds)

        def apply(start):
            self._seeds_before = None
            self.model.replace(shared, specs, start, saved, seeds)
            self._restoring = self.model.restoring
            ids = self.model.ids()
            selected = ids[0] if ids else -1
            changed, self._selected = selected != self._selected, selected
            self.show_epoch(None)
            self._after_edit()
            if changed:
                self.selection_changed.emit(selected)
            if applied is not None:
                applied()
            if self._restoring:
                self.message.emit(f"{done_message}: retraining the saved runs to show their maps and timeline…"
                                  if done_message else "retraining the saved runs…", "")
            elif done_message:
                self.message.emit(done_message, "")
            self._check_restored()  # a short retrain may have ended already, in the worker thread

        self._prepare("replace", self.model.effective(shared, seeds), apply, busy)

    # ---- preparations in threads of their own (jobs.py) ------------------------------------------

    @property
    def busy(self) -> str:
        """What is being prepared ("" when nothing is)."""
        return self.jobs.busy

    def _prepare(self, kind: str, shared: SharedSettings, apply, busy: str = "") -> None:
        """``prepare`` the Start of ``shared`` (the settings the runs train from) in a thread of its own, then
        ``apply(start)`` here."""
        previous = self.model.start
        busy = busy or f"preparing {shared.n_samples:,} points and the network"
        self.jobs.submit(kind, busy, lambda should_stop: prepare(shared, previous=previous, should_stop=should_stop),
                         apply)
        self.state_changed.emit()
        self.message.emit(f"{busy}…", "")

    def _on_job_done(self) -> None:
        if not self.busy:
            self.state_changed.emit()
            if self._play_when_ready:
                self._play_when_ready = False
                self.play()

    def _on_job_failed(self, text: str) -> None:
        self._play_when_ready = False
        self._target = None
        if self._seeds_before is not None:  # the runs that stay train from the seed they showed
            self.model.seeds.set_settings(self._seeds_before)
            self._seeds_before = None
        self.runs_changed.emit()  # the panel shows the model's settings again
        self.message.emit(f"could not prepare the data: {text}", "error")
        self.state_changed.emit()
