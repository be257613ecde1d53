"""F.linear in float16/bfloat16 against torch, bit for bit: addmm's single rounding of
product + bias (2-D and contiguous inputs), matmul then add_ (non-contiguous N-d inputs), and
the gradients (NOTE [linear's two paths] in ember/ops/nn_ops.py)."""

import numpy as np
import pytest
import torch

import ember


def _grid(rng, shape, step):
    """Normal values on a grid of `step`: float32 sums of their products are exact, so the
    results depend only on where the 16-bit rounding happens, not on summation order."""
    return (np.round(rng.standard_normal(shape) / step) * step).astype(np.float32)


def _run(lib, dtype, shape, bias, transposed, seed=0):
    rng = np.random.default_rng(seed)
    d = getattr(lib, dtype)
    x = lib.tensor(_grid(rng, shape, 1 / 64)).to(d)
    if transposed:  # the same values, not contiguous
        x = x.transpose(0, -2).contiguous().transpose(0, -2)
    w = lib.tensor(_grid(rng, (5, shape[-1]), 1 / 64)).to(d).requires_grad_()
    b = None if bias is None else lib.tensor(_grid(rng, bias, 1 / 64)).to(d).requires_grad_()
    x.requires_grad_()
    y = lib.nn.functional.linear(x, w, b)
    y.backward(lib.tensor(_grid(rng, tuple(y.shape), 1 / 64)).to(d))
    out = [y, x.grad, w.grad] + ([] if b is None else [b.grad])
    return [t.detach().float().numpy() for t in out]


CASES = [((8,), (5,), False), ((7, 8), (5,), False), ((7, 8), None, False),
         ((3, 4, 8), (5,), False), ((3, 4, 8), (5,), True), ((3, 4, 8), None, True),
         ((2, 3, 4, 8), (5,), False), ((2, 3, 4, 8), (5,), True), ((7, 8), (1, 5), False)]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("shape,bias,transposed", CASES)
def test_linear_16bit_matches_torch_bitwise(dtype, shape, bias, transposed):
    got, expected = _run(ember, dtype, shape, bias, transposed), \
        _run(torch, dtype, shape, bias, transposed)
    names = ["y", "x.grad", "w.grad", "b.grad"]
    if bias == (1, 5) and dtype == "bfloat16":
        # (a broadcast bias's gradient goes through ember's sum_to, which sums in 16 bits)
        got, expected, names = got[:3], expected[:3], names[:3]
    for name, g, e in zip(names, got, expected):
        np.testing.assert_array_equal(g, e, err_msg=name)


def test_linear_rounds_product_and_bias_once():
    """bfloat16 (ulp 2⁻⁷ at 1): x·w = 1 + 2⁻⁷ + 2⁻⁹ and b = 2⁻⁹. addmm (a matrix or a
    contiguous input) rounds 1 + 1.5 ulp once, to even: 1 + 2⁻⁶; matmul then add_ (a
    non-contiguous 3-d input) rounds the product to 1 + 2⁻⁷ first, then 1 + 1.25 ulp to it."""
    x = np.array([[1 + 2 ** -7, 1.0]], dtype=np.float32)
    w = np.array([[1.0, 2 ** -9]], dtype=np.float32)
    b = np.array([2 ** -9], dtype=np.float32)
    for lib in (ember, torch):
        x2, w2, b2 = (lib.tensor(a).to(lib.bfloat16) for a in (x, w, b))
        assert lib.nn.functional.linear(x2, w2, b2).tolist() == [[1 + 2 ** -6]]
        x3 = x2.expand(2, 2, 2).contiguous()
        assert lib.nn.functional.linear(x3, w2, b2).flatten().tolist() == [1 + 2 ** -6] * 4
        x3 = x3.transpose(0, 1).contiguous().transpose(0, 1)
        assert not x3.is_contiguous()
        assert lib.nn.functional.linear(x3, w2, b2).flatten().tolist() == [1 + 2 ** -7] * 4


def test_autocast_linear_matches_torch():
    """The reported case: nn.Linear under bfloat16 autocast, values and gradients."""
    results = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        m = lib.nn.Linear(4, 2)
        x = lib.randn(3, 4)
        with lib.autocast("cpu", dtype=lib.bfloat16):
            y = m(x)
        y.float().sum().backward()
        results.append([t.detach().float().numpy() for t in (y, m.weight.grad, m.bias.grad)])
    for g, e in zip(results[1], results[0]):
        np.testing.assert_array_equal(g, e)
    assert results[1][0][1].tolist() == [-0.2373046875, 0.65234375]  # (rounding twice: -0.2363)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_wide_dtypes_keep_their_path(dtype):
    """float32/float64 round the product and add the bias in their own dtype, as before."""
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((3, 6, 8)), rng.standard_normal((5, 8)), rng.standard_normal(5)
    d = getattr(ember, dtype)
    y = ember.nn.functional.linear(*(ember.tensor(a).to(d) for a in (x, w, b)))
    np.testing.assert_array_equal(y.numpy(), (x.astype(dtype).reshape(18, 8) @
                                              w.astype(dtype).T + b.astype(dtype)).reshape(3, 6, 5))
