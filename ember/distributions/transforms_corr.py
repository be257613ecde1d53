"""The transform onto Cholesky factors of correlation matrices (matches
`torch.distributions.transforms.CorrCholeskyTransform`)."""

import math

from ember import _dtype
from ember.distributions import constraints
from ember.distributions.transform_base import Transform
from ember.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix
from ember.nn.functional import pad, softplus
from ember.ops.creation import eye

__all__ = ["CorrCholeskyTransform"]


class CorrCholeskyTransform(Transform):
    """ℝ^(D(D-1)/2) → lower-triangular L with unit rows and positive diagonal (L·Lᵀ is a
    correlation matrix): x fills the strict lower triangle row by row as r = tanh(x), and each
    row is a *signed* stick-breaking of r²: y_ij = r_ij·√(Π_{k<j} (1 - r_ik²)), the diagonal
    taking what is left.

    log|det J| (of x against the strict lower triangle of y) =
    ½ Σ log(1 - Σ_{k<j} y_ik²) + Σ log(1 - tanh² x).
    """

    domain = constraints.real_vector
    codomain = constraints.corr_cholesky
    bijective = True

    def __eq__(self, other):
        return isinstance(other, CorrCholeskyTransform)

    __hash__ = Transform.__hash__

    def _call(self, x):
        eps = _dtype.finfo(x.dtype).eps
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        remaining = (1 - r * r).sqrt().cumprod(-1)  # √Π(1 - r²) along each row
        r = r + eye(r.shape[-1], dtype=r.dtype)  # the diagonal is 1 before scaling
        return r * pad(remaining[..., :-1], [1, 0], value=1)

    def _inverse(self, y):
        left = pad((1 - (y * y).cumsum(-1))[..., :-1], [1, 0], value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(left, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2  # atanh

    def log_abs_det_jacobian(self, x, y, intermediates=None):
        # diag=-2 reads 1 - Σ_{k<j} y_ik² without shifting the cumulative sum
        left = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        stick_breaking = 0.5 * left.log().sum(-1)
        tanh = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick_breaking + tanh

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return shape[:-1] + (d, d)

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return shape[:-2] + (d * (d - 1) // 2,)
