"""History: one run's per-epoch scalars as columns, in bounded memory, readable while it grows.

Memory. The settings allow 10,000,000 epochs a run and the window holds several runs; at 8 bytes a value
(7 or 9 columns) that would be 56-72 bytes a run an epoch, 2.9 GB for 4 runs. So a History keeps only its
newest rows in RAM (at most ``ram_rows``, default 2**18, in one contiguous buffer per column) and writes
older rows, ``ram_rows // 2`` at a time, to an anonymous temporary file (``tempfile.TemporaryFile`` in
$TMPDIR: it has no name and goes when the History is freed, even after a crash). In a written chunk a
column that is an arithmetic progression (epoch; updates and samples at a fixed batch size; a constant
learning rate) is kept as (first, step) and not written. Every value stays exact: a column read back has
the very bits appended, so the CSV written from it is byte-identical. If the file cannot be written (a
full disk), the chunk simply stays in RAM: nothing is lost.

For drawing, a pyramid of per-block summaries stays in RAM: for blocks of 64, 256, 1024, 4096 and 16384
rows, the min and max of each plotted column (Y_COLUMNS) and the first value of each x column (X_COLUMNS),
about 2.3 bytes a row. ``decimated`` answers "min and max per bin of a curve over an x range" from it in
O(n_bins + log n) (2 to 8 blocks a bin), never reading the 10^7 rows.

Measured with ``python benchmarks/bench_curves.py --memory`` (9 columns, with test values; RAM = the
column buffers plus the summaries, ``History.nbytes``, equal to what tracemalloc traces): 10^6 rows
20.7 MB (21.7 bytes a row, against 72 as plain columns), 10^7 rows 42.8 MB (4.5 bytes a row, against
72); the rest is in the file. So ``column()`` and ``to_columns()`` of a run longer than ``ram_rows`` copy
from the file (O(n)): per frame, read with ``last``, ``value``, ``slice``, ``arrays(start=-k)``,
``searchsorted`` or ``decimated`` instead, and write long histories out through ``blocks()``.

Threads. One writer thread appends while other threads read. The writer fills a row past the published
length and publishes the new length last; whatever moves buffers (growth, a spill) swaps them under a
lock that readers take to take a snapshot. So a reader sees whole rows only, and all columns of a
snapshot have the same length. Only one thread may append.

The storage itself (written chunks, the spill file, the summary pyramid, and the snapshot that readers
read from) is in ``nnviz.core.history_store``; this module keeps the columns' API and the writing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from nnviz.core.history_store import LEVELS, Snapshot, SpillFile, SummaryPyramid
from nnviz.core.training import EpochRecord

HISTORY_COLUMNS = ("epoch", "cost", "accuracy", "learning_rate", "updates", "samples", "elapsed_s")
TEST_COLUMNS = ("test_cost", "test_accuracy")
INT_COLUMNS = ("epoch", "updates", "samples")
X_COLUMNS = ("epoch", "updates", "samples", "elapsed_s")  # non-decreasing within a run: usable as an x axis
Y_COLUMNS = ("cost", "accuracy", "learning_rate", "test_cost", "test_accuracy")  # what the curves plot

RAM_ROWS = 2**18  # newest rows kept in RAM per run (18.9 MB at 9 columns); older ones go to a file


def read_only(values) -> np.ndarray:
    """A read-only float64 copy of ``values`` (a list or an array): per-epoch values handed out, never changed."""
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


def _dtype(name: str):
    return np.int64 if name in INT_COLUMNS else np.float64


class History:
    """One run's per-epoch scalars as growing columns (parameters go to a SnapshotStore).

    Columns are those of HISTORY_COLUMNS, plus TEST_COLUMNS when ``has_test``; epoch, updates and
    samples are int64, the rest float64. ``column(name)`` returns a read-only array that stays valid
    (and unchanged) while rows are appended: a view while every row is in RAM, else a copy.
    """

    def __init__(self, has_test: bool, capacity: int = 256, ram_rows: int = RAM_ROWS):
        if ram_rows < 2 * LEVELS[0] or ram_rows % (2 * LEVELS[0]):
            raise ValueError(f"ram_rows={ram_rows}: must be a multiple of {2 * LEVELS[0]}")
        self.has_test = bool(has_test)
        self.columns = HISTORY_COLUMNS + (TEST_COLUMNS if self.has_test else ())  # names, in CSV order
        self._y = tuple(name for name in Y_COLUMNS if name in self.columns)  # summarised for drawing
        self._ram_rows = ram_rows
        self._chunk_rows = ram_rows // 2  # rows written to the file at a time
        self._lock = threading.Lock()  # taken by whatever swaps buffers, and by readers to snapshot
        self._n = 0  # rows published: rows below it are complete in every column
        self._start = 0
        capacity = min(max(int(capacity), 1), ram_rows)
        self._ram = {name: np.empty(capacity, dtype=_dtype(name)) for name in self.columns}
        self._chunks: tuple = ()  # per written chunk: name -> how that column is kept (history_store)
        self._pyramid = SummaryPyramid(self._y, X_COLUMNS, self._lock)  # per-block min, max and first x
        self._file = SpillFile()  # the anonymous spill file, opened at the first spill

    @classmethod
    def from_records(cls, records: Iterable[EpochRecord], has_test: bool) -> History:
        history = cls(has_test)
        for record in records:
            history.append(record)
        return history

    @classmethod
    def from_columns(cls, columns: Mapping[str, Iterable], has_test: bool) -> History:
        """A History from sequences of equal length, one per column (extra keys are ignored)."""
        names = HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())
        values = {name: np.asarray(list(columns[name]), dtype=_dtype(name)) for name in names}
        lengths = {len(v) for v in values.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths {sorted(lengths)}")
        history = cls(has_test, capacity=max(lengths or {1}))
        history.append_columns(values)
        return history

    def __len__(self) -> int:
        return self._n

    # ---- writing (one thread) ------------------------------------------------------------------

    def append(self, record: EpochRecord) -> None:
        """Add the row of one epoch record."""
        if self.has_test and record.test_cost is None:
            raise ValueError(f"epoch {record.epoch}: the record has no test values but the history keeps them")
        n = self._n
        if n - self._start == len(self._ram["epoch"]):
            self._make_room(1)
        i = n - self._start
        ram = self._ram
        for name in self.columns:
            ram[name][i] = getattr(record, name)
        if (n + 1) % LEVELS[0] == 0:
            self._pyramid.summarise(n, n + 1, self._ram_rows_at)
        self._n = n + 1  # published last: readers never see a part-written row

    def append_columns(self, columns: Mapping[str, Iterable]) -> None:
        """Add rows given as whole columns (every name of ``columns``; extra keys are ignored).

        Raises ValueError, naming the column, for columns of unequal length or ints that are not whole.
        """
        values = {}
        for name in self.columns:
            if name not in columns:
                raise ValueError(f"{name}: missing column (need {', '.join(self.columns)})")
            raw = np.asarray(columns[name])
            value = raw.astype(_dtype(name), copy=False)
            if name in INT_COLUMNS and raw.dtype.kind not in "iub" and not np.array_equal(value, raw):
                raise ValueError(f"{name}: must hold whole numbers")
            if value.ndim != 1:
                raise ValueError(f"{name}: expected one value per row, got shape {value.shape}")
            values[name] = value
        lengths = {len(v) for v in values.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths {sorted(lengths)}")
        total, done = lengths.pop(), 0
        while done < total:
            n = self._n
            room = self._make_room(total - done)
            m = min(room, total - done)
            i = n - self._start
            for name, value in values.items():
                self._ram[name][i : i + m] = value[done : done + m]
            self._pyramid.summarise(n, n + m, self._ram_rows_at)
            self._n = n + m
            done += m

    def _make_room(self, rows: int) -> int:
        """Grow or spill so that at least one more row fits in RAM; returns how many fit."""
        held = self._n - self._start
        capacity = len(self._ram["epoch"])
        if held + rows <= capacity:
            return capacity - held
        if capacity < self._ram_rows:
            size = min(self._ram_rows, max(2 * capacity, held + rows))
            ram = {}
            for name, buffer in self._ram.items():
                ram[name] = np.empty(size, dtype=buffer.dtype)
                ram[name][:held] = buffer[:held]
            with self._lock:
                self._ram = ram
            return size - held
        if held < capacity:
            return capacity - held
        self._spill()
        return len(self._ram["epoch"]) - (self._n - self._start)

    def _spill(self) -> None:
        """Move the oldest chunk_rows rows held in RAM to the file (or keep them, if it fails)."""
        k = self._chunk_rows
        chunk = {name: self._file.store(buffer[:k]) for name, buffer in self._ram.items()}
        held = self._n - self._start
        ram = {}
        for name, buffer in self._ram.items():
            ram[name] = np.empty(len(buffer), dtype=buffer.dtype)  # a new buffer: views given out stay unchanged
            ram[name][: held - k] = buffer[k:held]
        with self._lock:
            self._chunks = self._chunks + (chunk,)
            self._ram = ram
            self._start += k

    def _ram_rows_at(self, name: str, a: int, b: int) -> np.ndarray:
        """Rows a..b of a column, all held in RAM (what the pyramid summarises)."""
        return self._ram[name][a - self._start : b - self._start]

    # ---- reading (any thread) ------------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self._n, self._start, self._ram, self._chunks, self._pyramid.tables,
                            self._chunk_rows, self._y, X_COLUMNS)

    def _check(self, name: str) -> None:
        if name not in self.columns:
            raise KeyError(f"{name!r}: no such column (have {', '.join(self.columns)})")

    def column(self, name: str) -> np.ndarray:
        """ndarray of shape (len(self),), read-only."""
        self._check(name)
        snap = self._snapshot()
        view = snap.read(name, 0, snap.n)
        view.flags.writeable = False
        return view

    def arrays(self, names: Iterable[str] | None = None, start: int = 0,
               stop: int | None = None) -> dict[str, np.ndarray]:
        """Rows start..stop (default all; negative counts from the end) of several columns (default all)
        as read-only arrays of one length, from one consistent snapshot."""
        names = self.columns if names is None else tuple(names)
        for name in names:
            self._check(name)
        snap = self._snapshot()
        start, stop, _ = slice(start, stop).indices(snap.n)
        out = {name: snap.read(name, start, max(start, stop)) for name in names}
        for view in out.values():
            view.flags.writeable = False
        return out

    def slice(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows start..stop of a column (clipped to the rows held), read-only; cheap for a few rows."""
        self._check(name)
        snap = self._snapshot()
        start, stop = max(0, min(start, snap.n)), max(0, min(stop, snap.n))
        view = snap.read(name, start, max(start, stop))
        view.flags.writeable = False
        return view

    def value(self, name: str, index: int):
        """One value as a Python number (negative indices count from the end)."""
        self._check(name)
        snap = self._snapshot()
        i = index + snap.n if index < 0 else index
        if not 0 <= i < snap.n:
            raise IndexError(f"row {index}: the history has {snap.n} rows")
        return snap.read(name, i, i + 1)[0].item()

    def last(self, name: str):
        """The newest value of a column as a Python number, None when empty."""
        return self.value(name, -1) if self._n else None

    def row(self, index: int) -> dict:
        """One epoch's values as a dict of Python numbers."""
        snap = self._snapshot()
        i = index + snap.n if index < 0 else index
        if not 0 <= i < snap.n:
            raise IndexError(f"row {index}: the history has {snap.n} rows")
        return {name: snap.read(name, i, i + 1)[0].item() for name in self.columns}

    def rows(self) -> Iterator[dict]:
        for block in self.blocks():
            values = [block[name].tolist() for name in self.columns]
            for row in zip(*values, strict=True):
                yield dict(zip(self.columns, row, strict=True))

    def blocks(self, rows: int = 65536) -> Iterator[dict[str, np.ndarray]]:
        """The rows held now, ``rows`` at a time: dicts of column arrays (for writers of long histories)."""
        snap = self._snapshot()
        for a in range(0, snap.n, rows):
            b = min(a + rows, snap.n)
            yield {name: snap.read(name, a, b) for name in self.columns}

    def to_columns(self) -> dict[str, list]:
        """Every column as a list of Python ints or floats (JSON-friendly, exact)."""
        snap = self._snapshot()
        return {name: snap.read(name, 0, snap.n).tolist() for name in self.columns}

    def searchsorted(self, name: str, value: float, side: str = "left") -> int:
        """Where ``value`` goes in an x column (X_COLUMNS, non-decreasing), as numpy.searchsorted: O(log n)."""
        if name not in X_COLUMNS:
            raise ValueError(f"{name!r}: not an x column ({', '.join(X_COLUMNS)})")
        return self._snapshot().find(name, value, side)

    def decimated(self, x_name: str, y_name: str, x_min: float, x_max: float,
                  n_bins: int) -> tuple[np.ndarray, np.ndarray]:
        """A curve to draw over x_min..x_max at ``n_bins`` bins (e.g. one per pixel column).

        Returns ``(x, y)`` float64 arrays. With at most 4 rows a bin in range, the rows themselves (plus one
        on each side, so the line reaches the edges). Otherwise for each bin, in order, two points
        ``(x_k, min_k), (x_k, max_k)``: the min and max of ``y_name`` over the bin's rows, ``x_k`` the x of
        the bin's first row; then the last row in range. Bins are runs of whole rows, cut near the
        ``n_bins`` equal steps of x; no extreme is lost. O(n_bins + log n) from the summary blocks.
        """
        x, ys = self.decimated_columns(x_name, (y_name,), x_min, x_max, n_bins)
        return x, ys[y_name]

    def decimated_columns(self, x_name: str, y_names: Iterable[str], x_min: float, x_max: float,
                          n_bins: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``decimated`` for several y columns over the same bins, from one snapshot: (x, {y_name: y})."""
        y_names = tuple(y_names)
        if x_name not in X_COLUMNS:
            raise ValueError(f"x_name={x_name!r}: not an x column ({', '.join(X_COLUMNS)})")
        for y_name in y_names:
            if y_name not in self._y:
                raise ValueError(f"y_name={y_name!r}: not a plotted column of this history ({', '.join(self._y)})")
        return self._snapshot().decimated(x_name, y_names, x_min, x_max, max(int(n_bins), 1))

    @property
    def nbytes(self) -> int:
        """Bytes of RAM held by the columns and the drawing summaries (not the file)."""
        return self._snapshot().nbytes

    def __eq__(self, other) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        if self.has_test != other.has_test or len(self) != len(other):
            return False
        return all(np.array_equal(mine[name], theirs[name])
                   for mine, theirs in zip(self.blocks(), other.blocks(), strict=False) for name in self.columns)

    __hash__ = None

    def __repr__(self) -> str:
        return f"History({self._n} rows, has_test={self.has_test})"
