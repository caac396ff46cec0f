"""The network's probabilities over a regular n×n grid, for the decision map.

One call per frame; every array is allocated once in ``__init__`` and reused, and the
arithmetic is float32: the map is drawn with 8-bit colours, so float32's 1e-7 relative
error never changes a pixel.
"""

from __future__ import annotations

import numpy as np

from nnviz.core.datasets import DEFAULT_FEATURES, expand, feature_error
from nnviz.core.network import ACTIVATIONS, Layout

SIGMOID_CLIP = 80.0  # sigmoid(±80) is 0 or 1 in float32; clipping keeps exp from overflowing


class GridEvaluator:
    """Probabilities of the network over an n×n grid, one call, reusable float32 buffers.

    Grid points are cell centres: the extent is cut into n × n equal cells and each
    point sits in the middle of its cell, so an image drawn with ``setRect`` on the
    extent puts every pixel exactly over the point it shows.

    Parameters
    ----------
    layout : Layout
        The network's parameter layout.
    activation : str
        Hidden-layer activation, a key of ``network.ACTIVATIONS``.
    extent : tuple of 4 floats
        ``(x_min, x_max, y_min, y_max)`` of the area covered, with x_min < x_max and y_min < y_max.
    n : int
        Points per side, 2 to 2000.
    features : sequence of str, optional
        The network's inputs (datasets.FEATURES) computed from each grid point's (x1, x2); layout.shape[0]
        of them. Default: the layout's (``Layout.inputs``).
    """

    def __init__(self, layout: Layout, activation: str, extent: tuple[float, float, float, float], n: int = 200,
                 features=None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r}: allowed are {', '.join(ACTIVATIONS)}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n <= 2000:
            raise ValueError(f"n={n!r}: must be an integer from 2 to 2000")
        x_min, x_max, y_min, y_max = (float(v) for v in extent)
        if not (np.isfinite([x_min, x_max, y_min, y_max]).all() and x_min < x_max and y_min < y_max):
            raise ValueError(f"extent={extent!r}: must be finite (x_min, x_max, y_min, y_max) with min < max")
        if features is None and layout.features is None and layout.shape[0] != 2:
            raise ValueError(f"features: the network takes {layout.shape[0]} inputs: name their features")
        features = layout.inputs if features is None else features
        problem = feature_error(tuple(features)) if isinstance(features, (tuple, list)) else feature_error(features)
        if problem or len(features) != layout.shape[0]:
            raise ValueError(problem or f"features={','.join(features)}: the network takes {layout.shape[0]} inputs")
        self.layout = layout
        self.activation = activation
        self.features = tuple(features)
        self.extent = (x_min, x_max, y_min, y_max)
        self.n = int(n)
        cells = (np.arange(self.n) + 0.5) / self.n
        self.xs = x_min + (x_max - x_min) * cells  # x of column j, float64, length n
        self.ys = y_min + (y_max - y_min) * cells  # y of row i, float64, length n
        # Unit-major buffers, (units, n²): each layer is one matmul W.T @ a, and the bias is a
        # column added along contiguous rows (numpy needs no scratch buffer for that).
        # Grid points in row-major order (x varies fastest), so the output reshapes to (n, n).
        gx, gy = np.meshgrid(self.xs, self.ys)
        plane = np.column_stack([gx.ravel(), gy.ravel()])
        self._points = np.ascontiguousarray(expand(plane, self.features).T, dtype=np.float32)  # (inputs, n²)
        pairs = list(zip(layout.shape[:-1], layout.shape[1:], strict=True))  # (n_in, n_out) per layer
        self._slices = [(int(start), n_in, n_out) for start, (n_in, n_out) in zip(layout.offsets, pairs, strict=False)]
        self._weights = [np.empty((n_out, n_in), dtype=np.float32) for n_in, n_out in pairs]  # W.T per layer
        self._biases = [np.empty((n_out, 1), dtype=np.float32) for _, n_out in pairs]
        self._buffers = [np.empty((units, self.n * self.n), dtype=np.float32) for units in layout.shape[1:]]
        self._image = self._buffers[-1].reshape(self.n, self.n)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """Probabilities of class 1 at every grid point.

        theta : ndarray of shape (layout.size,) -> ndarray of shape (n, n), float32, row i at
        ``ys[i]``, column j at ``xs[j]``. The result is a view of an internal buffer that the
        next call overwrites: copy it to keep it.
        """
        if np.shape(theta) != (self.layout.size,):
            raise ValueError(f"theta: must have shape ({self.layout.size},) for shape {self.layout.shape}, "
                             f"got {np.shape(theta)}")
        a = self._points
        last = len(self._buffers) - 1
        for layer, (start, n_in, n_out) in enumerate(self._slices):
            w32, b32, out = self._weights[layer], self._biases[layer], self._buffers[layer]
            w_end = start + n_in * n_out
            np.copyto(w32, theta[start:w_end].reshape(n_in, n_out).T, casting="same_kind")
            np.copyto(b32[:, 0], theta[w_end : w_end + n_out], casting="same_kind")
            np.matmul(w32, a, out=out)
            out += b32
            if layer < last:
                if self.activation == "relu":
                    np.maximum(out, 0.0, out=out)
                else:
                    np.tanh(out, out=out)
            a = out
        # Sigmoid in place: 1 / (1 + exp(-z)), z clipped so exp cannot overflow.
        np.clip(a, -SIGMOID_CLIP, SIGMOID_CLIP, out=a)
        np.negative(a, out=a)
        np.exp(a, out=a)
        a += 1.0
        np.reciprocal(a, out=a)
        return self._image

    def input_values(self) -> np.ndarray:
        """The input units' values over the grid, (inputs, n, n) float32: x1, x2 or their features."""
        return self._points.reshape(-1, self.n, self.n)

    def layer_outputs(self) -> list[np.ndarray]:
        """Every unit's output over the grid as the last call computed it (no second forward pass): one
        float32 array of shape (units, n, n) per layer after the input, hidden layers after their activation,
        the last one the probabilities (its only unit is the image ``__call__`` returned). Views of internal
        buffers that the next call overwrites."""
        return [buffer.reshape(-1, self.n, self.n) for buffer in self._buffers]


