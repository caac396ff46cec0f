"""A sweep as the window shows it: its definition, its results as they arrive, and the grids drawn from them.

``SweepDefinition`` says what is swept (a base TrainConfig taken from a run of the comparison, one or two
axes, seeds, the seed kind, a target cost). ``SweepStudy`` collects the ``CellResult``s of ``core.sweep.sweep``
in any order and any number at a time, and gives the metric grids the view draws: per grid point the median
over the seeds that did not diverge (and reached the target, for the *_to_target metrics), the 10–90 % band
over those seeds, and which points diverged (every finished seed, or some). ``to_doc``/``from_doc`` store a
study in a session file as plain JSON values.

Grids have shape (ny, nx): row j is the j-th value of the second axis (a single row for one axis), column i
the i-th value of the first; NaN where no finished seed has a value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from nnviz.core.datasets import MAX_POINTS, Points
from nnviz.core.sweep import MAX_SEEDS, SEED_KINDS, Axis, CellResult, cell_config, grid
from nnviz.core.text import quoted
from nnviz.core.training import FIELDS, TrainConfig

# metric -> (words, drawn on a log scale, lower is better)
METRICS = {
    "final_cost": ("final cost", True, True),
    "best_cost": ("best cost", True, True),
    "epochs_to_target": ("epochs to target", True, True),
    "updates_to_target": ("updates to target", True, True),
    "final_accuracy": ("final accuracy", False, False),
}
TARGET_METRICS = ("epochs_to_target", "updates_to_target")  # NaN for every cell without a target
# How a swept setting is written in a run's name ("α=0.03 β=0.9").
SYMBOLS = {"learning_rate": "α", "momentum": "β", "rho": "ρ", "beta1": "β₁", "beta2": "β₂", "epsilon": "ε",
           "batch_size": "batch", "gamma": "γ", "l2": "λ", "epochs": "epochs"}
BAND = (10.0, 90.0)  # percentiles of the band over the seeds
NONE, SOME, ALL = 0, 1, 2  # diverged(): no finished seed diverged, some did, every one did
RESULT_COLUMNS = ("index", "final_cost", "best_cost", "epochs_to_target", "updates_to_target", "final_accuracy",
                  "diverged", "epochs")
DOC_KEYS = ("run", "base", "axes", "seeds", "seed_kind", "target", "metric", "results")
POINT_COLUMNS = ("x1", "x2", "label")  # the optional "points" object's columns (and "classes")


class SweepDoc(dict):
    """A study as JSON values (``SweepStudy.to_doc``), carrying its base's points (``points``, None for a generated
    set) for the session, which writes them with the sweep when they are not the session's own."""

    points: Points | None = None


@dataclass(frozen=True)
class SweepDefinition:
    """What a sweep trains; constructing an invalid one raises ValueError (one line naming the field)."""

    base: TrainConfig  # the run's settings; every cell is this with the swept values
    axes: tuple[Axis, ...]  # one or two swept settings, the first on x
    seeds: int = 1  # every grid point trained with seeds 0 .. seeds − 1, 1 to MAX_SEEDS
    seed_kind: str = "init"  # which seeds vary: init, data or both
    target: float | None = None  # a cost to reach (the *_to_target metrics), finite > 0, or None
    run: str = ""  # the name of the run the base was taken from (for titles)
    metric: str = "final_cost"  # the metric shown, one of METRICS

    def __post_init__(self):
        object.__setattr__(self, "axes", tuple(self.axes))
        if not isinstance(self.base, TrainConfig):
            raise ValueError(f"base: must be a TrainConfig, not {type(self.base).__name__}")
        if self.seed_kind not in SEED_KINDS:
            raise ValueError(f"seed_kind={quoted(self.seed_kind)}: allowed are {', '.join(SEED_KINDS)}")
        if self.target is not None and (isinstance(self.target, bool) or not isinstance(self.target, (int, float))
                                        or not math.isfinite(self.target) or self.target <= 0):
            raise ValueError(f"target={quoted(self.target)}: must be a finite cost > 0, or none")
        if self.metric not in METRICS:
            raise ValueError(f"metric={quoted(self.metric)}: allowed are {', '.join(METRICS)}")
        if not isinstance(self.run, str):
            raise ValueError(f"run={quoted(self.run)}: must be text")
        cells = grid(self.axes, self.seeds)  # 1 or 2 distinct axes, seeds 1 to MAX_SEEDS
        for cell in cells[:: self.seeds]:  # a value this base refuses: the message names the field
            cell_config(self.base, cell.values)

    def values(self, axis: int) -> list:
        """The values of axis 0 (x) or 1 (y; [None] for a sweep of one axis)."""
        return self.axes[axis].values() if axis < len(self.axes) else [None]

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx): the grids' shape."""
        return len(self.values(1)), len(self.values(0))

    @property
    def total(self) -> int:
        """Cells to train: grid points × seeds."""
        ny, nx = self.shape
        return nx * ny * self.seeds

    def cell_values(self, i: int, j: int = 0) -> dict:
        """The swept settings of grid point (i, j) (column i, row j)."""
        values = {self.axes[0].name: self.values(0)[i]}
        if len(self.axes) == 2:
            values[self.axes[1].name] = self.values(1)[j]
        return values

    def cell_config(self, i: int, j: int = 0) -> TrainConfig:
        """The TrainConfig of grid point (i, j), seed 0: what a run added from that cell trains."""
        return cell_config(self.base, self.cell_values(i, j))


