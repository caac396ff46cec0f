"""Every update rule and schedule against the same arithmetic written out by hand."""

import math

import numpy as np
import pytest

from nnviz.core.network import Layout, backward, init_params
from nnviz.core.optimizers import (
    Adam,
    HeavyBall,
    Momentum,
    Nesterov,
    RMSProp,
    UpdateRule,
    scheduled_learning_rate,
    train_epoch,
)
from nnviz.core.training import get_engine


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


# The other optimisers, each against its formula written out by hand, one parameter at a time.

GRADS = [np.array([1.0, -1.0, 0.0]), np.array([0.5, 0.25, -3.0]), np.array([-2.0, 0.0, 1e-3]),
         np.array([0.1, -0.7, 2.0])]


def _by_hand(optimizer, theta, grads, alpha, **k):
    """The issue's formulas, scalar by scalar; returns theta after each step."""
    theta = [float(v) for v in theta]
    v = [0.0] * len(theta)
    s = [0.0] * len(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        for i, gi in enumerate(g.tolist()):
            if optimizer == "heavy-ball":
                v[i] = k["mu"] * v[i] + gi
                theta[i] = theta[i] - alpha * v[i]
            elif optimizer == "nesterov":
                v[i] = k["mu"] * v[i] + gi
                theta[i] = theta[i] - alpha * (gi + k["mu"] * v[i])
            elif optimizer == "rmsprop":
                s[i] = k["rho"] * s[i] + (1 - k["rho"]) * gi ** 2
                theta[i] = theta[i] - alpha * gi / (math.sqrt(s[i]) + k["eps"])
            else:
                v[i] = k["beta1"] * v[i] + (1 - k["beta1"]) * gi
                s[i] = k["beta2"] * s[i] + (1 - k["beta2"]) * gi ** 2
                m_hat = v[i] / (1 - k["beta1"] ** t)
                s_hat = s[i] / (1 - k["beta2"] ** t)
                theta[i] = theta[i] - alpha * m_hat / (math.sqrt(s_hat) + k["eps"])
        out.append(list(theta))
    return out


@pytest.mark.parametrize("optimizer, make", [
    ("heavy-ball", lambda: HeavyBall(3, 0.8)),
    ("nesterov", lambda: Nesterov(3, 0.8)),
    ("rmsprop", lambda: RMSProp(3, rho=0.7, epsilon=1e-3)),
    ("adam", lambda: Adam(3, beta1=0.8, beta2=0.95, epsilon=1e-3)),
])
def test_each_optimizer_follows_its_formula_step_by_step(optimizer, make):
    theta = np.array([1.0, 2.0, -0.5])
    expected = _by_hand(optimizer, theta, GRADS, 0.1, mu=0.8, rho=0.7, beta1=0.8, beta2=0.95, eps=1e-3)
    opt = make()
    for t, (g, want) in enumerate(zip(GRADS, expected, strict=True), start=1):
        opt.update(theta, g, 0.1)
        assert opt.state.t == t
        np.testing.assert_allclose(theta, want, rtol=0, atol=1e-14)


def test_adam_bias_correction_makes_its_first_step_alpha_sized():
    # With m̂ = g and ŝ = g² at t = 1, every parameter moves by α·g/(|g| + ε), about α, whatever g's size.
    theta = np.zeros(3)
    Adam(3, epsilon=1e-12).update(theta, np.array([1e-6, -5.0, 300.0]), 0.01)
    np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01], rtol=1e-5)


def test_nesterov_and_heavy_ball_differ_and_sgd_is_heavy_ball_rescaled():
    # The notebook's v ← βv + (1 − β)g with α is heavy-ball with α(1 − β): the same steps.
    grads = GRADS * 3
    a, b, c = np.array([1.0, 2.0, -0.5]), np.array([1.0, 2.0, -0.5]), np.array([1.0, 2.0, -0.5])
    sgd, heavy, nesterov = Momentum(3, 0.9), HeavyBall(3, 0.9), Nesterov(3, 0.9)
    for g in grads:
        sgd.update(a, g, 0.03)
        heavy.update(b, g, 0.03 * (1 - 0.9))
        nesterov.update(c, g, 0.03 * (1 - 0.9))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    assert np.abs(c - b).max() > 1e-3


SMALL_X = np.array([[0.3, -1.2], [1.5, 0.2], [-0.7, 0.9], [0.1, 0.4], [-1.1, -0.3], [0.8, 1.1], [0.0, -0.6]])
SMALL_Y = np.array([[1.0], [0.0], [1.0], [0.0], [0.0], [1.0], [1.0]])
RULES = {
    "sgd": UpdateRule("sgd", momentum=0.6),
    "heavy-ball": UpdateRule("heavy-ball", momentum=0.6),
    "nesterov": UpdateRule("nesterov", momentum=0.6),
    "rmsprop": UpdateRule("rmsprop", rho=0.8, epsilon=1e-4),
    "adam": UpdateRule("adam", beta1=0.7, beta2=0.9, epsilon=1e-4),
}


def _hand_rule(name, rule, theta, g, v, s, t, alpha):
    """One step of ``rule`` on whole vectors, as the issue writes it."""
    if name == "sgd":
        v = rule.momentum * v + (1 - rule.momentum) * g
        return theta - alpha * v, v, s
    if name in ("heavy-ball", "nesterov"):
        v = rule.momentum * v + g
        return theta - alpha * (v if name == "heavy-ball" else g + rule.momentum * v), v, s
    if name == "rmsprop":
        s = rule.rho * s + (1 - rule.rho) * g * g
        return theta - alpha * g / (np.sqrt(s) + rule.epsilon), v, s
    v = rule.beta1 * v + (1 - rule.beta1) * g
    s = rule.beta2 * s + (1 - rule.beta2) * g * g
    return theta - alpha * (v / (1 - rule.beta1 ** t)) / (np.sqrt(s / (1 - rule.beta2 ** t)) + rule.epsilon), v, s


