"""A user's own points as CSV: reading (with one-line errors naming the line and column), writing, shuffling, rescaling.

The file holds two feature columns and a label column, with or without a header line, separated by commas,
semicolons or tabs. Labels are 0/1 or any two distinct values (numbers or text), mapped to 0 and 1 in sorted
order. Rows are read a block of lines at a time with numpy, so a million points take a second or two, and the
reading can be stopped between blocks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from itertools import repeat
from pathlib import Path

import numpy as np

from nnviz.core.datasets import MAX_POINTS, Points, shuffled  # noqa: F401 (re-exported)
from nnviz.core.files import csv_field, write_atomic
from nnviz.core.text import quoted, shorten
from nnviz.core.training import Stopped

MIN_POINTS = 4  # the fewest: enough for a training and a test point of each class
MAX_BYTES = 256 * 2**20  # a file larger than this cannot hold MAX_POINTS sensible rows; refused before reading
BLOCK_LINES = 65_536  # lines parsed at a time (between two checks of should_stop)
PIECE_CHARS = 1 << 20  # characters split into lines at a time (each call short: the GIL is released between)
SNIFF_LINES = 10  # lines looked at to choose the separator
SEPARATORS = ("\t", ";", ",")  # in order of preference when several fit
LABEL_NAMES = ("label", "class", "target", "y")  # header names taken for the label column, the first found
SET_NAME = "set"  # a header column of train/test marks (written by write_points), ignored when reading
DEFAULT_NAMES = ("x1", "x2", "label")


class PointsError(ValueError):
    """A file of points could not be read; ``str()`` is one line naming the file, line and column."""


# Reading

def _unquote(text: str) -> str:
    """A field without surrounding spaces and one pair of surrounding double quotes."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"').strip()
    return text


