"""marching_squares: geometry of the iso-lines against fields whose contours are known."""

import numpy as np
import pytest

from nnviz.core.contour import marching_squares


def _grid(nx=61, ny=41, x=(-1.0, 1.0), y=(-0.8, 0.8)):
    xs = np.linspace(*x, nx)
    ys = np.linspace(*y, ny)
    gx, gy = np.meshgrid(xs, ys)  # row i at ys[i], column j at xs[j]
    return xs, ys, gx, gy


def _edge_value(values, xs, ys, point):
    """The field linearly interpolated along the grid edge ``point`` lies on (fails if on none)."""
    px, py = point
    j = np.flatnonzero(np.isclose(xs, px, rtol=0, atol=1e-12))
    i = np.flatnonzero(np.isclose(ys, py, rtol=0, atol=1e-12))
    if j.size:  # on a vertical edge: column j, between two rows
        j = j[0]
        i = min(np.searchsorted(ys, py, side="right") - 1, len(ys) - 2)
        t = (py - ys[i]) / (ys[i + 1] - ys[i])
        assert -1e-12 <= t <= 1 + 1e-12
        return values[i, j] + t * (values[i + 1, j] - values[i, j])
    assert i.size, f"{point} lies on no cell edge"
    i = i[0]
    j = min(np.searchsorted(xs, px, side="right") - 1, len(xs) - 2)
    t = (px - xs[j]) / (xs[j + 1] - xs[j])
    assert -1e-12 <= t <= 1 + 1e-12
    return values[i, j] + t * (values[i, j + 1] - values[i, j])


def test_circle_contour_lies_on_the_circle_all_round():
    xs, ys, gx, gy = _grid(101, 101, (-1, 1), (-1, 1))
    radius = np.hypot(gx, gy)
    values = 1.0 / (1.0 + np.exp(-8 * (0.5 - radius)))  # a logistic "blob": 0.5 exactly on r = 0.5
    points = marching_squares(values, 0.5, xs, ys)
    assert points.shape[1] == 2 and points.shape[0] % 2 == 0 and points.shape[0] > 100
    h = xs[1] - xs[0]
    np.testing.assert_allclose(np.hypot(points[:, 0], points[:, 1]), 0.5, atol=h * h)
    angles = np.sort(np.arctan2(points[:, 1], points[:, 0]))
    assert np.max(np.diff(angles)) < 2 * h / 0.5  # no gap: the whole circle is traced


def test_plane_contour_is_the_exact_straight_line():
    xs, ys, gx, gy = _grid()
    a, b, c = 0.7, -1.3, 0.2
    values = a * gx + b * gy + c
    points = marching_squares(values, 0.5, xs, ys)
    assert len(points) > 0
    np.testing.assert_allclose(a * points[:, 0] + b * points[:, 1] + c, 0.5, atol=1e-12)
    # It spans the whole line across the domain, not a piece of it.
    assert points[:, 0].min() == pytest.approx(xs[0]) or points[:, 1].max() == pytest.approx(ys[-1])


def test_endpoints_lie_on_cell_edges_at_the_level():
    xs, ys, gx, gy = _grid(23, 17)
    values = np.random.default_rng(0).random((17, 23))
    points = marching_squares(values, 0.5, xs, ys)
    assert len(points) > 20
    for point in points:
        assert _edge_value(values, xs, ys, point) == pytest.approx(0.5, abs=1e-12)


def test_segments_join_into_closed_lines_in_the_interior():
    xs, ys, gx, gy = _grid(40, 40, (-1, 1), (-1, 1))
    values = np.sin(5 * gx) * np.cos(4 * gy) * np.exp(-(gx**2 + gy**2))
    points = marching_squares(values, 0.05, xs, ys)
    inside = (points[:, 0] > xs[0]) & (points[:, 0] < xs[-1]) & (points[:, 1] > ys[0]) & (points[:, 1] < ys[-1])
    _, counts = np.unique(points[inside], axis=0, return_counts=True)
    # Neighbouring cells compute a shared crossing bit for bit, so every interior end meets another one.
    assert np.all(counts == 2)


@pytest.mark.parametrize(("level", "cut_corners"), [(0.4, {(1.0, 0.0), (0.0, 1.0)}), (0.6, {(0.0, 0.0), (1.0, 1.0)})])
def test_saddle_is_resolved_by_the_cell_centre(level, cut_corners):
    # One cell, high at (0, 0) and (1, 1), low at (1, 0) and (0, 1); the corner mean is 0.5.
    # Level 0.4: the centre is above, so the high corners connect and the low ones are cut off;
    # level 0.6: the centre is below, so the high corners are cut off.
    xs = ys = np.array([0.0, 1.0])
    values = np.array([[1.0, 0.0], [0.0, 1.0]])
    points = marching_squares(values, level, xs, ys)
    assert points.shape == (4, 2)
    corners = np.array([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
    nearest = set()
    for k in (0, 2):
        middle = points[k : k + 2].mean(axis=0)
        nearest.add(tuple(corners[np.argmin(np.hypot(*(corners - middle).T))]))
    assert nearest == cut_corners


def test_no_crossing_gives_an_empty_array():
    xs, ys, gx, gy = _grid()
    points = marching_squares(np.full((41, 61), 0.2), 0.5, xs, ys)
    assert points.shape == (0, 2)
    points = marching_squares(np.full((41, 61), 0.9), 0.5, xs, ys)
    assert points.shape == (0, 2)


def test_non_finite_cells_are_skipped():
    xs, ys, gx, gy = _grid()
    values = gx.copy()
    values[:, :30] = np.nan
    points = marching_squares(values, 0.5, xs, ys)
    assert np.all(np.isfinite(points)) and len(points) > 0
    np.testing.assert_allclose(points[:, 0], 0.5, atol=1e-12)


@pytest.mark.parametrize(
    ("values", "xs", "ys", "field"),
    [
        (np.zeros(5), np.arange(5.0), np.arange(1.0), "values"),
        (np.zeros((1, 5)), np.arange(5.0), np.arange(1.0), "values"),
        (np.zeros((3, 4)), np.arange(3.0), np.arange(3.0), "xs"),
        (np.zeros((3, 4)), np.arange(4.0), np.arange(4.0), "ys"),
    ],
)
def test_bad_shapes_name_the_field(values, xs, ys, field):
    with pytest.raises(ValueError, match=field):
        marching_squares(values, 0.5, xs, ys)
