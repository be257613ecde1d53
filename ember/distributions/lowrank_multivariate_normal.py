"""The multivariate normal with covariance W·Wᵀ + diag(D) (matches
`torch.distributions.LowRankMultivariateNormal`).

With W of rank m ≪ n, the Woodbury identity and the matrix determinant lemma reduce the
inverse and log-determinant to the m×m capacitance matrix C = I + Wᵀ·D⁻¹·W.
"""

import math

from ember._device import Size
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.multivariate_normal import batch_mahalanobis, batch_mv
from ember.distributions.utils import lazy_property, standard_normal
from ember.ops.creation import eye
from ember.ops.linalg_decomp import cholesky
from ember.ops.linalg_solve import solve_triangular
from ember.ops.shape import broadcast_tensors
from ember.ops.strided import diag_embed

__all__ = ["LowRankMultivariateNormal"]


def capacitance_tril(W, D):
    """The Cholesky factor of C = I + Wᵀ·D⁻¹·W."""
    m = W.size(-1)
    capacitance = (W.mT / D.unsqueeze(-2)) @ W + eye(m, dtype=W.dtype)
    return cholesky(capacitance)


def lowrank_logdet(D, cap_tril):
    """log det(W·Wᵀ + D) = log det C + log det D (the matrix determinant lemma)."""
    return 2 * cap_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + D.log().sum(-1)


def lowrank_mahalanobis(W, D, x, cap_tril):
    """xᵀ(W·Wᵀ + D)⁻¹x = xᵀD⁻¹x - |C⁻¹ᐟ²·Wᵀ·D⁻¹·x|² (Woodbury)."""
    wt_dinv_x = batch_mv(W.mT / D.unsqueeze(-2), x)
    return (x.pow(2) / D).sum(-1) - batch_mahalanobis(cap_tril, wt_dinv_x)


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor·cov_factorᵀ + diag(cov_diag)) (matches
    `torch.distributions.LowRankMultivariateNormal`)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.dim() < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        if cov_factor.shape[-2:-1] != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape "
                             f"{event_shape[0]} x m")
        if cov_diag.shape[-1:] != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            loc_, self.cov_factor, diag_ = broadcast_tensors(loc.unsqueeze(-1), cov_factor,
                                                             cov_diag.unsqueeze(-1))
        except RuntimeError as error:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                             f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from error
        self.loc = loc_[..., 0]
        self.cov_diag = diag_[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = batch_shape + self.event_shape
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + self.cov_factor.shape[-1:])
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return self._finish_expand(new, batch_shape)

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (W.pow(2).sum(-1) + D).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        """D^½·chol(I + D^-½·W·Wᵀ·D^-½), better conditioned than chol(W·Wᵀ + D)."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        sqrt_d = D.sqrt().unsqueeze(-1)
        scaled = W / sqrt_d
        inner = scaled @ scaled.mT + eye(self._event_shape[0], dtype=W.dtype)
        return (sqrt_d * cholesky(inner)).expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return (W @ W.mT + diag_embed(D)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """D⁻¹ - D⁻¹·W·C⁻¹·Wᵀ·D⁻¹ (Woodbury)."""
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        A = solve_triangular(self._capacitance_tril, W.mT / D.unsqueeze(-2), upper=False)
        return (diag_embed(D.reciprocal()) - A.mT @ A).expand(self._matrix_shape())

    def rsample(self, sample_shape=Size()):
        """loc + W·ε_W + D^½·ε_D with independent standard normal ε's."""
        shape = self._extended_shape(sample_shape)
        W = self._unbroadcasted_cov_factor
        eps_w = standard_normal(shape[:-1] + W.shape[-1:], self.loc.dtype)
        eps_d = standard_normal(shape, self.loc.dtype)
        return self.loc + batch_mv(W, eps_w) + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        mahalanobis = lowrank_mahalanobis(W, D, value - self.loc, self._capacitance_tril)
        log_det = lowrank_logdet(D, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + mahalanobis)

    def entropy(self):
        log_det = lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        entropy = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)
