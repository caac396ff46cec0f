"""Drawing points by hand (core, no Qt): adding, erasing, painting along a drag, clearing and undoing give the
expected arrays."""

import numpy as np
import pytest

from nnviz.core.drawing import Brush, Drawing

X0 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
Y0 = np.array([0.0, 1.0, 1.0, 0.0])


def stroke(drawing, *edits):
    """One stroke of edits: ("add", x1, x2, label), ("nearest", x1, x2[, max]) or ("within", x1, x2, radius)."""
    drawing.begin()
    for kind, *args in edits:
        {"add": drawing.add, "nearest": drawing.erase_nearest, "within": drawing.erase_within}[kind](*args)
    return drawing.finish()


def test_added_points_are_appended_with_their_class_in_one_stroke():
    d = Drawing(X0, Y0)
    assert stroke(d, ("add", 2.0, 3.0, 1), ("add", -1.0, 0.5, 0))
    np.testing.assert_array_equal(d.X, [*X0, [2.0, 3.0], [-1.0, 0.5]])
    np.testing.assert_array_equal(d.y, [*Y0, 1.0, 0.0])
    assert d.strokes == 1 and len(d) == 6


def test_the_points_change_only_when_the_stroke_is_finished():
    d = Drawing(X0, Y0)
    d.begin()
    d.add(2.0, 3.0, 1)
    assert d.erase_nearest(0.9, 0.1) == 1
    added_X, added_y, erased = d.pending
    np.testing.assert_array_equal(added_X, [[2.0, 3.0]])
    np.testing.assert_array_equal(added_y, [1.0])
    np.testing.assert_array_equal(erased, [1])
    np.testing.assert_array_equal(d.X, X0)  # not yet
    d.finish()
    np.testing.assert_array_equal(d.X, [[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [2.0, 3.0]])
    np.testing.assert_array_equal(d.y, [0.0, 1.0, 0.0, 1.0])


def test_erase_nearest_takes_the_nearest_point_not_yet_erased_and_respects_the_distance():
    d = Drawing(X0, Y0)
    d.begin()
    assert d.erase_nearest(0.1, 0.2) == 0
    assert d.erase_nearest(0.1, 0.2) == 2  # the nearest left: (0, 1), squared distance 0.65, before (1, 0), 0.85
    assert d.erase_nearest(4.0, 4.0, max_distance=1.0) is None  # (5, 5) is 1.41 away
    d.finish()
    np.testing.assert_array_equal(d.X, [[1.0, 0.0], [5.0, 5.0]])
    np.testing.assert_array_equal(d.y, [1.0, 0.0])


def test_erase_within_removes_every_point_in_the_radius():
    d = Drawing(X0, Y0)
    assert stroke(d, ("within", 0.0, 0.0, 1.0))
    np.testing.assert_array_equal(d.X, [[5.0, 5.0]])
    np.testing.assert_array_equal(d.y, [0.0])


def test_a_stroke_that_changes_nothing_is_not_kept():
    d = Drawing(X0, Y0)
    assert not stroke(d, ("within", 10.0, 10.0, 0.5))
    assert d.strokes == 0 and not d.can_undo
    assert not d.finish()  # no stroke under way


def test_undo_gives_back_the_very_arrays_of_each_earlier_stroke():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(500, 2)), (rng.random(500) > 0.5).astype(float)
    d = Drawing(X, y)
    states = [(d.X.copy(), d.y.copy())]
    stroke(d, ("add", 0.3, 0.3, 1), ("add", 0.4, 0.3, 1))
    states.append((d.X.copy(), d.y.copy()))
    stroke(d, ("within", 0.0, 0.0, 0.5), ("nearest", 2.0, 2.0))
    states.append((d.X.copy(), d.y.copy()))
    assert len(d) < 502
    stroke(d, ("nearest", -1.0, 1.0), ("add", 9.0, 9.0, 0))
    for X_before, y_before in reversed(states):
        assert d.undo()
        assert d.X.tobytes() == X_before.tobytes() and d.y.tobytes() == y_before.tobytes()
    assert not d.undo()


def test_clear_erases_everything_as_one_stroke_and_undo_brings_it_back():
    d = Drawing(X0, Y0)
    assert d.clear()
    assert len(d) == 0 and d.X.shape == (0, 2)
    d.begin()
    assert d.erase_nearest(0.0, 0.0) is None and d.erase_within(0.0, 0.0, 9.0) == 0
    assert d.add(1.5, 1.5, 0)
    d.finish()
    np.testing.assert_array_equal(d.X, [[1.5, 1.5]])
    d.undo()
    assert len(d) == 0
    d.undo()
    np.testing.assert_array_equal(d.X, X0)
    np.testing.assert_array_equal(d.y, Y0)
    assert not Drawing(np.empty((0, 2)), np.empty(0)).clear()


