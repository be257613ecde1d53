"""Copies that tile or place a tensor: tile, repeat_interleave, block_diag and rot90.

tile is `repeat` with the repeats padded to the input's dims; repeat_interleave is built the way
PyTorch builds it (int repeats: unsqueeze → expand → contiguous → flatten; tensor repeats: an
index_select with the repeated indices), so its grad_fn names are PyTorch's; block_diag and
rot90 are one op each, whose backward is a slice of gy / the opposite rotation.
"""


from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.joins import repeat
from ember.ops.scatter import index_select
from ember.ops.shape import _sizes, expand, flatten, reshape, unsqueeze


@op(method=True)
def tile(input: Tensor, dims) -> Tensor:
    """Repeat the tensor along each dim; missing leading repeats are 1 (matches `torch.tile`)."""
    dims = _sizes((dims,))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


# ---- repeat_interleave --------------------------------------------------------------------------
def _repeat_indices(repeats: Tensor, output_size=None) -> Tensor:
    """0, 0, 1, 2, 2, ...: each position i repeated repeats[i] times."""
    counts = repeats._data
    if counts.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if not xp.issubdtype(counts.dtype, xp.integer):
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{short_name(repeats.dtype)}'")
    if counts.size and counts.min() < 0:
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != int(counts.sum()):
        raise RuntimeError("allocated size does not match required size")
    positions = get_array_module(counts).arange(counts.size, dtype=counts.dtype)
    return Tensor._make(xp.repeat(positions, counts))


@op(method=True)
def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each entry along dim (the flattened input if dim is None); with only a repeats
    tensor, the indices it repeats (matches `torch.repeat_interleave`)."""
    if repeats is None:
        return _repeat_indices(input, output_size)
    if dim is None:
        input, dim = reshape(input, -1), 0
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim] if input._data.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats._data.size == 1:
            repeats = Tensor._make(xp.broadcast_to(repeats._data.reshape(1), (size,)))
        if repeats._data.shape[0] != size:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{repeats._data.shape[0]} and input.size(0) = {size}")
        return index_select(input, dim, _repeat_indices(repeats, output_size))
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != size * repeats:
        raise RuntimeError(
            f"repeat_interleave: Invalid output_size, expected {size * repeats} but got "
            f"{output_size}")
    if input._data.ndim == 0:
        input = reshape(input, 1)
    shape = input._data.shape
    expanded = expand(unsqueeze(input, dim + 1), shape[:dim + 1] + (repeats,) + shape[dim + 1:])
    return flatten(expanded.contiguous(), dim, dim + 1)


# ---- block_diag ---------------------------------------------------------------------------------
class BlockDiag(Op):
    """y = the matrices on the diagonal of a zero matrix;  g_i = gy's block of matrix i."""

    @staticmethod
    def forward(ctx, *xs):
        ctx.shapes = [x._data.shape for x in xs]
        rows = sum(s[0] for s in ctx.shapes)
        cols = sum(s[1] for s in ctx.shapes)
        out = get_array_module(xs[0]._data).zeros((rows, cols), dtype=xs[0]._data.dtype)
        r = c = 0
        for x in xs:
            h, w = x._data.shape
            out[r:r + h, c:c + w] = x._data
            r, c = r + h, c + w
        return out

    @staticmethod
    def backward(ctx, gy):
        grads, r, c = [], 0, 0
        for (h, w), need in zip(ctx.shapes, ctx.needs_input_grad):
            grads.append(gy[r:r + h, c:c + w] if need else None)
            r, c = r + h, c + w
        return tuple(grads)


@op
def block_diag(*tensors) -> Tensor:
    """The inputs (0-d, 1-D as a row, or 2-D) as blocks on a diagonal (matches
    `torch.block_diag`)."""
    if not tensors:
        return Tensor._make(xp.zeros((1, 0), dtype=_dtype.get_default_dtype().numpy))
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{i} has {t._data.ndim} dimensions")
    dtype = _dtype.result_type(*tensors)  # 0-d inputs promote as in an op, not fully
    blocks = [reshape(as_operand(t, dtype), (1, -1) if t._data.ndim < 2 else t._data.shape)
              for t in tensors]
    return BlockDiag.apply(*blocks)


# ---- rot90 --------------------------------------------------------------------------------------
class Rot90(Op):
    """y = x rotated k quarter turns from dims[0] towards dims[1];  gx = gy rotated back."""

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.args = (k, dims)
        return xp.rot90(x._data, k, dims).copy()

    @staticmethod
    def backward(ctx, gy):
        k, dims = ctx.args
        return Rot90.apply(gy, -k, dims), None, None


@op(method=True)
def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90° k times in the plane of two dims (matches `torch.rot90`)."""
    dims = list(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim(dims[0], ndim), wrap_dim(dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = "
            f"{dims[1]}")
    return Rot90.apply(input, k % 4, (d0, d1))
