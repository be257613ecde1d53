"""Indexing: `x[index]`, `x[index] = v`, gather/scatter, index_select, masked ops, nonzero,
the region ops and view history live in `ember.ops.inplace`.

NOTE [Basic then advanced indexing]
PyTorch applies an index in two steps: ints, slices, None and Ellipsis first, as a view
(select/slice/unsqueeze), then the tensor indices (integer arrays, bool masks turned into their
nonzero positions) as one advanced index on that view. NumPy would treat an int next to an
array as an advanced index too, which moves dims differently (`x[0, :, [0, 1]]`), so ember
splits the index the same way PyTorch does and hands NumPy each step separately.

NOTE [Regions]
The gradients of indexing are all "put gy into a region of zeros", "take a region of gy" or
"zero a region of gy". A region is a view function (array -> writable NumPy view: a basic index
or a view op's `_view_fn`) followed by an optional advanced index. The three region ops are
each other's backward, so indexing is differentiable any number of times.
"""

import numpy as np

from ember import _backend
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops.broadcast import expand_to, sum_to
from ember.ops.inplace import (RegionPut, RegionTake, RegionZero, _identity, copy_slices_name,
                               rebase_view_history)

_state = grad_mode._state

__all__ = [
    "argwhere",
    "gather",
    "index_add",
    "index_put",
    "index_select",
    "masked_fill",
    "masked_select",
    "nonzero",
    "scatter",
    "scatter_add",
    "select",
    "take",
]


# ---- parsing an index ---------------------------------------------------------------------------
def _basic_fn(basic):
    return lambda array: array[basic]


def _index_error(obj):
    return IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        f"valid indices (got {type(obj).__name__})")


def _component(item):
    """One index component in NumPy terms: int, slice, None, Ellipsis or an ndarray."""
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, np.bool_)):
        return np.array(item)
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, slice):
        parts = [None if v is None else _as_int(v) for v in (item.start, item.stop, item.step)]
        if parts[2] is not None:
            if parts[2] == 0:
                raise ValueError("slice step cannot be zero")
            if parts[2] < 0:
                raise ValueError("step must be greater than zero")
        return slice(*parts)
    if isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, (list, tuple, np.ndarray)):
        array = np.asarray([_as_int(v) if isinstance(v, Tensor) else v for v in item]
                           if isinstance(item, (list, tuple)) else item)
        if array.size == 0:
            array = array.astype(np.int64)
    elif isinstance(item, str):
        raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
    else:
        raise _index_error(item)
    if array.dtype == np.uint8:
        array = array.astype(bool)
    if array.dtype != bool and not np.issubdtype(array.dtype, np.integer):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if array.ndim == 0 and array.dtype != bool and isinstance(item, Tensor):
        return int(array)  # a 0-d integer tensor indexes like an int (a select)
    return array


def _as_int(value):
    if isinstance(value, Tensor):
        return value.__index__()
    return int(value)


def parse_index(shape, index):
    """Split `index` into a basic part (a view) and an advanced part (or None), see NOTE."""
    items = [_component(i) for i in (index if isinstance(index, tuple) else (index,))]
    used = sum(1 if isinstance(i, (int, slice)) else i.ndim if isinstance(i, np.ndarray)
               else 0 for i in items)
    if used > len(shape):
        if len(shape) == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    basic, adv, kinds = [], [], []
    dim = 0
    for item in items:
        if item is Ellipsis:
            count = len(shape) - used
            basic += [slice(None)] * count
            adv += [slice(None)] * count
            dim += count
            used = len(shape)  # as in PyTorch, a second ellipsis stands for no dims
        elif item is None:
            basic.append(None)
            adv.append(slice(None))
            kinds.append("Unsqueeze")
        elif isinstance(item, int):
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}")
            basic.append(item)
            kinds.append("Select")
            dim += 1
        elif isinstance(item, slice):
            basic.append(item)
            adv.append(slice(None))
            if item != slice(None) and item != slice(None, None, 1):
                kinds.append("Slice")
            dim += 1
        elif item.dtype == bool and item.ndim == 0:
            basic.append(None)  # x[True] adds a dim (a copy, as in PyTorch); x[False] empties it
            kinds.append("Unsqueeze")
            adv.append(np.zeros(1 if item else 0, dtype=np.int64))
        elif item.dtype == bool:
            size = shape[dim:dim + item.ndim]
            for j, (a, b) in enumerate(zip(item.shape, size)):
                if a != b:
                    raise IndexError(
                        f"The shape of the mask {list(item.shape)} at index {j} does not match "
                        f"the shape of the indexed tensor {list(shape)} at index {dim + j}")
            basic += [slice(None)] * item.ndim
            adv += list(np.nonzero(item))
            dim += item.ndim
        else:
            size = shape[dim]
            if item.size and (item.max() >= size or item.min() < -size):
                bad = item.max() if item.max() >= size else item.min()
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {dim} with size {size}")
            basic.append(slice(None))
            adv.append(item.astype(np.int64, copy=False))
            dim += 1
    has_adv = any(isinstance(a, np.ndarray) for a in adv)
    if not kinds:
        only_slice = len(items) == 1 and isinstance(items[0], slice)
        kinds.append("Slice" if only_slice else "Alias")
    return tuple(basic) + (Ellipsis,), (tuple(adv) if has_adv else None), kinds[-1]


