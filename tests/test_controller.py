"""The controller: intents become model edits in one place; the worker only advances the model."""

from __future__ import annotations

import pytest

from nnviz.core.comparison import Comparison, RunSpec, SharedSettings, notebook_runs, preset_shared
from nnviz.core.training import Trainer

pytest.importorskip("PySide6")

from nnviz.gui.controller import LIVE, RESTART_ALL, RESTART_RUN, Controller  # noqa: E402

SHARED = SharedSettings(dataset="moons", n_samples=80, noise=0.2, data_seed=3, shape=(2, 6, 1), init_seed=5)
RUNS = [RunSpec("a", "#1f77b4", learning_rate=0.1, batch_size=1, epochs=6),
        RunSpec("b", "#ff7f0e", learning_rate=0.3, batch_size=8, epochs=9)]
BIG = SharedSettings(dataset="moons", n_samples=4000, noise=0.2, data_seed=3, shape=(2, 256, 256, 256, 1),
                     init_seed=5)


@pytest.fixture
def controller(qtbot):
    made = []

    def make(shared=SHARED, runs=RUNS, speed=None):
        c = Controller(shared, list(runs), speed)
        made.append(c)
        assert c.busy  # prepared in the worker thread: the caller never waits for the kernel or the points
        qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
        assert c.model.shared == shared and len(c.model) == len(runs)
        return c

    yield make
    for c in made:
        c.shutdown()


def wait_ended(qtbot, c, timeout=20_000):
    with qtbot.waitSignal(c.run_ended, timeout=timeout) as blocker:
        c.play()
    return blocker.args[0]


def test_play_trains_every_run_to_its_end_with_the_numbers_of_a_separate_trainer(qtbot, controller):
    c = controller()
    assert wait_ended(qtbot, c) == "finished"
    for run in c.model:
        expected = [r.cost for r in Trainer(run.spec.config(SHARED))]
        assert run.history.column("cost").tolist() == expected
    assert not c.playing


def test_step_trains_exactly_one_epoch_of_every_run(qtbot, controller):
    c = controller()
    with qtbot.waitSignal(c.records_appended, timeout=5000):
        c.step()
    qtbot.waitUntil(lambda: [run.epoch for run in c.model] == [1, 1], timeout=5000)
    qtbot.wait(200)
    assert [run.epoch for run in c.model] == [1, 1]


def test_a_long_epoch_stops_part_way_on_pause_and_goes_on_with_the_same_numbers(qtbot, controller):
    runs = [RUNS[0].replace(epochs=2)]
    c = controller(BIG, runs)
    c.step()
    qtbot.waitUntil(lambda: c.model[c.model.ids()[0]].trainer.progress > 0.05, timeout=60_000)
    c.pause()
    run = c.model[c.model.ids()[0]]
    qtbot.waitUntil(lambda: not c.worker.playing, timeout=5000)
    qtbot.wait(300)
    fraction = run.trainer.progress
    assert run.trainer.in_epoch and run.epoch == 0 and 0 < fraction < 0.9  # stopped in the middle of the epoch
    qtbot.wait(300)
    assert run.trainer.progress == fraction  # and stays stopped
    c.step()
    qtbot.waitUntil(lambda: run.epoch == 1, timeout=120_000)
    reference = Comparison(BIG, runs)
    reference.step()
    assert run.history.column("cost").tolist() == reference.histories()["a"].column("cost").tolist()


def test_reset_during_a_long_epoch_returns_at_once_and_the_runs_start_again(qtbot, controller):
    c = controller(BIG, [RUNS[0].replace(epochs=2)])
    c.play()
    run = c.model[c.model.ids()[0]]
    qtbot.waitUntil(lambda: run.trainer.progress > 0.05, timeout=60_000)
    c.reset()
    fresh = c.model[c.model.ids()[0]]
    assert fresh is not run and fresh.epoch == 0 and not fresh.trainer.in_epoch
    assert len(fresh.history) == 1


def test_a_shared_change_is_prepared_in_the_worker_and_restarts_every_run(qtbot, controller):
    c = controller()
    wait_ended(qtbot, c)
    old_data = c.model.data
    with qtbot.waitSignal(c.runs_changed, timeout=10_000):
        assert c.set_shared(SHARED.replace(n_samples=120)) == "restart all"
        assert c.busy  # prepared off the GUI thread
    assert c.model.data is not old_data and len(c.model.data) == 120
    assert [run.epoch for run in c.model] == [0, 0]
    assert not c.busy and c.can_undo


def test_typed_values_in_a_row_build_only_the_last_data_set(qtbot, controller):
    c = controller()
    sizes = [12, 120, 1200]
    for n in sizes:
        c.set_shared(SHARED.replace(n_samples=n))
    qtbot.waitUntil(lambda: not c.busy, timeout=10_000)
    assert len(c.model.data) == 1200


def test_undo_brings_back_the_epochs_a_reset_threw_away(qtbot, controller):
    c = controller()
    wait_ended(qtbot, c)
    before = {run.spec.name: run.history.column("cost").tolist() for run in c.model}
    c.reset()
    assert all(run.epoch == 0 for run in c.model)
    assert c.undo()
    assert {run.spec.name: run.history.column("cost").tolist() for run in c.model} == before
    assert not c.can_undo


