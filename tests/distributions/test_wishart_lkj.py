"""Wishart, LKJCholesky and CorrCholeskyTransform beyond the shared table (_cases.py): torch's
argument errors and warnings, reparameterised Wishart gradients, float64 finite-difference
checks, and the statistics of many samples against torch's analytic moments or torch's own
samples (ember's random streams are not torch's)."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 3))
COV = A @ A.T + 3 * np.eye(3)
TRIL = np.linalg.cholesky(COV)


def _d(lib):
    return lib.distributions


ERRORS = {
    "two_matrices": lambda lib, c: _d(lib).Wishart(5.0, covariance_matrix=c, scale_tril=c),
    "no_matrix": lambda lib, c: _d(lib).Wishart(5.0),
    "vector_matrix": lambda lib, c: _d(lib).Wishart(5.0, covariance_matrix=c[0]),
    "df_too_small": lambda lib, c: _d(lib).Wishart(1.5, covariance_matrix=c),
    "df_tensor_too_small": lambda lib, c: _d(lib).Wishart(
        lib.tensor([1.0, 4.0], dtype=c.dtype), covariance_matrix=c),
    "not_positive_definite": lambda lib, c: _d(lib).Wishart(
        5.0, covariance_matrix=-c, validate_args=True),
    "not_lower_cholesky": lambda lib, c: _d(lib).Wishart(5.0, scale_tril=c, validate_args=True),
    "value_outside_support": lambda lib, c: _d(lib).Wishart(
        5.0, covariance_matrix=c, validate_args=True).log_prob(-c),
    "number_df_batched_mean": lambda lib, c: _d(lib).Wishart(
        5.0, covariance_matrix=c.expand(2, 3, 3)).mean,
    "lkj_dim": lambda lib, c: _d(lib).LKJCholesky(1, 1.0),
    "lkj_concentration": lambda lib, c: _d(lib).LKJCholesky(3, -1.0, validate_args=True),
    "lkj_value": lambda lib, c: _d(lib).LKJCholesky(3, 1.0, validate_args=True).log_prob(c),
    "corr_forward_shape": lambda lib, c: _d(lib).CorrCholeskyTransform().forward_shape((2, 5)),
    "corr_inverse_shape": lambda lib, c: _d(lib).CorrCholeskyTransform().inverse_shape((3, 2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    same_message = name in ("df_too_small", "lkj_dim", "two_matrices", "vector_matrix",
                            "corr_forward_shape", "corr_inverse_shape")
    assert_same_error(ERRORS[name], COV, exact_type=True, same_message=same_message)


def test_low_df_warns_like_torch():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Low df values detected"):
            _d(lib).Wishart(2.5, covariance_matrix=(to_ember if lib is ember else to_torch)(COV))


def test_rsample_warns_like_torch():
    """torch 2.13 warns "Singular sample detected." for valid draws (NOTE [Wishart's
    singular-sample check]); ember does the same."""
    for lib in (ember, torch):
        dist = _d(lib).Wishart(5.0, covariance_matrix=(to_ember if lib is ember else
                                                      to_torch)(COV))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dist.rsample((2,))
        assert [str(w.message) for w in caught] == ["Singular sample detected."]


def test_wishart_rsample_gradcheck_with_fixed_noise():
    def draw(tril):
        ember.manual_seed(5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ember.distributions.Wishart(6.0, scale_tril=tril.tril()).rsample((2,))
    tril = ember.tensor(TRIL, requires_grad=True)
    assert ember.autograd.gradcheck(draw, [tril])


@pytest.mark.parametrize("method", ["log_prob", "entropy"])
def test_wishart_gradcheck_float64(method):
    def fn(df, tril, value):
        dist = ember.distributions.Wishart(df, scale_tril=tril.tril())
        return dist.log_prob(value @ value.mT) if method == "log_prob" else dist.entropy()
    leaves = [ember.tensor(np.array([4.5, 6.0]), requires_grad=True),
              ember.tensor(TRIL, requires_grad=True),
              ember.tensor(TRIL + np.eye(3), requires_grad=True)]
    assert ember.autograd.gradcheck(fn, leaves)


def test_lkj_and_corr_cholesky_gradcheck_float64():
    x = ember.tensor(RNG.standard_normal((2, 6)), requires_grad=True)
    c = ember.tensor(np.array([0.7, 2.5]), requires_grad=True)

    def fn(x, c):
        t = ember.distributions.CorrCholeskyTransform()
        y = t(x)
        return ember.distributions.LKJCholesky(4, c).log_prob(y) + t.log_abs_det_jacobian(x, y)
    assert ember.autograd.gradcheck(fn, [x, c])


def test_wishart_sample_moments():
    """Mean and variance of many draws against torch's analytic ones."""
    ember.manual_seed(0)
    df = np.array([4.0, 7.5])
    e = ember.distributions.Wishart(to_ember(df), covariance_matrix=to_ember(COV))
    t = torch.distributions.Wishart(to_torch(df), covariance_matrix=to_torch(COV))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draws = e.sample((20000,)).numpy()
    mean, variance = t.mean.numpy(), t.variance.numpy()
    assert np.all(np.abs(draws.mean(0) - mean) <= 5 * np.sqrt(variance / 20000))
    np.testing.assert_allclose(draws.var(0), variance, rtol=0.1)


@pytest.mark.parametrize("dim, concentration", [(2, 0.5), (3, 1.0), (4, 3.0)])
def test_lkj_sample_statistics_match_torch_samples(dim, concentration):
    """The correlations L·Lᵀ of many draws: same means and variances as torch's draws."""
    ember.manual_seed(1)
    torch.manual_seed(1)
    e_draws = ember.distributions.LKJCholesky(dim, concentration).sample((20000,)).numpy()
    t_draws = torch.distributions.LKJCholesky(dim, concentration).sample((20000,)).numpy()
    e_corr = e_draws @ np.swapaxes(e_draws, -1, -2)
    t_corr = t_draws @ np.swapaxes(t_draws, -1, -2)
    np.testing.assert_allclose(np.diagonal(e_corr, axis1=-2, axis2=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(e_corr.mean(0), t_corr.mean(0), atol=0.03)
    np.testing.assert_allclose(e_corr.var(0), t_corr.var(0), atol=0.02)


def test_wishart_rsample_gradient_of_the_mean():
    """d/dΣ of the mean of many rsample draws ≈ d/dΣ of df·Σ."""
    ember.manual_seed(2)
    cov = ember.tensor(COV, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        draws = ember.distributions.Wishart(5.0, covariance_matrix=cov).rsample((4000,))
    draws.mean(0)[0, 1].backward()
    expected = torch.zeros(3, 3, dtype=torch.float64)
    expected[0, 1] = 5.0
    grad = cov.grad.numpy()
    # the draws depend on Σ through its Cholesky factor: the gradient comes out symmetric-split
    np.testing.assert_allclose(grad + grad.T, (expected + expected.T).numpy(), atol=0.5)


def test_log_prob_of_own_samples_matches_torch():
    for name, make in (("wishart", lambda D, c: D.Wishart(5.0, covariance_matrix=c)),
                       ("lkj", lambda D, c: D.LKJCholesky(3, 1.5))):
        e, t = make(ember.distributions, to_ember(COV)), make(torch.distributions, to_torch(COV))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample = e.sample((4,))
        assert_same(e.log_prob(sample), t.log_prob(to_torch(sample)), rtol=1e-9)
