"""The network's gradients against central finite differences, and its building blocks."""

import numpy as np
import pytest

from nnviz.core.network import Layout, backward, cost, init_params, l2_penalty, predict, sigmoid


def total_cost(theta, layout, X, y, activation, l2):
    return cost(predict(theta, layout, X, activation), y) + l2_penalty(theta, layout, l2)


def finite_differences(theta, layout, X, y, activation, l2, h=1e-6):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += h
        minus[i] -= h
        difference = total_cost(plus, layout, X, y, activation, l2) - total_cost(minus, layout, X, y, activation, l2)
        grad[i] = difference / (2 * h)
    return grad


@pytest.mark.parametrize("shape", [(2, 1), (2, 3, 1), (2, 3, 4, 1), (2, 5, 4, 3, 1)])
@pytest.mark.parametrize("batch", [1, 5, 32])
@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_matches_finite_differences(shape, batch, l2, activation):
    rng = np.random.default_rng(sum(shape) * 100 + batch)
    layout = Layout(shape)
    theta = init_params(shape, seed=batch)
    X = rng.normal(size=(batch, 2))
    y = (rng.uniform(size=(batch, 1)) > 0.5).astype(float)
    analytic = backward(theta, layout, X, y, activation, l2)
    numeric = finite_differences(theta, layout, X, y, activation, l2)
    relative = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(analytic), np.linalg.norm(numeric), 1e-12)
    assert relative < 1e-6


def test_backward_uses_weights_before_the_step():
    # The gradient must not depend on the order layers are visited: recomputing each
    # layer's gradient alone (all others frozen) gives the same vector.
    layout = Layout((2, 3, 4, 1))
    theta = init_params(layout.shape, 1234)
    X = np.array([[0.3, -0.2], [1.0, 0.5]])
    y = np.array([[1.0], [0.0]])
    before = theta.copy()
    grad = backward(theta, layout, X, y)
    assert np.array_equal(theta, before)  # backward does not step
    numeric = finite_differences(theta, layout, X, y, "relu", 0.0)
    assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-9)


def test_layout_views_share_memory_and_follow_the_draw_order():
    layout = Layout((2, 3, 1))
    assert layout.size == 2 * 3 + 3 + 3 * 1 + 1
    assert list(layout.offsets) == [0, 9, 13]
    theta = np.arange(layout.size, dtype=float)
    (w1, b1), (w2, b2) = layout.views(theta)
    assert w1.shape == (2, 3) and b1.shape == (3,) and w2.shape == (3, 1) and b2.shape == (1,)
    assert w1[1, 0] == 3 and b1[0] == 6 and w2[0, 0] == 9 and b2[0] == 12
    w2[0, 0] = -1
    assert theta[9] == -1
    assert list(layout.weight_mask()) == [1] * 6 + [0] * 3 + [1] * 3 + [0]


def test_sigmoid_is_stable_for_any_finite_input():
    z = np.array([-1e308, -800.0, -30.0, 0.0, 30.0, 800.0, 1e308])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = sigmoid(z)
    assert np.all(np.isfinite(s))
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert np.isclose(s[2], 1 / (1 + np.exp(30.0)))


def test_l2_penalty_counts_weights_not_biases():
    layout = Layout((2, 1))
    theta = np.array([3.0, 4.0, 100.0])  # w = (3, 4), b = 100
    assert l2_penalty(theta, layout, 0.1) == pytest.approx(0.5 * 0.1 * 25)
    assert l2_penalty(theta, layout, 0.0) == 0.0
