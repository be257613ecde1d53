"""Indexing: `x[index]`, `x[index] = v`, index_put, select, masked_fill/masked_select,
nonzero and PyTorch's private masked index ops; gather, scatter, index_select, masked_scatter
... live in `ember.ops.scatter`, the region ops and view history in `ember.ops.inplace`, the
parsing of an index in `ember.ops._index_parse`.

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

from ember import _backend
from ember._backend import get_array_module, xp
from ember._registry import op, tensor_method, torch_function, write_out
from ember.ops._out_rules import masked_select_out, nonzero_out
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd import grad_mode
from ember.autograd._shown_graph import shown_node
from ember.autograd.array_recording import RECORDED, array_call, record_unary
from ember.ops._out_overlap import check_out_overlap
from ember.autograd.function import Op, array_result
from ember.autograd.gradients import refuse_batched
from ember.ops._index_parse import _basic_fn, parse_index
from ember.ops._selection import where_array
from ember.ops._util import as_operand, assigned_array, broadcast_shape
from ember.ops.broadcast import expand_to, sum_to
from ember.ops.comparison import where
from ember.ops.inplace import (RegionPut, RegionTake, RegionZero, copy_, copy_slices_name,
                               identity)

_state = grad_mode._state


# ---- getitem ------------------------------------------------------------------------------------
class BasicIndex(Op):
    """y = x[basic index] (a view);  gx = zeros with gy put into the indexed region."""

    @staticmethod
    def torch_edges(node, edges):
        """PyTorch indexes x[0, 1:3] by one view per index item (select, then slice): its node is
        the last view's, behind it the others' (`views_before`, set by basic_view), then x."""
        edge = edges[0]
        for kind in getattr(node, "views_before", ()):
            edge = (shown_node(f"{kind}Backward0", (edge,)), 0)
        return (edge,)

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


def basic_view(x: Tensor, basic, kind="Slice") -> Tensor:
    """x[basic] for a basic index (ints, slices, None, Ellipsis) as a view of x; `kind` names
    PyTorch's view, or its views in order (`parse_index`'s kinds: its node is the last's)."""
    mode = array_call(x)
    if mode:  # the view, without a node (NOTE [Array forward]) or recorded from arrays
        out = array_result(x._data[basic])
        if mode is RECORDED:  # (NOTE [Recording from arrays]: what BasicIndex's forward keeps)
            kinds = (kind,) if isinstance(kind, str) else kind
            node = record_unary(_BASIC_OPS[kinds[-1]], x, out, 2)
            node.input_shape, node.basic = x._data.shape, basic
            if len(kinds) > 1:
                node.views_before = kinds[:-1]
    else:
        kinds = (kind,) if isinstance(kind, str) else kind
        out = _BASIC_OPS[kinds[-1]].apply(x, basic)
        if len(kinds) > 1 and out.grad_fn is not None:
            out.grad_fn.views_before = kinds[:-1]
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
        return RegionPut.apply(gy, ctx.input_shape, identity, ctx.adv), None


@tensor_method("__getitem__")
def getitem(x: Tensor, index) -> Tensor:
    """x[index] with PyTorch's semantics (see NOTE [Basic then advanced indexing])."""
    if type(index) is int:  # x[i] in range, the commonest index: what parse_index would give
        shape = x._data.shape
        if shape and -shape[0] <= index < shape[0]:
            return basic_view(x, (index, Ellipsis), "Select")
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, Tensor) and item.dtype.name == "bool":
            refuse_batched(item._data, _VMAP_MASK)
    basic, adv, kinds = parse_index(x._data.shape, index)
    if adv is None:
        return basic_view(x, basic, kinds)
    if kinds[-1] != "Alias":
        x = basic_view(x, basic, kinds)
    return Index.apply(x, adv)


_VMAP_MASK = ("vmap: We do not support batching operators that can support dynamic shape. "
              "Attempting to batch over indexing with a boolean mask.")


# ---- setitem ------------------------------------------------------------------------------------
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
    # Tensor.expand (ember.ops.shape, a layer above) raises PyTorch's message.
    Tensor._make(xp.empty(value_shape, dtype)).expand(*target_shape)


def _dtype_mismatch(dtype, value_dtype) -> RuntimeError:
    return RuntimeError(
        f"Index put requires the source and destination dtypes match, got {short_name(dtype)} "
        f"for the destination and {short_name(value_dtype)} for the source.")