# ---- getitem ----------------------------------------------------------------------------------
class BasicIndex(Op):
    """y = x[basic index] (a view);  gx = zeros with gy put into the indexed region."""

    @staticmethod
    def forward(ctx, x, basic):
        ctx.input_shape = x._data.shape
        ctx.basic = basic
        return x._data[basic]

    @staticmethod
    def backward(ctx, gy):
        return RegionPut.apply(gy, ctx.input_shape, _basic_fn(ctx.basic), None), None


class Select(BasicIndex):
    """x[i] along a dim: a basic index, PyTorch's node name."""


class Slice(BasicIndex):
    """x[a:b:c] along a dim: a basic index, PyTorch's node name."""


class IndexUnsqueeze(BasicIndex):
    """x[None]: a basic index, PyTorch's node name."""

    node_name = "UnsqueezeBackward0"


class Alias(BasicIndex):
    """x[...]: a basic index that changes nothing, PyTorch's node name."""


_BASIC_OPS = {"Select": Select, "Slice": Slice, "Unsqueeze": IndexUnsqueeze, "Alias": Alias}


def basic_view(x: Tensor, basic, kind: str = "Slice") -> Tensor:
    """x[basic] for a basic index (ints, slices, None, Ellipsis) as a view of x."""
    out = _BASIC_OPS[kind].apply(x, basic)
    return out._as_view_of(x, _basic_fn(basic))


class Index(Op):
    """y = x[adv] for an advanced index (a copy);  gx = zeros with gy added at the indices."""

    @staticmethod
    def forward(ctx, x, adv):
        ctx.input_shape = x._data.shape
        ctx.adv = adv
        return x._data[adv]

    @staticmethod
    def backward(ctx, gy):
        return RegionPut.apply(gy, ctx.input_shape, _identity, ctx.adv), None


def getitem(x: Tensor, index) -> Tensor:
    """x[index] with PyTorch's semantics (see NOTE [Basic then advanced indexing])."""
    basic, adv, kind = parse_index(x._data.shape, index)
    if adv is None:
        return basic_view(x, basic, kind)
    if kind != "Alias":
        x = basic_view(x, basic, kind)
    return Index.apply(x, adv)


# ---- setitem ----------------------------------------------------------------------------------
class IndexPut(Op):
    """x[index] = v, in x's memory;  gx = gy with the region zeroed,  gv = sum_to(gy[index])."""

    @staticmethod
    def forward(ctx, x, v, view_fn, adv):
        ctx.region = (view_fn, adv)
        ctx.value_shape = v._data.shape
        target = view_fn(x._data)
        if adv is None:
            target[...] = v._data
        else:
            target[adv] = v._data
        return x._data

    @staticmethod
    def backward(ctx, gy):
        gx = RegionZero.apply(gy, *ctx.region) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[1]:
            gv = _sum_to_value(RegionTake.apply(gy, *ctx.region), ctx.value_shape)
        return gx, gv, None, None


class CopySlicesPut(IndexPut):
    """x[basic index] = v: IndexPut through a view, PyTorch's node name."""

    node_name = "CopySlices"


CopySlicesPut._backward_cls.name = copy_slices_name


