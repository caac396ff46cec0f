"""History: exact values, bounded RAM, one writer with readers, and peak-preserving decimation."""

import errno
import sys
import threading
import tracemalloc

import numpy as np
import pytest

from nnviz.core import history_store as history_module  # where the spill file is opened
from nnviz.core.history import HISTORY_COLUMNS, TEST_COLUMNS, History
from nnviz.core.training import EpochRecord

SMALL = 8192  # ram_rows small enough that a test spills many chunks to the file


def _columns(n, seed=0, start=0, has_test=True):
    """Columns as a run could hold them, with awkward floats: -0.0, subnormals, huge and tiny values."""
    rng = np.random.default_rng(seed)
    cost = rng.lognormal(size=n)
    cost[:: 97] = -0.0
    cost[1:: 101] = 5e-324
    cost[2:: 103] = 1.7976931348623157e308
    columns = {
        "epoch": np.arange(start, start + n, dtype=np.int64),
        "cost": cost,
        "accuracy": rng.integers(0, 1000, n) / 1000,
        "learning_rate": np.where(np.arange(n) < n // 2, 0.3, rng.random(n)),  # constant, then not
        "updates": np.cumsum(rng.integers(1, 5, n)),  # not a progression
        "samples": 1000 * np.arange(start, start + n, dtype=np.int64),  # a progression
        "elapsed_s": np.cumsum(rng.random(n) * 1e-3),
    }
    if has_test:
        columns["test_cost"] = rng.random(n) * 3
        columns["test_accuracy"] = np.full(n, 0.5)
    return columns


def _record(columns, i):
    values = {name: columns[name][i].item() for name in columns}
    return EpochRecord(params=np.zeros(1), **values)


def _csv(history):
    data = history.to_columns()
    return "\n".join(",".join(map(repr, row)) for row in zip(*(data[c] for c in history.columns), strict=True))


@pytest.mark.parametrize("has_test", [True, False])
def test_every_value_reads_back_exactly_after_spilling(has_test):
    n = 5 * SMALL + 123
    columns = _columns(n, has_test=has_test)
    bulk = History(has_test, ram_rows=SMALL)
    for start in range(0, n, 3001):  # uneven batches that straddle chunk borders
        bulk.append_columns({name: values[start : start + 3001] for name, values in columns.items()})
    one_by_one = History(has_test, ram_rows=SMALL)
    for i in range(n):
        one_by_one.append(_record(columns, i))
    plain = {name: values.tolist() for name, values in columns.items()}
    names = HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())
    for history in (bulk, one_by_one):
        assert len(history) == n and history.columns == names
        assert history.to_columns() == plain
        for name in names:
            column = history.column(name)
            assert column.dtype == (np.int64 if name in ("epoch", "updates", "samples") else np.float64)
            assert not column.flags.writeable
            np.testing.assert_array_equal(column.view(np.int64), columns[name].view(np.int64))  # the very bits
            np.testing.assert_array_equal(history.slice(name, 3 * SMALL - 5, 3 * SMALL + 5),
                                          columns[name][3 * SMALL - 5 : 3 * SMALL + 5])
        assert history.row(SMALL + 7) == {name: plain[name][SMALL + 7] for name in names}
        assert history.row(-1) == {name: plain[name][-1] for name in names}
        assert history.value("cost", 2 * SMALL + 1) == plain["cost"][2 * SMALL + 1]
        assert history.last("elapsed_s") == plain["elapsed_s"][-1]
        assert list(history.rows())[SMALL] == history.row(SMALL)
    assert bulk == one_by_one and _csv(bulk) == _csv(one_by_one)
    assert History.from_columns(plain, has_test) == bulk
    assert 0 < bulk.nbytes < 2 * SMALL * 8 * len(names) + 200_000  # the rest went to the file


def test_a_history_with_a_plain_list_of_rows_written_in_any_order_of_calls():
    columns = _columns(3 * SMALL, seed=3)
    history = History(True, capacity=1, ram_rows=SMALL)
    i = 0
    rng = np.random.default_rng(5)
    while i < 3 * SMALL:
        if rng.random() < 0.5:
            history.append(_record(columns, i))
            i += 1
        else:
            k = int(rng.integers(0, 2000))
            history.append_columns({name: values[i : i + k] for name, values in columns.items()})
            i = min(i + k, 3 * SMALL)
    assert history.to_columns() == {name: values.tolist() for name, values in columns.items()}