def _parse_for_put(shape, index, value, dtype):
    """parse_index for a write: PyTorch checks the value's shape and dtype against the region
    before the bounds of the index arrays."""
    try:
        return parse_index(shape, index, read=False)
    except IndexError as error:
        if isinstance(value, Tensor):
            try:
                basic, adv, _ = parse_index(shape, index, clip=True)
            except IndexError:
                raise error from None
            target = xp.empty(shape, dtype=bool)[basic]
            target_shape = target[adv].shape if adv is not None else target.shape
            _check_value_shape(target_shape, value._data.shape, adv is not None, bool)
            if adv is not None and value.dtype is not dtype:
                raise _dtype_mismatch(dtype, value.dtype) from None
        raise


@tensor_method("__setitem__")
def setitem(x: Tensor, index, value) -> None:
    """x[index] = value, in place, rewriting x's autograd history (matches PyTorch)."""
    if not isinstance(value, Tensor):  # (converted first, with fill_'s checks, as torch does)
        value = Tensor._make(assigned_array(value, x))
    basic, adv, kinds = _parse_for_put(x._data.shape, index, value, x.dtype)
    kind = kinds[-1]
    mismatch = adv is not None and value.dtype is not x.dtype
    if adv is not None and _fills_by_mask(index, value):
        mismatch = _check_fill(index, x.dtype, value)
    if not mismatch:
        value = as_operand(value, x.dtype)
    target = x._data[basic]
    target_shape = target[adv].shape if adv is not None else target.shape
    _check_value_shape(target_shape, value._data.shape, adv is not None, value._data.dtype)
    if mismatch:  # checked after the value's shape, as PyTorch does
        raise _dtype_mismatch(x.dtype, value.dtype)
    if adv is None and kind == "Alias":
        # no view taken (x[...], x[:], whole-dim slices): PyTorch writes x.copy_(value) itself
        extra = value._data.ndim - x._data.ndim  # (leading size-1 dims of value dropped)
        copy_(x, value.reshape(value.shape[extra:]) if extra > 0 else value)
        return
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
        x._version_counter.value += 1
        return
    put = IndexPut if adv is not None and kind == "Alias" else CopySlicesPut
    x._inplace_update(put.apply(x, value, _basic_fn(basic), adv))


# NOTE [A one-element value written through a mask]
# torch's index_put_ (so also `x[mask] = v` and index_put without accumulate) hands a write of a
# one-element value whose only tensor index is one bool or uint8 mask to masked_fill_ with the
# value's item(): uint8 masks are then refused, and the value may have any dtype, converted as
# a Python number (an error where it overflows x's dtype) instead of "Index put requires the
# source and destination dtypes match". Its gradient still reaches the value.
def _fills_by_mask(index, value: Tensor) -> bool:
    """Whether torch writes `value` at `index` through masked_fill_ (see NOTE above)."""
    if value._data.size != 1 or type(index) is list:
        return False
    items = index if isinstance(index, tuple) else (index,)
    tensors = [i for i in items if isinstance(i, (Tensor, list, tuple, range, xp.ndarray))
               and not (isinstance(i, Tensor) and i._data.ndim == 0 and i._data.dtype.kind in "iu")]
    return len(tensors) == 1 and isinstance(tensors[0], Tensor) and \
        tensors[0].dtype.name in ("bool", "uint8")


def _check_fill(index, dtype, value: Tensor) -> bool:
    """masked_fill_'s checks: a bool mask, a value x's dtype holds (as a Python number)."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, Tensor) and i.dtype.name == "uint8" for i in items):
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    if value.dtype is not dtype and not _item_fits(value.item(), dtype.numpy):
        name = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int64": "int64_t",
                "bfloat16": "c10::BFloat16"}.get(dtype.name, _c_name(xp.dtype(dtype.numpy)))
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")
    return False


def _item_fits(item, np_dtype) -> bool:
    """torch's overflow check of a Python number converted to a dtype (c10's `overflows`):
    any number fits bool and complex; inf and NaN fit floats; integers may wrap into unsigned
    types (-255 fits uint8); otherwise the number lies within the dtype's range."""
    kind = xp.dtype(np_dtype).kind
    if kind in "bc" or isinstance(item, bool):
        return True
    if isinstance(item, complex):
        return item.imag == 0 and _item_fits(item.real, np_dtype)
    if kind in "iu":
        info = xp.iinfo(np_dtype)
        if isinstance(item, float) and item != item:
            return False
        low = -info.max if kind == "u" and isinstance(item, int) else info.min
        return low <= item <= info.max
    if item != item or item in (float("inf"), float("-inf")):
        return True
    top = float(xp.finfo(np_dtype).max)
    return -top <= item <= top


def _index_put_arguments(input: Tensor, indices, values) -> tuple:
    """index_put's indices as a tuple, after PyTorch's checks: a sequence of tensors, a tensor
    of values of input's dtype."""
    if isinstance(indices, Tensor):  # a tensor iterates, but torch wants a sequence of them
        raise TypeError("index_put(): argument 'indices' (position 2) must be tuple of Tensors, "
                        "not Tensor")
    index = tuple(indices)
    for i, item in enumerate(index):
        if not isinstance(item, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got "
                            f"{type(item).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError("index_put(): argument 'values' (position 3) must be Tensor, not "
                        f"{type(values).__name__}")
    return index


