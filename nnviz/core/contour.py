"""Iso-lines of a sampled 2-D field by vectorised marching squares (numpy only).

The result is a flat list of line segments, two points each, ready for
``PlotDataItem(x, y, connect="pairs")``: one draw call however long the contour.
pyqtgraph's ``IsocurveItem`` traces the same lines cell by cell in Python (~37 ms
for 200 x 200); here only the handful of cells the line crosses are touched after
one vectorised pass over the grid.
"""

from __future__ import annotations

import numpy as np

# Cell corners: v00 = V[i, j] at (xs[j], ys[i]), v10 = V[i, j+1], v11 = V[i+1, j+1], v01 = V[i+1, j].
# The case index sets bit 0 for v00 >= level, bit 1 for v10, bit 2 for v11, bit 3 for v01.
# Edges: 0 bottom (v00-v10), 1 right (v10-v11), 2 top (v01-v11), 3 left (v00-v01). Each edge is
# always walked in the same direction (increasing column or row), so two cells sharing an edge
# compute bit-identical crossing points and the segments join exactly.
_EDGE_A = np.array([[0, 0], [0, 1], [1, 0], [0, 0]])  # (row, column) offset of an edge's first corner
_EDGE_B = np.array([[0, 1], [1, 1], [1, 1], [1, 0]])  # ... and of its second corner

# Segments per case as pairs of edges, -1 where a case has no second segment. Cases 16 and 17 are
# the saddles 5 and 10 whose cell centre (mean of the corners) is at or above the level.
_NONE = (-1, -1)
_SEGMENTS = np.array(
    [
        [_NONE, _NONE],  # 0: all below
        [(3, 0), _NONE],  # 1: v00
        [(0, 1), _NONE],  # 2: v10
        [(3, 1), _NONE],  # 3: v00 v10
        [(1, 2), _NONE],  # 4: v11
        [(3, 0), (1, 2)],  # 5: v00 v11, centre below: the two high corners are cut off separately
        [(0, 2), _NONE],  # 6: v10 v11
        [(3, 2), _NONE],  # 7: all but v01
        [(3, 2), _NONE],  # 8: v01
        [(0, 2), _NONE],  # 9: v00 v01
        [(0, 1), (2, 3)],  # 10: v10 v01, centre below
        [(1, 2), _NONE],  # 11: all but v11
        [(3, 1), _NONE],  # 12: v11 v01
        [(0, 1), _NONE],  # 13: all but v10
        [(3, 0), _NONE],  # 14: all but v00
        [_NONE, _NONE],  # 15: all above
        [(0, 1), (2, 3)],  # 16 (saddle 5, centre above): the two low corners are cut off
        [(3, 0), (1, 2)],  # 17 (saddle 10, centre above)
    ],
    dtype=np.int64,
)


def _check(values: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
    if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] < 2:
        raise ValueError(f"values: expected a 2-D array of at least 2 x 2, got shape {values.shape}")
    ny, nx = values.shape
    if xs.shape != (nx,):
        raise ValueError(f"xs: expected {nx} coordinates (one per column of values), got shape {xs.shape}")
    if ys.shape != (ny,):
        raise ValueError(f"ys: expected {ny} coordinates (one per row of values), got shape {ys.shape}")


def marching_squares(values: np.ndarray, level: float, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Line segments where the bilinear surface through ``values`` crosses ``level``.

    Parameters
    ----------
    values : ndarray of shape (ny, nx)
        Samples; row i lies at ``ys[i]``, column j at ``xs[j]``. Cells with a non-finite
        corner are skipped.
    level : float
        The iso-value.
    xs : ndarray of shape (nx,), ys : ndarray of shape (ny,)
        Coordinates of the columns and rows (any monotone spacing).

    Returns
    -------
    points : ndarray of shape (2k, 2)
        ``points[2m]`` and ``points[2m + 1]`` are the ends of segment m, as (x, y). Ends lie on
        cell edges, linearly interpolated so that the field equals ``level`` there. Saddle
        cells are resolved by the mean of their corners. Shape (0, 2) when nothing crosses.
    """
    values = np.asarray(values)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    _check(values, xs, ys)
    level = float(level)

    above = values >= level  # NaN compares False: such cells are dropped below anyway
    case = (
        above[:-1, :-1].astype(np.uint8)
        | (above[:-1, 1:].astype(np.uint8) << 1)
        | (above[1:, 1:].astype(np.uint8) << 2)
        | (above[1:, :-1].astype(np.uint8) << 3)
    )
    rows, cols = np.nonzero((case != 0) & (case != 15))
    if rows.size == 0:
        return np.empty((0, 2))
    cases = case[rows, cols].astype(np.int64)

    corners = np.stack(
        [values[rows, cols], values[rows, cols + 1], values[rows + 1, cols + 1], values[rows + 1, cols]]
    ).astype(np.float64)
    finite = np.isfinite(corners).all(axis=0)
    if not finite.all():
        rows, cols, cases, corners = rows[finite], cols[finite], cases[finite], corners[:, finite]

    saddle = (cases == 5) | (cases == 10)
    if saddle.any():
        centre_above = corners.mean(axis=0) >= level
        cases = np.where(saddle & centre_above, np.where(cases == 5, 16, 17), cases)

    # Every active cell has a first segment; saddles have a second one.
    edges = _SEGMENTS[cases]  # (m, 2 segments, 2 ends)
    second = edges[:, 1, 0] >= 0
    cell_rows = np.concatenate([rows, rows[second]])
    cell_cols = np.concatenate([cols, cols[second]])
    seg_edges = np.concatenate([edges[:, 0], edges[second, 1]])  # (k, 2)

    # One crossing point per segment end: interpolate along that end's edge.
    r = np.repeat(cell_rows, 2)
    c = np.repeat(cell_cols, 2)
    e = seg_edges.ravel()
    ra, ca = r + _EDGE_A[e, 0], c + _EDGE_A[e, 1]
    rb, cb = r + _EDGE_B[e, 0], c + _EDGE_B[e, 1]
    va = values[ra, ca].astype(np.float64)
    vb = values[rb, cb].astype(np.float64)
    # An edge holds a crossing only when exactly one end is >= level, so va != vb here.
    t = (level - va) / (vb - va)
    points = np.empty((e.size, 2))
    points[:, 0] = xs[ca] + t * (xs[cb] - xs[ca])
    points[:, 1] = ys[ra] + t * (ys[rb] - ys[ra])
    return points
