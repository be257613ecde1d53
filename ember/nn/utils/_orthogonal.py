"""`parametrizations.orthogonal`: a weight kept orthogonal (unitary) by construction.

The weight is the image of an unconstrained tensor X under a map onto orthogonal matrices:
- matrix_exp: Q = exp(A), A = tril(X) - tril(X)^H skew-Hermitian, so exp(A) is unitary;
- cayley: Q = (I - A/2)^{-1} (I + A/2), the Cayley retraction of the same A;
- householder: Q = H_1 ... H_k, the Householder reflectors stored below X's diagonal.
A wide (n < k) weight is handled transposed. With `use_trivialization` (torch's default), a
buffer `base` holds the orthogonal matrix assigned last, and the weight is base @ Q(X): X starts
at the map's pre-image of the identity, so optimisation moves around the assigned matrix.
"""

from enum import Enum, auto

from ember import _dtype
from ember.autograd.grad_mode import no_grad
from ember.linalg import householder_product, solve
from ember.nn.modules.module import Module
from ember.nn.utils.parametrize import register_parametrization
from ember.ops.creation import eye, randn, zeros_like
from ember.ops.joins import cat

class _OrthMaps(Enum):
    """The maps onto orthogonal matrices (torch's enum: `_Orthogonal.orthogonal_map` prints
    as `_OrthMaps.cayley`)."""

    matrix_exp = auto()
    cayley = auto()
    householder = auto()


def _is_orthogonal(Q, eps=None):
    """Whether Q^H Q = I to 10·n·eps (torch's test before reusing an assigned matrix)."""
    n, k = Q.size(-2), Q.size(-1)
    identity = eye(k, dtype=Q.dtype)
    eps = 10.0 * n * _dtype.finfo(Q.dtype).eps
    return bool((Q.mH @ Q).allclose(identity, atol=eps))


def _make_orthogonal(A):
    """The Q of A's QR decomposition, with R's diagonal made positive (a unique choice)."""
    X, tau = A.geqrf()
    Q = householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """The parametrization: forward maps X to an orthogonal matrix; right_inverse assigns one."""

    def __init__(self, weight, orthogonal_map: _OrthMaps, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map == _OrthMaps.householder:
            reflectors = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (reflectors * reflectors).sum(dim=-2))
            Q = householder_product(reflectors, tau)
            # X's diagonal holds the signs ±1; they are not differentiated through (int cast).
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            X = X.tril()
            if n != k:  # embed the tall X into a square matrix
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-Hermitian
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = A.matrix_exp()
            else:
                identity = eye(n, dtype=A.dtype)
                Q = solve(identity.add(A, alpha=-0.5), identity.add(A, alpha=0.5))
            if n != k:
                Q = Q[..., :k]
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    @no_grad()
    def right_inverse(self, Q):
        """An X whose image is Q (householder), or store Q as `base` and return X for I."""
        if Q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                             f"Got a tensor of shape {Q.shape}.")
        Q_init = Q
        n, k = Q.size(-2), Q.size(-1)
        transpose = n < k
        if transpose:
            Q, n, k = Q.mT, k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != _OrthMaps.householder:
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley "
                    "parametrizations when use_trivialization=False.")
            A, tau = Q.geqrf()
            # diag(R) > 0 makes the decomposition unique; LAPACK's tau == 0 marks a skipped
            # reflection, whose sign is flipped back.
            signs = A.diagonal(dim1=-2, dim2=-1).sign()
            signs[tau == 0.0] *= -1
            A.diagonal(dim1=-2, dim2=-1).copy_(signs)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete the tall Q to a square one with random columns
            N = randn(*(Q.size()[:-2] + (n, n - k)), dtype=Q.dtype)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        # The X mapped to -I by every map; with the sign flips in base, base @ Q(X) = Q_init.
        neg_identity = zeros_like(Q_init)
        neg_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_identity


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep module.name orthogonal (unitary) while training (matches
    `torch.nn.utils.parametrizations.orthogonal`)."""
    weight = getattr(module, name, None)
    if not hasattr(weight, "shape") or not hasattr(weight, "is_complex"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.size(-2) == weight.size(-1)
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    parametrization = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    register_parametrization(module, name, parametrization, unsafe=True)
    return module
