"""How the window's views follow the controller: each handler reads the model and tells the views.

Nothing here keeps a copy of the model's state; the few fields below only remember what the
views were last given (so an unchanged data set is not drawn again).
"""

from __future__ import annotations

import time

from nnviz.core.comparison import TRAINING_FIELDS, SharedSettings
from nnviz.core.training import load_presets
from nnviz.gui.run_list import renamed_for_preset
from nnviz.gui.status import READY

MAPS_PER_SECOND = 12  # small maps redrawn a second while several runs train, one a frame (the curves: every frame)


def curve_key(run_id: int) -> str:
    """The id of a run in the curves view (which names runs by text)."""
    return str(run_id)


class ViewSync:
    """The window's handlers of the controller's signals and of the panel's intents."""

    def __init__(self, window):
        self.w = window
        self.c = window.controller
        self._data = None  # the Dataset the maps show
        self._starts: dict[int, tuple] = {}  # run id -> (generation, trainer) the views were last given
        self._maps_drawn_at = 0.0
        self._next_map = -1  # the small map redrawn last, while several runs train
        self._syncing = False  # the panel is being filled from the model: its signals are not edits
        self.drawn_epoch = 0  # the newest epoch of the selected run the views were last drawn with

    # ---- the controller's signals -------------------------------------------------------------

    def runs_changed(self) -> None:
        w, model = self.w, self.c.model
        with model.lock:
            runs = list(model.runs.values())
            data, has_test = model.data, model.has_test
        selected = self.c.selected_run_id
        self._note_drawn()
        w.runs.show_runs([(run.id, run.spec) for run in runs], selected)
        w.curves.set_runs([(curve_key(r.id), r.spec.name, r.spec.colour, r.spec.visible) for r in runs])
        for run in runs:
            w.curves.set_history(curve_key(run.id), run.history)
        w.curves.set_has_test(has_test)
        starts = {run.id: (run.generation, run.trainer) for run in runs}
        restarted = any(self._starts.get(run_id) not in (None, start) for run_id, start in starts.items()) \
            or not set(starts) & set(self._starts)  # restarted, or a new comparison (no run in common)
        if data is not self._data:
            self._data = data
            w.maps.set_data(data.X, data.y, data.X_test, data.y_test)
            restarted = True
        self._starts = starts
        w.maps.set_runs([(run.id, run.spec.name, run.spec.colour, run.spec.visible) for run in runs])
        if len(runs) == 1:
            w.maps.show_large(runs[0].id)
        elif w.maps.large_run_id != -1 and (w.maps.large_run_id not in starts or not w.maps.back_button.isVisible()):
            w.maps.show_all()  # the single run's large map (or a removed run's) gives way to the grid
        w.maps.back_button.setVisible(len(runs) > 1)
        if restarted:
            w.curves.reset_view()
            w.timeline.reset()
            self.c.show_epoch(None)
        self._fill_panel()
        self.draw_maps(force=True)
        w.inside.runs_changed()
        self.state_changed()

    def records_appended(self) -> None:
        w, model = self.w, self.c.model
        self._note_drawn()
        w.curves.set_epoch_target(max((run.trainer.config.epochs for run in model), default=1))
        w.curves.refresh()
        newest = max((run.history.last("epoch") for run in model), default=0)
        w.timeline.set_max_epoch(newest)
        if self.c.shown_epoch is None:
            # Every map once training stops (paused, stepped, ended); in turn while it trains.
            live = self.c.playing or self.c.worker.active
            drew_map = self.draw_maps(force=not live)
            # A frame that drew a small map leaves the network view to the next: never both costs in one frame.
            w.inside.draw(force=not live, defer_network=live and drew_map)
        nbytes = model.snapshot_nbytes
        if nbytes:
            strides = {run.snapshots.stride for run in model}
            every = "every epoch" if strides == {1} else f"every {max(strides)}th epoch"
            size = f"{nbytes / 2**20:.1f} MB" if nbytes >= 2**20 else f"{nbytes / 2**10:.0f} kB"
            w.timeline.set_note(f"snapshots: {size} ({every})")
        w.frame_drawn.emit()  # the status bar follows state_changed, which the controller emits next

    def epoch_shown(self, epoch) -> None:
        w = self.w
        if epoch is None and not w.timeline.is_live():
            w.timeline.set_live(True)
        w.curves.set_marker(epoch)
        self.draw_maps(force=True)
        w.inside.draw(force=True)
        self.show_status()
        if epoch is not None:
            w.statusline.set_message(f"showing epoch {epoch:,} (End or ● Live: back to the newest)")
        elif w.message.text().startswith("showing epoch"):
            w.statusline.set_message(READY if not self.c.playing else "training…")

    def selection_changed(self, run_id: int) -> None:
        self._note_drawn()
        self.w.runs.show_selected(run_id)
        self._fill_panel()
        self.w.inside.draw(force=True)
        self.show_status()

    def state_changed(self) -> None:
        w, c = self.w, self.c
        valid = w.panel.config() is not None and len(c.model) > 0
        w.actions.set_state(c.playing, valid, c.ended, bool(c.busy), c.can_undo,
                            stepping=c.worker.active and not c.playing)
        self.show_status()

    def run_ended(self, status: str) -> None:
        w, model = self.w, self.c.model
        runs = list(model)
        diverged = [run for run in runs if run.status == "diverged"]
        if diverged:
            run = diverged[0]
            who = "" if len(runs) == 1 else f"“{run.spec.name}” "
            w.statusline.set_message(f"{who}diverged at epoch {run.trainer.diverged_epoch}: lower the learning rate",
                                 "error")
            w.message.setToolTip(f"{who}diverged at epoch {run.trainer.diverged_epoch}: "
                                 f"{run.trainer.divergence_reason}; the map shows its last finite epoch "
                                 f"{run.history.last('epoch')}")
        elif len(runs) == 1:
            h = runs[0].history
            w.statusline.set_message(f"finished: {runs[0].epoch:,} epochs, cost {h.last('cost'):.6f}, "
                                 f"accuracy {100 * h.last('accuracy'):.1f} %", "done")
        elif runs:
            cost, accuracy, name = min((r.history.last("cost"), r.history.last("accuracy"),
                                        r.spec.name) for r in runs)
            w.statusline.set_message(f"finished: {len(runs)} runs; lowest cost “{name}” {cost:.6f} "
                                 f"(accuracy {100 * accuracy:.1f} %)", "done")
        self.draw_maps(force=True)
        w.inside.draw(force=True)
        w.inside.run_ended()
        w.run_ended.emit(status)

    # ---- drawing --------------------------------------------------------------------------------

    def draw_maps(self, force: bool = False) -> bool:
        """The runs' maps at the epoch shown. While several small maps train live, one map is redrawn a
        frame, in turn, and at most MAPS_PER_SECOND maps a second: a frame never pays for every map's paint
        (the curves follow every frame; a run shown large follows every frame too). Whether any map was drawn."""
        w, model = self.w, self.c.model
        if not w.maps.isVisibleTo(w):
            return False  # the network view is in their place: drawn when shown again (InsideViews.set_mode)
        now = time.perf_counter()
        runs = list(model)
        if not force and len(runs) > 1 and w.maps.large_run_id == -1:
            if now - self._maps_drawn_at < 1 / MAPS_PER_SECOND:
                return False
            shown = [run for run in runs if run.spec.visible] or runs
            self._next_map = (self._next_map + 1) % len(shown)
            runs = [shown[self._next_map]]
        self._maps_drawn_at = now
        epoch = self.c.shown_epoch
        layout, activation = model.layout, model.shared.activation
        for run in runs:
            found = model.params_at(run.id, epoch)
            if found is None:
                continue
            shown, params = found
            cost = self._cost_at(run, shown)
            if epoch is None and run.status == "diverged":
                # Live, a diverged run shows its last finite weights under a title that says it diverged.
                shown, cost = run.trainer.diverged_epoch, float("nan")
            try:
                w.maps.show_state(run.id, params, layout, activation, cost, shown)
            except KeyError:
                pass  # added to the model since the maps were given their runs: drawn with the next change
        return bool(runs)

    @staticmethod
    def _cost_at(run, epoch: int) -> float | None:
        history = run.history
        i = history.searchsorted("epoch", epoch)
        return float(history.value("cost", i)) if i < len(history) and history.value("epoch", i) == epoch else None

    def _note_drawn(self) -> None:
        # Taken before the views read the histories: they show at least this epoch (the worker may add more).
        run = self.c.model.runs.get(self.c.selected_run_id)
        self.drawn_epoch = int(run.history.last("epoch")) if run is not None else 0

    def show_status(self) -> None:
        self.w.statusline.show_run(self.c.model, self.c.selected_run_id, self.c.shown_epoch,
                               self.c.clock.rate if self.c.playing else 0.0)

    def _fill_panel(self) -> None:
        """The panel shows the shared settings and the selected run's training settings."""
        w, model = self.w, self.c.model
        run = model.runs.get(self.c.selected_run_id)
        if run is None or self._syncing:
            return
        if w.panel.is_commit_pending():
            return  # the user is typing: the model follows the panel
        self._syncing = True
        try:
            # The shared settings being prepared (what the panel shows) with the selected run's own settings.
            w.panel.set_config(run.spec.config(self.c.shared))
        finally:
            self._syncing = False
        w.panel.set_training_title(f"Training — run “{run.spec.name}”")

    # ---- intents from the panel and the run list --------------------------------------------------

    def panel_changed(self) -> None:
        w = self.w
        if self._syncing:
            return
        if w.panel.config() is None:
            w.statusline.set_message(w.panel.error_message(), "error")
        elif w.statusline.kind == "error":
            w.statusline.set_message("training…" if self.c.playing else READY)
        self.state_changed()

    def panel_committed(self) -> None:
        """Settled values of the panel: the shared ones for every run, the training ones for the selected run."""
        w, c = self.w, self.c
        config = w.panel.config()
        if self._syncing or config is None:
            return
        c.set_shared(SharedSettings.from_config(config))  # nothing when unchanged; back to the model's: the build stops
        run = c.model.runs.get(c.selected_run_id)
        if run is None:
            return
        changes = {name: getattr(config, name) for name in TRAINING_FIELDS
                   if getattr(config, name) != getattr(run.spec, name)}
        if changes:
            self.guarded(lambda: c.edit_run(run.id, **changes))

    def preset_chosen(self, preset: str) -> None:
        """A run still named after a preset takes the new preset's name."""
        c = self.c
        run = c.model.runs.get(c.selected_run_id)
        if run is None:
            return
        taken = [spec.name for spec in c.model.specs()]
        name = renamed_for_preset(run.spec.name, preset, taken, load_presets())
        if name != run.spec.name:
            self.guarded(lambda: c.edit_run(run.id, name=name))

    def run_edit_requested(self, run_id: int, changes: dict) -> None:
        if run_id in self.c.model:
            self.guarded(lambda: self.c.edit_run(run_id, **changes))

    def guarded(self, edit) -> None:
        """Run an edit; a refused value shows its one-line reason at the run list."""
        try:
            edit()
        except ValueError as exc:
            self.w.runs.show_message(str(exc))
            self.runs_changed()  # the list shows the model again, not the refused value

    def timeline_moved(self, *_) -> None:
        t = self.w.timeline
        self.c.show_epoch(None if t.is_live() else t.current_epoch())


