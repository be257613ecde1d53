"""The table of distribution parameterisations the distribution tests run in ember and torch.

Each case names its parameters (NumPy arrays, made tensors of the test's dtype on each side;
Python numbers stay numbers), how to build the distribution from a library and those tensors,
and the values to evaluate it at (`values`: in the support, with a leading sample dim of 2 to
exercise broadcasting; `probs`: points in (0, 1) for icdf).
"""

import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

B = (3,)  # the batch shape most cases use
K = 4  # categories / event size


@dataclass
class Case:
    params: Callable  # rng -> {name: array or number}
    build: Callable  # (lib, params) -> distribution
    values: Callable  # rng -> array of values in the support
    discrete: bool = False  # values are counts / indices (no gradient w.r.t. them)
    int_values: bool = False  # values are int64 whatever the dtype
    no_grad: tuple = field(default_factory=tuple)  # params that take no gradient
    dtypes: tuple = ("float32", "float64")  # the dtypes torch can evaluate it in


def pos(rng, shape=B, low=0.5, high=2.0):
    return rng.uniform(low, high, shape)


def simplex(rng, shape):
    p = rng.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def spd(rng, batch, n):
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def corr_cholesky(rng, batch, n):
    """Cholesky factors of random correlation matrices."""
    a = spd(rng, batch, n)
    d = 1 / np.sqrt(np.diagonal(a, axis1=-2, axis2=-1))
    return np.linalg.cholesky(a * d[..., :, None] * d[..., None, :])


def counts(rng, n, shape):
    """Multinomial counts of n draws, one row per leading index."""
    flat = [rng.multinomial(n, np.full(shape[-1], 1.0 / shape[-1]))
            for _ in range(int(np.prod(shape[:-1])))]
    return np.array(flat, dtype=np.float64).reshape(shape)


def _lib_d(lib):
    return lib.distributions


