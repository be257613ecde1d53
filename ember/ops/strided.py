"""Strided views and their scatters: diagonal, as_strided, Tensor.unfold (views made by choosing
strides), diag_embed/diag/diagflat (their adjoint copies), the view scatters (diagonal_scatter,
select_scatter, slice_scatter, as_strided_scatter: a copy of the input with a view's region
replaced) and the storage-level methods storage_offset, as_strided_, resize_.

NOTE [Views by strides]
NumPy's `diagonal` returns a read-only array, but a diagonal written through (`x.diagonal()
.fill_(1)`) must reach x. ember builds these views with `as_strided` on the input's own array:
the same memory, writable, and re-derivable from the base by the view function. The gradient of
every such view is "put gy into that region of zeros" (`RegionPut` with the view function), and
that of a view scatter is "zero the region" / "take the region", so all of them are
differentiable any number of times.
"""

import math
import operator

from ember._backend import get_array_module, xp
from ember._registry import op, tensor_method, torch_function
from ember.ops._out_rules import diag_out
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.inplace import RegionPut, RegionTake, RegionZero
from ember.ops.shape import _sizes, movedim, reshape, restride_


def _strided(array, shape, strides):
    """A writable view of `array`'s memory with byte `strides`, starting at its first element."""
    return xp.lib.stride_tricks.as_strided(array, tuple(shape), tuple(strides))


# ---- diagonal -----------------------------------------------------------------------------------
def _diagonal_fn(offset: int, d1: int, d2: int):
    """array -> its (offset, d1, d2) diagonal as a writable view, the diagonal dim last."""

    def view(array):
        n1, n2 = array.shape[d1], array.shape[d2]
        length = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
        if length:
            start = [slice(None)] * array.ndim
            start[d2 if offset >= 0 else d1] = slice(abs(offset), None)
            array = array[tuple(start)]
        rest = [i for i in range(array.ndim) if i not in (d1, d2)]
        shape = [array.shape[i] for i in rest] + [length]
        strides = [array.strides[i] for i in rest] + [array.strides[d1] + array.strides[d2]]
        return _strided(array, shape, strides)

    return view


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


class Diagonal(Op):
    """y = the diagonal of x (a view);  gx = zeros with gy put on that diagonal."""

    @staticmethod
    def forward(ctx, x, view_fn):
        ctx.region = (x._data.shape, view_fn)
        return view_fn(x._data)

    @staticmethod
    def backward(ctx, gy):
        shape, view_fn = ctx.region
        return RegionPut.apply(gy, shape, view_fn, None), None


class DiagonalCopy(Diagonal):
    """diagonal as a copy (torch.diag of a matrix, diagonal_copy): PyTorch's node name."""

    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, view_fn):
        return Diagonal.forward(ctx, x, view_fn).copy()


@op(method=True)
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The view of a diagonal of dims dim1, dim2, as the last dim (matches `torch.diagonal`)."""
    view_fn = _diagonal_fn(offset, *_diagonal_dims(input._data.ndim, dim1, dim2))
    return Diagonal.apply(input, view_fn)._as_view_of(input, view_fn)


class DiagEmbed(Op):
    """y = zeros with x's last dim on the (offset, d1, d2) diagonal;  gx = gy's diagonal."""

    @staticmethod
    def forward(ctx, x, shape, view_fn):
        ctx.view_fn = view_fn
        out = get_array_module(x._data).zeros(shape, dtype=x._data.dtype)
        view_fn(out)[...] = x._data
        return out

    @staticmethod
    def backward(ctx, gy):
        return Diagonal.apply(gy, ctx.view_fn), None, None


@op(method=True)
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose (dim1, dim2) diagonals hold input's last dim (matches
    `torch.diag_embed`)."""
    ndim = input._data.ndim + 1
    d1, d2 = _diagonal_dims(ndim, dim1, dim2)
    n = input._data.shape[-1] + abs(offset)
    shape = list(input._data.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagEmbed.apply(input, tuple(shape), _diagonal_fn(offset, d1, d2))


@op(method=True, out=diag_out)
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input on a matrix diagonal, or a matrix's diagonal as a copy (matches
    `torch.diag`)."""
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
    return DiagonalCopy.apply(input, _diagonal_fn(diagonal, 0, 1))


@op(method=True, out=True)
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on a diagonal of a matrix (matches `torch.diagflat`)."""
    return diag_embed(reshape(input, -1), offset, 0, 1)


