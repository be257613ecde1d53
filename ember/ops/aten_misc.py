"""Two small aten ops that torch exposes at the top level: `_chunk_cat` (the packing step of
FSDP's gradient reduce-scatter) and `hash_tensor` (an xor fingerprint of the bits).
"""

from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor, short_name, wrap_dim
from ember.ops.joins import cat
from ember.ops.reduction import _axes


# ---- _chunk_cat ------------------------------------------------------------------------------
def _check_chunk_cat(tensors, dim: int, num_chunks: int) -> int:
    """PyTorch's argument errors of _chunk_cat, in its order; dim made non-negative."""
    if num_chunks < 1:
        raise RuntimeError("_chunk_cat expects positive num_chunks")
    if not tensors:
        raise RuntimeError("_chunk_cat expects a non-empty input tensor list")
    for t in tensors:
        if t._data.size == 0:
            raise RuntimeError("_chunk_cat expects non-empty tensor")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("_chunk_cat expects all input tensors with the same dtype")
    ndims = {t._data.ndim for t in tensors}
    if len(ndims) == 1:  # one ndim: dim is wrapped as any dim is (IndexError out of range)
        dim = wrap_dim(dim, tensors[0]._data.ndim)
    elif dim < 0:
        raise RuntimeError("_chunk_cat expects non-negative dim when input tensors have "
                           "different ndims")
    elif any(dim >= n for n in ndims):
        raise RuntimeError("_chunk_cat expects dim < ndim for all input tensors")
    if len({t._data.shape[:dim] for t in tensors}) > 1:
        raise RuntimeError("_chunk_cat expects same sizes of 0,...,dim-1 dimensions for all "
                           "tensors")
    return dim


def _chunked(t: Tensor, dim: int, num_chunks: int) -> Tensor:
    """t padded with zeros along dim to a multiple of num_chunks, then viewed as
    t.shape[:dim] + (num_chunks, one chunk's elements)."""
    size = t._data.shape[dim]
    chunk = -(-size // num_chunks)  # ceil
    if chunk * num_chunks != size:
        pad = list(t._data.shape)
        pad[dim] = chunk * num_chunks - size
        t = cat([t, t.new_zeros(pad)], dim)
    return t.reshape(t._data.shape[:dim] + (num_chunks, -1))


@op
def _chunk_cat(tensors, dim: int, num_chunks: int) -> Tensor:
    """Each tensor cut into num_chunks equal chunks along dim (the last one zero-padded), and
    chunk i of every tensor laid side by side in row i (matches `torch._chunk_cat`)."""
    tensors = list(tensors)
    dim = _check_chunk_cat(tensors, dim, num_chunks)
    return cat([_chunked(t, dim, num_chunks) for t in tensors], dim + 1)


# ---- hash_tensor -----------------------------------------------------------------------------
def _as_words(array):
    """array's elements widened to 64 bits (float64, int64 or uint64) and read as uint64."""
    if array.dtype.kind in "fV":
        wide = array.astype(xp.float64)
    elif array.dtype.kind == "u":
        wide = array.astype(xp.uint64)
    else:
        wide = array.astype(xp.int64)
    return wide.view(xp.uint64)


@op(method=True)
def hash_tensor(input: Tensor, dim=(), *, keepdim: bool = False, mode: int = 0) -> Tensor:
    """The xor of the elements' 64-bit patterns over dims (all if empty), a uint64 tensor
    (matches `torch.hash_tensor`)."""
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    if input.dtype.is_complex:
        raise NotImplementedError(
            f'"xor_sum_cpu" not implemented for \'{short_name(input.dtype)}\'')
    data = input._data
    no_dim = dim is None or (not isinstance(dim, int) and len(dim) == 0)
    if no_dim and data.size == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")
    axes = _axes(dim, data.ndim)
    for axis in axes:
        if data.shape[axis] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {axis} to have non-zero "
                             "size.")
    words = _as_words(data)
    result = xp.bitwise_xor.reduce(words, axis=axes, keepdims=keepdim) if axes else (
        words.copy())
    return Tensor._make(xp.asarray(result, dtype=xp.uint64))

