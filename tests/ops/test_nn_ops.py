"""The fused layer ops of ember/ops/nn_ops.py against torch: F.linear in float64, its first and
second derivatives, finite differences. The layers (nn.Linear, nn.Bilinear) are tested in
tests/nn/modules/test_linear.py; the normalization, dropout and embedding functions built on
this module's kernels in tests/nn/test_functional.py."""

import numpy as np
import pytest
import torch

import ember


def test_linear_float64_and_double_backward():
    x = np.random.default_rng(1).standard_normal((3, 4))
    w = np.random.default_rng(2).standard_normal((2, 4))
    results = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.linear(xt, wt)
        gx, gw = lib.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
        ggx, ggw = lib.autograd.grad((gx * gw.sum()).sum() + (gw * gw).sum(), (xt, wt))
        results.append([a.detach().numpy().copy() for a in (y, gx, gw, ggx, ggw)])
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-10)
    xe = ember.tensor(x, requires_grad=True)
    we = ember.tensor(w, requires_grad=True)
    be = ember.tensor([0.5, -0.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.nn.functional.linear, (xe, we, be))



@pytest.mark.parametrize("x_shape,bias,dtype", [
    ((5, 4), True, "float32"), ((2, 3, 4), True, "float32"), ((2, 3, 4), False, "float64"),
    ((1, 4), True, "float32"), ((4,), True, "float32"),
])
def test_linear_first_order_backward_is_the_op_level_one(x_shape, bias, dtype):
    """A plain backward takes Linear's gradients on arrays; with create_graph they are ember
    ops. Both make the same products and sums, so the bits agree."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(x_shape), rng.standard_normal((3, 4))
    b, gy = rng.standard_normal(3), rng.standard_normal(x_shape[:-1] + (3,))
    grads = []
    for create_graph in (False, True):
        inputs = [ember.tensor(a, dtype=getattr(ember, dtype), requires_grad=True)
                  for a in ((x, w, b) if bias else (x, w))]
        y = ember.nn.functional.linear(*inputs)
        grads.append(ember.autograd.grad(y, inputs, ember.tensor(gy, dtype=y.dtype),
                                         create_graph=create_graph))
    for plain, recorded in zip(*grads):
        assert plain.dtype == recorded.dtype and plain.shape == recorded.shape
        np.testing.assert_array_equal(plain.detach().numpy(), recorded.detach().numpy())
