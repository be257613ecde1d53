"""glibc's log from the long-double log (ember/_rng/libm.py): equal to glibc's own (through
Python's `math`) bit for bit, on torch's arguments (1 - u for 53-bit uniforms u), on values
spread over the whole exponent range, and on values whose log lies near a midpoint."""

import math

import numpy as np
import pytest

from ember._rng import libm

RNG = np.random.default_rng(2026)


def _glibc(values, name="log"):
    return np.array([getattr(math, name)(v) for v in values.tolist()], dtype=np.float64)


@pytest.mark.parametrize("family", ["one_minus_u", "u", "exponents", "near_one"])
def test_log_equals_glibc(family):
    k = RNG.integers(1, 2 ** 53, 200_000, dtype=np.uint64).astype(np.float64) * 2.0 ** -53
    x = {"one_minus_u": 1.0 - k, "u": k,
         "exponents": np.exp(RNG.uniform(-700, 700, 200_000)),
         "near_one": 1.0 + RNG.uniform(-0.07, 0.07, 200_000)}[family]
    assert np.array_equal(libm.glibc_log(x).view(np.int64), _glibc(x).view(np.int64))


def test_log_keeps_shape_and_handles_exact_cases():
    x = np.array([[1.0, 2.0, 0.5, 4.0], [math.e, 1e-300, 1e300, 0.75]])
    out = libm.glibc_log(x)
    assert out.shape == x.shape
    assert np.array_equal(out.reshape(-1), _glibc(x.reshape(-1)))


def test_most_values_are_vectorised():
    """The share sent to glibc one by one is the ~10% near a midpoint, not more."""
    x = 1.0 - RNG.random(100_000)
    calls = []
    original = libm.call
    try:
        libm.call = lambda name, values: calls.append(values.size) or original(name, values)
        libm.glibc_log(x)
    finally:
        libm.call = original
    assert 0 < sum(calls) < 0.15 * x.size


@pytest.mark.parametrize("name", ["log1p", "log"])
def test_per_element_matches_math(name):
    x = RNG.random((3, 500)) * 0.9 + 0.05
    assert np.array_equal(libm.per_element(getattr(math, name), x),
                          _glibc(x.reshape(-1), name).reshape(3, 500))
