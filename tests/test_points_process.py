"""Reading a big file of points in a process of its own: the same points and messages as read_points, and a stop
ends the process at once."""

import multiprocessing
import time

import numpy as np
import pytest

from nnviz.core.points_csv import PointsError, read_points, write_points
from nnviz.core.points_process import read_points_apart
from nnviz.core.training import Stopped


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("points") / "big.csv"
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200_000, 2))
    write_points(path, X, (X[:, 0] > X[:, 1]).astype(float), ("no", "yes"))
    return path


def test_a_file_read_apart_gives_the_same_points_and_progress(big):
    fractions = []
    points = read_points_apart(big, progress=fractions.append)
    assert points == read_points(big) and points.classes == ("no", "yes")
    assert fractions and fractions[-1] == 1.0 and fractions == sorted(fractions)


def test_a_malformed_file_read_apart_gives_the_same_one_line_message(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x1,x2,label\n1,2,0\n3,oops,1\n")
    with pytest.raises(PointsError) as expected:
        read_points(path)
    with pytest.raises(PointsError) as apart:
        read_points_apart(path)
    assert str(apart.value) == str(expected.value) and "line 3, column x2" in str(apart.value)


def test_a_stop_ends_the_reading_process(big):
    asked = []

    def should_stop():
        asked.append(time.perf_counter())
        return len(asked) > 2

    with pytest.raises(Stopped):
        read_points_apart(big, should_stop)
    assert not [p for p in multiprocessing.active_children() if p.name == "nnviz-read-points"]
