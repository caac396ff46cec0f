"""The loss landscape shared by a comparison's runs: the training cost over one plane through parameter space.

Every run of a comparison starts from the same weights θ₀, so all their paths can be drawn on one plane
through θ₀. Its directions d₁, d₂ are the first two right-singular vectors of the matrix of every run's
stored snapshots' displacements θ − θ₀ (pooled, not centred: the plane passes through θ₀ itself, and every
path starts at the origin). A point (a, b) of the plane is θ₀ + a·d₁ + b·d₂; a snapshot's coordinates are
its projections on d₁ and d₂. How much of a run's displacement the plane holds is its captured share,
‖projection of θ − θ₀‖ / ‖θ − θ₀‖: where it is low, the path drawn is a shadow of the real one, and the
path's own cost (from its history) differs from the landscape's cost under it.

The cost on the grid is the training cost the curves show: the mean cross-entropy on the training set,
evaluated with the comparison's engine in the same chunks as a Trainer (so the grid's cost at (0, 0) is
the epoch-0 cost to the bit), plus the L2 term (λ/2)·Σw² when λ > 0. The runs may differ in λ while the
plane has one surface: ``compute_landscape`` uses the λ every run shares, 0 when they differ (the picture
is then the data cost alone; a caller may pass the selected run's λ instead).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnviz.core.network import Layout, l2_penalty
from nnviz.core.training import EVAL_WORK, Stopped

DEFAULT_RESOLUTION = 61  # grid points per axis
MIN_RESOLUTION, MAX_RESOLUTION = 5, 401
DEFAULT_MARGIN = 0.15  # of each axis' span, added on both sides of the paths
MIN_ASPECT = 0.25  # an axis spans at least this share of the other's (a path along d₁ alone still shows a band)


def _read_only(values) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane through parameter space: the points θ₀ + a·d₁ + b·d₂ (compared by identity: it holds arrays)."""

    theta0: np.ndarray  # (size,) read-only: the runs' common start, the plane's origin
    d1: np.ndarray  # (size,) read-only unit vector: the first direction (most of the displacements)
    d2: np.ndarray  # (size,) read-only unit vector orthogonal to d1

    def point(self, a: float, b: float) -> np.ndarray:
        """θ₀ + a·d₁ + b·d₂, ndarray of shape (size,)."""
        return self.theta0 + a * self.d1 + b * self.d2


def _unit_fill(directions: list[np.ndarray], size: int) -> np.ndarray:
    """A deterministic unit vector orthogonal to ``directions``: the basis vector least along them, made orthogonal."""
    weight = np.zeros(size)
    for d in directions:
        weight += d * d
    for j in np.argsort(weight, kind="stable"):
        v = np.zeros(size)
        v[j] = 1.0
        for d in directions:
            v -= (v @ d) * d
        norm = np.linalg.norm(v)
        if norm > 0.5:  # the least-aligned basis vector always qualifies when size ≥ 2 (≤ 1 direction given)
            return v / norm
    raise AssertionError("no orthogonal direction found")  # pragma: no cover


