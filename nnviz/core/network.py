"""The multi-layer perceptron: parameters in one flat vector, forward and backward passes.

Parameters of a network of shape ``(2, h1, ..., hk, 1)`` live in one flat float64
vector ``theta`` laid out as ``W1, b1, W2, b2, ...``: ``W`` of layer ``l`` is an
``(n_{l-1}, n_l)`` block in row-major order, ``b`` a block of ``n_l`` values. This is
also the order in which the notebook draws its initial weights, and it lets the
compiled kernel and the numpy reference share the same memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

EPS = 1e-8  # the notebook's guard inside the logarithms of the cost


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype)


def _tanh_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


# Hidden-layer activations: name -> (function of z, derivative given z and a = f(z)).
ACTIVATIONS = {
    "relu": (_relu, _relu_derivative),
    "tanh": (np.tanh, _tanh_derivative),
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function, computed without overflow for any finite input."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def output_delta(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dJ/dz at the sigmoid output for labels y in {0, 1}.

    Sigmoid with cross-entropy: dJ/dz = p - y, because σ'(z) = p(1 - p) cancels the
    cross-entropy's 1/p and 1/(1 - p). The cost keeps the notebook's eps inside its
    logarithms, so its exact derivative carries the factor q / (q + eps), q being the
    probability given to the true class. That factor is 1 to within 1e-8 unless q is
    tiny; keeping it makes the gradient the exact derivative of the reported cost, as
    the notebook's dJ/dy · σ'(z) is (per-sample momentum runs amplify the difference).
    """
    q = y * p + (1.0 - y) * (1.0 - p)
    return (p - y) * (q / (q + EPS))