def _sum_to_value(g: Tensor, shape) -> Tensor:
    """Sum a gradient back to a value's shape (the value may carry extra leading 1s)."""
    stripped = _strip_leading_ones(shape, g._data.ndim)
    g = sum_to(g, stripped)
    return g if stripped == tuple(shape) else g.reshape(shape)


def _strip_leading_ones(shape, ndim) -> tuple:
    """A value's shape without the leading 1s beyond `ndim` dims (PyTorch drops them)."""
    shape = tuple(shape)
    while len(shape) > ndim and shape[0] == 1:
        shape = shape[1:]
    return shape


def _check_value_shape(target_shape, value_shape, advanced, dtype):
    """PyTorch's errors for a value that does not broadcast to the indexed region."""
    stripped = _strip_leading_ones(value_shape, len(target_shape))
    if len(stripped) <= len(target_shape) and all(
            v in (1, t) for v, t in zip(reversed(stripped), reversed(target_shape))):
        return
    if advanced:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast to "
            f"indexing result of shape {list(target_shape)}")
    from ember.ops.shape import expand

    expand(Tensor._make(np.empty(value_shape, dtype)), *target_shape)  # raises PyTorch's message


def setitem(x: Tensor, index, value) -> None:
    """x[index] = value, in place, rewriting x's autograd history (matches PyTorch)."""
    basic, adv, kind = parse_index(x._data.shape, index)
    if isinstance(value, Tensor):
        if adv is not None and value.dtype is not x.dtype:
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{short_name(x.dtype)} for the destination and {short_name(value.dtype)} for "
                "the source.")
        value = as_operand(value, x.dtype)
    else:
        value = Tensor._make(np.asarray(value, dtype=x._data.dtype))
    target = x._data[basic]
    target_shape = target[adv].shape if adv is not None else target.shape
    _check_value_shape(target_shape, value._data.shape, adv is not None, value._data.dtype)
    recording = _state["enabled"] and (x._requires_grad or value._requires_grad)
    if recording and x.grad_fn is None and x._requires_grad and (adv is None or kind != "Alias"):
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation.")
    x._check_inplace()
    if not target.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")
    if not recording:
        if adv is None:
            target[...] = value._data
        else:
            target[adv] = value._data
        x._version.value += 1
        return
    op = IndexPut if adv is not None and kind == "Alias" else CopySlicesPut
    x._inplace_update(op.apply(x, value, _basic_fn(basic), adv))


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of input with values written (or added) at a tuple of index tensors (matches
    `torch.index_put`)."""
    index = tuple(indices)
    if not accumulate:
        out = input.clone()
        setitem(out, index, values)
        return out
    basic, adv, _ = parse_index(input._data.shape, index)
    view_fn = _basic_fn(basic)
    target = view_fn(input._data)
    target_shape = target[adv].shape if adv is not None else target.shape
    values = values if isinstance(values, Tensor) else Tensor._make(np.asarray(values))
    values = expand_to(as_operand(values, input.dtype), target_shape)
    return input + RegionPut.apply(values, input._data.shape, view_fn, adv)


def index_put_(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """index_put in place (matches `torch.Tensor.index_put_`)."""
    if not accumulate:
        setitem(input, tuple(indices), values)
        return input
    return input._inplace_update(index_put(input, indices, values, True))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at `index` along dim, without that dim (matches `torch.select`)."""
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}")
    return basic_view(input, (slice(None),) * dim + (index, Ellipsis), "Select")


# ---- gather / scatter / index_select ----------------------------------------------------------
def _index_array(index: Tensor, name: str) -> np.ndarray:
    array = index._data
    if not (np.issubdtype(array.dtype, np.integer)):
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return array.astype(np.int64, copy=False)


def _along_dim(index: np.ndarray, dim: int) -> tuple:
    """The advanced index picking, at each position p of index, p with p[dim] = index[p]."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _check_dim_index(name, x_shape, index, dim, other_shape=None):
    if index.ndim != len(x_shape) and not (index.ndim <= 1 and len(x_shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and index.shape[d] > x_shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(x_shape)} apart from dimension {dim}")
    size = x_shape[dim] if x_shape else 1
    if index.size and (index.max() >= size or index.min() < -size):
        bad = index.max() if index.max() >= size else index.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


class Gather(Index):
    """y[p] = x[p with p[dim] = index[p]];  gx = zeros with gy added at those positions."""


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad=False) -> Tensor:
    """Values along dim at the positions index gives (matches `torch.gather`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "gather")
    _check_dim_index("gather", input._data.shape, array, dim)
    return Gather.apply(input, _along_dim(array, dim))


