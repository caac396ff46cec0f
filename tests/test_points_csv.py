"""A user's points as CSV: the formats read, each malformed file refused by line and column, write then read,
the notebook's shuffle and rescale."""

import os

import numpy as np
import pytest

from nnviz.core import points_csv
from nnviz.core.datasets import Dataset
from nnviz.core.points_csv import Points, PointsError, read_points, rescaled, shuffled, write_points
from nnviz.core.training import Stopped

X = np.array([[0.5, -1.25], [3.0, 4.0], [-2.5, 0.125], [7.0, 1e-3], [1.5, 2.5]])
Y01 = np.array([0, 1, 1, 0, 1])


def csv_text(labels, sep=",", header=None, x=X):
    lines = [sep.join(header)] if header else []
    lines += [sep.join([repr(a), repr(b), str(label)]) for (a, b), label in zip(x.tolist(), labels, strict=True)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("sep", [",", ";", "\t"])
@pytest.mark.parametrize("header", [None, ("x1", "x2", "label"), ("width", "height", "kind")])
@pytest.mark.parametrize("names, classes", [
    ((0, 1), ("0", "1")),
    ((-1, 1), ("-1", "1")),
    (("dog", "cat"), ("cat", "dog")),  # text sorted as text: cat is class 0
    (("2.0", "1.0"), ("1.0", "2.0")),  # numbers sorted numerically
    ((10, 9), ("9", "10")),  # numerically, not as text ("10" < "9")
])
def test_formats_read_to_the_same_points(sep, header, names, classes):
    labels = [names[v] for v in Y01]
    points = read_points(csv_text(labels, sep, header))
    assert np.array_equal(points.X, X)
    expected = np.array([classes.index(str(label)) for label in labels], dtype=float)
    assert np.array_equal(points.y, expected)
    assert points.classes == classes
    assert points.X.dtype == points.y.dtype == np.float64 and points.y.shape == (len(X),)


def test_a_header_names_the_label_column_anywhere():
    text = "class;a;b\ncat;1;2\ndog;3;4\ncat;5;6\ndog;7;8\n"
    points = read_points(text)
    assert points.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]
    assert points.y.tolist() == [0, 1, 0, 1]
    # "y" beside an "x" is a coordinate, "label" the label
    points = read_points("x,label,y\n1,b,2\n3,a,4\n5,b,6\n7,a,8\n")
    assert points.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and points.y.tolist() == [1, 0, 1, 0]


def test_numeric_labels_of_one_value_are_one_class_and_text_bytes_blank_lines_are_read():
    text = '1,2,1\r\n\r\n3,4,1.0\r\n5,6,"0"\r\n  \r\n7,8,0\r\n'
    for source in (text, text.encode(), ("\ufeff" + text).encode()):
        points = read_points(source)
        assert points.y.tolist() == [1, 1, 0, 0] and points.classes == ("0", "1")
        assert points.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]]


