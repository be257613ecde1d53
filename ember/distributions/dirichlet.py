"""The Dirichlet distribution (matches `torch.distributions.Dirichlet`)."""

from ember._device import Size
from ember.distributions import constraints
from ember.distributions._sampling import sample_dirichlet
from ember.distributions.exp_family import ExponentialFamily
from ember.nn.functional import one_hot
from ember.ops.comparison import where
from ember.ops.elementwise_ext import xlogy

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """A distribution on the simplex with concentration α over the last dim (matches
    `torch.distributions.Dirichlet`)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self._event_shape)
        return self._finish_expand(new, batch_shape)

    def rsample(self, sample_shape=()):
        """torch's `_sample_dirichlet` draws (Gamma variates in double, normalised), with the
        implicit gradient through the marginal Beta CDFs, as PyTorch's `_Dirichlet`."""
        shape = self._extended_shape(sample_shape)
        return sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        # where every αᵢ < 1 the density peaks at the vertex of the largest αᵢ
        shifted = (self.concentration - 1).clamp(min=0.0)
        all_below_one = (self.concentration < 1).all(-1, keepdim=True)
        # a safe denominator there keeps 0/0 (and its NaN gradient) out of the unused branch
        total = where(all_below_one, 1.0, shifted.sum(-1, keepdim=True))
        vertex = one_hot(shifted.argmax(-1), shifted.shape[-1]).to(shifted.dtype)
        return where(all_below_one, vertex, shifted / total)

    @property
    def variance(self):
        c = self.concentration
        total = c.sum(-1, keepdim=True)
        return c * (total - c) / (total.pow(2) * (total + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        total = c.sum(-1)
        return (c.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((c - 1.0) * c.digamma()).sum(-1))

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