def cell_name(values: Mapping) -> str:
    """A run's name from its swept settings, e.g. ``α=0.0316 β=0.9``."""
    return " ".join(f"{SYMBOLS.get(name, name)}={value:.3g}" if isinstance(value, float)
                    else f"{SYMBOLS.get(name, name)}={value}" for name, value in values.items())


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings():  # an all-NaN cell (nothing finished there) is NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


class SweepStudy:
    """A sweep's definition and the results that have arrived so far (in grid order, whatever order they came)."""

    def __init__(self, definition: SweepDefinition, results: Iterable[CellResult] = ()):
        self.definition = definition
        ny, nx = definition.shape
        seeds = definition.seeds
        xs, ys = definition.values(0), definition.values(1)
        self._where = {(x, y): (i, j) for i, x in enumerate(xs) for j, y in enumerate(ys)}
        self._results: dict[tuple[int, int, int], CellResult] = {}  # (j, i, seed) -> result
        # Per grid point and seed: each metric (NaN where diverged, not reached, or not finished yet).
        self._metrics = {name: np.full((ny, nx, seeds), np.nan) for name in METRICS}
        self._diverged = np.zeros((ny, nx, seeds), dtype=bool)
        self._finished = np.zeros((ny, nx, seeds), dtype=bool)
        self.add(results)

    # ---- results ---------------------------------------------------------------------------------------------

    def add(self, results: Iterable[CellResult]) -> None:
        """Take in finished cells (ValueError for a cell outside the grid or one already in)."""
        names = [axis.name for axis in self.definition.axes]
        for result in results:
            key = (result.values.get(names[0]), result.values.get(names[1]) if len(names) == 2 else None)
            if key not in self._where or set(result.values) != set(names) \
                    or not 0 <= result.seed < self.definition.seeds:
                raise ValueError(f"result {quoted(result.values)} seed {result.seed}: not a cell of this sweep")
            i, j = self._where[key]
            if (j, i, result.seed) in self._results:
                raise ValueError(f"result {quoted(result.values)} seed {result.seed}: already in the sweep")
            self._results[(j, i, result.seed)] = result
            self._finished[j, i, result.seed] = True
            self._diverged[j, i, result.seed] = result.diverged
            if result.diverged:
                continue
            for name in METRICS:
                value = getattr(result, name)
                self._metrics[name][j, i, result.seed] = np.nan if value is None else float(value)

    @property
    def done(self) -> int:
        """Cells (grid points × seeds) finished so far."""
        return len(self._results)

    @property
    def complete(self) -> bool:
        return self.done == self.definition.total

    def results(self) -> list[CellResult]:
        """The finished cells in grid order (the x value slowest, the seed fastest), as sweep() returns them."""
        return [self._results[key] for key in sorted(self._results, key=lambda k: (k[1], k[0], k[2]))]

    # ---- what the view draws ---------------------------------------------------------------------------------

    def per_seed(self, metric: str) -> np.ndarray:
        """ndarray of shape (ny, nx, seeds): the metric of every seed, NaN where it has none (not finished,
        diverged, or never reached the target). A copy."""
        self._check_metric(metric)
        return self._metrics[metric].copy()

    def metric(self, metric: str) -> np.ndarray:
        """ndarray of shape (ny, nx): the median over the seeds that have a value; NaN where none has."""
        return _quiet(np.nanmedian, self.per_seed(metric), axis=2)

    def band(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """(low, high), each of shape (ny, nx): the 10th and 90th percentiles over the seeds that have a value
        (linear interpolation, as numpy.percentile); NaN where none has."""
        low, high = _quiet(np.nanpercentile, self.per_seed(metric), BAND, axis=2)
        return low, high

    def finished(self) -> np.ndarray:
        """int ndarray of shape (ny, nx): seeds finished per grid point."""
        return self._finished.sum(axis=2)

    def diverged_seeds(self) -> np.ndarray:
        """int ndarray of shape (ny, nx): seeds that diverged per grid point."""
        return self._diverged.sum(axis=2)

    def diverged(self) -> np.ndarray:
        """int ndarray of shape (ny, nx): ALL where every finished seed diverged, SOME where some did, else NONE."""
        count, finished = self.diverged_seeds(), self.finished()
        return np.where((count > 0) & (count == finished), ALL, np.where(count > 0, SOME, NONE))

    def nearest_cell(self, config: TrainConfig) -> tuple[int, int] | None:
        """The grid point (i, j) nearest to ``config``'s swept settings (on the axes' scales), if every other
        setting equals the base's (a swept γ's schedule aside) and each swept value lies within half a step of
        the axis; else None."""
        d = self.definition
        swept = {axis.name for axis in d.axes}
        if "gamma" in swept:
            swept.add("schedule")
        if any(getattr(config, name) != getattr(d.base, name) for name in FIELDS if name not in swept):
            return None
        place = []
        for axis in d.axes:
            values = np.asarray(axis.values(), dtype=float)
            value = float(getattr(config, axis.name))
            if axis.scale == "log":
                if value <= 0:
                    return None
                values, value = np.log10(values), math.log10(value)
            distance = np.abs(values - value)
            k = int(np.argmin(distance))
            step = np.min(np.diff(values)) if len(values) > 1 else abs(values[0]) or 1.0
            if distance[k] > step / 2 + 1e-12 * max(1.0, abs(value)):
                return None
            place.append(k)
        return place[0], place[1] if len(place) == 2 else 0

    def _check_metric(self, metric: str) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric={quoted(metric)}: allowed are {', '.join(METRICS)}")

    # ---- sessions --------------------------------------------------------------------------------------------

    def to_doc(self) -> SweepDoc:
        """The study as JSON values: the definition, and the finished cells as columns (grid order). The base's
        points are not among them: ``SweepDoc.points`` carries them (see session.session_text)."""
        d = self.definition
        ny, seeds = d.shape[0], d.seeds
        columns = {name: [] for name in RESULT_COLUMNS}
        for j, i, seed in sorted(self._results, key=lambda k: (k[1], k[0], k[2])):
            result = self._results[(j, i, seed)]
            columns["index"].append((i * ny + j) * seeds + seed)  # the cell's place in grid(axes, seeds)
            for name in RESULT_COLUMNS[1:]:
                columns[name].append(getattr(result, name))
        base = d.base.to_dict()
        del base["points"]  # a user's points: the session's own ("points"), or the sweep's own "points"
        doc = SweepDoc({"run": d.run, "base": base,
                        "axes": [{"name": a.name, "low": a.low, "high": a.high, "scale": a.scale, "count": a.count}
                                 for a in d.axes],
                        "seeds": d.seeds, "seed_kind": d.seed_kind, "target": d.target, "metric": d.metric,
                        "results": columns})
        doc.points = d.base.points
        return doc

    @classmethod
    def from_doc(cls, doc, points: Points | None = None) -> SweepStudy:
        """The study ``to_doc`` wrote; ValueError with one line naming the field (``sweep.results.final_cost[3]:
        ...``) for anything else. ``points``: the user's points a base on the "custom" data set trains on (the
        session's own), unless the doc holds its own "points" (columns x1, x2, label and classes)."""
        return _read(doc, points)


# ---- reading a document -------------------------------------------------------------------------------------

def _fail(where: str, problem: str):
    raise ValueError(f"sweep.{where}: {problem}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _object(where: str, value, required: tuple, optional: tuple = ()) -> dict:
    if not isinstance(value, Mapping):
        _fail(where, f"must be an object, not {type(value).__name__}")
    for key in value:
        if key not in required and key not in optional:
            _fail(f"{where}.{key}" if where else str(key), "unknown key")
    for key in required:
        if key not in value:
            _fail(f"{where}.{key}" if where else str(key), "missing")
    return value


def _points(value) -> Points:
    """The sweep's own points: columns x1, x2 (finite numbers) and label (0 or 1) of one length, classes."""
    value = _object("points", value, POINT_COLUMNS, ("classes",))
    columns = []
    for name in POINT_COLUMNS:
        column = value[name]
        if not isinstance(column, list) or len(column) > MAX_POINTS:
            _fail(f"points.{name}", f"must be a list of at most {MAX_POINTS:,} numbers")
        allowed = "0 or 1" if name == "label" else "a finite number"
        for i, v in enumerate(column):
            if not _is_number(v) or (name == "label" and v not in (0, 1)):
                _fail(f"points.{name}[{i}]", f"must be {allowed}, not {quoted(v)}")
        columns.append(np.array(column, dtype=np.float64))
    if len({len(c) for c in columns}) > 1:
        _fail("points", "x1, x2 and label must have the same length")
    classes = value.get("classes", ["0", "1"])
    if not (isinstance(classes, list) and len(classes) == 2 and all(isinstance(c, str) and c for c in classes)
            and classes[0] != classes[1]):
        _fail("points.classes", f"must be a list of two different texts, not {quoted(classes)}")
    return Points(np.column_stack(columns[:2]), columns[2], tuple(classes))


def _definition(doc: Mapping, points: Points | None) -> SweepDefinition:
    base = _object("base", doc["base"], (), tuple(name for name in FIELDS if name != "points"))
    try:
        config = TrainConfig(**base, points=points)
    except (TypeError, ValueError) as exc:
        _fail("base", str(exc))
    if not isinstance(doc["axes"], list) or not 1 <= len(doc["axes"]) <= 2:
        _fail("axes", "must be a list of 1 or 2 axes")
    axes = []
    for k, raw in enumerate(doc["axes"]):
        raw = _object(f"axes[{k}]", raw, ("name", "low", "high", "scale", "count"))
        for key in ("name", "scale"):
            if not isinstance(raw[key], str):
                _fail(f"axes[{k}].{key}", f"must be text, not {quoted(raw[key])}")
        try:
            axes.append(Axis(raw["name"], raw["low"], raw["high"], raw["scale"], raw["count"]))
        except (TypeError, ValueError) as exc:
            _fail(f"axes[{k}]", str(exc))
    if not _is_int(doc["seeds"]) or not 1 <= doc["seeds"] <= MAX_SEEDS:
        _fail("seeds", f"must be an integer from 1 to {MAX_SEEDS}, not {quoted(doc['seeds'])}")
    fields = {"run": doc.get("run", ""), "seed_kind": doc["seed_kind"], "target": doc["target"],
              "metric": doc.get("metric", "final_cost")}
    for key in ("run", "seed_kind", "metric"):
        if not isinstance(fields[key], str):
            _fail(key, f"must be text, not {quoted(fields[key])}")
    try:
        return SweepDefinition(config, tuple(axes), doc["seeds"], **fields)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        field = message.split("=", 1)[0].split(":", 1)[0]
        _fail(field if field in fields else "axes", message)


def _read(doc, points: Points | None) -> SweepStudy:
    doc = _object("", doc, ("base", "axes", "seeds", "seed_kind", "target", "results"), ("run", "metric", "points"))
    definition = _definition(doc, _points(doc["points"]) if "points" in doc else points)
    columns = _object("results", doc["results"], RESULT_COLUMNS)
    lengths = {len(v) if isinstance(v, list) else -1 for v in columns.values()}
    if len(lengths) != 1 or -1 in lengths:
        _fail("results", "every column must be a list, all of the same length")
    cells = grid(definition.axes, definition.seeds)
    rules = {
        "final_cost": (lambda v: _is_number(v) and v >= 0, "a finite number ≥ 0"),
        "best_cost": (lambda v: _is_number(v) and v >= 0, "a finite number ≥ 0"),
        "final_accuracy": (lambda v: _is_number(v) and 0 <= v <= 1, "a number from 0 to 1"),
        "epochs_to_target": (lambda v: v is None or (_is_int(v) and v >= 0), "an integer ≥ 0, or null"),
        "updates_to_target": (lambda v: v is None or (_is_int(v) and v >= 0), "an integer ≥ 0, or null"),
        "diverged": (lambda v: isinstance(v, bool), "true or false"),
        "epochs": (lambda v: _is_int(v) and v >= 0, "an integer ≥ 0"),
        "index": (lambda v: _is_int(v) and 0 <= v < len(cells), f"an integer from 0 to {len(cells) - 1}"),
    }
    results, seen = [], set()
    for row in range(lengths.pop()):
        values = {}
        for name in RESULT_COLUMNS:
            value = columns[name][row]
            ok, allowed = rules[name]
            if not ok(value):
                _fail(f"results.{name}[{row}]", f"must be {allowed}, not {quoted(value)}")
            values[name] = value
        index = values.pop("index")
        if index in seen:
            _fail(f"results.index[{row}]", f"cell {index} appears twice")
        seen.add(index)
        cell = cells[index]
        results.append(CellResult(dict(cell.values), cell.seed, index=index, **values))
    return SweepStudy(definition, results)
