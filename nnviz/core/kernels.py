"""The compiled fast path: one numba-compiled epoch and evaluation, checked against network.py.

The arithmetic is the numpy reference's (network.backward, the optimisers of optimizers.py,
optimizers.train_epoch_notebook_order) written as loops: numba's ``@`` and ``np.dot`` need
scipy, and at these sizes loops beat calls anyway. Parameters stay in the flat ``theta`` of
network.Layout; layer ``l``'s ``W`` starts at ``offsets[l]`` as an ``(n_in, n_out)`` row-major block,
its ``b`` right after.

Kernels are compiled with ``cache=True`` (later starts load machine code from
``__pycache__``), ``nogil=True`` (a worker thread training does not block the GUI) and
``error_model="numpy"``: a division by zero gives inf or NaN as numpy's would (a run whose parameters
stop being finite is stopped as diverged), where Python's error model puts a test and a raise around every
division, branches that kept the loops through the sigmoid and tanh from vectorising (tanh networks were
evaluated 3–4 times slower than now).
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import literally, njit, typeof

from nnviz.core import specialised
from nnviz.core.network import EPS, Layout
from nnviz.core.optimizers import OptimizerState, UpdateRule
from nnviz.core.vecmath import exp_nonpositive, log_positive
from nnviz.core.vecmath import tanh as vec_tanh

# Hidden activations by code, as the kernels receive them.
RELU, TANH = 0, 1
ACTIVATION_CODES = {"relu": RELU, "tanh": TANH}
# Optimisers by code, as the kernels receive them (optimizers.OPTIMIZERS).
SGD, HEAVY_BALL, NESTEROV, RMSPROP, ADAM = 0, 1, 2, 3, 4
OTHERS = -1  # the kernels' variant for every optimiser but sgd (see _train)
OPTIMIZER_CODES = {"sgd": SGD, "heavy-ball": HEAVY_BALL, "nesterov": NESTEROV, "rmsprop": RMSPROP, "adam": ADAM}
EVAL_CHUNK = 256  # samples per block in the evaluation; the buffers stay in L1/L2 cache


@njit(cache=True, nogil=True, inline="always")
def _sigmoid(z):
    # The numerically stable form of network.sigmoid (exp never overflows), with vecmath's exp: libm's is a
    # call LLVM cannot vectorise, and the lockstep kernels run this over a block's cells.
    # One division whichever the sign (a select of the numerator, no branch to mispredict): 1/(1 + e) or e/(1 + e).
    e = exp_nonpositive(-abs(z))
    return (1.0 if z >= 0.0 else e) / (1.0 + e)


@njit(cache=True, nogil=True, inline="always")
def _tanh(z):
    # vecmath's: within 2 ulp of numpy's tanh and branch-free, so a loop over a layer's units or a block's samples
    # vectorises (1.7 ns a value, as numpy's SIMD tanh; 10.5 through libm's expm1 one value at a time).
    return vec_tanh(z)


@njit(cache=True, nogil=True, inline="always")
def _hidden(z, activation):
    if activation == RELU:
        return max(z, 0.0)
    return _tanh(z)


@njit(cache=True, nogil=True, inline="always")
def _hidden_derivative(a, activation):
    # Written in terms of a = f(z): relu' = [z > 0] = [a > 0], tanh' = 1 − a².
    if activation == RELU:
        return 1.0 if a > 0.0 else 0.0
    return 1.0 - a * a


@njit(cache=True, nogil=True, inline="always")
def _output_delta(p, t):
    # network.output_delta: dJ/dz = (p − y)·q/(q + ε), q the probability of the true class.
    q = t * p + (1.0 - t) * (1.0 - p)
    return (p - t) * (q / (q + EPS))


@njit(cache=True, nogil=True, inline="always")
def _notebook_sigmoid(z):
    # The notebook's sig, 1 / (1 + e^−z) (optimizers.train_epoch_notebook_order); e^−z overflows to inf: 0.
    return 1.0 / (1.0 + math.exp(-z))


@njit(cache=True, nogil=True, inline="always")
def _notebook_output_delta(p, t):
    # The notebook's dJ/dy · σ'(z) with its eps, σ'(z) = p(1 − p).
    return ((1.0 - t) / (1.0 - p + EPS) - t / (p + EPS)) * (p * (1.0 - p))


@njit(cache=True, nogil=True)
def _unit_offsets(shape):
    """Where each layer's units start in an activation buffer, and the widest layer."""
    n_layers = shape.shape[0] - 1
    unit_offsets = np.zeros(n_layers + 2, dtype=np.int64)
    widest = 0
    for layer in range(n_layers + 1):
        unit_offsets[layer + 1] = unit_offsets[layer] + shape[layer]
        widest = max(widest, shape[layer])
    return unit_offsets, widest


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_block(theta, offsets, shape, X, start, m, acts, unit_offsets, activation, notebook):
    """Forward pass of X[start : start + m], every layer's outputs kept in acts.

    acts is unit-major, (total units, ≥ m): the sample index is the inner loop, long and
    contiguous, so it vectorises; each sample's sums still run over j in order, as in
    the per-sample loops. ``notebook``: the output through the notebook's sigmoid.
    """
    n_layers = shape.shape[0] - 1
    for j in range(shape[0]):  # the inputs: x1, x2 or the features
        for r in range(m):
            acts[j, r] = X[start + r, j]
    for layer in range(n_layers):
        n_in = shape[layer]
        n_out = shape[layer + 1]
        w0 = offsets[layer]
        b0 = w0 + n_in * n_out
        a_in = unit_offsets[layer]
        a_out = unit_offsets[layer + 1]
        for k in range(n_out):
            out = acts[a_out + k]
            w = theta[w0 + k]
            src = acts[a_in]
            for r in range(m):
                out[r] = src[r] * w
            for j in range(1, n_in):
                w = theta[w0 + j * n_out + k]
                src = acts[a_in + j]
                for r in range(m):
                    out[r] += src[r] * w
            bias = theta[b0 + k]
            if layer == n_layers - 1 and notebook:
                for r in range(m):
                    out[r] = _notebook_sigmoid(out[r] + bias)
            elif layer == n_layers - 1:
                for r in range(m):
                    out[r] = _sigmoid(out[r] + bias)
            elif activation == RELU:
                for r in range(m):
                    out[r] = max(out[r] + bias, 0.0)
            else:
                for r in range(m):
                    out[r] = _tanh(out[r] + bias)


