"""GridEvaluator: same probabilities as network.predict, buffers reused across calls."""

import tracemalloc

import numpy as np
import pytest

from nnviz.core.grid import GridEvaluator, grid_probabilities
from nnviz.core.network import Layout, init_params, predict

EXTENT = (-2.0, 1.5, -3.0, 2.5)


def _reference(evaluator, theta, layout, activation):
    # Row i is ys[i], column j is xs[j].
    gx, gy = np.meshgrid(evaluator.xs, evaluator.ys)
    X = np.column_stack([gx.ravel(), gy.ravel()])
    return predict(theta, layout, X, activation).reshape(len(evaluator.ys), len(evaluator.xs))


@pytest.mark.parametrize("shape", [(2, 1), (2, 3, 4, 1), (2, 8, 1), (2, 5, 4, 3, 1)])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_matches_predict(shape, activation):
    layout = Layout(shape)
    theta = init_params(shape, seed=7) * 3  # larger weights: saturated and flat regions both appear
    evaluator = GridEvaluator(layout, activation, EXTENT, n=37)
    p = evaluator(theta)
    assert p.shape == (37, 37)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, _reference(evaluator, theta, layout, activation), rtol=0, atol=2e-6)


def test_cell_centres():
    evaluator = GridEvaluator(Layout((2, 1)), "relu", (0.0, 1.0, 10.0, 12.0), n=4)
    np.testing.assert_allclose(evaluator.xs, [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(evaluator.ys, [10.25, 10.75, 11.25, 11.75])


def test_orientation_rows_are_y():
    # p depends on y only: a column through the grid must vary, a row must not.
    layout = Layout((2, 1))
    theta = np.array([0.0, 5.0, 0.0])  # w_x = 0, w_y = 5, b = 0
    p = GridEvaluator(layout, "relu", (-1.0, 1.0, -1.0, 1.0), n=10)(theta)
    assert np.all(p == p[:, :1])  # each row constant
    assert np.all(np.diff(p[:, 0]) > 0)  # increasing with the row index (y)


def test_extreme_weights_stay_finite():
    layout = Layout((2, 1))
    theta = np.array([1e6, 0.0, 0.0])
    with np.errstate(all="raise"):
        p = GridEvaluator(layout, "relu", EXTENT, n=20)(theta)
    assert np.all(np.isfinite(p))
    assert p.min() < 1e-30 and p.max() == 1.0


def test_repeated_calls_reuse_the_buffer():
    shape = (2, 3, 4, 1)
    layout = Layout(shape)
    evaluator = GridEvaluator(layout, "tanh", EXTENT)
    first = evaluator(init_params(shape, 1))
    kept = first.copy()
    second = evaluator(init_params(shape, 2))
    assert second is first or np.shares_memory(first, second)
    assert second.ctypes.data == first.ctypes.data
    assert not np.array_equal(kept, second)  # overwritten in place, as documented
    buffers = [b.ctypes.data for b in evaluator._buffers]
    evaluator(init_params(shape, 3))
    assert [b.ctypes.data for b in evaluator._buffers] == buffers


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"n": 1}, "n"),
        ({"n": 2.5}, "n"),
        ({"extent": (1.0, 0.0, 0.0, 1.0)}, "extent"),
        ({"extent": (0.0, 1.0, 0.0, float("nan"))}, "extent"),
        ({"activation": "sigmoid"}, "activation"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    args = {"layout": Layout((2, 1)), "activation": "relu", "extent": EXTENT, "n": 10, **kwargs}
    with pytest.raises(ValueError, match=field):
        GridEvaluator(**args)


def test_repeated_calls_allocate_nothing_sizeable():
    shape = (2, 3, 4, 1)
    layout = Layout(shape)
    evaluator = GridEvaluator(layout, "relu", EXTENT, n=200)
    theta = init_params(shape, 1)
    evaluator(theta)
    tracemalloc.start()
    try:
        for _ in range(3):
            evaluator(theta)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_000  # one (200², 1) float32 buffer alone is 160 kB


def test_theta_of_the_wrong_size_is_refused():
    evaluator = GridEvaluator(Layout((2, 3, 1)), "relu", EXTENT, n=10)
    with pytest.raises(ValueError, match="theta"):
        evaluator(np.zeros(5))


# ---- grid_probabilities: any grid size, in row blocks -------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_grid_probabilities_equal_the_evaluator_and_predict(activation):
    layout = Layout((2, 5, 4, 1))
    theta = init_params(layout.shape, seed=3) * 3
    evaluator = GridEvaluator(layout, activation, EXTENT, n=41)
    np.testing.assert_array_equal(grid_probabilities(theta, layout, activation, evaluator.xs, evaluator.ys),
                                  evaluator(theta))
    xs, ys = np.linspace(-2, 1.5, 53), np.linspace(-3, 2.5, 17)  # not square
    p = grid_probabilities(theta, layout, activation, xs, ys)
    gx, gy = np.meshgrid(xs, ys)
    expected = predict(theta, layout, np.column_stack([gx.ravel(), gy.ravel()]), activation).reshape(17, 53)
    assert p.shape == (17, 53) and p.dtype == np.float32
    np.testing.assert_allclose(p, expected, rtol=0, atol=2e-6)


def test_grid_probabilities_report_progress_by_row_blocks_and_stop_when_cancelled():
    layout = Layout((2, 64, 64, 1))  # ~4,300 multiply-adds a point: a block is a few rows of 1,000 points
    theta = init_params(layout.shape, seed=0)
    xs, ys = np.linspace(-1, 1, 1000), np.linspace(-1, 1, 300)
    fractions = []
    full = grid_probabilities(theta, layout, "relu", xs, ys, progress=fractions.append)
    assert len(fractions) > 10 and fractions == sorted(fractions) and fractions[-1] == 1.0
    fractions.clear()
    stopped = grid_probabilities(theta, layout, "relu", xs, ys, progress=fractions.append,
                                 cancelled=lambda: len(fractions) >= 3)
    assert stopped is None and len(fractions) == 3
    assert full.shape == (300, 1000)


def test_grid_probabilities_name_bad_input():
    layout = Layout((2, 3, 1))
    theta = init_params(layout.shape, seed=0)
    with pytest.raises(ValueError, match="theta: must have shape"):
        grid_probabilities(theta[:-1], layout, "relu", [0.0], [0.0])
    with pytest.raises(ValueError, match="activation='sigmoid'"):
        grid_probabilities(theta, layout, "sigmoid", [0.0], [0.0])
    with pytest.raises(ValueError, match="xs, ys"):
        grid_probabilities(theta, layout, "relu", [], [0.0])
