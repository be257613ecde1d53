"""The Distribution base class against torch: argument validation (the ValueError messages),
value validation in log_prob, set_default_validate_args, sample_n, the constructor errors of
the distributions, and the errors of an unimplemented expand."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.distributions._sampling import standard_gamma_grad
from tests.differential import assert_same, assert_same_error, to_torch


def _t(value, dtype=np.float64):
    return np.asarray(value, dtype=dtype)


# name -> fn(lib, D): a construction or call torch rejects (ValueError unless stated)
INVALID = {
    "normal_negative_scale": lambda lib, D: D.Normal(_tt(lib, [0.0, 1.0]), _tt(lib, [1.0, -1.0])),
    "normal_nan_loc": lambda lib, D: D.Normal(_tt(lib, [np.nan]), _tt(lib, [1.0])),
    "bernoulli_probs_above_one": lambda lib, D: D.Bernoulli(probs=_tt(lib, [1.5])),
    "bernoulli_both": lambda lib, D: D.Bernoulli(probs=_tt(lib, [0.5]), logits=_tt(lib, [0.0])),
    "bernoulli_neither": lambda lib, D: D.Bernoulli(),
    "categorical_negative": lambda lib, D: D.Categorical(probs=_tt(lib, [0.5, -0.1, 0.6])),
    "categorical_scalar": lambda lib, D: D.Categorical(probs=_tt(lib, 1.0)),
    "categorical_scalar_logits": lambda lib, D: D.Categorical(logits=_tt(lib, 1.0)),
    "gamma_zero": lambda lib, D: D.Gamma(_tt(lib, [0.0]), _tt(lib, [1.0])),
    "beta_negative": lambda lib, D: D.Beta(_tt(lib, [-1.0]), _tt(lib, [1.0])),
    "dirichlet_zero": lambda lib, D: D.Dirichlet(_tt(lib, [1.0, 0.0])),
    "dirichlet_scalar": lambda lib, D: D.Dirichlet(_tt(lib, 1.0)),
    "exponential_negative": lambda lib, D: D.Exponential(_tt(lib, [-2.0])),
    "laplace_zero_scale": lambda lib, D: D.Laplace(_tt(lib, [0.0]), _tt(lib, [0.0])),
    "poisson_negative": lambda lib, D: D.Poisson(_tt(lib, [-1.0])),
    "binomial_fractional_count": lambda lib, D: D.Binomial(_tt(lib, [2.5]), _tt(lib, [0.5])),
    "studentt_negative_df": lambda lib, D: D.StudentT(_tt(lib, [-1.0])),
    "mvn_not_pd": lambda lib, D: D.MultivariateNormal(
        _tt(lib, [0.0, 0.0]), covariance_matrix=_tt(lib, [[1.0, 2.0], [2.0, 1.0]])),
    "mvn_not_lower": lambda lib, D: D.MultivariateNormal(
        _tt(lib, [0.0, 0.0]), scale_tril=_tt(lib, [[1.0, 2.0], [0.0, 1.0]])),
    "mvn_two_matrices": lambda lib, D: D.MultivariateNormal(
        _tt(lib, [0.0, 0.0]), covariance_matrix=_tt(lib, np.eye(2)),
        scale_tril=_tt(lib, np.eye(2))),
    "mvn_scalar_loc": lambda lib, D: D.MultivariateNormal(_tt(lib, 0.0), _tt(lib, np.eye(2))),
    "mvn_vector_cov": lambda lib, D: D.MultivariateNormal(_tt(lib, [0.0]), _tt(lib, [1.0])),
    "lowrank_bad_factor": lambda lib, D: D.LowRankMultivariateNormal(
        _tt(lib, [0.0, 0.0]), _tt(lib, np.ones((3, 1))), _tt(lib, [1.0, 1.0])),
    "lowrank_bad_diag": lambda lib, D: D.LowRankMultivariateNormal(
        _tt(lib, [0.0, 0.0]), _tt(lib, np.ones((2, 1))), _tt(lib, [1.0, 1.0, 1.0])),
    "independent_too_many_dims": lambda lib, D: D.Independent(
        D.Normal(_tt(lib, [0.0]), _tt(lib, [1.0])), 2),
    "mixture_not_categorical": lambda lib, D: D.MixtureSameFamily(
        D.Normal(_tt(lib, [0.0]), _tt(lib, [1.0])), D.Normal(_tt(lib, [0.0]), _tt(lib, [1.0]))),
    "mixture_wrong_k": lambda lib, D: D.MixtureSameFamily(
        D.Categorical(logits=_tt(lib, [0.0, 0.0])), D.Normal(_tt(lib, [0.0] * 3), 1.0)),
    "transformed_not_transform": lambda lib, D: D.TransformedDistribution(
        D.Normal(0.0, 1.0), [lambda x: x]),
    "log_prob_outside_support": lambda lib, D: D.Exponential(_tt(lib, [1.0])).log_prob(
        _tt(lib, [-1.0])),
    "log_prob_not_tensor": lambda lib, D: D.Normal(0.0, 1.0).log_prob(0.5),
    "log_prob_bad_event_shape": lambda lib, D: D.Dirichlet(_tt(lib, [1.0, 1.0])).log_prob(
        _tt(lib, [0.2, 0.3, 0.5])),
    "log_prob_not_broadcastable": lambda lib, D: D.Normal(
        _tt(lib, [0.0, 1.0]), _tt(lib, [1.0, 1.0])).log_prob(_tt(lib, [0.0, 1.0, 2.0])),
    "categorical_log_prob_out_of_range": lambda lib, D: D.Categorical(
        logits=_tt(lib, [0.0, 0.0])).log_prob(lib.tensor([2])),
    "bernoulli_log_prob_fraction": lambda lib, D: D.Bernoulli(_tt(lib, [0.3])).log_prob(
        _tt(lib, [0.5])),
    "binomial_inhomogeneous_entropy": lambda lib, D: D.Binomial(
        _tt(lib, [2.0, 3.0]), _tt(lib, [0.5, 0.5])).entropy(),
    "multinomial_tensor_count": lambda lib, D: D.Multinomial(_tt(lib, [2.0]),
                                                             _tt(lib, [0.5, 0.5])),
    "independent_enumerate": lambda lib, D: D.Independent(
        D.Bernoulli(_tt(lib, [0.5, 0.5])), 1).enumerate_support(),
    "base_mean": lambda lib, D: D.Distribution().mean,
    "base_log_prob": lambda lib, D: D.Distribution().log_prob(_tt(lib, 0.0)),
    "set_default_not_bool": lambda lib, D: D.Distribution.set_default_validate_args(2),
    "cache_size_2": lambda lib, D: D.ExpTransform(cache_size=2),
}


def _tt(lib, value):
    return lib.from_numpy(_t(value))


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_arguments_raise_like_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(lambda lib: INVALID[name](lib, lib.distributions), exact_type=True)


@pytest.mark.parametrize("name", ["normal_negative_scale", "bernoulli_probs_above_one",
                                  "gamma_zero", "bernoulli_both", "log_prob_outside_support",
                                  "log_prob_not_broadcastable", "log_prob_bad_event_shape",
                                  "mvn_two_matrices", "independent_too_many_dims"])
def test_validation_messages_match_torch(name):
    """The messages name the parameter, its shape, the distribution and the constraint."""
    assert_same_error(lambda lib: INVALID[name](lib, lib.distributions), same_message=True)


@pytest.mark.parametrize("validate", [True, False])
def test_validate_args_false_skips_checks(validate):
    """validate_args=False builds invalid distributions and evaluates outside the support."""
    D = ember.distributions
    scale = ember.tensor([-1.0])
    if validate:
        with pytest.raises(ValueError):
            D.Normal(ember.tensor([0.0]), scale, validate_args=True)
    else:
        normal = D.Normal(ember.tensor([0.0]), scale, validate_args=False)
        t_normal = torch.distributions.Normal(torch.tensor([0.0]), torch.tensor([-1.0]),
                                              validate_args=False)
        assert_same(normal.log_prob(ember.tensor([0.5])), t_normal.log_prob(torch.tensor([0.5])))


def test_set_default_validate_args():
    D = ember.distributions
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))  # no error
        assert not D.Normal(0.0, 1.0)._validate_args
        D.Distribution.set_default_validate_args(True)
        with pytest.raises(ValueError):
            D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]))
    finally:
        D.Distribution.set_default_validate_args(True)


def test_sample_n_warns_and_samples():
    normal = ember.distributions.Normal(ember.zeros(2), ember.ones(2))
    with pytest.warns(UserWarning, match="sample_n will be deprecated"):
        assert tuple(normal.sample_n(4).shape) == (4, 2)


def test_expand_of_subclass_without_expand_raises():
    """A subclass with its own __init__ must define expand (torch's NotImplementedError)."""
    for lib in (ember, torch):
        class Shifted(lib.distributions.Normal):
            def __init__(self, loc):
                super().__init__(loc, 1.0)
        with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
            Shifted(lib.zeros(2)).expand((3, 2))


@pytest.mark.parametrize("make", [
    lambda lib: lib.distributions.Normal(0.0, 1.0),
    lambda lib: lib.distributions.Normal(lib.tensor([0.5]), lib.tensor([2.0])),
    lambda lib: lib.distributions.Bernoulli(logits=lib.tensor(0.25)),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.25, 0.75])),
    lambda lib: lib.distributions.Independent(lib.distributions.Normal(lib.zeros(2, 3), 1.0), 1),
    lambda lib: lib.distributions.Uniform(0.0, 2.0),
    lambda lib: lib.distributions.Beta(1.0, 2.0),
])
def test_repr_matches_torch(make):
    assert repr(make(ember)) == repr(make(torch))


