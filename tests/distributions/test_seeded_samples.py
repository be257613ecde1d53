"""Seeded samples equal torch's: after the same `manual_seed`, `sample` and `rsample` of every
distribution of the table draw what torch 2.13 draws (issue #15 on the streams of issue #17).

Each check compares, in ember and in torch after `manual_seed(seed)`: the sample's dtype and
shape, the generator state afterwards (torch's state bytes, so the same number of words was
drawn and the same Box-Muller value is cached), and the values: bit for bit, except for the
cases of `INEXACT`, where a step after the draws rounds differently in ember and the values are
compared within a few units in the last place (the reason is given with each).
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import to_ember, to_torch
from tests.distributions._cases import CASES, inputs

SEEDS = (0, 2026)
DTYPES = ("float32", "float64")
# Wishart and LKJCholesky are another table's (tests/distributions/test_wishart_lkj.py)
NAMES = [n for n in CASES if not n.startswith(("Wishart", "LKJ"))]

# torch's float32 (and some float64) elementwise functions are its vectorised SLEEF/AVX-512
# kernels; ember's are NumPy's. They differ in the last bit for a few percent of arguments
# (measured on 2e5 arguments: float32 log 17%, log1p 12%, exp 40%, pow 20%, tanh 32%, sigmoid
# 12%, even sqrt 0.6%; float64 log1p 2%, tanh 21%, sigmoid 8%, pow 6%), so a sample that passes
# its draws through one of them agrees to a few ulp, not bit for bit. The draws themselves are
# torch's: the generator states after sampling are equal in every case.
_F32_FUNCTIONS = "torch's float32 {} (SLEEF) differs from NumPy's in the last bit"
_FUNCTIONS = "torch's {} (SLEEF, float32 and float64) differs from NumPy's in the last bit"
# MKL (torch's float64 exp through its VML, and its matrix products) picks its kernels by the
# CPU: on Intel CPUs they agree with NumPy's exp and with ember's emulation of MKL's summation
# order (NOTE [The rounding of batch_mv]) bit for bit, on others (AMD's Zen 4) in the last bits.
_MKL_EXP = "torch's float64 exp is MKL's VML, whose last bit depends on the CPU"
_MKL_PRODUCT = "a matrix product: MKL's summation order depends on the CPU"
_LAPACK = ("the Cholesky factor comes from MKL's LAPACK in torch and NumPy's LAPACK in ember: "
           "the factors differ in the last bits")
INEXACT = {
    ("Laplace", "float32"): _F32_FUNCTIONS.format("log1p"),
    ("Laplace", "float64"): _FUNCTIONS.format("log1p"),
    ("Gumbel", "float32"): _F32_FUNCTIONS.format("log"),
    ("LogNormal", "float32"): _F32_FUNCTIONS.format("exp"),
    ("Transformed_affine_exp", "float32"): _F32_FUNCTIONS.format("exp"),
    ("RelaxedOneHotCategorical", "float32"): _F32_FUNCTIONS.format("log/exp"),
    ("Pareto", "float32"): _F32_FUNCTIONS.format("exp"),
    ("Weibull", "float32"): _FUNCTIONS.format("pow"),
    ("Weibull", "float64"): _FUNCTIONS.format("pow"),
    # Gamma draws through PowerTransform(-1): torch's pow with a tensor exponent of -1
    ("InverseGamma", "float32"): _FUNCTIONS.format("pow"),
    ("InverseGamma", "float64"): _FUNCTIONS.format("pow"),
    # the sampler runs in float64 (cos, acos, log); rounding to float32 hides the last bit
    ("VonMises", "float64"): _FUNCTIONS.format("float64 cos/acos/log"),
    ("GeneralizedPareto", "float32"): _F32_FUNCTIONS.format("log1p/expm1"),
    ("GeneralizedPareto", "float64"): _FUNCTIONS.format("log1p/expm1"),
    ("Transformed_tanh", "float32"): _FUNCTIONS.format("tanh"),
    ("Transformed_tanh", "float64"): _FUNCTIONS.format("tanh"),
    ("Transformed_sigmoid_neg", "float32"): _FUNCTIONS.format("sigmoid"),
    ("Transformed_sigmoid_neg", "float64"): _FUNCTIONS.format("sigmoid"),
    ("RelaxedBernoulli", "float32"): _FUNCTIONS.format("log1p"),
    ("RelaxedBernoulli", "float64"): _FUNCTIONS.format("log1p"),
    ("Kumaraswamy", "float32"): _FUNCTIONS.format("pow"),
    ("Kumaraswamy", "float64"): _FUNCTIONS.format("pow"),
    ("LogisticNormal", "float32"): _FUNCTIONS.format("sigmoid/log1p"),
    ("LogisticNormal", "float64"): _FUNCTIONS.format("sigmoid/log1p"),
    ("ContinuousBernoulli", "float32"): _FUNCTIONS.format("log1p"),
    ("ContinuousBernoulli", "float64"): _FUNCTIONS.format("log1p"),
    ("ContinuousBernoulli_logits", "float32"): _FUNCTIONS.format("log1p"),
    ("ContinuousBernoulli_logits", "float64"): _FUNCTIONS.format("log1p"),
    ("MultivariateNormal_cov", "float32"): _LAPACK,
    ("MultivariateNormal_cov", "float64"): _LAPACK,
    ("MultivariateNormal_precision", "float32"): _LAPACK,
    ("MultivariateNormal_precision", "float64"): _LAPACK,
    ("LogNormal", "float64"): _MKL_EXP,
    ("Transformed_affine_exp", "float64"): _MKL_EXP,
    ("RelaxedOneHotCategorical", "float64"): _MKL_EXP,
    ("Pareto", "float64"): _MKL_EXP,
    ("LowRankMultivariateNormal", "float64"): _MKL_PRODUCT,
    # (the extra table's)
    ("MultivariateNormal_tril24", "float32"): _MKL_PRODUCT,
    ("MultivariateNormal_tril24", "float64"): _MKL_PRODUCT,
    ("LowRankMultivariateNormal_rank12", "float32"): _MKL_PRODUCT,
    ("LowRankMultivariateNormal_rank12", "float64"): _MKL_PRODUCT,
    ("LowRankMultivariateNormal_rank3", "float64"): (
        "torch's float64 sqrt of cov_diag is not correctly rounded on this AVX-512 build "
        "(sqrt(2.0) is one ulp low); NumPy's is"),
    ("GeneralizedPareto_64", "float32"): _FUNCTIONS.format("log1p/expm1"),
    ("GeneralizedPareto_64", "float64"): _FUNCTIONS.format("log1p/expm1"),
    ("LogitRelaxedBernoulli", "float32"): _FUNCTIONS.format("log/log1p"),
    ("LogitRelaxedBernoulli", "float64"): _FUNCTIONS.format("log/log1p"),
    ("InverseGamma_small", "float32"): _FUNCTIONS.format("pow"),
    ("InverseGamma_small", "float64"): _FUNCTIONS.format("pow"),
    ("VonMises_kappas", "float64"): _FUNCTIONS.format("float64 cos/acos/log"),
    ("ExpRelaxedCategorical", "float32"): _F32_FUNCTIONS.format("log/logsumexp"),
}
ULPS = 64  # the tolerance of INEXACT cases, in units of the dtype's eps (relative and absolute)


def _pair(name, dtype, expand=False):
    """The case's distribution built in ember and in torch from the same parameters."""
    params, _, _ = inputs(name, dtype)
    e_dist = CASES[name].build(ember, to_ember(params))
    t_dist = CASES[name].build(torch, to_torch(params))
    if expand:  # an extra leading batch dim: parameters broadcast, not contiguous
        shape = (2,) + tuple(t_dist.batch_shape)
        e_dist, t_dist = e_dist.expand(shape), t_dist.expand(shape)
    return e_dist, t_dist


