"""Training health: dead and saturated units, a saturated output, gradient and update sizes, and the
plain-words warnings they call for ("the output is saturated on 100 % of the points: ... try init 'he'").

``measure`` looks at one set of parameters on the training data; ``UpdateSizes`` follows a run epoch by
epoch (‖Δw‖/‖w‖ per layer). Numpy only, like the rest of ``nnviz.core``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from nnviz.core.network import Layout, backward, forward

SATURATED_P = 1e-6  # an output p below this or above 1 − this is saturated: its gradient has all but vanished
TANH_SATURATED = 0.99  # a tanh unit with |a| above this is saturated (its derivative 1 − a² < 0.02)
WARN_SHARE = 0.5  # a warning when at least this share of the points (output) or of a layer's units (dead) is hit
MEASURE_POINTS = 2000  # live measures use at most this many training points (every k-th one)


@dataclass(frozen=True)
class Health:
    """How healthy one set of parameters is on the training data."""

    activation: str  # of the hidden layers
    shape: tuple[int, ...]  # the network's shape
    points: int  # training points measured on
    active: tuple[np.ndarray, ...]  # per hidden layer, per unit: share of the points where it is active (relu:
    #                                 a > 0) or saturated (tanh: |a| > TANH_SATURATED)
    output_saturated: float  # share of the points whose output p is within SATURATED_P of 0 or 1
    gradient: tuple[float, ...]  # per weight layer: ‖∂J/∂W‖ (Frobenius norm, the mean cost's gradient)

    def dead(self, layer: int) -> int:
        """Units of hidden layer ``layer`` (0-based) that never help: relu units zero on every point, tanh units
        saturated on every point."""
        share = self.active[layer]
        return int(np.sum(share == 0.0)) if self.activation == "relu" else int(np.sum(share == 1.0))

    @property
    def hidden_layers(self) -> int:
        return len(self.active)


def measure(params: np.ndarray, layout: Layout, activation: str, X: np.ndarray, y: np.ndarray,
            max_points: int | None = None) -> Health:
    """The Health of ``params`` on (X, y); with ``max_points``, on every k-th point (at most that many).

    X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1), n ≥ 1.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X, y: need the same number (≥ 1) of points, got {len(X)} and {len(y)}")
    if max_points is not None and len(X) > max_points:
        step = -(-len(X) // max_points)
        X, y = X[::step], y[::step]
    _, acts = forward(params, layout, X, activation)
    hidden = acts[1:-1]
    if activation == "relu":
        active = tuple(np.mean(a > 0, axis=0) for a in hidden)
    else:
        active = tuple(np.mean(np.abs(a) > TANH_SATURATED, axis=0) for a in hidden)
    p = acts[-1]
    saturated = float(np.mean((p < SATURATED_P) | (p > 1 - SATURATED_P)))
    grad = backward(params, layout, X, y, activation)
    gradient = tuple(float(np.linalg.norm(w)) for w, _ in layout.views(grad))
    return Health(activation, tuple(layout.shape), len(X), active, saturated, gradient)


def _percent(share: float) -> str:
    value = 100 * share
    return f"{value:.0f} %" if value >= 1 or value == 0 else f"{value:.1g} %"


def _problems(health: Health) -> dict:
    """What is wrong, by subject: "output" -> share saturated, hidden layer index -> dead units."""
    found = {}
    if health.output_saturated >= WARN_SHARE:
        found["output"] = health.output_saturated
    for layer in range(health.hidden_layers):
        units = len(health.active[layer])
        if units and health.dead(layer) / units >= WARN_SHARE:
            found[layer] = health.dead(layer)
    return found


def warnings(health: Health, init: str = "notebook", epoch: int = 0, start: Health | None = None) -> list[str]:
    """Plain-words warnings, each with its remedy, for a network that cannot learn as it is (empty when healthy).

    ``init`` is the initial-weight scheme the run started from, ``epoch`` the epoch measured and ``start`` the
    Health of the initial weights: a problem there from the start (epoch 0, or also in ``start``) is blamed on
    the initial weights, one that came later on the training (too large a step)."""
    out = []
    remedy_init = "he" if health.activation == "relu" else "glorot"
    widest = max(health.shape[1:-1], default=0)
    at_start = _problems(start) if start is not None else {}
    for subject, size in _problems(health).items():
        from_start = epoch == 0 or subject in at_start
        if not from_start:
            remedy = "lower the learning rate (or add L2) and restart"
        elif init != remedy_init:
            remedy = f"try init '{remedy_init}'"
        else:
            remedy = "try another init seed"
        if subject == "output":
            cause = (f"the initial weights are too large for {widest} units a layer" if from_start
                     else "the weights have grown too large")
            out.append(f"the output is saturated on {_percent(size)} of the points: {cause}; {remedy}")
            continue
        units = len(health.active[subject])
        what = ("dead (zero on every point): they pass on no signal and get no gradient"
                if health.activation == "relu" else
                "saturated (|tanh| > 0.99 on every point): their gradient is near 0")
        out.append(f"{size} of {units} units of hidden layer {subject + 1} are {what}; {remedy}")
    return out


class UpdateSizes:
    """A run's update size per weight layer and epoch, ‖W_e − W_{e−1}‖ / ‖W_{e−1}‖, in bounded memory.

    Kept for every epoch up to ``capacity`` rows; then every other row is dropped and only every 2nd
    (4th, ...) epoch is kept from then on (``stride``). One thread adds, others read (``arrays``).
    """

    def __init__(self, layout: Layout, initial_params: np.ndarray, capacity: int = 65536):
        if capacity < 2 or capacity % 2:
            raise ValueError(f"capacity={capacity}: must be an even integer ≥ 2")
        self.layers = layout.n_layers
        self.capacity = capacity
        self.stride = 1
        # reduceat over [W1, b1, W2, b2, ...]: the weight segments are the even ones.
        starts = []
        for start, (n_in, n_out) in zip(layout.offsets[:-1], zip(layout.shape, layout.shape[1:], strict=False),
                                        strict=True):
            starts += [int(start), int(start) + n_in * n_out]
        self._starts = np.array(starts, dtype=np.intp)
        self._lock = threading.Lock()
        self._epochs = np.empty(capacity, dtype=np.int64)
        self._values = np.empty((capacity, self.layers), dtype=np.float64)
        self._n = 0
        self._previous = np.asarray(initial_params, dtype=np.float64)
        self._previous_norm2 = self._weight_sums(self._previous * self._previous)

    def _weight_sums(self, squares: np.ndarray) -> np.ndarray:
        return np.add.reduceat(squares, self._starts)[::2]

    def add(self, epoch: int, params: np.ndarray) -> None:
        """The parameters after ``epoch`` (the epochs added must follow each other)."""
        with np.errstate(all="ignore"):  # a diverged run's last parameters may hold inf: its ratio is inf or nan
            d = params - self._previous
            change = self._weight_sums(d * d)
            norm2 = self._weight_sums(params * params)
            ratio = np.sqrt(change / self._previous_norm2)
        self._previous, self._previous_norm2 = params, norm2
        if epoch % self.stride:
            return
        with self._lock:
            if self._n == self.capacity:
                kept = self._n // 2
                self._epochs[:kept] = self._epochs[1::2][:kept]
                self._values[:kept] = self._values[1::2][:kept]
                self._n = kept
                self.stride *= 2
                if epoch % self.stride:
                    return
            self._epochs[self._n] = epoch
            self._values[self._n] = ratio
            self._n += 1

    def __len__(self) -> int:
        return self._n

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(epochs (k,), ratios (k, layers)): copies, safe to keep."""
        with self._lock:
            return self._epochs[: self._n].copy(), self._values[: self._n].copy()
