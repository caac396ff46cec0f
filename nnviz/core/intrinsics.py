"""LLVM code written by hand for the specialised kernels (specialised.py): stack arrays and sums in vector registers.

numba passes no ``restrict`` and leaves LLVM's SLP vectoriser off; its loop vectoriser works on innermost loops
only, and cannot vectorise a sum over the inner loop kept in order. The sums of a layer, each in the order
kernels.py adds them (so the numbers are the same bit for bit), are therefore written here as explicit vector
instructions: VECTOR doubles a register, GROUP registers of sums kept at a time over the terms. Sizes and
offsets are literals (the generated code writes them in); a sum over more than UNROLL terms is a loop in the
code, a shorter one is written out.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

VECTOR = 8  # doubles per vector register (AVX-512; LLVM splits them where narrower)
GROUP = 8  # vector accumulators kept in registers at a time
UNROLL = 16  # sums over more terms than this are a loop (written out, 64 terms made 20-60 s compilations)

_DOUBLE, _I32, _I64 = ir.DoubleType(), ir.IntType(32), ir.IntType(64)


def _literals(*values, arrays=()):
    # The literal values of numba types, or None when one is not a literal or an array is not C-contiguous
    # float64 (the code reads rows with unit stride).
    if not all(isinstance(t, types.IntegerLiteral) for t in values):
        return None
    if not all(isinstance(a, types.Array) and a.layout == "C" and a.dtype == types.float64 for a in arrays):
        return None
    return [t.literal_value for t in values]


def _const(i: int):
    return ir.Constant(_I64, i)


def _splat(builder, x, lanes: int):
    # x in every lane of a vector
    vector = ir.VectorType(_DOUBLE, lanes)
    x = builder.insert_element(ir.Constant(vector, ir.Undefined), x, ir.Constant(_I32, 0))
    return builder.shuffle_vector(x, ir.Constant(vector, ir.Undefined), ir.Constant(ir.VectorType(_I32, lanes),
                                                                                    [0] * lanes))


def _load_vector(builder, pointer, lanes: int):
    vector = ir.VectorType(_DOUBLE, lanes)
    return builder.load(builder.bitcast(pointer, vector.as_pointer()), align=8, typ=vector)


def _store_vector(builder, value, pointer) -> None:
    builder.store(value, builder.bitcast(pointer, value.type.as_pointer()), align=8)


def _accumulators(builder, widths: list[int]) -> list:
    # Stack slots for vector sums (LLVM keeps them in registers: nothing else sees their address).
    return [cgutils.alloca_once(builder, ir.VectorType(_DOUBLE, lanes)) for lanes in widths]


def _add_to(builder, total, term) -> None:
    builder.store(builder.fadd(builder.load(total, typ=term.type), term), total)


def _terms(builder, n: int, body) -> None:
    """body(i) for the terms i = 1 ... n − 1 in order (i an i64 value): written out up to UNROLL terms, else a
    loop."""
    if n <= UNROLL:
        for i in range(1, n):
            body(_const(i))
        return
    with cgutils.for_range(builder, _const(n), start=_const(1)) as loop:
        body(loop.index)


def _at(builder, base: int, i, step: int):
    # base + i·step as an i64 value (folded to a constant when i is one)
    return builder.add(_const(base), builder.mul(i, _const(step)))


@intrinsic
def stack_pointer(typingctx, n):
    """A pointer to ``n`` float64 on the stack (n a literal): with carray, an array LLVM knows aliases nothing."""
    if not isinstance(n, types.IntegerLiteral):
        return None
    size = n.literal_value

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once(builder, _DOUBLE, size=size)
    return types.CPointer(types.float64)(n), codegen


@intrinsic
def rows_combination(typingctx, out, out_at, coef, coef_at, matrix, matrix_at, n_rows, n_cols):
    """out[out_at + c] = Σ_r coef[coef_at + r] · matrix[matrix_at + r·n_cols + c] for every c < n_cols (offsets and
    sizes literals), each column's sum in r's order: the first product, then each next one added, as a scalar
    loop adds them, so the numbers are the same bit for bit. One sample's forward pass through a layer (row-major
    weights) or its propagation (their transpose), the columns side by side in vector registers, where LLVM leaves
    the loop nest with an inner sum scalar."""
    known = _literals(out_at, coef_at, matrix_at, n_rows, n_cols, arrays=(out, coef, matrix))
    if known is None:
        return None
    o_at, c_at, m_at, rows, cols = known
    blocks = [(c0, min(VECTOR, cols - c0)) for c0 in range(0, cols, VECTOR)]
    groups = [blocks[i:i + GROUP] for i in range(0, len(blocks), GROUP)]

    def codegen(context, builder, signature, args):
        o, cf, m = (context.make_array(signature.args[i])(context, builder, args[i]).data for i in (0, 2, 4))

        def products(r, group, totals, first):
            # coef[r] in every lane times row r's columns, into each block's sum
            x = builder.load(builder.gep(cf, [_at(builder, c_at, r, 1)], inbounds=True), typ=_DOUBLE)
            for total, (c0, lanes) in zip(totals, group, strict=True):
                w = _load_vector(builder, builder.gep(m, [_at(builder, m_at + c0, r, cols)], inbounds=True), lanes)
                term = builder.fmul(_splat(builder, x, lanes), w)
                if first:
                    builder.store(term, total)
                else:
                    _add_to(builder, total, term)

        for group in groups:
            totals = _accumulators(builder, [lanes for _, lanes in group])
            products(_const(0), group, totals, True)
            _terms(builder, rows, lambda r, group=group, totals=totals: products(r, group, totals, False))
            for total, (c0, lanes) in zip(totals, group, strict=True):
                value = builder.load(total, typ=ir.VectorType(_DOUBLE, lanes))
                _store_vector(builder, value, builder.gep(o, [_const(o_at + c0)], inbounds=True))
        return context.get_dummy_value()
    return types.none(out, out_at, coef, coef_at, matrix, matrix_at, n_rows, n_cols), codegen


@intrinsic
def outer_sums(typingctx, sums, acts, a_row, delta_t, m, n_in, n_out):
    """The gradients' sums of a layer over a mini-batch's m samples: sums[j·n_out + k] = Σ_r acts[a_row + j, r] ·
    delta_t[r, k] and the biases' sums[n_in·n_out + k] = Σ_r delta_t[r, k] (a_row, n_in, n_out literals), each in
    r's order from 0.0, as kernels.py adds them, so bit for bit the same. GROUP vector accumulators at a time stay
    in registers over the samples: summed in memory sample by sample, the stores were the bottleneck (half of a
    2-16-16-1 mini-batch step)."""
    known = _literals(a_row, n_in, n_out, arrays=(sums, acts, delta_t))
    if known is None:
        return None
    row0, rows, cols = known
    blocks = [(c0, min(VECTOR, cols - c0)) for c0 in range(0, cols, VECTOR)]
    # GROUP accumulators at a time: a chunk of whole rows when a row is short, else a row's blocks GROUP at a time
    per_chunk = max(1, GROUP // len(blocks))
    column_groups = [blocks[i:i + GROUP] for i in range(0, len(blocks), GROUP)]
    chunks = rows // per_chunk

    def codegen(context, builder, signature, args):
        s_ty, a_ty, _, d_ty, _ = signature.args[:5]
        s = context.make_array(s_ty)(context, builder, args[0]).data
        a = context.make_array(a_ty)(context, builder, args[1])
        d = context.make_array(d_ty)(context, builder, args[3])

        def rows_from(j0, count: int, biases: bool = False) -> None:
            # rows j0 ... j0 + count (j0 an i64 value), then with ``biases`` the biases' sums (row t = count,
            # stored after the last row's, no factor)
            for group in column_groups:
                cells = [(t, c0, lanes) for t in range(count + biases) for c0, lanes in group]
                totals = _accumulators(builder, [lanes for _, _, lanes in cells])
                for total, (_, _, lanes) in zip(totals, cells, strict=True):
                    builder.store(ir.Constant(ir.VectorType(_DOUBLE, lanes), [0.0] * lanes), total)
                with cgutils.for_range(builder, args[4]) as loop:
                    r = loop.index
                    for total, (t, c0, lanes) in zip(totals, cells, strict=True):
                        term = _load_vector(builder, cgutils.get_item_pointer(context, builder, d_ty, d,
                                                                              [r, _const(c0)]), lanes)
                        if t < count:
                            ap = cgutils.get_item_pointer(context, builder, a_ty, a, [_at(builder, row0 + t, j0, 1),
                                                                                      r])
                            term = builder.fmul(_splat(builder, builder.load(ap, typ=_DOUBLE), lanes), term)
                        _add_to(builder, total, term)
                for total, (t, c0, lanes) in zip(totals, cells, strict=True):
                    value = builder.load(total, typ=ir.VectorType(_DOUBLE, lanes))
                    at = _const(rows * cols + c0) if t == count else _at(builder, t * cols + c0, j0, cols)
                    _store_vector(builder, value, builder.gep(s, [at], inbounds=True))

        if chunks <= UNROLL:
            for chunk in range(chunks):
                rows_from(_const(chunk * per_chunk), per_chunk)
        else:
            with cgutils.for_range(builder, _const(chunks)) as loop:
                rows_from(builder.mul(loop.index, _const(per_chunk)), per_chunk)
        rows_from(_const(chunks * per_chunk), rows % per_chunk, biases=True)  # the last rows and the biases together
        return context.get_dummy_value()
    return types.none(sums, acts, a_row, delta_t, m, n_in, n_out), codegen


@intrinsic
def combine_rows(typingctx, dst, dst_row, src, src_row, coef, coef_at, n_dst, n_src, dst_step, src_step, m):
    """dst[dst_row + o, r] = Σ_i coef[coef_at + o·dst_step + i·src_step] · src[src_row + i, r] for o < n_dst and
    r < m (rows of unit-major 2-D arrays; all but m literals), each sum in i's order (the first product, then each
    next one added), as kernels.py adds them, so bit for bit the same. A layer's forward pass over a block of
    samples (coefficients W[i, o]) or its propagation (W[o, i]): for each vector of VECTOR samples, GROUP outputs'
    sums stay in registers while the inputs' rows are read once each, where a loop per (output, input) pair loaded
    and stored the sums for every input (the stores were the bottleneck)."""
    known = _literals(dst_row, src_row, coef_at, n_dst, n_src, dst_step, src_step, arrays=(dst, src, coef))
    if known is None:
        return None
    d_row, s_row, c_at, outs, ins, o_step, i_step = known
    groups = [range(o, min(o + GROUP, outs)) for o in range(0, outs, GROUP)]

    def codegen(context, builder, signature, args):
        d_ty, s_ty, c_ty = signature.args[0], signature.args[2], signature.args[4]
        d = context.make_array(d_ty)(context, builder, args[0])
        s = context.make_array(s_ty)(context, builder, args[2])
        c = context.make_array(c_ty)(context, builder, args[4]).data
        count = args[10]

        def products(i, r, lanes, group, totals, first):
            # input row i's samples r ... r + lanes times each output's coefficient, into its sum
            x = _load_vector(builder, cgutils.get_item_pointer(context, builder, s_ty, s,
                                                               [_at(builder, s_row, i, 1), r]), lanes)
            for o, total in zip(group, totals, strict=True):
                w = builder.load(builder.gep(c, [_at(builder, c_at + o * o_step, i, i_step)], inbounds=True),
                                 typ=_DOUBLE)
                term = builder.fmul(_splat(builder, w, lanes), x)
                if first:
                    builder.store(term, total)
                else:
                    _add_to(builder, total, term)

        def block(r, lanes):
            # samples r ... r + lanes of every output
            for group in groups:
                totals = _accumulators(builder, [lanes] * len(group))
                products(_const(0), r, lanes, group, totals, True)
                _terms(builder, ins, lambda i, group=group, totals=totals: products(i, r, lanes, group, totals,
                                                                                    False))
                for o, total in zip(group, totals, strict=True):
                    value = builder.load(total, typ=ir.VectorType(_DOUBLE, lanes))
                    _store_vector(builder, value, cgutils.get_item_pointer(context, builder, d_ty, d,
                                                                           [_const(d_row + o), r]))

        full = builder.udiv(count, _const(VECTOR))
        with cgutils.for_range(builder, full) as loop:
            block(builder.mul(loop.index, _const(VECTOR)), VECTOR)
        with cgutils.for_range(builder, count, start=builder.mul(full, _const(VECTOR))) as loop:
            block(loop.index, 1)
        return context.get_dummy_value()
    return types.none(dst, dst_row, src, src_row, coef, coef_at, n_dst, n_src, dst_step, src_step, m), codegen