# ---- as_strided ---------------------------------------------------------------------------------
def _root(x: Tensor) -> Tensor:
    """The tensor owning x's memory (PyTorch's storage): x's base, or x itself."""
    return x._base if x._base is not None else x


@tensor_method("storage_offset")
def storage_offset(self: Tensor) -> int:
    """The offset of the first element in the storage, in elements (matches PyTorch)."""
    start = _root(self)._data.__array_interface__["data"][0]
    return (self._data.__array_interface__["data"][0] - start) // self._data.itemsize


def _positions(shape, strides, offset):
    """The storage position of every element of a strided layout, as an int64 array."""
    positions = xp.full(tuple(shape), offset, dtype=xp.int64)
    for d, (size, stride) in enumerate(zip(shape, strides)):
        step = xp.arange(size, dtype=xp.int64) * stride
        positions = positions + step.reshape((size,) + (1,) * (len(shape) - d - 1))
    return positions


def _as_strided_fn(size, stride, offset, itemsize):
    def view(array):
        flat = _strided(array, (offset + 1,), (itemsize,))[offset:]
        return _strided(flat, size, [s * itemsize for s in stride])

    return view


class AsStrided(Op):
    """y = the storage read with (size, stride, offset) (a view);  gx = the storage gradient
    (gy added at the positions y reads) read at the positions x occupies."""

    @staticmethod
    def forward(ctx, x, root_array, size, stride, offset):
        ctx.geometry = (x._data.shape, x.stride(), x.storage_offset(), size, stride, offset)
        return _as_strided_fn(size, stride, offset, x._data.itemsize)(root_array)

    @staticmethod
    def backward(ctx, gy):
        shape, x_stride, x_offset, size, stride, offset = ctx.geometry
        read = _positions(size, stride, offset)
        held = _positions(shape, x_stride, x_offset)
        n = int(max(read.max(initial=0), held.max(initial=0))) + 1
        g_storage = RegionPut.apply(gy, (n,), _identity, (read,))
        return RegionTake.apply(g_storage, _identity, (held,)), None, None, None, None


class AsStridedInplace(AsStrided):
    """as_strided_: PyTorch's node name for the in-place form."""

    node_name = "AsStridedBackward1"


def _identity(array):
    return array


def _check_strided(size, stride, offset, storage_size, itemsize):
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(size)}")
    needed = 0 if 0 in size else offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if needed > storage_size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {storage_size * itemsize}")


def strided_args(input: Tensor, size, stride, storage_offset) -> tuple:
    """(storage tensor, size, stride, offset) of an as_strided call, checked as PyTorch does."""
    size, stride = _sizes((size,)), _sizes((stride,))
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: {len(stride)} vs {len(size)}")
    offset = input.storage_offset() if storage_offset is None else operator.index(storage_offset)
    root = _root(input)
    _check_strided(size, stride, offset, root._data.size, input._data.itemsize)
    return root, size, stride, offset


def _as_strided(input: Tensor, size, stride, storage_offset, node) -> Tensor:
    root, size, stride, offset = strided_args(input, size, stride, storage_offset)
    out = node.apply(input, root._data, size, stride, offset)
    return out._as_view_of(root, _as_strided_fn(size, stride, offset, input._data.itemsize))


