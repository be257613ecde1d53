"""The distance functions of ember.nn.functional: pairwise_distance, cosine_similarity,
pdist (match `torch.nn.functional`); re-exported from `ember.nn.functional`, and used by
the triplet losses of `ember.nn._functional_loss`.
"""

from ember._backend import xp
from ember._dtype import float32, float64, promote_types
from ember._registry import torch_function
from ember._tensor import Tensor, short_name
from ember.ops.shape import broadcast_tensors


@torch_function()
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dim (matches `torch.nn.functional.pairwise_distance`)."""
    ndim = max(x1.ndim, x2.ndim)
    dim = -1 if ndim > 0 else 0
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)


@torch_function()
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / max(‖x1‖·‖x2‖, eps) along dim (matches `torch.nn.functional.cosine_similarity`)."""
    # NOTE [cosine_similarity eps]: PyTorch clamps each norm at eps in place under no_grad, so
    # the gradient flows through the clamp as if it were the identity; the same here. It
    # broadcasts the inputs first, so a broadcast dim counts in the norms.
    if x1.shape != x2.shape:
        check_broadcastable(x1.shape, x2.shape)
        x1, x2 = broadcast_tensors(x1, x2)
    if x1.dtype is not x2.dtype or not x1.dtype.is_floating_point:
        common = promote_types(x1.dtype, x2.dtype)  # PyTorch computes in the common dtype
        if not common.is_floating_point:
            raise RuntimeError("expected common dtype to be floating point, yet common dtype "
                               f"is {short_name(common)}")
        x1, x2 = x1.to(common), x2.to(common)
    n1 = _clamp_no_grad(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_no_grad(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def check_broadcastable(a, b) -> None:
    """PyTorch's RuntimeError naming the first (from the right) dims that do not broadcast."""
    for i in range(1, min(len(a), len(b)) + 1):
        if a[-i] != b[-i] and 1 not in (a[-i], b[-i]):
            raise RuntimeError(f"The size of tensor a ({a[-i]}) must match the size of tensor b "
                               f"({b[-i]}) at non-singleton dimension {max(len(a), len(b)) - i}")


def _clamp_no_grad(x: Tensor, low: float) -> Tensor:
    """max(x, low) in value, with the gradient of x."""
    shift = xp.maximum(x._data, low) - x._data
    return x + Tensor._make(shift.astype(x._data.dtype, copy=False))


@torch_function()
def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all pairs of rows, upper triangle (matches `torch.nn.functional.pdist`)."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if not p >= 0:  # NaN too
        raise RuntimeError("pdist only supports non-negative p values")
    if input.dtype not in (float32, float64):
        raise NotImplementedError(f'"pdist" not implemented for \'{short_name(input.dtype)}\'')
    n = input.shape[0]
    i, j = xp.triu_indices(n, 1)
    a = input[Tensor._make(i)]
    b = input[Tensor._make(j)]
    return (a - b).norm(p, -1)
