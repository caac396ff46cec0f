"""Runs repeated over seeds: the setting, the configs of every run × seed, and what a run's seeds came to.

Seed ``i`` (0-based here; the user's "seed i + 1") of every run adds ``i`` to the init seed, the data seed
or both (``sweep.seed_configs``), so seed i of two runs starts from the same weights on the same data:
runs stay paired. Seed 0 (the user's "seed 1") is the run itself.

The live runs (the maps, the runs' own curves) train from seed ``shown`` of the settings (the user's seed
number, 1 by default): ``shown_shared`` gives the shared settings they start from, the user's own with that
seed's offset. The seeds trained apart, and so the band, always count from the user's own settings.

What a diverged seed contributes: the Trainer stops a run whose cost is no longer finite or rose above
10 × its start; from the epoch after its last kept one up to the run's epochs, such a seed counts as cost
**+inf** and accuracy **0** (the worst each can be). The band and the median therefore never look better by
dropping the seeds that failed: its top edge goes to +inf once more than 10 % of the seeds diverged, its
median once half of them did. Quantiles are numpy's default ("linear") interpolation between the sorted
seeds; one that interpolates towards +inf is +inf.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnviz.core.datasets import held_out_size
from nnviz.core.optimizers import scheduled_learning_rate
from nnviz.core.specs import DISPLAY, RunSpec, SharedSettings, edit_effect
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS, seed_configs
from nnviz.core.text import quoted
from nnviz.core.training import MAX_SEED, TrainConfig

BAND = (0.1, 0.9)  # the band's quantiles: 10 % to 90 % of the seeds
SEED_COLUMNS = ("cost", "accuracy", "test_cost", "test_accuracy")  # the per-epoch values kept of every seed
# what a diverged seed counts as after it diverged
DIVERGED_VALUE = {"cost": math.inf, "accuracy": 0.0, "test_cost": math.inf, "test_accuracy": 0.0}


@dataclass(frozen=True)
class SeedSettings:
    """How a comparison repeats its runs over seeds; an invalid value raises ValueError naming the field."""

    count: int = 1  # seeds per run, 1 to MAX_SEEDS (1: each run alone)
    kind: str = "init"  # which seeds vary: init (initial weights), data, or both
    target: float | None = None  # a cost to reach (finite, > 0), for the summary's share not reaching it
    shown: int = 1  # the seed the live runs train from (the maps show it), 1 to count

    def __post_init__(self):
        count = self.count
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or not 1 <= count <= MAX_SEEDS:
            raise ValueError(f"seeds={quoted(count)}: must be an integer from 1 to {MAX_SEEDS}")
        object.__setattr__(self, "count", int(count))
        if self.kind not in SEED_KINDS:
            raise ValueError(f"seed_kind={quoted(self.kind)}: allowed are {', '.join(SEED_KINDS)}")
        target = self.target
        if target is not None:
            if isinstance(target, bool) or not isinstance(target, (int, float)) or not math.isfinite(target) \
                    or target <= 0:
                raise ValueError(f"target={quoted(target)}: must be a finite cost > 0, or none")
            object.__setattr__(self, "target", float(target))
        shown = self.shown
        if isinstance(shown, bool) or not isinstance(shown, (int, np.integer)) or not 1 <= shown <= self.count:
            raise ValueError(f"shown_seed={quoted(shown)}: must be an integer from 1 to the seed count "
                             f"({self.count})")
        object.__setattr__(self, "shown", int(shown))

    def to_dict(self) -> dict:
        """Plain JSON-friendly dict: count, kind, target (null: none), shown."""
        return {"count": self.count, "kind": self.kind, "target": self.target, "shown": self.shown}

    def replace(self, **changes) -> SeedSettings:
        """A copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)

    def trains_the_same(self, other: SeedSettings) -> bool:
        """Whether ``other`` trains the same seeds (the target only changes the summary, the shown seed only
        which of them the live runs are)."""
        return (self.count, self.kind) == (other.count, other.kind)


def shown_shared(shared: SharedSettings, settings: SeedSettings) -> SharedSettings:
    """The shared settings the live runs train from: ``shared`` (the user's, seed 1) with seed
    ``settings.shown``'s offset, shown − 1 added to init_seed and/or data_seed as ``settings.kind`` says (modulo
    2³², as ``sweep.seeded``); ``shared`` itself for seed 1."""
    offset = settings.shown - 1
    if not offset:
        return shared
    changes = {}
    if settings.kind in ("init", "both"):
        changes["init_seed"] = (shared.init_seed + offset) % (MAX_SEED + 1)
    if settings.kind in ("data", "both"):
        changes["data_seed"] = (shared.data_seed + offset) % (MAX_SEED + 1)
    return shared.replace(**changes)


