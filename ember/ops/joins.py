"""Joins and rearranging copies: cat, stack, hstack, vstack, dstack, column_stack (with
atleast_1d/2d/3d) and their inverses split, chunk, tensor_split, hsplit/vsplit/dsplit, unbind
(views of the pieces; unsafe_split/unsafe_chunk untracked), and repeat. The copies that move
entries around (flip, roll, tril/triu) are in `ember.ops.rearrange`; the view ops (view,
reshape, permute, expand, narrow, ...) in `ember.ops.shape`; tile, repeat_interleave,
block_diag, rot90 in `ember.ops.tiling`.

Every backward is written with these same ops or the view ops (cat's gradient is narrowed
pieces, stack's is unbind, split's is cat), so all of them are differentiable any number of
times.
"""

import functools
import itertools
import operator

from ember import _dtype
from ember._backend import xp
from ember._registry import op, tensor_method, write_out
from ember.ops._out_rules import cat_out
from ember._tensor import Tensor, contiguous_format, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.broadcast import sum_to
from ember.ops.conversion import laid_out_as, suggest_memory_format
from ember.ops.creation import check_allocation
from ember.ops._out_overlap import check_out_overlap
from ember.ops.indexing import basic_view
from ember.ops.shape import _sizes, narrow, reshape, unsqueeze


# ---- repeat -------------------------------------------------------------------------------------
class Repeat(Op):
    """y = x tiled `repeats` times per dim;  gx = gy summed over the tiles."""

    @staticmethod
    def forward(ctx, x, repeats):
        padded = (1,) * (len(repeats) - x._data.ndim) + x._data.shape
        ctx.shapes = (x._data.shape, padded, repeats)
        # a negative repeat can only meet an empty dim here (repeat checks): nothing to tile
        return xp.tile(x._data.reshape(padded), tuple(max(r, 0) for r in repeats))

    @staticmethod
    def backward(ctx, gy):
        input_shape, padded, repeats = ctx.shapes
        if any(r < 0 for r in repeats):  # torch's backward reshapes to the negative repeats
            split = [v for pair in zip(repeats, padded) for v in pair]
            raise RuntimeError(f"invalid shape dimension {min(repeats)} of shape {split}")
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
    if any(r < 0 for r in repeats):
        padded = (1,) * (len(repeats) - input._data.ndim) + input._data.shape
        target = [r * n for r, n in zip(repeats, padded)]
        bad = [t for t in target if t < 0]
        if bad:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {bad[0]}: {target}")
        # torch only multiplies the sizes: a negative repeat of an empty dim leaves it empty
    padded = (1,) * (len(repeats) - input._data.ndim) + input._data.shape
    check_allocation([r * n for r, n in zip(repeats, padded)], input._data.itemsize)
    return Repeat.apply(input, repeats)


# ---- joining ------------------------------------------------------------------------------------
class Cat(Op):
    """y = the inputs joined along dim (laid out in memory format fmt);  g_i = the slice of gy
    each input filled."""

    @staticmethod
    def forward(ctx, dim, fmt, *xs):
        ctx.dim = dim
        ctx.sizes = [x._data.shape[dim] if x._data.ndim else 0 for x in xs]
        return laid_out_as(xp.concatenate([x._data for x in xs], axis=dim), fmt)

    @staticmethod
    def backward(ctx, gy):
        grads, start = [], 0
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[2:]):
            grads.append(narrow(gy, ctx.dim, start, size) if need else None)
            start += size
        return (None, None, *grads)


def _cat_format(arrays):
    """The memory format of cat's result: the one all inputs suggest, else contiguous (ATen's
    cat_compute_output_memory_format; a transposed 3-D input suggests contiguous)."""
    formats = {suggest_memory_format(a) for a in arrays}
    return formats.pop() if len(formats) == 1 else contiguous_format


def _concatenate(arrays, dim):
    """arrays joined along dim, laid out as PyTorch's cat lays out its result (NumPy's
    concatenate follows its inputs' stride order instead)."""
    return laid_out_as(xp.concatenate(arrays, axis=dim), _cat_format(arrays))


