"""cumsum in PyTorch's accumulation type (NOTE [cumsum in PyTorch's accumulation type]): the
bits of torch's CPU cumsum and of its gradient, on both of ember's paths."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import _running_sums

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "complex64", "int32"])
@pytest.mark.parametrize("shape, dim", [((16, 40, 64), 1), ((16, 40, 64), 2), ((700,), 0),
                                        ((600, 3), 0), ((3, 600), 0)])
def test_cumsum_bits_match_torch(shape, dim, dtype):
    if dtype == "int32":
        x = RNG.integers(-50, 50, shape).astype(np.int32)
    else:
        x = (RNG.standard_normal(shape) * 10).astype(dtype)
        if dtype == "complex64":
            x = x + 1j * RNG.standard_normal(shape).astype(np.float32)
    got = ember.cumsum(ember.tensor(x), dim)
    want = torch.cumsum(torch.tensor(x), dim)
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("shape, dim", [((16, 40, 64), 1), ((700,), 0)])
def test_cumsum_gradient_bits_match_torch(shape, dim):
    x = RNG.standard_normal(shape).astype(np.float32)
    g = RNG.standard_normal(shape).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.cumsum(t, dim).backward(lib.tensor(g))
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_cumsum_bfloat16_and_a_dtype_argument_match_torch():
    """bfloat16 sums in float; an int input with dtype=float32 is converted, then summed."""
    x = RNG.standard_normal((8, 600)).astype(np.float32)
    got = ember.cumsum(ember.tensor(x).bfloat16(), 0).float().numpy()
    want = torch.cumsum(torch.tensor(x).bfloat16(), 0).float().numpy()
    np.testing.assert_array_equal(got, want)
    big = RNG.integers(2**24, 2**26, (600, 2))  # not exact in float32
    np.testing.assert_array_equal(ember.cumsum(ember.tensor(big), 0, dtype=ember.float32).numpy(),
                                  torch.cumsum(torch.tensor(big), 0, dtype=torch.float32).numpy())


def test_both_paths_take_part():
    """The loop over positions runs where slices are big, NumPy's cumsum elsewhere; both give
    the same bits as summing in the accumulation type."""
    x = RNG.standard_normal((30, 600)).astype(np.float32)
    for axis in (0, 1):  # slices of 600 elements (the loop), of 30 (NumPy's cumsum)
        for reverse in (False, True):
            data = np.flip(x, axis) if reverse else x
            expected = np.cumsum(data, axis=axis, dtype=np.float64).astype(np.float32)
            expected = np.flip(expected, axis) if reverse else expected
            np.testing.assert_array_equal(
                _running_sums.cumsum_array(x, axis, np.float32, reverse), expected)
