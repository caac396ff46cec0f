"""Kernels specialised for one network's shape, compiled in the background while the generic ones train.

kernels.py reads the layer sizes from an array at run time. Written with the sizes as literal numbers, the same
loops run about twice as fast (bench_training.py): the offsets into ``theta`` become constants, short loops unroll,
and the parameters and activations live in stack arrays that LLVM knows alias nothing (numba passes no
``restrict``), so it keeps them in registers. A loop of ``WIDE`` or more iterations keeps a run-time bound: LLVM's
loop vectoriser then works on it, where a literal bound would unroll it to scalar code (numba leaves the SLP
vectoriser off).

``source(shape, name)`` writes one module per shape and variant (activation, update order, optimiser, with or
without L2; per-sample steps, mini-batches, the evaluation) as plain Python for numba. The
arithmetic is kernels.py's, operation for operation and in the same order, so a specialised kernel computes the
same numbers bit for bit (tests/test_specialised.py checks): which kernel trained an epoch never shows. (One
exception, the sign of a zero: plain sgd's steps skip v = 0·v + g, which makes +0.0 of a −0.0 gradient, so a
parameter or velocity that is exactly zero may come out −0.0 here and +0.0 there; costs and every nonzero value
are the same.)

``Specialiser.request`` queues a variant for a background thread, which writes the module into a per-user cache
directory (named after a digest of the code that generates it) and has a child process compile the variant there
with numba's ``cache=True`` (1–4 s the first time, on the other core), then loads the machine code in
milliseconds, as later starts do. Until it is ready, ``ready`` answers
None and the caller keeps the generic kernel.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from numba import typeof, types
from numba.core.compiler_lock import global_compiler_lock

from nnviz.core.network import Layout

WIDE = 8  # loops this long or longer keep a run-time bound, so that LLVM vectorises them
# A kernel's arrays (θ, v, s, the transposed copies, the sums) live on the stack up to this (2-64-64-1: 204 kB),
# well inside a secondary thread's stack (512 kB on macOS, 8 MB on Linux; LLVM puts no probe on a frame, so one past
# the stack would not fault at once); bigger ones on the heap (2-128-128-1 per sample: 10.9 against 12.1 epochs/s).
MAX_STACK_BYTES = 256 * 1024
# Larger networks keep the generic kernels: 2-256-256-256-1 (132k) compiles in 12 and 25 s in the background.
MAX_PARAMETERS = 140_000
STALE_DAYS = 30  # kernel directories of other versions of nnviz unused this long are removed
EVAL_CHUNK = 256  # as kernels.EVAL_CHUNK: the evaluation's blocks, and so its sums, are the same
ENV_SWITCH = "NNVIZ_SPECIALISE"  # "0" turns specialisation off (the generic kernels train everything)
ENV_DIR = "NNVIZ_KERNEL_DIR"  # where the generated modules and numba's cache of them go


# ---- the generated source ---------------------------------------------------------------------------------------

ACTIVATIONS = ("relu", "tanh")
ORDERS = ("true", "notebook")
# One function per optimiser: its rule is a constant in the loops (the generic kernels share one loop among the
# rules but sgd, with a branch per parameter update). Only the ones a run uses are ever compiled.
# The rules whose per-sample kernels keep wide layers' weights (and moments) also transposed, for a vectorised
# propagation (_per_sample_mirrored). rmsprop's and adam's second step per weight (square roots, divisions) cost
# more than the propagation saves (2-16-16-1: 630 -> 912 and 905 -> 1389 ns a sample); sgd with β 0.9 283 -> 264,
# nesterov 288 -> 262, heavy-ball even.
MIRRORED_RULES = ("plain", "sgd", "heavy-ball", "nesterov")
OPTIMIZERS = {"sgd": "SGD", "heavy-ball": "HEAVY_BALL", "nesterov": "NESTEROV", "rmsprop": "RMSPROP", "adam": "ADAM"}


def variant_name(path: str, activation: str, order: str, optimizer: str, l2: bool) -> str:
    """The generated function for one variant: ``path`` "per_sample" or "batches"."""
    return f"{path}_{activation}_{order}_{optimizer.replace('-', '_')}{'_l2' if l2 else ''}"


def widths(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The layer sizes passed at run time (the wide ones, see WIDE), in the order the kernels take them."""
    return tuple(sorted({n for n in shape if n >= WIDE}))


