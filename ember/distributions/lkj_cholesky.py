"""The LKJ distribution over Cholesky factors of correlation matrices (matches
`torch.distributions.LKJCholesky`).

The density of the correlation matrix M = L·Lᵀ is ∝ det(M)^(η-1) (uniform for η = 1). Samples
come from the onion method (Lewandowski, Kurowicka & Joe 2009, §3.2), for the Cholesky factor
directly: row i is √yᵢ times a uniform direction in its first i coordinates, yᵢ ~ Beta, and the
diagonal takes the rest of the row's unit length.
"""

import math

from ember._device import Size
from ember.autograd.grad_mode import no_grad
from ember.distributions import constraints
from ember.distributions.beta import Beta
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all
from ember.ops.comparison import clamp
from ember.ops.creation import arange, randn
from ember.ops.joins import cat
from ember.ops.strided import diag_embed
from ember.ops.unary_special import mvlgamma

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ(dim, η) over lower Cholesky factors of dim x dim correlation matrices (matches
    `torch.distributions.LKJCholesky`)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        # the Beta(i/2, η + (dim - 2)/2 - i/2) of row i+1 of the onion method, all rows at once
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = arange(dim - 1, dtype=self.concentration.dtype)
        offset = cat([offset.new_zeros((1,)), offset])
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(batch_shape, Size((dim, dim)), validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        return self._finish_expand(new, batch_shape)

    def sample(self, sample_shape=()):
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            normal = randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
            # row 0 has no entries below the diagonal: its direction is 0, not 0/0
            norm = normal.norm(dim=-1, keepdim=True)
            first_row = arange(self.dim).unsqueeze(-1) == 0
            direction = (normal / norm.where(~first_row, 1.0)).where(~first_row, 0.0)
            w = y.sqrt() * direction
            tiny = 1.1754943508222875e-38 if w.dtype.itemsize == 4 else 2.2250738585072014e-308
            diagonal = clamp(1 - (w * w).sum(-1), min=tiny).sqrt()
            return w + diag_embed(diagonal)

    def log_prob(self, value):
        """log p(L) = Σ_{i≥1} (2(η-1) + dim - 1 - i)·log L_ii - log of the normaliser."""
        if self._validate_args:
            self._validate_sample(value)
        diagonal = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diagonal.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        # the normaliser of Lewandowski et al. p. 1999, with multigammaln's own π term
        normalizer = 0.5 * dm1 * math.log(math.pi) + mvlgamma(alpha - 0.5, dm1) \
            - alpha.lgamma() * dm1
        return unnormalized - normalizer
