"""Joins and rearranging copies: cat, stack, hstack, vstack and their inverses split, chunk,
unbind (views of the pieces), and copies that move entries around: repeat, flip, roll,
tril/triu. The view ops (view, reshape, permute, expand, narrow, ...) live in `ember.ops.shape`.

Every backward is written with these same ops or the view ops (cat's gradient is narrowed
pieces, stack's is unbind, split's is cat), so all of them are differentiable any number of
times.
"""

import functools
import itertools

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op, tensor_method
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.broadcast import sum_to
from ember.ops.shape import _sizes, narrow, reshape


# ---- repeat -------------------------------------------------------------------------------------
class Repeat(Op):
    """y = x tiled `repeats` times per dim;  gx = gy summed over the tiles."""

    @staticmethod
    def forward(ctx, x, repeats):
        padded = (1,) * (len(repeats) - x._data.ndim) + x._data.shape
        ctx.shapes = (x._data.shape, padded, repeats)
        return xp.tile(x._data.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, gy):
        input_shape, padded, repeats = ctx.shapes
        # Interleave (tile, size) per dim; summing the tile axes folds the copies together.
        split = tuple(v for pair in zip(repeats, padded) for v in pair)
        ones = tuple(v for size in padded for v in (1, size))
        return reshape(sum_to(reshape(gy, split), ones), input_shape), None


@op(function=False, method=True)
def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile the tensor along each dim (matches `torch.Tensor.repeat`)."""
    repeats = _sizes(repeats)
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor")
    return Repeat.apply(input, repeats)


# ---- joining ------------------------------------------------------------------------------------
class Cat(Op):
    """y = the inputs joined along dim;  g_i = the slice of gy each input filled."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] if x._data.ndim else 0 for x in xs]
        return xp.concatenate([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, gy):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(narrow(gy, ctx.dim, start, size) if need else None)
            start += size
        return (None, *grads)


@op(aliases=("concat", "concatenate"), out=True)
def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (matches `torch.cat`)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dtype = functools.reduce(_dtype.promote_types, (t.dtype for t in tensors))
    # NOTE [Legacy empty tensors in cat]: PyTorch skips 1-D tensors of size 0 whatever dim is.
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)]
    if not kept:
        return Tensor._make(get_array_module(tensors[0]._data).zeros((0,), dtype=dtype.numpy))
    for i, t in enumerate(kept):
        if t._data.ndim == 0:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    first = kept[0]._data.shape
    dim = wrap_dim(dim, len(first))
    for t in kept[1:]:
        shape = t._data.shape
        if len(shape) != len(first):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(first)} and {len(shape)}")
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if shape == (0,):
            continue
        for d, (a, b) in enumerate(zip(first, shape)):
            if d != dim and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {a} "
                    f"but got size {b} for tensor number {i} in the list.")
    return Cat.apply(dim, *(as_operand(t, dtype) for t in kept))


class Stack(Op):
    """y = the inputs stacked along a new dim;  g_i = gy selected at i along that dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return xp.stack([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, gy):
        grads = unbind(gy, ctx.dim)
        return (None, *(g if need else None for g, need in zip(grads, ctx.needs_input_grad[1:])))


@op(out=True)
def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors along a new dim (matches `torch.stack`)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}")
    dim = wrap_dim(dim, len(first) + 1)
    dtype = functools.reduce(_dtype.promote_types, (t.dtype for t in tensors))
    return Stack.apply(dim, *(as_operand(t, dtype) for t in tensors))


@op
def hstack(tensors) -> Tensor:
    """cat along dim 1 (dim 0 for 1-D tensors) (matches `torch.hstack`)."""
    tensors = [t if t._data.ndim else reshape(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


@op
def vstack(tensors) -> Tensor:
    """cat along dim 0 of at-least-2-D tensors (matches `torch.vstack`)."""
    return cat([t if t._data.ndim >= 2 else reshape(t, 1, -1) for t in tensors], 0)


# ---- splitting ----------------------------------------------------------------------------------
class Split(Op):
    """ys = consecutive slices of x along dim (views);  gx = the gys joined back (cat)."""

    multi_view = True  # its outputs are views that may not be modified in place

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        bounds = xp.cumsum((0,) + tuple(sizes))
        lead = (slice(None),) * dim
        return tuple(x._data[lead + (slice(a, b),)] for a, b in itertools.pairwise(bounds))

    @staticmethod
    def backward(ctx, *gys):
        return cat(gys, ctx.dim), None, None


class SplitWithSizes(Split):
    """split with a list of sizes: the same op, PyTorch's node name for that form."""