@op(aliases=("concat", "concatenate"))
def cat(tensors, dim: int = 0, *, out=None) -> Tensor:
    """Join tensors along an existing dim (matches `torch.cat`)."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    if out is None:
        return _cat(tensors, dim)
    result = _cat(tensors, dim)
    check_out_overlap(out, tensors, result._data.shape)
    return write_out(result, out, rule=cat_out)


def _cat(tensors, dim: int) -> Tensor:
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    dtype = functools.reduce(_dtype.promote_types, (t.dtype for t in tensors))
    # NOTE [Legacy empty tensors in cat]: PyTorch skips 1-D tensors of size 0 whatever dim is.
    kept = [t for t in tensors if not (t._data.ndim == 1 and t._data.size == 0)]
    if not kept:  # all legacy empty: still a Cat node, so a graph reaches the inputs
        return Cat.apply(0, contiguous_format, *(as_operand(t, dtype) for t in tensors))
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
    return Cat.apply(dim, _cat_format([t._data for t in tensors]),
                     *(as_operand(t, dtype) for t in kept))


class Stack(Op):
    """y = the inputs stacked along a new dim;  g_i = gy selected at i along that dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        arrays = [x._data for x in xs]
        if dim < arrays[0].ndim:  # PyTorch's stack: cat along dim, then a view splitting it
            shape = arrays[0].shape[:dim] + (len(arrays),) + arrays[0].shape[dim:]
            return _concatenate(arrays, dim).reshape(shape)
        # stacking at the end: cat of the inputs unsqueezed (a new last stride of 1)
        ends = [xp.lib.stride_tricks.as_strided(a, a.shape + (1,), a.strides + (a.itemsize,))
                for a in arrays]
        return _concatenate(ends, dim)

    @staticmethod
    def backward(ctx, gy):
        grads = unbind(gy, ctx.dim)
        return (None, *(g if need else None for g, need in zip(grads, ctx.needs_input_grad[1:])))


@op(out=cat_out)
def stack(tensors, dim: int = 0) -> Tensor:
    """Join tensors along a new dim (matches `torch.stack`)."""
    _non_empty("stack", tensors)
    tensors = list(tensors)
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}")
    dim = wrap_dim(dim, len(first) + 1)
    dtype = functools.reduce(_dtype.promote_types, (t.dtype for t in tensors))
    return Stack.apply(dim, *(as_operand(t, dtype) for t in tensors))


