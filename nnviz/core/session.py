"""Session files (``.nnviz.json``) and the long-form CSV of a comparison's histories.

A session file is one JSON object::

    {"format": "nnviz-session", "version": 1,
     "shared": {dataset, n_samples, noise, test_fraction, data_seed, shape, activation, init_seed, engine},
     "runs": [{name, colour, visible, learning_rate, batch_size, momentum, schedule, gamma,
               step_every, step_factor, l2, epochs}, ...],
     "histories": {run name: {epoch: [...], cost: [...], ...}}}      (optional, per run)

Floats are written with ``repr``, so a saved and reopened session holds the very same
numbers. Loading checks everything and raises SessionError with one line naming the
file, the place in it (``runs[2].learning_rate``) and what is allowed; keys it does not
know are reported in ``Session.warnings``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
from nnviz.core.files import write_atomic

FORMAT = "nnviz-session"
VERSION = 1  # the newest version this code reads and the one it writes
SUFFIX = ".nnviz.json"
TOP_KEYS = ("format", "version", "shared", "runs", "histories")

# What JSON value each field takes, in words for the messages.
_KINDS = {
    "dataset": "text", "n_samples": "an integer", "noise": "a number", "test_fraction": "a number",
    "data_seed": "an integer", "shape": "a list of integers", "activation": "text", "init_seed": "an integer",
    "engine": "text", "name": "text", "colour": "text", "visible": "true or false",
    "learning_rate": "a number", "batch_size": "an integer", "momentum": "a number", "schedule": "text",
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
class Session:
    """What a session file holds."""

    shared: SharedSettings
    runs: tuple[RunSpec, ...]
    histories: dict[str, History] = field(default_factory=dict)  # by run name; only runs saved with one
    warnings: tuple[str, ...] = ()  # keys the file has that this version does not know (ignored)
    path: Path | None = None


# Writing

def _as_history(value, has_test: bool) -> History:
    if isinstance(value, History):
        return value
    return History.from_records(value, has_test)


def session_text(shared: SharedSettings, runs: Sequence[RunSpec],
                 histories: Mapping[str, History | Sequence] | None = None) -> str:
    """The JSON text of a session; settings indented, each history column on one line.

    ``histories`` maps run names to a History or a sequence of EpochRecords.
    Raises ValueError for duplicate run names or a history of no run.
    """
    names = [run.name for run in runs]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"name={name!r}: two runs have that name")
    for name in histories or {}:
        if name not in names:
            raise ValueError(f"histories: {name!r} is the name of no run")
    doc = {"format": FORMAT, "version": VERSION, "shared": shared.to_dict(), "runs": [run.to_dict() for run in runs]}
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False)
    text = text.replace(_indented_list(shared.shape), json.dumps(list(shared.shape)), 1)
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


def _indented_list(values) -> str:
    # How json.dumps(indent=2) writes a list of numbers at the second level; written on one line instead.
    return "[\n" + ",\n".join(f"      {v}" for v in values) + "\n    ]"


def save_session(path: str | Path, shared: SharedSettings, runs: Sequence[RunSpec],
                 histories: Mapping[str, History | Sequence] | None = None) -> None:
    """Write a session file atomically: afterwards it holds the whole new session, or, on any
    failure, whatever it held before. Raises SessionError when the file cannot be written."""
    text = session_text(shared, runs, histories)
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise SessionError(f"{path}: cannot write: {exc.strerror or exc}") from None


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
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind_ok(kind: str, value) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "true or false":
        return isinstance(value, bool)
    if kind == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "a number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "a list of integers":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    raise AssertionError(kind)


class _Reader:
    """Checks a decoded session document; problems raise SessionError, unknown keys become warnings."""

    def __init__(self, source: str):
        self.source = source
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
                self.warnings.append(f"{where + '.' if where else ''}{key}: unknown key, ignored")

    def settings(self, where: str, cls, names: Sequence[str], value):
        """A SharedSettings or RunSpec from an object of its fields."""
        value = self.obj(where, value)
        self.keys(where, value, names)
        for name in names:
            kind = _KINDS[name]
            if not _kind_ok(kind, value[name]):
                self.fail(f"{where}.{name}", f"must be {kind}, got {_describe(value[name])}")
        try:
            return cls(**{name: value[name] for name in names})
        except ValueError as exc:
            # The settings' message reads "field=value: allowed ..."; put the path in front of the field.
            message = str(exc)
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
                typed = isinstance(v, int) if integer else isinstance(v, (int, float)) and math.isfinite(v)
                if isinstance(v, bool) or not typed or not ok(v):
                    self.fail(f"{where}.{name}[{i}]", f"must be {allowed}, got {_describe(v)}")
        epochs = value["epoch"]
        for i in range(1, len(epochs)):
            if epochs[i] <= epochs[i - 1]:
                self.fail(f"{where}.epoch[{i}]", f"epochs must increase, got {epochs[i]} after {epochs[i - 1]}")
        return History.from_columns(value, has_test)

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
            self.fail("", f"version {version} is newer than this nnviz reads (up to {VERSION}); update nnviz")
        self.keys("", doc, TOP_KEYS[:4], TOP_KEYS[4:])
        shared = self.settings("shared", SharedSettings, SHARED_FIELDS, doc["shared"])
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
            where = f"histories[{json.dumps(name, ensure_ascii=False)}]"
            if name not in names:
                self.fail(where, "no run has that name")
            histories[name] = self.history(where, value, shared.has_test)
        return shared, tuple(runs), histories


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
                warnings.append(f"key {json.dumps(key)} appears twice in one object; the last value is used")
            seen[key] = value
        return seen

    if not text.strip():
        raise SessionError(f"{source}: empty file, not an nnviz session")
    try:
        return json.loads(text, object_pairs_hook=pairs)
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
    return Session(shared, runs, histories, tuple(warnings + reader.warnings))


def load_session(path: str | Path) -> Session:
    """Read and check a session file. Raises SessionError (one line: the file and the problem)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SessionError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SessionError(f"{path}: is a folder, not a session file") from None
    except OSError as exc:
        raise SessionError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SessionError(f"{path}: not an nnviz session: not UTF-8 text (byte {exc.start})") from None
    session = parse_session(text, str(path))
    return Session(session.shared, session.runs, session.histories, session.warnings, path)


# Export

def comparison_csv(histories: Mapping[str, History], has_test: bool) -> str:
    """Histories in long form: one row per run and epoch, floats at full precision.

    Columns: run, epoch, cost, accuracy, learning_rate, updates, samples, elapsed_s, and
    test_cost, test_accuracy when ``has_test``. Run names are quoted as CSV needs.
    """
    columns = HISTORY_COLUMNS + (TEST_COLUMNS if has_test else ())
    lines = [",".join(("run",) + columns)]
    for name, history in histories.items():
        if has_test and not history.has_test:
            raise ValueError(f"history of {name!r}: has no test columns")
        quoted = _csv_field(name)
        data = history.to_columns()
        for values in zip(*(data[c] for c in columns), strict=True):
            lines.append(",".join([quoted, *map(repr, values)]))
    return "\n".join(lines) + "\n"


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text
