"""exp, log and tanh written out so that LLVM vectorises the loops that call them.

numba lowers math.exp and math.log to calls into libm, one value at a time: in a loop over a block's cells
(lockstep.py) those calls cost as much as all the rest of the arithmetic. These are the textbook reductions
(fdlibm's): exp(x) = 2^k·exp(r) with |r| ≤ ln2/2 and log(x) = e·ln2 + log(m) with m in [√½, √2), each
finished by a short polynomial, with the power of two made or read by reinterpreting the bits of a float (an
LLVM bitcast, see the intrinsics below). Within 2 ulp of libm on their domains (tests/test_vecmath.py
checks); the kernels use them for the sigmoid and tanh (training, so every compiled engine computes the same
numbers) and for the cost's logarithm.

numba's cache of a module is keyed on that module's file alone, and these functions are inlined into kernels.py's
and lockstep.py's kernels: after changing this file, touch those two (or remove their ``__pycache__/*.nbi``), or
their cached machine code keeps the old arithmetic (the specialised kernels' directory is keyed by a digest that
includes this file, so they would no longer match the generic ones bit for bit).
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·LN2_HI is exact for |k| < 2¹¹ (fdlibm)
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
EXP_LOW = -708.3964185322641  # below this exp(x) is under the smallest normal float: 0 here
SQRT_HALF = 0.7071067811865476
# 1/n! for n = 2..13: exp(r) = 1 + r + r²/2! + … + r¹³/13! is within 2⁻⁵⁶ of exp(r) for |r| ≤ ln2/2.
_C2, _C3, _C4, _C5 = 1 / 2, 1 / 6, 1 / 24, 1 / 120
_C6, _C7, _C8, _C9 = 1 / 720, 1 / 5040, 1 / 40320, 1 / 362880
_C10, _C11, _C12, _C13 = 1 / 3628800, 1 / 39916800, 1 / 479001600, 1 / 6227020800


@intrinsic
def _bits_to_float(typingctx, bits):
    """The float64 whose bits are the int64 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def _float_to_bits(typingctx, value):
    """The int64 holding the bits of the float64 ``value``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def exp_nonpositive(x):
    """e^x for x ≤ 0 (0.0 below EXP_LOW, where libm's result is subnormal or 0)."""
    if x < EXP_LOW:
        return 0.0
    k = math.floor(x * INV_LN2 + 0.5)
    r = (x - k * LN2_HI) - k * LN2_LO
    # The polynomial by Estrin's scheme, in pairs, then powers of r² (r⁴, r⁸): 8 operations deep where Horner's
    # rule is 24, and the training's sigmoid waits for this on every sample (per-sample steps 20 % faster).
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    b0 = (_C2 + _C3 * r) + (_C4 + _C5 * r) * r2
    b1 = (_C6 + _C7 * r) + (_C8 + _C9 * r) * r2
    b2 = (_C10 + _C11 * r) + (_C12 + _C13 * r) * r2
    p = (b0 + b1 * r4) + b2 * r8
    p = 1.0 + (r + r2 * p)
    return p * _bits_to_float((int(k) + 1023) << 52)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def log_positive(x):
    """ln x for a positive, finite, normal x; NaN for NaN."""
    bits = _float_to_bits(x)
    m = _bits_to_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # x / 2^e, in [1, 2)
    high = m > 2.0 * SQRT_HALF  # then m/2 in [√½, 1) and e + 1
    m = m * 0.5 if high else m
    f = float((bits >> 52) - 1023) + (1.0 if high else 0.0)
    s = (m - 1.0) / (m + 1.0)  # ln m = 2·atanh(s), |s| ≤ 0.172
    z = s * s
    q = 1.0 / 23.0
    q = q * z + 1.0 / 21.0
    q = q * z + 1.0 / 19.0
    q = q * z + 1.0 / 17.0
    q = q * z + 1.0 / 15.0
    q = q * z + 1.0 / 13.0
    q = q * z + 1.0 / 11.0
    q = q * z + 1.0 / 9.0
    q = q * z + 1.0 / 7.0
    q = q * z + 1.0 / 5.0
    q = q * z + 1.0 / 3.0
    result = f * LN2_HI + (2.0 * s + (2.0 * s * z * q + f * LN2_LO))
    return result if x > 0.0 else x  # NaN stays NaN (a diverged cell's cost must not come out finite)


# tanh for |x| ≤ TANH_SMALL: x + x³·P(x²)/Q(x²), Cephes' rational approximation (relative error 2.5e-16 there).
TANH_SMALL = 0.625
_TP0, _TP1, _TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_TQ0, _TQ1, _TQ2 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def tanh(x):
    """tanh x, branch-free so that a loop calling it vectorises: both formulas are computed and one is selected
    (a rational function for small |x|; (1 − e)/(1 + e) with e = exp(−2|x|) ≤ 0.29 otherwise). NaN stays NaN."""
    s = x * x
    small = x + x * s * (((_TP0 * s + _TP1) * s + _TP2) / (((s + _TQ0) * s + _TQ1) * s + _TQ2))
    e = exp_nonpositive(-2.0 * abs(x))
    large = (1.0 - e) / (1.0 + e)
    return math.copysign(large if abs(x) > TANH_SMALL else small, x)  # (small's sign is x's but at −0.0)
