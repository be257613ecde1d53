"""KL divergences that involve the continuous Bernoulli distribution (matches those pairs
of `torch.distributions.kl`)."""

import math

from ember.distributions.beta import Beta
from ember.distributions.continuous_bernoulli import ContinuousBernoulli
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


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_cb_cb(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def _expected_log_cb(q, mean):
    """E[log q(x)] for a distribution on [0, 1] with the given mean."""
    return mean * q.logits + (-q.probs).log1p() + q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_cb(p, q):
    return -p.entropy() - _expected_log_cb(q, p.mean)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_cb(p, q):
    result = -p.entropy() - _expected_log_cb(q, p.mean)
    return where((p.high >= 1.0) | (p.low <= 0.0), math.inf, result)


@register_kl(ContinuousBernoulli, Pareto)
def _kl_cb_pareto(p, q):
    return full_like(p.probs, math.inf)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_cb_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_cb_normal(p, q):
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).square()) + q.scale.log()
    t3 = (p.variance + p.mean.square() - 2.0 * q.loc * p.mean) / (2.0 * q.scale.square())
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_cb_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return where((q.low >= 0.0) | (q.high <= 1.0), math.inf, result)


@register_kl(Exponential, ContinuousBernoulli)
@register_kl(Gamma, ContinuousBernoulli)
def _kl_positive_cb(p, q):
    return full_like(p.rate, math.inf)


@register_kl(Gumbel, ContinuousBernoulli)
@register_kl(Laplace, ContinuousBernoulli)
@register_kl(Normal, ContinuousBernoulli)
def _kl_real_cb(p, q):
    return full_like(p.loc, math.inf)


@register_kl(Pareto, ContinuousBernoulli)
def _kl_pareto_cb(p, q):
    return full_like(p.scale, math.inf)