GOOD = "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,4,1\n5,6,1\n7,8,0\n9,10\n", "line 5: 2 columns, expected 3 (x1, x2, label)"),
    ("a,b,c\n1,2,0\n3,4,1,9\n", "line 3: 4 columns, expected 3 (a, b, c)"),
    ("1,2,1\n3,4,1\n5,6,1\n7,8,1\n", "column label: only one class ('1'); two are needed"),
    (GOOD + "9,10,cat\n", "line 5, column label: 'cat' is not one of the two classes 0, 1"),
    (GOOD + "9,10,2\n", "line 5, column label: '2' is not one of the two classes 0, 1"),
    ("u;v;kind\n1;2;b\n3;4;a\n5;6;c\n", "line 4, column kind: 'c' is not one of the two classes a, b"),
    (GOOD + "9,abc,1\n", "line 5, column x2: 'abc' is not a number"),
    (GOOD + "9,,1\n", "line 5, column x2: empty; a number is needed"),
    (GOOD + "9,10,\n", "line 5, column label: empty; a label is needed"),
    (GOOD + "nan,10,1\n", "line 5, column x1: nan is not a finite number"),
    (GOOD + "9,-inf,1\n", "line 5, column x2: -inf is not a finite number"),
    (GOOD + "9,1e400,1\n", "line 5, column x2: 1e400 is not a finite number"),
    ("", "empty file: no points"),
    ("\n  \n", "empty file: no points"),
    ("x1,x2,label\n", "no points after the header"),
    ("x1,x2,label\n\n\n", "no points after the header"),
    ("1,2,0\n3,4,1\n5,6,1\n", "3 points; at least 4 are needed"),
    ("a,b\n1,2\n", "line 1: a header of 2 columns (a, b); expected 3: two features and a label (label, class, "
                   "target, y), and optionally set"),
    # the earliest problem is named, whatever its kind
    ("1,2,0\n3,x,1\n5,6\n7,8,1\n", "line 2, column x2: 'x' is not a number"),
    ("1,2,0\n3,4,1\n5,6\n7,x,1\n", "line 3: 2 columns, expected 3 (x1, x2, label)"),
    ("1,2,0\n3,4,1\n5,6,dog\nx,8,1\n", "line 3, column label: 'dog' is not one of the two classes 0, 1"),
])
def test_malformed_files_are_refused_by_line_and_column(text, message):
    with pytest.raises(PointsError) as caught:
        read_points(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("data, message", [
    (b"1,2,0\n3,4\x00,1\n", "line 2: binary data, not CSV text (a NUL byte at byte offset 9)"),
    (b"\x89PNG\r\n\x1a\n", "line 1: not UTF-8 text (byte offset 0)"),
    (b"1,2,0\n3,4,\xe9t\xe9\n", "line 2: not UTF-8 text (byte offset 10)"),
    ("1,2,0\nx\x00y\n", "line 2: binary data, not CSV text (a NUL byte at byte offset 7)"),
])
def test_binary_junk_is_refused_with_its_byte_offset(data, message):
    with pytest.raises(PointsError, match=f"^{message}$".replace("(", r"\(").replace(")", r"\)")):
        read_points(data)


def test_a_file_s_name_starts_every_message(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(GOOD + "9,10,cat\n")
    with pytest.raises(PointsError) as caught:
        read_points(path)
    assert str(caught.value) == f"{path}: line 5, column label: 'cat' is not one of the two classes 0, 1"
    path.write_bytes(b"\x00junk")
    with pytest.raises(PointsError, match="^.*mine.csv: line 1: binary data, not CSV text"):
        read_points(path)
    with pytest.raises(PointsError) as caught:
        read_points(tmp_path / "absent.csv")
    assert str(caught.value) == f"{tmp_path / 'absent.csv'}: no such file"
    with pytest.raises(PointsError) as caught:
        read_points(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a folder, not a CSV file"
    path.write_text(GOOD)
    assert read_points(str(path)).y.tolist() == [0, 1, 0, 1]  # a str without line breaks is a path
    with pytest.raises(PointsError, match="^absent.csv: no such file$"):
        read_points("absent.csv")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions (not root)")
def test_an_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "locked.csv"
    path.write_text(GOOD)
    path.chmod(0)
    with pytest.raises(PointsError) as caught:
        read_points(path)
    assert str(caught.value) == f"{path}: cannot read: Permission denied"


def test_a_file_that_cannot_be_read_is_one_line(tmp_path, monkeypatch):
    path = tmp_path / "locked.csv"
    path.write_text(GOOD)

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    with pytest.raises(PointsError) as caught:
        read_points(path)
    assert str(caught.value) == f"{path}: cannot read: Permission denied"


def test_a_file_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    path.write_text(GOOD * 100_000)  # 2.4 MB
    monkeypatch.setattr(points_csv, "MAX_BYTES", 2**20)
    with pytest.raises(PointsError, match=r"huge.csv: 2 MB; at most 1 MB \(1,000,000 points\)$"):
        read_points(path)


def test_more_points_than_allowed_are_refused(monkeypatch):
    monkeypatch.setattr(points_csv, "MAX_POINTS", 5)
    text = "x1,x2,label\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(6)) + "\n"
    with pytest.raises(PointsError, match=r"^6 points; at most 5$"):
        read_points(text)
    assert len(read_points(text.replace("5,5,1\n", ""))) == 5
    big = "\n".join(f"{i},{i},{i % 2}" for i in range(1234)) + "\n"
    with pytest.raises(PointsError, match=r"^1,234 points; at most 5$"):
        read_points(big)


def test_write_then_read_gives_identical_arrays(tmp_path):
    rng = np.random.default_rng(3)
    X_train, X_test = rng.normal(size=(50, 2)) * [1e-7, 3e5], rng.normal(size=(9, 2))
    y_train, y_test = rng.integers(0, 2, 50).astype(float), rng.integers(0, 2, 9).astype(float).reshape(-1, 1)
    path = tmp_path / "out.csv"
    write_points(path, X_train, y_train, ("cat", "dog"), X_test, y_test)
    header, first = path.read_text().splitlines()[:2]
    assert header == "x1,x2,label,set" and first.endswith(",train")
    points = read_points(path)
    assert np.array_equal(points.X, np.vstack([X_train, X_test]))
    assert np.array_equal(points.y, np.concatenate([y_train, y_test.ravel()]))
    assert points.classes == ("cat", "dog")
    write_points(path, X_train, y_train.reshape(-1, 1), ("-1", "1"))
    assert path.read_text().splitlines()[0] == "x1,x2,label"
    points = read_points(path)
    assert np.array_equal(points.X, X_train) and np.array_equal(points.y, y_train) and points.classes == ("-1", "1")


def test_a_dataset_written_reads_back(tmp_path):
    data = Dataset.generate("moons", 40, 0.1, 5, 0.25)
    path = tmp_path / "moons.csv"
    write_points(path, data.X, data.y, X_test=data.X_test, y_test=data.y_test)
    points = read_points(path)
    assert np.array_equal(points.X, np.vstack([data.X, data.X_test]))
    assert np.array_equal(points.y, np.concatenate([data.y, data.y_test]).ravel())


@pytest.mark.parametrize("kwargs, message", [
    (dict(classes=("dog", "cat")), "must be in sorted order"),
    (dict(classes=("1", "1.0")), "are the same class"),
    (dict(classes=("a,b", "c")), "cannot be written as a label"),
    (dict(y=[0, 2, 1, 0, 1]), "y: labels must be 0 or 1"),
    (dict(X=np.ones((5, 3))), "shapes (n, 2) and (n,) needed"),
    (dict(X=np.full((5, 2), np.nan)), "X: all values must be finite numbers"),
    (dict(X_test=np.ones((2, 2))), "give both or neither"),
])
def test_write_refuses_what_would_not_read_back(tmp_path, kwargs, message):
    args = dict(X=X, y=Y01) | kwargs
    with pytest.raises(ValueError) as caught:
        write_points(tmp_path / "bad.csv", **args)
    assert message in str(caught.value)
    assert not (tmp_path / "bad.csv").exists()


def test_shuffle_is_the_notebooks_permutation_unless_the_order_is_kept():
    rng = np.random.default_rng(1)
    points = Points(rng.normal(size=(30, 2)), rng.integers(0, 2, 30), ("a", "b"))
    for seed in (0, 1337):
        order = np.random.RandomState(seed).permutation(30)
        mixed = shuffled(points, seed)
        assert np.array_equal(mixed.X, points.X[order]) and np.array_equal(mixed.y, points.y[order])
        assert mixed.classes == ("a", "b")
    assert not np.array_equal(shuffled(points, 0).X, points.X)
    kept = shuffled(points, 0, keep_order=True)
    assert np.array_equal(kept.X, points.X) and np.array_equal(kept.y, points.y)


def test_rescaled_is_the_rule_of_the_generated_hard_set():
    # The notebook's "hard" points drawn as it draws them, before its rescale and shuffle;
    # rescaling them must give the generated set's points exactly.
    seed, n = 1337, 400
    rng = np.random.RandomState(seed)
    raw = np.vstack([rng.normal(loc=[0, 0], scale=[2, 0.5], size=(n // 2, 2)),
                     rng.normal(loc=[0, 4], scale=[0.5, 1], size=(n // 4, 2)),
                     rng.normal(loc=[0, -4], scale=[0.5, 1], size=(n // 4, 2))])
    labels = np.repeat([0.0, 1.0], n // 2)
    order = rng.permutation(np.arange(n))
    generated = Dataset.generate("hard", n, 0.0, seed, 0.0)
    scaled = rescaled(Points(raw, labels))
    assert np.array_equal(scaled.X[order], generated.X)
    assert np.array_equal(scaled.y[order], generated.y.ravel())
    # centred, and divided by the variance (not the standard deviation)
    assert np.allclose(scaled.X.mean(axis=0), 0.0)
    assert np.allclose(scaled.X.var(axis=0), 1 / raw.var(axis=0))


def test_rescaled_centres_a_constant_feature():
    points = rescaled(Points([[2.0, 1.0], [2.0, 3.0], [2.0, 5.0], [2.0, 7.0]], [0, 1, 0, 1]))
    assert points.X[:, 0].tolist() == [0.0] * 4
    assert np.isfinite(points.X).all()


def test_reading_can_be_stopped_between_blocks_and_reports_progress(monkeypatch):
    monkeypatch.setattr(points_csv, "BLOCK_LINES", 10)
    text = "\n".join(f"{i},{-i},{i % 2}" for i in range(95)) + "\n"
    fractions = []
    points = read_points(text, should_stop=lambda: False, progress=fractions.append)
    assert len(points) == 95
    assert fractions == sorted(fractions) and len(fractions) >= 9 and fractions[-1] == 1.0
    asked = []

    def stop_on_third():
        asked.append(1)
        return len(asked) >= 3

    with pytest.raises(Stopped):
        read_points(text, should_stop=stop_on_third)
    assert len(asked) == 3


def test_two_hundred_thousand_rows_are_read():
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=(200_000, 2)), 6)
    labels = rng.integers(0, 2, 200_000)
    text = "a\tb\tlabel\n" + "\n".join(f"{a!r}\t{b!r}\t{'yes' if v else 'no'}"
                                        for (a, b), v in zip(x.tolist(), labels.tolist(), strict=True))
    points = read_points(text)
    assert np.array_equal(points.X, x)
    assert np.array_equal(points.y, labels.astype(float))
    assert points.classes == ("no", "yes")


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_file_split_into_lines_a_piece_at_a_time_reads_the_same(monkeypatch, ending):
    text = csv_text(Y01, header=("x1", "x2", "label")).replace("\n", ending)
    whole = read_points(text)
    monkeypatch.setattr(points_csv, "PIECE_CHARS", 5)  # pieces end inside lines, numbers and line endings
    pieces = read_points(text)
    assert np.array_equal(pieces.X, whole.X) and np.array_equal(pieces.y, whole.y) and len(pieces) == len(X)
    bad = text.replace("3.0", "3.x", 1)
    with pytest.raises(PointsError, match="line 3, column x1"):
        read_points(bad)
