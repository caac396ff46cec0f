"""Where a History's rows live, and what its readers read from (see ``nnviz.core.history`` for the design).

- Written chunks: a column of an older chunk is kept as (first, step) when it is an arithmetic
  progression (``_Affine``), else written to the anonymous spill file (``_OnDisk``, by ``SpillFile``), or
  kept in RAM when the file cannot be written (``_InRam``).
- ``SummaryPyramid``: for blocks of LEVELS rows, the min and max of each plotted column and the first value
  of each x column, for drawing and look-ups without reading every row.
- ``Snapshot``: consistent references to all of it, taken under the History's lock; it reads rows, finds
  an x, and decimates curves.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEVELS = (64, 256, 1024, 4096, 16384)  # rows per summary block; each level is 4 blocks of the one before
_RAW_BINS = 4  # decimated() returns the rows themselves when there are at most this many per bin


@dataclass(frozen=True)
class _Affine:
    """A chunk's column that is first + step * i (bit-exact, in the column's dtype)."""

    first: np.generic
    step: np.generic

    def read(self, a: int, b: int, dtype) -> np.ndarray:
        if dtype == np.float64:  # constant floats only: step is 0
            return np.full(b - a, self.first, dtype=np.float64)
        with np.errstate(over="ignore"):
            return self.first + self.step * np.arange(a, b, dtype=np.int64)


@dataclass(frozen=True)
class _OnDisk:
    """A chunk's column written to the History's file at ``offset``."""

    fd: int
    offset: int

    def read(self, a: int, b: int, dtype) -> np.ndarray:
        size = (b - a) * 8
        data = os.pread(self.fd, size, self.offset + 8 * a)
        if len(data) != size:
            raise OSError(f"history file: read {len(data)} of {size} bytes")
        return np.frombuffer(data, dtype=dtype)


@dataclass(frozen=True)
class _InRam:
    """A chunk's column kept in RAM (the file could not be written)."""

    values: np.ndarray

    def read(self, a: int, b: int, dtype) -> np.ndarray:
        return self.values[a:b]


class SpillFile:
    """The anonymous temporary file older rows go to (opened at the first write, gone with this object)."""

    def __init__(self):
        self._file = None
        self._end = 0
        self._failed = False

    def store(self, values: np.ndarray) -> _Affine | _OnDisk | _InRam:
        """How one column of a written chunk is kept: as (first, step), in the file, or (no file) in RAM."""
        bits = values.view(np.int64)
        if np.all(bits == bits[0]):
            return _Affine(values[0], values.dtype.type(0))
        if values.dtype == np.int64:
            with np.errstate(over="ignore"):
                step = values[1] - values[0]
                if np.array_equal(values, values[0] + step * np.arange(len(values), dtype=np.int64)):
                    return _Affine(values[0], step)
        if not self._failed:
            try:
                if self._file is None:
                    self._file = tempfile.TemporaryFile(prefix="nnviz-history-")
                data = memoryview(np.ascontiguousarray(values)).cast("B")
                written = 0
                while written < len(data):
                    written += os.pwrite(self._file.fileno(), data[written:], self._end + written)
                offset = self._end
                self._end += len(data)
                return _OnDisk(self._file.fileno(), offset)
            except OSError:
                self._failed = True  # e.g. a full disk: keep the rows in RAM from now on
        return _InRam(values.copy())