def _tensors_of(tensors) -> tuple:
    """The tensors of `*tensors` given as separate arguments or as one list/tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return tensors


def _one_or_tuple(tensors, fn):
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    return tuple(fn(t) for t in _tensors_of(tensors))


def _at_least_1d(t: Tensor) -> Tensor:
    return reshape(t, 1) if t._data.ndim == 0 else t


def _at_least_2d(t: Tensor) -> Tensor:
    ndim = t._data.ndim
    return reshape(t, 1, 1) if ndim == 0 else unsqueeze(t, 0) if ndim == 1 else t


def _at_least_3d(t: Tensor) -> Tensor:
    ndim = t._data.ndim
    if ndim == 0:
        return reshape(t, 1, 1, 1)
    if ndim == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if ndim == 2 else t


def _non_empty(name: str, tensors) -> None:
    if isinstance(tensors, Tensor):  # a tensor iterates, but torch wants a sequence of them
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    if not len(tensors):
        raise RuntimeError(f"{name} expects a non-empty TensorList")


@op
def atleast_1d(*tensors):
    """The input(s) with at least 1 dim, 0-d ones as shape (1,) (matches `torch.atleast_1d`)."""
    return _one_or_tuple(tensors, _at_least_1d)


@op
def atleast_2d(*tensors):
    """The input(s) with at least 2 dims, new dims in front (matches `torch.atleast_2d`)."""
    return _one_or_tuple(tensors, _at_least_2d)


@op
def atleast_3d(*tensors):
    """The input(s) with at least 3 dims: (n,) -> (1, n, 1), (m, n) -> (m, n, 1) (matches
    `torch.atleast_3d`)."""
    return _one_or_tuple(tensors, _at_least_3d)


@op(out=cat_out)
def hstack(tensors) -> Tensor:
    """cat along dim 1 (dim 0 for 1-D tensors) (matches `torch.hstack`)."""
    _non_empty("hstack", tensors)
    tensors = [_at_least_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors and tensors[0]._data.ndim == 1 else 1)


@op(aliases=("row_stack",), out=cat_out)
def vstack(tensors) -> Tensor:
    """cat along dim 0 of at-least-2-D tensors (matches `torch.vstack`)."""
    _non_empty("vstack", tensors)
    return cat([_at_least_2d(t) for t in tensors], 0)


@op(out=cat_out)
def dstack(tensors) -> Tensor:
    """cat along dim 2 of at-least-3-D tensors (matches `torch.dstack`)."""
    _non_empty("dstack", tensors)
    return cat([_at_least_3d(t) for t in tensors], 2)


@op(out=cat_out)
def column_stack(tensors) -> Tensor:
    """Tensors as columns: 0-d and 1-D ones become (n, 1), then hstack (matches
    `torch.column_stack`)."""
    _non_empty("column_stack", tensors)
    return hstack([reshape(t, -1, 1) if t._data.ndim < 2 else t for t in tensors])


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
    if isinstance(split_size_or_sections, Tensor):  # torch's Tensor.split: a number if it can
        try:
            split_size_or_sections = int(split_size_or_sections)
        except ValueError:
            pass
    elif isinstance(split_size_or_sections, bool):
        raise TypeError("split() received an invalid combination of arguments - got (Tensor, "
                        "bool, int), but expected one of: (Tensor input, int split_size, int dim "
                        "= 0), (Tensor input, tuple of ints split_size, int dim = 0)")
    sized = isinstance(split_size_or_sections, int)
    dim = _dim_arg("split" if sized else "split_with_sizes", dim)
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, tensor._data.ndim)
    length = tensor._data.shape[dim]
    if sized:
        size = split_size_or_sections
        if size < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0 and length != 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of "
                f"{length}")
        count = max(-(-length // size), 1) if size else 1
        sizes = [size] * (count - 1) + [length - size * (count - 1)]
        return _split_views(Split, tensor, dim, sizes)
    sizes = _int_list("split_with_sizes", "split_sizes", split_size_or_sections)
    if any(s < 0 for s in sizes):
        raise RuntimeError("split_with_sizes expects split_sizes have only non-negative entries, "
                           f"but got split_sizes={sizes}")
    if sum(sizes) != length:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's "
            f"size at dimension {dim}), but got split_sizes={sizes}")
    return _split_views(SplitWithSizes, tensor, dim, sizes)


def _dim_arg(name: str, dim) -> int:
    """split's dim as an int, or the TypeError of torch's argument parser (an int64_t: a
    one-element integer tensor only if it is 0-d, unlike a SymInt size)."""
    if isinstance(dim, int) and not isinstance(dim, bool):
        return dim
    if (_is_int_tensor(dim) and dim._data.ndim == 0) or _is_index(dim):
        return int(dim)
    if name == "split":
        raise TypeError("split() received an invalid combination of arguments - got (Tensor, "
                        f"int, {type(dim).__name__}), but expected one of: (Tensor input, int "
                        "split_size, int dim = 0), (Tensor input, tuple of ints split_size, int "
                        "dim = 0)")
    raise TypeError(f"{name}(): argument 'dim' (position 3) must be int, not "
                    f"{type(dim).__name__}")


def _is_index(value) -> bool:
    """An integer of another type (NumPy's): torch's argument parser takes its __index__."""
    return not isinstance(value, (bool, Tensor)) and hasattr(type(value), "__index__")


def _is_int_tensor(value) -> bool:
    """A one-element integer tensor: torch's argument parser takes it where an int goes."""
    return isinstance(value, Tensor) and value._data.size == 1 and not (
        value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == _dtype.bool)


def _int_list(name: str, param: str, values) -> list:
    """`values` as a list of ints, or torch's argument parser's TypeError (position 2): its
    elements may be ints or one-element integer tensors."""
    if isinstance(values, (list, tuple)):
        for i, v in enumerate(values):
            if not (_is_index(v) or _is_int_tensor(v)):
                raise TypeError(f"{name}(): argument '{param}' (position 2) must be tuple of "
                                f"ints, but found element of type {type(v).__name__} at pos {i}")
        return [operator.index(v) for v in values]
    raise TypeError(f"{name}(): argument '{param}' (position 2) must be tuple of ints, not "
                    f"{type(values).__name__}")


@op(method=True)
def chunk(input: Tensor, chunks: int, dim: int = 0):
    """Split into `chunks` pieces, the last possibly smaller (matches `torch.chunk`)."""
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input._data.shape[wrap_dim(dim, input._data.ndim)]
    if length == 0:
        return split(input, [0] * chunks, dim)  # PyTorch gives `chunks` empty pieces
    return split(input, -(-length // chunks), dim)


@op(method=True)
def split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """Views of consecutive pieces of the listed sizes along dim (matches
    `torch.split_with_sizes`)."""
    return split(input, _int_list("split_with_sizes", "split_sizes", split_sizes), dim)


def _split_bounds(length: int, indices_or_sections) -> list:
    """(start, stop) of each piece: `sections` near-equal pieces or cuts at `indices`."""
    if isinstance(indices_or_sections, Tensor):
        array = indices_or_sections._data
        if array.dtype != xp.int64:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
                f"got {short_name(indices_or_sections.dtype)}")
        if array.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {array.ndim} dims")
        indices_or_sections = int(array) if array.ndim == 0 else array.tolist()
    if isinstance(indices_or_sections, (list, tuple)):
        cuts = [0] + [operator.index(i) for i in indices_or_sections] + [length]
        return list(itertools.pairwise(cuts))
    if isinstance(indices_or_sections, bool) or not isinstance(indices_or_sections, int):
        raise TypeError(
            "tensor_split() received an invalid combination of arguments - got "
            f"({type(indices_or_sections).__name__}), but expected one of: (tuple of ints "
            "indices, int dim), (Tensor tensor_indices_or_sections, int dim), (int sections, "
            "int dim)")
    sections = indices_or_sections
    if sections <= 0:
        raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
    size, extra = divmod(length, sections)
    sizes = [size + 1] * extra + [size] * (sections - extra)
    bounds = list(itertools.accumulate(sizes, initial=0))
    return list(itertools.pairwise(bounds))


@op(method=True)
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0):
    """Views of `sections` near-equal pieces, or of the pieces between `indices`, along dim
    (matches `torch.tensor_split`)."""
    if input._data.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = wrap_dim(dim, input._data.ndim)
    bounds = _split_bounds(input._data.shape[dim], indices_or_sections)
    lead = (slice(None),) * dim
    return tuple(basic_view(input, lead + (slice(a, b),)) for a, b in bounds)


def _split_along(name: str, input: Tensor, indices_or_sections, dim: int, min_dims: int):
    """hsplit/vsplit/dsplit: tensor_split, but equal sections must divide the dim exactly."""
    ndim = input._data.ndim
    if ndim < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a "
            f"tensor with {ndim} dimensions!")
    if isinstance(indices_or_sections, Tensor):  # tensor_split takes one; torch.{name} doesn't
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        "Tensor), but expected (Tensor input, int sections) or (Tensor input, "
                        "tuple of ints indices)")
    if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
        size = input._data.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


