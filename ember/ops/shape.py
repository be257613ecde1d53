"""Shape ops: views (view, reshape, permute, transpose, squeeze, unsqueeze, expand, split,
unbind, narrow) and copies (cat, stack, repeat, flip, roll, tril/triu).

A view shares memory with its input: its forward returns a NumPy view, and the public function
records how to re-derive it from the base (`_as_view_of`) so in-place ops on views work. Every
backward is written with these same ops (a view's gradient is the inverse view of the output
gradient), so all of them are differentiable any number of times.
"""

import functools
import itertools
import operator
import warnings

import numpy as np

from ember import _dtype
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.broadcast import ExpandTo, sum_to
from ember.ops.indexing import basic_view

__all__ = [
    "broadcast_tensors",
    "broadcast_to",
    "cat",
    "chunk",
    "concat",
    "concatenate",
    "expand",
    "flatten",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "movedim",
    "narrow",
    "permute",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "swapdims",
    "t",
    "transpose",
    "tril",
    "triu",
    "unbind",
    "unflatten",
    "unsqueeze",
    "view",
    "vstack",
]


def _sizes(args) -> tuple:
    """A size given as *args or as one sequence, as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    return tuple(operator.index(s) for s in args)


def _infer_size(shape, numel: int) -> tuple:
    """Resolve one -1 in `shape` for `numel` elements; PyTorch's errors for bad shapes."""
    known = 1
    infer = None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is None:
        if known == numel:
            return tuple(shape)
    elif known == 0:
        if numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous")
    elif numel % known == 0:
        return tuple(shape[:infer]) + (numel // known,) + tuple(shape[infer + 1:])
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def _try_view(array, shape):
    """array reshaped without copying, or None when that is impossible."""
    try:
        return np.reshape(array, shape, copy=False)
    except ValueError:
        return None


def _reshape_fn(shape):
    return lambda array: np.reshape(array, shape)


# ---- view / reshape ---------------------------------------------------------------------------
class View(Op):
    """y = x with a new shape, same memory;  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return np.reshape(x._data, shape, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


class UnsafeView(Op):
    """y = a reshaped copy of x (when no view is possible);  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return np.reshape(x._data, shape, copy=True)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


def _view_dtype(x: Tensor, dtype) -> Tensor:
    """x's bytes reinterpreted as another dtype (PyTorch's `view(dtype)`)."""
    np_dtype = _dtype.to_dtype(dtype).numpy
    out = Tensor._make(x._data.view(np_dtype))
    return out._as_view_of(x, lambda array: array.view(np_dtype))


def view(input: Tensor, *shape) -> Tensor:
    """The same memory with a new shape; never copies (matches `torch.Tensor.view`)."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _view_dtype(input, shape[0])
    shape = _infer_size(_sizes(shape), input._data.size)
    if _try_view(input._data, shape) is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return View.apply(input, shape)._as_view_of(input, _reshape_fn(shape))


def reshape(input: Tensor, *shape) -> Tensor:
    """A view with the new shape when possible, else a copy (matches `torch.reshape`)."""
    shape = _infer_size(_sizes(shape), input._data.size)
    if _try_view(input._data, shape) is None:
        return UnsafeView.apply(input, shape)
    return View.apply(input, shape)._as_view_of(input, _reshape_fn(shape))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """view(other.shape) (matches `torch.Tensor.view_as`)."""
    return view(input, other._data.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """reshape(other.shape) (matches `torch.Tensor.reshape_as`)."""
    return reshape(input, other._data.shape)


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor (matches `torch.ravel`)."""
    return reshape(input, -1)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (matches `torch.flatten`)."""
    ndim = input._data.ndim
    if ndim == 0:
        return reshape(input, 1)
    start, end = wrap_dim(start_dim, ndim), wrap_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    shape = input._data.shape
    return reshape(input, shape[:start] + (-1,) + shape[end + 1:])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dim into `sizes` (matches `torch.unflatten`)."""
    shape = input._data.shape
    dim = wrap_dim(dim, input._data.ndim)
    sizes = _sizes((sizes,))
    try:
        inner = _infer_size(sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[dim]}) in the input tensor") from None
    return view(input, shape[:dim] + inner + shape[dim + 1:])


