"""Every update rule and schedule against the same arithmetic written out by hand."""

import math

import numpy as np
import pytest

from nnviz.core.network import Layout, backward, init_params
from nnviz.core.optimizers import Momentum, scheduled_learning_rate, train_epoch


def test_plain_step_is_theta_minus_alpha_g():
    theta = np.array([1.0, -2.0, 0.5])
    grad = np.array([0.1, 0.2, -0.3])
    Momentum(3, 0.0).update(theta, grad, 0.5)
    assert theta.tolist() == [1.0 - 0.5 * 0.1, -2.0 - 0.5 * 0.2, 0.5 + 0.5 * 0.3]


def test_momentum_follows_the_notebooks_rule():
    beta, alpha = 0.9, 0.03
    theta = np.array([1.0, 2.0])
    opt = Momentum(2, beta)
    grads = [np.array([1.0, -1.0]), np.array([0.5, 0.25]), np.array([-2.0, 0.0])]
    v = np.zeros(2)
    expected = theta.copy()
    for g in grads:
        opt.update(theta, g, alpha)
        v = beta * v + (1 - beta) * g
        expected = expected - alpha * v
        assert np.allclose(opt.velocity, v, rtol=0, atol=1e-15)
        assert np.allclose(theta, expected, rtol=0, atol=1e-15)


def test_train_epoch_takes_batches_in_order_with_a_partial_last_one():
    layout = Layout((2, 3, 1))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    y = (rng.uniform(size=(10, 1)) > 0.5).astype(float)
    theta = init_params(layout.shape, 5)
    expected = theta.copy()
    v = np.zeros_like(theta)
    for start in (0, 4, 8):  # batch size 4: 4 + 4 + 2
        g = backward(expected, layout, X[start:start + 4], y[start:start + 4], "relu", 0.01)
        v = 0.5 * v + 0.5 * g
        expected = expected - 0.1 * v
    train_epoch(theta, Momentum(theta.size, 0.5), layout, X, y, 4, 0.1, 0.01)
    assert np.allclose(theta, expected, rtol=0, atol=1e-14)


def test_full_batch_is_one_step_of_the_mean_gradient():
    layout = Layout((2, 2, 1))
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 2))
    y = (rng.uniform(size=(7, 1)) > 0.5).astype(float)
    theta = init_params(layout.shape, 3)
    expected = theta - 0.2 * backward(theta, layout, X, y)
    train_epoch(theta, Momentum(theta.size), layout, X, y, 1000, 0.2)
    assert np.allclose(theta, expected, rtol=0, atol=1e-15)


def test_constant_schedule():
    assert [scheduled_learning_rate("constant", 0.01, e) for e in (1, 2, 500)] == [0.01] * 3


def test_exponential_schedule_is_the_notebooks():
    alpha, gamma = 0.03, 0.015
    notebook = alpha
    for epoch in range(1, 151):
        assert scheduled_learning_rate("exponential", alpha, epoch, gamma=gamma) == pytest.approx(notebook, rel=1e-12)
        notebook *= 1 - gamma


def test_step_schedule():
    rates = [scheduled_learning_rate("step", 0.8, e, step_every=3, step_factor=0.5) for e in range(1, 8)]
    assert rates == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]
    assert scheduled_learning_rate("step", 0.8, 7, step_every=3, step_factor=0.5) == 0.8 * 0.5 ** math.floor(6 / 3)


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule='cosine'"):
        scheduled_learning_rate("cosine", 0.1, 1)
