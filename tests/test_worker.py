"""The training worker on its own: every epoch arrives once and in order, pause/step/live changes, errors, stop."""

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from nnviz.core.training import NumpyEngine, Trainer, preset_config
from nnviz.gui.worker import TrainingWorker, start_worker, stop_worker, worker_threads

SMALL = {"n_samples": 100, "epochs": 12}


class Collector(QObject):
    """Receives frames in the GUI thread, as the window does, and acknowledges each one."""

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

    def records(self, run_id="main"):
        return [r for f in self.frames if run_id in f.runs for r in f.runs[run_id].records]

    def epochs(self, run_id="main"):
        return [r.epoch for r in self.records(run_id)]

    @property
    def epoch(self):
        return self.frames[-1].runs["main"].epoch if self.frames else None


@pytest.fixture
def launch(qtbot):
    """launch(runs, **worker options) -> (worker, collector, thread); stopped after the test."""
    started = []

    def launch(runs, **options):
        worker = TrainingWorker(runs, **options)
        collector = Collector(worker)
        thread = start_worker(worker)
        started.append((worker, thread))
        qtbot.waitUntil(lambda: len(collector.frames) >= 1, timeout=20000)
        return worker, collector, thread

    yield launch
    for worker, thread in started:
        stop_worker(worker, thread)


def test_every_epoch_arrives_once_in_order_with_the_trainers_values(qtbot, launch):
    config = preset_config("sgd", **SMALL)
    worker, collector, _ = launch([("main", config)], playing=True)
    qtbot.waitUntil(lambda: collector.frames[-1].ended, timeout=20000)
    expected = list(Trainer(config))
    assert collector.epochs() == list(range(config.epochs + 1))
    assert [r.cost for r in collector.records()] == [r.cost for r in expected]
    np.testing.assert_array_equal(collector.frames[-1].runs["main"].params, expected[-1].params)
    assert collector.frames[-1].runs["main"].status == "finished"
    assert collector.frames[-1].playing is False
    assert collector.frames[0].runs["main"].setup is not None
    assert all(f.runs["main"].setup is None for f in collector.frames[1:])


def test_records_are_batched_into_few_frames(qtbot, launch):
    config = preset_config("mini-batch", n_samples=64, epochs=2000)
    _, collector, _ = launch([("main", config)], playing=True)
    qtbot.waitUntil(lambda: collector.frames[-1].ended, timeout=30000)
    assert collector.epochs() == list(range(2001))
    assert len(collector.frames) < 2000 / 4  # many epochs per frame, none lost


def test_paused_worker_trains_nothing_and_step_trains_exactly_one_epoch(qtbot, launch):
    config = preset_config("sgd", n_samples=100, epochs=1000)
    worker, collector, _ = launch([("main", config)])
    qtbot.wait(200)
    assert collector.epochs() == [0]
    worker.step()
    qtbot.waitUntil(lambda: collector.epoch == 1)
    qtbot.wait(200)
    assert collector.epochs() == [0, 1]
    worker.step(3)
    qtbot.waitUntil(lambda: collector.epoch == 4)
    qtbot.wait(200)
    assert collector.epochs() == [0, 1, 2, 3, 4]


def test_pause_and_resume(qtbot, launch):
    config = preset_config("sgd", n_samples=100, epochs=100_000)
    worker, collector, _ = launch([("main", config)], playing=True, epochs_per_second=200)
    qtbot.waitUntil(lambda: (collector.epoch or 0) >= 3, timeout=10000)
    worker.pause()
    qtbot.waitUntil(lambda: collector.frames[-1].playing is False)
    qtbot.wait(100)
    paused_at = collector.epoch
    qtbot.wait(300)
    assert collector.epoch == paused_at
    assert collector.epochs() == list(range(paused_at + 1))
    worker.play()
    qtbot.waitUntil(lambda: collector.epoch > paused_at + 2, timeout=10000)


def test_live_change_applies_from_the_next_epoch(qtbot, launch):
    config = preset_config("sgd", **SMALL)
    worker, collector, _ = launch([("main", config)])
    worker.step(3)
    qtbot.waitUntil(lambda: collector.epoch == 3)
    worker.update_config("main", learning_rate=0.05, l2=0.001)
    worker.step(2)
    qtbot.waitUntil(lambda: collector.epoch == 5)
    assert [r.learning_rate for r in collector.records()] == [0.01, 0.01, 0.01, 0.01, 0.05, 0.05]
    reference = Trainer(config)
    for _ in range(3):
        reference.step()
    reference.update_config(learning_rate=0.05, l2=0.001)
    expected = [reference.step().cost for _ in range(2)]
    assert [r.cost for r in collector.records()[4:]] == expected