def _leading(shape) -> tuple:
    return tuple(slice(0, s) for s in shape)


class Scatter(Op):
    """y = x with y[index along dim] = src;  gx = gy zeroed there,  gsrc = gy gathered there."""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape):
        ctx.args = (adv, index_shape, src._data.shape)
        out = np.array(x._data)
        out[adv] = src._data[_leading(index_shape)]
        return out

    @staticmethod
    def backward(ctx, gy):
        adv = ctx.args[0]
        gx = RegionZero.apply(gy, _identity, adv) if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


class ScatterValue(Op):
    """y = x with y[index along dim] = value;  gx = gy zeroed there."""

    node_name = "ScatterBackward1"

    @staticmethod
    def forward(ctx, x, value, adv):
        ctx.adv = adv
        out = np.array(x._data)
        out[adv] = value
        return out

    @staticmethod
    def backward(ctx, gy):
        return RegionZero.apply(gy, _identity, ctx.adv), None, None


class ScatterAdd(Op):
    """y = x with src added at index along dim;  gx = gy,  gsrc = gy gathered there."""

    @staticmethod
    def forward(ctx, x, src, adv, index_shape):
        ctx.args = (adv, index_shape, src._data.shape)
        out = np.array(x._data)
        _backend.scatter_add(out, adv, src._data[_leading(index_shape)])
        return out

    @staticmethod
    def backward(ctx, gy):
        gx = gy if ctx.needs_input_grad[0] else None
        gsrc = _scatter_src_grad(gy, *ctx.args) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None


def _scatter_src_grad(gy, adv, index_shape, src_shape):
    g = RegionTake.apply(gy, _identity, adv)
    if tuple(index_shape) != tuple(src_shape):
        g = RegionPut.apply(g, src_shape, _basic_fn(_leading(index_shape)), None)
    return g


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce=None) -> Tensor:
    """A copy of input with src (or value) written at index along dim (matches
    `torch.scatter`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter")
    _check_dim_index("scatter", input._data.shape, array, dim)
    if src is None:
        src = value
    adv = _along_dim(array, dim)
    if reduce is not None:
        values = src._data[_leading(array.shape)] if isinstance(src, Tensor) else src
        out = np.array(input._data)
        ufunc = {"add": np.add, "multiply": np.multiply}[reduce]
        ufunc.at(out, adv, np.asarray(values, dtype=out.dtype))
        return Tensor._make(out)
    if isinstance(src, Tensor):
        return Scatter.apply(input, as_operand(src, input.dtype), adv, array.shape)
    return ScatterValue.apply(input, np.asarray(src, dtype=input._data.dtype), adv)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at index along dim, repeats accumulating (matches
    `torch.scatter_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter_add")
    _check_dim_index("scatter_add", input._data.shape, array, dim)
    return ScatterAdd.apply(input, as_operand(src, input.dtype), _along_dim(array, dim),
                            array.shape)


class IndexSelect(Index):
    """y = x at the listed positions along dim;  gx = zeros with gy added back there."""


def _dim_index(input: Tensor, dim: int, index: Tensor, name: str):
    array = index._data
    if array.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if not np.issubdtype(array.dtype, np.integer):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    array = array.reshape(-1).astype(np.int64, copy=False)
    size = input._data.shape[dim] if input._data.ndim else 1
    if array.size and (array.max() >= size or array.min() < -size):
        raise IndexError("index out of range in self")
    return (slice(None),) * dim + (array,)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at `index` along dim (matches `torch.index_select`)."""
    dim = wrap_dim(dim, input._data.ndim)
    return IndexSelect.apply(input, _dim_index(input, dim, index, "index_select"))


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with alpha·source added at `index` along dim (matches `torch.index_add`)."""
    dim = wrap_dim(dim, input._data.ndim)
    adv = _dim_index(input, dim, index, "index_add")
    source = as_operand(source, input.dtype)
    if alpha != 1:
        source = source * alpha
    return input + RegionPut.apply(source, input._data.shape, _identity, adv)


# ---- masks ------------------------------------------------------------------------------------
class MaskedFill(Op):
    """y = value where mask else x;  gx = gy where not mask,  gvalue = sum of gy under mask."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        fill = value._data if isinstance(value, Tensor) else value
        return np.where(mask, np.asarray(fill, dtype=x._data.dtype), x._data)

    @staticmethod
    def backward(ctx, gy):
        from ember.ops.comparison import where

        mask = Tensor._make(ctx.mask)
        gx = MaskedFill.apply(gy, ctx.mask, 0) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = sum_to(where(mask, gy, Tensor._make(np.zeros((), gy._data.dtype))), ())
        return gx, None, gv


