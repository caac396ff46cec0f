"""Parameter snapshots by epoch at a bounded memory cost, for scrubbing back through a run."""

from __future__ import annotations

import bisect

import numpy as np

SNAPSHOT_CAPACITY = 2048  # snapshots per run before thinning: all of the notebook's 2,000 mini-batch epochs
SNAPSHOT_MAX_BYTES = 32 * 2**20  # per run; big networks get a smaller capacity


class SnapshotStore:
    """Parameter vectors by epoch at a bounded memory cost, for scrubbing back through a run.

    Every epoch is kept until the store holds ``capacity`` snapshots; then every second
    one is dropped and from then on only every 2nd epoch is kept, then every 4th, and
    so on (the stride doubles each time the store fills up). Epoch 0 and the latest
    snapshot are always kept. ``capacity`` shrinks for big networks so that the store
    never holds more than about ``max_bytes``.
    """

    def __init__(self, capacity: int = SNAPSHOT_CAPACITY, max_bytes: int = SNAPSHOT_MAX_BYTES):
        if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)) or capacity < 2:
            raise ValueError(f"capacity={capacity!r}: must be an integer ≥ 2")
        self.requested_capacity = int(capacity)
        self.capacity = int(capacity)  # maximum number of strided snapshots, fixed at the first add
        self.max_bytes = int(max_bytes)
        self.stride = 1  # epochs between kept snapshots
        self._epochs: list[int] = []  # sorted, multiples of stride
        self._params: list[np.ndarray] = []
        self._latest: tuple[int, np.ndarray] | None = None  # the newest snapshot when it is off the stride
        self._nbytes = 0  # bytes of every array held, kept up to date by add()

    def __len__(self) -> int:
        return len(self._epochs) + (self._latest is not None)

    @property
    def epochs(self) -> list[int]:
        """Epochs held, in increasing order."""
        return self._epochs + ([self._latest[0]] if self._latest else [])

    @property
    def last_epoch(self) -> int | None:
        """The newest epoch held, None when empty (O(1): add() asks on every epoch)."""
        if self._latest is not None:
            return self._latest[0]
        return self._epochs[-1] if self._epochs else None

    @property
    def nbytes(self) -> int:
        """Bytes held by the parameter vectors (O(1))."""
        return self._nbytes

    def clear(self) -> None:
        self.__init__(self.requested_capacity, self.max_bytes)

    def add(self, epoch: int, params: np.ndarray) -> None:
        """Keep the parameters after ``epoch``; epochs must increase from one call to the next."""
        last = self.last_epoch
        if last is not None and epoch <= last:
            raise ValueError(f"epoch={epoch}: must be after the last snapshot's epoch {last}")
        if params.flags.writeable or params.base is not None:
            params = params.copy()
            params.flags.writeable = False
        if not self._epochs:
            self.capacity = max(2, min(self.requested_capacity, self.max_bytes // max(params.nbytes, 1)))
        if self._latest is not None:
            self._nbytes -= self._latest[1].nbytes
        self._latest = None
        self._nbytes += params.nbytes
        if epoch % self.stride:
            self._latest = (epoch, params)
            return
        self._epochs.append(epoch)
        self._params.append(params)
        if len(self._epochs) > self.capacity:
            while len(self._epochs) > self.capacity:
                self.stride *= 2
                keep = [i for i, e in enumerate(self._epochs) if e % self.stride == 0 or i == 0]
                self._epochs = [self._epochs[i] for i in keep]
                self._params = [self._params[i] for i in keep]
            # Thinned (rarely: when the store fills up): count again, params included as the latest.
            self._nbytes = sum(p.nbytes for p in self._params) + (params.nbytes if self._epochs[-1] != epoch else 0)
        if self._epochs[-1] != epoch:
            self._latest = (epoch, params)

    def nearest(self, epoch: int) -> tuple[int, np.ndarray] | None:
        """``(stored_epoch, params)`` of the newest snapshot at or before ``epoch``; None if there is none."""
        if self._latest is not None and self._latest[0] <= epoch:
            return self._latest
        i = bisect.bisect_right(self._epochs, epoch) - 1
        if i < 0:
            return None
        return self._epochs[i], self._params[i]
