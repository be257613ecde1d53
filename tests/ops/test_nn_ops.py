"""The fused layer ops of ember/ops/nn_ops.py against torch: F.linear in float64, its first and
second derivatives, finite differences. The layers (nn.Linear, nn.Bilinear) are tested in
tests/nn/modules/test_linear.py; the normalization, dropout and embedding functions built on
this module's kernels in tests/nn/test_functional.py."""

import numpy as np
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
