"""Session files (``.nnviz.json``) and the long-form CSV of a comparison's histories.

A session file is one JSON object::

    {"format": "nnviz-session", "version": 2,
     "shared": {dataset, n_samples, noise, test_fraction, data_seed, keep_order, features, shape, activation,
                init_seed, init, engine},
                          (init: optional, "notebook" when missing; keep_order (false) and features (["x1", "x2"]):
                           optional, new in version 2)
     "points": {"classes": [class 0, class 1], "x1": [...], "x2": [...], "label": [0 or 1, ...]}
                          (version 2, with dataset "custom": the user's points, in their own order, as drawn or
                           loaded; "shared" then holds n_samples = their number)
     "runs": [{name, colour, visible, learning_rate, batch_size, momentum, optimizer, rho, epsilon, beta1,
               beta2, update_order, schedule, gamma, step_every, step_factor, l2, epochs}, ...],
                                                (batch_size: an integer, or "full"; optimizer to update_order
                                                 optional: missing means the default)
     "histories": {run name: {epoch: [...], cost: [...], ...}},      (optional, per run)
     "seeds": {"count": K, "kind": "init" | "data" | "both", "target": cost or null, "shown": 1 to K}}
                                  (optional: every run repeated over K seeds; missing means K = 1; "shown":
                                   the seed the runs themselves train from, optional, missing means 1;
                                   "shared" holds seed 1's seeds all the same)
     "sweep": {definition, results}}  (optional: the sweep window's, see sweep_study.SweepStudy.to_doc; a sweep of
                                   dataset "custom" trains on "points", or on its own "points" object when it
                                   was run on other points than the session's)

Floats are written with ``repr``, so a saved and reopened session holds the very same
numbers. Loading checks everything and raises SessionError with one line naming the
file, the place in it (``runs[2].learning_rate``) and what is allowed, never repeating a
long value whole (an integer of 400 digits is "an integer of 400 digits"); keys it does not
know are reported in ``Session.warnings``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnviz.core.comparison import (
    HISTORY_COLUMNS,
    INT_COLUMNS,
    RUN_FIELDS,
    SHARED_FIELDS,
    TEST_COLUMNS,
    History,
    RunSpec,
    SharedSettings,
)
from nnviz.core.datasets import CUSTOM, MAX_POINTS, Points
from nnviz.core.files import WriteError, csv_field, error_reason, long_csv, write_atomic
from nnviz.core.seeds import SeedSettings
from nnviz.core.specs import check_unique_names
from nnviz.core.sweep_study import SweepStudy
from nnviz.core.text import FULL_BATCH, batch_size_text, quoted, short_setting_message, shorten

FORMAT = "nnviz-session"
VERSION = 2  # the newest version this code reads and the one it writes (1: no custom points, no features)
SUFFIX = ".nnviz.json"
TOP_KEYS = ("format", "version", "shared", "runs", "histories", "seeds", "sweep", "points")
POINT_KEYS = ("x1", "x2", "label")  # the "points" object's columns (and "classes", optional)
MAX_DIGITS = 100  # longer integer literals are read as HugeInteger: no setting or column takes one
MAX_INT64 = 2**63 - 1  # the largest value of an integer history column
JSON_BLOCK = 8192  # numbers of a long column written or read by one call into json's C code (under ~5 ms each)
# Fields newer than version 1's first files: missing means the settings' default (init "notebook", optimizer
# "sgd", rho 0.9, epsilon 1e-8, beta1 0.9, beta2 0.999, update_order "true"), so older files open as they trained.
OPTIONAL_FIELDS = ("init", "optimizer", "rho", "epsilon", "beta1", "beta2", "update_order", "keep_order", "features")

# What JSON value each field takes, in words for the messages.
_KINDS = {
    "dataset": "text", "n_samples": "an integer", "noise": "a number", "test_fraction": "a number",
    "data_seed": "an integer", "keep_order": "true or false", "features": "a list of text",
    "shape": "a list of integers", "activation": "text", "init_seed": "an integer",
    "init": "text", "engine": "text", "name": "text", "colour": "text", "visible": "true or false",
    "learning_rate": "a number", "batch_size": "an integer", "momentum": "a number", "optimizer": "text",
    "rho": "a number", "epsilon": "a number", "beta1": "a number", "beta2": "a number", "update_order": "text",
    "schedule": "text",
    "gamma": "a number", "step_every": "an integer", "step_factor": "a number", "l2": "a number",
    "epochs": "an integer",
}
# Allowed values of each history column: (test, words).
_COLUMN_RULES = {
    "epoch": (lambda v: v >= 0, "an integer ≥ 0"),
    "updates": (lambda v: v >= 0, "an integer ≥ 0"),
    "samples": (lambda v: v >= 0, "an integer ≥ 0"),
    "cost": (lambda v: v >= 0, "a finite number ≥ 0"),
    "accuracy": (lambda v: 0 <= v <= 1, "a number from 0 to 1"),
    "learning_rate": (lambda v: v > 0, "a finite number > 0"),
    "elapsed_s": (lambda v: v >= 0, "a finite number ≥ 0"),
    "test_cost": (lambda v: v >= 0, "a finite number ≥ 0"),
    "test_accuracy": (lambda v: 0 <= v <= 1, "a number from 0 to 1"),
}


class SessionError(Exception):
    """A session file that cannot be opened (or written); the message is one line naming the problem."""


@dataclass(frozen=True)
class HugeInteger:
    """A JSON integer literal of more than MAX_DIGITS digits, kept as its sign and length only."""

    negative: bool
    digits: int

    def __str__(self) -> str:
        return f"{'a negative' if self.negative else 'an'} integer of {self.digits:,} digits"


def _checkable(kind: str, value):
    """``value`` as the settings can check it: integers too large for them become stand-ins they refuse."""
    if kind == "a number" and isinstance(value, (int, HugeInteger)) and not isinstance(value, bool):
        number = _as_float(value)
        return number if math.isinf(number) else value
    if kind == "an integer" and isinstance(value, HugeInteger):
        return -(10**40) if value.negative else 10**40
    if kind == "a list of integers":
        return [_checkable("an integer", v) for v in value]
    return value


def _parse_int(text: str):
    digits = len(text.lstrip("-"))
    return HugeInteger(text.startswith("-"), digits) if digits > MAX_DIGITS else int(text)


def _parse_float(text: str) -> float:
    return float(text)


def _as_float(value) -> float:
    """A JSON number as a float; integers too large for one become ±inf (refused as not finite)."""
    if isinstance(value, HugeInteger):
        return -math.inf if value.negative else math.inf
    try:
        return float(value)
    except OverflowError:
        return -math.inf if value < 0 else math.inf


@dataclass(frozen=True)
class Session:
    """What a session file holds."""

    shared: SharedSettings
    runs: tuple[RunSpec, ...]
    histories: dict[str, History] = field(default_factory=dict)  # by run name; only runs saved with one
    warnings: tuple[str, ...] = ()  # keys the file has that this version does not know (ignored)
    path: Path | None = None
    seeds: SeedSettings = field(default_factory=SeedSettings)  # every run repeated over seeds (count 1: not)
    sweep: dict | None = None  # a sweep's definition and results (sweep_study.SweepStudy.to_doc), checked


# Writing

def _as_history(value, has_test: bool) -> History:
    if isinstance(value, History):
        return value
    return History.from_records(value, has_test)


def session_text(shared: SharedSettings, runs: Sequence[RunSpec],
                 histories: Mapping[str, History | Sequence] | None = None, seeds: SeedSettings | None = None,
                 sweep: dict | None = None) -> str:
    """The JSON text of a session; settings indented, each history column on one line.

    ``histories`` maps run names to a History or a sequence of EpochRecords. ``seeds``: written when given
    and not the default (one seed), so a session without seeds reads as older nnviz versions wrote it.
    ``sweep``: a sweep (SweepStudy.to_doc()), written when given.
    Raises ValueError for duplicate run names or a history of no run.
    """
    check_unique_names(runs)
    names = [run.name for run in runs]
    for name in histories or {}:
        if name not in names:
            raise ValueError(f"histories: {name!r} is the name of no run")
    settings = shared.to_dict()
    points = settings.pop("points")
    doc = {"format": FORMAT, "version": VERSION, "shared": settings, "runs": [_run_dict(run) for run in runs]}
    if seeds is not None and seeds != SeedSettings():
        doc["seeds"] = seeds.to_dict()
    sweep_points = getattr(sweep, "points", None)  # a SweepDoc's base's points
    if sweep_points is not None and sweep_points == points:
        sweep_points = None  # the session's own: given back to the sweep when read
    if sweep is not None:
        doc["sweep"] = sweep if sweep_points is None else {**sweep, "points": _SWEEP_POINTS}
    if points is not None:
        doc["points"] = {"classes": list(points.classes)}  # the columns follow, one line each
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    text = text.replace(_indented_list(shared.shape), json.dumps(list(shared.shape)), 1)
    text = text.replace(_indented_list(json.dumps(f) for f in shared.features),
                        json.dumps(list(shared.features), ensure_ascii=False), 1)
    if points is not None:
        text = text.replace(_indented_list(json.dumps(c, ensure_ascii=False) for c in points.classes),
                            json.dumps(list(points.classes), ensure_ascii=False), 1)
        columns = (("x1", points.X[:, 0]), ("x2", points.X[:, 1]), ("label", points.y.astype(np.int64)))
        lines = "".join(f',\n    "{name}": {_json_column(values)}' for name, values in columns)
        end = text.rindex("]\n  }")
        text = text[: end + 1] + lines + text[end + 1:]
    if sweep_points is not None:  # the sweep trained on other points than the session's: they go with it
        text = text.replace(json.dumps(_SWEEP_POINTS), _points_object(sweep_points, "    "), 1)
    if histories:
        blocks = []
        for name in names:
            if name not in histories:
                continue
            columns = _as_history(histories[name], shared.has_test).to_columns()
            lines = [f"      {json.dumps(c)}: {json.dumps(v, allow_nan=False)}" for c, v in columns.items()]
            blocks.append(f"    {json.dumps(name, ensure_ascii=False)}: {{\n" + ",\n".join(lines) + "\n    }")
        text = text[: -len("\n}")] + ',\n  "histories": {\n' + ",\n".join(blocks) + "\n  }\n}"
    return text + "\n"


_SWEEP_POINTS = "\x00the sweep's points\x00"  # stands for them in the JSON until written a column a line


def _points_object(points: Points, indent: str) -> str:
    """A "points" object (classes, then the x1, x2 and label columns, one a line) as JSON, its lines indented."""
    columns = (("classes", json.dumps(list(points.classes), ensure_ascii=False)), ("x1", _json_column(points.X[:, 0])),
               ("x2", _json_column(points.X[:, 1])), ("label", _json_column(points.y.astype(np.int64))))
    lines = ",\n".join(f'{indent}  "{name}": {values}' for name, values in columns)
    return "{\n" + lines + f"\n{indent}}}"


def _json_column(values: np.ndarray) -> str:
    """A column of numbers as ``json.dumps(values.tolist())`` writes it, made a block at a time: one call for a
    million numbers holds the interpreter lock for half a second, and the window (a save in the background) froze."""
    return "[" + ", ".join(json.dumps(values[i:i + JSON_BLOCK].tolist(), allow_nan=False)[1:-1]
                           for i in range(0, len(values), JSON_BLOCK)) + "]"


def _run_dict(run: RunSpec) -> dict:
    d = run.to_dict()
    if d["batch_size"] >= FULL_BATCH:
        d["batch_size"] = batch_size_text(d["batch_size"])  # "full": the whole training set, whatever its size
    return d


def _indented_list(values) -> str:
    # How json.dumps(indent=2) writes a list of numbers at the second level; written on one line instead.
    return "[\n" + ",\n".join(f"      {v}" for v in values) + "\n    ]"


def save_session(path: str | Path, shared: SharedSettings, runs: Sequence[RunSpec],
                 histories: Mapping[str, History | Sequence] | None = None, seeds: SeedSettings | None = None,
                 sweep: dict | None = None) -> None:
    """Write a session file atomically: afterwards it holds the whole new session, or, on any
    failure, whatever it held before. Raises SessionError when the file cannot be written."""
    text = session_text(shared, runs, histories, seeds, sweep)
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise SessionError(str(exc) if isinstance(exc, WriteError) else f"{_shown_path(path)}: cannot write: "
                           f"{error_reason(exc)}") from None


# Reading

def _describe(value) -> str:
    """A JSON value in a few characters, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, HugeInteger) or isinstance(value, int) and abs(value) >= 10**40:
        return str(value) if isinstance(value, HugeInteger) else str(HugeInteger(value < 0, len(str(abs(value)))))
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _shown_path(path) -> str:
    return shorten(str(path), 160)