def test_lazy_parameters_and_dtype():
    """logits/probs are computed on first use, in the parameter's dtype; numbers give the
    default dtype."""
    D = ember.distributions
    bernoulli = D.Bernoulli(logits=ember.tensor([0.0, 1.0], dtype=ember.float64))
    assert "probs" not in vars(bernoulli)
    assert bernoulli.probs.dtype is ember.float64
    assert "probs" in vars(bernoulli)
    assert D.Normal(0.0, 1.0).loc.dtype is ember.float32
    t_normal = torch.distributions.Normal(0.0, 1.0)
    assert_same(D.Normal(0.0, 1.0).log_prob(ember.tensor(0.5)),
                t_normal.log_prob(torch.tensor(0.5)))


def test_exponential_family_entropy_matches_closed_forms():
    """ExponentialFamily.entropy (Bregman form by autograd) equals each closed form."""
    D = ember.distributions
    rng = np.random.default_rng(0)
    cases = [D.Normal(ember.tensor(rng.normal(size=3)), ember.tensor(rng.uniform(0.5, 2, 3))),
             D.Bernoulli(ember.tensor(rng.uniform(0.1, 0.9, 3))),
             D.Gamma(ember.tensor(rng.uniform(0.5, 2, 3)), ember.tensor(rng.uniform(0.5, 2, 3))),
             D.Exponential(ember.tensor(rng.uniform(0.5, 2, 3)))]
    for dist in cases:
        np.testing.assert_allclose(D.ExponentialFamily.entropy(dist).detach().numpy(),
                                   dist.entropy().numpy(), rtol=1e-5, atol=1e-6)


