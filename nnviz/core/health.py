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
from nnviz.core.training import Stopped

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
    epoch: int | None = None  # the epoch of the parameters measured, when the caller says it

    def dead(self, layer: int) -> int:
        """Units of hidden layer ``layer`` (0-based) that never help: relu units zero on every point, tanh units
        saturated on every point."""
        share = self.active[layer]
        return int(np.sum(share == 0.0)) if self.activation == "relu" else int(np.sum(share == 1.0))

    @property
    def hidden_layers(self) -> int:
        return len(self.active)


MEASURE_CHUNK = 250  # points measured at a time: a stop is seen between chunks (~10 ms for 2-256-256-256-1)


def measure(params: np.ndarray, layout: Layout, activation: str, X: np.ndarray, y: np.ndarray,
            max_points: int | None = None, should_stop=None) -> Health:
    """The Health of ``params`` on (X, y); with ``max_points``, on every k-th point (at most that many).
    ``should_stop()`` is asked between chunks of MEASURE_CHUNK points: training.Stopped when it says so.

    X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1), n ≥ 1.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"X, y: need the same number (≥ 1) of points, got {len(X)} and {len(y)}")
    if max_points is not None and len(X) > max_points:
        step = -(-len(X) // max_points)
        X, y = X[::step], y[::step]
    n = len(X)
    counts = [np.zeros(units) for units in layout.shape[1:-1]]
    saturated = 0
    grad = np.zeros_like(params, dtype=np.float64)
    for start in range(0, n, MEASURE_CHUNK):
        if should_stop is not None and should_stop():
            raise Stopped
        Xc, yc = X[start:start + MEASURE_CHUNK], y[start:start + MEASURE_CHUNK]
        _, acts = forward(params, layout, Xc, activation)
        for count, a in zip(counts, acts[1:-1], strict=True):
            count += np.sum(a > 0 if activation == "relu" else np.abs(a) > TANH_SATURATED, axis=0)
        p = acts[-1]
        saturated += int(np.sum((p < SATURATED_P) | (p > 1 - SATURATED_P)))
        grad += backward(params, layout, Xc, yc, activation) * (len(Xc) / n)  # the mean over every point
    active = tuple(count / n for count in counts)
    gradient = tuple(float(np.linalg.norm(w)) for w, _ in layout.views(grad))
    return Health(activation, tuple(layout.shape), n, active, saturated / n, gradient)


def percent(share: float) -> str:
    """A share as a percentage that never rounds up to 100 % (or down to 0 %) what is not."""
    value = 100 * share
    if value in (0, 100):
        return f"{value:.0f} %"
    if value < 1:
        return f"{value:.1g} %"
    return f"{min(value, 99.9):.1f} %" if value > 99 else f"{value:.0f} %"


def remedy_init(activation: str) -> str:
    """The initial weights made for a hidden activation: he for relu, glorot for tanh."""
    return "he" if activation == "relu" else "glorot"


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
    return list(warnings_by_subject(health, init, epoch, start).values())


def new_warnings(health: Health, init: str, epoch: int, start: Health) -> list[str]:
    """The warnings of ``health`` about problems the ``start`` did not have (those were said at the start)."""
    known = _problems(start)
    return [text for subject, text in warnings_by_subject(health, init, epoch, start).items() if subject not in known]


def warnings_by_subject(health: Health, init: str = "notebook", epoch: int = 0,
                        start: Health | None = None) -> dict:
    """``warnings`` by what they are about: "output", or the 0-based index of a hidden layer."""
    out = {}
    remedy = remedy_init(health.activation)
    widest = max(health.shape[1:-1], default=0)
    at_start = _problems(start) if start is not None else {}
    for subject, size in _problems(health).items():
        from_start = epoch == 0 or subject in at_start
        if not from_start:
            advice = "lower the learning rate (or add L2) and restart"
        elif init != remedy:
            advice = f"try init '{remedy}'"
        else:
            advice = "try another init seed"
        if subject == "output":
            cause = (f"the initial weights are too large for {widest} units a layer" if from_start
                     else "the weights have grown too large")
            out[subject] = f"the output is saturated on {percent(size)} of the points: {cause}; {advice}"
            continue
        units = len(health.active[subject])
        what = ("dead (zero on every point): they pass on no signal and get no gradient"
                if health.activation == "relu" else
                "saturated (|tanh| > 0.99 on every point): their gradient is near 0")
        out[subject] = f"{size} of {units} units of hidden layer {subject + 1} are {what}; {advice}"
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
        room = min(capacity, 1024)  # grown by doubling up to capacity: a short run holds little
        self._epochs = np.empty(room, dtype=np.int64)
        self._values = np.empty((room, self.layers), dtype=np.float64)
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
            if self._n == len(self._epochs) < self.capacity:
                room = min(2 * self._n, self.capacity)
                self._epochs = np.concatenate([self._epochs, np.empty(room - self._n, dtype=np.int64)])
                self._values = np.concatenate([self._values, np.empty((room - self._n, self.layers))])
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