def _n(n: int) -> str:
    # A loop bound: the literal, or the run-time argument holding a wide size.
    return f"w{n}" if n >= WIDE else str(n)


class _Writer:
    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape
        self.layout = Layout(shape)
        self.lines: list[str] = []
        self.indent = 0
        self.wide_args = "".join(f", w{n}" for n in widths(shape))
        self.on_heap = stack_bytes(shape) > MAX_STACK_BYTES

    def array(self, name: str, n: int) -> None:
        """``name``: n float64, on the stack (LLVM knows they alias nothing) unless the kernel's arrays are too big
        for it (MAX_STACK_BYTES), then on the heap."""
        self(f"{name} = np.empty({n})" if self.on_heap else f"{name} = carray(stack_pointer({n}), {n})")

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.indent + line if line else "")

    def block(self, header: str):
        self(header)
        return _Indented(self)

    def w(self, layer: int) -> int:
        return self.layout.offsets[layer]

    def b(self, layer: int) -> int:
        return self.layout.offsets[layer] + self.shape[layer] * self.shape[layer + 1]


class _Indented:
    def __init__(self, writer: _Writer):
        self.writer = writer
        writer.indent += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.writer.indent -= 1


def _step(variant: str, index: str, g: str, arrays: str = "theta, first, second") -> str:
    # kernels._step with the rule as a constant: its branches fold away. "plain": sgd with β = 0, v not kept.
    if variant == "plain":
        return f"{arrays.split(',')[0]}[{index}] -= learning_rate * ({g})"
    code = OPTIMIZERS[variant]
    return (f"_step({arrays}, {index}, {g}, learning_rate, {'SGD' if code == 'SGD' else 'OTHERS'}, "
            f"{code}, momentum, rho, epsilon, beta1, beta2, c1, c2)")


def _corrections(variant: str, t: str) -> str:
    # adam's bias corrections for update t; 1 for the other rules (kernels._bias_corrections).
    return f"c1, c2 = _bias_corrections(ADAM, beta1, beta2, {t})" if variant == "adam" else "c1, c2 = 1.0, 1.0"


def _hidden(activation: str, z: str) -> str:
    return f"max({z}, 0.0)" if activation == "relu" else f"_tanh({z})"


def _derivative(activation: str, a: str) -> str:
    return f"(1.0 if {a} > 0.0 else 0.0)" if activation == "relu" else f"(1.0 - {a} * {a})"


def _per_sample(out: _Writer, activation: str, order: str, variant: str, l2: bool) -> None:
    """kernels._train_per_sample with the sizes written in."""
    shape, notebook = out.shape, order == "notebook"
    size = out.layout.size
    out("@njit(cache=True, nogil=True, error_model='numpy')")
    name = variant_name("per_sample", activation, order, variant, l2)
    with out.block(f"def {name}(theta_out, first_out, second_out, X, y, learning_rate, optimizer, momentum, rho, "
                   f"epsilon, beta1, beta2, t0, l2{out.wide_args}):"):
        _copy_in(out, size)
        for layer, n in enumerate(shape):
            out(f"a{layer} = carray(stack_pointer({n}), {n})")
            if layer > 0:
                out(f"d{layer} = carray(stack_pointer({n}), {n})")
        if variant in MIRRORED_RULES:
            _transpose_in(out)
        if variant == "sgd":
            # β = 0: v = 0·v + 1·g is g, so the steps skip v (its loads, stores and two products) for every sample
            # but the last, whose step leaves v = g as the rule does (for a β raised later).
            out("n = X.shape[0]")
            out("full = 0")
            with out.block("if momentum == 0.0:"):
                out("full = max(n - 1, 0)")
                with out.block("for i in range(full):"):
                    _per_sample_body(out, activation, notebook, "plain", l2)
            with out.block("for i in range(full, n):"):
                _per_sample_body(out, activation, notebook, variant, l2)
        else:
            with out.block("for i in range(X.shape[0]):"):
                _per_sample_body(out, activation, notebook, variant, l2)
        _copy_back(out, size)
    out()