def test_gamma_rsample_gradient_matches_torch_standard_gamma_grad():
    """The reparameterisation gradient of a Gamma draw is torch's approximation of it."""
    alpha = np.array([0.1, 0.5, 1.0, 2.5, 10.0, 50.0])
    x = np.array([0.01, 0.3, 0.7, 3.0, 9.0, 55.0])
    expected = torch._standard_gamma_grad(to_torch(alpha), to_torch(x))
    actual = standard_gamma_grad(ember.from_numpy(alpha), ember.from_numpy(x))
    assert_same(actual, expected, rtol=1e-12, atol=0)


def test_generalized_pareto_float64_where_torch_raises():
    """torch 2.13's GeneralizedPareto.log_prob raises for float64 parameters (it compares them
    with a float32 zero); ember computes them, and they agree with torch's float32 values."""
    loc, scale, xi = np.array([0.1, -0.3]), np.array([1.5, 0.7]), np.array([0.0, 0.4])
    value = np.array([1.2, 2.0])
    with pytest.raises(RuntimeError):
        torch.distributions.GeneralizedPareto(*to_torch([loc, scale, xi])).log_prob(
            to_torch(value))
    e_dist = ember.distributions.GeneralizedPareto(*[ember.from_numpy(a) for a in (loc, scale, xi)])
    t_dist = torch.distributions.GeneralizedPareto(
        *[torch.from_numpy(a.astype(np.float32)) for a in (loc, scale, xi)])
    expected = t_dist.log_prob(torch.from_numpy(value.astype(np.float32))).double()
    assert_same(e_dist.log_prob(ember.from_numpy(value)), expected, rtol=1e-5)