def test_a_full_disk_keeps_the_rows_in_ram(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(history_module.tempfile, "TemporaryFile", full)
    columns = _columns(4 * SMALL, seed=2)
    history = History(True, ram_rows=SMALL)
    history.append_columns(columns)
    assert history.to_columns() == {name: values.tolist() for name, values in columns.items()}
    assert history.nbytes > 4 * SMALL * 8 * 5  # nothing lost: the random columns stayed in RAM


def test_bad_columns_name_the_field():
    history = History(False)
    columns = _columns(10, has_test=False)
    with pytest.raises(ValueError, match="unequal lengths"):
        history.append_columns({**columns, "cost": columns["cost"][:3]})
    with pytest.raises(ValueError, match="cost: missing column"):
        history.append_columns({k: v for k, v in columns.items() if k != "cost"})
    with pytest.raises(ValueError, match="updates: must hold whole numbers"):
        history.append_columns({**columns, "updates": columns["updates"] + 0.5})
    with pytest.raises(ValueError, match="ram_rows"):
        History(False, ram_rows=1000)
    assert len(history) == 0


def test_memory_stays_bounded_at_five_million_rows():
    """RAM of a 5,000,000-epoch run with test values: under 40 MB (it would be 360 MB as plain columns)."""
    cap = 40 * 2**20
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        history = History(True)
        batch = 100_000
        for start in range(0, 5_000_000, batch):
            history.append_columns(_columns(batch, seed=start, start=start))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(history) == 5_000_000 and history.last("epoch") == 4_999_999
    assert history.nbytes < cap and held < cap
    assert history.value("cost", 1_234_567) == _columns(batch, seed=1_200_000, start=1_200_000)["cost"][34_567]


def test_readers_see_only_whole_rows_while_a_thread_appends():
    total = 1_000_000
    history = History(True, ram_rows=2**14)
    failures, snapshots = [], []
    done = threading.Event()

    def write():
        rng = np.random.default_rng(1)
        i = 0
        while i < total:
            k = int(rng.integers(1, 600))
            k = min(k, total - i)
            epochs = np.arange(i, i + k)
            history.append_columns({"epoch": epochs, "cost": epochs * 0.5, "accuracy": epochs % 1000 / 1000,
                                    "learning_rate": np.full(k, 0.1), "updates": 3 * epochs, "samples": 7 * epochs,
                                    "elapsed_s": epochs * 1e-3, "test_cost": epochs * 0.25,
                                    "test_accuracy": np.full(k, 0.5)})
            i += k
        done.set()

    def read():
        while not done.is_set() or len(snapshots) < 3:
            whole = len(snapshots) % 50 == 0
            data = history.arrays() if whole else history.arrays(start=-700)  # the newest rows, mostly
            n = len(data["epoch"])
            first = 0 if whole or not n else int(data["epoch"][0])
            snapshots.append(first + n)
            epoch = np.asarray(data["epoch"])
            if any(len(values) != n for values in data.values()):
                failures.append(f"unequal lengths at {n}")
            elif not (np.array_equal(epoch, np.arange(first, first + n)) and np.array_equal(data["cost"], epoch * 0.5)
                      and np.array_equal(data["test_cost"], epoch * 0.25)
                      and np.array_equal(data["samples"], 7 * epoch)):
                failures.append(f"a part-written row in a snapshot of {n} rows")
            n += first
            if n and whole:
                x, y = history.decimated("epoch", "cost", 0, n, 100)
                if not (len(x) and y.max() >= (n - 1) * 0.5 and y.min() == 0.0):
                    failures.append(f"decimated curve of {n} rows misses its ends")
            if done.is_set() and n == total:
                break

    writer, reader = threading.Thread(target=write), threading.Thread(target=read)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a torn row gets its chance
    try:
        reader.start()
        writer.start()
        writer.join(120)
        reader.join(120)
    finally:
        sys.setswitchinterval(interval)
    assert not failures, failures[:5]
    assert len(history) == total and len(snapshots) >= 3 and len(set(snapshots)) >= 3
    np.testing.assert_array_equal(history.column("updates"), 3 * np.arange(total))


def _bins(x, y, points_x, points_y):
    """Check decimated output against the rows: each pair is the min and max of its bin's rows."""
    pairs_x, pairs = points_x[:-1].reshape(-1, 2), points_y[:-1].reshape(-1, 2)
    assert np.all(pairs_x[:, 0] == pairs_x[:, 1])
    starts = np.searchsorted(x, pairs_x[:, 0])
    assert np.array_equal(x[starts], pairs_x[:, 0])  # each bin starts at a row
    ends = np.append(starts[1:], len(x))
    for (low, high), a, b in zip(pairs, starts, ends, strict=True):
        assert low == y[a:b].min() and high == y[a:b].max()
    assert points_x[-1] == x[-1] and points_y[-1] == y[-1]


@pytest.mark.parametrize("n_bins", [7, 100, 1000])
@pytest.mark.parametrize("n", [300_000, 40_000])
def test_decimation_keeps_the_min_and_max_of_every_bin(n, n_bins):
    rng = np.random.default_rng(n + n_bins)
    columns = _columns(n, seed=n_bins)
    columns["cost"] = rng.standard_normal(n).cumsum() + 100 * (rng.random(n) < 1e-4)  # a walk with rare spikes
    columns["elapsed_s"] = np.cumsum(rng.random(n) ** 4)  # uneven in time
    history = History(True, ram_rows=2**15)
    history.append_columns(columns)
    for x_name in ("epoch", "elapsed_s"):
        x, y = columns[x_name].astype(float), columns["cost"]
        px, py = history.decimated(x_name, "cost", x[0], x[-1], n_bins)
        assert len(px) <= 2 * n_bins + 1 < n
        _bins(x, y, px, py)
        assert py.min() == y.min() and py.max() == y.max()
        # A zoomed range: every row in it lies between the min and max drawn at its bin.
        lo, hi = x[n // 3], x[n // 2]
        px, py = history.decimated(x_name, "cost", lo, hi, n_bins)
        inside = (x >= lo) & (x <= hi)
        assert px[0] <= lo and px[-1] >= hi
        assert py.min() <= y[inside].min() and py.max() >= y[inside].max()


def test_few_rows_in_range_are_returned_as_they_are():
    columns = _columns(10_000)
    history = History(True)
    history.append_columns(columns)
    x, y = history.decimated("epoch", "test_cost", 100, 200, 1000)
    np.testing.assert_array_equal(x, np.arange(99, 202))
    np.testing.assert_array_equal(y, columns["test_cost"][99:202])
    assert [len(a) for a in History(False).decimated("epoch", "cost", 0, 10, 100)] == [0, 0]
    with pytest.raises(ValueError, match="y_name='test_cost'"):
        History(False).decimated("epoch", "test_cost", 0, 1, 10)
    with pytest.raises(ValueError, match="x_name='cost'"):
        history.decimated("cost", "accuracy", 0, 1, 10)


def test_searchsorted_matches_numpy_on_every_x_column():
    columns = _columns(3 * SMALL + 77)
    history = History(True, ram_rows=SMALL)
    history.append_columns(columns)
    rng = np.random.default_rng(0)
    for name in ("epoch", "updates", "samples", "elapsed_s"):
        values = columns[name]
        probes = np.concatenate((values[rng.integers(0, len(values), 50)], [values[0] - 1, values[-1] + 1],
                                 rng.uniform(values[0], values[-1], 50)))
        for probe in probes:
            for side in ("left", "right"):
                assert history.searchsorted(name, probe, side) == np.searchsorted(values, probe, side)


def test_decimated_columns_give_each_column_its_own_extremes_over_shared_bins():
    columns = _columns(200_000, seed=9)
    history = History(True, ram_rows=2**15)
    history.append_columns(columns)
    names = ("cost", "test_cost", "learning_rate", "accuracy")
    x, ys = history.decimated_columns("epoch", names, 0, 199_999, 500)
    for name in names:
        _bins(columns["epoch"], columns[name], x, ys[name])
    for x_range, bins in (((1000, 5000), 300), ((1000, 1100), 300)):
        x, ys = history.decimated_columns("epoch", names, *x_range, bins)
        for name in names:
            alone_x, alone_y = history.decimated("epoch", name, *x_range, bins)
            np.testing.assert_array_equal(x, alone_x)
            np.testing.assert_array_equal(ys[name], alone_y)