def test_live_change_at_epoch_0_restarts_the_run_with_it(qtbot, launch):
    worker, collector, _ = launch([("main", preset_config("sgd", **SMALL))])
    worker.update_config("main", learning_rate=0.2)
    qtbot.waitUntil(lambda: len(collector.records()) == 2)
    assert [r.learning_rate for r in collector.records()] == [0.01, 0.2]
    assert [r.epoch for r in collector.records()] == [0, 0]


def test_an_exception_becomes_an_error_signal_and_the_thread_ends(qtbot, launch):
    class Broken(NumpyEngine):
        def train_epoch(self, *args):
            raise RuntimeError("boom")

    trainer = Trainer(preset_config("sgd", **SMALL), engine=Broken())
    worker, collector, thread = launch([("main", trainer)], playing=True)
    qtbot.waitUntil(lambda: len(collector.errors) > 0, timeout=5000)
    assert "RuntimeError: boom" in collector.errors[0]
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)


def test_stop_joins_a_worker_that_trains_without_end(qtbot, launch):
    config = preset_config("sgd", n_samples=1000, epochs=10_000_000)
    worker, collector, thread = launch([("main", config)], playing=True)
    qtbot.waitUntil(lambda: (collector.epoch or 0) >= 2, timeout=10000)
    stop_worker(worker, thread)
    assert not thread.isRunning()
    assert thread in worker_threads()


def test_numpy_engine_runs_round_robin_from_the_same_start(qtbot, launch):
    config = preset_config("sgd", engine="numpy", **SMALL)
    runs = [("a", config), ("b", config.replace(learning_rate=0.1, batch_size=10))]
    _, collector, _ = launch(runs, playing=True)
    qtbot.waitUntil(lambda: collector.frames[-1].ended, timeout=20000)
    a, b = collector.records("a"), collector.records("b")
    np.testing.assert_array_equal(a[0].params, b[0].params)
    assert a[0].cost == b[0].cost
    assert [r.epoch for r in a] == [r.epoch for r in b] == list(range(SMALL["epochs"] + 1))
    assert collector.frames[0].runs["a"].setup.engine == "numpy"
    assert [r.cost for r in b] == [r.cost for r in Trainer(runs[1][1])]


def test_divergence_ends_the_run_with_its_epoch(qtbot, launch):
    config = preset_config("sgd", learning_rate=1e6, **SMALL)
    _, collector, _ = launch([("main", config)], playing=True)
    qtbot.waitUntil(lambda: collector.frames[-1].ended, timeout=10000)
    last = collector.frames[-1].runs["main"]
    assert last.status == "diverged"
    assert last.diverged_epoch >= 1
    assert np.all(np.isfinite(last.params))
    assert all(np.isfinite(r.cost) for r in collector.records())


def test_runs_added_and_removed_while_the_worker_lives(qtbot, launch):
    config = preset_config("sgd", **SMALL)
    worker, collector, _ = launch([("a", config)])
    worker.step(2)
    qtbot.waitUntil(lambda: collector.frames[-1].runs["a"].epoch == 2)
    worker.add_run("b", config.replace(learning_rate=0.05))
    qtbot.waitUntil(lambda: "b" in collector.frames[-1].runs)
    first_b = [f.runs["b"] for f in collector.frames if "b" in f.runs][0]
    assert first_b.setup is not None and first_b.records[0].epoch == 0
    np.testing.assert_array_equal(first_b.records[0].params, collector.records("a")[0].params)  # same start
    worker.step(1)
    qtbot.waitUntil(lambda: collector.frames[-1].runs["a"].epoch == 3)
    assert collector.frames[-1].runs["b"].epoch == 1  # round-robin: one epoch of each
    worker.remove_run("a")
    qtbot.waitUntil(lambda: "a" not in collector.frames[-1].runs)
    worker.step(1)
    qtbot.waitUntil(lambda: collector.frames[-1].runs["b"].epoch == 2)
    assert list(collector.frames[-1].runs) == ["b"]


def test_steps_asked_beyond_the_end_are_dropped(qtbot, launch):
    worker, collector, _ = launch([("main", preset_config("sgd", n_samples=100, epochs=3))])
    worker.step(5)
    qtbot.waitUntil(lambda: collector.frames[-1].ended)
    worker.update_config("main", epochs=10)
    qtbot.waitUntil(lambda: collector.frames[-1].runs["main"].epochs == 10)
    qtbot.wait(200)
    assert collector.epochs() == [0, 1, 2, 3]
    assert collector.frames[-1].runs["main"].status == "running"