def _key(name: str) -> str:
    """A JSON key for a message, cut to a readable length."""
    return shorten(json.dumps(name, ensure_ascii=False))


def _kind_ok(kind: str, value) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "true or false":
        return isinstance(value, bool)
    if kind == "an integer":
        return isinstance(value, (int, HugeInteger)) and not isinstance(value, bool)
    if kind == "a number":
        return isinstance(value, (int, float, HugeInteger)) and not isinstance(value, bool)
    if kind == "a list of integers":
        return isinstance(value, list) and all(_kind_ok("an integer", v) for v in value)
    if kind == "a list of text":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise AssertionError(kind)


class _Reader:
    """Checks a decoded session document; problems raise SessionError, unknown keys become warnings."""

    def __init__(self, source: str):
        self.source = _shown_path(source)
        self.warnings: list[str] = []

    def fail(self, where: str, problem: str):
        raise SessionError(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")

    def obj(self, where: str, value) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"must be an object {{...}}, got {_describe(value)}")
        return value

    def keys(self, where: str, value: dict, required: Sequence[str], optional: Sequence[str] = ()) -> None:
        missing = [k for k in required if k not in value]
        if missing:
            self.fail(where, f"missing {', '.join(missing)}")
        for key in value:
            if key not in required and key not in optional:
                self.warnings.append(f"{where + '.' if where else ''}{shorten(key)}: unknown key, ignored")

    def settings(self, where: str, cls, names: Sequence[str], value, given: dict | None = None):
        """A SharedSettings or RunSpec from an object of its fields (``given``: fields read from elsewhere)."""
        value = self.obj(where, value)
        self.keys(where, value, [n for n in names if n not in OPTIONAL_FIELDS],
                  [n for n in names if n in OPTIONAL_FIELDS])
        values, shown = dict(given or {}), {}
        for name in names:
            if name not in value:
                continue  # an optional field: the settings' default
            kind = _KINDS[name]
            given = value[name]
            if name == "batch_size" and given == "full":
                given = FULL_BATCH
            if not _kind_ok(kind, given):
                full = '; "full" is allowed too' if name == "batch_size" else ""
                self.fail(f"{where}.{name}", f"must be {kind}, got {_describe(given)}{full}")
            values[name] = _checkable(kind, given)
            if values[name] != given:  # a stand-in: show what the file holds
                shown[name] = _describe(given) if kind != "a list of integers" else ",".join(map(str, given))
        try:
            return cls(**values)
        except ValueError as exc:
            # The settings' message reads "field=value: allowed ..."; put the path in front of the field,
            # and show a value too long to repeat (or replaced by a stand-in to be checked) as a description.
            message = short_setting_message(str(exc), values, shown=shown)
            name = message.split("=", 1)[0]
            if name in names:
                raise SessionError(f"{self.source}: {where}.{message}") from None
            self.fail(where, message)

    def history(self, where: str, value, has_test: bool) -> History:
        value = self.obj(where, value)
        columns = HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())
        self.keys(where, value, columns)
        length = None
        for name in columns:
            column = value[name]
            if not isinstance(column, list):
                self.fail(f"{where}.{name}", f"must be a list of numbers, got {_describe(column)}")
            if length is None:
                length = len(column)
            elif len(column) != length:
                self.fail(f"{where}.{name}", f"has {len(column)} values, but {columns[0]} has {length}")
            ok, allowed = _COLUMN_RULES[name]
            integer = name in INT_COLUMNS
            for i, v in enumerate(column):
                typed = isinstance(v, int) if integer else isinstance(v, (int, float)) and math.isfinite(_as_float(v))
                if isinstance(v, bool) or not typed or not ok(v):
                    self.fail(f"{where}.{name}[{i}]", f"must be {allowed}, got {_describe(v)}")
                if integer and v > MAX_INT64:  # the column is int64
                    self.fail(f"{where}.{name}[{i}]", f"must be {allowed} and below 2⁶³, got {_describe(v)}")
        epochs = value["epoch"]
        for i in range(1, len(epochs)):
            if epochs[i] <= epochs[i - 1]:
                self.fail(f"{where}.epoch[{i}]", f"epochs must increase, got {epochs[i]} after {epochs[i - 1]}")
        return History.from_columns(value, has_test)

    def points(self, value) -> Points:
        """The "points" object: x1, x2 and label columns of equal length, classes optional."""
        value = self.obj("points", value)
        self.keys("points", value, POINT_KEYS, ("classes",))
        columns = {}
        for name in POINT_KEYS:
            column = value[name]
            if not isinstance(column, list):
                self.fail(f"points.{name}", f"must be a list of numbers, got {_describe(column)}")
            if len(column) > MAX_POINTS:
                self.fail(f"points.{name}", f"has {len(column):,} values; at most {MAX_POINTS:,} points are allowed")
            try:
                array = np.array(column, dtype=np.float64)
                good = np.isfinite(array) & (array == array.round() if name == "label" else True) \
                    & ((array == 0) | (array == 1) if name == "label" else True)
            except (TypeError, ValueError, OverflowError):
                good = None
            if good is None or not good.all() or any(isinstance(v, bool) for v in column):
                allowed = "0 or 1" if name == "label" else "a finite number"
                for i, v in enumerate(column):
                    ok = not isinstance(v, (bool, str, list, dict)) and v is not None and \
                        math.isfinite(_as_float(v)) and (name != "label" or v in (0, 1))
                    if not ok:
                        self.fail(f"points.{name}[{i}]", f"must be {allowed}, got {_describe(v)}")
            columns[name] = array
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            self.fail("points", "x1, x2 and label must have the same length, got "
                      + ", ".join(f"{len(c)}" for c in columns.values()))
        classes = value.get("classes", ["0", "1"])
        if not (isinstance(classes, list) and len(classes) == 2 and all(isinstance(c, str) and c for c in classes)
                and classes[0] != classes[1]):
            self.fail("points.classes", f"must be a list of two different texts, got {_describe(classes)}")
        return Points(np.column_stack([columns["x1"], columns["x2"]]), columns["label"], tuple(classes))

    def seeds(self, value) -> SeedSettings:
        """The "seeds" object: count, kind and target (each optional: missing means the default)."""
        value = self.obj("seeds", value)
        self.keys("seeds", value, (), _SEED_KINDS)
        values = {}
        for name, kind in _SEED_KINDS.items():
            given = value.get(name)
            if given is None:
                continue
            if not _kind_ok(kind, given):
                self.fail(f"seeds.{name}", f"must be {kind}, got {_describe(given)}")
            values[name] = _checkable(kind, given)
            try:  # the shown seed against the count (checked before it)
                SeedSettings(**{name: values[name]}, **({"count": values.get("count", 1)} if name == "shown" else {}))
            except ValueError as exc:  # "seeds=0: must be ...": the allowed part, and what the file holds
                self.fail(f"seeds.{name}", f"{str(exc).split(': ', 1)[1]}, got {_describe(given)}")
        return SeedSettings(**values)

    def session(self, doc) -> tuple[SharedSettings, tuple[RunSpec, ...], dict[str, History]]:
        if not isinstance(doc, dict):
            self.fail("", f"not an nnviz session: the file holds {_describe(doc)}, not an object {{...}}")
        if doc.get("format") != FORMAT:
            got = f"format {_describe(doc['format'])}" if "format" in doc else "no format"
            self.fail("", f"not an nnviz session: {got}, expected \"format\": \"{FORMAT}\"")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            self.fail("version", f"must be an integer ≥ 1, got {_describe(version) if 'version' in doc else 'none'}")
        if version > VERSION:
            version = _describe(version)
            self.fail("", f"version {version} is newer than this nnviz reads (up to {VERSION}); update nnviz")
        self.keys("", doc, TOP_KEYS[:4], TOP_KEYS[4:])
        points = self.points(doc["points"]) if "points" in doc else None
        names = [name for name in SHARED_FIELDS if name != "points"]
        shared = self.settings("shared", SharedSettings, names, doc["shared"], {"points": points})
        if points is not None and shared.dataset != CUSTOM:
            self.warnings.append(f"points: ignored: the data set is {shared.dataset!r}, not {CUSTOM!r}")
        if not isinstance(doc["runs"], list):
            self.fail("runs", f"must be a list [...], got {_describe(doc['runs'])}")
        runs: list[RunSpec] = []
        for i, value in enumerate(doc["runs"]):
            run = self.settings(f"runs[{i}]", RunSpec, RUN_FIELDS, value)
            for j, other in enumerate(runs):
                if other.name == run.name:
                    self.fail(f"runs[{i}].name", f"{_describe(run.name)} is also the name of runs[{j}]")
            runs.append(run)
        histories = {}
        names = [run.name for run in runs]
        for name, value in self.obj("histories", doc.get("histories", {})).items():
            where = f"histories[{_key(name)}]"
            if name not in names:
                self.fail(where, "no run has that name")
            histories[name] = self.history(where, value, shared.has_test)
        return shared, tuple(runs), histories


