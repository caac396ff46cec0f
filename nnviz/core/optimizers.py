"""Update rules (optimisers), their state, mini-batch steps and learning-rate schedules (the numpy reference)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.network import ACTIVATIONS, EPS, Layout, backward

SCHEDULES = ("constant", "exponential", "step")
OPTIMIZERS = ("sgd", "heavy-ball", "nesterov", "rmsprop", "adam")
# "true": every layer's delta uses the weights before the step (backpropagation); "notebook": the notebook
# as written, each layer updated inside the backward loop, so the deltas below use the updated weights above.
UPDATE_ORDERS = ("true", "notebook")


def scheduled_learning_rate(
    schedule: str,
    learning_rate: float,
    epoch: int,
    gamma: float = 0.0,
    step_every: int = 1,
    step_factor: float = 1.0,
) -> float:
    """Learning rate used during ``epoch`` (counting from 1); a pure function of the epoch.

    constant: α; exponential (the notebook's): α·(1 − γ)^(e − 1);
    step: α·factor^⌊(e − 1)/every⌋.
    """
    if schedule == "constant":
        return learning_rate
    if schedule == "exponential":
        return learning_rate * (1.0 - gamma) ** (epoch - 1)
    if schedule == "step":
        return learning_rate * step_factor ** math.floor((epoch - 1) / step_every)
    raise ValueError(f"schedule={schedule!r}: allowed are {', '.join(SCHEDULES)}")


def update_order_error(optimizer: str, update_order: str) -> str:
    """The one-line refusal of an update order the optimiser does not have, or "" when it is fine."""
    if update_order == "notebook" and optimizer != "sgd":
        return (f"update_order='notebook': defined for optimizer sgd only (the notebook's own rule), "
                f"not {optimizer}; use update_order true")
    return ""


@dataclass(frozen=True)
class UpdateRule:
    """How gradients become steps: the optimiser and its constants (TrainConfig validates the ranges)."""

    optimizer: str = "sgd"  # one of OPTIMIZERS
    momentum: float = 0.0  # β of sgd's running average, μ of heavy-ball and nesterov; 0 ≤ · < 1
    rho: float = 0.9  # ρ, decay of rmsprop's running average of g²; 0 ≤ ρ < 1
    epsilon: float = 1e-8  # ε added to rmsprop's and adam's √s; > 0
    beta1: float = 0.9  # β₁, decay of adam's first moment; 0 ≤ β₁ < 1
    beta2: float = 0.999  # β₂, decay of adam's second moment; 0 ≤ β₂ < 1
    update_order: str = "true"  # one of UPDATE_ORDERS ("notebook": sgd only)

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r}: allowed are {', '.join(OPTIMIZERS)}")
        if self.update_order not in UPDATE_ORDERS:
            raise ValueError(f"update_order={self.update_order!r}: allowed are {', '.join(UPDATE_ORDERS)}")
        problem = update_order_error(self.optimizer, self.update_order)
        if problem:
            raise ValueError(problem)


class OptimizerState:
    """Every optimiser's moments and the update count, all starting at zero (one state per run)."""

    def __init__(self, size: int):
        self.velocity = np.zeros(size)  # v of sgd, heavy-ball and nesterov; adam's first moment m
        self.square = np.zeros(size)  # s, the running average of g² of rmsprop and adam
        self.t = 0  # updates made so far; the next one is update t + 1


class Momentum:
    """sgd, the notebook's momentum: v ← βv + (1 − β)g, θ ← θ − αv (β = 0 is plain SGD)."""

    def __init__(self, size: int, momentum: float = 0.0, state: OptimizerState | None = None):
        self.momentum = momentum
        self.state = state if state is not None else OptimizerState(size)

    @property
    def velocity(self) -> np.ndarray:
        return self.state.velocity

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``."""
        beta, v = self.momentum, self.state.velocity
        self.state.t += 1
        v *= beta
        v += (1.0 - beta) * grad
        theta -= learning_rate * v


class HeavyBall(Momentum):
    """Classical momentum (PyTorch's SGD): v ← μv + g, θ ← θ − αv."""

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``."""
        v = self.state.velocity
        self.state.t += 1
        v *= self.momentum
        v += grad
        theta -= learning_rate * v


class Nesterov(Momentum):
    """Nesterov momentum (PyTorch's nesterov=True): v ← μv + g, θ ← θ − α(g + μv)."""

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``."""
        mu, v = self.momentum, self.state.velocity
        self.state.t += 1
        v *= mu
        v += grad
        theta -= learning_rate * (grad + mu * v)


class RMSProp:
    """s ← ρs + (1 − ρ)g², θ ← θ − αg / (√s + ε)."""

    def __init__(self, size: int, rho: float = 0.9, epsilon: float = 1e-8, state: OptimizerState | None = None):
        self.rho = rho
        self.epsilon = epsilon
        self.state = state if state is not None else OptimizerState(size)

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``."""
        s = self.state.square
        self.state.t += 1
        s *= self.rho
        s += (1.0 - self.rho) * (grad * grad)
        theta -= learning_rate * grad / (np.sqrt(s) + self.epsilon)


class Adam:
    """m ← β₁m + (1 − β₁)g, s ← β₂s + (1 − β₂)g², θ ← θ − α·(m / (1 − β₁ᵗ)) / (√(s / (1 − β₂ᵗ)) + ε)."""

    def __init__(self, size: int, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                 state: OptimizerState | None = None):
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.state = state if state is not None else OptimizerState(size)

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``; t counts this run's updates from 1 (the bias corrections)."""
        m, s = self.state.velocity, self.state.square
        self.state.t += 1
        t = self.state.t
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        s *= self.beta2
        s += (1.0 - self.beta2) * (grad * grad)
        m_hat = m / (1.0 - math.pow(self.beta1, t))
        s_hat = s / (1.0 - math.pow(self.beta2, t))
        theta -= learning_rate * m_hat / (np.sqrt(s_hat) + self.epsilon)


def make_optimizer(rule: UpdateRule, state: OptimizerState):
    """The optimiser of ``rule`` working on ``state``'s moments (so a run can keep one state across epochs)."""
    size = state.velocity.size
    if rule.optimizer == "sgd":
        return Momentum(size, rule.momentum, state)
    if rule.optimizer == "heavy-ball":
        return HeavyBall(size, rule.momentum, state)
    if rule.optimizer == "nesterov":
        return Nesterov(size, rule.momentum, state)
    if rule.optimizer == "rmsprop":
        return RMSProp(size, rule.rho, rule.epsilon, state)
    return Adam(size, rule.beta1, rule.beta2, rule.epsilon, state)


def train_epoch(
    theta: np.ndarray,
    optimizer,
    layout: Layout,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    learning_rate: float,
    l2: float = 0.0,
    activation: str = "relu",
) -> None:
    """One epoch of mini-batch steps taken in order over (X, y), in place on ``theta``.

    ``optimizer``: anything with ``update(theta, grad, learning_rate)`` (Momentum, HeavyBall, ...).
    The last batch may be partial; batch_size 1 is per-sample SGD, batch_size ≥ n full batch.
    """
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        grad = backward(theta, layout, xb, yb, activation, l2)
        optimizer.update(theta, grad, learning_rate)


def train_epoch_notebook_order(
    theta: np.ndarray,
    optimizer: Momentum,
    layout: Layout,
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    learning_rate: float,
    l2: float = 0.0,
    activation: str = "relu",
) -> None:
    """One epoch as the notebook writes it (its backward_mom), in place on ``theta``: sgd's rule only.

    Inside the backward loop each layer is updated before the delta of the layer below is
    propagated, so that delta goes through the already-updated weights above it (not the
    gradient of any cost). Its arithmetic is the notebook's: the plain sigmoid 1 / (1 + e^−z),
    the output delta dJ/dy · σ'(z), and batch means taken after the sums.
    """
    f, df = ACTIVATIONS[activation]
    layers = layout.views(theta)
    velocities = layout.views(optimizer.velocity)
    beta = optimizer.momentum
    last = layout.n_layers - 1
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        m = len(xb)
        zs, acts = [], [xb]
        for i, (w, b) in enumerate(layers):
            zs.append(acts[-1] @ w + b)
            acts.append(_notebook_sigmoid(zs[-1]) if i == last else f(zs[-1]))
        p = acts[-1]
        delta = ((1.0 - yb) / (1.0 - p + EPS) - yb / (p + EPS)) * (p * (1.0 - p))  # dJ/dy · σ'(z), (m, 1)
        for layer in range(last, -1, -1):
            w, b = layers[layer]
            if layer < last:
                # Through the weights above as they are now: already updated in this step.
                delta = (delta @ layers[layer + 1][0].T) * df(zs[layer], acts[layer + 1])
            grad_w = (delta.T @ acts[layer]).T / m
            grad_b = delta.mean(axis=0)
            if l2 > 0:
                grad_w = grad_w + l2 * w
            for param, velocity, grad in ((w, velocities[layer][0], grad_w), (b, velocities[layer][1], grad_b)):
                velocity *= beta
                velocity += (1.0 - beta) * grad
                param -= learning_rate * velocity
        optimizer.state.t += 1


def _notebook_sigmoid(z: np.ndarray) -> np.ndarray:
    # The notebook's sig, 1 / (1 + e^−z): e^−z overflows to inf for z < −709, giving the right 0.
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))
