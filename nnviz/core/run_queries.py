"""What a comparison's runs hold, asked without changing anything: names, specs, histories, snapshots, health.

A mix-in of core.comparison.Comparison (it reads ``self.runs``, ``self.lock``, ``self.data``, ``self.layout``
and ``self.shared``), kept apart so the model's class stays readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nnviz.core.health import MEASURE_POINTS, Health, measure
from nnviz.core.specs import PALETTE, unique_name

if TYPE_CHECKING:
    from nnviz.core.comparison import Run
    from nnviz.core.history import History
    from nnviz.core.specs import RunSpec


class RunQueries:
    """Read-only questions about the runs of a Comparison."""

    def by_name(self, name: str) -> Run:
        for run in self:
            if run.spec.name == name:
                return run
        raise KeyError(name)

    def specs(self) -> list[RunSpec]:
        return [run.spec for run in self]

    def histories(self) -> dict[str, History]:
        """Each run's history by run name, in run order."""
        return {run.spec.name: run.history for run in self}

    @property
    def snapshot_nbytes(self) -> int:
        """Bytes held by every run's parameter snapshots."""
        return sum(run.snapshots.nbytes for run in self)

    def unique_name(self, base: str) -> str:
        """``base``, or a copy's name ``base (2)``, ``base (3)``, ... whichever no run has yet (specs.unique_name)."""
        return unique_name(base, (run.spec.name for run in self))

    def next_colour(self) -> str:
        """The first palette colour no run uses (cycling when all are taken)."""
        used = {run.spec.colour for run in self}
        free = [c for c in PALETTE if c not in used]
        return free[0] if free else PALETTE[self._next_id % len(PALETTE)]

    def trained_epochs(self) -> int:
        """Epochs recorded by all runs together (what a restart would throw away)."""
        return sum(len(run.history) - 1 for run in self)

    @property
    def done(self) -> bool:
        """True when no run has an epoch left to train (finished or diverged)."""
        return all(run.trainer.done for run in self)

    def params_at(self, run_id: int, epoch: int | None = None) -> tuple[int, np.ndarray] | None:
        """``(epoch, params)`` of a run's newest snapshot at or before ``epoch`` (None: its newest)."""
        with self.lock:
            run = self.runs.get(run_id)
            if run is None:
                return None
            return run.snapshots.nearest(run.snapshots.last_epoch if epoch is None else epoch)

    def health(self, run_id: int, epoch: int | None = None) -> Health | None:
        """The Health of a run's parameters at its snapshot at or before ``epoch`` (None: its newest), measured
        on up to health.MEASURE_POINTS training points; None when the run is gone."""
        found = self.params_at(run_id, epoch)
        if found is None:
            return None
        data = self.data
        return measure(found[1], self.layout, self.shared.activation, data.inputs, data.y, MEASURE_POINTS)