def _draw(lib, dist, method, seed, *args):
    """`dist.method(*args)` right after `lib.manual_seed(seed)`, and the state after it."""
    lib.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sample_n's deprecation
        value = getattr(dist, method)(*args)
    return value.detach(), lib.get_rng_state()


def _assert_same_draws(name, dtype, e_dist, t_dist, method, seed, *args):
    e_value, e_state = _draw(ember, e_dist, method, seed, *args)
    t_value, t_state = _draw(torch, t_dist, method, seed, *args)
    assert str(e_value.dtype) == str(t_value.dtype)
    assert tuple(e_value.shape) == tuple(t_value.shape)
    assert np.array_equal(e_state.numpy(), t_state.numpy()), "a different number of draws"
    e, t = e_value.numpy(), t_value.numpy()
    if (name, dtype) in INEXACT:
        tol = ULPS * np.finfo(dtype).eps
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)
    else:
        assert np.array_equal(e, t, equal_nan=True), np.abs(e.astype(float) - t.astype(float))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_sample(name, dtype, seed):
    """sample((3,)) after manual_seed(seed)."""
    e_dist, t_dist = _pair(name, dtype)
    _assert_same_draws(name, dtype, e_dist, t_dist, "sample", seed, (3,))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in NAMES if CASES[n].build(torch, to_torch(
    inputs(n, "float64")[0])).has_rsample])