def test_the_drawing_is_not_the_callers_arrays_and_is_read_only():
    X, y = X0.copy(), Y0.copy()
    d = Drawing(X, y)
    X[0] = 99.0
    assert d.X[0, 0] == 0.0
    with pytest.raises(ValueError):
        d.X[0, 0] = 1.0


def test_adding_stops_at_the_limit_and_bad_input_is_refused():
    d = Drawing(X0, Y0, limit=5)
    d.begin()
    assert d.add(0.5, 0.5, 0)
    assert not d.add(0.6, 0.5, 0)
    d.erase_nearest(5.0, 5.0)
    assert d.add(0.6, 0.5, 1)  # an erased point makes room
    with pytest.raises(ValueError, match="label"):
        d.add(0.0, 0.0, 2)
    with pytest.raises(ValueError, match="finite"):
        d.add(np.nan, 0.0, 0)
    d.finish()
    assert len(d) == 5
    with pytest.raises(RuntimeError, match="begin"):
        d.add(0.0, 0.0, 0)
    with pytest.raises(ValueError, match="labels"):
        Drawing(X0, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="4 points but 3 labels"):
        Drawing(X0, [0, 1, 1])


def test_brush_puts_a_point_at_the_press_then_one_every_spacing_along_the_path():
    brush = Brush(spacing=8.0, jitter=0.0)
    np.testing.assert_array_equal(brush.press(10.0, 20.0), [[10.0, 20.0]])
    assert brush.move(15.0, 20.0).shape == (0, 2)  # 5 px: not yet
    np.testing.assert_allclose(brush.move(30.0, 20.0), [[18.0, 20.0], [26.0, 20.0]])  # 20 px so far
    np.testing.assert_allclose(brush.move(30.0, 30.0), [[30.0, 24.0]])  # 4 px left over + 4 down
    brush.release()
    assert brush.move(99.0, 99.0).shape == (0, 2)


def test_brush_spacing_holds_over_many_small_moves_and_jitter_stays_bounded():
    exact, jittered = Brush(spacing=8.0, jitter=0.0), Brush(spacing=8.0, jitter=2.0, seed=4)
    points, noisy = [exact.press(0.0, 0.0)], [jittered.press(0.0, 0.0)]
    for x in np.arange(1.0, 101.0):  # 100 moves of 1 px
        points.append(exact.move(x, 0.0))
        noisy.append(jittered.move(x, 0.0))
    points, noisy = np.vstack(points), np.vstack(noisy)
    np.testing.assert_allclose(points[:, 0], np.arange(0.0, 100.0, 8.0))
    assert noisy.shape == points.shape
    assert np.abs(noisy - points).max() <= 2.0 and not np.array_equal(noisy[1:], points[1:])
    np.testing.assert_array_equal(noisy[0], [0.0, 0.0])  # a click puts its point where it is
    again = Brush(spacing=8.0, jitter=2.0, seed=4)
    again.press(0.0, 0.0)
    np.testing.assert_array_equal(again.move(20.0, 0.0), noisy[1:3])  # seeded: the same drag, the same points
    with pytest.raises(ValueError, match="spacing"):
        Brush(spacing=0.0)


def test_erase_along_removes_the_points_near_the_segment_only():
    X = np.array([[0.0, 0.0], [5.0, 0.4], [10.0, -0.3], [5.0, 2.0], [11.0, 0.0], [-0.6, 0.0], [5.0, -0.6]])
    d = Drawing(X, np.zeros(len(X)))
    d.begin()
    assert d.erase_along((0.0, 0.0), (10.0, 0.0), 0.5) == 3  # (0, 0), (5, 0.4), (10, -0.3), within 0.5
    assert d.erase_along((0.0, 0.0), (10.0, 0.0), 0.5) == 0  # already erased
    assert d.erase_along((10.0, 0.0), (10.0, 0.0), 1.0) == 1  # a point: a disc; (11, 0) at 1.0
    d.finish()
    np.testing.assert_array_equal(d.X, [[5.0, 2.0], [-0.6, 0.0], [5.0, -0.6]])


def test_erasing_matches_a_brute_force_search_on_many_points():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(20_000, 2))
    d = Drawing(X, np.ones(len(X)))
    d.begin()
    d.erase_along((-1.0, -0.5), (0.8, 0.3), 0.1)
    a, b = np.array([-1.0, -0.5]), np.array([0.8, 0.3])
    t = np.clip((X - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    expected = np.flatnonzero(np.linalg.norm(X - (a + t[:, None] * (b - a)), axis=1) <= 0.1)
    assert len(expected) > 50
    np.testing.assert_array_equal(d.pending[2], expected)
    nearest = d.erase_nearest(0.0, 0.0)
    left = np.setdiff1d(np.arange(len(X)), expected)
    assert nearest == left[np.argmin(np.hypot(X[left, 0], X[left, 1]))]
