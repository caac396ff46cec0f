"""The training worker on its own: it advances a comparison model, every epoch recorded once and in order;
pause/step/live changes, jobs, errors, stop."""

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from nnviz.core.comparison import Comparison, RunSpec, SharedSettings
from nnviz.core.training import NumpyEngine, Trainer
from nnviz.gui.worker import TrainingWorker, start_worker, stop_worker, worker_threads

SHARED = SharedSettings(n_samples=100)
RUN = RunSpec("main", epochs=12)


class Collector(QObject):
    """Receives frames in the GUI thread, as the controller does, and acknowledges each one."""

    def __init__(self, worker):
        super().__init__()
        self.worker = worker
        self.frames = []
        self.errors = []
        worker.frame.connect(self.on_frame)
        worker.errored.connect(self.on_error)

    @Slot(object)
    def on_frame(self, frame):
        self.frames.append(frame)
        self.worker.frame_consumed()

    @Slot(str)
    def on_error(self, message):
        self.errors.append(message)

    @property
    def ended(self):
        return any(f.ended for f in self.frames)


@pytest.fixture
def launch(qtbot):
    """launch(model, **worker options) -> (worker, collector, thread); stopped after the test."""
    started = []

    def launch(model, playing=False, **options):
        worker = TrainingWorker(model, **options)
        collector = Collector(worker)
        thread = start_worker(worker)
        started.append((worker, thread))
        if playing:
            worker.play()
        return worker, collector, thread

    yield launch
    for worker, thread in started:
        stop_worker(worker, thread)


def epochs(model, name="main"):
    return model.by_name(name).history.column("epoch").tolist()


def test_every_epoch_is_recorded_once_in_order_with_the_trainers_values(qtbot, launch):
    model = Comparison(SHARED, [RUN])
    launch(model, playing=True)
    qtbot.waitUntil(lambda: model.done, timeout=20000)
    expected = list(Trainer(RUN.config(SHARED)))
    history = model.by_name("main").history
    assert epochs(model) == [r.epoch for r in expected]
    assert history.column("cost").tolist() == [r.cost for r in expected]


def test_frames_are_few_and_say_when_the_run_ended(qtbot, launch):
    model = Comparison(SHARED, [RUN.replace(epochs=2000)])
    _, collector, _ = launch(model, playing=True)
    qtbot.waitUntil(lambda: collector.ended, timeout=20000)
    assert len(collector.frames) < 2000 / 2  # batched: far fewer frames than epochs
    assert collector.frames[-1].ended and not collector.frames[-1].playing


def test_paused_worker_trains_nothing_and_step_trains_exactly_one_epoch(qtbot, launch):
    model = Comparison(SHARED, [RUN])
    worker, collector, _ = launch(model)
    qtbot.wait(200)
    assert epochs(model) == [0]
    worker.step()
    qtbot.waitUntil(lambda: model.by_name("main").epoch == 1)
    qtbot.wait(200)
    assert epochs(model) == [0, 1]


def test_pause_and_resume(qtbot, launch):
    model = Comparison(SHARED, [RUN.replace(epochs=100_000)])
    worker, collector, _ = launch(model, playing=True, epochs_per_second=200)
    qtbot.waitUntil(lambda: model.by_name("main").epoch >= 3, timeout=5000)
    worker.pause()
    qtbot.waitUntil(lambda: bool(collector.frames) and not collector.frames[-1].playing)
    paused_at = model.by_name("main").epoch
    qtbot.wait(200)
    assert model.by_name("main").epoch == paused_at
    worker.play()
    qtbot.waitUntil(lambda: model.by_name("main").epoch > paused_at + 2, timeout=5000)
    assert epochs(model) == list(range(len(epochs(model))))


def test_live_change_applies_from_the_next_epoch(qtbot, launch):
    model = Comparison(SHARED, [RUN])
    worker, _, _ = launch(model)
    run_id = model.ids()[0]
    worker.step(2)
    qtbot.waitUntil(lambda: model[run_id].epoch == 2)
    model.edit(run_id, model[run_id].spec.replace(learning_rate=0.5))
    worker.step(1)
    qtbot.waitUntil(lambda: model[run_id].epoch == 3)
    assert model[run_id].history.column("learning_rate").tolist() == [0.01, 0.01, 0.01, 0.5]