def _per_sample_body(out: _Writer, activation: str, notebook: bool, variant: str, l2: bool) -> None:
    # One sample's forward pass, backward pass and steps (the loop body of kernels._train_per_sample).
    shape = out.shape
    last = len(shape) - 1
    out(_corrections(variant, "t0 + i + 1"))
    for j in range(shape[0]):
        out(f"a0[{j}] = X[i, {j}]")
    for layer in range(last):
        n_in, n_out, w0, b0 = shape[layer], shape[layer + 1], out.w(layer), out.b(layer)
        a_in, a_out = f"a{layer}", f"a{layer + 1}"
        f = _hidden if layer < last - 1 else (lambda _, z: f"{'_notebook_sigmoid' if notebook else '_sigmoid'}({z})")
        if n_in >= WIDE and n_out > 1:
            # The sums over j of every k side by side in vector registers (each in j's order): as dot products
            # over j, one k after the other, they were scalar chains (a third of a 2-16-16-1 step).
            out(f"rows_combination({a_out}, 0, {a_in}, 0, theta, {w0}, {n_in}, {n_out})")
            with out.block(f"for k in range({_n(n_out)}):"):
                out(f"{a_out}[k] = {f(activation, f'{a_out}[k] + theta[{b0} + k]')}")
            continue
        with out.block(f"for k in range({_n(n_out)}):"):
            out(f"s = {a_in}[0] * theta[{w0} + k]")
            if n_in > 1:
                with out.block(f"for j in range(1, {_n(n_in)}):"):
                    out(f"s += {a_in}[j] * theta[{w0} + j * {n_out} + k]")
            out(f"{a_out}[k] = {f(activation, f's + theta[{b0} + k]')}")
    output_delta = "_notebook_output_delta" if notebook else "_output_delta"
    out(f"d{last}[0] = {output_delta}(a{last}[0], y[i])")
    for layer in range(last - 1, -1, -1):
        _per_sample_layer(out, layer, activation, notebook, variant, l2)


def _copy_in(out: _Writer, size: int) -> None:
    # The caller's parameters and moments into stack arrays for the epoch (LLVM knows they alias nothing).
    for name in ("theta", "first", "second"):
        out.array(name, size)
    with out.block(f"for p in range({size}):"):
        out("theta[p] = theta_out[p]")
        out("first[p] = first_out[p]")
        out("second[p] = second_out[p]")


def _copy_back(out: _Writer, size: int) -> None:
    # The epoch's parameters and moments back to the caller's arrays; returns whether every parameter is finite.
    with out.block(f"for p in range({size}):"):
        out("theta_out[p] = theta[p]")
        out("first_out[p] = first[p]")
        out("second_out[p] = second[p]")
    out("return all_finite(theta)")


def _mirrored(shape: tuple[int, ...]) -> list[int]:
    """The layers whose weights the per-sample steps of MIRRORED_RULES also keep transposed (_per_sample_mirrored):
    the wide ones that propagate deltas to a layer below."""
    return [layer for layer in range(1, len(shape) - 1)
            if shape[layer + 1] > 1 and max(shape[layer], shape[layer + 1]) >= WIDE]


def _transpose_in(out: _Writer) -> None:
    # The mirrored layers' weights and moments, transposed: t<layer>[k·n_in + j] = W[j, k], tf<layer> and ts<layer>
    # the same of first and second.
    for layer in _mirrored(out.shape):
        n_in, n_out, w0 = out.shape[layer], out.shape[layer + 1], out.w(layer)
        for name in ("t", "tf", "ts"):
            out.array(f"{name}{layer}", n_in * n_out)
        with out.block(f"for j in range({n_in}):"):
            with out.block(f"for k in range({n_out}):"):
                out(f"p = {w0} + j * {n_out} + k")
                out(f"t{layer}[k * {n_in} + j] = theta[p]")
                out(f"tf{layer}[k * {n_in} + j] = first[p]")
                out(f"ts{layer}[k * {n_in} + j] = second[p]")