@njit(cache=True, nogil=True, inline="always")
def _step(theta, first, second, index, g, learning_rate, variant, optimizer, momentum, rho, epsilon, beta1, beta2, c1,
          c2):
    # One parameter's update, the arithmetic of optimizers.Momentum, HeavyBall, ...; first holds v (adam's m),
    # second s; c1 = 1 − β₁ᵗ and c2 = 1 − β₂ᵗ are adam's bias corrections. ``variant`` is a compile-time
    # constant (see _train): SGD leaves sgd's line alone in the loops, OTHERS a branch on ``optimizer``.
    if variant == SGD or optimizer == SGD:
        v = momentum * first[index] + (1.0 - momentum) * g
        first[index] = v
        theta[index] -= learning_rate * v
    elif optimizer == HEAVY_BALL:
        v = momentum * first[index] + g
        first[index] = v
        theta[index] -= learning_rate * v
    elif optimizer == NESTEROV:
        v = momentum * first[index] + g
        first[index] = v
        theta[index] -= learning_rate * (g + momentum * v)
    elif optimizer == RMSPROP:
        s = rho * second[index] + (1.0 - rho) * (g * g)
        second[index] = s
        theta[index] -= learning_rate * g / (math.sqrt(s) + epsilon)
    else:
        m = beta1 * first[index] + (1.0 - beta1) * g
        s = beta2 * second[index] + (1.0 - beta2) * (g * g)
        first[index] = m
        second[index] = s
        theta[index] -= learning_rate * (m / c1) / (math.sqrt(s / c2) + epsilon)