@pytest.mark.parametrize("engine_name", ["numpy", "compiled"])
@pytest.mark.parametrize("name", list(RULES))
def test_engines_step_every_batch_with_t_counted_over_batches_and_epochs(engine_name, name):
    # Two epochs of batches 3 + 3 + 1 (t runs 1..6), L2 on weights only, a different α per epoch; the second
    # epoch is given one batch per call, as the learning-rate finder calls it: t goes on counting.
    layout = Layout((2, 3, 2, 1))
    rule, l2 = RULES[name], 0.05
    engine = get_engine(engine_name)
    theta = init_params(layout.shape, 7)
    state = engine.new_state(layout.size)
    expected, v, s, t = theta.copy(), np.zeros(layout.size), np.zeros(layout.size), 0
    for alpha in (0.05, 0.02):
        for start in (0, 3, 6):
            t += 1
            g = backward(expected, layout, SMALL_X[start:start + 3], SMALL_Y[start:start + 3], "tanh", l2)
            expected, v, s = _hand_rule(name, rule, expected, g, v, s, t, alpha)
    engine.train_epoch(theta, state, layout, SMALL_X, SMALL_Y, 3, 0.05, rule, l2, "tanh")
    assert state.t == 3
    for start in (0, 3, 6):
        engine.train_epoch(theta, state, layout, SMALL_X[start:start + 3], SMALL_Y[start:start + 3], 3, 0.02, rule,
                           l2, "tanh")
    assert state.t == 6
    np.testing.assert_allclose(theta, expected, rtol=0, atol=1e-12)
    assert np.abs(theta - init_params(layout.shape, 7)).max() > 1e-3  # it moved


@pytest.mark.parametrize("engine_name", ["numpy", "compiled"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_notebook_order_propagates_through_the_updated_weights(engine_name, batch_size):
    # The notebook's step written out for a 2-2-1 relu network: the output layer is updated first, then the
    # hidden delta goes through the new W₂; the output delta is dJ/dy·σ'(z); gradients are batch means.
    layout = Layout((2, 2, 1))
    alpha, beta = 0.5, 0.3
    theta = np.array([0.5, -0.4, 0.3, 0.8, 0.1, -0.2, 0.7, -0.6, 0.05])  # W1 (2x2), b1, W2 (2x1), b2
    w1, b1, w2, b2 = theta[:4].reshape(2, 2).copy(), theta[4:6].copy(), theta[6:8].copy(), theta[8]
    vw1, vb1, vw2, vb2 = np.zeros((2, 2)), np.zeros(2), np.zeros(2), 0.0
    for start in range(0, 7, batch_size):
        xb, yb = SMALL_X[start:start + batch_size], SMALL_Y[start:start + batch_size, 0]
        z1 = xb @ w1 + b1
        a1 = np.maximum(z1, 0)
        p = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
        d2 = ((1 - yb) / (1 - p + 1e-8) - yb / (p + 1e-8)) * p * (1 - p)
        vw2 = beta * vw2 + (1 - beta) * (a1 * d2[:, None]).mean(axis=0)
        vb2 = beta * vb2 + (1 - beta) * d2.mean()
        w2, b2 = w2 - alpha * vw2, b2 - alpha * vb2
        d1 = d2[:, None] * w2[None, :] * (z1 > 0)  # through the updated w2
        vw1 = beta * vw1 + (1 - beta) * (xb[:, :, None] * d1[:, None, :]).mean(axis=0)
        vb1 = beta * vb1 + (1 - beta) * d1.mean(axis=0)
        w1, b1 = w1 - alpha * vw1, b1 - alpha * vb1
    engine = get_engine(engine_name)
    ours = theta.copy()
    engine.train_epoch(ours, engine.new_state(9), layout, SMALL_X, SMALL_Y, batch_size, alpha,
                       UpdateRule(momentum=beta, update_order="notebook"), 0.0, "relu")
    np.testing.assert_allclose(ours, np.concatenate([w1.ravel(), b1, w2, [b2]]), rtol=0, atol=1e-13)
    true_order = theta.copy()
    engine.train_epoch(true_order, engine.new_state(9), layout, SMALL_X, SMALL_Y, batch_size, alpha,
                       UpdateRule(momentum=beta), 0.0, "relu")
    assert np.abs(true_order - ours).max() > 1e-6  # the two orders differ


@pytest.mark.parametrize("optimizer", ["heavy-ball", "nesterov", "rmsprop", "adam"])
def test_notebook_order_is_refused_for_other_optimizers(optimizer):
    with pytest.raises(ValueError) as info:
        UpdateRule(optimizer, update_order="notebook")
    message = str(info.value)
    assert "\n" not in message and message.startswith("update_order='notebook': ") and optimizer in message
    assert "sgd" in message


def test_update_rule_refuses_unknown_names():
    with pytest.raises(ValueError, match="optimizer='adagrad': allowed are sgd, heavy-ball, nesterov, rmsprop, adam"):
        UpdateRule("adagrad")
    with pytest.raises(ValueError, match="update_order='deferred': allowed are true, notebook"):
        UpdateRule(update_order="deferred")
