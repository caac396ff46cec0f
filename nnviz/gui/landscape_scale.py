"""The landscape view's log colour scale (banded: filled contours), the grid's upsampling and the thinning of paths.

A cost c is placed at log10(c) between the scale's ends; the bands between round levels (1, 2, 5 × 10^k, or
finer when the range is narrow) each have one colour, taken from a light sequential map at the band's middle,
so that the runs' colours stay readable on top of it. The grid, the colour bar and the paths' points all take
their colours from the one ``LogScale``.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

# Light (low cost: where training goes) to a muted slate blue (high cost). Pale enough for the runs' colours
# (tab10) and the dark iso-lines on top of it; banded, so each step is still told apart.
SCALE_STOPS = (0.0, 0.3, 0.6, 1.0)
SCALE_COLOURS = ((253, 251, 240), (222, 230, 222), (176, 196, 214), (118, 135, 175))
MIN_LEVELS = 6  # round levels inside the range: at least this many bands ...
MAX_LEVELS = 16  # ... and at most this many
# Mantissas of the round levels, coarsest first: the first set that gives MIN_LEVELS levels is used.
MANTISSAS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
             (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0), tuple(np.arange(1.0, 10.0, 0.5)),
             tuple(np.arange(1.0, 10.0, 0.25)))
_EDGE = 1e-9  # a band's colour ends this far (on 0..1) before the next level, so a level itself is in the band above


def round_levels(low: float, high: float) -> np.ndarray:
    """Round cost levels strictly between ``low`` and ``high`` (0 < low < high): 1, 2, 5 × 10^k or finer, at least
    ``MIN_LEVELS`` where a set of round mantissas gives them, else ``MIN_LEVELS`` evenly spaced in log10 (3 digits).
    At most ``MAX_LEVELS``: a wide range keeps every n-th."""
    if not (0 < low < high and math.isfinite(high)):
        raise ValueError(f"cost range ({low!r}, {high!r}): must be finite with 0 < low < high")
    for mantissas in MANTISSAS:
        decades = np.arange(math.floor(math.log10(low)), math.floor(math.log10(high)) + 1)
        levels = (np.asarray(mantissas)[None, :] * 10.0 ** decades[:, None]).ravel()
        levels = levels[(levels > low) & (levels < high)]
        if len(levels) >= MIN_LEVELS:
            break
    else:
        exponents = np.linspace(math.log10(low), math.log10(high), MIN_LEVELS + 2)[1:-1]
        for digits in range(3, 17):  # as many digits as a narrow range needs (0.69309 .. 0.69398: 4)
            levels = np.array([float(f"{10.0 ** e:.{digits}g}") for e in exponents])
            levels = np.unique(levels[(levels > low) & (levels < high)])
            if len(levels) >= MIN_LEVELS:
                break
    if len(levels) > MAX_LEVELS:
        levels = levels[:: math.ceil(len(levels) / MAX_LEVELS)]
    return levels


def base_colormap() -> pg.ColorMap:
    """The smooth map the bands take their colours from (0: lowest cost)."""
    return pg.ColorMap(np.array(SCALE_STOPS), np.array(SCALE_COLOURS, dtype=np.ubyte), name="nnviz-landscape")


class LogScale:
    """Costs to colours on a log scale from ``low`` to ``high``, in bands between ``levels``.

    ``colormap`` is the banded map over 0..1 = log10(low)..log10(high) (what the colour bar shows); ``colours``
    gives the same colours for any costs. Costs outside [low, high] take the end colours; non-finite ones too
    (the top: a diverged cost is a high one).
    """

    def __init__(self, low: float, high: float):
        self.low, self.high = float(low), float(high)
        self.levels = round_levels(self.low, self.high)
        self.log_low, self.log_high = math.log10(self.low), math.log10(self.high)
        edges = np.concatenate([[0.0], self.position(self.levels), [1.0]])
        middles = (edges[:-1] + edges[1:]) / 2
        self.band_colours = base_colormap().map(middles, mode="byte")  # (bands, 4) uint8
        ends = edges[1:] - np.r_[np.full(len(edges) - 2, _EDGE), 0.0]  # a level is in the band above it
        stops = np.concatenate([edges[:-1], ends])
        order = np.argsort(stops, kind="stable")
        self.colormap = pg.ColorMap(stops[order], np.concatenate([self.band_colours] * 2)[order],
                                    name="nnviz-landscape-bands")

    @classmethod
    def covering(cls, *costs: np.ndarray) -> LogScale:
        """A scale over every finite positive cost given (a decade around a single value; 1e-3..1 with none)."""
        values = np.concatenate([np.asarray(c, dtype=np.float64).ravel() for c in costs]) if costs else np.empty(0)
        values = values[np.isfinite(values) & (values > 0)]
        if len(values) == 0:
            return cls(1e-3, 1.0)
        low, high = float(values.min()), float(values.max())
        if high <= low * 1.001:  # one value (or nearly): a band around it
            low, high = low / 1.5, high * 1.5
        return cls(low, high)

    def position(self, costs) -> np.ndarray:
        """Where costs sit on the bar, 0 (low) .. 1 (high), clipped; ≤ 0: 0, non-finite: 1."""
        costs = np.asarray(costs, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.log10(np.where(costs > 0, costs, self.low)) - self.log_low) / (self.log_high - self.log_low)
        return np.clip(np.where(np.isfinite(costs), t, 1.0), 0.0, 1.0)

    def bands(self, costs) -> np.ndarray:
        """The band index of each cost (0: below the first level), as int64 of the same shape."""
        costs = np.asarray(costs, dtype=np.float64)
        costs = np.where(np.isfinite(costs), costs, np.inf)
        return np.searchsorted(self.levels, costs, side="right")

    def colours(self, costs) -> np.ndarray:
        """RGBA uint8 of each cost, shape (*costs.shape, 4)."""
        return self.band_colours[self.bands(costs)]


def moved_points(a: np.ndarray, b: np.ndarray, quantum: float, before: tuple[float, float] | None = None) -> np.ndarray:
    """Indices of the points of a path that leave the ``quantum``-sized square of the point before them (the first
    point: of ``before``, or always when None). A wobble of a square or more survives; a run creeping within
    one square draws one point. Appending: the points of a longer path after ``before`` give the same indices
    as the whole path's would. O(len(a)), no Python loop. ``quantum`` 0: every point."""
    n = len(a)
    if quantum == 0:
        return np.arange(n)
    cells_a = np.floor(np.asarray(a) / quantum)
    cells_b = np.floor(np.asarray(b) / quantum)
    moved = np.empty(n, dtype=bool)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if before is None:
        moved[0] = True
    else:
        moved[0] = bool(np.floor(before[0] / quantum) != cells_a[0] or np.floor(before[1] / quantum) != cells_b[0])
    np.not_equal(cells_a[1:], cells_a[:-1], out=moved[1:])
    moved[1:] |= cells_b[1:] != cells_b[:-1]
    return np.flatnonzero(moved)


def upsample(values: np.ndarray, fine: int) -> np.ndarray:
    """Bilinear interpolation of ``values`` (ny, nx) at ``fine`` points per cell: shape ((ny-1)·fine+1, (nx-1)·fine+1),
    equal to ``values`` at every ``fine``-th point."""
    for axis in (0, 1):
        n = values.shape[axis]
        f = np.arange((n - 1) * fine + 1) / fine
        low = np.minimum(f.astype(np.int64), n - 2)
        w = f - low
        lo, hi = np.take(values, low, axis=axis), np.take(values, low + 1, axis=axis)
        w = w[:, None] if axis == 0 else w[None, :]
        with np.errstate(invalid="ignore"):  # inf (a diverged cost) next to a finite one: nan between them
            values = np.where(w == 0, lo, np.where(w == 1, hi, (1 - w) * lo + w * hi))  # exact at the points
    return values