def _per_sample_layer(out: _Writer, layer: int, activation: str, notebook: bool, variant: str, l2: bool) -> None:
    # One layer of the backward pass and its steps: kernels._train_per_sample's loop body for ``layer``.
    n_in, n_out, w0 = out.shape[layer], out.shape[layer + 1], out.w(layer)
    a, d, below = f"a{layer}", f"d{layer + 1}", f"d{layer}"
    if variant in MIRRORED_RULES and layer in _mirrored(out.shape):
        _per_sample_mirrored(out, layer, activation, notebook, variant, l2)
        return
    if layer > 0 and not notebook:
        # Through W before this layer's steps change it: each row's Σ_k W[j, k]·d[k] in k's order. Row by row, each
        # sum a chain over contiguous weights, the rows' chains independent (narrow layers, and rmsprop's and adam's
        # kernels, which keep no transposed copy to vectorise across j: reading W with a stride came out slower).
        with out.block(f"for j in range({_n(n_in)}):"):
            out(f"row = {w0} + j * {n_out}")
            out(f"s = {d}[0] * theta[row]")
            if n_out > 1:
                with out.block(f"for k in range(1, {_n(n_out)}):"):
                    out(f"s += {d}[k] * theta[row + k]")
            out(f"{below}[j] = s * {_derivative(activation, f'{a}[j]')}")

    def notebook_propagation():
        # The notebook's order: through W[j, :] as just updated.
        out(f"s = {d}[0] * theta[row]")
        with out.block(f"for k in range(1, {_n(n_out)}):"):
            out(f"s += {d}[k] * theta[row + k]")
        out(f"{below}[j] = s * {_derivative(activation, 'aj')}")
    _steps(out, layer, variant, l2, notebook_propagation if layer > 0 and notebook else None)


def _steps(out: _Writer, layer: int, variant: str, l2: bool, after_row=None) -> None:
    # One sample's steps of layer's weights, row by row (then ``after_row()`` in each row's loop), and biases.
    n_in, n_out, w0, b0 = out.shape[layer], out.shape[layer + 1], out.w(layer), out.b(layer)
    a, d = f"a{layer}", f"d{layer + 1}"
    with out.block(f"for j in range({_n(n_in)}):"):
        out(f"row = {w0} + j * {n_out}")
        out(f"aj = {a}[j]")
        with out.block(f"for k in range({_n(n_out)}):"):
            out(f"g = aj * {d}[k]")
            if l2:
                out("g += l2 * theta[row + k]")
            out(_step(variant, "row + k", "g"))
        if after_row is not None:
            after_row()
    with out.block(f"for k in range({_n(n_out)}):"):
        out(_step(variant, f"{b0} + k", f"{d}[k]"))


def _per_sample_mirrored(out: _Writer, layer: int, activation: str, notebook: bool, variant: str, l2: bool) -> None:
    # _per_sample_layer with the weights (and moments) also kept transposed in t<layer> (tf, ts), so that the
    # propagation Σ_k W[j, k]·d[k] is a combination of t's rows, every j side by side in vector registers (each sum
    # in k's order), where row by row it was a scalar chain per j (a quarter of a 2-16-16-1 step). Each step is
    # applied to both copies with the same operands, so they stay equal bit for bit.
    n_in, n_out = out.shape[layer], out.shape[layer + 1]
    a, d, below, t = f"a{layer}", f"d{layer + 1}", f"d{layer}", f"t{layer}"

    def propagate():
        out(f"rows_combination({below}, 0, {d}, 0, {t}, 0, {n_out}, {n_in})")
        with out.block(f"for j in range({_n(n_in)}):"):
            out(f"{below}[j] = {below}[j] * {_derivative(activation, f'{a}[j]')}")
    if not notebook:
        propagate()  # through W before the steps
    _steps(out, layer, variant, l2)
    with out.block(f"for k in range({_n(n_out)}):"):
        out(f"col = k * {n_in}")
        out(f"dk = {d}[k]")
        with out.block(f"for j in range({_n(n_in)}):"):
            out(f"g = {a}[j] * dk")
            if l2:
                out(f"g += l2 * {t}[col + j]")
            out(_step(variant, "col + j", "g", f"{t}, tf{layer}, ts{layer}"))
    if notebook:
        propagate()  # the notebook's order: through W as just updated


def _forward_block(out: _Writer, activation: str, notebook: bool) -> None:
    """kernels._forward_block with the sizes written in: X[start : start + m] through every layer into acts."""
    shape = out.shape
    last = len(shape) - 1
    units = [sum(shape[:layer]) for layer in range(len(shape) + 1)]
    for j in range(shape[0]):
        with out.block("for r in range(m):"):
            out(f"acts[{j}, r] = X[start + r, {j}]")
    for layer in range(last):
        n_in, n_out, w0, b0 = shape[layer], shape[layer + 1], out.w(layer), out.b(layer)
        out(f"combine_rows(acts, {units[layer + 1]}, acts, {units[layer]}, theta, {w0}, {n_out}, {n_in}, 1, {n_out}, "
            "m)")
        with out.block(f"for k in range({_n(n_out)}):"):
            out(f"o = acts[{units[layer + 1]} + k]")
            out(f"bias = theta[{b0} + k]")
            with out.block("for r in range(m):"):
                if layer < last - 1:
                    out(f"o[r] = {_hidden(activation, 'o[r] + bias')}")
                else:
                    out(f"o[r] = {'_notebook_sigmoid' if notebook else '_sigmoid'}(o[r] + bias)")


