"""The seeds of the comparison's runs, trained in the background while the seed count is above 1.

``SeedRunner`` belongs to the controller: it keeps the model's ``SeedStore`` (``model.seeds``) filled. When the
runs change (``runs_changed``) or the seed settings do, the runs whose seeds are stale (never trained, or edited
since in a way ``edit_effect`` does not call DISPLAY) are trained again, every seed of them from the shared start,
with ``sweep.train_configs`` in a thread of its own (its blocks on threads by default: the compiled kernels release
the GIL). A newer job makes the one under way void; ``cancel()`` stops it within 100 ms (``train_configs`` asks
every 50 ms) and keeps the runs whose seeds all finished. A cancelled set of runs is not trained again by itself
until something changes, or ``train()`` is asked. The seeds always count from the user's shared settings
(``model.shared``): the seed the live runs show (``SeedSettings.shown``) changes which start they train from, never
the band.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from nnviz.core.comparison import DISPLAY, edit_effect
from nnviz.core.seeds import SeedCurves, SeedSettings, SeedSummary, summarize
from nnviz.core.sweep import seed_configs, train_configs
from nnviz.core.text import shorten
from nnviz.core.training import Stopped


class SeedRunner(QObject):
    """Trains the stale seeds of the controller's model off the GUI thread.

    Signals: ``changed()`` when a run's seeds or the settings changed (views redraw from the model);
    ``progress(done, total)`` as seeds finish (total 0: nothing under way); ``failed(str)`` one line.
    """

    changed = Signal()
    progress = Signal(int, int)  # seeds trained, seeds of the job (0, 0: no job under way)
    failed = Signal(str)
    _result = Signal(int, object)  # (ticket, CellResult), from the job's thread
    _ended = Signal(int, str)  # (ticket, error text or "")

    def __init__(self, controller):
        super().__init__(controller)
        self.controller = controller
        self.workers: int | None = None  # threads training the seeds (None: one per core; 1: in this process)
        self._ticket = 0
        self._job: dict | None = None  # the job under way: ticket, runs {run id: (shared, spec, config)}, results
        self._cancelled: dict | None = None  # the runs of a cancelled job, left alone until something changes
        self._threads: list[threading.Thread] = []
        self._result.connect(self._on_result)
        self._ended.connect(self._on_ended)
        controller.runs_changed.connect(self.train_stale)

    # ---- queries -----------------------------------------------------------------------------------

    @property
    def model(self):
        return self.controller.model

    @property
    def settings(self) -> SeedSettings:
        return self.model.seeds.settings

    @property
    def busy(self) -> bool:
        """Whether seeds are being trained."""
        return self._job is not None

    def curves(self, run_id: int) -> SeedCurves | None:
        """The run's seeds if they are trained and current (None with one seed, or while they train)."""
        run = self.model.runs.get(run_id)
        return None if run is None else self.model.seeds.current(run_id, self.model.shared, run.spec)

    def summaries(self) -> dict[int, SeedSummary | None]:
        """Every run's summary by id, in run order (None: its seeds are not trained)."""
        target = self.settings.target
        out = {}
        for run in self.model:
            curves = self.curves(run.id)
            out[run.id] = None if curves is None else summarize(curves, target)
        return out

    # ---- intents -----------------------------------------------------------------------------------

    def set_settings(self, settings: SeedSettings) -> None:
        """New seed settings (validated by SeedSettings); stale seeds are trained again. Another shown seed
        restarts the live runs from its start (the controller prepares it, as for a data change; the settings
        apply once it is ready); the seeds trained stay current."""
        controller = self.controller
        if settings == controller.seed_settings:
            return
        self._cancelled = None
        retrain = not settings.trains_the_same(self.settings)
        if controller.set_shared(controller.shared, seeds=settings) != DISPLAY:
            return  # applied with the new start: runs_changed trains what is stale then
        if retrain:
            self._stop()
        self.changed.emit()
        self.train_stale()

    def train(self) -> None:
        """Train the stale seeds now, also those of a cancelled job."""
        self._cancelled = None
        self.train_stale()

    def cancel(self) -> None:
        """Stop the job under way within 100 ms; the runs whose seeds all finished keep them."""
        if self._job is not None:
            self._cancelled = dict(self._job["runs"])
            self._stop()
            self.controller.message.emit("seeds cancelled: the runs whose seeds finished keep their band", "")

    def train_stale(self) -> None:
        """Start a job for the stale runs, unless the one under way (or the cancelled one) is for them."""
        model = self.model
        runs = {run_id: (shared, spec) for run_id, shared, spec
                in model.seeds.stale([(run.id, model.shared, run.spec) for run in model])}
        if self._job is not None and self._job["settings"].trains_the_same(self.settings) \
                and _covers(self._job["runs"], runs):
            return
        if self._job is None and self._cancelled is not None and _covers(self._cancelled, runs):
            return
        self._cancelled = None
        self._stop()
        if runs and not self.controller.jobs.closing:
            self._start(runs)
        self.changed.emit()

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the job threads to end (at exit)."""
        for thread in self._threads:
            thread.join(timeout)

    # ---- the job ----------------------------------------------------------------------------------

    def _stop(self) -> None:
        self._ticket += 1  # the job under way sees it within 50 ms and stops; its results are dropped
        if self._job is not None:
            self._job = None
            self.progress.emit(0, 0)

    def _start(self, runs: dict) -> None:
        self._ticket += 1
        ticket = self._ticket
        settings = self.settings
        count = settings.count
        configs, owners = [], []
        for run_id, (shared, spec) in runs.items():
            configs += seed_configs(spec.config(shared), count, settings.kind)
            owners += [run_id] * count
        self._job = {"ticket": ticket, "runs": dict(runs), "owners": owners, "settings": settings,
                     "configs": configs, "results": {}, "done": 0, "count": count}
        workers = self.workers

        def should_stop() -> bool:
            return ticket != self._ticket or self.controller.jobs.closing

        def deliver(result) -> None:
            try:
                self._result.emit(ticket, result)
            except RuntimeError:  # the window is gone
                pass

        def run() -> None:
            error = ""
            try:
                train_configs(configs, history=True, workers=workers, should_stop=should_stop, on_result=deliver)
            except Stopped:
                pass
            except Exception as exc:  # every failure becomes a message: a dead thread would be silent
                error = f"{type(exc).__name__}: {shorten(str(exc), 200)}"
            try:
                self._ended.emit(ticket, error)
            except RuntimeError:
                pass

        thread = threading.Thread(target=run, name=f"nnviz-seeds-{ticket}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        self.progress.emit(0, len(configs))

    def _on_result(self, ticket: int, result) -> None:
        job = self._job
        if job is None or ticket != job["ticket"]:
            return
        if not job["settings"].trains_the_same(self.settings):
            return  # the seed settings changed under the job (a session opened): stale; train_stale follows
        job["done"] += 1
        run_id = job["owners"][result.index]
        mine = job["results"].setdefault(run_id, {})
        mine[result.index] = result
        if len(mine) == job["count"] and run_id in self.model:
            shared, spec = job["runs"].pop(run_id)
            ordered = [mine[i] for i in sorted(mine)]
            self.model.seeds.put(run_id, shared, spec, SeedCurves.from_results(job["configs"][min(mine)], ordered))
            self.changed.emit()
        self.progress.emit(job["done"], len(job["configs"]))

    def _on_ended(self, ticket: int, error: str) -> None:
        job = self._job
        if job is None or ticket != job["ticket"]:
            return
        self._job = None
        self.progress.emit(0, 0)
        if error:
            self._cancelled = dict(job["runs"])  # not tried again by itself
            self.failed.emit(error)
            self.controller.message.emit(f"training the seeds failed: {error}", "error")
        self.changed.emit()
        if not error:
            self.train_stale()  # runs changed meanwhile in ways the job did not cover


def _covers(job: dict, runs: dict) -> bool:
    """Whether a job for ``job`` (run id -> (shared, spec)) trains what ``runs`` need: each of them, with
    settings that differ at most in how they are shown."""
    return all(run_id in job and edit_effect(job[run_id][1], spec, job[run_id][0], shared) == DISPLAY
               for run_id, (shared, spec) in runs.items())