@op(method=True)
def hsplit(input: Tensor, indices_or_sections):
    """tensor_split along dim 1 (dim 0 of a 1-D tensor) (matches `torch.hsplit`)."""
    dim = 0 if input._data.ndim == 1 else 1
    return _split_along("hsplit", input, indices_or_sections, dim, 1)


@op(method=True)
def vsplit(input: Tensor, indices_or_sections):
    """tensor_split along dim 0 of an at-least-2-D tensor (matches `torch.vsplit`)."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


@op(method=True)
def dsplit(input: Tensor, indices_or_sections):
    """tensor_split along dim 2 of an at-least-3-D tensor (matches `torch.dsplit`)."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


class UnsafeSplit(Split):
    """unsafe_split: split whose pieces share memory but are not tracked as views (so they
    may be modified in place), PyTorch's node name."""

    multi_view = False


class UnsafeSplitWithSizes(UnsafeSplit):
    """unsafe_split_with_sizes: the same, PyTorch's node name."""


@op(method=True)
def unsafe_split(tensor: Tensor, split_size: int, dim: int = 0):
    """split without view tracking (matches `torch.unsafe_split`)."""
    if not isinstance(split_size, int) or isinstance(split_size, bool):
        if not _is_int_tensor(split_size):
            raise TypeError("unsafe_split(): argument 'split_size' (position 2) must be int, "
                            f"not {type(split_size).__name__}")
        split_size = int(split_size)
    pieces = split(Tensor._make(tensor._data), split_size, dim)  # PyTorch's errors
    dim = wrap_dim(dim, tensor._data.ndim)
    sizes = [p._data.shape[dim] for p in pieces]
    return _as_tuple(UnsafeSplit.apply(tensor, dim, tuple(sizes)))


@op(method=True)
def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """split_with_sizes without view tracking (matches `torch.unsafe_split_with_sizes`)."""
    split_sizes = _int_list("unsafe_split_with_sizes", "split_sizes", split_sizes)
    split(Tensor._make(input._data), split_sizes, dim)  # PyTorch's errors
    dim = wrap_dim(dim, input._data.ndim)
    return _as_tuple(UnsafeSplitWithSizes.apply(input, dim, tuple(split_sizes)))


@op(method=True)
def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0):
    """chunk without view tracking (matches `torch.unsafe_chunk`)."""
    pieces = chunk(Tensor._make(input._data), chunks, dim)  # PyTorch's errors
    dim = wrap_dim(dim, input._data.ndim)
    sizes = [p._data.shape[dim] for p in pieces]
    return _as_tuple(UnsafeSplit.apply(input, dim, tuple(sizes)))


def _as_tuple(outputs) -> tuple:
    return outputs if isinstance(outputs, tuple) else (outputs,)


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
        out._as_view_of(input, lambda array, index=lead + (i, Ellipsis): array[index])
    return outputs


@tensor_method("__iter__")
def _iter(self):
    """Iterate over dim 0 (PyTorch iterates over `unbind(0)`)."""
    if self._data.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(unbind(self, 0))