CASES = {
    "Normal": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                   lambda lib, p: _lib_d(lib).Normal(p["loc"], p["scale"]),
                   lambda r: r.standard_normal((2,) + B)),
    "Normal_scalar": Case(lambda r: {"loc": 0.5, "scale": 2.0},
                          lambda lib, p: _lib_d(lib).Normal(p["loc"], p["scale"]),
                          lambda r: r.standard_normal((2,))),
    "Bernoulli_probs": Case(lambda r: {"probs": r.uniform(0.1, 0.9, B)},
                            lambda lib, p: _lib_d(lib).Bernoulli(probs=p["probs"]),
                            lambda r: r.integers(0, 2, (2,) + B), discrete=True),
    "Bernoulli_logits": Case(lambda r: {"logits": r.standard_normal(B)},
                             lambda lib, p: _lib_d(lib).Bernoulli(logits=p["logits"]),
                             lambda r: r.integers(0, 2, (2,) + B), discrete=True),
    "Categorical_probs": Case(lambda r: {"probs": simplex(r, B + (K,))},
                              lambda lib, p: _lib_d(lib).Categorical(probs=p["probs"]),
                              lambda r: r.integers(0, K, (2,) + B), discrete=True,
                              int_values=True),
    "Categorical_logits": Case(lambda r: {"logits": r.standard_normal(B + (K,))},
                               lambda lib, p: _lib_d(lib).Categorical(logits=p["logits"]),
                               lambda r: r.integers(0, K, (2,) + B), discrete=True,
                               int_values=True),
    "Uniform": Case(lambda r: {"low": -pos(r), "high": pos(r)},
                    lambda lib, p: _lib_d(lib).Uniform(p["low"], p["high"]),
                    lambda r: r.uniform(-0.4, 0.4, (2,) + B)),
    "MultivariateNormal_cov": Case(
        lambda r: {"loc": r.standard_normal(B + (K,)), "cov": spd(r, B, K)},
        lambda lib, p: _lib_d(lib).MultivariateNormal(p["loc"], covariance_matrix=p["cov"]),
        lambda r: r.standard_normal((2,) + B + (K,))),
    "MultivariateNormal_precision": Case(
        lambda r: {"loc": r.standard_normal((K,)), "prec": spd(r, B, K)},
        lambda lib, p: _lib_d(lib).MultivariateNormal(p["loc"], precision_matrix=p["prec"]),
        lambda r: r.standard_normal((2,) + B + (K,))),
    "MultivariateNormal_tril": Case(
        lambda r: {"loc": r.standard_normal(B + (K,)),
                   "tril": np.linalg.cholesky(spd(r, (), K))},
        lambda lib, p: _lib_d(lib).MultivariateNormal(p["loc"], scale_tril=p["tril"]),
        lambda r: r.standard_normal((2,) + B + (K,))),
    "LowRankMultivariateNormal": Case(
        lambda r: {"loc": r.standard_normal(B + (K,)), "W": r.standard_normal(B + (K, 2)),
                   "D": pos(r, (K,))},
        lambda lib, p: _lib_d(lib).LowRankMultivariateNormal(p["loc"], p["W"], p["D"]),
        lambda r: r.standard_normal((2,) + B + (K,))),
    "Beta": Case(lambda r: {"a": pos(r), "b": pos(r)},
                 lambda lib, p: _lib_d(lib).Beta(p["a"], p["b"]),
                 lambda r: r.uniform(0.05, 0.95, (2,) + B)),
    "Gamma": Case(lambda r: {"c": pos(r), "rate": pos(r)},
                  lambda lib, p: _lib_d(lib).Gamma(p["c"], p["rate"]),
                  lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Dirichlet": Case(lambda r: {"c": pos(r, B + (K,))},
                      lambda lib, p: _lib_d(lib).Dirichlet(p["c"]),
                      lambda r: simplex(r, (2,) + B + (K,))),
    "Laplace": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                    lambda lib, p: _lib_d(lib).Laplace(p["loc"], p["scale"]),
                    lambda r: r.standard_normal((2,) + B)),
    "Exponential": Case(lambda r: {"rate": pos(r)},
                        lambda lib, p: _lib_d(lib).Exponential(p["rate"]),
                        lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Poisson": Case(lambda r: {"rate": pos(r, B, 0.5, 4.0)},
                    lambda lib, p: _lib_d(lib).Poisson(p["rate"]),
                    lambda r: r.integers(0, 6, (2,) + B).astype(float), discrete=True),
    "Binomial": Case(lambda r: {"n": np.array([3.0, 5.0, 8.0]), "probs": r.uniform(0.1, 0.9, B)},
                     lambda lib, p: _lib_d(lib).Binomial(p["n"], probs=p["probs"]),
                     lambda r: r.integers(0, 4, (2,) + B).astype(float), discrete=True,
                     no_grad=("n",)),
    "Binomial_logits": Case(lambda r: {"n": 6, "logits": r.standard_normal(B)},
                            lambda lib, p: _lib_d(lib).Binomial(p["n"], logits=p["logits"]),
                            lambda r: r.integers(0, 7, (2,) + B).astype(float), discrete=True),
    "Multinomial": Case(lambda r: {"probs": simplex(r, B + (K,))},
                        lambda lib, p: _lib_d(lib).Multinomial(5, probs=p["probs"]),
                        lambda r: counts(r, 5, (2,) + B + (K,)), discrete=True),
    "OneHotCategorical": Case(
        lambda r: {"logits": r.standard_normal(B + (K,))},
        lambda lib, p: _lib_d(lib).OneHotCategorical(logits=p["logits"]),
        lambda r: np.eye(K)[r.integers(0, K, (2,) + B)], discrete=True),
    "Gumbel": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                   lambda lib, p: _lib_d(lib).Gumbel(p["loc"], p["scale"]),
                   lambda r: r.standard_normal((2,) + B)),
    "LogNormal": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                      lambda lib, p: _lib_d(lib).LogNormal(p["loc"], p["scale"]),
                      lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Independent": Case(
        lambda r: {"loc": r.standard_normal(B + (K,)), "scale": pos(r, B + (K,))},
        lambda lib, p: _lib_d(lib).Independent(_lib_d(lib).Normal(p["loc"], p["scale"]), 1),
        lambda r: r.standard_normal((2,) + B + (K,))),
    "Transformed_affine_exp": Case(
        lambda r: {"loc": r.standard_normal(B), "scale": pos(r), "a": r.standard_normal(B)},
        lambda lib, p: _lib_d(lib).TransformedDistribution(
            _lib_d(lib).Normal(p["loc"], p["scale"]),
            [_lib_d(lib).AffineTransform(p["a"], 2.0), _lib_d(lib).ExpTransform()]),
        lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Transformed_tanh": Case(
        lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
        lambda lib, p: _lib_d(lib).TransformedDistribution(
            _lib_d(lib).Normal(p["loc"], p["scale"]), _lib_d(lib).TanhTransform()),
        lambda r: r.uniform(-0.9, 0.9, (2,) + B)),
    "Transformed_sigmoid_neg": Case(
        lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
        lambda lib, p: _lib_d(lib).TransformedDistribution(
            _lib_d(lib).Normal(p["loc"], p["scale"]),
            [_lib_d(lib).AffineTransform(0.0, -1.0), _lib_d(lib).SigmoidTransform()]),
        lambda r: r.uniform(0.1, 0.9, (2,) + B)),
    "MixtureSameFamily": Case(
        lambda r: {"logits": r.standard_normal(B + (K,)), "loc": r.standard_normal(B + (K,)),
                   "scale": pos(r, B + (K,))},
        lambda lib, p: _lib_d(lib).MixtureSameFamily(
            _lib_d(lib).Categorical(logits=p["logits"]),
            _lib_d(lib).Normal(p["loc"], p["scale"])),
        lambda r: r.standard_normal((2,) + B)),
    "MixtureSameFamily_mvn": Case(
        lambda r: {"logits": r.standard_normal((K,)), "loc": r.standard_normal((K, 2)),
                   "scale": pos(r, (K, 2))},
        lambda lib, p: _lib_d(lib).MixtureSameFamily(
            _lib_d(lib).Categorical(logits=p["logits"]),
            _lib_d(lib).Independent(_lib_d(lib).Normal(p["loc"], p["scale"]), 1)),
        lambda r: r.standard_normal((2, 2))),
    "Cauchy": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                   lambda lib, p: _lib_d(lib).Cauchy(p["loc"], p["scale"]),
                   lambda r: r.standard_normal((2,) + B)),
    "StudentT": Case(lambda r: {"df": np.array([0.8, 1.5, 4.0]), "loc": r.standard_normal(B),
                                "scale": pos(r)},
                     lambda lib, p: _lib_d(lib).StudentT(p["df"], p["loc"], p["scale"]),
                     lambda r: r.standard_normal((2,) + B)),
    "Chi2": Case(lambda r: {"df": pos(r, B, 1.0, 5.0)},
                 lambda lib, p: _lib_d(lib).Chi2(p["df"]),
                 lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "HalfNormal": Case(lambda r: {"scale": pos(r)},
                       lambda lib, p: _lib_d(lib).HalfNormal(p["scale"]),
                       lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Geometric": Case(lambda r: {"probs": r.uniform(0.1, 0.9, B)},
                      lambda lib, p: _lib_d(lib).Geometric(probs=p["probs"]),
                      lambda r: r.integers(0, 5, (2,) + B).astype(float), discrete=True),
    "RelaxedBernoulli": Case(
        lambda r: {"t": np.array(0.7), "probs": r.uniform(0.1, 0.9, B)},
        lambda lib, p: _lib_d(lib).RelaxedBernoulli(p["t"], probs=p["probs"]),
        lambda r: r.uniform(0.1, 0.9, (2,) + B)),
    "RelaxedOneHotCategorical": Case(
        lambda r: {"t": np.array(0.7), "logits": r.standard_normal(B + (K,))},
        lambda lib, p: _lib_d(lib).RelaxedOneHotCategorical(p["t"], logits=p["logits"]),
        lambda r: simplex(r, (2,) + B + (K,))),
    "Pareto": Case(lambda r: {"scale": pos(r), "alpha": pos(r, B, 1.5, 4.0)},
                   lambda lib, p: _lib_d(lib).Pareto(p["scale"], p["alpha"]),
                   lambda r: pos(r, (2,) + B, 2.0, 5.0)),
    "HalfCauchy": Case(lambda r: {"scale": pos(r)},
                       lambda lib, p: _lib_d(lib).HalfCauchy(p["scale"]),
                       lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "Weibull": Case(lambda r: {"scale": pos(r), "k": pos(r, B, 0.7, 3.0)},
                    lambda lib, p: _lib_d(lib).Weibull(p["scale"], p["k"]),
                    lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "InverseGamma": Case(lambda r: {"c": pos(r, B, 0.5, 4.0), "rate": pos(r)},
                         lambda lib, p: _lib_d(lib).InverseGamma(p["c"], p["rate"]),
                         lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "NegativeBinomial": Case(
        lambda r: {"n": pos(r, B, 1.0, 5.0), "probs": r.uniform(0.1, 0.8, B)},
        lambda lib, p: _lib_d(lib).NegativeBinomial(p["n"], probs=p["probs"]),
        lambda r: r.integers(0, 6, (2,) + B).astype(float), discrete=True),
    "NegativeBinomial_logits": Case(
        lambda r: {"n": 3.0, "logits": r.standard_normal(B)},
        lambda lib, p: _lib_d(lib).NegativeBinomial(p["n"], logits=p["logits"]),
        lambda r: r.integers(0, 6, (2,) + B).astype(float), discrete=True),
    "Kumaraswamy": Case(lambda r: {"a": pos(r, B, 0.5, 3.0), "b": pos(r, B, 0.5, 3.0)},
                        lambda lib, p: _lib_d(lib).Kumaraswamy(p["a"], p["b"]),
                        lambda r: r.uniform(0.05, 0.95, (2,) + B)),
    "LogisticNormal": Case(lambda r: {"loc": r.standard_normal(B), "scale": pos(r)},
                           lambda lib, p: _lib_d(lib).LogisticNormal(p["loc"], p["scale"]),
                           lambda r: simplex(r, (2,) + (K,))),
    "FisherSnedecor": Case(lambda r: {"df1": np.array([1.5, 3.0, 6.0]),
                                      "df2": np.array([1.5, 3.0, 9.0])},
                           lambda lib, p: _lib_d(lib).FisherSnedecor(p["df1"], p["df2"]),
                           lambda r: pos(r, (2,) + B, 0.1, 3.0)),
    "ContinuousBernoulli": Case(
        lambda r: {"probs": np.array([0.2, 0.4995, 0.8])},
        lambda lib, p: _lib_d(lib).ContinuousBernoulli(probs=p["probs"]),
        lambda r: r.uniform(0.05, 0.95, (2,) + B)),
    "ContinuousBernoulli_logits": Case(
        lambda r: {"logits": np.array([-1.5, 0.001, 2.0])},
        lambda lib, p: _lib_d(lib).ContinuousBernoulli(logits=p["logits"]),
        lambda r: r.uniform(0.05, 0.95, (2,) + B)),
    "VonMises": Case(lambda r: {"loc": r.uniform(-3, 3, B), "k": np.array([0.5, 3.0, 8.0])},
                     lambda lib, p: _lib_d(lib).VonMises(p["loc"], p["k"]),
                     lambda r: r.uniform(-3, 3, (2,) + B)),
    "GeneralizedPareto": Case(
        lambda r: {"loc": r.standard_normal(B), "scale": pos(r), "xi": np.array([-0.2, 0.0, 0.6])},
        lambda lib, p: _lib_d(lib).GeneralizedPareto(p["loc"], p["scale"], p["xi"]),
        lambda r: np.array([[2.5, 2.0, 3.0], [2.8, 4.0, 5.0]]),
        # torch 2.13's log_prob compares concentration with a float32 zero: float64 raises
        dtypes=("float32",)),
    "Wishart_cov": Case(lambda r: {"df": pos(r) + K, "cov": spd(r, B, K)},
                        lambda lib, p: _lib_d(lib).Wishart(p["df"], covariance_matrix=p["cov"]),
                        lambda r: spd(r, (2,) + B, K)),
    "Wishart_precision": Case(
        lambda r: {"df": pos(r) + K, "prec": spd(r, (), K)},
        lambda lib, p: _lib_d(lib).Wishart(p["df"], precision_matrix=p["prec"]),
        lambda r: spd(r, (2,) + B, K)),
    "Wishart_tril": Case(lambda r: {"df": 6.5, "tril": np.linalg.cholesky(spd(r, (), K))},
                         lambda lib, p: _lib_d(lib).Wishart(p["df"], scale_tril=p["tril"]),
                         lambda r: spd(r, (2,), K)),
    "LKJCholesky": Case(lambda r: {"c": pos(r, B, 0.3, 3.0)},
                        lambda lib, p: _lib_d(lib).LKJCholesky(3, p["c"]),
                        lambda r: corr_cholesky(r, (2,) + B, 3)),
    "LKJCholesky_scalar": Case(lambda r: {"c": 0.7},
                               lambda lib, p: _lib_d(lib).LKJCholesky(4, p["c"]),
                               lambda r: corr_cholesky(r, (2,), 4)),
}


def make_params(case, rng, dtype_name):
    """The case's parameters as NumPy arrays of the dtype (numbers stay numbers)."""
    params = case.params(rng)
    return {k: np.asarray(v, dtype=dtype_name) if isinstance(v, np.ndarray) else v
            for k, v in params.items()}


def make_values(case, rng, dtype_name):
    values = case.values(rng)
    return np.asarray(values, dtype="int64" if case.int_values else dtype_name)


def inputs(name, dtype):
    """(params, values, probs) as NumPy arrays for one case."""
    case = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    params = make_params(case, rng, dtype)
    values = make_values(case, rng, dtype)
    probs = rng.uniform(0.05, 0.95, values.shape).astype(dtype)
    return params, values, probs