# ---- permutations -----------------------------------------------------------------------------
class Permute(Op):
    """y = x with its dims reordered by `dims` (a view);  gx = gy permuted back."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x._data, dims)

    @staticmethod
    def backward(ctx, gy):
        return permute(gy, tuple(np.argsort(ctx.dims))), None


def permute(input: Tensor, *dims) -> Tensor:
    """A view with the dims reordered (matches `torch.permute`)."""
    ndim = input._data.ndim
    dims = _sizes(dims)
    if len(dims) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {ndim} is not "
            f"equal to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)._as_view_of(input, lambda a: np.transpose(a, dims))


class Transpose(Op):
    """y = x with dims d0 and d1 swapped (a view);  gx = gy with them swapped back."""

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.swap = (d0, d1)
        return np.swapaxes(x._data, d0, d1) if d0 != d1 else x._data.view()

    @staticmethod
    def backward(ctx, gy):
        return transpose(gy, *ctx.swap), None, None


class T(Transpose):
    """y = x.t() of a matrix (a view);  gx = gy.t()."""


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with two dims swapped (matches `torch.transpose`)."""
    ndim = input._data.ndim
    d0, d1 = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    return Transpose.apply(input, d0, d1)._as_view_of(input, lambda a: np.swapaxes(a, d0, d1))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors come back as they are (matches `torch.t`)."""
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    if ndim < 2:
        return T.apply(input, 0, 0)._as_view_of(input, lambda a: a.view())
    return T.apply(input, 0, 1)._as_view_of(input, lambda a: np.swapaxes(a, 0, 1))


def _T(self) -> Tensor:
    if self._data.ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif self._data.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
            "to reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


def _mT(self) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. Got "
            f"{self._data.ndim}-D tensor.")
    return transpose(self, -2, -1)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dims from `source` to `destination` positions (matches `torch.movedim`)."""
    ndim = input._data.ndim
    source = [source] if isinstance(source, int) else list(source)
    destination = [destination] if isinstance(destination, int) else list(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({source} dims) should "
            f"contain the same number of dims as destination ({destination} dims)")
    source = [wrap_dim(d, ndim) for d in source]
    destination = [wrap_dim(d, ndim) for d in destination]
    order = [d for d in range(ndim) if d not in source]
    for dst, src in sorted(zip(destination, source)):
        order.insert(dst, src)
    return permute(input, tuple(order))


moveaxis = movedim


# ---- squeeze / unsqueeze / expand ---------------------------------------------------------------
class Squeeze(Op):
    """y = x without size-1 dims (a view);  gx = gy reshaped to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return reshape(gy, ctx.input_shape), None


class SqueezeDim(Squeeze):
    """squeeze(dim): the same op, PyTorch's node name for the one-dim form."""

    node_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    """squeeze(dims): the same op, PyTorch's node name for the tuple form."""

    node_name = "SqueezeBackward2"


class Unsqueeze(Squeeze):
    """y = x with a new size-1 dim (a view);  gx = gy reshaped to x's shape."""


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims: all, one, or a tuple of them (matches `torch.squeeze`)."""
    shape = input._data.shape
    if dim is None:
        op, dims = Squeeze, range(len(shape))
    elif isinstance(dim, (tuple, list)):
        op, dims = SqueezeDims, [wrap_dim(d, len(shape)) for d in dim]
    else:
        op, dims = SqueezeDim, [wrap_dim(dim, len(shape))]
    new_shape = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    return op.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at `dim` (matches `torch.unsqueeze`)."""
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape) + 1)
    new_shape = shape[:dim] + (1,) + shape[dim:]
    return Unsqueeze.apply(input, new_shape)._as_view_of(input, _reshape_fn(new_shape))


