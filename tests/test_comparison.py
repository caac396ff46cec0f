"""Comparisons: one starting point for every run, round-robin stepping, histories, bounded snapshots."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nnviz.core.comparison import (
    DISPLAY,
    LIVE,
    PALETTE,
    RESTART_ALL,
    RESTART_RUN,
    Comparison,
    History,
    RunSpec,
    SharedSettings,
    SnapshotStore,
    edit_effect,
    notebook_runs,
    preset_shared,
)
from nnviz.core.network import init_params
from nnviz.core.training import TrainConfig, Trainer, preset_config

SHARED = SharedSettings(dataset="moons", n_samples=60, noise=0.2, data_seed=7, shape=(2, 5, 3, 1), init_seed=11,
                        engine="numpy")
RUNS = [
    RunSpec("sgd", "#1f77b4", learning_rate=0.05, batch_size=1, epochs=4),
    RunSpec("batch", "#ff7f0e", learning_rate=0.3, batch_size=16, epochs=6),
    RunSpec("momentum", "#2ca02c", learning_rate=0.05, batch_size=4, momentum=0.9, l2=0.01, epochs=3),
    RunSpec("step", "#d62728", learning_rate=0.2, batch_size=8, schedule="step", step_every=2, step_factor=0.5,
            epochs=5),
]
SCALARS = ("epoch", "cost", "accuracy", "learning_rate", "updates", "samples")


def test_every_run_starts_from_the_same_weights_on_the_same_data():
    comparison = Comparison(SHARED, RUNS)
    starts = [run.trainer.initial_record() for run in comparison]
    expected = init_params(SHARED.shape, SHARED.init_seed)
    for run, start in zip(comparison, starts, strict=True):
        assert np.array_equal(start.params, expected)
        assert run.trainer.X is comparison.data.X and run.trainer.y is comparison.data.y
        assert run.trainer.theta is not comparison.initial_params  # each run trains its own copy
    # l2 adds its penalty to the reported cost; the cross-entropy part is the same for all.
    plain = [s.cost for s, spec in zip(starts, RUNS, strict=True) if spec.l2 == 0]
    assert len(plain) == 3 and len(set(plain)) == 1
    assert len({s.accuracy for s in starts}) == 1


def test_step_advances_every_unfinished_run_by_one_epoch():
    comparison = Comparison(SHARED, RUNS)
    ids = list(comparison.runs)
    seen = []
    while not comparison.done:
        records = comparison.step()
        assert len({r.epoch for r in records.values()}) == 1  # round-robin: all at the same epoch
        seen.append(sorted(records))
    assert seen[0] == ids and len(seen) == 6
    # Finished runs drop out: sgd after epoch 4, momentum after 3, step after 5.
    assert seen[2] == ids and seen[3] == [ids[0], ids[1], ids[3]] and seen[4] == [ids[1], ids[3]]
    assert seen[5] == [ids[1]]
    assert comparison.step() == {} and [run.status for run in comparison] == ["finished"] * 4


def test_each_run_matches_a_separate_trainer_row_for_row():
    comparison = Comparison(SHARED, RUNS)
    comparison.run_to_end()
    for run, spec in zip(comparison, RUNS, strict=True):
        alone = list(Trainer(spec.config(SHARED)))
        assert len(run.history) == len(alone) == spec.epochs + 1
        for name in SCALARS:
            assert run.history.column(name).tolist() == [getattr(r, name) for r in alone], (spec.name, name)
        assert np.array_equal(run.trainer.theta, alone[-1].params)


def test_stepping_runs_in_a_thread_pool_gives_the_same_histories():
    alone, pooled = Comparison(SHARED, RUNS), Comparison(SHARED, RUNS)
    with ThreadPoolExecutor(2) as pool:
        while not pooled.done:
            assert list(pooled.step(pool)) == list(alone.step())  # the same runs, in run order
    for a, b in zip(alone, pooled, strict=True):
        assert b.status == "finished"
        for name in SCALARS:
            assert a.history.column(name).tolist() == b.history.column(name).tolist()
        assert np.array_equal(a.trainer.theta, b.trainer.theta)


def test_a_diverging_run_stops_and_the_others_complete():
    runs = [RUNS[0], RUNS[1].replace(name="wild", learning_rate=1e6, batch_size=60)]
    comparison = Comparison(SHARED, runs)
    comparison.run_to_end()
    sgd, wild = comparison
    assert sgd.status == "finished" and len(sgd.history) == 5
    assert wild.status == "diverged" and len(wild.history) == wild.trainer.diverged_epoch
    assert np.all(np.isfinite(wild.history.column("cost")))


def test_test_columns_follow_the_shared_test_set():
    comparison = Comparison(SHARED.replace(test_fraction=0.25), RUNS[:1])
    comparison.run_to_end()
    history = comparison.by_name("sgd").history
    assert comparison.has_test and history.columns[-2:] == ("test_cost", "test_accuracy")
    assert np.all(np.isfinite(history.column("test_cost")))
    assert "test_cost" not in Comparison(SHARED, RUNS[:1]).by_name("sgd").history.columns


def test_notebook_runs_are_the_four_presets_in_distinct_colours():
    runs = notebook_runs()
    assert [r.name for r in runs] == ["sgd", "mini-batch", "momentum", "decay"]
    assert len({r.colour for r in runs}) == 4 and all(r.colour in PALETTE for r in runs)
    for run in runs:
        assert run.config(preset_shared()) == preset_config(run.name)


def test_names_are_unique_within_a_comparison():
    comparison = Comparison(SHARED, RUNS[:2])
    with pytest.raises(ValueError, match="name='sgd': another run already has that name"):
        comparison.add(RUNS[0].replace(colour="#000000"))
    assert comparison.unique_name("sgd") == "sgd (2)" and comparison.unique_name("new") == "new"
    assert comparison.next_colour() == PALETTE[2]


def test_update_keeps_history_for_display_and_live_changes_restarts_otherwise():
    comparison = Comparison(SHARED, RUNS[:2])
    sgd_id, batch_id = comparison.runs
    comparison.step()
    comparison.step()
    assert comparison.edit(sgd_id, RUNS[0].replace(name="renamed", colour="#123456", visible=False)) == DISPLAY
    assert len(comparison[sgd_id].history) == 3 and comparison[sgd_id].spec.name == "renamed"
    assert comparison.edit(sgd_id, comparison[sgd_id].spec.replace(learning_rate=0.5)) == LIVE
    assert comparison[sgd_id].trainer.config.learning_rate == 0.5 and comparison[sgd_id].epoch == 2
    assert comparison.edit(batch_id, RUNS[1].replace(batch_size=2)) == RESTART_RUN
    assert comparison[batch_id].epoch == 0 and len(comparison[batch_id].history) == 1
    assert comparison[sgd_id].epoch == 2  # only the run it touches restarts
    comparison.reset()
    assert [run.epoch for run in comparison] == [0, 0] and list(comparison.runs) == [sgd_id, batch_id]


def test_removed_ids_are_not_reused():
    comparison = Comparison(SHARED, RUNS[:2])
    comparison.remove(0)
    assert comparison.add(RUNS[0]) == 2 and list(comparison.runs) == [1, 2]


@pytest.mark.parametrize("changes, message", [
    ({"colour": "red"}, "colour='red': must be \"#rrggbb\""),
    ({"name": ""}, "name='': must be text of 1 to 60 printable characters"),
    ({"name": "a\nb"}, "printable"),
    ({"visible": "yes"}, "visible='yes': must be true or false"),
    ({"learning_rate": -1}, "learning_rate=-1: must be finite and > 0"),
    ({"batch_size": 0}, "batch_size=0: must be an integer from 1 to 1000000"),
    ({"momentum": 1.0}, "momentum=1.0: must be from 0 to below 1"),
    ({"schedule": "cosine"}, "schedule='cosine': allowed are constant, exponential, step"),
])
def test_invalid_run_specs_are_refused_with_the_range(changes, message):
    with pytest.raises(ValueError) as info:
        RunSpec(**{"name": "x", **changes})
    assert message in str(info.value)


@pytest.mark.parametrize("changes, message", [
    ({"n_samples": 1001}, "n_samples=1001: the 'hard' data set needs a multiple of 4"),
    ({"shape": (3, 1)}, "shape=3,1: must be (2, h1, ..., hk, 1)"),
    ({"shape": "2,3,1"}, "shape='2,3,1': must be"),
    ({"engine": "gpu"}, "engine='gpu': allowed are compiled, numpy"),
])
def test_invalid_shared_settings_are_refused_with_the_range(changes, message):
    with pytest.raises(ValueError) as info:
        SharedSettings(**changes)
    assert message in str(info.value)


def test_settings_normalise_numbers_and_colour():
    spec = RunSpec("a", "#ABCDEF", learning_rate=np.float32(0.5), batch_size=np.int64(3), momentum=0)
    assert spec.colour == "#abcdef" and type(spec.learning_rate) is float and type(spec.batch_size) is int
    assert type(spec.momentum) is float and spec == RunSpec("a", "#abcdef", learning_rate=0.5, batch_size=3)
    assert SharedSettings(shape=[2, np.int64(4), 1]).shape == (2, 4, 1)
    config = TrainConfig(dataset="xor", learning_rate=0.2, batch_size=5)
    assert RunSpec.from_config(config, "x").config(SharedSettings.from_config(config)) == config


def test_history_columns_stay_valid_while_growing():
    history = History(has_test=False, capacity=2)
    records = list(Trainer(RUNS[1].replace(epochs=5).config(SHARED)))
    history.append(records[0])
    early = history.column("cost")
    for record in records[1:]:
        history.append(record)
    assert early.tolist() == [records[0].cost] and len(history) == 6
    assert history.column("updates").dtype == np.int64 and not history.column("cost").flags.writeable
    copy = History.from_columns(history.to_columns(), has_test=False)
    assert copy == history and copy.row(5) == history.row(5)
    with pytest.raises(ValueError, match="unequal lengths"):
        History.from_columns({**history.to_columns(), "cost": [1.0]}, has_test=False)


def _filled_store(epochs, capacity, size=3, **kw):
    store = SnapshotStore(capacity, **kw)
    for epoch in range(epochs):
        store.add(epoch, np.full(size, float(epoch)))
    return store


def test_snapshot_store_keeps_every_epoch_up_to_its_capacity():
    store = _filled_store(50, capacity=50)
    assert store.epochs == list(range(50)) and store.stride == 1 and store.nbytes == 50 * 3 * 8
    assert all(store.nearest(e)[0] == e and store.nearest(e)[1][0] == e for e in range(50))


def test_snapshot_store_thins_to_a_bounded_size():
    store = _filled_store(10_000, capacity=100)
    assert len(store) <= 101 and store.nbytes <= 101 * 3 * 8
    assert store.epochs[0] == 0 and store.epochs[-1] == 9_999  # the start and the latest are always kept
    assert store.stride == 128 and all(e % store.stride == 0 for e in store.epochs[:-1])
    for query in [0, 1, 127, 128, 5_000, 9_998, 9_999, 20_000]:
        epoch, params = store.nearest(query)
        assert epoch == max(e for e in store.epochs if e <= query)
        assert query - epoch < store.stride or query > 9_999
        assert np.all(params == epoch)


def test_snapshot_store_counts_its_bytes_exactly_while_thinning():
    store = SnapshotStore(4)
    for epoch in range(0, 200, 3):
        store.add(epoch, np.full(5, float(epoch)))
        assert store.nbytes == len(store) * 5 * 8
    store.clear()
    assert store.nbytes == 0


def test_snapshot_store_capacity_shrinks_for_big_networks():
    store = _filled_store(100, capacity=2000, size=1000, max_bytes=10 * 8000)
    assert store.capacity == 10 and len(store) <= 11 and store.nbytes <= 11 * 8000


def test_snapshot_store_refuses_going_back_and_answers_none_before_the_start():
    store = SnapshotStore(10)
    assert store.nearest(5) is None
    store.add(3, np.zeros(2))
    assert store.nearest(2) is None and store.nearest(3)[0] == 3
    with pytest.raises(ValueError, match="epoch=3: must be after the last snapshot's epoch 3"):
        store.add(3, np.zeros(2))
    writable = np.ones(2)
    store.add(4, writable)
    writable[:] = 7
    assert np.all(store.nearest(4)[1] == 1)  # a private copy
    with pytest.raises(ValueError, match="capacity=1"):
        SnapshotStore(1)


def test_comparison_keeps_snapshots_of_every_run():
    comparison = Comparison(SHARED, RUNS[:2], snapshot_capacity=4)
    comparison.run_to_end()
    batch = comparison.by_name("batch")
    assert batch.snapshots.epochs == [0, 2, 4, 6] and comparison.snapshot_nbytes > 0
    epoch, params = batch.snapshots.nearest(5)
    assert epoch == 4
    assert np.array_equal(params, list(Trainer(RUNS[1].replace(epochs=4).config(SHARED)))[-1].params)


@pytest.mark.parametrize("before, after, shared_after, effect", [
    ({}, {"name": "x", "colour": "#123456", "visible": False}, {}, DISPLAY),
    ({}, {"learning_rate": 0.5}, {}, LIVE),
    ({}, {"momentum": 0.5, "l2": 0.1, "epochs": 7, "schedule": "exponential", "gamma": 0.015}, {}, LIVE),
    ({}, {"batch_size": 2}, {}, RESTART_RUN),
    ({}, {"batch_size": 2, "learning_rate": 0.5}, {}, RESTART_RUN),
    ({}, {}, {"n_samples": 12}, RESTART_ALL),
    ({}, {}, {"shape": (2, 5, 1)}, RESTART_ALL),
    ({}, {}, {"engine": "compiled"}, RESTART_ALL),
])
def test_edit_effect_is_the_one_rule(before, after, shared_after, effect):
    spec = RUNS[0]
    assert edit_effect(spec.replace(**before), spec.replace(**after), SHARED, SHARED.replace(**shared_after)) == effect


def test_a_live_change_at_epoch_0_restarts_the_run_so_epoch_0_shows_it():
    comparison = Comparison(SHARED, RUNS[:1])
    run_id = comparison.ids()[0]
    assert comparison.edit(run_id, RUNS[0].replace(learning_rate=0.125)) == LIVE
    assert comparison[run_id].history.column("learning_rate").tolist() == [0.125]


def test_set_shared_restarts_every_run_on_the_new_data_and_keeps_the_weights_when_the_network_is_unchanged():
    comparison = Comparison(SHARED, RUNS[:2])
    comparison.step()
    weights = comparison.initial_params
    assert comparison.set_shared(SHARED.replace(data_seed=SHARED.data_seed + 1)) == RESTART_ALL
    assert [run.epoch for run in comparison] == [0, 0]
    assert comparison.initial_params is weights
    assert not np.array_equal(comparison.data.X, Comparison(SHARED).data.X)
    for run in comparison:
        assert run.trainer.X is comparison.data.X


def test_a_run_added_later_starts_from_the_same_weights_while_the_others_go_on():
    comparison = Comparison(SHARED, RUNS[:1])
    comparison.step()
    new = comparison.add(RUNS[1])
    assert [run.epoch for run in comparison] == [1, 0]
    assert np.array_equal(comparison[new].history.row(0)["cost"], Comparison(SHARED, RUNS[1:2]).histories()[
        RUNS[1].name].row(0)["cost"])


def test_a_round_stopped_part_way_goes_on_with_identical_numbers():
    shared = SHARED.replace(n_samples=1200, shape=(2, 128, 128, 1))  # many chunks an epoch
    runs = [RUNS[0].replace(epochs=3), RUNS[1].replace(epochs=3)]
    plain = Comparison(shared, runs)
    plain.run_to_end()
    stopped = Comparison(shared, runs)
    asks = {"n": 0}

    def should_stop():
        asks["n"] += 1
        return asks["n"] % 3 == 0  # stop every third chunk

    partial_steps = 0
    while not stopped.done:
        stopped.step(should_stop=should_stop)
        partial_steps += any(run.trainer.in_epoch for run in stopped)
    assert partial_steps > 0  # some calls really stopped part-way
    for name, history in plain.histories().items():
        trained = stopped.histories()[name]
        for column in history.columns:
            if column != "elapsed_s":
                assert trained.column(column).tolist() == history.column(column).tolist()


def test_edits_from_another_thread_while_training_keep_the_model_consistent():
    import threading

    comparison = Comparison(SHARED, [run.replace(epochs=10_000) for run in RUNS[:2]])
    stop = threading.Event()

    def train():
        while not stop.is_set():
            comparison.step(should_stop=stop.is_set)

    worker = threading.Thread(target=train)
    worker.start()
    try:
        for i in range(50):
            ids = comparison.ids()
            comparison.edit(ids[0], comparison[ids[0]].spec.replace(batch_size=1 + i % 3))
            comparison.reset() if i % 10 == 0 else None
            for run in comparison:
                history = run.history
                n = len(history)
                assert history.column("epoch")[:n].tolist() == list(range(n))
    finally:
        stop.set()
        worker.join()


def test_a_replaced_comparison_is_retrained_to_a_saved_history_and_checked():
    runs = [RUNS[0].replace(epochs=4), RUNS[1].replace(epochs=4)]
    first = Comparison(SHARED, runs)
    first.run_to_end()
    saved = first.histories()
    comparison = Comparison(SHARED)
    comparison.replace(SHARED, runs, saved=saved)
    assert comparison.restoring
    while comparison.restoring:
        comparison.step(restoring_only=True)
    assert [run.restored for run in comparison] == [True, True]
    assert [run.epoch for run in comparison] == [4, 4]
    forged = {name: History.from_columns({**h.to_columns(), "cost": [c + 1e-9 for c in h.column("cost")]},
                                         h.has_test) for name, h in saved.items()}
    comparison.replace(SHARED, runs, saved=forged)
    while comparison.restoring:
        comparison.step(restoring_only=True)
    assert [run.restored for run in comparison] == [False, False]


def test_undo_after_a_restart_brings_back_a_run_whose_settings_match_its_trainer():
    comparison = Comparison(SHARED, RUNS[:1])
    run_id = comparison.ids()[0]
    comparison.step()
    checkpoint = comparison.checkpoint()
    assert comparison.edit(run_id, RUNS[0].replace(batch_size=8)) == RESTART_RUN
    comparison.restore(checkpoint)
    run = comparison[run_id]
    assert run.epoch == 1 and run.spec.batch_size == run.trainer.config.batch_size == RUNS[0].batch_size


def test_a_retrain_ends_when_a_run_finishes_before_its_saved_epochs():
    runs = [RUNS[0].replace(epochs=4)]
    first = Comparison(SHARED, runs)
    first.run_to_end()
    comparison = Comparison(SHARED)
    comparison.replace(SHARED, [runs[0].replace(epochs=2)], saved=first.histories())
    for _ in range(10):
        if not comparison.restoring:
            break
        comparison.step(restoring_only=True)
    assert not comparison.restoring and [run.restored for run in comparison] == [False]


def test_an_error_inside_an_epoch_leaves_the_trainer_usable():
    from nnviz.core.training import NumpyEngine

    class Flaky(NumpyEngine):
        fail = True

        def train_epoch(self, *args):
            if Flaky.fail:
                raise MemoryError("boom")
            super().train_epoch(*args)

    comparison = Comparison(SHARED, RUNS[:1], engine=Flaky())
    with pytest.raises(MemoryError):
        comparison.step()
    Flaky.fail = False
    comparison.step()
    assert [run.epoch for run in comparison] == [1]


@pytest.mark.parametrize("base, taken, expected", [
    ("z" * 60, ["z" * 60], "z" * 56 + " (2)"),  # the suffix always fits: this looped for ever
    ("z" * 56 + " (2)", ["z" * 60, "z" * 56 + " (2)"], "z" * 56 + " (3)"),
    ("momentum (2)", ["momentum", "momentum (2)"], "momentum (3)"),  # not "momentum (2) (2)"
    ("sgd", ["mini-batch"], "sgd"),
])
def test_a_copy_gets_a_free_name_of_at_most_60_characters(base, taken, expected):
    from nnviz.core.specs import unique_name

    name = unique_name(base, taken)
    assert name == expected and len(name) <= 60 and name not in taken
    comparison = Comparison(SHARED, [RUNS[0].replace(name=n) for n in taken])
    assert comparison.unique_name(base) == expected