def cost(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy with the notebook's eps = 1e-8."""
    p = probabilities
    return float(-np.mean(y * np.log(p + EPS) + (1.0 - y) * np.log(1.0 - p + EPS)))


def accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose thresholded prediction (p > 0.5) equals the label."""
    return float(np.mean((probabilities > 0.5) == (y > 0.5)))


@dataclass(frozen=True)
class Layout:
    """Where each layer's weights and biases sit in the flat parameter vector, and what the input units are."""

    shape: tuple[int, ...]  # units per layer, input first: (inputs, h1, ..., hk, 1)
    # The input units' features (datasets.FEATURES), shape[0] of them; None: the plane's x1, x2 (or unnamed).
    features: tuple[str, ...] | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        """The input units' features: ``features``, or x1, x2 for a network of two unnamed inputs."""
        if self.features is not None:
            return self.features
        return ("x1", "x2") if self.shape[0] == 2 else tuple(f"input {i + 1}" for i in range(self.shape[0]))

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + 1)."""
        return len(self.shape) - 1

    # Layouts are immutable and read on every forward, backward and record: offsets, size and the
    # weight mask are computed once per Layout (cached_property writes past the frozen dataclass).
    @cached_property
    def offsets(self) -> np.ndarray:
        """Read-only int64 array of length n_layers + 1: layer l's W starts at offsets[l]."""
        sizes = [self.shape[i] * self.shape[i + 1] + self.shape[i + 1] for i in range(self.n_layers)]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        offsets.flags.writeable = False
        return offsets

    @cached_property
    def size(self) -> int:
        """Total number of parameters."""
        return int(self.offsets[-1])

    def views(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-layer ``(W, b)`` views into ``theta``; writing to them writes to ``theta``."""
        out = []
        for layer, start in enumerate(self.offsets[:-1]):
            n_in, n_out = self.shape[layer], self.shape[layer + 1]
            w_end = start + n_in * n_out
            out.append((theta[start:w_end].reshape(n_in, n_out), theta[w_end : w_end + n_out]))
        return out

    def weight_mask(self) -> np.ndarray:
        """Read-only: 1.0 where ``theta`` holds a weight, 0.0 where it holds a bias (for the L2 penalty)."""
        return self._weight_mask

    @cached_property
    def _weight_mask(self) -> np.ndarray:
        mask = np.zeros(self.size)
        for w, _ in self.views(mask):
            w[...] = 1.0
        mask.flags.writeable = False
        return mask


def _notebook(rng, w, b) -> None:
    # The notebook's N(0, 0.5) for weights and biases alike (bit for bit as its cells draw them).
    w[...] = rng.normal(0, 0.5, size=w.shape)
    b[...] = rng.normal(0, 0.5, size=(b.size, 1)).ravel()


def _glorot(rng, w, b) -> None:
    # Glorot/Xavier normal: variance 2 / (fan_in + fan_out) keeps the signal's size both ways through the layer.
    w[...] = rng.normal(0, np.sqrt(2.0 / (w.shape[0] + w.shape[1])), size=w.shape)
    b[...] = 0.0


def _he(rng, w, b) -> None:
    # He normal: variance 2 / fan_in keeps a ReLU layer's output as large as its input (half the units are 0).
    w[...] = rng.normal(0, np.sqrt(2.0 / w.shape[0]), size=w.shape)
    b[...] = 0.0


# Initial weights: name -> function(rng, W view, b view) filling one layer; layers are drawn in order w1, b1, w2, ...
INITS = {"notebook": _notebook, "glorot": _glorot, "he": _he}


def init_params(shape: tuple[int, ...], seed: int, init: str = "notebook") -> np.ndarray:
    """Initial parameters drawn from ``RandomState(seed)`` layer by layer (w1, b1, w2, b2, ...):
    ``notebook`` N(0, 0.5) for weights and biases as the notebook draws them, ``glorot``
    N(0, 2/(fan_in + fan_out)) and ``he`` N(0, 2/fan_in) for the weights with zero biases.

    Returns
    -------
    theta : ndarray of shape (Layout(shape).size,)
    """
    if init not in INITS:
        raise ValueError(f"init={init!r}: allowed are {', '.join(INITS)}")
    rng = np.random.RandomState(seed)
    layout = Layout(tuple(shape))
    theta = np.empty(layout.size)
    for w, b in layout.views(theta):
        INITS[init](rng, w, b)
    return theta


def predict(theta: np.ndarray, layout: Layout, X: np.ndarray, activation: str = "relu") -> np.ndarray:
    """Probabilities of class 1; keeps no activations.

    X : ndarray of shape (n_samples, 2) -> ndarray of shape (n_samples, 1)
    """
    f = ACTIVATIONS[activation][0]
    layers = layout.views(theta)
    a = X
    for w, b in layers[:-1]:
        a = f(a @ w + b)
    w, b = layers[-1]
    return sigmoid(a @ w + b)


def forward(theta: np.ndarray, layout: Layout, X: np.ndarray, activation: str = "relu"):
    """Forward pass keeping what backward needs.

    Returns ``(zs, activations)``: ``activations[0]`` is X, ``activations[-1]`` the
    output probabilities of shape (n_samples, 1); ``zs[l]`` the pre-activation of layer l+1.
    """
    f = ACTIVATIONS[activation][0]
    layers = layout.views(theta)
    zs, activations = [], [X]
    for i, (w, b) in enumerate(layers):
        z = activations[-1] @ w + b
        zs.append(z)
        activations.append(sigmoid(z) if i == len(layers) - 1 else f(z))
    return zs, activations


def backward(
    theta: np.ndarray,
    layout: Layout,
    X: np.ndarray,
    y: np.ndarray,
    activation: str = "relu",
    l2: float = 0.0,
) -> np.ndarray:
    """Gradient of the mean cost over the batch (plus the L2 penalty) w.r.t. ``theta``.

    Every layer's delta uses the weights as they are in ``theta`` (the ones before the
    step): true backpropagation.

    X : ndarray of shape (batch, 2), y : ndarray of shape (batch, 1)
    -> ndarray of shape (Layout.size,)
    """
    df = ACTIVATIONS[activation][1]
    zs, acts = forward(theta, layout, X, activation)
    grad = np.empty_like(theta)
    grad_layers = layout.views(grad)
    layers = layout.views(theta)
    n = X.shape[0]
    delta = output_delta(acts[-1], y) / n
    for layer in range(layout.n_layers - 1, -1, -1):
        gw, gb = grad_layers[layer]
        gw[...] = acts[layer].T @ delta
        gb[...] = delta.sum(axis=0)
        if layer > 0:
            delta = (delta @ layers[layer][0].T) * df(zs[layer - 1], acts[layer])
    if l2 > 0:
        grad += l2 * theta * layout.weight_mask()
    return grad


def l2_penalty(theta: np.ndarray, layout: Layout, l2: float) -> float:
    """The L2 term added to the cost: (l2 / 2) * sum of squared weights (biases excluded)."""
    if l2 == 0:
        return 0.0
    return float(0.5 * l2 * np.sum(theta * theta * layout.weight_mask()))
