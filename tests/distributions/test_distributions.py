"""Every distribution of the table (tests/distributions/_cases.py) against torch.distributions:
log_prob, cdf and icdf in float32 and float64 with their gradients w.r.t. the parameters and
the value, and float64 finite-difference checks (moments and entropy are in test_moments.py,
shapes, expand and samples in test_shapes.py)."""

import pytest

import ember
from tests.distributions._methods import CASE_DTYPES, check_method_against_torch


@pytest.mark.parametrize("method", ["log_prob", "cdf", "icdf"])
@pytest.mark.parametrize("name, dtype", CASE_DTYPES)
def test_method_matches_torch(name, dtype, method):
    check_method_against_torch(name, dtype, method)


# name -> (fn(D, *params) -> tensor, parameter arrays): float64 finite-difference checks
GRADCHECKS = {
    "normal_log_prob": (lambda D, loc, scale, x: D.Normal(loc, scale).log_prob(x),
                        [[0.3, -1.0], [0.7, 1.5], [0.1, 0.2]]),
    "gamma_log_prob_entropy": (
        lambda D, c, r, x: D.Gamma(c, r).log_prob(x) + D.Gamma(c, 1.0).entropy(),
        [[0.7, 2.0], [1.5, 0.5], [0.4, 2.2]]),
    "beta_log_prob": (lambda D, a, b, x: D.Beta(a, b).log_prob(x), [[0.7, 2.0], [1.5, 0.5],
                                                                     [0.3, 0.8]]),
    "dirichlet_entropy": (lambda D, c: D.Dirichlet(c).entropy(), [[[0.7, 2.0, 1.1]]]),
    "mvn_log_prob": (lambda D, loc, tril, x: D.MultivariateNormal(
        loc, scale_tril=tril.tril()).log_prob(x),
        [[0.3, -0.2], [[1.5, 0.0], [0.4, 0.8]], [[0.1, 0.5], [1.0, -1.0]]]),
    "lowrank_log_prob": (lambda D, loc, w, d, x: D.LowRankMultivariateNormal(loc, w, d).log_prob(
        x), [[0.3, -0.2], [[0.5], [1.0]], [0.7, 1.2], [0.1, 0.5]]),
    "studentt_log_prob": (lambda D, df, x: D.StudentT(df).log_prob(x), [[1.5, 4.0], [0.3, -2.0]]),
    "binomial_log_prob": (lambda D, p: D.Binomial(5, p).log_prob(
        ember.tensor([2.0, 4.0], dtype=p.dtype)), [[0.3, 0.6]]),
    "mixture_log_prob": (lambda D, logits, loc, x: D.MixtureSameFamily(
        D.Categorical(logits=logits), D.Normal(loc, 1.0)).log_prob(x),
        [[0.3, -0.2, 1.0], [0.0, 1.0, -1.0], [0.5, 2.0]]),
    "transformed_log_prob": (lambda D, loc, x: D.TransformedDistribution(
        D.Normal(loc, 1.0), [D.TanhTransform(), D.AffineTransform(1.0, 2.0)]).log_prob(x),
        [[0.3, -0.2], [0.5, 2.2]]),
    "kl_mvn": (lambda D, a, b: D.kl_divergence(D.MultivariateNormal(a, scale_tril=b.tril()),
                                               D.MultivariateNormal(-a, covariance_matrix=b @ b.mT
                                                                    + D.Normal(0., 1.).mean)),
               [[0.3, -0.2], [[1.5, 0.0], [0.4, 0.8]]]),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck_float64(name):
    fn, arrays = GRADCHECKS[name]
    leaves = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(lambda *xs: fn(ember.distributions, *xs), leaves)


def test_rsample_gradcheck_with_fixed_noise():
    """rsample is a differentiable function of the parameters for fixed noise (reseeded)."""
    def draw(loc, tril):
        ember.manual_seed(3)
        return ember.distributions.MultivariateNormal(loc, scale_tril=tril.tril()).rsample((4,))
    loc = ember.tensor([0.3, -0.2], dtype=ember.float64, requires_grad=True)
    tril = ember.tensor([[1.5, 0.0], [0.4, 0.8]], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(draw, [loc, tril])


@pytest.mark.parametrize("name", ["normal_log_prob", "mvn_log_prob", "beta_log_prob",
                                  "transformed_log_prob"])
def test_gradgradcheck_float64(name):
    """Second derivatives (create_graph=True) through the densities."""
    fn, arrays = GRADCHECKS[name]
    leaves = [ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays]
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember.distributions, *xs), leaves)
