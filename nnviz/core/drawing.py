"""Drawing points by hand: the points being edited, strokes that add or erase them, and their undo.

A stroke is what one press of the mouse does until its release: it adds points, or erases points, and is
then applied as one edit (``Drawing.finish``) that ``Drawing.undo`` takes back exactly. Each stroke is kept
as what it changed (the indices and values it erased, the points it added), not as a copy of every point,
so a million points can be edited with many strokes to undo. Distances are in the plane's units; the caller
converts pixels (the brush's spacing, the eraser's radius) with the map's scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnviz.core.datasets import MAX_POINTS

PAINT_SPACING = 8.0  # pixels of mouse travel between two points a drag paints
PAINT_JITTER = 2.0  # pixels: each painted point is moved by up to this much, so a line looks drawn
ERASE_RADIUS = 10.0  # pixels: a drag with the eraser removes the points this close to the cursor's path
PICK_RADIUS = 20.0  # pixels: a click with the eraser removes the nearest point if it is this close


@dataclass(frozen=True, eq=False)
class Stroke:
    """What one stroke changed: ``after = concatenate(before without erased, added)``."""

    erased: np.ndarray  # (k,) int64, sorted indices into the points before the stroke
    erased_X: np.ndarray  # (k, 2) the erased points, in the order of ``erased``
    erased_y: np.ndarray  # (k,) their labels
    added_X: np.ndarray  # (m, 2) the points added, appended in this order
    added_y: np.ndarray  # (m,) their labels


class Drawing:
    """Points (X of shape (n, 2), labels y of shape (n,) in {0, 1}) edited stroke by stroke, with undo.

    ``begin`` starts a stroke; ``add``, ``erase_nearest`` and ``erase_within`` change it (the points themselves
    change only at ``finish``: ``pending`` says what the stroke would do, to preview it); ``undo`` takes
    the last finished stroke back, giving the very arrays it had before.
    """

    def __init__(self, X, y, limit: int = MAX_POINTS):
        X = np.array(X, dtype=np.float64).reshape(-1, 2)
        y = np.array(y, dtype=np.float64).reshape(-1)
        if len(X) != len(y):
            raise ValueError(f"X, y: {len(X)} points but {len(y)} labels")
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError("y: labels must be 0 or 1")
        self._X, self._y = X, y
        self.limit = int(limit)  # the most points the drawing may hold
        self._strokes: list[Stroke] = []  # finished strokes, oldest first
        self._added: list[tuple[float, float, float]] = []  # the stroke under way: (x1, x2, label) added
        self._erased: np.ndarray | None = None  # its erased points as a mask over X (None: nothing erased)
        self._n_erased = 0
        self._open = False

    # ---- the points ---------------------------------------------------------------------------

    @property
    def X(self) -> np.ndarray:  # noqa: N802 (the documented symbol)
        """The points, (n, 2), read-only (a view: it changes with the next stroke)."""
        view = self._X.view()
        view.flags.writeable = False
        return view

    @property
    def y(self) -> np.ndarray:
        """The labels, (n,) in {0, 1}, read-only."""
        view = self._y.view()
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        return len(self._X)

    @property
    def strokes(self) -> int:
        """Finished strokes that ``undo`` can take back."""
        return len(self._strokes)

    @property
    def can_undo(self) -> bool:
        return bool(self._strokes)

    # ---- a stroke -----------------------------------------------------------------------------

    @property
    def drawing(self) -> bool:
        """A stroke is under way (begun, not finished or cancelled)."""
        return self._open

    def begin(self) -> None:
        """Start a stroke (one under way is cancelled)."""
        self.cancel()
        self._open = True

    def add(self, x1: float, x2: float, label: int) -> bool:
        """Add a point of class ``label`` (0 or 1) to the stroke; False when the drawing is full (``limit``)."""
        self._check_open()
        if label not in (0, 1):
            raise ValueError(f"label={label!r}: must be 0 or 1")
        if not (math.isfinite(x1) and math.isfinite(x2)):
            raise ValueError(f"point ({x1}, {x2}): must be finite")
        if len(self._X) - self._n_erased + len(self._added) >= self.limit:
            return False
        self._added.append((float(x1), float(x2), float(label)))
        return True

    def erase_nearest(self, x1: float, x2: float, max_distance: float = math.inf) -> int | None:
        """Erase the point nearest to (x1, x2) if it is within ``max_distance``; its index, or None."""
        self._check_open()
        d2 = self._distances(x1, x2)
        if d2 is None:
            return None
        index = int(np.argmin(d2))
        if not d2[index] <= max_distance * max_distance:
            return None
        self._mark(np.array([index]))
        return index

    def erase_within(self, x1: float, x2: float, radius: float) -> int:
        """Erase every point within ``radius`` of (x1, x2); how many were erased."""
        return self.erase_along((x1, x2), (x1, x2), radius)

    def erase_along(self, start, end, radius: float) -> int:
        """Erase every point within ``radius`` of the segment from ``start`` to ``end`` (each (x1, x2)): the
        cursor's path between two mouse events, in one pass over the points; how many were erased."""
        self._check_open()
        (ax, ay), (bx, by) = (float(v) for v in start), (float(v) for v in end)
        X = self._X
        # The points in the segment's box first: four comparisons, then exact distances for those only.
        near = (X[:, 0] >= min(ax, bx) - radius) & (X[:, 0] <= max(ax, bx) + radius)
        near &= (X[:, 1] >= min(ay, by) - radius) & (X[:, 1] <= max(ay, by) + radius)
        if self._erased is not None:
            near &= ~self._erased
        index = np.flatnonzero(near)
        if not len(index):
            return 0
        P = X[index] - (ax, ay)
        step = np.array([bx - ax, by - ay])
        length2 = float(step @ step)
        t = np.clip(P @ step / length2, 0.0, 1.0) if length2 > 0 else np.zeros(len(P))
        off = P - np.outer(t, step)
        index = index[np.einsum("ij,ij->i", off, off) <= radius * radius]
        self._mark(index)
        return len(index)

    @property
    def pending(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What the stroke under way would do: (added X (m, 2), added y (m,), erased indices (k,))."""
        added = np.array(self._added, dtype=np.float64).reshape(-1, 3)
        erased = np.flatnonzero(self._erased) if self._erased is not None else np.empty(0, dtype=np.int64)
        return added[:, :2], added[:, 2], erased

    def finish(self) -> bool:
        """Apply the stroke under way as one edit; False when it changed nothing (then nothing is kept)."""
        if not self._open:
            return False
        added_X, added_y, erased = self.pending
        self.cancel()
        if not len(added_X) and not len(erased):
            return False
        stroke = Stroke(erased, self._X[erased], self._y[erased], added_X, added_y)
        self._apply(stroke)
        self._strokes.append(stroke)
        return True

    def cancel(self) -> None:
        """Drop the stroke under way."""
        self._open = False
        self._added = []
        self._erased = None
        self._n_erased = 0

    # ---- whole edits --------------------------------------------------------------------------

    def clear(self) -> bool:
        """Erase every point, as one stroke (undo brings them back); False when there were none."""
        self.begin()
        if len(self._X):
            self._mark(np.arange(len(self._X)))
        return self.finish()

    def undo(self) -> bool:
        """Take the last finished stroke back: the points are again exactly as before it; False when none."""
        self.cancel()
        if not self._strokes:
            return False
        stroke = self._strokes.pop()
        kept = len(self._X) - len(stroke.added_X)
        n = kept + len(stroke.erased)
        is_kept = np.ones(n, dtype=bool)
        is_kept[stroke.erased] = False
        X, y = np.empty((n, 2)), np.empty(n)
        X[is_kept], y[is_kept] = self._X[:kept], self._y[:kept]
        X[stroke.erased], y[stroke.erased] = stroke.erased_X, stroke.erased_y
        self._X, self._y = X, y
        return True

    # ---- internals ----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("no stroke under way: call begin() first")

    def _distances(self, x1: float, x2: float) -> np.ndarray | None:
        """Squared distances to the points not yet erased by the stroke (inf for the erased); None if none is left."""
        if len(self._X) == self._n_erased:
            return None
        dx = self._X[:, 0] - x1
        d2 = dx * dx
        dx = np.subtract(self._X[:, 1], x2, out=dx)
        d2 += dx * dx
        if self._erased is not None:
            d2[self._erased] = np.inf
        return d2

    def _mark(self, index: np.ndarray) -> None:
        if not len(index):
            return
        if self._erased is None:
            self._erased = np.zeros(len(self._X), dtype=bool)
        self._n_erased += int(np.count_nonzero(~self._erased[index]))
        self._erased[index] = True

    def _apply(self, stroke: Stroke) -> None:
        X, y = self._X, self._y
        if len(stroke.erased):
            keep = np.ones(len(X), dtype=bool)
            keep[stroke.erased] = False
            X, y = X[keep], y[keep]
        self._X = np.concatenate([X, stroke.added_X]) if len(stroke.added_X) else X
        self._y = np.concatenate([y, stroke.added_y]) if len(stroke.added_y) else y


class Brush:
    """Where a drag puts points: one at the press, then one every ``spacing`` of travel along the path
    (in pixels), each of those moved by a uniform jitter of up to ``jitter`` (seeded: the same drag, the same
    points)."""

    def __init__(self, spacing: float = PAINT_SPACING, jitter: float = PAINT_JITTER, seed: int = 0):
        if not spacing > 0:
            raise ValueError(f"spacing={spacing!r}: must be above 0 pixels")
        if not jitter >= 0:
            raise ValueError(f"jitter={jitter!r}: must be 0 or more pixels")
        self.spacing, self.jitter = float(spacing), float(jitter)
        self._rng = np.random.default_rng(seed)
        self._last: np.ndarray | None = None  # the cursor's last position
        self._travelled = 0.0  # travel since the last point

    def press(self, x: float, y: float) -> np.ndarray:
        """The point of a press at (x, y), where it was clicked (no jitter): (1, 2)."""
        self._last = np.array([x, y], dtype=np.float64)
        self._travelled = 0.0
        return self._last[None, :].copy()

    def move(self, x: float, y: float) -> np.ndarray:
        """The points of a move of the cursor to (x, y): (k, 2), k ≥ 0 (none before a press)."""
        if self._last is None:
            return np.empty((0, 2))
        here = np.array([x, y], dtype=np.float64)
        step = here - self._last
        length = float(np.hypot(*step))
        # Distances along this segment at which the travel since the last point reaches the spacing.
        at = np.arange(self.spacing - self._travelled, length + 1e-12, self.spacing)
        self._travelled = (self._travelled + length) % self.spacing if not len(at) else length - at[-1]
        self._last = here
        if not len(at):
            return np.empty((0, 2))
        start = here - step
        return self._jittered(start + np.outer(at / length, step))

    def release(self) -> None:
        self._last = None

    def _jittered(self, points: np.ndarray) -> np.ndarray:
        if self.jitter:
            points = points + self._rng.uniform(-self.jitter, self.jitter, size=points.shape)
        return points
