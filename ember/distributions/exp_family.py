"""Exponential-family distributions (matches `torch.distributions.ExponentialFamily`).

p(x; θ) = exp(<t(x), θ> - F(θ) + k(x)): given the natural parameters θ and the log normaliser
F, the entropy is F(θ) - <θ, ∇F(θ)> - E[k(x)], computed here with autograd.
"""

from ember.autograd.gradients import grad
from ember.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """A distribution of the exponential family (matches `torch.distributions.ExponentialFamily`).
    """

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """H = F(θ) - <θ, ∇F(θ)> - E[k(x)] (the Bregman divergence form)."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*params)
        gradients = grad(log_normalizer.sum(), params, create_graph=True)
        result = log_normalizer - self._mean_carrier_measure
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
