"""The learning-rate finder: one pass of steps with α rising exponentially, the cost after each step.

From the shared start (a copy of the initial weights: no run's weights change), step i trains one
mini-batch with α_i = low·(high/low)^(i/(k−1)), the run's batch size, optimiser (its update rule) and L2,
taking the batches in the order an epoch takes them (cycling over the data when one epoch has fewer than
k batches). After each step the cost is measured on a fixed evaluation set: the whole training set when
one evaluation costs at most EVAL_WORK parameter × sample products (the notebook's 1,000 points on a
2-3-4-1 network: all of them), else EVAL_WORK / parameters points spread evenly over the training set
(at least MIN_EVAL_POINTS). It is the same cost the curves show (mean cross-entropy plus the L2 term),
never the noisy cost of one batch of 1. The costs are smoothed by an exponential moving average with bias
correction; the pass stops once the smoothed cost is no longer finite or above EDGE_FACTOR × its minimum
so far: the α of that step is the edge of divergence.

The suggestion is the α where the smoothed cost falls fastest per decade of α (min of d smoothed / d log α)
before its minimum; when that is not well-defined (the cost hardly falls, or falls fastest at the very
first α, or just before the minimum, where the steps begin to break the network) it is a tenth of the α of
the lowest smoothed cost, which is below the edge / 10. ``LrFind.rule`` says which, in one line.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnviz.core.history import read_only
from nnviz.core.network import Layout, l2_penalty
from nnviz.core.training import Stopped, TrainConfig, get_engine

LOW, HIGH = 1e-5, 10.0  # default range of α
MIN_STEPS, MAX_STEPS = 100, 1000  # steps of one pass: one epoch's batches, clamped to this range
SMOOTHING = 0.98  # weight of the past in the moving average of the cost, for a pass of 250 steps or more ...
SMOOTHING_SPAN = 5  # ... and 1 − this / steps for shorter ones (100 steps: 0.95), so the average keeps up
EDGE_FACTOR = 4.0  # the smoothed cost above 4 × its minimum so far: diverged
EVAL_WORK = 6_000_000  # parameter × sample products of one evaluation of the cost (a few ms at most)
MIN_EVAL_POINTS = 200  # evaluation points of a large network, however slow
MIN_FALL = 0.02  # the smoothed cost must fall by 2 % of its start before the minimum for a steepest descent
MIN_DECADES = 0.5  # ... and fall fastest at least half a decade of α below its minimum


@dataclass(frozen=True)
class LrFind:
    """What one pass of the finder measured (arrays are read-only; k ≤ steps: the pass stops at the edge)."""

    rates: np.ndarray  # (k,) α of each step, rising exponentially from low
    costs: np.ndarray  # (k,) cost after each step (raw; may end in inf or nan)
    smoothed: np.ndarray  # (k,) exponential moving average of costs, bias-corrected
    edge: float | None  # α where it diverged (smoothed > 4 × its minimum or not finite); None if it never did
    suggestion: float  # the suggested α
    rule: str  # which rule gave the suggestion and why, one line
    steps: int  # steps of the whole pass from low to high (k when it never diverged)
    low: float = LOW  # the range of α asked for
    high: float = HIGH


def step_count(config: TrainConfig, n_train: int) -> int:
    """Steps of one pass: one epoch's batches at the run's batch size, at least 100 and at most 1000."""
    batches = -(-n_train // min(config.batch_size, n_train))
    return int(min(max(batches, MIN_STEPS), MAX_STEPS))


def rates_between(low: float, high: float, steps: int) -> np.ndarray:
    """(steps,) α rising exponentially: low·(high/low)^(i/(steps−1)), from low to high exactly."""
    if steps == 1:
        return np.array([low])
    rates = np.exp(np.linspace(math.log(low), math.log(high), steps))
    rates[0], rates[-1] = low, high
    return rates


def _train_step(engine, theta, state, layout, X, y, learning_rate: float, config: TrainConfig) -> None:
    """One mini-batch step on (X, y) (one batch) with the run's optimiser and L2, in place on theta and state."""
    engine.train_epoch(theta, state, layout, X, y, config.batch_size, learning_rate, config.update_rule(),
                       config.l2, config.activation)


