"""ember.nn.utils: gradient clipping and parameter/vector conversion against torch."""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, copy_state


def _models_with_grads():
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    e = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh(), ember.nn.Linear(3, 2))
    copy_state(t, e)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32) * 10
    (t(torch.tensor(x)) ** 2).sum().backward()
    (e(ember.tensor(x)) ** 2).sum().backward()
    return t, e


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1), (2.0, math.inf),
                                                (1e6, 2.0), (0.1, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    t, e = _models_with_grads()
    t_norm = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
    e_norm = ember.nn.utils.clip_grad_norm_(e.parameters(), max_norm, norm_type)
    assert_same(e_norm, t_norm, rtol=1e-5)
    for pe, pt in zip(e.parameters(), t.parameters()):
        assert_same(pe.grad, pt.grad, rtol=1e-5, atol=1e-5)


def test_clip_grad_norm_nonfinite_error():
    p = ember.nn.Parameter(ember.ones(2))
    p.grad = ember.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        ember.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    t, e = _models_with_grads()
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.5)
    ember.nn.utils.clip_grad_value_(e.parameters(), 0.5)
    for pe, pt in zip(e.parameters(), t.parameters()):
        assert_same(pe.grad, pt.grad, rtol=1e-5, atol=1e-5)


def test_parameters_to_vector_roundtrip():
    t, e = _models_with_grads()
    vec = ember.nn.utils.parameters_to_vector(e.parameters())
    assert_same(vec, torch.nn.utils.parameters_to_vector(t.parameters()))
    ember.nn.utils.vector_to_parameters(vec * 0 + 1, e.parameters())
    assert all(np.all(p.detach().numpy() == 1) for p in e.parameters())


def test_large_gradients_norm_is_accurate():
    """The 2-norm of float32 gradients is BLAS's float32 dot (clip_grad._vector_norm): on 10^6
    values within 3e-6 of the exact norm (1e-6 with OpenBLAS's SkylakeX kernel, 1.6e-6 with its
    Haswell one; PyTorch's own float32 reduction is 1.1e-5 off here)."""
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(10**6).astype(np.float32) * 30, rng.standard_normal(
        (300, 70)).astype(np.float32)]
    exact = math.sqrt(sum(float(np.dot(g.astype(np.float64).ravel(), g.astype(np.float64).ravel()))
                          for g in grads))
    params = [ember.nn.Parameter(ember.zeros(*g.shape)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = ember.tensor(g)
    norm = ember.nn.utils.clip_grad_norm_(params, 1.0).item()
    torch_params = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for p, g in zip(torch_params, grads):
        p.grad = torch.tensor(g)
    torch_norm = torch.nn.utils.clip_grad_norm_(torch_params, 1.0).item()
    assert abs(norm - exact) <= 3e-6 * exact
    assert abs(norm - torch_norm) <= 3e-5 * exact
    scale = 1.0 / (norm + 1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), grads[1] * np.float32(scale), rtol=1e-6)


def _clip(lib, grads, max_norm, norm_type, foreach):
    params = [lib.nn.Parameter(lib.zeros(len(g))) for g in grads]
    for p, g in zip(params, grads):
        p.grad = lib.tensor(g)
    norm = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type, foreach=foreach)
    return norm, [p.grad for p in params]


INF, NAN = float("inf"), float("nan")
NONFINITE = [([INF, 1.0], [2.0]), ([NAN, 1.0], [2.0]), ([-INF, 1.0], [INF]), ([1.0], [NAN, INF])]


@pytest.mark.parametrize("foreach", [None, True, False])
@pytest.mark.parametrize("norm_type", [2.0, 1, INF, 3.0])
@pytest.mark.parametrize("grads", NONFINITE, ids=str)
def test_clip_grad_norm_nonfinite_is_silent_and_matches_torch(grads, norm_type, foreach,
                                                              recwarn):
    ours = _clip(ember, grads, 1.0, norm_type, foreach)
    theirs = _clip(torch, grads, 1.0, norm_type, foreach)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], [
        str(w.message) for w in recwarn]
    assert_same(ours[0], theirs[0], exact=True)
    for e, t in zip(ours[1], theirs[1]):
        assert_same(e, t, exact=True)


@pytest.mark.parametrize("max_norm", [1.0, 0.3, 1e6])
@pytest.mark.parametrize("norm_type", [2.0, 1, INF])
def test_clip_grad_norm_coefficient_is_torch_s_bits(max_norm, norm_type):
    """torch scales by min(reciprocal(norm + 1e-6) * max_norm, 1) in the norm's dtype."""
    grads = ([1.0, 2.0, -0.5], [3.0, 0.25])
    ours, theirs = _clip(ember, grads, max_norm, norm_type, None), _clip(
        torch, grads, max_norm, norm_type, None)
    assert_same(ours[0], theirs[0], exact=True)
    for e, t in zip(ours[1], theirs[1]):
        assert_same(e, t, exact=True)


def test_clip_grad_norm_nonfinite_error_matches_torch():
    for grads in NONFINITE:
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
                params = [lib.nn.Parameter(lib.zeros(len(g))) for g in grads]
                for p, g in zip(params, grads):
                    p.grad = lib.tensor(g)
                lib.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_vector_to_parameters_views_the_vector():
    """As PyTorch's, the parameters become views of the vector (sharing its memory and dtype),
    and a vector of the wrong size fails as view_as does."""
    def run(lib):
        m = lib.nn.Linear(2, 2)
        vec = lib.arange(6, dtype=lib.float64)
        lib.nn.utils.vector_to_parameters(vec, m.parameters())
        vec[0] = 100
        return m.weight.detach().clone(), m.bias.detach().clone()
    for e, t in zip(run(ember), run(torch)):
        assert_same(e, t)

    def wrong_size(lib):
        lib.nn.utils.vector_to_parameters(lib.zeros(3, 3), lib.nn.Linear(5, 5).parameters())
    assert_same_error(wrong_size, same_message=True)