@op(method=True)
def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of input with values written (or added) at a tuple of index tensors (matches
    `torch.index_put`)."""
    index = _index_put_arguments(input, indices, values)
    if not accumulate:
        out = input.clone()
        setitem(out, index, values)
        return out
    basic, adv, _ = _parse_for_put(input._data.shape, index, values, input.dtype)
    view_fn = _basic_fn(basic)
    target = view_fn(input._data)
    target_shape = target[adv].shape if adv is not None else target.shape
    _check_value_shape(target_shape, values._data.shape, adv is not None, input._data.dtype)
    if values.dtype is not input.dtype:
        raise _dtype_mismatch(input.dtype, values.dtype)
    return IndexPutAccumulate.apply(input, as_operand(values, input.dtype), view_fn, adv)


class IndexPutAccumulate(Op):
    """y = x with v added at the index (repeats accumulate);  gx = gy,  gv = sum_to(gy[index])."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, v, view_fn, adv):
        ctx.region = (view_fn, adv)
        ctx.value_shape = v._data.shape
        out = x._data.copy()
        target = view_fn(out)
        region = target[adv] if adv is not None else target
        values = xp.broadcast_to(v._data.reshape(_strip_leading_ones(v._data.shape,
                                                                     region.ndim)), region.shape)
        if adv is None:
            target += values
        else:
            _backend.scatter_add(target, adv, values)
        return out

    @staticmethod
    def backward(ctx, gy):
        gv = None
        if ctx.needs_input_grad[1]:
            gv = _sum_to_value(RegionTake.apply(gy, *ctx.region), ctx.value_shape)
        return gy if ctx.needs_input_grad[0] else None, gv, None, None


@torch_function("index_put_")
@tensor_method("index_put_")
def index_put_(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """index_put in place (matches `torch.Tensor.index_put_`)."""
    if not accumulate:
        setitem(input, _index_put_arguments(input, indices, values), values)
        return input
    return input._inplace_update(index_put(input, indices, values, True))


@op(method=True)
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The view at `index` along dim, without that dim (matches `torch.select`)."""
    dim = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[dim]
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}")
    return basic_view(input, (slice(None),) * dim + (index, Ellipsis), "Select")


# ---- masks --------------------------------------------------------------------------------------
class MaskedFill(Op):
    """y = value where mask else x;  gx = gy where not mask,  gvalue = sum of gy under mask."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        fill = value._data if isinstance(value, Tensor) else value
        return where_array(mask, get_array_module(x._data).asarray(fill, dtype=x._data.dtype),
                           x._data)

    @staticmethod
    def backward(ctx, gy):
        mask = Tensor._make(ctx.mask)
        gx = MaskedFill.apply(gy, ctx.mask, 0) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = sum_to(where(mask, gy, Tensor._make(xp.zeros_like(gy._data, shape=()))), ())
        return gx, None, gv


class MaskedFillTensor(MaskedFill):
    """masked_fill with a 0-d tensor value: the same op, PyTorch's node name for that form."""

    node_name = "MaskedFillBackward1"


def _mask_array(mask: Tensor, name: str) -> xp.ndarray:
    if mask.dtype.name != "bool":
        raise RuntimeError(
            f"{name} only supports boolean masks, but got mask with dtype "
            f"{_c_name(mask._data.dtype)}")
    return mask._data


def _c_name(np_dtype) -> str:
    return {"float32": "float", "float64": "double", "uint8": "unsigned char", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char",
            "float16": "c10::Half"}.get(np_dtype.name, np_dtype.name)


@op(method=True, inplace=True)
def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """input with `value` where mask is True (matches `torch.masked_fill`)."""
    array = _mask_array(mask, "masked_fill_")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s).")
        if value._data.dtype.kind == "c" and input._data.dtype.kind != "c":
            _check_fits(complex(value._data), input._data.dtype)
        value = as_operand(value, input.dtype)
    else:
        _check_fits(value, input._data.dtype)
    shape = broadcast_shape(array.shape, input._data.shape)  # (torch's masked_fill_: reversed)
    if shape != input._data.shape:
        input = expand_to(input, shape)
    fill = MaskedFillTensor if isinstance(value, Tensor) else MaskedFill
    return fill.apply(input, xp.broadcast_to(array, shape), value)