def _orient(d: np.ndarray, reference: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """``d`` or ``-d``: the one on which ``reference`` projects ≥ 0 (if it is too small to say: the first row
    that projects clearly, else the first non-zero component of d is made positive)."""
    for v in ([] if reference is None else [reference]) + list(rows):
        p = float(v @ d)
        if abs(p) > 1e-9 * max(float(np.linalg.norm(v)), np.finfo(float).tiny):
            return d if p > 0 else -d
    nonzero = np.flatnonzero(d)
    return -d if len(nonzero) and d[nonzero[0]] < 0 else d


EIGH_LIMIT = 400  # Gram matrices up to this side are decomposed whole; larger ones by subspace iteration


def _top_eigen(gram: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` largest eigenvalues (decreasing) of a symmetric positive semi-definite matrix and their
    eigenvectors (columns). Whole by eigh when small; else by subspace iteration on a block of a few more
    vectors from a fixed seed, with Rayleigh-Ritz, until the wanted pairs' residuals are at rounding level."""
    m = gram.shape[0]
    if m <= EIGH_LIMIT:
        values, vectors = np.linalg.eigh(gram)
        order = np.argsort(values)[::-1][:count]
        return values[order], vectors[:, order]
    block = min(m, count + 6)
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((m, block)))
    scale = float(np.abs(gram).sum(axis=1).max())  # ≥ the largest eigenvalue
    for _ in range(500):
        z = gram @ q
        ritz, small = np.linalg.eigh(q.T @ z)
        order = np.argsort(ritz)[::-1]
        ritz, small = ritz[order], small[:, order]
        vectors, images = q @ small, z @ small
        residual = np.linalg.norm(images[:, :count] - vectors[:, :count] * ritz[:count], axis=0)
        if np.all(residual <= 1e-12 * max(scale, np.finfo(float).tiny)):
            break
        q, _ = np.linalg.qr(images)
    return ritz[:count], vectors[:, :count]


def _top_directions(rows: np.ndarray) -> list[np.ndarray]:
    """Up to two leading right-singular vectors of ``rows`` (k, size), from the Gram matrix of its smaller side
    (multi-threaded LAPACK SVDs of wide matrices took seconds here; this is a matrix product and a small
    eigenproblem). Directions whose singular value is below rounding level of the first are left out."""
    k, size = rows.shape
    wide = k < size
    gram = rows @ rows.T if wide else rows.T @ rows
    values, vectors = _top_eigen(gram, min(2, gram.shape[0]))
    if not len(values) or values[0] <= 0:
        return []
    tolerance = values[0] * max(k, size) * np.finfo(np.float64).eps * 16  # Gram eigenvalues: s² ± eps·s₁²
    directions: list[np.ndarray] = []
    for value, vector in zip(values, vectors.T, strict=True):
        if value <= tolerance:
            break
        d = rows.T @ vector if wide else vector.copy()
        for previous in directions:
            d -= (d @ previous) * previous
        norm = np.linalg.norm(d)
        if norm == 0:
            break
        directions.append(d / norm)
    return directions


def fit_plane(theta0, displacements, reference=None) -> Plane:
    """The plane through ``theta0`` that holds most of ``displacements`` (pooled, not centred).

    Parameters
    ----------
    theta0 : array of shape (size,), size ≥ 2
    displacements : array of shape (k, size), rows θ − θ₀ (k may be 0)
    reference : array of shape (size,), optional
        The displacement whose coordinates are made ≥ 0 (default: the last row); ``plane_of`` passes the
        first run's last snapshot, so that the first path ends with a ≥ 0, b ≥ 0.

    Returns
    -------
    Plane whose d₁, d₂ are the first two right-singular vectors of ``displacements``. Degenerate cases
    still give an orthonormal plane: without any displacement d₁, d₂ are the first two basis vectors;
    with displacements along one line, d₂ is the basis vector least along d₁, made orthogonal to it.
    """
    theta0 = np.asarray(theta0, dtype=np.float64).reshape(-1)
    size = theta0.size
    if size < 2:
        raise ValueError(f"theta0: needs at least 2 parameters for a plane, got {size}")
    rows = np.asarray(displacements, dtype=np.float64).reshape(-1, size)
    if not (np.isfinite(theta0).all() and np.isfinite(rows).all()):
        raise ValueError("theta0, displacements: must be finite")
    directions = _top_directions(rows) if len(rows) else []
    while len(directions) < 2:
        directions.append(_unit_fill(directions, size))
    if reference is None and len(rows):
        reference = rows[-1]
    reference = None if reference is None else np.asarray(reference, dtype=np.float64).reshape(-1)
    d1, d2 = (_orient(d, reference, rows) for d in directions)
    return Plane(_read_only(theta0), _read_only(d1), _read_only(d2))


def project(plane: Plane, params) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (a, b) of parameters on the plane: float64 scalars for (size,), arrays (k,) for (k, size)."""
    delta = np.asarray(params, dtype=np.float64) - plane.theta0
    return delta @ plane.d1, delta @ plane.d2


def captured_share(plane: Plane, params) -> float:
    """‖projection of θ − θ₀ on the plane‖ / ‖θ − θ₀‖ for θ of shape (size,): 1.0 when θ = θ₀."""
    delta = np.asarray(params, dtype=np.float64).reshape(-1) - plane.theta0
    norm = float(np.linalg.norm(delta))
    if norm == 0:
        return 1.0
    a, b = float(delta @ plane.d1), float(delta @ plane.d2)
    return min(1.0, math.hypot(a, b) / norm)


def share_text(share: float) -> str:
    """A captured share as a percentage with one decimal that never rounds to 100 % (or 0 %) unless it is."""
    percent = 100 * share
    if 99.95 <= percent < 100:
        return "> 99.9 %"
    if 0 < percent < 0.05:
        return "< 0.1 %"
    return f"{percent:.1f} %"


# ---- a comparison's runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunView:
    """What the landscape needs of one run, taken under the comparison's lock (the arrays are read-only)."""

    run_id: int
    name: str
    colour: str
    l2: float
    history: object  # the run's History (readable while it grows)
    epochs: np.ndarray  # (k,) snapshot epochs
    params: list  # k read-only parameter vectors, as the SnapshotStore holds them


def _runs_of(comparison) -> tuple[np.ndarray, list[_RunView]]:
    """θ₀ and every run's snapshots, read briefly under the lock (references to read-only arrays, no copies)."""
    with comparison.lock:
        theta0 = comparison.initial_params
        views = []
        for run in comparison.runs.values():
            store = run.snapshots
            epochs = store.epochs
            views.append(_RunView(run.id, run.spec.name, run.spec.colour, run.spec.l2, run.history,
                                  np.array(epochs, dtype=np.int64), [store.nearest(e)[1] for e in epochs]))
    return theta0, views


def _plane_of(theta0: np.ndarray, views: list[_RunView]) -> Plane:
    blocks = [np.asarray(view.params) - theta0 for view in views if view.params]
    rows = np.concatenate(blocks) if blocks else np.empty((0, theta0.size))
    reference = next((np.asarray(v.params[-1]) - theta0 for v in views if v.params and v.epochs[-1] > 0), None)
    return fit_plane(theta0, rows, reference)


def plane_of(comparison) -> Plane:
    """The plane of every run's stored snapshots (pooled) through the comparison's start θ₀ (see ``fit_plane``);
    the first run that has trained ends with a ≥ 0, b ≥ 0."""
    return _plane_of(*_runs_of(comparison))


@dataclass(frozen=True, eq=False)
class Path:
    """One run's path on a plane: its snapshots' coordinates and its own training cost there."""

    name: str
    colour: str  # "#rrggbb"
    epochs: np.ndarray  # (k,) int64, the epochs of the run's stored snapshots, increasing, 0 first
    a: np.ndarray  # (k,) coordinates on d₁
    b: np.ndarray  # (k,) coordinates on d₂
    cost: np.ndarray  # (k,) the run's true training cost at those epochs (its history: the curves' cost)
    share: float  # captured share of its displacement at its last epoch (1.0 while at θ₀)
    run_id: int = -1  # the run's id in its comparison


def _history_costs(history, epochs: np.ndarray) -> np.ndarray:
    """The history's cost at each epoch (NaN where it holds none)."""
    out = np.full(len(epochs), np.nan)
    n = len(history)
    for i, epoch in enumerate(epochs.tolist()):
        row = history.searchsorted("epoch", epoch)
        if row < n and history.value("epoch", row) == epoch:
            out[i] = history.value("cost", row)
    return out


def _projected(view: _RunView, plane: Plane, cache: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of every snapshot of a run; with ``cache``, only snapshots not projected before are (a run's
    cache entry holds for one History and one plane: a restarted run or another plane starts it afresh)."""
    if cache is None:
        return project(plane, np.asarray(view.params, dtype=np.float64).reshape(-1, plane.theta0.size))
    entry = cache.get(view.run_id)
    if entry is None or entry[0] is not view.history or entry[1] is not plane:
        entry = (view.history, plane, {})
    known = entry[2]
    epochs = [int(e) for e in view.epochs]
    new = [i for i, e in enumerate(epochs) if e not in known]
    if new:
        a, b = project(plane, np.stack([np.asarray(view.params[i], dtype=np.float64) for i in new]))
        for i, ai, bi in zip(new, np.ravel(a), np.ravel(b), strict=True):
            known[epochs[i]] = (float(ai), float(bi))
    cache[view.run_id] = (view.history, plane, {e: known[e] for e in epochs})  # epochs thinned away leave it
    points = np.array([known[e] for e in epochs], dtype=np.float64).reshape(-1, 2)
    return points[:, 0], points[:, 1]


def _path(view: _RunView, plane: Plane, cache: dict | None = None) -> Path:
    a, b = _projected(view, plane, cache)
    share = captured_share(plane, view.params[-1]) if len(view.params) else 1.0
    return Path(view.name, view.colour, _read_only_int(view.epochs), _read_only(a), _read_only(b),
                _read_only(_history_costs(view.history, view.epochs)), share, view.run_id)


def _read_only_int(values) -> np.ndarray:
    array = np.array(values, dtype=np.int64)
    array.flags.writeable = False
    return array


def paths_of(comparison, plane: Plane, cache: dict | None = None) -> list[Path]:
    """Every run's path on ``plane``, in run order. ``cache`` (a dict the caller keeps between calls, e.g. every
    frame while the runs train) holds the snapshots' coordinates: only new snapshots are projected."""
    _, views = _runs_of(comparison)
    return [_path(view, plane, cache) for view in views]


# ---- the grid ----------------------------------------------------------------------------------------


def check_resolution(resolution) -> int:
    """``resolution`` as an int, or ValueError naming the allowed range."""
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution={resolution!r}: must be an integer from {MIN_RESOLUTION} to {MAX_RESOLUTION}")
    return int(resolution)


def grid_axes(paths: list[Path], resolution: int = DEFAULT_RESOLUTION,
              margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """The grid's axes a (R,) and b (R,): every path's points and the origin, with ``margin`` of each axis'
    span on both sides, equally spaced, with 0 itself a grid point on both axes (so the grid holds θ₀).

    An axis spans at least MIN_ASPECT of the other's (paths along d₁ alone still show what lies beside them);
    with no displacement at all both span -1..1.
    """
    resolution = check_resolution(resolution)
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin={margin!r}: must be a finite number ≥ 0")
    bounds = []
    for name in ("a", "b"):
        values = np.concatenate([[0.0]] + [np.asarray(getattr(p, name), dtype=np.float64) for p in paths])
        values = values[np.isfinite(values)]
        bounds.append([float(values.min()), float(values.max())])
    spans = [hi - lo for lo, hi in bounds]
    widest = max(spans)
    axes = []
    for (lo, hi), span in zip(bounds, spans, strict=True):
        least = MIN_ASPECT * widest if widest > 0 else 2.0
        if span < least:
            centre = (lo + hi) / 2
            lo, hi, span = centre - least / 2, centre + least / 2, least
        lo, hi = lo - margin * span, hi + margin * span
        # R - 1 steps from a multiple of the step at or below lo: 0 is a grid point and hi is still covered.
        step = (hi - lo) / (resolution - 2)
        first = math.floor(lo / step)
        axes.append(_read_only((np.arange(resolution) + first) * step))
    return axes[0], axes[1]


def _mean_cost(theta, layout: Layout, X, y, activation: str, engine, chunk: int, should_stop) -> float:
    """Mean cross-entropy of ``theta`` on (X, y) in the chunks a Trainer evaluates in (the same sums)."""
    n = len(X)
    if n <= chunk:
        return engine.evaluate(theta, layout, X, y, activation)[0]
    total = 0.0
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        if start and should_stop is not None and should_stop():
            raise Stopped
        total += engine.evaluate(theta, layout, X[start:stop], y[start:stop], activation)[0] * (stop - start)
    return total / n


def grid_cost(plane: Plane, a, b, layout: Layout, activation: str, X, y, engine, l2: float = 0.0,
              should_stop: Callable[[], bool] | None = None,
              progress: Callable[[float], None] | None = None) -> np.ndarray:
    """The training cost at every point of a grid on ``plane``.

    Parameters
    ----------
    plane : Plane; a : (R_a,), b : (R_b,) the axes
    layout, activation : the network; X : (n_samples, 2), y : (n_samples, 1) the training data
    engine : an engine with ``evaluate(theta, layout, X, y, activation) -> (cost, accuracy)`` (the comparison's)
    l2 : λ ≥ 0; the cost is the mean cross-entropy plus (λ/2)·Σw² (network.l2_penalty)
    should_stop : asked before every grid point (and between chunks of a big data set): training.Stopped
    progress : called with the fraction done (0..1] after every row

    Returns
    -------
    cost : ndarray of shape (R_b, R_a); ``cost[i, j]`` is the cost at (a[j], b[i]).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    chunk = max(1, int(EVAL_WORK // max(layout.size, 1)))  # as Trainer._evaluate: the same sums, the same bits
    cost = np.empty((len(b), len(a)))
    with np.errstate(all="ignore"):  # far from the paths a relu network may overflow: the cost says so (inf, nan)
        for i, b_value in enumerate(b.tolist()):
            for j, a_value in enumerate(a.tolist()):
                if should_stop is not None and should_stop():
                    raise Stopped
                theta = plane.point(a_value, b_value)
                cost[i, j] = _mean_cost(theta, layout, X, y, activation, engine, chunk, should_stop) \
                    + l2_penalty(theta, layout, l2)
            if progress is not None:
                progress((i + 1) / len(b))
    return cost


# ---- the whole picture -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Landscape:
    """The cost over a plane with every run's path on it."""

    plane: Plane
    a: np.ndarray  # (R,) read-only axis along d₁
    b: np.ndarray  # (R,) read-only axis along d₂
    cost: np.ndarray  # (R, R) read-only; cost[i, j] at (a[j], b[i])
    paths: list[Path] = field(default_factory=list)  # in run order
    l2: float = 0.0  # λ of the L2 term in ``cost`` (0: the data cost alone)


def compute_landscape(comparison, resolution: int = DEFAULT_RESOLUTION, plane: Plane | None = None,
                      should_stop: Callable[[], bool] | None = None,
                      progress: Callable[[float], None] | None = None, l2: float | None = None) -> Landscape:
    """The landscape of a comparison as it is now; safe while a worker trains it.

    The runs' snapshots are read under ``comparison.lock`` (references, no copies); everything else is
    computed outside it. ``plane``: keep this plane (the picture stays put while the runs train on);
    None: fit one to the current snapshots (``plane_of``). ``l2``: λ of the cost's L2 term; None: the λ
    every run shares, 0 when they differ. ``should_stop`` / ``progress``: as ``grid_cost``.
    """
    resolution = check_resolution(resolution)
    theta0, views = _runs_of(comparison)
    with comparison.lock:
        layout, activation, engine = comparison.layout, comparison.shared.activation, comparison.engine
        data = comparison.data
    if plane is None:
        plane = _plane_of(theta0, views)
    elif plane.theta0.shape != theta0.shape or not np.array_equal(plane.theta0, theta0):
        raise ValueError("plane: made for another start (the shared settings changed); fit a new plane")
    if l2 is None:
        values = {view.l2 for view in views}
        l2 = values.pop() if len(values) == 1 else 0.0
    if not (math.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2={l2!r}: must be a finite number ≥ 0")
    paths = [_path(view, plane) for view in views]
    a, b = grid_axes(paths, resolution)
    cost = grid_cost(plane, a, b, layout, activation, data.inputs, data.y, engine, l2, should_stop, progress)
    cost.flags.writeable = False
    return Landscape(plane, a, b, cost, paths, float(l2))


def cost_levels(cost, bands: int = 16) -> np.ndarray:
    """Edges of ``bands`` filled-contour bands of a cost grid on a log scale: ``bands + 1`` increasing values
    from the least to the greatest finite positive cost, equally spaced in log10 (one band when flat)."""
    values = np.asarray(cost, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return np.array([0.1, 1.0])
    low, high = math.log10(values.min()), math.log10(values.max())
    if high - low < 1e-12:
        low, high = low - 0.05, high + 0.05
    return 10.0 ** np.linspace(low, high, max(1, int(bands)) + 1)


def _finite_or_none(values) -> list:
    """Numbers as a nested list with non-finite values as None (JSON has no NaN or Infinity)."""
    array = np.asarray(values, dtype=np.float64)
    if np.isfinite(array).all():
        return array.tolist()
    return np.where(np.isfinite(array), array, None).tolist()


def landscape_json(landscape: Landscape) -> dict:
    """The landscape as a JSON-ready dict (non-finite numbers become null).

    Keys
    ----
    theta0, d1, d2 : lists of size numbers, the flat parameter vectors: layer by layer W₁ (n_in × n_out,
        row-major), b₁, W₂, b₂, ... (network.Layout). The plane's points are θ₀ + a·d₁ + b·d₂; d₁, d₂ are
        orthonormal.
    a, b : lists of R numbers, the grid's axes (0 is on both).
    cost : R lists (rows over b) of R numbers (columns over a): ``cost[i][j]`` is the training cost at
        (a[j], b[i]): mean cross-entropy on the training set, plus (l2/2)·Σw² when l2 > 0.
    l2 : the λ of that L2 term (0 when the runs differ in λ).
    paths : run name -> list of [epoch, a, b, cost], one per stored snapshot (epoch 0 first, at (0, 0));
        cost is the run's own training cost at that epoch (its history, the curves' cost: with its own λ).
    shares : run name -> the share of its displacement θ − θ₀ at its last epoch that the plane captures,
        ‖projection‖ / ‖θ − θ₀‖ (1: the path is drawn exactly; lower: it is a shadow of the true path).
    colours : run name -> "#rrggbb", the run's colour.
    """
    plane = landscape.plane
    paths = {}
    for path in landscape.paths:
        rows = zip(path.epochs.tolist(), *(_finite_or_none(v) for v in (path.a, path.b, path.cost)), strict=True)
        paths[path.name] = [list(row) for row in rows]
    return {
        "theta0": _finite_or_none(plane.theta0),
        "d1": _finite_or_none(plane.d1),
        "d2": _finite_or_none(plane.d2),
        "a": _finite_or_none(landscape.a),
        "b": _finite_or_none(landscape.b),
        "cost": _finite_or_none(landscape.cost),
        "l2": landscape.l2,
        "paths": paths,
        "shares": {path.name: path.share for path in landscape.paths},
        "colours": {path.name: path.colour for path in landscape.paths},
    }