BLOCK_OPERATIONS = 20_000_000  # multiply-adds per block of grid_probabilities: ~10 ms, so a stop is seen soon
BLOCK_POINTS_MAX = 262_144  # and at most this many points a block (bounds the float32 buffers)


def grid_probabilities(theta: np.ndarray, layout: Layout, activation: str, xs: np.ndarray, ys: np.ndarray,
                       progress=None, cancelled=None) -> np.ndarray | None:
    """Probabilities of class 1 over the grid ``xs`` × ``ys`` (any sizes), evaluated a block of points at a time.

    For grids larger than ``GridEvaluator`` allows (e.g. an export thousands of pixels wide); the same
    float32 arithmetic. Between blocks (each about ``BLOCK_OPERATIONS`` multiply-adds, so ~10 ms
    whatever the network) it calls ``progress(fraction done)`` (at most ~200 times in all) and stops
    early, returning None, as soon as ``cancelled()`` is true.

    Parameters
    ----------
    theta : ndarray of shape (layout.size,)
    layout : Layout
    activation : str
        A key of ``network.ACTIVATIONS``.
    xs : ndarray of shape (nx,), ys : ndarray of shape (ny,)
        Coordinates of the columns and rows.
    progress : callable(float) or None
    cancelled : callable() -> bool, or None

    Returns
    -------
    probabilities : ndarray of shape (ny, nx), float32 (row i at ``ys[i]``), or None when cancelled.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r}: allowed are {', '.join(ACTIVATIONS)}")
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (layout.size,):
        raise ValueError(f"theta: must have shape ({layout.size},) for shape {layout.shape}, got {theta.shape}")
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    ys = np.asarray(ys, dtype=np.float64).reshape(-1)
    if xs.size == 0 or ys.size == 0 or not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("xs, ys: need at least one finite coordinate each")
    weights, biases = [], []
    for start, n_in, n_out in zip(layout.offsets[:-1], layout.shape[:-1], layout.shape[1:], strict=True):
        w_end = int(start) + n_in * n_out
        weights.append(np.ascontiguousarray(theta[int(start):w_end].reshape(n_in, n_out).T, dtype=np.float32))
        biases.append(theta[w_end:w_end + n_out].astype(np.float32).reshape(n_out, 1))
    total = xs.size * ys.size
    block = int(np.clip(BLOCK_OPERATIONS // operations_per_point(layout), 64, BLOCK_POINTS_MAX))
    out = np.empty(total, dtype=np.float32)  # row-major: point k is (xs[k % nx], ys[k // nx])
    x32, y32 = xs.astype(np.float32), ys.astype(np.float32)
    last = len(weights) - 1
    reported = 0.0
    for first in range(0, total, block):
        if cancelled is not None and cancelled():
            return None
        end = min(first + block, total)
        k = np.arange(first, end)
        if layout.inputs == DEFAULT_FEATURES:
            a = np.empty((2, end - first), dtype=np.float32)
            np.take(x32, k % xs.size, out=a[0])
            np.take(y32, k // xs.size, out=a[1])
        else:  # the network's inputs are features of the plane's (x1, x2)
            plane = np.column_stack([xs[k % xs.size], ys[k // xs.size]])
            a = np.ascontiguousarray(expand(plane, layout.inputs).T, dtype=np.float32)
        for layer, (w32, b32) in enumerate(zip(weights, biases, strict=True)):
            a = w32 @ a
            a += b32
            if layer < last:
                if activation == "relu":
                    np.maximum(a, 0.0, out=a)
                else:
                    np.tanh(a, out=a)
        np.clip(a, -SIGMOID_CLIP, SIGMOID_CLIP, out=a)
        np.negative(a, out=a)
        np.exp(a, out=a)
        a += 1.0
        np.reciprocal(a, out=a)
        out[first:end] = a[0]
        if progress is not None and (end == total or end / total - reported >= 0.005):
            reported = end / total
            progress(reported)
    return out.reshape(ys.size, xs.size)


def operations_per_point(layout: Layout) -> int:
    """Multiply-adds the network does for one point (the weights' count)."""
    return int(sum(n_in * n_out for n_in, n_out in zip(layout.shape[:-1], layout.shape[1:], strict=True)))
