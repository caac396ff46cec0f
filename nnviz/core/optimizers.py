"""Mini-batch steps, momentum state and learning-rate schedules (the numpy reference)."""

from __future__ import annotations

import math

import numpy as np

from nnviz.core.network import Layout, backward

SCHEDULES = ("constant", "exponential", "step")


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


class Momentum:
    """Momentum in the notebook's form: v ← βv + (1 − β)g, θ ← θ − αv (β = 0 is plain SGD)."""

    def __init__(self, size: int, momentum: float = 0.0):
        self.momentum = momentum
        self.velocity = np.zeros(size)  # running average of the gradients, starts at zero

    def update(self, theta: np.ndarray, grad: np.ndarray, learning_rate: float) -> None:
        """One step, in place on ``theta``."""
        beta = self.momentum
        self.velocity *= beta
        self.velocity += (1.0 - beta) * grad
        theta -= learning_rate * self.velocity


def train_epoch(
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
    """One epoch of mini-batch steps taken in order over (X, y), in place on ``theta``.

    The last batch may be partial; batch_size 1 is per-sample SGD, batch_size ≥ n full batch.
    """
    for start in range(0, len(X), batch_size):
        xb, yb = X[start : start + batch_size], y[start : start + batch_size]
        grad = backward(theta, layout, xb, yb, activation, l2)
        optimizer.update(theta, grad, learning_rate)
