"""What the on-screen decision map and its export must agree on, so both draw the same picture.

The colours, the extent of the data, the subset of points drawn when there are many (``map_points``),
the probability colour map and the tick values. Importable from ``nnviz.gui.map_render`` as well.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

BACKGROUND = "#ffffff"
FOREGROUND = "#3c3c3c"  # axes, ticks and titles
NOTE_COLOR = "#6b6b6b"  # the "points drawn" note
CLASS_COLORS = ("#154f91", "#c85200")  # class 0 blue, class 1 orange (scatter)
CONTOUR_COLOR = "#e3000f"  # the notebook's red 0.5 line
MARGIN = 0.10  # the map covers at least the data bounds plus this fraction of their span on every side
# Diverging light blue (p = 0, class 0) -> near white (0.5) -> light orange (p = 1, class 1): light
# enough that the darker class colours of the scatter stay readable on top of it.
PROBABILITY_STOPS = (0.0, 0.25, 0.5, 0.75, 1.0)
PROBABILITY_COLORS = ((124, 170, 218), (180, 207, 236), (247, 247, 247), (251, 206, 160), (244, 163, 96))

MAX_DRAWN_POINTS = 20_000  # a map draws at most this many points (a fixed random subset, class shares kept)
COMPACT_DRAWN_POINTS = 5_000  # a small multiple, a few hundred pixels wide, at most this many (of the same subset)
SUBSAMPLE_SEED = 0  # so every map, and every export, draws the same subset of the same data


def data_extent(*arrays: np.ndarray | None) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` covering every point of the arrays plus the margin."""
    arrays = [np.asarray(a, dtype=np.float64).reshape(-1, 2) for a in arrays if a is not None and len(a)]
    # Column by column: min(axis=0) over an (n, 2) array is ~20 times slower (47 ms at 800,000 points).
    low = np.array([min(a[:, c].min() for a in arrays) for c in (0, 1)])
    high = np.array([max(a[:, c].max() for a in arrays) for c in (0, 1)])
    span = np.where(high > low, high - low, 1.0)
    low, high = low - MARGIN * span, high + MARGIN * span
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def checked_points(x_name: str, y_name: str, X, y) -> tuple[np.ndarray, np.ndarray]:
    """``(X as float64 (n, 2), y as (n,))``, or ValueError naming the field."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{x_name}: expected shape (n_samples, 2), got {X.shape}")
    y = np.asarray(y).reshape(-1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{y_name}: expected {X.shape[0]} labels (one per row of {x_name}), got {y.shape[0]}")
    return X, y


@dataclass(frozen=True, eq=False)
class MapPoints:
    """The points a map draws, computed once per data set and shared by every map of a panel."""

    train: tuple[np.ndarray, np.ndarray]  # drawn training points of class 0 and of class 1, each (k, 2)
    test: tuple[np.ndarray, np.ndarray]  # drawn test points of class 0 and of class 1 (empty without a test set)
    n_train: int  # training points in the data
    n_test: int  # test points in the data
    extent: tuple[float, float, float, float]  # data_extent of all the data (train and test)
    data: tuple  # (X, y, X_test or None, y_test or None): the whole data, checked

    @property
    def drawn(self) -> int:
        """Points drawn, train and test."""
        return sum(len(p) for p in (*self.train, *self.test))

    @property
    def subsampled(self) -> bool:
        return self.drawn < self.n_train + self.n_test

    def limited(self, cap: int) -> MapPoints:
        """At most ``cap`` of the points drawn: the first ones of each set and class (each is in random
        order), so a smaller map draws part of the larger map's subset, with the same shares."""
        if self.drawn <= cap:
            return self
        fraction = cap / self.drawn
        return dataclasses.replace(self, train=tuple(p[: round(len(p) * fraction)] for p in self.train),
                                   test=tuple(p[: round(len(p) * fraction)] for p in self.test))

    @property
    def note(self) -> str:
        """What the map says about the points: empty when all are drawn."""
        if not self.subsampled:
            return ""
        return f"{self.drawn:,} of {self.n_train + self.n_test:,} points drawn"


def map_points(X, y, X_test=None, y_test=None, cap: int = MAX_DRAWN_POINTS, seed: int = SUBSAMPLE_SEED) -> MapPoints:
    """Check the data and choose the points to draw: all of them up to ``cap``, else a fixed random subset
    of about ``cap`` that keeps each set's and each class's share. Each class's points are in a random
    (seeded) order, so that ``MapPoints.limited`` can take a smaller subset as a prefix.

    X : ndarray of shape (n, 2), y : ndarray of shape (n,) or (n, 1) with labels 0/1; the test set likewise
    (None or empty: no test set).
    """
    X, y = checked_points("X", "y", X, y)
    if len(X) == 0:
        raise ValueError("X: no points; the map's extent is taken from the data")
    if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
        raise ValueError(f"cap={cap!r}: must be an integer of at least 1")
    has_test = X_test is not None and len(X_test) > 0
    if has_test:
        X_test, y_test = checked_points("X_test", "y_test", X_test, y_test)
    else:
        X_test = y_test = None
    total = len(X) + (len(X_test) if has_test else 0)
    fraction = min(1.0, cap / total)
    rng = np.random.default_rng(seed)

    def drawn(points, labels):
        out = []
        for label in (0, 1):
            index = np.flatnonzero(labels == label)
            if fraction < 1.0:
                index = index[rng.choice(len(index), round(len(index) * fraction), replace=False)]  # shuffled
            else:
                index = index[rng.permutation(len(index))]
            out.append(points[index])
        return tuple(out)

    empty = (np.empty((0, 2)), np.empty((0, 2)))
    return MapPoints(train=drawn(X, y), test=drawn(X_test, y_test) if has_test else empty, n_train=len(X),
                     n_test=len(X_test) if has_test else 0, extent=data_extent(X, X_test),
                     data=(X, y, X_test, y_test))


def fit_extent(extent, width: float, height: float) -> tuple[float, float, float, float]:
    """Widen ``extent`` about its centre to the aspect ratio ``width / height`` (the data keeps its scale)."""
    x_min, x_max, y_min, y_max = (float(v) for v in extent)
    if width < 2 or height < 2:
        return x_min, x_max, y_min, y_max
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    half_x, half_y = (x_max - x_min) / 2, (y_max - y_min) / 2
    half_x, half_y = max(half_x, half_y * width / height), max(half_y, half_x * height / width)
    return cx - half_x, cx + half_x, cy - half_y, cy + half_y


def probability_lut(n: int = 256) -> np.ndarray:
    """The probability colour map as ``n`` RGB rows (uint8), p = 0 first."""
    p = np.linspace(0.0, 1.0, n)
    colors = np.asarray(PROBABILITY_COLORS, dtype=np.float64)
    return np.column_stack([np.interp(p, PROBABILITY_STOPS, colors[:, c]) for c in range(3)]).round().astype(np.uint8)


def nice_ticks(low: float, high: float, most: int = 6) -> tuple[np.ndarray, int]:
    """Round tick values in [low, high] (at most ``most``) and the decimals they need: (values, decimals)."""
    span = high - low
    magnitude = 10.0 ** math.floor(math.log10(span / most))
    step = next(m * magnitude for m in (1, 2, 5, 10) if span / (m * magnitude) <= most)
    values = np.arange(math.ceil(low / step), math.floor(high / step) + 1) * step
    return values, max(0, -math.floor(math.log10(step) + 1e-9))


def tick_label(value: float, decimals: int) -> str:
    """A tick value with ``decimals`` decimals, never \"-0\"."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text