def _batches(out: _Writer, activation: str, order: str, variant: str, l2: bool) -> None:
    """kernels._train_batches with the sizes written in."""
    shape, notebook = out.shape, order == "notebook"
    last = len(shape) - 1
    units = [sum(shape[:layer]) for layer in range(len(shape) + 1)]
    widest = max(shape)
    size = out.layout.size
    out("@njit(cache=True, nogil=True, error_model='numpy')")
    name = variant_name("batches", activation, order, variant, l2)
    with out.block(f"def {name}(theta_out, first_out, second_out, X, y, batch_size, learning_rate, optimizer, "
                   f"momentum, rho, epsilon, beta1, beta2, t0, l2{out.wide_args}):"):
        _copy_in(out, size)
        out("n = X.shape[0]")
        out("batch = max(min(batch_size, n), 1)")  # (n = 0: no step, as the generic kernel)
        out(f"acts = np.empty(({units[-1]}, batch))")
        out(f"delta = np.empty(({widest}, batch))")
        out(f"delta_below = np.empty(({widest}, batch))")
        out(f"delta_t = np.empty((batch, {widest}))")
        sums = max((shape[layer] + 1) * shape[layer + 1] for layer in range(last))
        out.array("sums", sums)
        out("t = t0")
        with out.block("for start in range(0, n, batch):"):
            out("m = min(batch, n - start)")
            out("t += 1")
            out(_corrections(variant, "t"))
            _forward_block(out, activation, notebook)
            if notebook:
                out("divisor = float(m)")
                with out.block("for r in range(m):"):
                    out(f"delta[0, r] = _notebook_output_delta(acts[{units[last]}, r], y[start + r])")
            else:
                out("divisor = 1.0")
                with out.block("for r in range(m):"):
                    out(f"delta[0, r] = _output_delta(acts[{units[last]}, r], y[start + r]) / m")
            for layer in range(last - 1, -1, -1):
                _batches_layer(out, layer, units, activation, notebook, variant, l2)
                out("delta, delta_below = delta_below, delta")
        _copy_back(out, size)
    out()


def _batches_layer(out: _Writer, layer: int, units: list[int], activation: str, notebook: bool, variant: str,
                   l2: bool) -> None:
    # One layer of kernels._train_batches' backward pass and its steps.
    n_in, n_out, w0, b0 = out.shape[layer], out.shape[layer + 1], out.w(layer), out.b(layer)
    a_in = units[layer]
    if layer > 0 and not notebook:
        _propagate_block(out, layer, units, activation)
    # The gradients' sums over the batch, each in the samples' order as kernels.py adds them, in vector registers
    # (outer_sums). The deltas are read sample-major from their transpose.
    with out.block(f"for k in range({_n(n_out)}):"):
        out("d = delta[k]")
        with out.block("for r in range(m):"):
            out("delta_t[r, k] = d[r]")
    out(f"outer_sums(sums, acts, {a_in}, delta_t, m, {n_in}, {n_out})")
    with out.block(f"for j in range({_n(n_in)}):"):
        out(f"row = {w0} + j * {n_out}")
        with out.block(f"for k in range({_n(n_out)}):"):
            out(f"g = sums[j * {n_out} + k] / divisor")
            if l2:
                out("g += l2 * theta[row + k]")
            out(_step(variant, "row + k", "g"))
    with out.block(f"for k in range({_n(n_out)}):"):
        out(_step(variant, f"{b0} + k", f"sums[{n_in * n_out} + k] / divisor"))
    if layer > 0 and notebook:
        _propagate_block(out, layer, units, activation)


