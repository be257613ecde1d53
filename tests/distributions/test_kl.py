"""kl_divergence against torch: every registered pair on batched parameters, values and
gradients in float32 and float64, the infinite cases (disjoint supports, zero probabilities),
NotImplementedError for unregistered pairs, and register_kl's dispatch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

B = (3,)


def _pos(rng, shape=B):
    return rng.uniform(0.5, 2.0, shape)


def _simplex(rng, shape):
    p = rng.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(rng, n=3):
    a = rng.standard_normal((2, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


# name -> (params(rng) for p and q, build(D, params) -> (p, q))
PAIRS = {
    "Normal": (lambda r: [r.standard_normal(B), _pos(r), r.standard_normal(B), _pos(r)],
               lambda D, a: (D.Normal(a[0], a[1]), D.Normal(a[2], a[3]))),
    "Categorical": (lambda r: [_simplex(r, B + (4,)), _simplex(r, B + (4,))],
                    lambda D, a: (D.Categorical(a[0]), D.Categorical(a[1]))),
    "OneHotCategorical": (lambda r: [r.standard_normal(B + (4,)), r.standard_normal(B + (4,))],
                          lambda D, a: (D.OneHotCategorical(logits=a[0]),
                                        D.OneHotCategorical(logits=a[1]))),
    "Bernoulli": (lambda r: [r.uniform(0.1, 0.9, B), r.uniform(0.1, 0.9, B)],
                  lambda D, a: (D.Bernoulli(a[0]), D.Bernoulli(a[1]))),
    "MultivariateNormal": (lambda r: [r.standard_normal((2, 3)), _spd(r), r.standard_normal(3),
                                      np.linalg.cholesky(_spd(r))],
                           lambda D, a: (D.MultivariateNormal(a[0], covariance_matrix=a[1]),
                                         D.MultivariateNormal(a[2], scale_tril=a[3]))),
    "LowRankMultivariateNormal": (
        lambda r: [r.standard_normal(3), r.standard_normal((3, 2)), _pos(r),
                   r.standard_normal(3), r.standard_normal((3, 1)), _pos(r)],
        lambda D, a: (D.LowRankMultivariateNormal(a[0], a[1], a[2]),
                      D.LowRankMultivariateNormal(a[3], a[4], a[5]))),
    "Beta": (lambda r: [_pos(r), _pos(r), _pos(r), _pos(r)],
             lambda D, a: (D.Beta(a[0], a[1]), D.Beta(a[2], a[3]))),
    "Gamma": (lambda r: [_pos(r), _pos(r), _pos(r), _pos(r)],
              lambda D, a: (D.Gamma(a[0], a[1]), D.Gamma(a[2], a[3]))),
    "Dirichlet": (lambda r: [_pos(r, B + (4,)), _pos(r, B + (4,))],
                  lambda D, a: (D.Dirichlet(a[0]), D.Dirichlet(a[1]))),
    "Uniform": (lambda r: [-_pos(r) / 4, _pos(r) / 4, -_pos(r), _pos(r)],
                lambda D, a: (D.Uniform(a[0], a[1]), D.Uniform(a[2], a[3]))),
    "Uniform_disjoint": (lambda r: [-_pos(r), _pos(r), -_pos(r) / 4, _pos(r) / 4],
                         lambda D, a: (D.Uniform(a[0], a[1]), D.Uniform(a[2], a[3]))),
    "Laplace": (lambda r: [r.standard_normal(B), _pos(r), r.standard_normal(B), _pos(r)],
                lambda D, a: (D.Laplace(a[0], a[1]), D.Laplace(a[2], a[3]))),
    "Exponential": (lambda r: [_pos(r), _pos(r)],
                    lambda D, a: (D.Exponential(a[0]), D.Exponential(a[1]))),
    "Poisson": (lambda r: [_pos(r), _pos(r)],
                lambda D, a: (D.Poisson(a[0]), D.Poisson(a[1]))),
    "Binomial": (lambda r: [r.uniform(0.1, 0.9, B), r.uniform(0.1, 0.9, B)],
                 lambda D, a: (D.Binomial(5, a[0]), D.Binomial(5, a[1]))),
    "Geometric": (lambda r: [r.uniform(0.1, 0.9, B), r.uniform(0.1, 0.9, B)],
                  lambda D, a: (D.Geometric(a[0]), D.Geometric(a[1]))),
    "Cauchy": (lambda r: [r.standard_normal(B), _pos(r), r.standard_normal(B), _pos(r)],
               lambda D, a: (D.Cauchy(a[0], a[1]), D.Cauchy(a[2], a[3]))),
    "HalfNormal": (lambda r: [_pos(r), _pos(r)],
                   lambda D, a: (D.HalfNormal(a[0]), D.HalfNormal(a[1]))),
    "LogNormal": (lambda r: [r.standard_normal(B), _pos(r), r.standard_normal(B), _pos(r)],
                  lambda D, a: (D.LogNormal(a[0], a[1]), D.LogNormal(a[2], a[3]))),
    "Pareto": (lambda r: [_pos(r), _pos(r) + 0.5, _pos(r), _pos(r) + 0.5],
               lambda D, a: (D.Pareto(a[0], a[1]), D.Pareto(a[2], a[3]))),
    "ContinuousBernoulli": (lambda r: [np.array([0.2, 0.4995, 0.8]), r.uniform(0.1, 0.9, B)],
                            lambda D, a: (D.ContinuousBernoulli(a[0]),
                                          D.ContinuousBernoulli(a[1]))),
    "Independent": (lambda r: [r.standard_normal(B), _pos(r), r.standard_normal(B), _pos(r)],
                    lambda D, a: (D.Independent(D.Normal(a[0], a[1]), 1),
                                  D.Independent(D.Normal(a[2], a[3]), 1))),
}
TOL = {"float32": dict(rtol=3e-4, atol=3e-5), "float64": dict(rtol=1e-6, atol=1e-9)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(PAIRS))
def test_kl_matches_torch(name, dtype):
    make, build = PAIRS[name]
    arrays = [a.astype(dtype) for a in make(np.random.default_rng(len(name)))]
    e_args, t_args = to_ember(arrays, True), to_torch(arrays, True)
    e_kl = ember.distributions.kl_divergence(*build(ember.distributions, e_args))
    t_kl = torch.distributions.kl_divergence(*build(torch.distributions, t_args))
    assert_same(e_kl, t_kl, **TOL[dtype])
    finite = torch.isfinite(t_kl.detach())
    t_grads = torch.autograd.grad(t_kl[finite].sum(), t_args, allow_unused=True)
    e_grads = ember.autograd.grad(e_kl[ember.from_numpy(finite.numpy())].sum(), e_args,
                                  allow_unused=True)
    for e_grad, t_grad in zip(e_grads, t_grads):
        if t_grad is None:
            assert e_grad is None or not e_grad.numpy().any()
        else:
            assert_same(e_grad, t_grad, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("make", [
    lambda D, t: (D.Bernoulli(t([0.0, 0.5, 1.0])), D.Bernoulli(t([0.5, 0.0, 1.0]))),
    lambda D, t: (D.Categorical(t([[0.0, 1.0], [0.5, 0.5]])),
                  D.Categorical(t([[0.5, 0.5], [1.0, 0.0]]))),
    lambda D, t: (D.Binomial(t([5.0, 6.0]), t([0.3, 0.3])),
                  D.Binomial(t([5.0, 5.0]), t([0.5, 0.5]))),
])
def test_kl_infinite_and_zero_cases(make):
    """Zero probabilities give 0 (p) or inf (q) terms, as torch."""
    e_kl = ember.distributions.kl_divergence(*make(ember.distributions, ember.tensor))
    t_kl = torch.distributions.kl_divergence(*make(torch.distributions, torch.tensor))
    assert_same(e_kl, t_kl)


@pytest.mark.parametrize("make", [
    lambda D, t: (D.Cauchy(0.0, 1.0), D.Normal(0.0, 1.0)),
    lambda D, t: (D.Beta(t([1.0]), t([1.0])), D.Dirichlet(t([[1.0, 1.0]]))),
    lambda D, t: (D.StudentT(t([3.0])), D.StudentT(t([3.0]))),
    lambda D, t: (D.Binomial(t([3.0]), t([0.5])), D.Binomial(t([5.0]), t([0.5]))),
    lambda D, t: (D.Independent(D.Normal(t([[0.0]]), 1.0), 1),
                  D.Independent(D.Normal(t([[0.0]]), 1.0), 2)),
])
def test_unregistered_pairs_raise_not_implemented(make):
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError):
            lib.distributions.kl_divergence(*make(lib.distributions, lib.tensor))


def test_register_kl_dispatches_to_the_most_specific_pair():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return ember.tensor(42.0)

    assert float(D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0))) == 0.0
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# one parameterisation per family, for the cross-family pairs: (arrays(rng), build(D, arrays))
FAMILIES = {
    "Normal": (lambda r: [r.standard_normal(B), _pos(r)], lambda D, a: D.Normal(*a)),
    "Laplace": (lambda r: [r.standard_normal(B), _pos(r)], lambda D, a: D.Laplace(*a)),
    "Gumbel": (lambda r: [r.standard_normal(B), _pos(r)], lambda D, a: D.Gumbel(*a)),
    "Exponential": (lambda r: [_pos(r)], lambda D, a: D.Exponential(*a)),
    "Gamma": (lambda r: [_pos(r), _pos(r)], lambda D, a: D.Gamma(*a)),
    "Beta": (lambda r: [_pos(r), _pos(r)], lambda D, a: D.Beta(*a)),
    "Pareto": (lambda r: [_pos(r) / 4, _pos(r) + 1.5], lambda D, a: D.Pareto(*a)),
    "Uniform": (lambda r: [r.uniform(0.1, 0.3, B), r.uniform(0.6, 0.9, B)],
                lambda D, a: D.Uniform(*a)),
    "Poisson": (lambda r: [_pos(r)], lambda D, a: D.Poisson(*a)),
    "ContinuousBernoulli": (lambda r: [np.array([0.2, 0.4995, 0.8])],
                            lambda D, a: D.ContinuousBernoulli(*a)),
    "Bernoulli": (lambda r: [r.uniform(0.1, 0.9, B)], lambda D, a: D.Bernoulli(*a)),
    "Binomial": (lambda r: [r.uniform(0.1, 0.9, B)], lambda D, a: D.Binomial(4, *a)),
    "MultivariateNormal": (lambda r: [r.standard_normal(3), _spd(r)],
                           lambda D, a: D.MultivariateNormal(a[0], a[1])),
    "LowRankMultivariateNormal": (
        lambda r: [r.standard_normal(3), r.standard_normal((3, 2)), _pos(r)],
        lambda D, a: D.LowRankMultivariateNormal(*a)),
}
CROSS = sorted((p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
               if p.__name__ != q.__name__ and p.__name__ in FAMILIES
               and q.__name__ in FAMILIES)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pair", CROSS, ids="-".join)
def test_cross_family_kl_matches_torch(pair, dtype):
    """Every cross-family pair torch registers among ember's families: values and grads."""
    rng = np.random.default_rng(1)
    (make_p, build_p), (make_q, build_q) = FAMILIES[pair[0]], FAMILIES[pair[1]]
    arrays = [a.astype(dtype) for a in make_p(rng) + make_q(rng)]
    n_p = len(make_p(np.random.default_rng(0)))
    e_args, t_args = to_ember(arrays, True), to_torch(arrays, True)
    e_kl = ember.distributions.kl_divergence(build_p(ember.distributions, e_args[:n_p]),
                                             build_q(ember.distributions, e_args[n_p:]))
    t_kl = torch.distributions.kl_divergence(build_p(torch.distributions, t_args[:n_p]),
                                             build_q(torch.distributions, t_args[n_p:]))
    assert_same(e_kl, t_kl, **TOL[dtype])
    if not torch.isfinite(t_kl).all():
        return
    t_grads = torch.autograd.grad(t_kl.sum(), t_args, allow_unused=True)
    e_grads = ember.autograd.grad(e_kl.sum(), e_args, allow_unused=True)
    for e_grad, t_grad in zip(e_grads, t_grads):
        if t_grad is None:
            assert e_grad is None or not e_grad.numpy().any()
        else:
            assert_same(e_grad, t_grad, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


def test_every_torch_pair_among_ember_families_is_registered():
    from ember.distributions.kl import _KL_REGISTRY
    ours = {(p.__name__, q.__name__) for p, q in _KL_REGISTRY}
    theirs = {(p.__name__, q.__name__) for p, q in torch.distributions.kl._KL_REGISTRY
              if hasattr(ember.distributions, p.__name__)
              and hasattr(ember.distributions, q.__name__)}
    assert theirs <= ours, theirs - ours