def _number(text: str) -> float | None:
    """The finite number a field holds, or None."""
    try:
        value = float(_unquote(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _class_key(text: str):
    """What makes two labels the same class: their value for numbers ("1" and "1.0"), else their text."""
    value = _number(text)
    return ("number", value) if value is not None else ("text", text)


def _sorted_keys(keys: list) -> list:
    """Class keys in the 0/1 order: numerically when both are numbers, else as text."""
    if all(kind == "number" for kind, _ in keys):
        return sorted(keys, key=lambda k: k[1])
    return sorted(keys, key=lambda k: str(k[1]))


def _separator(lines: list[str]) -> str:
    """The separator of the first few lines: one that splits them all alike, preferring tab, then ``;``, then ``,``."""
    for sep in SEPARATORS:
        counts = {line.count(sep) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return sep
    return max(SEPARATORS, key=lambda sep: lines[0].count(sep))  # none fits all: the error will name the line


class _Layout:
    """Which fields of a row are the features and the label, and their names for messages."""

    def __init__(self, names: list[str], features: list[int], label: int):
        self.names, self.features, self.label, self.n_fields = names, features, label, len(names)

    def expected(self) -> str:
        return f"expected {self.n_fields} ({', '.join(shorten(n, 30) for n in self.names)})"


def _layout(fields: list[str], line_no: int) -> _Layout | None:
    """The layout a header line gives, or None when the first line holds data (its first two fields are numbers)."""
    names = [_unquote(f) for f in fields]
    if any(_is_number(n) for n in names[:2]):
        return None
    lower = [n.lower() for n in names]
    others = [i for i, n in enumerate(lower) if n != SET_NAME]
    if len(others) != 3 or len(others) < len(names) - 1:
        shown = ", ".join(shorten(n, 30) for n in names[:6]) + (", ..." if len(names) > 6 else "")
        plural = "s" if len(names) != 1 else ""
        raise PointsError(f"line {line_no}: a header of {len(names)} column{plural} ({shown}); expected 3: two "
                          f"features and a label ({', '.join(LABEL_NAMES)}), and optionally {SET_NAME}")
    # "y" names the label unless an "x" column makes it the second coordinate
    names_of_label = [n for n in LABEL_NAMES if n != "y" or "x" not in lower]
    label = next((i for n in names_of_label for i in others if lower[i] == n), others[-1])
    return _Layout([n or f"column {i + 1}" for i, n in enumerate(names)], [i for i in others if i != label], label)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _Classes:
    """The labels seen so far: at most two classes, in order of first appearance."""

    def __init__(self, column: str):
        self.column = column
        self.keys: list = []  # class keys in order of appearance
        self.texts: list[str] = []  # the first text seen of each
        self.index: dict[str, int] = {}  # raw field -> position in keys

    def codes(self, labels: list[str], line_nos: np.ndarray) -> tuple[np.ndarray, tuple[int, str] | None]:
        """Each label's position in ``keys`` (for the rows before the first bad one), and that row's error."""
        new = {raw: _class_key(_unquote(raw)) for raw in set(labels) if raw not in self.index}
        error = None
        if new:
            left = len(new)
            for row, raw in enumerate(labels):  # in order, to name the first bad row
                if raw in self.index:
                    continue
                left -= 1
                text = _unquote(raw)
                if not text:
                    error = (row, f"line {line_nos[row]}, column {self.column}: empty; a label is needed")
                    break
                key = new[raw]
                if key not in self.keys:
                    if len(self.keys) == 2:
                        shown = ", ".join(self.texts[self.keys.index(k)] for k in _sorted_keys(self.keys))
                        error = (row, f"line {line_nos[row]}, column {self.column}: {quoted(text)} is not one of "
                                      f"the two classes {shorten(shown, 80)}")
                        break
                    self.keys.append(key)
                    self.texts.append(text)
                self.index[raw] = self.keys.index(key)
                if not left:
                    break
        end = len(labels) if error is None else error[0]
        codes = np.fromiter(map(self.index.__getitem__, labels[:end]), dtype=np.float64, count=end)
        return codes, error


def _features(column: list[str], name: str, line_nos: np.ndarray) -> tuple[np.ndarray, tuple[int, str] | None]:
    """A feature column as floats, and the first bad row's error (a field that is not a finite number)."""
    try:
        values = np.array(column, dtype=np.float64)
    except ValueError:  # some field is not a number as numpy reads it: look field by field (quotes allowed)
        values = np.empty(len(column))
        for row, field in enumerate(column):
            text = _unquote(field)
            try:
                values[row] = float(text)
            except ValueError:
                problem = "empty; a number is needed" if not text else f"{quoted(text)} is not a number"
                return values[:row], (row, f"line {line_nos[row]}, column {name}: {problem}")
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        return values[:row], (row, f"line {line_nos[row]}, column {name}: {shorten(_unquote(column[row]), 40)} "
                                   "is not a finite number")
    return values, None


def _split_lines(text: str, should_stop) -> list[str]:
    """``text.replace("\\r\\n", "\\n").replace("\\r", "\\n").split("\\n")``, a piece of about PIECE_CHARS at a time:
    one call over a whole big file would hold the GIL (and freeze the window) for a tenth of a second."""
    lines: list[str] = []
    pos, n = 0, len(text)
    while True:
        if should_stop is not None and should_stop():
            raise Stopped
        end = pos + PIECE_CHARS
        if end >= n:
            lines.extend(text[pos:].replace("\r\n", "\n").replace("\r", "\n").split("\n"))
            return lines
        cut = max(text.rfind("\n", pos, end), text.rfind("\r", pos, end - 1))  # a "\r\n" stays whole
        if cut < pos:  # a line longer than a piece: to its end
            found = [i for i in (text.find("\n", end), text.find("\r", end)) if i >= 0]
            if not found:
                lines.extend(text[pos:].replace("\r\n", "\n").replace("\r", "\n").split("\n"))
                return lines
            cut = min(found)
        if text[cut] == "\r" and cut + 1 < n and text[cut + 1] == "\n":
            cut += 1
        lines.extend(text[pos:cut + 1].replace("\r\n", "\n").replace("\r", "\n").split("\n")[:-1])
        pos = cut + 1


def _parse(text: str, should_stop, progress) -> Points:
    """Points from CSV text; PointsError (without the file's name) for anything wrong."""
    lines = _split_lines(text, should_stop)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise PointsError("empty file: no points")
    sniffed = [first]
    for i in range(first + 1, len(lines)):
        if len(sniffed) == SNIFF_LINES:
            break
        if lines[i].strip():
            sniffed.append(i)
    sep = _separator([lines[i] for i in sniffed])
    layout = _layout(lines[first].split(sep), first + 1)
    start = first + 1 if layout is not None else first
    if layout is None:
        layout = _Layout(list(DEFAULT_NAMES), [0, 1], 2)
    rest = lines[start:]
    if len(rest) - rest.count("") > MAX_POINTS:
        n_rows = sum(1 for line in rest if line.strip())
        if n_rows > MAX_POINTS:
            raise PointsError(f"{n_rows:,} points; at most {MAX_POINTS:,}")
    classes = _Classes(layout.names[layout.label])
    columns: list[list[np.ndarray]] = [[], [], []]  # x1, x2, label codes, a block at a time
    n_fields = layout.n_fields
    for block_start in range(0, len(rest), BLOCK_LINES):
        if should_stop is not None and should_stop():
            raise Stopped
        block = rest[block_start:block_start + BLOCK_LINES]
        line_nos = np.arange(len(block)) + (start + block_start + 1)
        counts = np.fromiter(map(str.count, block, repeat(sep)), dtype=np.int64, count=len(block))
        pending = None
        wrong = np.flatnonzero(counts != n_fields - 1)
        if len(wrong):
            keep = np.ones(len(block), dtype=bool)
            keep[wrong] = [not block[i].strip() for i in wrong]  # True now marks the blank lines
            blank = wrong[keep[wrong]]
            bad = wrong[~keep[wrong]]
            keep[:] = True
            keep[blank] = False
            if len(bad):  # rows before the first bad line are still checked: the earliest problem is named
                row = int(bad[0])
                found = counts[row] + 1
                pending = f"line {line_nos[row]}: {found} column{'s' if found != 1 else ''}, {layout.expected()}"
                keep[row:] = False
            line_nos = line_nos[keep]
            block = [block[i] for i in np.flatnonzero(keep)]
        fields = sep.join(block).split(sep) if block else []
        results = [_features(fields[f::n_fields], layout.names[f], line_nos) for f in layout.features]
        results.append(classes.codes(fields[layout.label::n_fields], line_nos))
        errors = [error for _, error in results if error is not None]
        if errors:
            raise PointsError(min(errors, key=lambda e: e[0])[1])
        if pending is not None:
            raise PointsError(pending)
        for column, (values, _) in zip(columns, results, strict=True):
            column.append(values)
        if progress is not None:
            progress(min(block_start + BLOCK_LINES, len(rest)) / len(rest))
    n = sum(len(c) for c in columns[0])
    if n == 0:
        raise PointsError("no points after the header" if start > first else "empty file: no points")
    if len(classes.keys) < 2:
        raise PointsError(f"column {classes.column}: only one class ({quoted(classes.texts[0])}); two are needed")
    if n < MIN_POINTS:
        raise PointsError(f"{n} points; at least {MIN_POINTS} are needed")
    X = np.column_stack([np.concatenate(columns[0]), np.concatenate(columns[1])])
    y = np.concatenate(columns[2])
    order = _sorted_keys(classes.keys)
    if order != classes.keys:  # the first class seen sorts second
        y = 1.0 - y
    return Points(X, y, tuple(classes.texts[classes.keys.index(k)] for k in order))


def _decode(data: bytes) -> str:
    """The text of a file's bytes; PointsError for binary data (a NUL byte) or bytes that are not UTF-8."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise PointsError(f"line {_line_at(data, nul)}: binary data, not CSV text (a NUL byte at byte offset {nul:,})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PointsError(f"line {_line_at(data, exc.start)}: not UTF-8 text (byte offset {exc.start:,})") from None


def _line_at(data: bytes, offset: int) -> int:
    """The line number of a byte offset."""
    return data.count(b"\n", 0, offset) + 1


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise PointsError(f"{size / 2**20:,.0f} MB; at most {MAX_BYTES / 2**20:,.0f} MB ({MAX_POINTS:,} points)")
        return path.read_bytes()
    except FileNotFoundError:
        raise PointsError("no such file") from None
    except IsADirectoryError:
        raise PointsError("is a folder, not a CSV file") from None
    except OSError as exc:
        raise PointsError(f"cannot read: {exc.strerror or exc}") from None


def _is_content(text: str) -> bool:
    """Whether a str is a file's content rather than its path: content of any use has line breaks."""
    return "\n" in text or "\r" in text


def read_points(source: str | bytes | os.PathLike, should_stop: Callable[[], bool] | None = None,
                progress: Callable[[float], None] | None = None) -> Points:
    """Points from a CSV file or its content.

    ``source`` is the file's path (a path object, or a str without line breaks) or its content (bytes, or a
    str with line breaks or empty: a file of points always has several lines).

    Two feature columns and a label column, separated by commas, semicolons or tabs (found from the first lines).
    A first line whose first two fields are not numbers is a header: its column named label, class, y or target
    (any case) is the label, the other two the features in their order, and a column named ``set`` is ignored;
    without such a name the last column is the label. Labels are any two distinct values, numbers (``1`` and
    ``1.0`` are one class) or text, mapped to 0 and 1 in sorted order (numbers numerically, else as text).
    Blank lines are skipped; rows keep the file's order.

    Parameters
    ----------
    source : path object or str, or bytes
    should_stop : callable() -> bool, or None
        Asked before every block of BLOCK_LINES lines: training.Stopped when it says so.
    progress : callable(float), or None
        Called after every block with the fraction of lines read.

    Returns
    -------
    Points with X of shape (n_points, 2) and y of shape (n_points,); MIN_POINTS <= n_points <= MAX_POINTS.

    Raises PointsError (a ValueError) of one line, starting with the file's name when read from a path:
    ``data.csv: line 17, column label: 'cat' is not one of the two classes 0, 1``.
    """
    name = None
    try:
        if isinstance(source, bytes) or isinstance(source, str) and (not source or _is_content(source)):
            data = source
        else:
            name = shorten(os.fspath(source), 160)
            data = _read_file(Path(source))
        if isinstance(data, str) and "\0" in data:
            data = data.encode("utf-8", "surrogatepass")  # to name the NUL's byte offset
        if isinstance(data, bytes):
            data = _decode(data)
        return _parse(data.removeprefix("\ufeff"), should_stop, progress)
    except PointsError as exc:
        if name is None:
            raise
        raise PointsError(f"{name}: {exc}") from None


# Writing

def write_points(path: str | os.PathLike, X: np.ndarray, y: np.ndarray, classes: tuple[str, str] = ("0", "1"),
                 X_test: np.ndarray | None = None, y_test: np.ndarray | None = None) -> None:
    """Write points as CSV atomically (files.write_atomic): header ``x1,x2,label``, then one row per point.

    With test points, a ``set`` column says ``train`` or ``test`` and the test rows follow the training rows.
    Floats are written at full precision (repr) and labels as ``classes[y]``, so ``read_points`` gives back the
    very same arrays (training rows first) and classes.

    Parameters
    ----------
    X : ndarray of shape (n_train, 2), y : ndarray of shape (n_train,) or (n_train, 1), values 0 or 1
    classes : the labels written for class 0 and class 1; they must sort in that order (as read_points sorts)
    X_test : ndarray of shape (n_test, 2) or None, y_test : ndarray of shape (n_test,) or (n_test, 1) or None

    Raises ValueError (one line) for arrays of the wrong shape or values, or classes that would not read back;
    files.WriteError (an OSError) when the file cannot be written.
    """
    write_atomic(path, points_text(X, y, classes, X_test, y_test))


def points_text(X: np.ndarray, y: np.ndarray, classes: tuple[str, str] = ("0", "1"), X_test: np.ndarray | None = None,
                y_test: np.ndarray | None = None) -> str:
    """The CSV text ``write_points`` writes (see there); ValueError for arrays or classes it refuses."""
    classes = tuple(str(c) for c in classes)
    _check_classes(classes)
    sets = [("train", X, y, "X, y")]
    if X_test is not None or y_test is not None:
        if X_test is None or y_test is None:
            raise ValueError("X_test, y_test: give both or neither")
        if len(X_test):
            sets.append(("test", X_test, y_test, "X_test, y_test"))
    with_set = len(sets) == 2
    lines = ["x1,x2,label" + (",set" if with_set else "")]
    for set_name, features, labels, names in sets:
        features, labels = _checked(features, labels, names)
        suffix = f",{set_name}" if with_set else ""
        texts = [csv_field(c) + suffix for c in classes]
        lines.extend(f"{a!r},{b!r},{texts[label]}"
                     for a, b, label in zip(features[:, 0].tolist(), features[:, 1].tolist(),
                                            labels.astype(np.int64).tolist(), strict=True))
    return "\n".join(lines) + "\n"


def _check_classes(classes: tuple[str, ...]) -> None:
    if len(classes) != 2:
        raise ValueError(f"classes: two labels are needed, got {len(classes)}")
    for text in classes:
        if not text or text != _unquote(text) or any(c in text for c in ',;\t"\r\n'):
            raise ValueError(f"classes: {quoted(text)} cannot be written as a label: it must be non-empty text "
                             "without separators, quotes, line breaks or surrounding spaces")
    keys = [_class_key(c) for c in classes]
    if keys[0] == keys[1]:
        raise ValueError(f"classes: {quoted(classes[0])} and {quoted(classes[1])} are the same class")
    if _sorted_keys(keys) != keys:
        raise ValueError(f"classes: {quoted(classes[0])}, {quoted(classes[1])} must be in sorted order (class 0 "
                         "first), as they are read back")


def _checked(X, y, names: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or y.reshape(-1).shape != (len(X),):
        raise ValueError(f"{names}: shapes (n, 2) and (n,) needed, got {X.shape} and {y.shape}")
    if not np.isfinite(X).all():
        raise ValueError(f"{names.split(',')[0]}: all values must be finite numbers")
    y = y.reshape(-1)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"{names.split(', ')[1]}: labels must be 0 or 1")
    return X, y


# Order and scale

def rescaled(points: Points) -> Points:
    """The points rescaled as the notebook rescales its generated ("hard") data: each feature centred on its
    mean, then divided by its variance (not the standard deviation: a wide feature ends up narrower than
    a standard score would make it). A feature with a single value is only centred (all zeros).

    Raises ValueError when the result is not finite (a variance so small that the division overflows).
    """
    X = points.X
    variance = X.var(axis=0)
    result = (X - X.mean(axis=0)) / np.where(variance > 0, variance, 1.0)
    if not np.isfinite(result).all():
        raise ValueError("rescale: the features' spread is too small to divide by; leave the points unscaled")
    return Points(result, points.y, points.classes)
