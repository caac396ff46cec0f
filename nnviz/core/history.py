"""History: one run's per-epoch scalars as growing columns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from nnviz.core.training import EpochRecord

HISTORY_COLUMNS = ("epoch", "cost", "accuracy", "learning_rate", "updates", "samples", "elapsed_s")
TEST_COLUMNS = ("test_cost", "test_accuracy")
INT_COLUMNS = ("epoch", "updates", "samples")


class History:
    """One run's per-epoch scalars as growing columns (parameters go to a SnapshotStore).

    Columns are those of HISTORY_COLUMNS, plus TEST_COLUMNS when ``has_test``; epoch,
    updates and samples are int64, the rest float64. ``column(name)`` returns a read-only
    view that stays valid (and unchanged) while rows are appended.
    """

    def __init__(self, has_test: bool, capacity: int = 256):
        self.has_test = bool(has_test)
        self.columns = HISTORY_COLUMNS + (TEST_COLUMNS if self.has_test else ())  # names, in CSV order
        self._data = {name: np.empty(max(capacity, 1), dtype=np.int64 if name in INT_COLUMNS else np.float64)
                      for name in self.columns}
        self._n = 0

    @classmethod
    def from_records(cls, records: Iterable[EpochRecord], has_test: bool) -> History:
        history = cls(has_test)
        for record in records:
            history.append(record)
        return history

    @classmethod
    def from_columns(cls, columns: dict[str, Iterable], has_test: bool) -> History:
        """A History from lists of equal length, one per column (extra keys are ignored)."""
        values = {name: np.asarray(list(columns[name]),
                                   dtype=np.int64 if name in INT_COLUMNS else np.float64)
                  for name in HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())}
        lengths = {len(v) for v in values.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths {sorted(lengths)}")
        history = cls(has_test, capacity=max(lengths or {1}))
        for name, column in values.items():
            history._data[name][: len(column)] = column
        history._n = lengths.pop() if lengths else 0
        return history

    def __len__(self) -> int:
        return self._n

    def append(self, record: EpochRecord) -> None:
        """Add the row of one epoch record."""
        if self.has_test and record.test_cost is None:
            raise ValueError(f"epoch {record.epoch}: the record has no test values but the history keeps them")
        if self._n == len(self._data["epoch"]):
            for name, column in self._data.items():
                grown = np.empty(2 * len(column), dtype=column.dtype)
                grown[: self._n] = column[: self._n]
                self._data[name] = grown
        for name in self.columns:
            self._data[name][self._n] = getattr(record, name)
        self._n += 1

    def column(self, name: str) -> np.ndarray:
        """ndarray of shape (len(self),), read-only."""
        view = self._data[name][: self._n]
        view.flags.writeable = False
        return view

    def row(self, index: int) -> dict:
        """One epoch's values as a dict of Python numbers."""
        return {name: self._data[name][: self._n][index].item() for name in self.columns}

    def rows(self) -> Iterator[dict]:
        for i in range(self._n):
            yield self.row(i)

    def to_columns(self) -> dict[str, list]:
        """Every column as a list of Python ints or floats (JSON-friendly, exact)."""
        return {name: self._data[name][: self._n].tolist() for name in self.columns}

    def __eq__(self, other) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.has_test == other.has_test and self.to_columns() == other.to_columns()

    def __repr__(self) -> str:
        return f"History({self._n} rows, has_test={self.has_test})"