def test_edits_follow_the_one_rule(qtbot, controller):
    c = controller()
    with qtbot.waitSignal(c.records_appended, timeout=5000):
        c.step()
    qtbot.waitUntil(lambda: all(run.epoch == 1 for run in c.model), timeout=5000)
    a, b = c.model.ids()
    assert c.edit_run(a, learning_rate=0.05) == LIVE and c.model[a].epoch == 1
    assert c.edit_run(b, batch_size=4) == RESTART_RUN and c.model[b].epoch == 0 and c.model[a].epoch == 1
    assert c.can_undo
    with pytest.raises(ValueError, match="name"):
        c.edit_run(a, name="b")


def test_a_copy_is_of_the_run_asked_for_and_gets_a_free_name_and_colour(qtbot, controller):
    c = controller(preset_shared(), notebook_runs())
    decay = c.model.by_name("decay").id
    copy = c.copy_run(decay)
    spec = c.model[copy].spec
    assert spec.name == "decay (2)" and spec.training() == c.model[decay].spec.training()
    assert spec.colour not in {run.spec.colour for run in c.model if run.id != copy}
    assert c.selected_run_id == copy


def test_an_opened_session_with_histories_is_retrained_and_checked(qtbot, controller):
    first = Comparison(SHARED, RUNS)
    first.run_to_end()
    c = controller()
    with qtbot.waitSignal(c.runs_changed, timeout=10_000):
        c.replace(SHARED, RUNS, first.histories())
    qtbot.waitUntil(lambda: not c.model.restoring, timeout=20_000)
    assert [run.restored for run in c.model] == [True, True]
    for run in c.model:
        assert run.history.column("cost").tolist() == first.histories()[run.spec.name].column("cost").tolist()
        assert run.snapshots.last_epoch == run.epoch  # the timeline reaches the saved epochs
    assert not c.playing


def test_a_superseded_preparation_stops_between_chunks_and_closing_never_waits_for_one(qtbot, controller):
    from nnviz.core.comparison import prepare
    from nnviz.core.training import Stopped

    asked = []
    with pytest.raises(Stopped):
        prepare(BIG.replace(n_samples=20_000), should_stop=lambda: asked.append(1) or len(asked) > 2)
    c = controller()
    c.set_shared(BIG.replace(n_samples=40_000))  # seconds of epoch-0 evaluation
    assert c.busy
    c.set_shared(SHARED.replace(n_samples=90))  # typed again: the first is void
    qtbot.waitUntil(lambda: not c.busy, timeout=30_000)
    assert len(c.model.data) == 90 and c.model.shared.shape == SHARED.shape
    c.set_shared(BIG.replace(n_samples=40_000))
    assert c.busy
    c.shutdown()  # returns at once: the preparation stops in its own thread, nothing is applied
    assert not c.worker_thread.isRunning()


def test_a_data_change_and_back_before_it_is_built_restarts_nothing(qtbot, controller):
    c = controller()
    with qtbot.waitSignal(c.records_appended, timeout=5000):
        c.step()
    qtbot.waitUntil(lambda: all(run.epoch == 1 for run in c.model), timeout=5000)
    assert c.set_shared(SHARED.replace(n_samples=400)) == RESTART_ALL
    assert c.set_shared(SHARED) == "display"  # back before the points were built: the build is void
    qtbot.wait(500)
    assert not c.busy and [run.epoch for run in c.model] == [1, 1] and c.model.shared == SHARED


def test_undo_is_dropped_once_training_goes_on_after_the_reset(qtbot, controller):
    c = controller()
    wait_ended(qtbot, c)
    c.reset()
    assert c.can_undo
    wait_ended(qtbot, c)
    assert not c.can_undo  # an undo now would throw the new epochs away


def test_a_panel_change_while_a_session_opens_does_not_cancel_it(qtbot, controller):
    c = controller()
    opened = []
    c.replace(SHARED.replace(n_samples=60), [RUNS[1]], applied=lambda: opened.append(True))
    assert c.set_shared(SHARED.replace(n_samples=96)) == "display"  # waits for the session
    qtbot.waitUntil(lambda: not c.busy, timeout=10_000)
    assert opened == [True] and len(c.model.data) == 60 and [s.name for s in c.model.specs()] == ["b"]


def test_a_restart_says_which_setting_caused_it(qtbot):
    from nnviz.core.comparison import SharedSettings, preset_run
    from nnviz.gui.controller import Controller

    controller = Controller(SharedSettings(n_samples=200), [preset_run("sgd").replace(epochs=3)])
    try:
        qtbot.waitUntil(lambda: len(controller.model) == 1 and not controller.busy, timeout=30000)
        run_id = controller.selected_run_id
        for changes, reason in (({"batch_size": 8}, "its batch size changed what an epoch is"),
                                ({"optimizer": "adam"}, "another optimiser's state"),
                                ({"optimizer": "sgd"}, "another optimiser's state"),
                                ({"update_order": "notebook"}, "the update order changes")):
            with qtbot.waitSignal(controller.run_ended, timeout=30000):
                controller.play()
            with qtbot.waitSignal(controller.message) as blocker:
                controller.edit_run(run_id, **changes)
            assert reason in blocker.args[0] and "back at epoch 0" in blocker.args[0]
    finally:
        controller.shutdown()