def _evaluation_points(n: int, size: int) -> np.ndarray:
    """Indices of the fixed evaluation set: all points, or an even spread when all would cost too much."""
    count = max(MIN_EVAL_POINTS, EVAL_WORK // max(size, 1))
    if count >= n:
        return np.arange(n)
    return np.linspace(0, n - 1, count).round().astype(np.int64)


def _unpack(start):
    """(X, y, initial_params) of a comparison.Start or of a tuple."""
    if hasattr(start, "data") and hasattr(start, "initial_params"):
        return start.data.inputs, start.data.y, start.initial_params
    X, y, params = start
    return X, y, params


def _check(config: TrainConfig, X, y, params, low: float, high: float, steps, smoothing: float) -> None:
    layout = Layout(config.shape)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
                or not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r}: must be a finite number > 0")
    if not low < high:
        raise ValueError(f"low={low:g}, high={high:g}: low must be below high")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer))
                              or not 2 <= steps <= 1_000_000):
        raise ValueError(f"steps={steps!r}: must be an integer from 2 to 1,000,000")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing={smoothing!r}: must be from 0 to below 1")
    if np.shape(params) != (layout.size,):
        raise ValueError(f"initial_params: {np.shape(params)} values, the shape {config.shape} needs {layout.size}")
    if len(X) < 1 or np.shape(X) != (len(X), 2) or np.shape(y) != (len(X), 1):
        raise ValueError("X, y: must be (n, 2) and (n, 1) with n ≥ 1")


def find_learning_rate(config: TrainConfig, start, engine=None, low: float = LOW, high: float = HIGH,
                       steps: int | None = None, smoothing: float | None = None,
                       should_stop: Callable[[], bool] | None = None,
                       progress: Callable[[int, int], None] | None = None) -> LrFind:
    """One pass of steps with α rising exponentially from ``low`` to ``high``, from the start's weights.

    Parameters
    ----------
    config : TrainConfig
        The run: its batch size, optimiser, L2 and activation are used (its α and schedule are not).
    start : comparison.Start or tuple (X, y, initial_params)
        X of shape (n, 2), y of shape (n, 1), initial_params of shape (layout.size,); none is changed.
    engine : optional
        The training engine (default: the config's).
    low, high : float
        The range of α, 0 < low < high.
    steps : int, optional
        Steps of the pass (default ``step_count``: one epoch's batches, from 100 to 1000).
    smoothing : float, optional
        Weight of the past in the moving average of the cost, 0 ≤ s < 1 (default: SMOOTHING, or
        1 − SMOOTHING_SPAN / steps when that is lower: a short pass's average would lag far behind its cost).
    should_stop : callable, optional
        Asked after every step: ``Stopped`` (training.Stopped) is raised when it says so.
    progress : callable, optional
        ``progress(done, steps)`` after every step.

    Returns
    -------
    LrFind
    """
    X, y, initial = _unpack(start)
    _check(config, X, y, initial, low, high, steps, 0.0 if smoothing is None else smoothing)
    engine = engine or get_engine(config.engine)
    layout = Layout(config.shape)
    n = len(X)
    steps = int(steps or step_count(config, n))
    if smoothing is None:
        smoothing = min(SMOOTHING, 1.0 - SMOOTHING_SPAN / steps)
    rates = rates_between(float(low), float(high), steps)
    batch = min(config.batch_size, n)
    starts = np.arange(0, n, batch)  # the first sample of each batch of an epoch
    chosen = _evaluation_points(n, layout.size)
    X_eval, y_eval = (X, y) if len(chosen) == n else (X[chosen], y[chosen])

    theta = np.array(initial, dtype=np.float64)  # a copy: the start's weights never change
    state = engine.new_state(layout.size)
    costs, smoothed = np.empty(steps), np.empty(steps)
    average, lowest, edge, done = 0.0, math.inf, None, 0
    with np.errstate(all="ignore"):
        for i in range(steps):
            a = starts[i % len(starts)]
            _train_step(engine, theta, state, layout, X[a:a + batch], y[a:a + batch], rates[i], config)
            costs[i] = _cost(engine, theta, layout, X_eval, y_eval, config)
            average = smoothing * average + (1.0 - smoothing) * costs[i]
            smoothed[i] = average / (1.0 - smoothing ** (i + 1))
            done = i + 1
            if progress is not None:
                progress(done, steps)
            if not math.isfinite(smoothed[i]) or smoothed[i] > EDGE_FACTOR * lowest:
                edge = float(rates[i])
                break
            lowest = min(lowest, smoothed[i])
            if should_stop is not None and should_stop():
                raise Stopped
    rates, costs, smoothed = (read_only(a[:done]) for a in (rates, costs, smoothed))
    suggestion, rule = suggest(rates, smoothed, edge)
    return LrFind(rates, costs, smoothed, edge, suggestion, rule, steps, float(low), float(high))


