"""The multivariate normal distribution (matches `torch.distributions.MultivariateNormal`).

Every parameterisation (covariance Σ, precision Σ⁻¹, or scale_tril L with Σ = L·Lᵀ) is kept
as its Cholesky factor L, which gives samples (μ + L·ε), log-densities and entropies.
"""

import math

from ember._backend import xp
from ember._device import Size
from ember._rng.mathfun import fma32, fma64
from ember.autograd.function import Op
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import lazy_property, standard_normal
from ember.ops.broadcast import sum_to
from ember.ops.creation import eye
from ember.ops.linalg_decomp import cholesky
from ember.ops.linalg_solve import solve_triangular
from ember.ops.shape import broadcast_shapes

__all__ = ["MultivariateNormal"]


def batch_mv(matrix, vector):
    """Batched matrix-vector product with broadcasting: (…, n, m) @ (…, m) -> (…, n), rounded
    as PyTorch's `matmul(matrix, vector.unsqueeze(-1))` (NOTE [The rounding of batch_mv])."""
    if not _takes_bmm(matrix, vector):
        return (matrix @ vector.unsqueeze(-1)).squeeze(-1)
    if matrix.shape[-1] * matrix.shape[-2] < 400:
        terms = matrix * vector.unsqueeze(-2)  # each product rounded, no fused multiply-add
        total = terms[..., 0] + 0.0  # torch's accumulator starts at +0
        for k in range(1, terms.shape[-1]):
            total = total + terms[..., k]
        return total
    return FusedMV.apply(matrix, vector)


# NOTE [The rounding of batch_mv]
# torch's matmul of (…, n, m) and (…, m, 1) runs as bmm when both have batch dims, or when the
# matrix is 2-d without requires_grad and the vector has batch dims (else it folds the batch
# into one MKL mm). bmm with m·n < 400 is ATen's small kernel: for each output a sum over k in
# order, acc = 0; acc += a[k]·b[k], each product rounded (no FMA); from 400 on, its kernel
# (oneDNN's) sums in the same order with fused multiply-adds (checked against torch for
# m = n = 20…128, float32 and float64, every bit). ember reproduces both; MKL's mm blocks its sums
# by the size (for 4 x 4 it adds the even and the odd products apart), which NumPy's matmul
# does not reproduce, so on that path the last bits may differ.
def _takes_bmm(matrix, vector) -> bool:
    """Whether torch's matmul(matrix, vector.unsqueeze(-1)) runs as a bmm."""
    return vector.dim() >= 2 and (matrix.dim() >= 3 or not matrix.requires_grad)


class FusedMV(Op):
    """y = A·v summed over k in order with fused multiply-adds (torch's large bmm kernel);
    gA = gy·vᵀ, gv = Aᵀ·gy, each summed to its operand's broadcast dims."""

    @staticmethod
    def forward(ctx, matrix, vector):
        ctx.save_for_backward(matrix, vector)
        a, v = matrix._data, vector._data
        shape = xp.broadcast_shapes(a.shape[:-1], v.shape[:-1] + (1,))
        a = xp.broadcast_to(a, shape + a.shape[-1:])
        v = xp.broadcast_to(v[..., None, :], shape + v.shape[-1:])
        fused = fma32 if a.dtype == xp.float32 else fma64
        total = xp.zeros(shape, dtype=a.dtype)
        for k in range(a.shape[-1]):
            total = fused(a[..., k], v[..., k], total).astype(a.dtype, copy=False)
        return total

    @staticmethod
    def backward(ctx, gy):
        matrix, vector = ctx.saved_tensors
        g_matrix = sum_to(gy.unsqueeze(-1) * vector.unsqueeze(-2), matrix.shape)
        g_vector = sum_to((matrix.mT @ gy.unsqueeze(-1)).squeeze(-1), vector.shape)
        return g_matrix, g_vector


def batch_mahalanobis(scale_tril, x):
    """xᵀ(L·Lᵀ)⁻¹x = |L⁻¹x|², by one triangular solve (broadcast over batch dims)."""
    shape = broadcast_shapes(scale_tril.shape[:-2], x.shape[:-1])
    n = x.shape[-1]
    lower = scale_tril.expand(shape + (n, n))
    y = solve_triangular(lower, x.expand(shape + (n,)).unsqueeze(-1), upper=False)
    return y.squeeze(-1).pow(2).sum(-1)


def precision_to_scale_tril(precision):
    """L with L·Lᵀ = P⁻¹: the Cholesky factor of P with both axes flipped, inverted."""
    flipped = cholesky(precision.flip((-2, -1)))
    inverse_tril = flipped.flip((-2, -1)).mT
    identity = eye(precision.shape[-1], dtype=precision.dtype)
    return solve_triangular(inverse_tril, identity, upper=False)


class MultivariateNormal(Distribution):
    """N(loc, Σ) over vectors (matches `torch.distributions.MultivariateNormal`)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, scale_tril, precision_matrix)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        name, matrix = next((n, m) for n, m in (("scale_tril", scale_tril),
                                                ("covariance_matrix", covariance_matrix),
                                                ("precision_matrix", precision_matrix))
                            if m is not None)
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = batch_shape + self.event_shape
        matrix_shape = loc_shape + self.event_shape
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(matrix_shape))
        return self._finish_expand(new, batch_shape)

    def _matrix_shape(self):
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def scale_tril(self):
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """(L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹."""
        lower = self._unbroadcasted_scale_tril
        identity = eye(lower.shape[-1], dtype=lower.dtype)
        inverse = solve_triangular(lower, identity, upper=False)
        return (inverse.mT @ inverse).expand(self._matrix_shape())

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=Size()):
        """loc + L·ε with ε ~ N(0, I)."""
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc.dtype)
        return self.loc + batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        """-(n·log 2π + |L⁻¹(x - μ)|²)/2 - Σ log Lᵢᵢ."""
        if self._validate_args:
            self._validate_sample(value)
        lower = self._unbroadcasted_scale_tril
        mahalanobis = batch_mahalanobis(lower, value - self.loc)
        half_log_det = lower.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis) - half_log_det

    def entropy(self):
        """n/2·(1 + log 2π) + Σ log Lᵢᵢ."""
        half_log_det = self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        return entropy if len(self._batch_shape) == 0 else entropy.expand(self._batch_shape)
