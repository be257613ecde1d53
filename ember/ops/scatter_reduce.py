"""Scatter with a reduction: scatter_reduce (sum, prod, mean, amax, amin, with or without the
input's own values) and index_reduce (the same along whole slices picked by a 1-D index).

NOTE [Gradients of scatter_reduce]
Written with ember ops (gather, scatter_add, masked_fill, where and scatter_reduce itself), so
they differentiate again. sum: gx = gy, gsrc = gy gathered. mean: both divided by the count
of values reduced into each position. prod: gx = gy·(product of the others), computed with the
input's zeros set to 1 so that a single zero gets the product of the rest; the same for src,
whose gradient is 0 where two or more zeros meet. amax/amin: the gradient is split evenly
among the values equal to the result, as PyTorch does. Without include_self the input's
values at scattered positions are not used, so gx is 0 there.
"""

from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops._scatter_checks import _check_index_func, _check_scatter_index, _index_array
from ember.ops.indexing import _basic_fn
from ember.ops.inplace import RegionPut
from ember.ops.scatter import ScatterNothing, _along_dim, _leading

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
           "amin": "minimum", "max": "maximum", "min": "minimum"}


def _identity_value(reduce: str, dtype):
    """The value a reduction starts from when the input's own values are left out."""
    if reduce in ("sum", "mean"):
        return 0
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if reduce == "prod":
        return 1
    if dtype == xp.bool_:
        return reduce == "amin"
    if dtype.kind in "iu":
        info = xp.iinfo(dtype)
        return info.min if reduce == "amax" else info.max
    return -xp.inf if reduce == "amax" else xp.inf


def _reduce_arrays(x, src, adv, index_shape, reduce, include_self, upcast):
    """scatter_reduce on arrays: x's copy with src's values reduced in at adv. With upcast,
    float16 and bfloat16 reduce in float32 (a mean's sum is rounded before the division), as
    PyTorch's scatter_reduce does; its index_reduce works in the tensor's own dtype."""
    module = get_array_module(x)
    if x.ndim == 0:  # a 0-d x is read as shape (1,); adv is then the index array itself
        return _reduce_arrays(x.reshape(1), src, (adv,), index_shape, reduce, include_self,
                              upcast).reshape(())
    low = upcast and x.dtype.kind not in "iub" and x.dtype.itemsize <= 2
    work = xp.float32 if low else x.dtype
    out = x.astype(work)
    values = src[_leading(index_shape)].astype(work, copy=False)
    hit = module.zeros(x.shape, dtype=bool)
    hit[adv] = True
    if not include_self:
        out[hit] = _identity_value(reduce, out.dtype)
    getattr(xp, _UFUNCS[reduce]).at(out, adv, values)
    if reduce == "mean":
        count = module.full(x.shape, 1 if include_self else 0, dtype=work)
        xp.add.at(count, adv, module.ones(index_shape, dtype=work))
        count[count == 0] = 1
        if low:
            out = out.astype(x.dtype).astype(work)
        out = out // count if out.dtype.kind in "iub" else out / count
    return out.astype(x.dtype, copy=False)


def _pad_to(g: Tensor, shape) -> Tensor:
    """g (of the index's shape) in the leading corner of zeros of src's shape."""
    if g._data.shape == tuple(shape):
        return g
    return RegionPut.apply(g, shape, _basic_fn(_leading(g._data.shape)), None)


