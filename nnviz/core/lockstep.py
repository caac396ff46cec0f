"""The sweep engine's kernels: a block of configurations of one network trained in lockstep.

A sweep's cells share the network's shape, the data and the batch size; they differ in their numbers (α, β, ρ, ε,
β₁, β₂, λ, their initial weights). A block keeps every cell's parameters side by side, ``theta[p, c]`` for
parameter ``p`` of cell ``c``, and every loop of kernels.py gains an innermost loop over the cells: contiguous,
free of branches, so it vectorises (8 cells in one AVX-512 instruction), and the loop overhead and the reads of the
sample are paid once for the block instead of once per cell. Each cell's arithmetic is kernels.py's, operation for
operation and in the same order: a cell's numbers are the ones a single run of it computes (the tests check to
1e-9; the training and the costs come out equal bit for bit: both use vecmath's exp, tanh and log, in the same
order).

``train_block`` drives the kernels epoch by epoch as training.Trainer drives a run: the schedule's α per epoch
and cell, evaluation after each epoch, the same divergence rule, and the same chunks of an epoch (so it can be
stopped within ~100 ms).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from nnviz.core.datasets import Dataset
from nnviz.core.kernels import (
    ACTIVATION_CODES,
    ADAM,
    HEAVY_BALL,
    NESTEROV,
    OPTIMIZER_CODES,
    RELU,
    RMSPROP,
    SGD,
    _notebook_output_delta,
    _notebook_sigmoid,
    _output_delta,
    _sigmoid,
    _tanh,
    _unit_offsets,
)
from nnviz.core.network import EPS, Layout
from nnviz.core.optimizers import scheduled_learning_rate
from nnviz.core.training import CHUNK_WORK, DIVERGENCE_FACTOR, EVAL_WORK, Stopped, TrainConfig
from nnviz.core.vecmath import log_positive

# Fields every cell of a block shares (the rest may differ from cell to cell).
BLOCK_FIELDS = ("dataset", "n_samples", "noise", "test_fraction", "data_seed", "points", "keep_order", "features",
                "shape", "activation", "optimizer", "update_order", "batch_size", "engine")


# Rows of the per-cell constants array ``k`` the kernels take: (K_ROWS, cells).
LR, MOMENTUM, RHO, EPSILON, BETA1, BETA2, L2, DAMPING = range(8)  # DAMPING: sgd's 1 − β, made once per block
K_ROWS = 8


@njit(cache=True, nogil=True, error_model="numpy")
def _update(theta, first, second, grad, base, lo, hi, k, corr, optimizer):
    # kernels._step for parameters lo..hi − 1 of every cell, each with its gradient grad[p − base, c] (made before
    # any of them changed, as kernels.py makes each). The rule is chosen outside the loops over the cells.
    cells = theta.shape[1]
    if optimizer == SGD:
        for p in range(lo, hi):
            for c in range(cells):
                v = k[MOMENTUM, c] * first[p, c] + k[DAMPING, c] * grad[p - base, c]
                first[p, c] = v
                theta[p, c] -= k[LR, c] * v
    elif optimizer == HEAVY_BALL:
        for p in range(lo, hi):
            for c in range(cells):
                v = k[MOMENTUM, c] * first[p, c] + grad[p - base, c]
                first[p, c] = v
                theta[p, c] -= k[LR, c] * v
    elif optimizer == NESTEROV:
        for p in range(lo, hi):
            for c in range(cells):
                g = grad[p - base, c]
                v = k[MOMENTUM, c] * first[p, c] + g
                first[p, c] = v
                theta[p, c] -= k[LR, c] * (g + k[MOMENTUM, c] * v)
    elif optimizer == RMSPROP:
        for p in range(lo, hi):
            for c in range(cells):
                g = grad[p - base, c]
                s = k[RHO, c] * second[p, c] + (1.0 - k[RHO, c]) * (g * g)
                second[p, c] = s
                theta[p, c] -= k[LR, c] * g / (math.sqrt(s) + k[EPSILON, c])
    else:
        for p in range(lo, hi):
            for c in range(cells):
                g = grad[p - base, c]
                m = k[BETA1, c] * first[p, c] + (1.0 - k[BETA1, c]) * g
                s = k[BETA2, c] * second[p, c] + (1.0 - k[BETA2, c]) * (g * g)
                first[p, c] = m
                second[p, c] = s
                theta[p, c] -= k[LR, c] * (m / corr[0, c]) / (math.sqrt(s / corr[1, c]) + k[EPSILON, c])


@njit(cache=True, nogil=True, error_model="numpy")
def _update_sample(theta, first, second, w0, n_in, n_out, acts, a_in, delta, grad, k, corr, has_l2, optimizer):
    # One sample's step of a layer (weights, then biases) for every cell, from the gradient acts[a_in + j]·delta[q]
    # (+ λw when λ > 0) of W[j, q] and delta[q] of b[q]. sgd without L2 (the notebook's runs) makes each gradient
    # in the loop that uses it: it reads no weight but the one it updates, so this equals making them all first;
    # the other cases make the layer's gradient in ``grad`` (rows from w0), then step.
    cells = theta.shape[1]
    b0 = w0 + n_in * n_out
    if optimizer == SGD and not has_l2:
        for j in range(n_in):
            a = a_in + j
            for q in range(n_out):
                p = w0 + j * n_out + q
                for c in range(cells):
                    v = k[MOMENTUM, c] * first[p, c] + k[DAMPING, c] * (acts[a, c] * delta[q, c])
                    first[p, c] = v
                    theta[p, c] -= k[LR, c] * v
        for q in range(n_out):
            p = b0 + q
            for c in range(cells):
                v = k[MOMENTUM, c] * first[p, c] + k[DAMPING, c] * delta[q, c]
                first[p, c] = v
                theta[p, c] -= k[LR, c] * v
        return
    for j in range(n_in):
        a = a_in + j
        for q in range(n_out):
            row = j * n_out + q
            for c in range(cells):
                grad[row, c] = acts[a, c] * delta[q, c]
            if has_l2:
                for c in range(cells):
                    if k[L2, c] > 0.0:
                        grad[row, c] += k[L2, c] * theta[w0 + row, c]
    for q in range(n_out):
        for c in range(cells):
            grad[b0 - w0 + q, c] = delta[q, c]
    _update(theta, first, second, grad, w0, w0, b0 + n_out, k, corr, optimizer)


@njit(cache=True, nogil=True, error_model="numpy")
def _corrections(optimizer, k, t, corr):
    # kernels._bias_corrections for every cell (adam only; the other rules never read corr).
    if optimizer == ADAM:
        for c in range(corr.shape[1]):
            corr[0, c] = 1.0 - math.pow(k[BETA1, c], t)
            corr[1, c] = 1.0 - math.pow(k[BETA2, c], t)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _term(total, a, w, add):
    # total + a·w when ``add`` (the layer has a last input left to add), else total as it is.
    return total + a * w if add else total


@njit(cache=True, nogil=True, error_model="numpy")
def _forward(theta, offsets, shape, X, i, acts, unit_offsets, activation, notebook):
    # Sample X[i] through every cell's network: acts[unit, cell]. Each cell's sums run over j in order, as in
    # kernels._train_per_sample and kernels._forward_block.
    n_layers = shape.shape[0] - 1
    cells = theta.shape[1]
    for j in range(shape[0]):  # the inputs: x1, x2 or the features
        x = X[i, j]
        for c in range(cells):
            acts[j, c] = x
    for layer in range(n_layers):
        n_in = shape[layer]
        n_out = shape[layer + 1]
        w0 = offsets[layer]
        b0 = w0 + n_in * n_out
        a_in = unit_offsets[layer]
        a_out = unit_offsets[layer + 1]
        last = layer == n_layers - 1
        for q in range(n_out):
            o = a_out + q
            for c in range(cells):
                acts[o, c] = acts[a_in, c] * theta[w0 + q, c]
            for j in range(1, n_in - 1):
                w = w0 + j * n_out + q
                for c in range(cells):
                    acts[o, c] += acts[a_in + j, c] * theta[w, c]
            # The last input's term, the bias and the activation in one pass over the cells (the same sums in
            # the same order: ((Σ + a·w) + b)); with one input there is no last term to add.
            b = b0 + q
            j = n_in - 1
            w = w0 + j * n_out + q
            add = n_in > 1
            if last and notebook:
                for c in range(cells):
                    acts[o, c] = _notebook_sigmoid(_term(acts[o, c], acts[a_in + j, c], theta[w, c], add)
                                                   + theta[b, c])
            elif last:
                for c in range(cells):
                    acts[o, c] = _sigmoid(_term(acts[o, c], acts[a_in + j, c], theta[w, c], add) + theta[b, c])
            elif activation == RELU:
                for c in range(cells):
                    acts[o, c] = max(_term(acts[o, c], acts[a_in + j, c], theta[w, c], add) + theta[b, c], 0.0)
            else:
                for c in range(cells):
                    acts[o, c] = _tanh(_term(acts[o, c], acts[a_in + j, c], theta[w, c], add) + theta[b, c])


@njit(cache=True, nogil=True, error_model="numpy")
def _propagate(theta, w0, n_in, n_out, delta, below, acts, a_in, activation):
    # below[j, c] = Σ_q W[j, q]·delta[q, c] · f'(acts[a_in + j, c]), q in order (kernels._propagate).
    cells = theta.shape[1]
    for j in range(n_in):
        row = w0 + j * n_out
        for c in range(cells):
            below[j, c] = delta[0, c] * theta[row, c]
        for q in range(1, n_out):
            for c in range(cells):
                below[j, c] += delta[q, c] * theta[row + q, c]
        a = a_in + j
        if activation == RELU:
            for c in range(cells):
                below[j, c] *= 1.0 if acts[a, c] > 0.0 else 0.0
        else:
            for c in range(cells):
                below[j, c] *= 1.0 - acts[a, c] * acts[a, c]


@njit(cache=True, nogil=True, error_model="numpy")
def _add_l2(theta, grad, w0, b0, k):
    # g += λw on the layer's weights of the cells with λ > 0 (kernels.py's order: after the data's gradient).
    for p in range(w0, b0):
        for c in range(theta.shape[1]):
            if k[L2, c] > 0.0:
                grad[p, c] += k[L2, c] * theta[p, c]


@njit(cache=True, nogil=True, error_model="numpy")
def _train_per_sample(theta, first, second, offsets, shape, X, y, k, t0, has_l2, activation, optimizer, notebook):
    # kernels._train_per_sample, every cell at once. Per layer: the gradient of all its parameters, then their
    # step. True order: delta goes down through the weights before the step (the step never changed what the
    # gradient read); the notebook's: through the weights as just updated.
    n_layers = shape.shape[0] - 1
    cells = theta.shape[1]
    unit_offsets, widest = _unit_offsets(shape)
    acts = np.empty((unit_offsets[n_layers + 1], cells))
    delta = np.empty((widest, cells))
    below = np.empty((widest, cells))
    grad = np.empty(theta.shape)
    corr = np.ones((2, cells))
    out = unit_offsets[n_layers]
    for i in range(X.shape[0]):
        _corrections(optimizer, k, t0 + i + 1, corr)
        _forward(theta, offsets, shape, X, i, acts, unit_offsets, activation, notebook)
        t = y[i]
        if notebook:
            for c in range(cells):
                delta[0, c] = _notebook_output_delta(acts[out, c], t)
        else:
            for c in range(cells):
                delta[0, c] = _output_delta(acts[out, c], t)
        for layer in range(n_layers - 1, -1, -1):
            n_in = shape[layer]
            n_out = shape[layer + 1]
            w0 = offsets[layer]
            a_in = unit_offsets[layer]
            if layer > 0 and not notebook:
                _propagate(theta, w0, n_in, n_out, delta, below, acts, a_in, activation)
            _update_sample(theta, first, second, w0, n_in, n_out, acts, a_in, delta, grad, k, corr, has_l2, optimizer)
            if layer > 0 and notebook:
                _propagate(theta, w0, n_in, n_out, delta, below, acts, a_in, activation)
            delta, below = below, delta


@njit(cache=True, nogil=True, error_model="numpy")
def _train_batches(theta, first, second, offsets, shape, X, y, batch_size, k, t0, has_l2, activation, optimizer,
                   notebook):
    # kernels._train_batches, every cell at once: acts[sample of the batch, unit, cell], delta[sample, unit, cell].
    n = X.shape[0]
    n_layers = shape.shape[0] - 1
    cells = theta.shape[1]
    batch = min(batch_size, n)
    unit_offsets, widest = _unit_offsets(shape)
    acts = np.empty((batch, unit_offsets[n_layers + 1], cells))
    delta = np.empty((batch, widest, cells))
    below = np.empty((batch, widest, cells))
    grad = np.empty(theta.shape)
    corr = np.ones((2, cells))
    out = unit_offsets[n_layers]
    t = t0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        t += 1
        _corrections(optimizer, k, t, corr)
        for r in range(m):
            _forward(theta, offsets, shape, X, start + r, acts[r], unit_offsets, activation,
                     notebook)
        # As kernels._train_batches: the true order puts the mean's 1/m in the output delta, the notebook's
        # divides each layer's sums by m.
        if notebook:
            divisor = float(m)
            for r in range(m):
                for c in range(cells):
                    delta[r, 0, c] = _notebook_output_delta(acts[r, out, c], y[start + r])
        else:
            divisor = 1.0
            for r in range(m):
                for c in range(cells):
                    delta[r, 0, c] = _output_delta(acts[r, out, c], y[start + r]) / m
        for layer in range(n_layers - 1, -1, -1):
            n_in = shape[layer]
            n_out = shape[layer + 1]
            w0 = offsets[layer]
            b0 = w0 + n_in * n_out
            a_in = unit_offsets[layer]
            if layer > 0 and not notebook:
                for r in range(m):
                    _propagate(theta, w0, n_in, n_out, delta[r], below[r], acts[r], a_in, activation)
            for j in range(n_in):
                row = w0 + j * n_out
                a = a_in + j
                for q in range(n_out):
                    p = row + q
                    for c in range(cells):
                        grad[p, c] = 0.0
                    for r in range(m):
                        for c in range(cells):
                            grad[p, c] += acts[r, a, c] * delta[r, q, c]
                    for c in range(cells):
                        grad[p, c] /= divisor
            if has_l2:
                _add_l2(theta, grad, w0, b0, k)
            for q in range(n_out):
                p = b0 + q
                for c in range(cells):
                    grad[p, c] = 0.0
                for r in range(m):
                    for c in range(cells):
                        grad[p, c] += delta[r, q, c]
                for c in range(cells):
                    grad[p, c] /= divisor
            _update(theta, first, second, grad, 0, w0, b0 + n_out, k, corr, optimizer)
            if layer > 0 and notebook:
                for r in range(m):
                    _propagate(theta, w0, n_in, n_out, delta[r], below[r], acts[r], a_in, activation)
            delta, below = below, delta


@njit(cache=True, nogil=True, error_model="numpy")
def train_cells_kernel(theta, first, second, offsets, shape, X, y, batch_size, k, t0, activation, optimizer,
                       notebook):
    """All mini-batch steps over (X, y) for every cell, in place: kernels.train_epoch_kernel with each number a
    cell's own. theta, first, second: (parameters, cells) C-contiguous; k: (K_ROWS, cells) the cells' α, β, ρ,
    ε, β₁, β₂, λ and 1 − β (rows LR ... DAMPING); activation and optimizer: codes the block shares; t0: updates
    before this call."""
    if X.shape[0] == 0:
        return
    has_l2 = False
    for c in range(k.shape[1]):
        has_l2 = has_l2 or k[L2, c] > 0.0
    if batch_size == 1:
        _train_per_sample(theta, first, second, offsets, shape, X, y, k, t0, has_l2, activation, optimizer, notebook)
    else:
        _train_batches(theta, first, second, offsets, shape, X, y, batch_size, k, t0, has_l2, activation, optimizer,
                       notebook)


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_cells_kernel(theta, offsets, shape, X, y, activation, total, correct):
    """Adds each cell's Σ log-likelihood terms (kernels.evaluate_kernel's, in its order) and its count of right
    answers over (X, y) to total[c] and correct[c]."""
    n_layers = shape.shape[0] - 1
    cells = theta.shape[1]
    unit_offsets, _ = _unit_offsets(shape)
    acts = np.empty((unit_offsets[n_layers + 1], cells))
    out = unit_offsets[n_layers]
    for i in range(X.shape[0]):
        _forward(theta, offsets, shape, X, i, acts, unit_offsets, activation, False)
        t = y[i]
        if t == 1.0:
            for c in range(cells):
                total[c] += log_positive(acts[out, c] + EPS)
        elif t == 0.0:
            for c in range(cells):
                total[c] += log_positive(1.0 - acts[out, c] + EPS)
        else:
            for c in range(cells):
                total[c] += t * log_positive(acts[out, c] + EPS) + (1.0 - t) * log_positive(1.0 - acts[out, c] + EPS)
        for c in range(cells):
            correct[c] += (acts[out, c] > 0.5) == (t > 0.5)


def block_key(config: TrainConfig) -> tuple:
    """Configs with the same key can share a block."""
    return tuple(getattr(config, name) for name in BLOCK_FIELDS)


@dataclass
class BlockResult:
    """What train_block found for each cell (arrays over the block's cells, in its order)."""

    final_cost: np.ndarray
    best_cost: np.ndarray
    final_accuracy: np.ndarray
    epochs: np.ndarray  # epochs trained (the last finite epoch when diverged)
    diverged: np.ndarray  # bool
    epochs_to_target: np.ndarray  # -1: never
    updates_to_target: np.ndarray  # -1: never
    curves: list | None  # per cell: {"costs": [...], "accuracies": [...], ...} when asked for


class _Cells:
    """The live cells of a block: their parameters, moments and per-cell constants, narrowed as cells finish."""

    def __init__(self, configs: Sequence[TrainConfig], initial: Sequence[np.ndarray]):
        self.ids = np.arange(len(configs))
        self.configs = list(configs)
        self.theta = np.ascontiguousarray(np.stack(initial, axis=1), dtype=np.float64)
        self.first = np.zeros_like(self.theta)
        self.second = np.zeros_like(self.theta)
        self.k = np.zeros((K_ROWS, len(configs)))
        for row, name in ((MOMENTUM, "momentum"), (RHO, "rho"), (EPSILON, "epsilon"), (BETA1, "beta1"),
                          (BETA2, "beta2"), (L2, "l2")):
            self.k[row] = [getattr(c, name) for c in configs]
        self.k[DAMPING] = 1.0 - self.k[MOMENTUM]  # the same subtraction kernels._step makes at every step

    def keep(self, live: np.ndarray) -> None:
        """Only the cells at positions ``live`` go on (the arrays shrink, so finished cells cost nothing)."""
        self.ids = self.ids[live]
        self.configs = [self.configs[i] for i in live]
        self.theta = np.ascontiguousarray(self.theta[:, live])
        self.first = np.ascontiguousarray(self.first[:, live])
        self.second = np.ascontiguousarray(self.second[:, live])
        self.k = np.ascontiguousarray(self.k[:, live])

    def set_learning_rates(self, epoch: int) -> None:
        """Each cell's α for ``epoch`` (its schedule's) into k[LR]."""
        self.k[LR] = ([scheduled_learning_rate(c.schedule, c.learning_rate, max(epoch, 1), c.gamma, c.step_every,
                                                 c.step_factor) for c in self.configs])


class _Block:
    """train_block's state: the shared arrays and the evaluation of every live cell."""

    def __init__(self, configs, data: Dataset, should_stop):
        first = configs[0]
        self.layout = Layout(first.shape)
        self.offsets = np.array(self.layout.offsets, dtype=np.int64)
        self.shape = np.array(first.shape, dtype=np.int64)
        self.activation = ACTIVATION_CODES[first.activation]
        self.optimizer = OPTIMIZER_CODES[first.optimizer]
        self.notebook = first.update_order == "notebook"
        self.batch_size = first.batch_size
        self.X = np.ascontiguousarray(data.inputs, dtype=np.float64)  # the network's inputs (the features)
        self.y = np.ascontiguousarray(data.y, dtype=np.float64).reshape(-1)
        self.X_test = np.ascontiguousarray(data.inputs_test, dtype=np.float64)
        self.y_test = np.ascontiguousarray(data.y_test, dtype=np.float64).reshape(-1)
        self.weight_rows = np.flatnonzero(self.layout.weight_mask())
        self.should_stop = should_stop

    def _stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise Stopped

    def evaluate(self, cells: _Cells, X, y) -> tuple[np.ndarray, np.ndarray]:
        """(mean cost without L2, accuracy) of every live cell on (X, y), in chunks that can be stopped between."""
        n = len(X)
        total = np.zeros(len(cells.ids))
        correct = np.zeros(len(cells.ids))
        chunk = max(1, int(EVAL_WORK // max(self.layout.size * len(cells.ids), 1)))
        for a in range(0, n, chunk):
            if a:
                self._stop()
            evaluate_cells_kernel(cells.theta, self.offsets, self.shape, X[a:a + chunk], y[a:a + chunk],
                                  self.activation, total, correct)
        return -(total / n), correct / n

    def cost(self, cells: _Cells, mean_cost: np.ndarray) -> np.ndarray:
        """The training cost with each cell's L2 term (network.l2_penalty's (λ/2)·Σw²)."""
        l2 = cells.k[L2]
        if not np.any(l2 > 0):
            return mean_cost
        weights = cells.theta[self.weight_rows]
        return mean_cost + np.where(l2 > 0, 0.5 * l2 * np.sum(weights * weights, axis=0), 0.0)

    def train_epoch(self, cells: _Cells, epoch: int, updates: int) -> None:
        """One epoch of every live cell, in chunks of whole batches (training.Trainer's), stoppable between."""
        n = len(self.X)
        batch = min(self.batch_size, n)
        per_chunk = batch * max(1, int(CHUNK_WORK // max(self.layout.size * batch * len(cells.ids), 1)))
        cells.set_learning_rates(epoch)
        for a in range(0, n, per_chunk):
            if a:
                self._stop()
            train_cells_kernel(cells.theta, cells.first, cells.second, self.offsets, self.shape,
                               self.X[a:a + per_chunk], self.y[a:a + per_chunk], self.batch_size, cells.k,
                               updates + a // batch, self.activation, self.optimizer, self.notebook)


def train_block(configs: Sequence[TrainConfig], data: Dataset, initial: Sequence[np.ndarray],
                target: float | None = None, history: bool = False,
                should_stop: Callable[[], bool] | None = None) -> BlockResult:
    """Train ``configs`` (one block_key) from their initial parameters on ``data`` in lockstep, epoch by epoch
    as training.Trainer would each; Stopped when ``should_stop()`` (asked between epochs and chunks) says so."""
    if len({block_key(c) for c in configs}) != 1:
        raise ValueError("configs: a block's configs must share " + ", ".join(BLOCK_FIELDS))
    count = len(configs)
    block = _Block(configs, data, should_stop)
    cells = _Cells(configs, initial)
    has_test = len(block.X_test) > 0
    with np.errstate(all="ignore"):
        mean, accuracy = block.evaluate(cells, block.X, block.y)
        cost = block.cost(cells, mean)
    result = BlockResult(cost.copy(), cost.copy(), accuracy.copy(), np.zeros(count, dtype=np.int64),
                         np.zeros(count, dtype=bool), np.full(count, -1), np.full(count, -1), None)
    initial_cost = cost.copy()
    if target is not None:
        reached = cost <= target
        result.epochs_to_target[reached] = 0
        result.updates_to_target[reached] = 0
    if history:
        result.curves = [{"costs": [cost[c]], "accuracies": [accuracy[c]]} for c in range(count)]
        if has_test:
            _add_test(block, cells, result.curves)
    limits = np.array([c.epochs for c in configs])
    n = len(block.X)
    per_epoch = -(-n // min(block.batch_size, n))
    epoch = 0
    cells.keep(np.flatnonzero(limits > 0))
    while len(cells.ids):
        block._stop()
        with np.errstate(all="ignore"):
            block.train_epoch(cells, epoch + 1, epoch * per_epoch)
            epoch += 1
            mean, accuracy = block.evaluate(cells, block.X, block.y)
            cost = block.cost(cells, mean)
            finite = np.all(np.isfinite(cells.theta), axis=0)
        ids = cells.ids
        bad = ~finite | ~np.isfinite(cost) | (cost > DIVERGENCE_FACTOR * initial_cost[ids])
        good = ids[~bad]
        result.diverged[ids[bad]] = True
        result.final_cost[good] = cost[~bad]
        result.final_accuracy[good] = accuracy[~bad]
        result.epochs[good] = epoch
        result.best_cost[good] = np.minimum(result.best_cost[good], cost[~bad])
        if target is not None:
            hit = ~bad & (cost <= target) & (result.epochs_to_target[ids] < 0)
            result.epochs_to_target[ids[hit]] = epoch
            result.updates_to_target[ids[hit]] = epoch * per_epoch
        if history:
            for position in np.flatnonzero(~bad):
                curve = result.curves[ids[position]]
                curve["costs"].append(cost[position])
                curve["accuracies"].append(accuracy[position])
            if has_test:
                _add_test(block, cells, result.curves, ~bad)
        live = np.flatnonzero(~bad & (limits[ids] > epoch))
        if len(live) < len(ids):
            cells.keep(live)
    return result


def _add_test(block: _Block, cells: _Cells, curves: list, which: np.ndarray | None = None) -> None:
    with np.errstate(all="ignore"):
        cost, accuracy = block.evaluate(cells, block.X_test, block.y_test)
    for position in range(len(cells.ids)) if which is None else np.flatnonzero(which):
        curve = curves[cells.ids[position]]
        curve.setdefault("test_costs", []).append(cost[position])
        curve.setdefault("test_accuracies", []).append(accuracy[position])
