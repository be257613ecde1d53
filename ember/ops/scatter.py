"""Gather and scatter: values read from or written to positions an index tensor gives along a
dim (gather, scatter, scatter_add, take_along_dim), whole slices picked along a dim
(index_select, index_add, index_fill, index_copy), flat positions (take, put) and the masked
positions in order (masked_scatter). The reductions (scatter_reduce, index_reduce) live in
`ember.ops.scatter_reduce`.

Reads are advanced indexes (`Index`, see NOTE [Basic then advanced indexing] in
`ember.ops.indexing`); their gradients and the scatters' are region ops (NOTE [Regions]).
"""

import sys

from ember import _backend
from ember._backend import get_array_module, xp
from ember._out_dtypes import c_type
from ember._registry import op, tensor_method, write_out
from ember.ops._out_rules import index_select_out, take_out
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops._scatter_checks import (_check_dim_index, _check_index_copy, _check_index_func,
                                         _check_long_index, _check_scatter_index, _index_array,
                                         _select_index)
from ember.ops._util import as_operand, check_broadcast
from ember.ops.broadcast import expand_to
from ember.ops._out_overlap import check_out_overlap
from ember.ops.indexing import Index, _basic_fn
from ember.ops.inplace import RegionPut, RegionTake, RegionZero, identity


