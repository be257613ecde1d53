"""KL divergences that involve the Pareto distribution (matches the Pareto pairs of
`torch.distributions.kl`)."""

import math

from ember.distributions.beta import Beta
from ember.distributions.exponential import Exponential
from ember.distributions.gamma import Gamma
from ember.distributions.gumbel import Gumbel
from ember.distributions.kl import register_kl
from ember.distributions.laplace import Laplace
from ember.distributions.normal import Normal
from ember.distributions.pareto import Pareto
from ember.distributions.uniform import Uniform
from ember.ops.comparison import where
from ember.ops.creation import full_like

__all__ = []


def _x_log_x(tensor):
    return tensor * tensor.log()


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p, q):
    """q.alpha·log(p.scale/q.scale) - log(q.alpha/p.alpha) + q.alpha/p.alpha - 1, infinite when
    p's support starts below q's."""
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return where(p.scale < q.scale, math.inf, result)


@register_kl(Beta, Pareto)
def _kl_beta_pareto(p, q):
    return full_like(p.concentration1, math.inf)


@register_kl(Exponential, Pareto)
@register_kl(Gamma, Pareto)
def _kl_positive_pareto(p, q):
    return full_like(p.rate, math.inf)


@register_kl(Gumbel, Pareto)
@register_kl(Laplace, Pareto)
@register_kl(Normal, Pareto)
def _kl_real_pareto(p, q):
    return full_like(p.loc, math.inf)


@register_kl(Pareto, Beta)
@register_kl(Pareto, Uniform)
def _kl_pareto_bounded(p, q):
    """A Pareto tail is unbounded; Beta and Uniform supports are bounded."""
    return full_like(p.scale, math.inf)


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    scale_rate = p.scale * q.rate
    result = ((p.alpha / scale_rate).log() - p.alpha.reciprocal()
              + p.alpha * scale_rate / (p.alpha - 1) - 1)
    return where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    expected_log_x = p.scale.log() + p.alpha.reciprocal()
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    result = (p.alpha.log() - expected_log_x + t2 + (1 - q.concentration) * expected_log_x
              + q.rate * p.alpha * p.scale / (p.alpha - 1) - 1)
    return where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    two_var = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc).pow(2)
    result = t1 - p.alpha.reciprocal() + (t3 + t4) / two_var - 1
    return where(p.alpha <= 2, math.inf, result)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    result = t2 * (q.alpha + 1) - t1
    return where(p.low < q.scale, math.inf, result)