def _propagate_block(out: _Writer, layer: int, units: list[int], activation: str) -> None:
    # kernels._propagate_block: delta_below[j, r] = Σ_k W[j, k]·delta[k, r] · f'(a[j, r]).
    n_in, n_out, w0 = out.shape[layer], out.shape[layer + 1], out.w(layer)
    out(f"combine_rows(delta_below, 0, delta, 0, theta, {w0}, {n_in}, {n_out}, {n_out}, 1, m)")
    with out.block(f"for j in range({_n(n_in)}):"):
        out("below = delta_below[j]")
        out(f"a = acts[{units[layer]} + j]")
        with out.block("for r in range(m):"):
            out(f"below[r] *= {_derivative(activation, 'a[r]')}")


def _evaluate(out: _Writer, activation: str) -> None:
    """kernels.evaluate_kernel with the sizes written in."""
    shape = out.shape
    units = [sum(shape[:layer]) for layer in range(len(shape) + 1)]
    out("@njit(cache=True, nogil=True, error_model='numpy')")
    with out.block(f"def evaluate_{activation}(theta, X, y{out.wide_args}):"):
        out("n = X.shape[0]")
        with out.block("if n == 0:"):
            out("return math.nan, math.nan")
        out(f"chunk = min({EVAL_CHUNK}, n)")
        out(f"acts = np.empty(({units[-1]}, chunk))")
        out("terms = np.empty(chunk)")
        out("total = 0.0")
        out("correct = 0")
        with out.block("for start in range(0, n, chunk):"):
            out("m = min(chunk, n - start)")
            _forward_block(out, activation, False)
            out(f"correct += cost_terms(acts[{units[-2]}], y, start, m, terms)")
            with out.block("for r in range(m):"):
                out("total += terms[r]")
        out("return -(total / n), correct / n")
    out()


def kernel_names() -> list[str]:
    """The names of the specialised kernels every shape has (variant_name's and the evaluations')."""
    names = []
    for activation in ACTIVATIONS:
        for order in ORDERS:
            for variant in OPTIMIZERS:
                if order == "notebook" and variant != "sgd":
                    continue  # the notebook's order is sgd's only
                for l2 in (False, True):
                    names += [variant_name(path, activation, order, variant, l2) for path in ("per_sample", "batches")]
    return names + [f"evaluate_{activation}" for activation in ACTIVATIONS]


def source(shape: tuple[int, ...], name: str) -> str:
    """The module of the specialised kernel ``name`` (one of kernel_names()) of ``shape``: a module a kernel, so
    that loading one compiles only its few hundred lines (all of a shape's in one module took ~70 ms, in one call
    holding the interpreter lock, when Python writes no bytecode cache)."""
    if name not in kernel_names():
        raise ValueError(f"{name!r}: not a specialised kernel (see kernel_names())")
    out = _Writer(tuple(int(n) for n in shape))
    network = "-".join(map(str, shape))
    out(f'"""nnviz\'s kernel {name} for the network {network}, generated by nnviz.core.specialised."""')
    out("import math")
    out()
    out("import numpy as np")
    out("from numba import carray, njit")
    out()
    out("from nnviz.core.kernels import ADAM, HEAVY_BALL, NESTEROV, OTHERS, RMSPROP, SGD, _bias_corrections, "
        "_notebook_output_delta, _notebook_sigmoid, _output_delta, _sigmoid, _step, _tanh, all_finite, cost_terms")
    out("from nnviz.core.intrinsics import combine_rows, outer_sums, rows_combination, stack_pointer")
    out()
    out()
    for activation in ACTIVATIONS:
        if name == f"evaluate_{activation}":
            _evaluate(out, activation)
        for order in ORDERS:
            for variant in OPTIMIZERS:
                for l2 in (False, True):
                    if name == variant_name("per_sample", activation, order, variant, l2):
                        _per_sample(out, activation, order, variant, l2)
                    elif name == variant_name("batches", activation, order, variant, l2):
                        _batches(out, activation, order, variant, l2)
    return "\n".join(out.lines).rstrip() + "\n"


# ---- writing, compiling and loading in the background -------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _digest() -> str:
    # The generated code depends on this file and on the kernels it calls: a change to any gives a new directory,
    # so numba's cache (which does not notice changes in imported functions) is never stale.
    core = Path(__file__).resolve().parent
    h = hashlib.sha1()
    for name in ("specialised.py", "intrinsics.py", "kernels.py", "vecmath.py", "network.py"):
        h.update((core / name).read_bytes())
    return h.hexdigest()[:12]