def test_an_exception_becomes_an_error_signal_and_the_thread_ends(qtbot, launch):
    class Broken(NumpyEngine):
        def train_epoch(self, *args):
            raise RuntimeError("boom")

    model = Comparison(SHARED, [RUN], engine=Broken())
    worker, collector, thread = launch(model, playing=True)
    qtbot.waitUntil(lambda: len(collector.errors) > 0, timeout=5000)
    assert "RuntimeError: boom" in collector.errors[0]
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)


def test_stop_joins_a_worker_that_trains_without_end(qtbot, launch):
    model = Comparison(SharedSettings(), [RUN.replace(epochs=10_000_000)])
    worker, collector, thread = launch(model, playing=True)
    qtbot.waitUntil(lambda: model.by_name("main").epoch >= 2, timeout=10000)
    stop_worker(worker, thread)
    assert not thread.isRunning()
    assert thread in worker_threads()


def test_numpy_engine_runs_round_robin_from_the_same_start(qtbot, launch):
    shared = SHARED.replace(engine="numpy")
    runs = [RUN.replace(name="a"), RUN.replace(name="b", learning_rate=0.1, batch_size=10)]
    model = Comparison(shared, runs)
    _, collector, _ = launch(model, playing=True)
    qtbot.waitUntil(lambda: collector.ended, timeout=20000)
    a, b = model.by_name("a"), model.by_name("b")
    np.testing.assert_array_equal(a.snapshots.nearest(0)[1], b.snapshots.nearest(0)[1])
    assert a.history.row(0)["cost"] == b.history.row(0)["cost"]
    assert epochs(model, "a") == epochs(model, "b") == list(range(RUN.epochs + 1))
    assert model.engine.name == "numpy"
    assert b.history.column("cost").tolist() == [r.cost for r in Trainer(runs[1].config(shared))]


def test_divergence_ends_the_run_with_its_epoch(qtbot, launch):
    model = Comparison(SHARED, [RUN.replace(learning_rate=1e6)])
    _, collector, _ = launch(model, playing=True)
    qtbot.waitUntil(lambda: collector.ended, timeout=10000)
    run = model.by_name("main")
    assert run.status == "diverged" and run.trainer.diverged_epoch >= 1
    assert np.all(np.isfinite(run.snapshots.nearest(run.epoch)[1]))
    assert np.all(np.isfinite(run.history.column("cost")))


def test_runs_added_and_removed_while_the_worker_lives(qtbot, launch):
    model = Comparison(SHARED, [RUN.replace(name="a")])
    worker, _, _ = launch(model)
    worker.step(2)
    qtbot.waitUntil(lambda: model.by_name("a").epoch == 2)
    b = model.add(RUN.replace(name="b", learning_rate=0.05))
    worker.touch()
    np.testing.assert_array_equal(model[b].snapshots.nearest(0)[1], model.by_name("a").snapshots.nearest(0)[1])
    worker.step(1)
    qtbot.waitUntil(lambda: model.by_name("a").epoch == 3)
    qtbot.waitUntil(lambda: model[b].epoch == 1)  # round-robin: one epoch of each
    model.remove(model.by_name("a").id)
    worker.step(1)
    qtbot.waitUntil(lambda: model[b].epoch == 2)
    assert [run.spec.name for run in model] == ["b"]


def test_steps_asked_beyond_the_end_are_dropped(qtbot, launch):
    model = Comparison(SHARED, [RUN.replace(epochs=3)])
    worker, collector, _ = launch(model)
    worker.step(5)
    qtbot.waitUntil(lambda: collector.ended)
    run_id = model.ids()[0]
    model.edit(run_id, model[run_id].spec.replace(epochs=10))
    worker.touch()
    qtbot.wait(200)
    assert epochs(model) == [0, 1, 2, 3]
    assert model[run_id].status == "running"