class ScatterReduce(Op):
    """y = x with src reduced in at index along dim;  gradients: NOTE [Gradients of
    scatter_reduce]."""

    @staticmethod
    def forward(ctx, x, src, dim, index, reduce, include_self, upcast=True):
        adv = _along_dim(index._data, dim) if x._data.ndim else index._data
        y = Tensor._make(_reduce_arrays(x._data, src._data, adv, index._data.shape, reduce,
                                        include_self, upcast))
        ctx.args = (dim, index, reduce, include_self)
        ctx.save_for_backward(x, src, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, src, y = ctx.saved_tensors
        dim, index, reduce, include_self = ctx.args
        if reduce in ("max", "min"):  # PyTorch's forward takes them, its backward does not
            raise RuntimeError(
                "Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got "
                f"{reduce}.")
        if reduce == "sum":
            gx, gsrc = gy, gy.gather(dim, index)
        elif reduce == "mean":
            start = Tensor._make(xp.full_like(x._data, 1 if include_self else 0))
            count = start.scatter_add(dim, index, Tensor._make(xp.ones_like(src._data)))
            count = count.masked_fill(count == 0, 1)
            gx = gy / count
            gsrc = gx.gather(dim, index)
        elif reduce == "prod":
            gx, gsrc = _prod_grads(gy, x, src, y, dim, index, include_self)
        else:
            value = y.gather(dim, index)
            x_is_y = (x == y).to(x.dtype)
            src_is_y = (src[_leading(index._data.shape)] == value).to(x.dtype)
            count = x_is_y.scatter_add(dim, index, src_is_y)  # PyTorch counts x either way
            share = gy / count
            gx = x_is_y * share
            gsrc = src_is_y * share.gather(dim, index)
        if not include_self:
            gx = gx.scatter(dim, index, 0.0)
        gx = gx if ctx.needs_input_grad[0] else None
        gsrc = _pad_to(gsrc, src._data.shape) if ctx.needs_input_grad[1] else None
        return gx, gsrc, None, None, None, None, None


class IndexReduce(ScatterReduce):
    """index_reduce: scatter_reduce with the index spread over whole slices, PyTorch's name."""


def _prod_grads(gy, x, src, y, dim, index, include_self):
    """The gradients of a product that may contain zeros (NOTE [Gradients of scatter_reduce])."""
    src = src[_leading(index._data.shape)]
    x_ones = x.masked_fill(x == 0, 1)
    gx = gy * scatter_reduce(x_ones, dim, index, src, "prod", include_self=include_self) / x_ones
    src_zero = src == 0
    zeros = Tensor._make(xp.zeros_like(x._data)).scatter_add(dim, index, src_zero.to(x.dtype))
    zeros_there = zeros.gather(dim, index)
    single_zero = src_zero.logical_and(zeros_there == 1)
    without = scatter_reduce(x, dim, index, src.masked_fill(single_zero, 1), "prod",
                             include_self=include_self)
    gsrc = (gy * without).gather(dim, index).where(
        single_zero, (gy * y).gather(dim, index) / src.masked_fill(src_zero, 1))
    return gx, gsrc


def _check(name: str, input: Tensor, src: Tensor, reduce: str, allowed) -> None:
    if reduce not in allowed:
        if name == "scatter_reduce":
            raise RuntimeError(
                f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
        raise RuntimeError(
            "index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
            f"{reduce}.")
    if reduce == "mean" and input.dtype.name == "bool":
        kernel = "scatter_gather_tensor_cpu_reduce_mean" if name == "scatter_reduce" else (
            "div_floor_cpu")
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if src.dtype is not input.dtype:
        if name == "scatter_reduce":
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        raise RuntimeError(
            f"index_reduce_(): self ({short_name(input.dtype)}) and source "
            f"({short_name(src.dtype)}) must have the same scalar type")


@op(method=True, inplace=True, out="exact")
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """input with src's values reduced (sum, prod, mean, amax, amin) into the positions index
    gives along dim (matches `torch.scatter_reduce`)."""
    _check("scatter_reduce", input, src, reduce, _REDUCTIONS + ("max", "min"))
    dim = wrap_dim(dim, input._data.ndim)
    array = _index_array(index, "scatter")
    _check_scatter_index(input._data.shape, array, dim, src._data.shape)
    if not array.size:
        return ScatterNothing.apply(input, src)
    return ScatterReduce.apply(input, src, dim, Tensor._make(array), reduce, bool(include_self))


@op(method=True, inplace=True, out="exact")
def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """input with source's slices reduced (prod, mean, amax, amin) into the slices at `index`
    along dim (matches `torch.index_reduce`)."""
    ndim = input._data.ndim
    dim = wrap_dim(dim, ndim)
    if reduce not in _REDUCTIONS[1:]:
        _check("index_reduce", input, source, reduce, _REDUCTIONS[1:])  # PyTorch's message
    _check_index_func("index_reduce_", input, dim, index, source)
    _check("index_reduce", input, source, reduce, _REDUCTIONS[1:])
    array = index._data.reshape(-1).astype(xp.int64)
    if ndim == 0:
        return IndexReduce.apply(input, source, 0, Tensor._make(array.reshape(())), reduce,
                                 bool(include_self), False)
    expected = input._data.shape[:dim] + (array.size,) + input._data.shape[dim + 1:]
    spread = xp.broadcast_to(array.reshape((-1,) + (1,) * (ndim - dim - 1)), expected).copy()
    return IndexReduce.apply(input, source, dim, Tensor._make(spread), reduce,
                             bool(include_self), False)
