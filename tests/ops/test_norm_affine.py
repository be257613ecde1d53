"""Group norm's per-channel affine map, ember/ops/norm_affine.py, against torch."""

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("shape, groups", [((3, 4, 5), 2), ((2, 6, 3, 4), 3), ((5, 12), 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_group_norm_affine_matches_torch(shape, groups, bias):
    """Values, every gradient and the grad_fn name (NativeGroupNormBackward0) as torch's."""
    arrays = [RNG.standard_normal(shape).astype(np.float32),
              RNG.standard_normal(shape[1]).astype(np.float32),
              RNG.standard_normal(shape[1]).astype(np.float32)]
    g = RNG.standard_normal(shape).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = lib.nn.functional.group_norm(x, groups, w, b if bias else None)
        y.backward(lib.tensor(g))
        results.append((type(y.grad_fn).__name__, y.detach().numpy(), x.grad.numpy(),
                        w.grad.numpy(), b.grad.numpy() if bias else None))
    (name, *ours), (torch_name, *theirs) = results
    assert name == torch_name == "NativeGroupNormBackward0"
    for e, t in zip(ours, theirs):
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_group_norm_affine_second_derivatives():
    x = ember.tensor(RNG.standard_normal((2, 4, 3)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal(4), requires_grad=True)
    b = ember.tensor(RNG.standard_normal(4), requires_grad=True)

    def f(x, w, b):
        return ember.nn.functional.group_norm(x, 2, w, b)

    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


def test_frozen_weight_bias_gradient():
    """Only the bias trains: its gradient is Σ gy per channel."""
    x = ember.tensor(RNG.standard_normal((3, 4, 5)).astype(np.float32))
    w = ember.tensor(RNG.standard_normal(4).astype(np.float32))
    b = ember.tensor(RNG.standard_normal(4).astype(np.float32), requires_grad=True)
    g = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    ember.nn.functional.group_norm(x, 2, w, b).backward(ember.tensor(g))
    np.testing.assert_allclose(b.grad.numpy(), g.sum(axis=(0, 2)), rtol=1e-5)


@pytest.mark.parametrize("with_bias", [False, True])
def test_group_norm_without_weight_is_named_as_torch(with_bias):
    """No weight (a bias alone, or neither): still NativeGroupNormBackward0, the same values."""
    x = RNG.standard_normal((2, 4, 3)).astype(np.float32)
    b = RNG.standard_normal(4).astype(np.float32)
    results = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.group_norm(t, 2, None, lib.tensor(b) if with_bias else None)
        y.sum().backward()
        results.append((y.grad_fn.name(), y.detach().numpy(), t.grad.numpy()))
    assert results[0][0] == results[1][0] == "NativeGroupNormBackward0"
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(results[0][2], results[1][2], atol=1e-5)