@njit(cache=True, nogil=True, inline="always")
def _bias_corrections(optimizer, beta1, beta2, t):
    # Adam's 1 − β₁ᵗ and 1 − β₂ᵗ for update t (math.pow, as optimizers.Adam); 1 for the other rules.
    if optimizer != ADAM:
        return 1.0, 1.0
    return 1.0 - math.pow(beta1, t), 1.0 - math.pow(beta2, t)


@njit(cache=True, nogil=True, error_model="numpy")
def _train_per_sample(theta, first, second, offsets, shape, X, y, learning_rate, variant, optimizer, momentum, rho,
                      epsilon, beta1, beta2, t0, l2, activation, notebook):
    """Batch size 1: one step per sample, sums kept in registers."""
    n_layers = shape.shape[0] - 1
    unit_offsets, widest = _unit_offsets(shape)
    acts = np.empty(unit_offsets[n_layers + 1])
    delta = np.empty(widest)
    delta_below = np.empty(widest)
    out = unit_offsets[n_layers]
    n_inputs = shape[0]
    for i in range(X.shape[0]):
        c1, c2 = _bias_corrections(optimizer, beta1, beta2, t0 + i + 1)
        if n_inputs == 2:  # x1, x2 (or two features): unrolled, as fast as before features existed
            acts[0] = X[i, 0]
            acts[1] = X[i, 1]
        else:
            for j in range(n_inputs):  # the features
                acts[j] = X[i, j]
        for layer in range(n_layers):
            n_in = shape[layer]
            n_out = shape[layer + 1]
            w0 = offsets[layer]
            b0 = w0 + n_in * n_out
            a_in = unit_offsets[layer]
            a_out = unit_offsets[layer + 1]
            for k in range(n_out):
                s = acts[a_in] * theta[w0 + k]
                for j in range(1, n_in):
                    s += acts[a_in + j] * theta[w0 + j * n_out + k]
                z = s + theta[b0 + k]
                if layer < n_layers - 1:
                    acts[a_out + k] = _hidden(z, activation)
                else:
                    acts[a_out + k] = _notebook_sigmoid(z) if notebook else _sigmoid(z)
        delta[0] = _notebook_output_delta(acts[out], y[i]) if notebook else _output_delta(acts[out], y[i])
        for layer in range(n_layers - 1, -1, -1):
            n_in = shape[layer]
            n_out = shape[layer + 1]
            w0 = offsets[layer]
            b0 = w0 + n_in * n_out
            a_in = unit_offsets[layer]
            for j in range(n_in):
                row = w0 + j * n_out
                aj = acts[a_in + j]
                if layer > 0 and not notebook:
                    # Propagate through W[j, :] before the step below changes it.
                    delta_below[j] = _propagate(theta, row, delta, n_out) * _hidden_derivative(aj, activation)
                for k in range(n_out):
                    g = aj * delta[k]
                    if l2 > 0.0:
                        g += l2 * theta[row + k]
                    _step(theta, first, second, row + k, g, learning_rate, variant, optimizer, momentum, rho,
                          epsilon, beta1, beta2, c1, c2)
                if layer > 0 and notebook:
                    # The notebook's order: through W[j, :] as just updated.
                    delta_below[j] = _propagate(theta, row, delta, n_out) * _hidden_derivative(aj, activation)
            for k in range(n_out):
                _step(theta, first, second, b0 + k, delta[k], learning_rate, variant, optimizer, momentum, rho,
                      epsilon, beta1, beta2, c1, c2)
            delta, delta_below = delta_below, delta


@njit(cache=True, nogil=True, inline="always")
def _propagate(theta, row, delta, n_out):
    # Σ_k W[j, k]·delta[k] over the row of W starting at theta[row], in k's order.
    s = delta[0] * theta[row]
    for k in range(1, n_out):
        s += delta[k] * theta[row + k]
    return s