class SummaryPyramid:
    """Per-block summaries of a History's rows, one table per level of LEVELS.

    A table has one column per block and rows [min of each y..., max of each y..., first of each x...].
    A table that grows is swapped under ``lock``, the History's, so a snapshot's tables stay whole.
    """

    def __init__(self, y_names: tuple[str, ...], x_names: tuple[str, ...], lock: threading.Lock):
        self.y_names = y_names
        self.x_names = x_names
        self._lock = lock
        self.tables = tuple(np.empty((2 * len(y_names) + len(x_names), 16)) for _ in LEVELS)

    def summarise(self, old_n: int, new_n: int, rows: Callable[[str, int, int], np.ndarray]) -> None:
        """Fill the blocks that rows old_n..new_n complete; ``rows(name, a, b)`` reads rows a..b from RAM."""
        previous = None
        for level, size in enumerate(LEVELS):
            first, last = old_n // size, new_n // size
            if last > first:
                table = self.tables[level]
                if last > table.shape[1]:
                    grown = np.empty((table.shape[0], max(last, table.shape[1] * 5 // 4)))
                    grown[:, : table.shape[1]] = table
                    with self._lock:
                        self.tables = self.tables[:level] + (grown,) + self.tables[level + 1 :]
                    table = grown
                table[:, first:last] = self._blocks(level, first, last, previous, rows)
            previous = size

    def _blocks(self, level: int, first: int, last: int, previous: int | None, rows) -> np.ndarray:
        """Summaries of blocks first..last of a level."""
        size, ny = LEVELS[level], len(self.y_names)
        out = np.empty((2 * ny + len(self.x_names), last - first))
        if previous is None:  # from the rows, all in RAM (blocks complete before they are spilled)
            a, b = first * size, last * size
            for j, name in enumerate(self.y_names):
                values = rows(name, a, b).reshape(-1, size)
                out[j] = np.fmin.reduce(values, axis=1)
                out[ny + j] = np.fmax.reduce(values, axis=1)
            for j, name in enumerate(self.x_names):
                out[2 * ny + j] = rows(name, a, b)[::size]
        else:
            factor = size // previous
            finer = self.tables[level - 1][:, first * factor : last * factor].reshape(-1, last - first, factor)
            out[:ny] = np.fmin.reduce(finer[:ny], axis=2)
            out[ny : 2 * ny] = np.fmax.reduce(finer[ny : 2 * ny], axis=2)
            out[2 * ny :] = finer[2 * ny :, :, 0]
        return out


@dataclass(frozen=True)
class Snapshot:
    """What a reader uses: consistent references taken under the History's lock."""

    n: int  # rows published
    start: int  # first row held in RAM
    ram: dict  # name -> buffer; row start + i at index i
    chunks: tuple  # per written chunk: name -> _Affine | _OnDisk | _InRam
    levels: tuple  # per level: ndarray of shape (2 * len(y_names) + len(x_names), blocks), float64
    chunk_rows: int  # rows of a written chunk
    y_names: tuple  # the summarised y columns, in the order of the levels' rows
    x_names: tuple  # the x columns, in the order of the levels' rows

    def read(self, name: str, a: int, b: int) -> np.ndarray:
        """Rows a..b of a column (a view when they are all in RAM)."""
        if a >= self.start or b <= a:
            return self.ram[name][a - self.start : b - self.start]
        dtype, k = self.ram[name].dtype, self.chunk_rows
        parts = []
        row = a
        while row < min(b, self.start):
            c = row // k
            end = min(b, (c + 1) * k)
            parts.append(self.chunks[c][name].read(row - c * k, end - c * k, dtype))
            row = end
        if b > self.start:
            parts.append(self.ram[name][: b - self.start])
        return np.concatenate(parts) if len(parts) > 1 else np.array(parts[0])

    def find(self, name: str, value: float, side: str) -> int:
        """numpy.searchsorted of an x column, from the first value of each block: O(log n)."""
        size = LEVELS[0]
        blocks = self.n // size
        firsts = self.levels[0][2 * len(self.y_names) + self.x_names.index(name), :blocks]
        b = int(np.searchsorted(firsts, value, side))  # blocks before b start at or before the answer
        lo = max(b - 1, 0) * size
        hi = self.n if b >= blocks else b * size
        return lo + int(np.searchsorted(self.read(name, lo, hi), value, side))

    def decimated(self, x_name: str, y_names: tuple[str, ...], x_min: float, x_max: float,
                  n_bins: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``History.decimated_columns`` for checked names and ``n_bins`` ≥ 1."""
        if self.n == 0 or not x_max >= x_min:
            return np.empty(0), {y_name: np.empty(0) for y_name in y_names}
        i0 = max(self.find(x_name, x_min, "left") - 1, 0)
        i1 = min(self.find(x_name, x_max, "right") + 1, self.n)
        count = i1 - i0
        if count <= _RAW_BINS * n_bins:
            return (self.read(x_name, i0, i1).astype(np.float64),
                    {y_name: self.read(y_name, i0, i1).astype(np.float64) for y_name in y_names})
        edges = np.linspace(x_min, x_max, n_bins + 1)[1:-1]
        per_bin = count / n_bins
        level = max((i for i, size in enumerate(LEVELS) if 2 * size <= per_bin), default=None)
        if level is None:  # few rows a bin: bin the rows themselves
            xs = self.read(x_name, i0, i1).astype(np.float64)
            extremes = {y_name: (self.read(y_name, i0, i1),) * 2 for y_name in y_names}
            starts = np.searchsorted(xs, edges, "left")
        else:
            size, ny = LEVELS[level], len(self.y_names)
            b0, b1, complete = i0 // size, -(-i1 // size), self.n // size
            table = self.levels[level][:, b0 : min(b1, complete)]
            xs = table[2 * ny + self.x_names.index(x_name)]
            extremes = {y_name: (table[self.y_names.index(y_name)], table[ny + self.y_names.index(y_name)])
                        for y_name in y_names}
            if b1 > complete:  # the newest, incomplete block: from finer blocks and the last rows in range
                start, fine = complete * size, LEVELS[0]
                finer = self.levels[0][:, start // fine : i1 // fine]
                for y_name, (lows, highs) in extremes.items():
                    j = self.y_names.index(y_name)
                    tail = self.read(y_name, max(start, i1 // fine * fine), i1)
                    extremes[y_name] = (np.append(lows, np.fmin.reduce(np.concatenate((finer[j], tail)))),
                                        np.append(highs, np.fmax.reduce(np.concatenate((finer[ny + j], tail)))))
                xs = np.append(xs, self.read(x_name, start, start + 1))
            starts = np.searchsorted(xs, edges, "right") - 1
        starts = np.unique(np.concatenate(([0], np.clip(starts, 0, len(xs) - 1))))
        x = np.append(np.repeat(xs[starts], 2), self.read(x_name, i1 - 1, i1))
        ys = {}
        for y_name, (lows, highs) in extremes.items():
            y = np.empty(len(x))
            y[0:-1:2] = np.fmin.reduceat(lows, starts)
            y[1:-1:2] = np.fmax.reduceat(highs, starts)
            y[-1] = self.read(y_name, i1 - 1, i1)[0]
            ys[y_name] = y
        return x, ys

    @property
    def nbytes(self) -> int:
        """Bytes of RAM held by the column buffers, the summaries and chunks kept in RAM (not the file)."""
        total = sum(buffer.nbytes for buffer in self.ram.values()) + sum(t.nbytes for t in self.levels)
        return total + sum(part.values.nbytes for chunk in self.chunks for part in chunk.values()
                           if isinstance(part, _InRam))
