"""torch's approximations of the reparameterised gradients of Gamma and Beta draws
(ember/ops/_reparam_grads.py), region by region, against `torch._standard_gamma_grad`
and `torch._dirichlet_grad`; and the rsample gradients of the distributions built on them."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import _reparam_grads as grads
from tests.differential import assert_same

_RNG = np.random.default_rng(0)


def _gamma_points(n, dtype):
    """Shapes over e^-5..e^6 and their draws: every region of torch's formula."""
    alpha = np.exp(_RNG.uniform(-5, 6, n))
    return alpha.astype(dtype), (_RNG.gamma(alpha) + 1e-30).astype(dtype)


def _beta_points(n, dtype):
    """(x, α, α + β) over e^-4..e^5 for α and β, with Beta draws x (kept inside (0, 1))."""
    alpha, beta = np.exp(_RNG.uniform(-4, 5, (2, n)))
    x = np.clip(_RNG.beta(alpha, beta), 1e-30, 1 - 1e-6).astype(dtype)
    return x, alpha.astype(dtype), (alpha.astype(dtype) + beta.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_standard_gamma_grad_is_torchs(dtype):
    alpha, x = _gamma_points(50_000, dtype)
    expected = torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy()
    result = grads.standard_gamma_grad(alpha, x)
    assert result.dtype == dtype
    np.testing.assert_allclose(result, expected, rtol=1e-12 if dtype == np.float64 else 1e-6)


def test_dirichlet_grad_is_torchs_in_double():
    x, alpha, total = _beta_points(50_000, np.float64)
    expected = torch._dirichlet_grad(*map(torch.tensor, (x, alpha, total))).numpy()
    np.testing.assert_allclose(grads.dirichlet_grad(x, alpha, total), expected, rtol=1e-10)


def test_dirichlet_grad_float32_rounds_as_torchs():
    """float32: the series near x = 0 and 1 run in float32 as torch's do; where they cancel
    (digamma differences of near values) a last-bit difference of a log is amplified."""
    x, alpha, total = _beta_points(50_000, np.float32)
    expected = torch._dirichlet_grad(*map(torch.tensor, (x, alpha, total))).numpy()
    result = grads.dirichlet_grad(x, alpha, total)
    assert result.dtype == np.float32
    close = np.isclose(result, expected, rtol=1e-5, atol=0)
    assert close.mean() > 0.999
    np.testing.assert_allclose(result, expected, rtol=1e-3)


def test_digamma_is_torchs_digamma_one():
    values = np.exp(_RNG.uniform(-6, 8, 10_000))
    np.testing.assert_allclose(grads.digamma(values), torch.special.digamma(
        torch.tensor(values)).numpy(), rtol=1e-13)


@pytest.mark.parametrize("make", [
    lambda m, a, b: m.distributions.Gamma(a, b),
    lambda m, a, b: m.distributions.Beta(a, b),
    lambda m, a, b: m.distributions.Dirichlet(a * b),
    lambda m, a, b: m.distributions.Chi2(a * 3),
    lambda m, a, b: m.distributions.StudentT(a),
    lambda m, a, b: m.distributions.FisherSnedecor(a, b),
], ids=["Gamma", "Beta", "Dirichlet", "Chi2", "StudentT", "FisherSnedecor"])
def test_rsample_gradients_are_torchs(make):
    """Gradients of a weighted sum of draws in the parameters: torch's, to float64 rounding."""
    a = np.array([0.3, 1.0, 2.5, 9.0, 40.0])
    b = np.array([1.0, 0.4, 2.0, 7.0, 0.9])
    results = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        pa = lib.tensor(a, requires_grad=True)
        pb = lib.tensor(b, requires_grad=True)
        x = make(lib, pa, pb).rsample((20,))
        (x * lib.arange(x.numel(), dtype=lib.float64).reshape(x.shape).sin()).sum().backward()
        results.append((x.detach(), pa.grad, pb.grad))
    for e, t in zip(*results):
        if t is not None:
            assert_same(e, t, rtol=1e-10, atol=1e-12)


def test_private_ops_are_torchs():
    """torch._standard_gamma (its gradient node) and the two gradient functions."""
    alpha, x = _gamma_points(100, np.float64)
    for name in ("_standard_gamma_grad",):
        assert_same(getattr(ember, name)(ember.tensor(alpha), ember.tensor(x)),
                    getattr(torch, name)(torch.tensor(alpha), torch.tensor(x)), rtol=1e-12)
    x, alpha, total = _beta_points(100, np.float32)
    assert_same(ember._dirichlet_grad(*map(ember.tensor, (x, alpha, total))),
                torch._dirichlet_grad(*map(torch.tensor, (x, alpha, total))), rtol=1e-3)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(2)
        a = lib.tensor([0.5, 2.0, 30.0], requires_grad=True)
        y = lib._standard_gamma(a)
        y.sum().backward()
        results.append((y.detach(), a.grad, type(y.grad_fn).__name__))
    assert_same(results[0][0], results[1][0], exact=True)
    assert_same(results[0][1], results[1][1], rtol=1e-6)
    assert results[0][2] == results[1][2]