def test_rsample(name, dtype, seed):
    """rsample((3,)) after manual_seed(seed), where torch has a reparameterised sampler."""
    e_dist, t_dist = _pair(name, dtype)
    _assert_same_draws(name, dtype, e_dist, t_dist, "rsample", seed, (3,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_sample_many(name, dtype):
    """sample((300,)): enough draws that a function differing in the last bit for a few
    percent of its arguments shows (the cases not in INEXACT are bit for bit here too)."""
    e_dist, t_dist = _pair(name, dtype)
    _assert_same_draws(name, dtype, e_dist, t_dist, "sample", 1, (300,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_sample_expanded(name, dtype):
    """sample((2,)) of the distribution expanded to an extra batch dim."""
    e_dist, t_dist = _pair(name, dtype, expand=True)
    _assert_same_draws(name, dtype, e_dist, t_dist, "sample", 2026, (2,))


@pytest.mark.parametrize("args", [("sample",), ("sample", ()), ("sample", (2, 3)),
                                  ("sample", (40,)), ("sample_n", 3)], ids=str)
@pytest.mark.parametrize("name", ["Normal", "Normal_scalar", "Categorical_probs", "Gamma",
                                  "Dirichlet", "Beta", "MultivariateNormal_tril", "Poisson",
                                  "Binomial", "VonMises", "MixtureSameFamily", "Multinomial",
                                  "Uniform", "Exponential", "Bernoulli_probs"])
def test_sample_shapes(name, args):
    """sample() / sample(()) / sample((2, 3)) / sample((40,)) (torch's vectorised normal path
    from 16 elements) and the deprecated sample_n(n), in float32."""
    e_dist, t_dist = _pair(name, "float32")
    method, *rest = args
    _assert_same_draws(name, "float32", e_dist, t_dist, method, 0, *rest)


def test_rsample_with_grad_parameters():
    """Parameters that require grad draw the same values, and the gradients flow (Gamma's
    clamp to the smallest normal number is not recorded in the graph)."""
    params, _, _ = inputs("Gamma", "float64")
    e_params = to_ember(params, requires_grad=True)
    t_params = to_torch(params, requires_grad=True)
    e_dist = CASES["Gamma"].build(ember, e_params)
    t_dist = CASES["Gamma"].build(torch, t_params)
    ember.manual_seed(3)
    torch.manual_seed(3)
    e_value, t_value = e_dist.rsample((5,)), t_dist.rsample((5,))
    assert np.array_equal(e_value.detach().numpy(), t_value.detach().numpy())
    e_value.sum().backward()
    t_value.sum().backward()
    for e, t in zip(e_params.values(), t_params.values()):
        # torch's approximation of dx/dc (`_standard_gamma_grad`), evaluated the same way
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_dirichlet_rsample_gradient():
    """Dirichlet.rsample's gradient is torch's `_Dirichlet` backward (the marginal Beta
    draws' implicit gradients, projected onto the simplex)."""
    alpha = np.array([[0.7, 1.5, 3.0], [2.0, 0.4, 1.1]])
    e_alpha, t_alpha = to_ember(alpha, requires_grad=True), to_torch(alpha, requires_grad=True)
    weights = np.array([1.0, -2.0, 0.5])
    ember.manual_seed(5)
    torch.manual_seed(5)
    e_x = ember.distributions.Dirichlet(e_alpha).rsample((4,))
    t_x = torch.distributions.Dirichlet(t_alpha).rsample((4,))
    assert np.array_equal(e_x.detach().numpy(), t_x.detach().numpy())
    (e_x * to_ember(weights)).sum().backward()
    (t_x * to_torch(weights)).sum().backward()
    np.testing.assert_allclose(e_alpha.grad.numpy(), t_alpha.grad.numpy(), rtol=1e-12)


def _t(lib, values, dtype):
    return lib.tensor(values, dtype=getattr(lib, dtype))


_TRIL24 = (np.eye(24) + np.tril(np.linspace(-1.0, 1.0, 24 * 24).reshape(24, 24), -1)).tolist()
_FACTOR40 = np.linspace(-1.0, 1.0, 480).reshape(40, 12).tolist()
# More parameterisations, for the samplers' other branches: (lib, dtype) -> distribution.
EXTRA = {
    "Gamma_small_concentration": lambda lib, d: lib.distributions.Gamma(
        _t(lib, [0.05, 0.3, 0.9], d), _t(lib, [1.0, 2.0, 0.5], d)),
    "Gamma_numbers": lambda lib, d: lib.distributions.Gamma(2.0, 3.0),
    "Chi2_small_df": lambda lib, d: lib.distributions.Chi2(_t(lib, [0.3, 1.0, 7.5], d)),
    "Poisson_large_rates": lambda lib, d: lib.distributions.Poisson(
        _t(lib, [[0.0, 12.0, 50.0], [300.0, 9.9, 1e4]], d)),
    "Binomial_large_counts": lambda lib, d: lib.distributions.Binomial(
        _t(lib, [100.0, 1000.0, 40.0], d), probs=_t(lib, [0.3, 0.7, 0.5], d)),
    "Dirichlet_small_concentration": lambda lib, d: lib.distributions.Dirichlet(
        _t(lib, [[0.1, 0.5, 2.0], [3.0, 0.05, 1.0]], d)),
    "Beta_numbers": lambda lib, d: lib.distributions.Beta(0.5, 2.0),
    "VonMises_kappas": lambda lib, d: lib.distributions.VonMises(
        _t(lib, [0.0, 1.0, -2.0, 3.0], d), _t(lib, [1e-6, 1e-3, 20.0, 300.0], d)),
    "Categorical_batch2d": lambda lib, d: lib.distributions.Categorical(
        probs=_t(lib, [[[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]], [[1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]],
                 d)),
    "Multinomial_20": lambda lib, d: lib.distributions.Multinomial(
        20, probs=_t(lib, [[0.1, 0.2, 0.7], [0.25, 0.25, 0.5]], d)),
    "Bernoulli_number": lambda lib, d: lib.distributions.Bernoulli(0.3),
    "Normal_batch2d": lambda lib, d: lib.distributions.Normal(
        _t(lib, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], d), _t(lib, [0.5, 1.0, 2.0], d)),
    "Exponential_number": lambda lib, d: lib.distributions.Exponential(1.5),
    "Geometric_logits": lambda lib, d: lib.distributions.Geometric(
        logits=_t(lib, [-2.0, 0.0, 3.0], d)),
    "NegativeBinomial_large": lambda lib, d: lib.distributions.NegativeBinomial(
        _t(lib, [30.0, 100.0, 0.5], d), probs=_t(lib, [0.5, 0.9, 0.2], d)),
    "MultivariateNormal_tril6": lambda lib, d: lib.distributions.MultivariateNormal(
        _t(lib, [[0.0] * 6, [1.0] * 6], d),
        scale_tril=lib.eye(6, dtype=getattr(lib, d)) + lib.tril(lib.ones(6, 6, dtype=getattr(
            lib, d)), -1) * 0.25),
    "LowRankMultivariateNormal_rank3": lambda lib, d: lib.distributions.LowRankMultivariateNormal(
        _t(lib, [0.0, 1.0, 2.0, 3.0], d),
        _t(lib, [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [1.0, 1.1, 1.2]]] * 2, d),
        _t(lib, [1.0, 2.0, 0.5, 0.25], d)),
    "StudentT_large_df": lambda lib, d: lib.distributions.StudentT(
        _t(lib, [30.0, 200.0, 0.5], d)),
    "FisherSnedecor_small": lambda lib, d: lib.distributions.FisherSnedecor(
        _t(lib, [0.5, 4.0], d), _t(lib, [0.7, 12.0], d)),
    "HalfNormal_number": lambda lib, d: lib.distributions.HalfNormal(2.0),
    "Uniform_numbers": lambda lib, d: lib.distributions.Uniform(-1.0, 3.0),
    "Independent_Bernoulli": lambda lib, d: lib.distributions.Independent(
        lib.distributions.Bernoulli(probs=_t(lib, [[0.1, 0.5], [0.9, 0.3]], d)), 1),
    "MixtureSameFamily_Gamma": lambda lib, d: lib.distributions.MixtureSameFamily(
        lib.distributions.Categorical(logits=_t(lib, [0.0, 1.0, -1.0], d)),
        lib.distributions.Gamma(_t(lib, [0.5, 2.0, 9.0], d), _t(lib, [1.0, 1.0, 3.0], d))),
    "Cauchy_numbers": lambda lib, d: lib.distributions.Cauchy(1.0, 2.0),
    "InverseGamma_small": lambda lib, d: lib.distributions.InverseGamma(
        _t(lib, [0.2, 3.0], d), _t(lib, [1.0, 0.5], d)),
    "MultivariateNormal_tril24": lambda lib, d: lib.distributions.MultivariateNormal(
        lib.zeros(2, 24, dtype=getattr(lib, d)), scale_tril=_t(lib, _TRIL24, d)),
    "LowRankMultivariateNormal_rank12": lambda lib, d: lib.distributions.LowRankMultivariateNormal(
        lib.zeros(40, dtype=getattr(lib, d)), _t(lib, _FACTOR40, d),
        lib.ones(40, dtype=getattr(lib, d))),
    "OneHotCategoricalStraightThrough": lambda lib, d: (
        lib.distributions.OneHotCategoricalStraightThrough(
            logits=_t(lib, [[0.0, 1.0, -1.0], [2.0, 0.5, 0.0]], d))),
    "LogitRelaxedBernoulli": lambda lib, d: (
        lib.distributions.relaxed_bernoulli.LogitRelaxedBernoulli(
            _t(lib, 0.5, d), logits=_t(lib, [-1.0, 0.0, 2.0], d))),
    "ExpRelaxedCategorical": lambda lib, d: (
        lib.distributions.relaxed_categorical.ExpRelaxedCategorical(
            _t(lib, 0.5, d), logits=_t(lib, [[0.0, 1.0, -1.0], [2.0, 0.5, 0.0]], d))),
}
# GeneralizedPareto with float64 parameters whatever the dtype asked
EXTRA["GeneralizedPareto_64"] = lambda lib, d: lib.distributions.GeneralizedPareto(
    _t(lib, [0.0, 1.0, -1.0], "float64"), _t(lib, [1.0, 2.0, 0.5], "float64"),
    _t(lib, [-0.2, 0.0, 0.6], "float64"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(EXTRA))
def test_sample_extra(name, dtype, seed):
    """sample((4,)) of the extra parameterisations (rsample too where torch has it)."""
    e_dist, t_dist = EXTRA[name](ember, dtype), EXTRA[name](torch, dtype)
    for method in ("sample", "rsample") if t_dist.has_rsample else ("sample",):
        _assert_same_draws(name, dtype, e_dist, t_dist, method, seed, (4,))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [4, 24])
def test_multivariate_normal_rsample_gradient(n, dtype):
    """rsample through both of torch's bmm kernels (n·n < 400 and from 400 on) with a batched
    scale_tril that requires grad: torch's values bit for bit (from 400 on, MKL's: within a few
    ulp, its order depends on the CPU), and the same gradients."""
    rng = np.random.default_rng(n)
    tril = np.tril(rng.uniform(-0.5, 0.5, (2, n, n)), -1) + np.eye(n) * 2
    loc = rng.standard_normal(n)
    e_tril, t_tril = to_ember(tril.astype(dtype), True), to_torch(tril.astype(dtype), True)
    e_loc, t_loc = to_ember(loc.astype(dtype), True), to_torch(loc.astype(dtype), True)
    ember.manual_seed(11)
    torch.manual_seed(11)
    e_x = ember.distributions.MultivariateNormal(e_loc, scale_tril=e_tril).rsample((3,))
    t_x = torch.distributions.MultivariateNormal(t_loc, scale_tril=t_tril).rsample((3,))
    if n * n < 400:
        assert np.array_equal(e_x.detach().numpy(), t_x.detach().numpy())
    else:
        tol = ULPS * np.finfo(dtype).eps
        np.testing.assert_allclose(e_x.detach().numpy(), t_x.detach().numpy(), rtol=tol, atol=tol)
    weights = rng.standard_normal(n).astype(dtype)
    (e_x * to_ember(weights)).sum().backward()
    (t_x * to_torch(weights)).sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(e_tril.grad.numpy(), t_tril.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(e_loc.grad.numpy(), t_loc.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", ["unbatched", "tril_requires_grad"])
def test_multivariate_normal_mkl_paths(case):
    """Where torch's matmul runs MKL's mm (an unbatched sample(), or a 2-d scale_tril that
    requires grad, which torch folds into one mm) the sums are MKL's blocked ones: the same
    draws (equal generator states), values within a few ulp (NOTE [The rounding of batch_mv])."""
    tril = np.tril(np.random.default_rng(2).uniform(-0.5, 0.5, (4, 4)), -1) + 2 * np.eye(4)
    loc = np.zeros(4 if case == "unbatched" else (3, 4))
    grad = case == "tril_requires_grad"
    e_dist = ember.distributions.MultivariateNormal(to_ember(loc), scale_tril=to_ember(tril, grad))
    t_dist = torch.distributions.MultivariateNormal(to_torch(loc), scale_tril=to_torch(tril, grad))
    shape = () if case == "unbatched" else (5,)
    e_value, e_state = _draw(ember, e_dist, "rsample", 0, shape)
    t_value, t_state = _draw(torch, t_dist, "rsample", 0, shape)
    assert np.array_equal(e_state.numpy(), t_state.numpy())
    tol = ULPS * np.finfo(np.float64).eps
    np.testing.assert_allclose(e_value.numpy(), t_value.numpy(), rtol=tol, atol=tol)