@op(method=True)
def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view of input's storage with the given sizes, strides and offset (matches
    `torch.as_strided`)."""
    return _as_strided(input, size, stride, storage_offset, AsStrided)


@torch_function("as_strided_")
@tensor_method("as_strided_")
def as_strided_(self: Tensor, size, stride, storage_offset=None) -> Tensor:
    """as_strided in place (matches `torch.Tensor.as_strided_`)."""
    return restride_(self, _as_strided(self, size, stride, storage_offset, AsStridedInplace))


@tensor_method("resize_")
def resize_(self: Tensor, *sizes, memory_format=None) -> Tensor:
    """Give self a new shape, keeping the leading elements of its memory (matches
    `torch.Tensor.resize_`)."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _sizes(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    if shape == self._data.shape:
        return self  # PyTorch keeps the tensor, strides included
    n = math.prod(shape)
    flat = xp.ravel(self._data, order="K")  # in memory order, as PyTorch reads its storage
    if n > flat.size:
        grown = get_array_module(flat).zeros(n, dtype=flat.dtype)
        grown[:flat.size] = flat
        flat = grown
    self._data = flat[:n].reshape(shape)
    self._version_counter.value += 1
    return self


@torch_function("resize_as_")
@tensor_method("resize_as_")
def resize_as_(self: Tensor, the_template: Tensor, *, memory_format=None) -> Tensor:
    """resize_ to another tensor's shape (matches `torch.Tensor.resize_as_`)."""
    return resize_(self, the_template._data.shape)


def _main_diagonal(array):
    """The entries (i, i, ..., i) of an array, as a writable view."""
    return _strided(array, (min(array.shape),), (sum(array.strides),))


@tensor_method("fill_diagonal_")
def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Fill the main diagonal in place; a tall matrix's diagonal restarts every width + 1 rows
    if wrap (matches `torch.Tensor.fill_diagonal_`)."""
    shape = self._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) > 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    diagonal = Tensor._make(_main_diagonal(self._data))._as_view_of(self, _main_diagonal)
    diagonal.fill_(fill_value)
    height, width = shape[0], shape[-1]
    if wrap and len(shape) == 2 and height > width + 1:
        self[width + 1:].fill_diagonal_(fill_value, wrap=True)
    return self


# ---- unfold -------------------------------------------------------------------------------------
def _unfold_fn(dim: int, size: int, step: int):
    """array -> its windows of `size` every `step` along dim, the window dim last (a view)."""

    def view(array):
        if array.ndim == 0:  # one window of the one element, or none of size 0
            return array.reshape(1)[:size]
        shape = list(array.shape)
        strides = list(array.strides)
        shape[dim] = (shape[dim] - size) // step + 1
        strides[dim] *= step
        return _strided(array, shape + [size], strides + [array.strides[dim]])

    return view


class Unfold(Op):
    """y = windows of x along dim (a view);  gx = zeros with every window's gy added back."""

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.args = (x._data.shape, dim, size, step)
        return _unfold_fn(dim, size, step)(x._data)

    @staticmethod
    def backward(ctx, gy):
        shape, dim, size, step = ctx.args
        if not shape:  # a 0-d x: its one window of size 1 (or none)
            return gy.sum(), None, None, None
        windows = gy._data.shape[dim]
        positions = (xp.arange(windows)[:, None] * step + xp.arange(size)).reshape(-1)
        g = movedim(gy, -1, dim + 1)
        g = reshape(g, shape[:dim] + (windows * size,) + shape[dim + 1:])
        index = (slice(None),) * dim + (positions,)
        return RegionPut.apply(g, shape, _identity, index), None, None, None


@op(function=False, method=True)
def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """The view of all windows of `size` every `step` along dimension (matches
    `torch.Tensor.unfold`)."""
    ndim = input._data.ndim
    dim = wrap_dim(dimension, ndim)
    length = input._data.shape[dim] if ndim else 1
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {dim} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    out = Unfold.apply(input, dim, size, step)
    return out._as_view_of(input, _unfold_fn(dim, size, step))


# ---- view scatters ------------------------------------------------------------------------------
class ViewScatter(Op):
    """y = x with the view region replaced by src;  gx = gy with it zeroed,  gsrc = gy's
    region."""

    @staticmethod
    def forward(ctx, x, src, view_fn):
        ctx.view_fn = view_fn
        out = x._data.copy()
        view_fn(out)[...] = src._data
        return out

    @staticmethod
    def backward(ctx, gy):
        view_fn = ctx.view_fn
        gx = RegionZero.apply(gy, view_fn, None) if ctx.needs_input_grad[0] else None
        gsrc = RegionTake.apply(gy, view_fn, None) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None


