"""The matrix exponential kernel (ember/ops/linalg_expm.py) against torch.linalg.matrix_exp:
PyTorch's Taylor schemes step for step, so float32 results agree to the last bits in every
degree range (the squarings amplify any other algorithm's rounding), float64 and complex64
too; float16/bfloat16 and gradients."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, gradcheck64

RNG = np.random.default_rng(0)
# 1-norms inside each degree's range (float32 bounds: 1.2e-7, 6e-4, 0.051, 0.58, 1.46, 3.0)
NORMS = [1e-8, 1e-4, 0.03, 0.4, 1.2, 2.5, 27.0, 60.0]


def _matrices(norm, n=5, batch=3, dtype=np.float32):
    a = RNG.standard_normal((batch, n, n))
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal((batch, n, n))
    a = a / np.abs(a).sum(-2).max(-1)[:, None, None] * norm
    return a.astype(dtype)


@pytest.mark.parametrize("n", [2, 5, 8])
@pytest.mark.parametrize("norm", NORMS)
def test_float32_follows_torch(norm, n):
    """Relative to the largest entry, float32 agrees with torch to a few ulps even where
    squarings amplify rounding (torch's own error vs float64 is far larger there)."""
    a = _matrices(norm, n)
    e = ember.linalg.matrix_exp(ember.from_numpy(a.copy())).numpy()
    t = torch.linalg.matrix_exp(torch.from_numpy(a.copy())).numpy()
    scale = np.abs(t).max()
    np.testing.assert_allclose(e / scale, t / scale, rtol=0, atol=2e-6)


def test_float32_matches_torch_where_double_precision_would_not():
    """A large-norm batch: float32 cancellation makes the small entries differ from the exact
    value by 1e-3 relative; ember gives torch's float32 numbers, not the exact ones."""
    a = _matrices(27.0)
    e = ember.matrix_exp(ember.from_numpy(a.copy()))
    t = torch.matrix_exp(torch.from_numpy(a.copy()))
    assert_same(e, t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("norm", [1e-9, 0.04, 0.3, 1.0, 40.0])
def test_other_dtypes(norm, dtype):
    a = _matrices(norm, dtype=dtype)
    tol = 2e-6 if dtype == np.complex64 else 1e-12
    e = ember.linalg.matrix_exp(ember.from_numpy(a.copy())).numpy()
    t = torch.linalg.matrix_exp(torch.from_numpy(a.copy())).numpy()
    scale = np.abs(t).max()
    np.testing.assert_allclose(e / scale, t / scale, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_16_bit_is_torchs_nan(dtype):
    """PyTorch's float16/bfloat16 matrix exponential of ordinary matrices is all NaN (see
    NOTE [PyTorch's matrix exponential]); ember's too, in the same dtype."""
    a = _matrices(27.0, n=5, batch=2)
    t = torch.linalg.matrix_exp(torch.from_numpy(a).to(getattr(torch, dtype)))
    e = ember.linalg.matrix_exp(ember.from_numpy(a).to(getattr(ember, dtype)))
    assert str(e.dtype) == str(t.dtype)
    assert torch.isnan(t).all() and ember.isnan(e).all()


def test_gradient_and_shapes():
    a = _matrices(3.0, n=4, batch=2, dtype=np.float64)
    t = torch.from_numpy(a.copy()).requires_grad_()
    e = ember.from_numpy(a.copy()).requires_grad_()
    g = RNG.standard_normal(a.shape)
    torch.linalg.matrix_exp(t).backward(torch.from_numpy(g))
    ember.linalg.matrix_exp(e).backward(ember.from_numpy(g))
    assert_same(e.grad, t.grad, rtol=1e-9, atol=1e-9)
    assert gradcheck64(ember.linalg.matrix_exp, _matrices(0.5, n=3, batch=1, dtype=np.float64))
    for shape in [(0, 3, 3), (2, 1, 1)]:
        x = RNG.standard_normal(shape)
        assert_same(ember.matrix_exp(ember.from_numpy(x)), torch.matrix_exp(torch.from_numpy(x)))
