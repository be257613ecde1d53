"""The distance functions of ember.nn.functional: pairwise_distance, cosine_similarity,
pdist (match `torch.nn.functional`); re-exported from `ember.nn.functional`, and used by
the triplet losses of `ember.nn._functional_loss`.
"""

from ember._backend import xp
from ember._tensor import Tensor


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dim (matches `torch.nn.functional.pairwise_distance`)."""
    ndim = max(x1.ndim, x2.ndim)
    dim = -1 if ndim > 0 else 0
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / max(‖x1‖·‖x2‖, eps) along dim (matches `torch.nn.functional.cosine_similarity`)."""
    # NOTE [cosine_similarity eps]: PyTorch clamps each norm at eps in place under no_grad, so
    # the gradient flows through the clamp as if it were the identity; the same here.
    n1 = _clamp_no_grad(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_no_grad(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _clamp_no_grad(x: Tensor, low: float) -> Tensor:
    """max(x, low) in value, with the gradient of x."""
    shift = xp.maximum(x._data, low) - x._data
    return x + Tensor._make(shift.astype(x._data.dtype, copy=False))


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all pairs of rows, upper triangle (matches `torch.nn.functional.pdist`)."""
    n = input.shape[0]
    i, j = xp.triu_indices(n, 1)
    a = input[Tensor._make(i)]
    b = input[Tensor._make(j)]
    return (a - b).norm(p, -1)