def _split_views(op, x: Tensor, dim: int, sizes):
    outputs = op.apply(x, dim, tuple(sizes))
    bounds = xp.cumsum((0,) + tuple(sizes))
    lead = (slice(None),) * dim
    for out, (a, b) in zip(outputs, itertools.pairwise(bounds)):
        index = lead + (slice(int(a), int(b)),)
        out._as_view_of(x, lambda array, index=index: array[index])
    return outputs


@op(method=True)
def split(tensor: Tensor, split_size_or_sections, dim: int = 0):
    """Views of consecutive pieces along dim: equal pieces of a size, or listed sizes (matches
    `torch.split`)."""
    dim = wrap_dim(dim, tensor._data.ndim)
    length = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and length != 0):
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of "
                f"{length}")
        count = max(-(-length // size), 1) if size else 1
        sizes = [size] * (count - 1) + [length - size * (count - 1)]
        return _split_views(Split, tensor, dim, sizes)
    sizes = [int(s) for s in split_size_or_sections]
    if sum(sizes) != length or any(s < 0 for s in sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's "
            f"size at dimension {dim}), but got split_sizes={sizes}")
    return _split_views(SplitWithSizes, tensor, dim, sizes)


@op(method=True)
def chunk(input: Tensor, chunks: int, dim: int = 0):
    """Split into `chunks` pieces, the last possibly smaller (matches `torch.chunk`)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input._data.shape[wrap_dim(dim, input._data.ndim)]
    if length == 0:
        return split(input, [0] * chunks, dim)  # PyTorch gives `chunks` empty pieces
    return split(input, -(-length // chunks), dim)


class Unbind(Op):
    """ys = the slices of x at each index of dim (views);  gx = the gys stacked."""

    multi_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x._data[lead + (i,)] for i in range(x._data.shape[dim]))

    @staticmethod
    def backward(ctx, *gys):
        return stack(gys, ctx.dim), None


@op(method=True)
def unbind(input: Tensor, dim: int = 0):
    """The slices along dim, as a tuple of views (matches `torch.unbind`)."""
    dim = wrap_dim(dim, input._data.ndim)
    outputs = Unbind.apply(input, dim)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    lead = (slice(None),) * dim
    for i, out in enumerate(outputs):
        out._as_view_of(input, lambda array, index=lead + (i,): array[index])
    return outputs


@tensor_method("__iter__")
def _iter(self):
    """Iterate over dim 0 (PyTorch iterates over `unbind(0)`)."""
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(self, 0))


# ---- copies that rearrange ----------------------------------------------------------------------
def _dims(dims, ndim) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return tuple(wrap_dim(d, ndim) for d in dims)


class Flip(Op):
    """y = x reversed along dims (a copy);  gx = gy reversed along the same dims."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return xp.flip(x._data, dims).copy()

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.dims), None


@op(method=True)
def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of entries along dims (matches `torch.flip`)."""
    return Flip.apply(input, _dims(dims, input._data.ndim))


@op(method=True)
def fliplr(input: Tensor) -> Tensor:
    """flip(dim 1) (matches `torch.fliplr`)."""
    return flip(input, 1)


@op(method=True)
def flipud(input: Tensor) -> Tensor:
    """flip(dim 0) (matches `torch.flipud`)."""
    return flip(input, 0)


class Roll(Op):
    """y = x shifted cyclically along dims;  gx = gy shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.args = (shifts, dims)
        return xp.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, gy):
        shifts, dims = ctx.args
        negated = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return Roll.apply(gy, negated, dims), None, None


@op(method=True)
def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift entries cyclically along dims, or over the flattened tensor (matches `torch.roll`)."""
    if dims is not None:
        dims = _dims(dims, input._data.ndim)
        shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
        if len(shifts) != len(dims):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    elif not isinstance(shifts, int):
        if len(shifts) != 1:
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        shifts = int(shifts[0])
    return Roll.apply(input, shifts, dims)


class Tril(Op):
    """y = x with entries above diagonal k zeroed;  gx = tril(gy, k)."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return xp.tril(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Tril.apply(gy, ctx.diagonal), None


class Triu(Op):
    """y = x with entries below diagonal k zeroed;  gx = triu(gy, k)."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return xp.triu(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Triu.apply(gy, ctx.diagonal), None


@op(method=True, inplace=True)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (matches `torch.tril`)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


@op(method=True, inplace=True)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (matches `torch.triu`)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)