def kernel_dir() -> Path:
    """Where the generated modules go: $NNVIZ_KERNEL_DIR, else the user's cache directory."""
    base = os.environ.get(ENV_DIR)
    if base:
        root = Path(base)
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(cache) / "nnviz" / "kernels"
    return root / _digest()


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1") != "0"


def stack_bytes(shape: tuple[int, ...]) -> int:
    """The most stack the kernels of ``shape`` use for their arrays: θ, v and s, then the per-sample kernels' layer
    outputs, deltas and transposed copies (_mirrored), or the mini-batch kernels' sums (_batches)."""
    shape = tuple(int(n) for n in shape)
    copies = 3 * Layout(shape).size
    per_sample = 2 * sum(shape) + sum(3 * shape[layer] * shape[layer + 1] for layer in _mirrored(shape))
    batches = max((shape[layer] + 1) * shape[layer + 1] for layer in range(len(shape) - 1))
    return 8 * (copies + max(per_sample, batches))


def specialisable(shape: tuple[int, ...]) -> bool:
    """Whether kernels are specialised for networks of this shape (one output; see MAX_PARAMETERS)."""
    return len(shape) >= 2 and shape[-1] == 1 and Layout(tuple(shape)).size <= MAX_PARAMETERS


def _write(path: Path, text: str) -> None:
    # Atomically, and never rewritten once there: numba's cache is keyed on the file's time stamp and size.
    if path.exists() and path.read_text() == text:
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would be wrong: the mode the user's umask implies
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_stale(directory: Path) -> None:
    # Other digests' directories (earlier versions of nnviz) not touched in STALE_DAYS: their kernels are dead.
    cutoff = time.time() - STALE_DAYS * 86400
    for other in directory.parent.iterdir():
        try:
            if other != directory and other.is_dir() and other.stat().st_mtime < cutoff:
                shutil.rmtree(other, ignore_errors=True)
        except OSError:
            continue


def load_module(shape: tuple[int, ...], name: str):
    """The generated module of kernel ``name`` of ``shape``, written first when missing (compiled on demand)."""
    shape = tuple(int(n) for n in shape)
    directory = kernel_dir()
    tag = f"{'_'.join(map(str, shape))}_{name}"
    path = directory / f"shape_{tag}.py"
    _write(path, source(shape, name))
    where = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]  # another directory, another module
    name = f"nnviz_specialised_{where}_{tag}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # numba's cache finds the module of the functions it loads by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def key(shape: tuple[int, ...], name: str, args) -> tuple:
    """The name of the kernel ``name`` of ``shape`` compiled for arguments like ``args`` (their numba types)."""
    return tuple(int(n) for n in shape), name, tuple(typeof(a) for a in args)


class Specialiser:
    """Compiles specialised kernels in one background thread; ``ready`` hands out those done.

    A kernel is named by (shape, function name, argument types); ``request`` queues it once, ``ready`` returns
    its compiled entry point (a callable taking the arguments, without numba's dispatch) or None. ``generation``
    counts the kernels done, so a caller can look again only when it changed. ``children``: child processes that
    compile a batch side by side (1, so that the window keeps a core; the tests use every core).
    """

    def __init__(self):
        self.children = 1
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._done: dict[tuple, object] = {}  # key -> entry point
        self._queued: set[tuple] = set()
        self.failures: dict[tuple, str] = {}  # key -> why it could not be compiled (the generic kernel stays)
        self.generation = 0

    def ready(self, key: tuple):
        """The compiled kernel of ``key`` = (shape, name, argument types), or None while it is not ready."""
        return self._done.get(key)

    def request(self, key: tuple) -> None:
        """Queue ``key`` for compilation (once; nothing happens when specialisation is off)."""
        if not enabled():
            return
        with self._lock:  # queued under the lock: a wait() for the same key queues its marker after it
            if key in self._queued:
                return
            self._queued.add(key)
            self._queue.put(key)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="nnviz-specialise", daemon=True)
                self._thread.start()

    def wait(self, key: tuple, timeout: float | None = None) -> object | None:
        """Request ``key`` and block until it is compiled (benchmarks and tests): its entry point, or None."""
        if not enabled():
            return None
        self.request(key)
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)
        return self.ready(key)

    def _serve(self) -> None:
        while True:
            batch, markers = [], []
            item = self._queue.get()
            while True:  # everything queued meanwhile goes to one child process
                (markers if isinstance(item, threading.Event) else batch).append(item)
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            try:
                self._compile(batch)
            except Exception as exc:  # the thread stays up for later kernels; these keep the generic ones
                for key in batch:
                    self.failures.setdefault(key, f"{type(exc).__name__}: {exc}")
            finally:  # whatever happened, no waiter is left waiting
                for marker in markers:
                    marker.set()

    def _compile(self, batch) -> None:
        missing = [key for key in batch if not _cached(*key)]
        parts = [part for part in (missing[i::max(1, self.children)] for i in range(max(1, self.children))) if part]
        # each fills numba's cache, or fails and leaves the work to _load (never raises)
        children = [threading.Thread(target=compile_elsewhere, args=(part,)) for part in parts[1:]]
        for child in children:
            child.start()
        if parts:
            compile_elsewhere(parts[0])
        for child in children:
            child.join()
        for key in batch:
            try:
                entry = _load(*key)
            except Exception as exc:  # any failure keeps the generic kernel; the reason is kept for diagnosis
                self.failures[key] = f"{type(exc).__name__}: {exc}"
                continue
            self._done[key] = entry
            self.generation += 1