def _cost(engine, theta, layout, X, y, config: TrainConfig) -> float:
    """Mean cross-entropy plus the L2 term: the cost the curves show (inf once a weight is not finite)."""
    if not np.all(np.isfinite(theta)):
        return math.inf
    mean_cost, _ = engine.evaluate(theta, layout, X, y, config.activation)
    return float(mean_cost) + l2_penalty(theta, layout, config.l2)


def suggest(rates: np.ndarray, smoothed: np.ndarray, edge: float | None) -> tuple[float, str]:
    """(suggested α, the rule that gave it) from a pass's rates, smoothed costs and edge.

    The α of steepest descent of the smoothed cost per decade of α before its minimum, when it is
    well-defined: the cost falls there by at least MIN_FALL of its start, not fastest at the first α, and
    the steepest point lies at least MIN_DECADES of α below the minimum. Closer, it is where the steps
    begin to break the network (one pass's cost falls fastest just before it stops falling: the notebook's
    2-3-4-1 ReLU network at α ≈ 0.6 per sample, which ends dead after 150 epochs), not a steady descent.
    Otherwise a tenth of the α of the lowest smoothed cost (never above the edge / 10: the minimum comes first).
    """
    finite = np.isfinite(smoothed)
    count = int(np.argmin(finite)) if not finite.all() else len(smoothed)  # the finite beginning
    lowest = int(np.argmin(smoothed[:count])) if count else 0
    if count < 3:
        why = "too few steps before it diverged"
    else:
        fall = (smoothed[0] - smoothed[lowest]) / abs(smoothed[0]) if smoothed[0] else 0.0
        if lowest < 2 or fall < MIN_FALL:
            why = f"the smoothed cost falls by only {max(fall, 0.0):.1%} before its minimum"
        else:
            slope = np.gradient(smoothed[:lowest + 1], np.log10(rates[:lowest + 1]))
            steepest = int(np.argmin(slope))
            if steepest == 0 or slope[steepest] >= 0:
                why = "it falls fastest at the first α tried"
            elif math.log10(rates[lowest] / rates[steepest]) < MIN_DECADES:
                why = (f"its fastest fall, at α = {rates[steepest]:.3g}, is within {MIN_DECADES:g} decade of its "
                       f"minimum at α = {rates[lowest]:.3g}, where the fall ends")
            else:
                return float(rates[steepest]), (
                    f"steepest descent: the smoothed cost falls fastest ({slope[steepest]:.3g} per decade) "
                    f"at α = {rates[steepest]:.3g}, before its minimum at α = {rates[lowest]:.3g}")
    # The minimum comes before the edge (the edge is measured against it), so a tenth of it is the lower, safer
    # of the two: on the notebook's data with nesterov, edge / 10 (0.47) leaves a dead ReLU network after 150
    # epochs (accuracy 0.5), minimum / 10 (0.013) trains.
    best = float(rates[lowest])
    if edge is not None:
        return best / 10, (f"minimum / 10: no clear steepest descent ({why}); a tenth of the α of the lowest cost, "
                           f"below the edge / 10 = {edge / 10:.3g}")
    return best / 10, (f"minimum / 10: no clear steepest descent ({why}) and no edge up to α = {rates[-1]:.3g}; "
                       f"a tenth of the α of the lowest cost")