def expand(input: Tensor, *sizes) -> Tensor:
    """A read-only broadcast view to `sizes`; -1 keeps a size (matches `Tensor.expand`)."""
    sizes = _sizes(sizes)
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({input.type()}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
            f"the tensor ({len(shape)})")
    target = []
    for i, size in enumerate(sizes):
        if i < lead:
            if size < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({size}) isn't allowed in a leading, "
                    f"non-existing dimension {i}")
            target.append(size)
            continue
        old = shape[i - lead]
        if size == -1:
            size = old
        if old != size and old != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({old}) "
                f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}")
        target.append(size)
    target = tuple(target)
    out = ExpandTo.apply(input, target)
    return out._as_view_of(input, lambda a: np.broadcast_to(a, target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """expand(other.shape) (matches `torch.Tensor.expand_as`)."""
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size) -> Tensor:
    """expand to `size` (matches `torch.broadcast_to`)."""
    return expand(input, size)


def broadcast_tensors(*tensors):
    """All tensors expanded to their common shape (matches `torch.broadcast_tensors`)."""
    shape = np.broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


class Repeat(Op):
    """y = x tiled `repeats` times per dim;  gx = gy summed over the tiles."""

    @staticmethod
    def forward(ctx, x, repeats):
        padded = (1,) * (len(repeats) - x._data.ndim) + x._data.shape
        ctx.shapes = (x._data.shape, padded, repeats)
        return np.tile(x._data.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, gy):
        input_shape, padded, repeats = ctx.shapes
        # Interleave (tile, size) per dim; summing the tile axes folds the copies together.
        split = tuple(v for pair in zip(repeats, padded) for v in pair)
        ones = tuple(v for size in padded for v in (1, size))
        return reshape(sum_to(reshape(gy, split), ones), input_shape), None


def repeat(input: Tensor, *repeats) -> Tensor:
    """Tile the tensor along each dim (matches `torch.Tensor.repeat`)."""
    repeats = _sizes(repeats)
    if len(repeats) < input._data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor")
    return Repeat.apply(input, repeats)


# ---- joining and splitting --------------------------------------------------------------------
class Cat(Op):
    """y = the inputs joined along dim;  g_i = the slice of gy each input filled."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] if x._data.ndim else 0 for x in xs]
        return np.concatenate([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, gy):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            grads.append(narrow(gy, ctx.dim, start, size) if need else None)
            start += size
        return (None, *grads)


def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dim (matches `torch.cat`)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dtype = functools.reduce(_dtype.promote_types, (t.dtype for t in tensors))
    # NOTE [Legacy empty tensors in cat]: PyTorch skips 1-D tensors of size 0 whatever dim is.
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)]
    if not kept:
        result = Tensor._make(np.zeros((0,), dtype=dtype.numpy))
        return result if out is None else _copy_out(result, out)
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
    result = Cat.apply(dim, *(as_operand(t, dtype) for t in kept))
    return result if out is None else _copy_out(result, out)


concat = concatenate = cat


def _copy_out(result: Tensor, out: Tensor) -> Tensor:
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._version.value += 1
    return out


class Stack(Op):
    """y = the inputs stacked along a new dim;  g_i = gy selected at i along that dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        return np.stack([x._data for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, gy):
        grads = unbind(gy, ctx.dim)
        return (None, *(g if need else None for g, need in zip(grads, ctx.needs_input_grad[1:])))


def stack(tensors, dim: int = 0, *, out=None) -> Tensor:
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
    result = Stack.apply(dim, *(as_operand(t, dtype) for t in tensors))
    return result if out is None else _copy_out(result, out)


def hstack(tensors) -> Tensor:
    """cat along dim 1 (dim 0 for 1-D tensors) (matches `torch.hstack`)."""
    tensors = [t if t._data.ndim else reshape(t, 1) for t in tensors]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """cat along dim 0 of at-least-2-D tensors (matches `torch.vstack`)."""
    return cat([t if t._data.ndim >= 2 else reshape(t, 1, -1) for t in tensors], 0)


class Split(Op):
    """ys = consecutive slices of x along dim (views);  gx = the gys joined back (cat)."""

    multi_view = True  # its outputs are views that may not be modified in place

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        bounds = np.cumsum((0,) + tuple(sizes))
        lead = (slice(None),) * dim
        return tuple(x._data[lead + (slice(a, b),)] for a, b in itertools.pairwise(bounds))

    @staticmethod
    def backward(ctx, *gys):
        return cat(gys, ctx.dim), None, None


class SplitWithSizes(Split):
    """split with a list of sizes: the same op, PyTorch's node name for that form."""


def _split_views(op, x: Tensor, dim: int, sizes):
    outputs = op.apply(x, dim, tuple(sizes))
    bounds = np.cumsum((0,) + tuple(sizes))
    lead = (slice(None),) * dim
    for out, (a, b) in zip(outputs, itertools.pairwise(bounds)):
        index = lead + (slice(int(a), int(b)),)
        out._as_view_of(x, lambda array, index=index: array[index])
    return outputs


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


def unbind(input: Tensor, dim: int = 0):
    """The slices along dim, as a tuple of views (matches `torch.unbind`)."""
    dim = wrap_dim(dim, input._data.ndim)
    outputs = Unbind.apply(input, dim)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    lead = (slice(None),) * dim
    for i, out in enumerate(outputs):
        out._as_view_of(input, lambda array, index=lead + (i,): array[index])
    return outputs


def _iter(self):
    """Iterate over dim 0 (PyTorch iterates over `unbind(0)`)."""
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(self, 0))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The view of `length` entries from `start` along dim (matches `torch.narrow`)."""
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got "
            f"{start})")
    start %= max(size, 1)
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return basic_view(input, (slice(None),) * dim + (slice(start, start + length),))


# ---- copies that rearrange ----------------------------------------------------------------------
def _dims(dims, ndim) -> tuple:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return tuple(wrap_dim(d, ndim) for d in dims)


class Flip(Op):
    """y = x reversed along dims (a copy);  gx = gy reversed along the same dims."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x._data, dims).copy()

    @staticmethod
    def backward(ctx, gy):
        return flip(gy, ctx.dims), None


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of entries along dims (matches `torch.flip`)."""
    return Flip.apply(input, _dims(dims, input._data.ndim))


def fliplr(input: Tensor) -> Tensor:
    """flip(dim 1) (matches `torch.fliplr`)."""
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:
    """flip(dim 0) (matches `torch.flipud`)."""
    return flip(input, 0)


class Roll(Op):
    """y = x shifted cyclically along dims;  gx = gy shifted back."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.args = (shifts, dims)
        return np.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, gy):
        shifts, dims = ctx.args
        negated = -shifts if isinstance(shifts, int) else tuple(-s for s in shifts)
        return Roll.apply(gy, negated, dims), None, None


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
        return np.tril(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Tril.apply(gy, ctx.diagonal), None


class Triu(Op):
    """y = x with entries below diagonal k zeroed;  gx = triu(gy, k)."""

    @staticmethod
    def forward(ctx, x, diagonal):
        ctx.diagonal = diagonal
        return np.triu(x._data, diagonal)

    @staticmethod
    def backward(ctx, gy):
        return Triu.apply(gy, ctx.diagonal), None


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (matches `torch.tril`)."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (matches `torch.triu`)."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


# ---- Tensor methods -----------------------------------------------------------------------------
def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace_update(fn(self, *args, **kwargs))

    method.__name__ = f"{fn.__name__}_"
    return method


Tensor.view = view
Tensor.view_as = view_as
Tensor.reshape = reshape
Tensor.reshape_as = reshape_as
Tensor.ravel = ravel
Tensor.flatten = flatten
Tensor.unflatten = unflatten
Tensor.permute = permute
Tensor.transpose = transpose
Tensor.swapaxes = Tensor.swapdims = transpose
Tensor.t = t
Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.movedim = Tensor.moveaxis = movedim
Tensor.squeeze = squeeze
Tensor.unsqueeze = unsqueeze
Tensor.expand = expand
Tensor.expand_as = expand_as
Tensor.broadcast_to = broadcast_to
Tensor.repeat = repeat
Tensor.split = split
Tensor.chunk = chunk
Tensor.unbind = unbind
Tensor.__iter__ = _iter
Tensor.narrow = narrow
Tensor.flip = flip
Tensor.fliplr = fliplr
Tensor.flipud = flipud
Tensor.roll = roll
Tensor.tril = tril
Tensor.triu = triu
Tensor.tril_ = _inplace(tril)
Tensor.triu_ = _inplace(triu)