def _cached(shape, name, argument_types) -> bool:
    # Whether numba's cache holds the kernel (then no child process is started: it would take seconds to find it);
    # when it does, the machine code is loaded into the dispatcher as Dispatcher.compile loads it, so that _load
    # finds it there instead of reading and linking it a second time. numba has no public way to ask; when these
    # internals fail, the answer is no and the child compiles (or finds) the kernel anyway.
    try:
        dispatcher = getattr(load_module(shape, name), name)
        with global_compiler_lock:
            if dispatcher.overloads.get(tuple(argument_types)) is not None:
                return True
            compiled = dispatcher._cache.load_overload(argument_types, dispatcher.targetctx)
            if compiled is None:
                return False
            dispatcher.targetctx.insert_user_function(compiled.entry_point, compiled.fndesc, [compiled.library])
            dispatcher.add_overload(compiled)
            return True
    except Exception:
        return False


def _load(shape, name, argument_types):
    # Loads numba's cached machine code when there is some (else compiles here); the entry point skips the
    # dispatcher's typing of every argument.
    return getattr(load_module(shape, name), name).compile(argument_types)


# ---- compiling in a child process ---------------------------------------------------------------------------------
# numba's compiler is Python: compiling in a thread of the window's process takes the interpreter from the window
# (frames fell from ~54 to ~43 a second while it compiled). A child process compiles into numba's cache instead,
# on the other core; the thread then only loads the machine code (milliseconds).

_CHILD = """
import json, sys
from nnviz.core import specialised
for shape, name, described in json.loads(sys.argv[1]):
    module = specialised.load_module(tuple(shape), name)
    getattr(module, name).compile(tuple(specialised.numba_type(d) for d in described))
"""
CHILD_TIMEOUT_S = 600


def describe(t) -> str:
    """The text of an argument type of the specialised kernels (float64, int64, float64 arrays)."""
    if isinstance(t, types.Array):
        if t.dtype != types.float64 or t.layout != "C":
            raise ValueError(f"{t}: the specialised kernels take C-contiguous float64 arrays only")
        return f"array{t.ndim}{'w' if t.mutable else 'r'}"
    if t in (types.float64, types.int64):
        return str(t)
    raise ValueError(f"{t}: not an argument type of the specialised kernels")


def numba_type(text: str):
    """The numba type ``describe`` wrote."""
    if text.startswith("array"):
        return types.Array(types.float64, int(text[5]), "C", readonly=text[6] == "r")
    return {"float64": types.float64, "int64": types.int64}[text]


def compile_elsewhere(keys) -> bool:
    """Compile these kernels into numba's cache in a child process; False when that failed (or is not possible)."""
    try:
        payload = json.dumps([[list(shape), name, [describe(t) for t in argument_types]]
                              for shape, name, argument_types in keys])
    except (ValueError, AttributeError, TypeError):
        return False
    try:
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root,
                                                                          os.environ.get("PYTHONPATH")]))}
        done = subprocess.run([sys.executable, "-c", _CHILD, payload], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=CHILD_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


SPECIALISER = Specialiser()
