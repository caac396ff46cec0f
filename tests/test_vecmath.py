"""vecmath's exp and log: within 2 ulp of libm's over their domains (the kernels' sigmoid and cost use them)."""

import math

import numpy as np
from numba import njit

from nnviz.core.vecmath import EXP_LOW, TANH_SMALL, exp_nonpositive, log_positive, tanh


@njit(error_model="numpy")
def _exps(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_nonpositive(x[i])


@njit(error_model="numpy")
def _logs(x, out):
    for i in range(x.shape[0]):
        out[i] = log_positive(x[i])


@njit(error_model="numpy")
def _tanhs(x, out):
    for i in range(x.shape[0]):
        out[i] = tanh(x[i])


def ulps(got, want):
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_exp_is_within_an_ulp_of_libm():
    rng = np.random.RandomState(0)
    x = -np.concatenate([rng.exponential(3.0, 200_000), rng.uniform(0, -EXP_LOW, 50_000),
                         rng.uniform(0, 1e-6, 10_000), [0.0, 1e-300, 0.5 * math.log(2), -EXP_LOW]])
    got = np.empty_like(x)
    _exps(x, got)
    want = np.array([math.exp(v) for v in x])
    assert ulps(got, want).max() <= 1.0
    assert got[-4] == 1.0  # e^0 exactly
    below = np.array([EXP_LOW - 1e-9, -745.0, -1e308, -math.inf])
    out = np.empty_like(below)
    _exps(below, out)
    assert np.all(out == 0.0)


def test_log_is_within_two_ulp_of_libm():
    rng = np.random.RandomState(1)
    x = np.concatenate([rng.uniform(1e-8, 1 + 1e-8, 200_000), np.exp(rng.uniform(-700, 700, 50_000)),
                        [1e-8, 0.5, 2.0, 1 - 2**-53, 1 + 2**-52, math.sqrt(0.5), math.sqrt(2.0)]])
    got = np.empty_like(x)
    _logs(x, got)
    want = np.array([math.log(v) for v in x])
    assert ulps(got, want).max() <= 2.0
    one = np.array([1.0])
    _logs(one, one)
    assert one[0] == 0.0


def test_log_of_nan_is_nan():
    x = np.array([math.nan, 0.5])
    _logs(x, x)
    assert math.isnan(x[0]) and x[1] == math.log(0.5)


def test_tanh_is_within_two_ulp_of_numpy_on_both_sides_of_its_switch():
    rng = np.random.RandomState(2)
    x = np.concatenate([rng.normal(0, 1, 200_000), rng.normal(0, 8, 50_000), rng.uniform(-1e-6, 1e-6, 10_000),
                        TANH_SMALL + rng.uniform(-1e-3, 1e-3, 20_000), [TANH_SMALL, -TANH_SMALL, 1e-300, 5e-324]])
    got = np.empty_like(x)
    _tanhs(x, got)
    want = np.tanh(x)
    assert ulps(got, want).max() <= 2.0
    assert np.array_equal(np.sign(got), np.sign(x))


def test_tanh_keeps_zeros_signs_saturates_and_passes_nan():
    x = np.array([0.0, -0.0, 20.0, -20.0, 1e300, -math.inf, math.inf, math.nan])
    got = np.empty_like(x)
    _tanhs(x, got)
    assert got[0] == 0.0 and not np.signbit(got[0]) and got[1] == 0.0 and np.signbit(got[1])
    assert list(got[2:7]) == [1.0, -1.0, 1.0, -1.0, 1.0] and math.isnan(got[7])