@njit(cache=True, nogil=True, inline="always")
def _propagate_block(theta, w0, n_in, n_out, m, delta, delta_below, acts, a_in, activation):
    # delta_below[j, r] = Σ_k W[j, k]·delta[k, r] · f'(a[j, r]) for the block's m samples.
    for j in range(n_in):
        row = w0 + j * n_out
        below = delta_below[j]
        w = theta[row]
        d = delta[0]
        for r in range(m):
            below[r] = d[r] * w
        for k in range(1, n_out):
            w = theta[row + k]
            d = delta[k]
            for r in range(m):
                below[r] += d[r] * w
        a = acts[a_in + j]
        for r in range(m):
            below[r] *= _hidden_derivative(a[r], activation)


@njit(cache=True, nogil=True, error_model="numpy")
def _train_batches(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, variant, optimizer, momentum,
                   rho, epsilon, beta1, beta2, t0, l2, activation, notebook):
    """Batch size ≥ 2: unit-major buffers, each loop over the batch's samples vectorised."""
    n = X.shape[0]
    n_layers = shape.shape[0] - 1
    batch = min(batch_size, n)
    unit_offsets, widest = _unit_offsets(shape)
    acts = np.empty((unit_offsets[n_layers + 1], batch))
    delta = np.empty((widest, batch))
    delta_below = np.empty((widest, batch))
    out = unit_offsets[n_layers]
    t = t0
    for start in range(0, n, batch):
        m = min(batch, n - start)
        t += 1
        c1, c2 = _bias_corrections(optimizer, beta1, beta2, t)
        _forward_block(theta, offsets, shape, X, start, m, acts, unit_offsets, activation, notebook)
        # True order: the mean's 1/m goes into the output delta (as network.backward); the notebook's
        # order divides each layer's sums by m (as its np.mean), a division by 1.0 (exact) otherwise.
        if notebook:
            divisor = float(m)
            for r in range(m):
                delta[0, r] = _notebook_output_delta(acts[out, r], y[start + r])
        else:
            divisor = 1.0
            for r in range(m):
                delta[0, r] = _output_delta(acts[out, r], y[start + r]) / m
        for layer in range(n_layers - 1, -1, -1):
            n_in = shape[layer]
            n_out = shape[layer + 1]
            w0 = offsets[layer]
            b0 = w0 + n_in * n_out
            a_in = unit_offsets[layer]
            if layer > 0 and not notebook:
                # Propagate with this layer's weights before the step changes them.
                _propagate_block(theta, w0, n_in, n_out, m, delta, delta_below, acts, a_in, activation)
            for j in range(n_in):
                a = acts[a_in + j]
                row = w0 + j * n_out
                for k in range(n_out):
                    d = delta[k]
                    g = 0.0
                    for r in range(m):
                        g += a[r] * d[r]
                    g /= divisor
                    if l2 > 0.0:
                        g += l2 * theta[row + k]
                    _step(theta, first, second, row + k, g, learning_rate, variant, optimizer, momentum, rho,
                          epsilon, beta1, beta2, c1, c2)
            for k in range(n_out):
                d = delta[k]
                g = 0.0
                for r in range(m):
                    g += d[r]
                g /= divisor
                _step(theta, first, second, b0 + k, g, learning_rate, variant, optimizer, momentum, rho,
                      epsilon, beta1, beta2, c1, c2)
            if layer > 0 and notebook:
                # The notebook's order: with this layer's weights as just updated.
                _propagate_block(theta, w0, n_in, n_out, m, delta, delta_below, acts, a_in, activation)
            delta, delta_below = delta_below, delta


@njit(cache=True, nogil=True, error_model="numpy")
def train_epoch_kernel(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, optimizer, momentum,
                       rho, epsilon, beta1, beta2, t0, l2, activation, notebook):
    """All mini-batch steps over (X, y), in order, in place on theta, first and second.

    Per batch of m samples: delta_out = network.output_delta(p, y) / m; each layer's delta
    is propagated through that layer's weights before they are updated (true
    backpropagation); the gradient gets λw on weights only; then the optimiser's step
    (see _step). With ``notebook`` (sgd only), optimizers.train_epoch_notebook_order: the
    notebook's sigmoid and output delta dJ/dy · σ'(z), sums divided by m, and each delta
    propagated through the weights above as already updated. Batch size 1 and larger
    batches take different loops (each the faster for its case) that compute the same numbers.

    theta, first (v, adam's m), second (s) : float64 (size,); offsets : int64 (n_layers + 1,);
    shape : int64 (n_layers + 1,); X : float64 (n, shape[0]) C-contiguous (the inputs); y : float64 (n,);
    optimizer, activation : int codes; t0 : updates made before this call (adam's t goes on from it).
    Returns whether every parameter is finite afterwards (see all_finite).
    """
    if X.shape[0] == 0:
        return all_finite(theta)
    if optimizer == SGD:
        _train(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, SGD, optimizer, momentum, rho,
               epsilon, beta1, beta2, t0, l2, activation, notebook)
    else:
        _train(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, OTHERS, optimizer, momentum,
               rho, epsilon, beta1, beta2, t0, l2, activation, notebook)
    return all_finite(theta)


