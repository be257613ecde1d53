"""linspace / logspace against torch bit for bit (NOTE [linspace arithmetic] in
ember/ops/_creation_space.py): random bounds and step counts in every real dtype."""

import math
import random

import numpy as np
import pytest
import torch

import ember
from tests.differential import error_of

REAL = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
        "uint8"]


def _bits(t):
    """A tensor's raw bytes as an array (bfloat16 through its int16 view)."""
    if str(t.dtype).endswith("bfloat16"):
        t = t.view(torch.int16) if isinstance(t, torch.Tensor) else t.view(ember.int16)
    return t.numpy().view(np.uint8)


def _same(name, args, dtype, **kwargs):
    """ember's result (or error) is torch's, bit for bit."""
    try:
        expected = getattr(torch, name)(*args, dtype=getattr(torch, dtype), **kwargs)
    except Exception as error:  # noqa: BLE001 - ember must raise the same
        raised = error_of(lambda: getattr(ember, name)(*args, dtype=getattr(ember, dtype),
                                                      **kwargs))
        assert (type(raised), str(raised)) == (type(error), str(error)), (args, dtype)
        return
    result = getattr(ember, name)(*args, dtype=getattr(ember, dtype), **kwargs)
    assert str(result.dtype) == str(expected.dtype)
    assert result.shape == expected.shape
    np.testing.assert_array_equal(_bits(result), _bits(expected), err_msg=f"{args} {dtype}")


def _bounds(rng, dtype):
    """A random (start, end) suiting dtype: ints or floats, wide or narrow ranges."""
    if dtype in ("int8", "uint8"):
        low = 0 if dtype == "uint8" else -128
        start, end = rng.randint(low, 127), rng.randint(low, 127)
        return (start + rng.random() * 0.9, end) if rng.random() < 0.5 else (start, end)
    if dtype.startswith("int") and rng.random() < 0.5:
        return rng.randint(-10**6, 10**6), rng.randint(-10**6, 10**6)
    scale = 10 ** rng.uniform(-3, 4)
    return rng.uniform(-scale, scale), rng.uniform(-scale, scale)


def _steps(rng):
    return rng.choice([0, 1, 2, 3, rng.randint(2, 60), rng.randint(2, 4000)])


@pytest.mark.parametrize("dtype", REAL)
def test_linspace_bit_identical_random(dtype):
    rng = random.Random(dtype)
    for _ in range(60):
        _same("linspace", (*_bounds(rng, dtype), _steps(rng)), dtype)


@pytest.mark.parametrize("dtype", REAL)
def test_logspace_bit_identical_random(dtype):
    rng = random.Random("log" + dtype)
    for _ in range(40):
        start, end = _bounds(rng, dtype)
        start, end = (start % 5, end % 5) if dtype.startswith(("int", "uint")) else \
            (start / 1000, end / 1000)
        base = rng.choice([10.0, 2.0, math.e, 3.7, 0.5])
        _same("logspace", (start, end, _steps(rng)), dtype, base=base)


def test_linspace_tutorial_default_dtype():
    # "Learning PyTorch with Examples": 604 of these 2000 used to differ by an ulp
    e, t = ember.linspace(-math.pi, math.pi, 2000), torch.linspace(-math.pi, math.pi, 2000)
    assert e.dtype == ember.float32
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_linspace_complex_bit_identical(dtype):
    rng = random.Random(dtype)
    for _ in range(30):
        start = complex(rng.uniform(-50, 50), rng.uniform(-5, 5))
        end = complex(rng.uniform(-50, 50), rng.uniform(-5, 5))
        _same("linspace", (start, end, _steps(rng)), dtype)


def test_logspace_complex_close():
    # NOTE: torch uses complex<float> std::pow (glibc cpowf); ember's pow is NumPy's, ~1 ulp
    e = ember.logspace(1 + 2j, 3 - 1j, 5)
    t = torch.logspace(1 + 2j, 3 - 1j, 5)
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5)


@pytest.mark.parametrize("call", [
    ("linspace", (0, 70000, 5), "float16"), ("linspace", (0, 1e300, 5), "float32"),
    ("linspace", (0, float("inf"), 5), "float32"), ("linspace", (-3, 300, 5), "uint8"),
    ("linspace", (-3, 200, 5), "uint8"), ("linspace", (-3.5, 10.7, 6), "uint8"),
    ("linspace", (-3.5, 10.7, 1), "uint8"), ("linspace", (-3.5, 10.7, 0), "uint8"),
    ("linspace", (0, 1e10, 3), "int32"), ("linspace", (0, 1, 5), "bool"),
    ("linspace", (1 + 2j, 3, 5), "int64"), ("linspace", (1 + 0j, 3, 5), "float64"),
    ("logspace", (0, 3, 4), "uint8"), ("logspace", (0, 3, 4), "int8"),
    ("logspace", (3, 3, 1), "uint8"), ("logspace", (0, 3, 4), "bool"),
    ("logspace", (1 + 2j, 3, 5), "float64"), ("logspace", (-3.5, 2.7, 1), "uint8"),
])
def test_space_edge_cases_and_errors(call):
    name, args, dtype = call
    _same(name, args, dtype, **({"base": 2.0} if name == "logspace" else {}))


def test_linspace_complex_bounds_infer_complex_dtype():
    e, t = ember.linspace(1 + 2j, 3 - 1j, 5), torch.linspace(1 + 2j, 3 - 1j, 5)
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
@pytest.mark.parametrize("args", [(0, 10, 0.1), (0, 10, 1.5), (10, 0, -0.5), (0.5, 3.7, 1.2),
                                  (0, 3.5), (-2.5, 3), (0, 10, -0.5), (-3.5, -0.2, 0.7)])
def test_arange_integer_dtype_fractional_bounds(dtype, args):
    """Integer arange truncates start and step for the values; int64 also truncates end before
    counting and refuses a step truncated to 0, the others count with the float values."""
    results = []
    for m in (ember, torch):
        try:
            results.append(m.arange(*args, dtype=getattr(m, dtype)).tolist())
        except (RuntimeError, ValueError) as error:
            results.append((type(error), str(error)))
    assert results[0] == results[1]