class DiagonalScatter(ViewScatter):
    """diagonal_scatter: a view scatter, PyTorch's node name."""


class SelectScatter(ViewScatter):
    """select_scatter: a view scatter, PyTorch's node name."""


class SliceScatter(ViewScatter):
    """slice_scatter: a view scatter, PyTorch's node name."""


def _view_scatter(node, input: Tensor, src: Tensor, view_fn) -> Tensor:
    region = view_fn(input._data)
    if region.shape != src._data.shape:
        raise RuntimeError(
            "expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(region.shape)}")
    return node.apply(input, as_operand(src, input.dtype), view_fn)


@op(method=True, out=True)
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """input with its diagonal replaced by src (matches `torch.diagonal_scatter`)."""
    view_fn = _diagonal_fn(offset, *_diagonal_dims(input._data.ndim, dim1, dim2))
    return _view_scatter(DiagonalScatter, input, src, view_fn)


@op(method=True, out=True)
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """input with the slice at index along dim replaced by src (matches
    `torch.select_scatter`)."""
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size "
            f"{list(input._data.shape)} at dimension {dim}")
    key = (slice(None),) * dim + (index, Ellipsis)  # (`...`: a 0-d view, not a scalar)
    return _view_scatter(SelectScatter, input, src, lambda a: a[key])


@op(method=True, out="exact")
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None,
                  step: int = 1) -> Tensor:
    """input with input[start:end:step] along dim replaced by src (matches
    `torch.slice_scatter`)."""
    dim = wrap_dim(dim, input._data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    key = (slice(None),) * dim + (slice(start, end, step),)
    return _view_scatter(SliceScatter, input, src, lambda a: a[key])


class AsStridedScatter(Op):
    """y = x with the entries at the view's positions replaced by src;  gx = gy zeroed there,
    gsrc = gy's entries there."""

    @staticmethod
    def forward(ctx, x, src, adv):
        ctx.adv = adv
        out = x._data.copy()
        out[adv] = src._data
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = RegionZero.apply(gy, _identity, ctx.adv) if ctx.needs_input_grad[0] else None
        gsrc = RegionTake.apply(gy, _identity, ctx.adv) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None


@op(method=True, out=True)
def as_strided_scatter(input: Tensor, src: Tensor, size, stride,
                       storage_offset=None) -> Tensor:
    """input with the region as_strided reads replaced by src (matches
    `torch.as_strided_scatter`).

    NOTE [as_strided_scatter's storage]
    PyTorch clones input (keeping a dense input's strides) and writes through as_strided on the
    clone's storage. ember turns the view's storage positions into input coordinates (through
    that layout) once, so the op and its gradients are ordinary indexed writes and reads.
    """
    size, stride = _sizes((size,)), _sizes((stride,))
    offset = 0 if storage_offset is None else operator.index(storage_offset)
    shape = input._data.shape
    _check_strided(size, stride, offset, input._data.size, input._data.itemsize)
    layout = input._data.copy(order="K")
    strides = [st // layout.itemsize for st in layout.strides]
    coordinate_of = xp.empty(input._data.size, dtype=xp.int64)
    coordinate_of[_positions(shape, strides, 0).reshape(-1)] = xp.arange(input._data.size)
    read = coordinate_of[_positions(size, stride, offset)]
    if read.shape != src._data.shape:
        raise RuntimeError(
            "expected src to have a size equal to the slice of self. src size = "
            f"{list(src._data.shape)}, slice size = {list(size)}")
    adv = xp.unravel_index(read, shape) if shape else (read,)
    if not shape:
        return AsStridedScatter.apply(input.reshape(1), as_operand(src, input.dtype),
                                      adv).reshape(())
    return AsStridedScatter.apply(input, as_operand(src, input.dtype), adv)