# the "seeds" object's keys (the count before the shown seed: it is checked against the count)
_SEED_KINDS = {"count": "an integer", "kind": "text", "target": "a number", "shown": "an integer"}
_PARTIAL_NUMBER = re.compile(r"-?[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]*)?")
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")


def _cut_short(rest: str) -> bool:
    """Whether what follows a JSON error is nothing, or the start of a word or number cut off."""
    return bool(_PARTIAL_NUMBER.fullmatch(rest)) or any(word.startswith(rest) for word in _LITERALS)


def _decode(text: str, source: str, warnings: list[str]):
    def pairs(items):
        seen = {}
        for key, value in items:
            if key in seen:
                warnings.append(f"key {_key(key)} appears twice in one object; the last value is used")
            seen[key] = value
        return seen

    if not text.strip():
        raise SessionError(f"{source}: empty file, not an nnviz session")
    try:
        # parse_float in Python, as parse_int: json's C scanner lets other threads run only when it calls back
        # into Python, and a million points read in the background froze the window for 0.7 s.
        return json.loads(text, object_pairs_hook=pairs, parse_int=_parse_int, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
        # An unterminated string, or an error at the very end or on a cut word or number
        # ("tru", "0.", "-") ending the text, means the text stops early.
        if exc.msg.startswith("Unterminated string") or _cut_short(text[exc.pos:].rstrip()):
            raise SessionError(f"{source}: truncated: the JSON stops early ({where})") from None
        raise SessionError(f"{source}: not valid JSON: {where}") from None
    except RecursionError:
        raise SessionError(f"{source}: not an nnviz session: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise SessionError(f"{source}: not valid JSON: {exc}") from None


def parse_session(text: str, source: str = "<session>") -> Session:
    """A Session from the text of a session file; ``source`` names it in messages."""
    warnings: list[str] = []
    doc = _decode(text, source, warnings)
    reader = _Reader(source)
    shared, runs, histories = reader.session(doc)
    seeds = reader.seeds(doc["seeds"]) if "seeds" in doc else SeedSettings()
    sweep = None
    if "sweep" in doc:
        try:
            SweepStudy.from_doc(doc["sweep"], shared.points)
        except ValueError as exc:  # "sweep.axes[0].low: must be ...": the field and what is allowed
            raise SessionError(f"{source}: {shorten(str(exc), 300)}") from None
        sweep = doc["sweep"]
    return Session(shared, runs, histories, tuple(warnings + reader.warnings), seeds=seeds, sweep=sweep)


def load_session(path: str | Path) -> Session:
    """Read and check a session file. Raises SessionError (one line: the file and the problem)."""
    path = Path(path)
    shown = _shown_path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SessionError(f"{shown}: no such file") from None
    except IsADirectoryError:
        raise SessionError(f"{shown}: is a folder, not a session file") from None
    except OSError as exc:
        raise SessionError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionError(f"{shown}: not an nnviz session: not UTF-8 text (byte {exc.start})") from None
    session = parse_session(text, str(path))
    return Session(session.shared, session.runs, session.histories, session.warnings, path, session.seeds,
                   session.sweep)


# Export

def comparison_csv(histories: Mapping[str, History], has_test: bool) -> str:
    """Histories in long form: one row per run and epoch, floats at full precision.

    Columns: run, epoch, cost, accuracy, learning_rate, updates, samples, elapsed_s, and
    test_cost, test_accuracy when ``has_test``. Run names are quoted as CSV needs.
    """
    for name, history in histories.items():
        if has_test and not history.has_test:
            raise ValueError(f"history of {quoted(name)}: has no test columns")
    return long_csv(histories, HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ()))


def seeds_csv(blocks: Iterable[tuple[str, int, Mapping[str, Sequence]]], has_test: bool) -> str:
    """Runs repeated over seeds in long form: one row per run, seed and epoch, floats at full precision.

    ``blocks``: (run name, seed as the user counts it: 1 is the run's own, per-epoch columns as
    ``History.arrays`` gives them). Columns: run, seed, then those of ``comparison_csv``; a NaN (the
    elapsed_s of a seed trained apart from its run, which has no clock of its own) is written empty.
    """
    columns = HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())
    lines = [",".join(("run", "seed", *columns))]
    for name, seed, values in blocks:
        if has_test and "test_cost" not in values:
            raise ValueError(f"seed {seed} of {quoted(name)}: has no test columns")
        data = [np.asarray(values[c]).tolist() for c in columns]
        prefix = [csv_field(name), str(seed)]
        lines.extend(",".join([*prefix, *("" if v != v else repr(v) for v in row)]) for row in zip(*data, strict=True))
    return "\n".join(lines) + "\n"