@njit(cache=True, nogil=True, inline="always")
def all_finite(theta):
    """Whether every value of theta is finite: x·0 is 0 for a finite x, NaN for ±inf and NaN (one vectorised
    pass, where numpy's isfinite and a count cost a microsecond of calls)."""
    s = 0.0
    for p in range(theta.shape[0]):
        s += theta[p] * 0.0
    return s == 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _train(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, variant, optimizer, momentum, rho,
           epsilon, beta1, beta2, t0, l2, activation, notebook):
    # Compiled once per ``variant`` as a constant: sgd's loops keep one line per parameter update, as fast as
    # before the other optimisers came (a branch per parameter made per-sample sgd 3.5 times slower); the
    # other optimisers share loops that branch on ``optimizer``. Five variants would compile 8 times longer.
    literally(variant)
    if batch_size == 1:
        _train_per_sample(theta, first, second, offsets, shape, X, y, learning_rate, variant, optimizer, momentum,
                          rho, epsilon, beta1, beta2, t0, l2, activation, notebook)
    else:
        _train_batches(theta, first, second, offsets, shape, X, y, batch_size, learning_rate, variant, optimizer,
                       momentum, rho, epsilon, beta1, beta2, t0, l2, activation, notebook)


@njit(cache=True, nogil=True, error_model="numpy")
def cost_terms(p, y, start, m, terms):
    """terms[r] = the log-likelihood of label y[start + r] under probability p[r] (network.cost's
    t·log(p + ε) + (1 − t)·log(1 − p + ε); for a 0/1 label one term is exactly zero, so only the other is made),
    for r < m; returns how many p[r] are on the label's side of 0.5. vecmath's log and no branch: the loop
    vectorises (libm's log, one call a sample, cost as much as the forward pass of 2-16-16-1). A function of its
    own, not inlined: inside the generic evaluation kernel LLVM left the loop scalar."""
    correct = 0
    for r in range(m):
        t = y[start + r]
        a = log_positive(p[r] + EPS)
        b = log_positive(1.0 - p[r] + EPS)
        terms[r] = a if t == 1.0 else (b if t == 0.0 else t * a + (1.0 - t) * b)
        correct += (p[r] > 0.5) == (t > 0.5)
    return correct


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate_kernel(theta, offsets, shape, X, y, activation):
    """(mean cross-entropy with eps 1e-8, accuracy with p > 0.5) of the network on (X, y)."""
    n = X.shape[0]
    if n == 0:
        return math.nan, math.nan
    n_layers = shape.shape[0] - 1
    unit_offsets, _ = _unit_offsets(shape)
    chunk = min(EVAL_CHUNK, n)
    acts = np.empty((unit_offsets[n_layers + 1], chunk))
    terms = np.empty(chunk)
    out = unit_offsets[n_layers]
    total = 0.0
    correct = 0
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        _forward_block(theta, offsets, shape, X, start, m, acts, unit_offsets, activation, False)
        correct += cost_terms(acts[out], y, start, m, terms)
        for r in range(m):  # in the samples' order, as lockstep.evaluate_cells_kernel adds them
            total += terms[r]
    return -(total / n), correct / n