def _check_fits(value, np_dtype) -> None:
    """PyTorch's error for a Python number the tensor's dtype cannot hold."""
    fits = not isinstance(value, complex) or np_dtype.kind == "c"
    if fits and isinstance(value, int) and not isinstance(value, bool) and np_dtype.kind in "iu":
        info = xp.iinfo(np_dtype)
        fits = info.min <= value <= info.max
    if not fits:
        name = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
                "int64": "int64_t"}.get(np_dtype.name, _c_name(np_dtype))
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


class MaskedSelect(Index):
    """y = the entries of x under the mask, as 1-D;  gx = zeros with gy put back there."""


@op(method=True)
def masked_select(input: Tensor, mask: Tensor, *, out=None) -> Tensor:
    """The entries under a bool mask as a 1-D tensor (matches `torch.masked_select`)."""
    refuse_batched(mask._data, "vmap: Attempted to vmap over `mask` in torch.masked_select(self, "
                   "mask) We cannot support this because for each batch this would return a "
                   "differently shaped Tensor. Please file an issue at "
                   "https://github.com/pytorch/pytorch/issues if you need this feature.")
    array = _mask_array(mask, "masked_select:")
    shape = xp.broadcast_shapes(array.shape, input._data.shape) or (1,)  # 0-d reads as (1,)
    x = expand_to(input.reshape(1) if input._data.ndim == 0 else input, shape)
    result = MaskedSelect.apply(x, xp.nonzero(xp.broadcast_to(array, shape)))
    if out is None:
        return result
    check_out_overlap(out, (input, mask))
    return write_out(result, out, rule=masked_select_out)


@op(method=True, out=nonzero_out)
def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the nonzero entries: an (n, ndim) tensor or one tensor per dim (matches
    `torch.nonzero`)."""
    refuse_batched(input._data, "vmap: We do not support batching operators that can output "
                   "dynamic shape. Attempted to vmap over aten::nonzero. Please file an issue at "
                   "https://github.com/pytorch/pytorch/issues if you need this feature.")
    array = input._data if input._data.ndim else input._data.reshape(1)
    if as_tuple:
        return tuple(Tensor._make(i.astype(xp.int64)) for i in xp.nonzero(array))
    return Tensor._make(xp.argwhere(input._data).astype(xp.int64))


@op(method=True)
def argwhere(input: Tensor) -> Tensor:
    """nonzero(input) (matches `torch.argwhere`)."""
    return nonzero(input)


@op(method=True)
def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """nonzero, cut or padded with fill_value to exactly `size` rows (matches
    `torch.nonzero_static`)."""
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = xp.argwhere(input._data).astype(xp.int64)[:size]
    padded = xp.full((size, input._data.ndim), fill_value, dtype=xp.int64)
    padded[:found.shape[0]] = found
    return Tensor._make(padded)


# ---- masked index (PyTorch's private ops for compiled code) -------------------------------------
def _clamped(x: Tensor, indices, low) -> tuple:
    """The index tensors clamped into x's dims (the masked-out ones may point anywhere)."""
    clamped = []
    for d, index in enumerate(indices):
        if index is not None and index.dtype.name not in ("int64", "int32"):
            raise RuntimeError(
                f"_unsafe_masked_index found unexpected index type {short_name(index.dtype)}")
        size = x._data.shape[d]
        clamped.append(None if index is None else Tensor._make(
            xp.clip(index._data, low(size), size - 1)))
    return tuple(slice(None) if i is None else i for i in clamped)


@op
def _unsafe_masked_index(x: Tensor, mask: Tensor, indices, fill) -> Tensor:
    """x[indices] where mask (any nonzero value), else fill (matches
    `torch.ops.aten._unsafe_masked_index`)."""
    index = _clamped(x, indices, lambda size: -size)
    if x._data.size == 0:  # PyTorch indexes a tensor of fill: indexed dims of size 0 read as 1,
        sizes = [max(n, 1) if i < len(indices) and indices[i] is not None else  # dims past the
                 n if i < len(indices) else 0 for i, n in enumerate(x._data.shape)]  # indices 0
        return Tensor._make(get_array_module(x._data).full(sizes, fill, x._data.dtype))[index]
    keep = mask if mask.dtype.name == "bool" else mask != 0
    return x[index].masked_fill(~keep, fill)


@op
def _unsafe_masked_index_put_accumulate(x: Tensor, mask: Tensor, indices,
                                        values: Tensor) -> Tensor:
    """x with values added at indices where mask (any nonzero value, as in
    `_unsafe_masked_index`) (matches `torch.ops.aten._unsafe_masked_index_put_accumulate`)."""
    if x._data.size == 0:
        return x.clone()
    index = _clamped(x, indices, lambda size: -size)
    keep = mask if mask.dtype.name == "bool" else mask != 0
    return x.index_put(index, values.masked_fill(~keep, 0), accumulate=True)