# ---- gather / scatter ---------------------------------------------------------------------------
def _along_dim(index: xp.ndarray, dim: int) -> tuple:
    """The advanced index picking, at each position p of index, p with p[dim] = index[p]."""
    grid = list(get_array_module(index).indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


class Gather(Index):
    """y[p] = x[p with p[dim] = index[p]];  gx = zeros with gy added at those positions."""


class IndexOfFlat(Op):
    """y = x read as shape (1,), at an index (the gather/index_select of a 0-d x);  gx = gy
    added back there."""

    @staticmethod
    def forward(ctx, x, adv):
        ctx.adv = adv
        return xp.asarray(x._data.reshape(1)[adv])

    @staticmethod
    def backward(ctx, gy):
        return RegionPut.apply(gy, (), _flat, ctx.adv), None


class GatherFlat(IndexOfFlat):
    """gather of a 0-d input: PyTorch's node name."""

    node_name = "GatherBackward0"


class IndexSelectFlat(IndexOfFlat):
    """index_select of a 0-d input: PyTorch's node name."""

    node_name = "IndexSelectBackward0"


@op(method=True)
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad=False, out=None) -> Tensor:
    """Values along dim at the positions index gives (matches `torch.gather`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "gather")
    _check_dim_index("gather", input._data.shape, array, dim)
    if input._data.ndim == 0:  # a 0-d input reads as shape (1,)
        result = GatherFlat.apply(input, (array,))
    elif not array.size:  # an empty index of any shape (PyTorch checks none)
        zeros = get_array_module(array).zeros(array.shape, dtype=array.dtype)
        result = Gather.apply(input, (zeros,) * input._data.ndim)
    else:
        result = Gather.apply(input, _along_dim(array, dim))
    if out is not None and out.dtype is not result.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {c_type(result.dtype)}, but got "
            f"{c_type(out.dtype)} instead")
    return _write_out(result, out, (input, index), resized_first=True)


def _leading(shape) -> tuple:
    return tuple(slice(0, s) for s in shape)


class Scatter(Op):
    """y = x with y[index along dim] = src;  gx = gy zeroed there,  gsrc = gy gathered there.
    (view_fn is `identity`, or `_flat` for a 0-d x, which is indexed as shape (1,).)"""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape, view_fn):
        ctx.args = (adv, index_shape, src._data.shape, view_fn)
        out = x._data.copy(order="K")
        view_fn(out)[adv] = src._data[_leading(index_shape)]
        return out

    @staticmethod
    def backward(ctx, gy):
        adv, view_fn = ctx.args[0], ctx.args[3]
        gx = RegionZero.apply(gy, view_fn, adv) if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None, None


class ScatterValue(Op):
    """y = x with y[index along dim] = value;  gx = gy zeroed there."""

    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, x, value, adv, view_fn):
        ctx.region = (view_fn, adv)
        out = x._data.copy(order="K")
        view_fn(out)[adv] = value
        return out

    @staticmethod
    def backward(ctx, gy):
        return RegionZero.apply(gy, *ctx.region), None, None, None


class ScatterAdd(Op):
    """y = x with src added at index along dim;  gx = gy,  gsrc = gy gathered there."""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape, view_fn):
        ctx.args = (adv, index_shape, src._data.shape, view_fn)
        out = x._data.copy(order="K")
        _backend.scatter_add(view_fn(out), adv, src._data[_leading(index_shape)])
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = gy if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None, None


class ScatterNothing(Op):
    """scatter with an empty index (of any shape: PyTorch checks none): y = x;  gx = gy,
    gsrc = 0."""

    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_shape = src._data.shape if isinstance(src, Tensor) else None
        return x._data.copy(order="K")

    @staticmethod
    def backward(ctx, gy):
        gsrc = None
        if ctx.src_shape is not None and ctx.needs_input_grad[1]:
            gsrc = Tensor._make(get_array_module(gy._data).zeros(ctx.src_shape, gy._data.dtype))
        return gy, gsrc


def _scatter_src_grad(gy, adv, index_shape, src_shape, view_fn):
    g = RegionTake.apply(gy, view_fn, adv)
    if tuple(index_shape) != tuple(src_shape):
        g = RegionPut.apply(g, src_shape, _basic_fn(_leading(index_shape)), None)
    return g


def _scatter_region(input: Tensor, array, dim: int) -> tuple:
    """(view function, advanced index) of index `array` along dim (a 0-d input as (1,))."""
    if input._data.ndim == 0:
        return _flat, (array,)
    return identity, _along_dim(array, dim)


@op(method=True, inplace=True, out="exact")
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce=None) -> Tensor:
    """A copy of input with src (or value) written at index along dim (matches
    `torch.scatter`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter")
    if src is None:
        src = value
    if isinstance(src, Tensor) and src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_scatter_index(input._data.shape, array, dim,
                         src._data.shape if isinstance(src, Tensor) else None)
    if not array.size:
        return ScatterNothing.apply(input, src)
    view_fn, adv = _scatter_region(input, array, dim)
    if reduce is not None:
        values = src._data[_leading(array.shape)] if isinstance(src, Tensor) else src
        out = input._data.copy(order="K")
        ufunc = {"add": xp.add, "multiply": xp.multiply}[reduce]
        ufunc.at(view_fn(out), adv, get_array_module(out).asarray(values, dtype=out.dtype))
        return Tensor._make(out)
    if isinstance(src, Tensor):
        return Scatter.apply(input, as_operand(src, input.dtype), adv, array.shape, view_fn)
    value = get_array_module(input._data).asarray(src, dtype=input._data.dtype)
    return ScatterValue.apply(input, value, adv, view_fn)


@op(method=True, inplace=True, out="exact")
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at index along dim, repeats accumulating (matches
    `torch.scatter_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter")
    if src.dtype is not input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    _check_scatter_index(input._data.shape, array, dim, src._data.shape)
    if not array.size:
        return ScatterNothing.apply(input, src)
    view_fn, adv = _scatter_region(input, array, dim)
    return ScatterAdd.apply(input, src, adv, array.shape, view_fn)


# ---- index_select / index_add / take ------------------------------------------------------------
class IndexSelect(Index):
    """y = x at the listed positions along dim;  gx = zeros with gy added back there."""


@op(method=True)
def index_select(input: Tensor, dim: int, index: Tensor, *, out=None) -> Tensor:
    """The entries at `index` along dim (matches `torch.index_select`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _select_index(input, dim, index)
    if input._data.ndim == 0:
        result = IndexSelectFlat.apply(input, (array.reshape(()),))
    else:
        result = IndexSelect.apply(input, (slice(None),) * dim + (array,))
    return _write_out(result, out, (input, index), rule=index_select_out)


class IndexAdd(Op):
    """y = x with alpha·src added at the slices index picks (repeats accumulate);  gx = gy,
    gsrc = alpha·(gy's slices there)."""

    @staticmethod
    def forward(ctx, x, src, view_fn, adv, alpha):
        ctx.args = (view_fn, adv, alpha, src._data.shape)
        out = x._data.copy()
        target = view_fn(out)
        values = src._data if alpha == 1 else src._data * xp.asarray(alpha, dtype=out.dtype)
        _backend.scatter_add(target, adv, xp.reshape(values, target[adv].shape))
        return out

    @staticmethod
    def backward(ctx, gy):
        view_fn, adv, alpha, src_shape = ctx.args
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = RegionTake.apply(gy, view_fn, adv).reshape(src_shape)
            gsrc = gsrc if alpha == 1 else gsrc * alpha
        return gy if ctx.needs_input_grad[0] else None, gsrc, None, None, None


@op(method=True, inplace=True, out="exact")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with alpha·source added at `index` along dim (matches `torch.index_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    _check_index_func("index_add_", input, dim, index, source)
    view_fn, adv = _dim_region(input, dim, index, "")
    return IndexAdd.apply(input, source, view_fn, adv, alpha)


class Take(Index):
    """y = x.flatten()[index];  gx = zeros with gy added at those positions."""


def _flat_positions(index: Tensor, size: int) -> xp.ndarray:
    """index as positions in a flattened tensor of `size` entries, negatives wrapped."""
    array = index._data
    if array.size and (array.max() >= size or array.min() < -size):
        bad = array.max() if array.max() >= size else array.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         "elements.")
    return array % max(size, 1)


@op(method=True)
def take(input: Tensor, index: Tensor, *, out=None) -> Tensor:
    """Entries of the flattened input at `index` (matches `torch.take`)."""
    _check_long_index("take", index)
    if index._data.size and not input._data.size:
        raise IndexError("take(): tried to take from an empty tensor")
    array = _flat_positions(index, input._data.size)
    return _write_out(Take.apply(input.reshape(-1), (array,)), out, (input, index),
                      rule=take_out)


@op(method=True, out="exact")
def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """gather along dim after broadcasting input and indices over the other dims; the
    flattened input if dim is None (matches `torch.take_along_dim`)."""
    if indices.dtype.name != "int64":
        raise RuntimeError(
            "torch.take_along_dim(): dtype of indices should be Long but got "
            f"{short_name(indices.dtype)}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    ndim = input._data.ndim
    if indices._data.ndim != ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {ndim} dimensions for input, and {indices._data.ndim} "
            "dimensions for indices")
    if ndim == 0 and dim in (0, -1):
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = wrap_dim(dim, ndim)
    a, b = (tuple(1 if d == dim else n for d, n in enumerate(s))
            for s in (input._data.shape, indices._data.shape))
    check_broadcast(a, b)
    shape = list(xp.broadcast_shapes(a, b))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[dim], i_shape[dim] = input._data.shape[dim], indices._data.shape[dim]
    size = input._data.shape[dim]
    if indices._data.size:  # PyTorch wraps the indices (for negative ones; all of them, in fact)
        if not size:
            raise RuntimeError("ZeroDivisionError")
        indices = Tensor._make(indices._data % size)
    return gather(input.expand(*x_shape), dim, indices.expand(*i_shape))


# ---- index_fill / index_copy / put --------------------------------------------------------------
def _flat(array):
    return array.reshape(-1)


def _dim_region(input: Tensor, dim: int, index: Tensor, name: str) -> tuple:
    """(view function, advanced index) of the slices at `index` along dim; a 0-d input is
    read as shape (1,). index_copy refuses negative positions, index_fill wraps them."""
    array = index._data.reshape(-1).astype(xp.int64)
    size = input._data.shape[dim] if input._data.ndim else 1
    low = 0 if name else -size
    if array.size and (array.max() >= size or array.min() < low):
        bad = array.max() if array.max() >= size else array.min()
        if not size:  # PyTorch fails making a view of the empty dim (a RuntimeError)
            raise RuntimeError(f"{name}index {bad} is out of bounds for dimension {dim} with "
                               "size 0")
        raise IndexError(f"{name}index {bad} is out of bounds for dimension {dim} with size {size}")
    if input._data.ndim == 0:
        return _flat, (array,)
    return identity, (slice(None),) * dim + (array,)


class IndexFill(Op):
    """y = x with value at the slices index picks along dim;  gx = gy zeroed there."""

    @staticmethod
    def forward(ctx, x, value, view_fn, adv):
        ctx.region = (view_fn, adv)
        out = x._data.copy()
        view_fn(out)[adv] = value._data if isinstance(value, Tensor) else value
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = RegionZero.apply(gy, *ctx.region) if ctx.needs_input_grad[0] else None
        return gx, None, None, None


class IndexFillTensor(IndexFill):
    """index_fill with a 0-d tensor value;  gvalue = Σ gy over the (distinct) filled slices."""

    node_name = "IndexFillBackward1"

    @staticmethod
    def backward(ctx, gy):
        gx = RegionZero.apply(gy, *ctx.region) if ctx.needs_input_grad[0] else None
        gvalue = None
        if ctx.needs_input_grad[1]:
            view_fn, adv = ctx.region
            distinct = adv[:-1] + (xp.unique(adv[-1]),)
            gvalue = RegionTake.apply(gy, view_fn, distinct).sum()
        return gx, gvalue, None, None


@op(method=True, inplace=True)
def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """input with `value` in the slices at `index` along dim (matches `torch.index_fill`)."""
    dim = wrap_dim(dim, input._data.ndim)
    if index.dtype.name != "int64":
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index._data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    view_fn, adv = _dim_region(input, dim, index, "")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        return IndexFillTensor.apply(input, as_operand(value, input.dtype), view_fn, adv)
    value = get_array_module(input._data).asarray(value, dtype=input._data.dtype)
    return IndexFill.apply(input, value, view_fn, adv)


class IndexCopy(Op):
    """y = x with the slices at index along dim replaced by src;  gx = gy zeroed there,
    gsrc = gy's slices there."""

    @staticmethod
    def forward(ctx, x, src, view_fn, adv):
        ctx.region = (view_fn, adv, src._data.shape)
        out = x._data.copy()
        target = view_fn(out)
        target[adv] = xp.reshape(src._data, target[adv].shape)
        return out

    @staticmethod
    def backward(ctx, gy):
        view_fn, adv, src_shape = ctx.region
        gx = RegionZero.apply(gy, view_fn, adv) if ctx.needs_input_grad[0] else None
        gsrc = None
        if ctx.needs_input_grad[1]:
            gsrc = RegionTake.apply(gy, view_fn, adv).reshape(src_shape)
        return gx, gsrc, None, None


@op(method=True, inplace=True, out="exact")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """input with the slices at `index` along dim replaced by source's (matches
    `torch.index_copy`)."""
    dim = wrap_dim(dim, input._data.ndim)
    _check_index_copy(input, dim, index, source)
    view_fn, adv = _dim_region(input, dim, index, "index_copy_(): ")
    return IndexCopy.apply(input, source, view_fn, adv)


class Put(Op):
    """y = x with src written (or added) at flat positions;  gx = gy (zeroed there unless
    accumulating),  gsrc = gy at those positions."""

    @staticmethod
    def forward(ctx, x, src, positions, accumulate):
        # Flat positions as coordinates: regions must not depend on a gradient's memory layout.
        view_fn, adv = (_flat, (positions,)) if x._data.ndim == 0 else (
            identity, xp.unravel_index(positions, x._data.shape))
        ctx.args = (view_fn, adv, accumulate, src._data.shape)
        out = x._data.copy()
        if accumulate:
            _backend.scatter_add(view_fn(out), adv, src._data.reshape(-1))
        else:
            view_fn(out)[adv] = src._data.reshape(-1)
        return out

    @staticmethod
    def backward(ctx, gy):
        view_fn, adv, accumulate, src_shape = ctx.args
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = gy if accumulate else RegionZero.apply(gy, view_fn, adv)
        if ctx.needs_input_grad[1]:
            gsrc = RegionTake.apply(gy, view_fn, adv).reshape(src_shape)
        return gx, gsrc, None, None


@op(method=True, inplace=True)
def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """input with source written (or added) at positions of the flattened input (matches
    `torch.put`)."""
    _check_long_index("put_", index)
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{short_name(input.dtype)} and source.dtype = {short_name(source.dtype)}")
    if source._data.size != index._data.size:
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    if index._data.size and not input._data.size:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    positions = _flat_positions(index, input._data.size).reshape(-1)
    return Put.apply(input, source, positions, bool(accumulate))


def _write_out(result: Tensor, out, inputs, resized_first: bool = False, rule="exact",
               name=None):
    """result written into out= (if given), which may not overlap an input (gather checks after
    resizing out in its own memory, take and index_select before); rule: out's dtypes (NOTE
    [out= dtypes] in ember/_out_dtypes.py)."""
    if out is None:
        return result
    check_out_overlap(out, inputs, result._data.shape if resized_first else None)
    return write_out(result, out, name or sys._getframe(1).f_code.co_name, rule)


# ---- masked_scatter ------------------------------------------------------------------------------
class MaskedScatter(Op):
    """y = x with the masked entries replaced by src's first ones, in order;  gx = gy zeroed
    under the mask,  gsrc = gy under the mask, in src's leading entries."""

    @staticmethod
    def forward(ctx, x, src, positions):
        count = positions[0].size
        ctx.args = (positions, src._data.shape, count)
        out = x._data.copy()
        out[positions] = src._data.reshape(-1)[:count]
        return out

    @staticmethod
    def backward(ctx, gy):
        positions, src_shape, count = ctx.args
        gx = RegionZero.apply(gy, identity, positions) if ctx.needs_input_grad[0] else None
        gsrc = None
        if ctx.needs_input_grad[1]:
            g = RegionTake.apply(gy, identity, positions)
            size = 1
            for n in src_shape:
                size *= n
            gsrc = RegionPut.apply(g, (size,), lambda a: a[:count], None).reshape(src_shape)
        return gx, gsrc, None


def _masked_scatter(input: Tensor, mask: Tensor, source: Tensor, shape) -> Tensor:
    if mask.dtype.name != "bool":
        raise RuntimeError(
            "masked_scatter_ only supports boolean masks, but got mask with dtype "
            f"{short_name(mask.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{short_name(input.dtype)} and {short_name(source.dtype)}")
    positions = xp.nonzero(xp.broadcast_to(mask._data, shape).reshape(shape or (1,)))
    if positions[0].size > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    x = expand_to(input, shape)
    if not shape:  # a 0-d input scatters as shape (1,)
        return MaskedScatter.apply(x.reshape(1), source, positions).reshape(())
    return MaskedScatter.apply(x, source, positions)


@op(method=True)
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with source's leading values written, in order, where mask is True (matches
    `torch.masked_scatter`)."""
    shape = xp.broadcast_shapes(input._data.shape, mask._data.shape)
    return _masked_scatter(input, mask, source, shape)


@tensor_method("masked_scatter_")
def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """masked_scatter in place; the mask must expand to self (matches
    `torch.Tensor.masked_scatter_`)."""
    mask.expand(*self._data.shape)  # PyTorch's error for a mask that does not expand
    return self._inplace_update(_masked_scatter(self, mask, source, self._data.shape))