class CompiledEngine:
    """Same interface as training.NumpyEngine, backed by the numba kernels."""

    name = "compiled"

    def __init__(self):
        self._layouts: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {}

    def _arrays(self, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
        # One pair of int64 arrays per shape. Writeable copies: Layout.offsets is read-only, and numba
        # compiles (and caches) a separate specialisation for read-only arrays.
        arrays = self._layouts.get(layout.shape)
        if arrays is None:
            arrays = (np.array(layout.offsets, dtype=np.int64), np.array(layout.shape, dtype=np.int64))
            self._layouts[layout.shape] = arrays
        return arrays

    def bind(self, theta, state: OptimizerState, layout: Layout, sets, batch_size: int, rule: UpdateRule, l2: float,
             activation: str) -> BoundRun:
        """The kernel calls of one run (see BoundRun): ``sets`` the training set (X, y), then the test set if any."""
        return BoundRun(self, theta, state, layout, sets, batch_size, rule, l2, activation)

    def new_state(self, size: int) -> OptimizerState:
        """Every optimiser's moments (zero) and the update count t (0) of a new run of ``size`` parameters."""
        return OptimizerState(size)

    def train_epoch(self, theta: np.ndarray, state: OptimizerState, layout: Layout, X: np.ndarray, y: np.ndarray,
                    batch_size: int, learning_rate: float, rule: UpdateRule, l2: float, activation: str) -> None:
        """All mini-batch steps over (X, y) in order, in place on ``theta`` and ``state`` (see train_epoch_kernel)."""
        _check_in_place("theta", theta)
        _check_in_place("velocity", state.velocity)
        _check_in_place("square", state.square)
        offsets, shape = self._arrays(layout)
        train_epoch_kernel(theta, state.velocity, state.square, offsets, shape, _c64(X), _c64(y).reshape(-1),
                           int(batch_size), float(learning_rate), OPTIMIZER_CODES[rule.optimizer],
                           float(rule.momentum), float(rule.rho), float(rule.epsilon), float(rule.beta1),
                           float(rule.beta2), int(state.t), float(l2), ACTIVATION_CODES[activation],
                           rule.update_order == "notebook")
        state.t += -(-len(X) // int(batch_size))

    def evaluate(self, theta, layout, X, y, activation):
        """(mean cross-entropy without L2, accuracy) on (X, y)."""
        offsets, shape = self._arrays(layout)
        mean_cost, fraction = evaluate_kernel(_c64(theta), offsets, shape, _c64(X), _c64(y).reshape(-1),
                                              ACTIVATION_CODES[activation])
        return float(mean_cost), float(fraction)


# Parameter × sample products a run trains with the generic kernels before it asks for its specialised ones
# (about 0.2–0.4 s here): a shorter run would not win back their compilation (1–4 s the first time).
SPECIALISE_AFTER = 50_000_000


class BoundRun:
    """One run's kernel calls with every argument converted and checked once (CompiledEngine.train_epoch and
    evaluate do it on each call, ~3 µs): per epoch only α and t change.

    Trains with the generic kernels above until the specialised ones for its shape and variant are compiled
    (specialised.py, in the background, asked for after SPECIALISE_AFTER products), then with those: the same
    numbers bit for bit, about twice as fast. Calls numba's compiled entry points directly (its dispatcher
    types every argument on each call, ~0.5 µs).
    """

    def __init__(self, engine: CompiledEngine, theta, state: OptimizerState, layout: Layout, sets, batch_size: int,
                 rule: UpdateRule, l2: float, activation: str):
        for name, a in (("theta", theta), ("velocity", state.velocity), ("square", state.square)):
            _check_in_place(name, a)
        offsets, shape = engine._arrays(layout)
        self.sets = [(_c64(X), _c64(y).reshape(-1)) for X, y in sets]
        for Xs, ys in self.sets:  # the entry points check nothing: a wrong size would read past the arrays
            if Xs.ndim != 2 or Xs.shape[1] != layout.shape[0] or len(ys) != len(Xs):
                raise ValueError(f"X, y: must be ({len(Xs)}, {layout.shape[0]}) and ({len(Xs)},) for the network "
                                 f"{'-'.join(map(str, layout.shape))}; got {Xs.shape} and {ys.shape}")
        if theta.shape[0] != layout.size or len(state.velocity) != layout.size or len(state.square) != layout.size:
            raise ValueError(f"theta, velocity, square: must hold {layout.size} values each")
        X, y = self.sets[0]
        self.state, self.n, self.batch = state, len(X), int(batch_size)
        self.updates = -(-self.n // self.batch)  # steps an epoch: as state.t counts them
        self._size = layout.size
        self._work = self.n * layout.size
        self._to_request = SPECIALISE_AFTER
        optimizer, notebook = OPTIMIZER_CODES[rule.optimizer], rule.update_order == "notebook"
        numbers = [float(rule.momentum), float(rule.rho), float(rule.epsilon), float(rule.beta1), float(rule.beta2)]
        # The generic kernel's arguments; α at index 8, t at 15, X and y at 5 and 6.
        generic = [theta, state.velocity, state.square, offsets, shape, X, y, self.batch, 0.0, optimizer, *numbers,
                   0, float(l2), ACTIVATION_CODES[activation], notebook]
        # (kernel, its arguments, where α, t, X and y go in them): one attribute, replaced whole (see train)
        self._call = (_entry(train_epoch_kernel, generic), generic, (8, 15, 5, 6))
        code = ACTIVATION_CODES[activation]
        self._evaluate = [(_entry(evaluate_kernel, args), args, 3) for args in
                          ([theta, offsets, shape, Xs, ys, code] for Xs, ys in self.sets)]
        # The specialised kernels' keys and arguments (see specialised.Specialiser), when the shape has them.
        self._generation = -1
        self._special = None
        if specialised.enabled() and specialised.specialisable(layout.shape):
            wide = list(specialised.widths(layout.shape))
            path = "per_sample" if self.batch == 1 else "batches"
            name = specialised.variant_name(path, activation, "notebook" if notebook else "true", rule.optimizer,
                                            l2 > 0)
            args = [theta, state.velocity, state.square, X, y, *([self.batch] if path == "batches" else []), 0.0,
                    optimizer, *numbers, 0, float(l2), *wide]
            at = (5, 12, 3, 4) if path == "per_sample" else (6, 13, 3, 4)  # α, t, X, y
            evaluations = [(specialised.key(layout.shape, f"evaluate_{activation}", eval_args), eval_args)
                           for eval_args in ([theta, Xs, ys, *wide] for Xs, ys in self.sets)]
            self._special = ((specialised.key(layout.shape, name, args), args, at), evaluations)

    def train(self, learning_rate: float, start: int = 0, stop: int | None = None) -> bool | None:
        """The steps over samples start..stop (whole batches; default all) at ``learning_rate``, in place; t goes
        on. Whether every parameter is finite afterwards (None for a part of the epoch: not asked)."""
        if self._generation != specialised.SPECIALISER.generation:
            self._use_specialised()
        kernel, args, (lr_at, t_at, x_at, y_at) = self._call
        args[lr_at] = float(learning_rate)
        args[t_at] = self.state.t
        finite = None
        if stop is None:
            finite = kernel(*args)
            self.state.t += self.updates
            work = self._work
        else:
            X, y = self.sets[0]
            args[x_at], args[y_at] = X[start:stop], y[start:stop]
            try:
                kernel(*args)
            finally:
                args[x_at], args[y_at] = X, y
            self.state.t += -(-(stop - start) // self.batch)
            work = (stop - start) * self._size
        if self._to_request > 0:
            self._to_request -= work
            if self._to_request <= 0:
                self._request_specialised()
        return finite

    def evaluate(self, which: int = 0, start: int = 0, stop: int | None = None) -> tuple[float, float]:
        """(mean cross-entropy without L2, accuracy) on set ``which`` (0 training, 1 test), samples start..stop."""
        Xs, ys = self.sets[which]
        if stop is None:
            stop = len(Xs)
        evaluate, args, x_at = self._evaluate[which]
        if start == 0 and stop == len(Xs):
            return evaluate(*args)
        part = list(args)
        part[x_at], part[x_at + 1] = Xs[start:stop], ys[start:stop]
        return evaluate(*part)

    def evaluate_all(self) -> tuple:
        """(cost, accuracy, test cost, test accuracy) of the current parameters; the test ones None without a
        test set."""
        cost_, accuracy_ = self.evaluate(0)
        if len(self.sets) == 1:
            return cost_, accuracy_, None, None
        test_cost, test_accuracy = self.evaluate(1)
        return cost_, accuracy_, test_cost, test_accuracy

    @property
    def specialised(self) -> bool:
        """Whether the epochs now train with the kernels specialised for the run's shape."""
        return self._special is not None and self._call[0] is specialised.SPECIALISER.ready(self._special[0][0])

    def specialise(self, wait: bool = False) -> bool:
        """Ask for the specialised kernels now (rather than after SPECIALISE_AFTER); with ``wait``, block until
        they are compiled. Whether the next epoch trains with them (False when the shape has none, when
        specialisation is off, or while they compile)."""
        self._to_request = 0
        self._request_specialised(wait)
        self._use_specialised()
        return self.specialised

    def _request_specialised(self, wait: bool = False) -> None:
        if self._special is not None:
            (train_key, _, _), evaluations = self._special
            for key in (train_key, *(key for key, _ in evaluations)):
                (specialised.SPECIALISER.wait if wait else specialised.SPECIALISER.request)(key)

    def _use_specialised(self) -> None:
        self._generation = specialised.SPECIALISER.generation
        if self._special is None:
            return
        (train_key, args, at), evaluations = self._special
        train = specialised.SPECIALISER.ready(train_key)
        if train is not None:
            self._call = (train, args, at)
        for which, (key, eval_args) in enumerate(evaluations):
            evaluate = specialised.SPECIALISER.ready(key)
            if evaluate is not None:
                self._evaluate[which] = (evaluate, eval_args, 1)


def _entry(dispatcher, args):
    # The compiled entry point of ``dispatcher`` for these arguments' types (compiled or loaded if need be). An
    # existing one is read without compile(): that takes numba's compiler lock first, which the background thread
    # holds for seconds while it compiles a specialised kernel (a new run or a live edit would wait for it).
    types_ = tuple(typeof(a) for a in args)
    compiled = dispatcher.overloads.get(types_)
    return compiled.entry_point if compiled is not None else dispatcher.compile(types_)


def _c64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _check_in_place(name: str, a: np.ndarray) -> None:
    if not (isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim == 1 and a.flags.c_contiguous
            and a.flags.writeable):
        raise ValueError(f"{name}: must be a writeable C-contiguous 1-D float64 array (updated in place)")


_engine: CompiledEngine | None = None
_engine_lock = threading.Lock()


def get_compiled_engine() -> CompiledEngine:
    """The compiled engine, ready to use: the first call compiles the kernels (or loads them
    from numba's cache) on tiny data, so a compilation failure raises here."""
    global _engine
    with _engine_lock:
        if _engine is None:
            engine = CompiledEngine()
            _compile(engine)
            _engine = engine
        return _engine


def _compile(engine: CompiledEngine) -> None:
    layout = Layout((2, 2, 1))
    theta = np.linspace(-1.0, 1.0, layout.size)
    state = engine.new_state(layout.size)
    X = np.array([[0.0, 1.0], [1.0, 0.0], [-1.0, 0.5]])
    y = np.array([[1.0], [0.0], [1.0]])
    for a in (X, y):  # read-only, as a Trainer's data are: numba compiles another specialisation for writeable ones
        a.setflags(write=False)
    engine.train_epoch(theta, state, layout, X, y, 2, 0.1, UpdateRule(momentum=0.5), 0.01, "tanh")
    engine.evaluate(theta, layout, X, y, "relu")  # (the activation is an argument: tanh networks use it too)


def warm_up() -> bool:
    """Compile or load the kernels now (meant for a background thread at start-up).

    Returns True when the compiled engine is ready, False when it is unavailable (then
    training.get_engine falls back to numpy and says so once).
    """
    try:
        get_compiled_engine()
    except Exception:  # any failure here resurfaces, with its message, in training.get_engine
        return False
    return True