class MaskedFillTensor(MaskedFill):
    """masked_fill with a 0-d tensor value: the same op, PyTorch's node name for that form."""

    node_name = "MaskedFillBackward1"


def _mask_array(mask: Tensor, name: str) -> np.ndarray:
    if mask.dtype.name != "bool":
        raise RuntimeError(
            f"{name} only supports boolean masks, but got mask with dtype "
            f"{_c_name(mask._data.dtype)}")
    return mask._data


def _c_name(np_dtype) -> str:
    return {"float32": "float", "float64": "double", "uint8": "unsigned char", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "float16": "c10::Half"}.get(np_dtype.name, np_dtype.name)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """input with `value` where mask is True (matches `torch.masked_fill`)."""
    array = _mask_array(mask, "masked_fill_")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        value = as_operand(value, input.dtype)
    shape = np.broadcast_shapes(array.shape, input._data.shape)
    if shape != input._data.shape:
        input = expand_to(input, shape)
    op = MaskedFillTensor if isinstance(value, Tensor) else MaskedFill
    return op.apply(input, np.broadcast_to(array, shape), value)


class MaskedSelect(Index):
    """y = the entries of x under the mask, as 1-D;  gx = zeros with gy put back there."""


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries under a bool mask as a 1-D tensor (matches `torch.masked_select`)."""
    array = _mask_array(mask, "masked_select:")
    shape = np.broadcast_shapes(array.shape, input._data.shape)
    return MaskedSelect.apply(expand_to(input, shape), np.nonzero(np.broadcast_to(array, shape)))


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero entries: an (n, ndim) tensor or one tensor per dim (matches
    `torch.nonzero`)."""
    array = input._data if input._data.ndim else input._data.reshape(1)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in np.nonzero(array))
    return Tensor._make(np.argwhere(input._data).astype(np.int64))


def argwhere(input: Tensor) -> Tensor:
    """nonzero(input) (matches `torch.argwhere`)."""
    return nonzero(input)


class Take(Index):
    """y = x.flatten()[index];  gx = zeros with gy added at those positions."""


def take(input: Tensor, index: Tensor) -> Tensor:
    """Entries of the flattened input at `index` (matches `torch.take`)."""
    array = index._data.astype(np.int64, copy=False)
    size = input._data.size
    if array.size and (array.max() >= size or array.min() < -size):
        bad = array.max() if array.max() >= size else array.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         "elements.")
    return Take.apply(input.reshape(-1), (array,))


# ---- Tensor methods -----------------------------------------------------------------------------
def _inplace(fn):
    def method(self, *args, **kwargs):
        return self._inplace_update(fn(self, *args, **kwargs))

    method.__name__ = f"{fn.__name__}_"
    return method


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem
Tensor.gather = gather
Tensor.scatter = scatter
Tensor.scatter_add = scatter_add
Tensor.index_select = index_select
Tensor.index_add = index_add
Tensor.masked_fill = masked_fill
Tensor.masked_select = masked_select
Tensor.nonzero = nonzero
Tensor.argwhere = argwhere
Tensor.take = take
Tensor.index_put = index_put
Tensor.index_put_ = index_put_
Tensor.select = select
Tensor.masked_fill_ = _inplace(masked_fill)
Tensor.scatter_ = _inplace(scatter)
Tensor.scatter_add_ = _inplace(scatter_add)
Tensor.index_add_ = _inplace(index_add)