def shown_note(shared: SharedSettings, settings: SeedSettings) -> str:
    """A short note of the seed the live runs show when it is not seed 1 (else ""), e.g. "maps: seed 3 (init
    seed 1236)"."""
    if settings.shown == 1:
        return ""
    seeded = shown_shared(shared, settings)
    parts = [f"{label} seed {getattr(seeded, name)}" for name, label in (("init_seed", "init"), ("data_seed", "data"))
             if getattr(seeded, name) != getattr(shared, name)]
    return f"maps: seed {settings.shown} ({', '.join(parts)})"


def run_seed_configs(shared: SharedSettings, specs: Sequence[RunSpec], settings: SeedSettings,
                     first: int = 0) -> list[TrainConfig]:
    """The configs of every run × seed, the run slowest: run r's seed i is at ``r * (count − first) + i −
    first``. ``first`` = 1 leaves out each run's own config (seed 0, trained as the live run)."""
    return [config for spec in specs
            for config in seed_configs(spec.config(shared), settings.count, settings.kind)[first:]]


# ---- a run's seeds --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SeedCurves:
    """The per-epoch cost and accuracy of every seed of one run, epoch 0 to the run's epochs.

    ``costs`` and ``accuracies`` are read-only arrays of shape (n_seeds, epochs + 1); after a seed diverged its
    entries hold DIVERGED_VALUE (+inf cost, 0 accuracy). ``diverged[i]``: seed i diverged. ``test_costs`` and
    ``test_accuracies`` are the same on the test set (None when the data has none).
    """

    costs: np.ndarray  # (n_seeds, epochs + 1), training cost with the L2 term
    accuracies: np.ndarray  # (n_seeds, epochs + 1)
    diverged: np.ndarray  # (n_seeds,) bool
    updates_per_epoch: int = 1  # parameter updates of one epoch (the same for every seed)
    samples_per_epoch: int = 1  # training samples of one epoch
    test_costs: np.ndarray | None = None  # (n_seeds, epochs + 1), cost on the test set without the L2 term
    test_accuracies: np.ndarray | None = None  # (n_seeds, epochs + 1)

    @classmethod
    def from_values(cls, config: TrainConfig, costs: Sequence[Sequence[float]],
                    accuracies: Sequence[Sequence[float]], diverged: Sequence[bool],
                    test_costs: Sequence[Sequence[float]] | None = None,
                    test_accuracies: Sequence[Sequence[float]] | None = None) -> SeedCurves:
        """From each seed's per-epoch values (epoch 0 first; a diverged seed's up to its last kept epoch)."""
        epochs = config.epochs
        if not len(costs) == len(accuracies) == len(diverged) >= 1:
            raise ValueError("seeds: give the costs, accuracies and diverged flags of one seed or more")
        if (test_costs is None) != (test_accuracies is None) or \
                (test_costs is not None and not len(test_costs) == len(test_accuracies) == len(costs)):
            raise ValueError("seeds: give the test costs and test accuracies of every seed, or neither")
        arrays = {}
        for name, values in (("cost", costs), ("accuracy", accuracies), ("test_cost", test_costs),
                             ("test_accuracy", test_accuracies)):
            if values is None:
                arrays[name] = None
                continue
            array = np.full((len(values), epochs + 1), DIVERGED_VALUE[name], dtype=np.float64)
            for i, seed in enumerate(values):
                seed = np.asarray(seed, dtype=np.float64)[: epochs + 1]
                if len(seed) < epochs + 1 and not diverged[i]:
                    raise ValueError(f"seed {i + 1}: {len(seed)} epochs of values, but it did not diverge and "
                                     f"the run has {epochs + 1} (epoch 0 included)")
                array[i, : len(seed)] = seed
            array.flags.writeable = False
            arrays[name] = array
        flags = np.array(diverged, dtype=bool)
        flags.flags.writeable = False
        n_train = config.n_samples - held_out_size(config.n_samples, config.test_fraction)
        batch = min(config.batch_size, n_train)
        return cls(arrays["cost"], arrays["accuracy"], flags, -(-n_train // batch), n_train,
                   arrays["test_cost"], arrays["test_accuracy"])

    @classmethod
    def from_results(cls, config: TrainConfig, results: Sequence) -> SeedCurves:
        """From ``sweep.train_configs(..., history=True)`` results of the run's seeds, seed 0 first (with their
        test columns when every result has them)."""
        test = all(getattr(r, "test_costs", None) is not None for r in results)
        return cls.from_values(config, [r.costs for r in results], [r.accuracies for r in results],
                               [r.diverged for r in results],
                               [r.test_costs for r in results] if test else None,
                               [r.test_accuracies for r in results] if test else None)

    @property
    def count(self) -> int:
        return len(self.diverged)

    @property
    def has_test(self) -> bool:
        """Whether the seeds' test columns are kept (the data has a test set)."""
        return self.test_costs is not None

    @property
    def epochs(self) -> np.ndarray:
        """0 to the run's epochs."""
        return np.arange(self.costs.shape[1])

    def values(self, column: str) -> np.ndarray:
        """The per-seed values of a column by name: "cost", "accuracy", "test_cost" or "test_accuracy"."""
        if column not in SEED_COLUMNS:
            raise ValueError(f"column={quoted(column)}: allowed are {', '.join(SEED_COLUMNS)}")
        values = {"cost": self.costs, "accuracy": self.accuracies, "test_cost": self.test_costs,
                  "test_accuracy": self.test_accuracies}[column]
        if values is None:
            raise ValueError(f"column={quoted(column)}: these seeds have no test set")
        return values


def quantiles(values: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles over axis 0 of ``values`` (numpy's "linear" method), +inf where one interpolates towards
    +inf (numpy gives NaN there).

    Parameters
    ----------
    values : ndarray of shape (n_seeds, n)
    qs : quantiles from 0 to 1

    Returns
    -------
    ndarray of shape (len(qs), n)
    """
    ordered = np.sort(np.asarray(values, dtype=np.float64), axis=0)
    k = ordered.shape[0]
    out = []
    for q in qs:
        position = (k - 1) * q
        low = int(math.floor(position))
        high = min(low + 1, k - 1)
        fraction = position - low
        a, b = ordered[low], ordered[high]
        with np.errstate(invalid="ignore"):
            value = a + fraction * (b - a)
        out.append(np.where((fraction == 0) | (a == b), a, value))
    return np.array(out)


@dataclass(frozen=True)
class SeedBand:
    """The median and the 10–90 % band of a run's seeds, per epoch (read-only arrays of shape (epochs + 1,))."""

    epochs: np.ndarray  # 0 to the run's epochs
    median: np.ndarray
    low: np.ndarray  # 10 % quantile
    high: np.ndarray  # 90 % quantile (+inf once more than 10 % of the seeds diverged)


def band(curves: SeedCurves, column: str = "cost") -> SeedBand:
    """Median and 10–90 % band of a run's seeds for ``column`` (see SEED_COLUMNS), per epoch."""
    low, median, high = quantiles(curves.values(column), (BAND[0], 0.5, BAND[1]))
    for array in (low, median, high):
        array.flags.writeable = False
    return SeedBand(curves.epochs, median, low, high)


@dataclass(frozen=True)
class SeedSummary:
    """What a run's seeds came to at their last epoch (a diverged seed: cost +inf, accuracy 0)."""

    seeds: int  # seeds trained
    final_cost_median: float
    final_cost_low: float  # 10 % quantile of the final costs
    final_cost_high: float  # 90 % quantile (+inf when more than 10 % diverged)
    final_accuracy_median: float
    diverged_share: float  # share of the seeds that diverged, 0 to 1
    missed_share: float | None  # share whose cost never reached the target (None: no target given)


def summarize(curves: SeedCurves, target: float | None = None) -> SeedSummary:
    """The summary of a run's seeds; a seed reached ``target`` if its cost was ≤ it at some epoch (epoch 0
    included, and before it diverged)."""
    low, median, high = quantiles(curves.costs[:, -1:], (BAND[0], 0.5, BAND[1]))[:, 0]
    accuracy = quantiles(curves.accuracies[:, -1:], (0.5,))[0, 0]
    missed = None
    if target is not None:
        missed = float(np.mean(~np.any(curves.costs <= target, axis=1)))
    return SeedSummary(curves.count, float(median), float(low), float(high), float(accuracy),
                       float(np.mean(curves.diverged)), missed)


# ---- the rows of seeds trained apart from the live run (CSV) ----------------------------------------------

def seed_columns(config: TrainConfig, result) -> dict[str, np.ndarray]:
    """The per-epoch columns of one seed's ``train_configs(..., history=True)`` result, as a History has them:
    epoch, cost, accuracy, learning_rate, updates, samples (computed from the config: the same for every seed),
    elapsed_s (NaN: seeds trained together have no clock of their own), and test_cost, test_accuracy when
    the result has them."""
    n = len(result.costs)
    epochs = np.arange(n)
    n_train = config.n_samples - held_out_size(config.n_samples, config.test_fraction)
    per_epoch = -(-n_train // min(config.batch_size, n_train))
    columns = {
        "epoch": epochs,
        "cost": np.asarray(result.costs, dtype=np.float64),
        "accuracy": np.asarray(result.accuracies, dtype=np.float64),
        "learning_rate": np.array([scheduled_learning_rate(config.schedule, config.learning_rate, max(e, 1),
                                                           config.gamma, config.step_every, config.step_factor)
                                   for e in range(n)]),
        "updates": epochs * per_epoch,
        "samples": epochs * n_train,
        "elapsed_s": np.full(n, np.nan),
    }
    if result.test_costs is not None:
        columns["test_cost"] = np.asarray(result.test_costs, dtype=np.float64)
        columns["test_accuracy"] = np.asarray(result.test_accuracies, dtype=np.float64)
    return columns


# ---- a comparison's seeds ---------------------------------------------------------------------------------

class SeedStore:
    """A comparison's seeds: the setting, and each run's SeedCurves with the settings they were trained for.

    A run's curves stay current while ``edit_effect`` calls its edits DISPLAY (name, colour, visibility);
    any other edit of the run (live or restarting) or of the shared settings makes them stale, to be
    trained again. Edited by one thread (the window's, or a command's).
    """

    def __init__(self, settings: SeedSettings | None = None):
        self.settings = settings or SeedSettings()
        self._trained: dict[int, tuple[SharedSettings, RunSpec, SeedCurves]] = {}  # by run id

    def set_settings(self, settings: SeedSettings) -> bool:
        """New settings; True when they train other seeds (every run's curves are dropped then)."""
        retrain = not settings.trains_the_same(self.settings)
        self.settings = settings
        if retrain:
            self._trained.clear()
        return retrain

    def put(self, run_id: int, shared: SharedSettings, spec: RunSpec, curves: SeedCurves) -> None:
        """The seeds of run ``run_id`` trained with ``shared`` and ``spec``."""
        if curves.count != self.settings.count:
            raise ValueError(f"seeds: {curves.count} trained, but the setting is {self.settings.count}")
        self._trained[run_id] = (shared, spec, curves)

    def current(self, run_id: int, shared: SharedSettings, spec: RunSpec) -> SeedCurves | None:
        """The run's curves if they were trained for these settings (up to a DISPLAY edit), else None."""
        found = self._trained.get(run_id)
        if found is None or self.settings.count == 1:
            return None
        if edit_effect(found[1], spec, found[0], shared) != DISPLAY:
            return None
        return found[2]

    def stale(self, runs: Sequence[tuple[int, SharedSettings, RunSpec]]) -> list[tuple[int, SharedSettings, RunSpec]]:
        """Those of ``runs`` (run id, shared settings, spec) whose seeds are to be trained (none when the
        count is 1); curves of runs not among them are dropped."""
        ids = {run_id for run_id, _, _ in runs}
        self._trained = {k: v for k, v in self._trained.items() if k in ids}
        if self.settings.count == 1:
            return []
        return [run for run in runs if self.current(*run) is None]


# ---- the summary as text -----------------------------------------------------------------------------------

def cost_text(cost: float, digits: int = 6) -> str:
    """A cost of the summary: ``digits`` significant digits, "inf" for a diverged one."""
    return "inf" if math.isinf(cost) else f"{cost:.{digits}g}"


def share_text(share: float | None) -> str:
    """A share as a percentage ("—" without one)."""
    return "—" if share is None else f"{100 * share:.0f} %"


SUMMARY_HEADERS = ("run", "seeds", "final cost median", "10–90 %", "final accuracy", "diverged", "missed target")


def summary_row(name: str, summary: SeedSummary, digits: int = 6) -> tuple[str, ...]:
    """The cells of one run in the summary table (see SUMMARY_HEADERS), costs to ``digits`` significant digits."""
    return (name, str(summary.seeds), cost_text(summary.final_cost_median, digits),
            f"{cost_text(summary.final_cost_low, digits)} – {cost_text(summary.final_cost_high, digits)}",
            f"{summary.final_accuracy_median:.4f}", share_text(summary.diverged_share),
            share_text(summary.missed_share))


def summary_table(summaries: dict[str, SeedSummary], settings: SeedSettings) -> str:
    """The summaries of the runs (by name) as a plain-text table with a title line."""
    varied = {"init": "initial weights", "data": "data", "both": "initial weights and data"}[settings.kind]
    target = f"; target cost {settings.target:g}" if settings.target is not None else ""
    rows = [SUMMARY_HEADERS] + [summary_row(name, s) for name, s in summaries.items()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_HEADERS))]
    lines = [f"{settings.count} seeds per run ({varied} vary; seed 1 is the run's own){target}"]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    return "\n".join(lines) + "\n"
