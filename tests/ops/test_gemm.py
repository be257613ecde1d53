"""ember/ops/_gemm.py: the array product behind the product ops, against NumPy and torch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops._gemm import product
from tests.differential import assert_same


@pytest.mark.parametrize("rows, inner, cols", [(4, 784, 512), (16, 256, 256), (64, 512, 300),
                                               (3, 784, 512), (65, 256, 256), (16, 255, 512)])
def test_thin_rows_times_transposed_matrix(rows, inner, cols):
    """x·Wᵀ computed as (W·xᵀ)ᵀ for thin x (NOTE [Thin rows times a transposed matrix]) gives
    NumPy's direct product bit for bit, a C-ordered result, and torch's values and grads."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, inner), dtype=np.float32)
    w = rng.standard_normal((cols, inner), dtype=np.float32)
    y = product(x, w.T)
    assert y.flags.c_contiguous and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.matmul(x, w.T))
    tensors = {}
    for lib in (ember, torch):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.linear(a, b)
        (out * out).sum().backward()
        tensors[lib] = out, a.grad, b.grad
        assert out.is_contiguous()
    for ours, theirs in zip(tensors[ember], tensors[torch]):
        assert_same(ours, theirs, rtol=1e-4, atol=1e-3)
