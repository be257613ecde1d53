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
    NumPy's direct product (bit for bit with OpenBLAS's SkylakeX kernel; to float32 rounding
    where its Haswell kernel sums the transposed operands in another order), a C-ordered result,
    and torch's values and grads."""
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((rows, inner), dtype=np.float32)
    w = rng.standard_normal((cols, inner), dtype=np.float32)
    y = product(x, w.T)
    assert y.flags.c_contiguous and y.dtype == np.float32
    direct = np.matmul(x, w.T)
    np.testing.assert_allclose(y, direct, rtol=1e-5, atol=1e-5 * np.abs(direct).max())
    tensors = {}
    for lib in (ember, torch):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(w, requires_grad=True)
        out = lib.nn.functional.linear(a, b)
        (out * out).sum().backward()
        tensors[lib] = out, a.grad, b.grad
        assert out.is_contiguous()
    for ours, theirs in zip(tensors[ember], tensors[torch]):
        # (float32 sums of 784 products of values up to 10^4: elements that cancel to ~1 are
        # off at the scale of the largest)
        scale = float(theirs.detach().abs().max())
        assert_same(ours, theirs, rtol=1e-4, atol=max(1e-3, 1e-6 * scale))


# label -> (a shape, b shape, a requires grad, b requires grad, call(lib, a, b))
SMALL_BATCHED = {
    "bmm": ((4, 8, 8), (4, 8, 2), False, False, lambda lib, a, b: lib.bmm(a, b)),
    "bmm 6x5x7 grads": ((3, 6, 5), (3, 5, 7), True, True, lambda lib, a, b: lib.bmm(a, b)),
    "matrix @ batch": ((8, 8), (4, 8, 2), False, False, lambda lib, a, b: a @ b),
    "batch @ batch": ((2, 3, 4, 5), (3, 5, 6), False, False, lambda lib, a, b: a @ b),
    "transposed batch @ matrix": ((4, 3, 8), (3, 4), False, False,
                                  lambda lib, a, b: a.transpose(1, 2) @ b),
    "baddbmm": ((4, 8, 8), (4, 8, 2), False, False,
                lambda lib, a, b: lib.baddbmm(lib.ones(4, 8, 2), a, b, beta=0.5, alpha=2.0)),
    "float64": ((4, 8, 8), (4, 8, 2), False, False,
                lambda lib, a, b: lib.bmm(a.double(), b.double())),
}


@pytest.mark.parametrize("label", sorted(SMALL_BATCHED))
def test_small_batched_products_are_torchs_bits(label):
    """NOTE [PyTorch's small bmm]: products with K·M·N < 400 that torch runs as bmm add their
    terms in order, unfused (the attention trick's `wei @ x` of "Let's build GPT")."""
    a_shape, b_shape, a_grad, b_grad, call = SMALL_BATCHED[label]
    rng = np.random.default_rng(len(label))
    arrays = [rng.standard_normal(s).astype(np.float32) / 3 for s in (a_shape, b_shape)]
    results = []
    for lib in (ember, torch):
        a = lib.tensor(arrays[0], requires_grad=a_grad)
        b = lib.tensor(arrays[1], requires_grad=b_grad)
        y = call(lib, a, b)
        if a_grad or b_grad:
            y.backward(lib.ones_like(y))
        results.append((y, a.grad, b.grad))
    (ye, gae, gbe), (yt, gat, gbt) = results
    assert_same(ye, yt, exact=True)
    for ge, gt in ((gae, gat), (gbe, gbt)):
        if gt is not None:
            assert_same(ge, gt, exact=True)
