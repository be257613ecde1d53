"""Sorting along a dim: sort, argsort, topk and median, with the gradient sent to the indices.

The backward of each is `PutAlong` (from extrema.py): the gradient of the selected values is
placed back at the positions they came from.
"""

from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.extrema import PutAlong, _along, _check_nonempty, _return_type, _tie_share
from ember.ops.reduction import _axis, _constant

_SortResult = _return_type("sort", ("values", "indices"))
_TopkResult = _return_type("topk", ("values", "indices"))
_MedianResult = _return_type("median", ("values", "indices"))


# ---- sort, argsort, topk -------------------------------------------------------------------
def _sort_indices(data, axis, descending):
    """Stable sort order along axis; NaN sorts as the largest value, as in PyTorch.

    NOTE [Stable descending sort]
    Reversing the slice, sorting ascending stably and reversing again puts equal elements in
    their original order, which negating the values cannot do for unsigned or bool data.
    """
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    order = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return xp.flip(n - 1 - order, axis)


class Sort(Op):
    """(values, indices) = x sorted along axis;  gx = gy placed back at the indices."""

    @staticmethod
    def forward(ctx, x, axis, descending, k):
        data = _along(x._data, x._data.ndim)
        idx = _sort_indices(data, axis, descending)
        if k is not None and x._data.ndim:
            idx = xp.take(idx, get_array_module(idx).arange(k), axis=axis)
        values = xp.take_along_axis(data, idx, axis)
        ctx.args = (idx, axis, True, x._data.shape)
        shape = x._data.shape if k is None or not x._data.ndim else values.shape
        indices = Tensor._make(idx.reshape(shape).astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values.reshape(shape), indices

    @staticmethod
    def backward(ctx, gv, gi):
        return PutAlong.apply(gv, *ctx.args), None, None, None


class SortStable(Sort):
    """sort called with stable= (PyTorch's other overload, hence another node name)."""

    node_name = "SortBackward1"


class Topk(Sort):
    pass


@op(method=True)
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable=None):
    """Sort along dim, returning (values, indices); always stable (matches `torch.sort`)."""
    axis = _axis(dim, input._data.ndim)
    op = Sort if stable is None else SortStable
    values, indices = op.apply(input, axis, descending, None)
    return _SortResult(values, indices)


@op(method=True)
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort input along dim (matches `torch.argsort`)."""
    axis = _axis(dim, input._data.ndim)
    idx = _sort_indices(_along(input._data, input._data.ndim), axis, descending)
    return Tensor._make(idx.reshape(input._data.shape).astype(xp.int64, copy=False))


@op(method=True)
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) entries along dim and their indices (matches `torch.topk`)."""
    axis = _axis(dim, input._data.ndim)
    size = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    values, indices = Topk.apply(input, axis, largest, k)
    return _TopkResult(values, indices)


class MedianAll(Op):
    """y = the lower median of all elements;  gx = gy / k at each of the k elements equal to y."""

    node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x):
        flat = x._data.reshape(-1)
        if flat.size == 0 or flat.dtype.kind == "f" and xp.isnan(flat).any():
            y = get_array_module(flat).asarray(xp.nan, dtype=flat.dtype)
        else:
            k = (flat.size - 1) // 2
            y = xp.partition(flat, k)[k]
        if ctx.needs_input_grad[0]:
            ctx.share = _tie_share(x._data, y)
        return xp.asanyarray(y)

    @staticmethod
    def backward(ctx, gy):
        return gy * _constant(ctx.share.astype(gy._data.dtype, copy=False))


class MedianDim(Op):
    """(values, indices) of the lower median along a dim;  gx = gy at the returned index."""

    node_name = "MedianBackward1"

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        data = _along(x._data, x._data.ndim)
        order = xp.argsort(data, axis=axis, kind="stable")
        n = data.shape[axis]
        if data.dtype.kind == "f":
            nans = xp.sum(xp.isnan(data), axis=axis, keepdims=True)
            position = xp.where(nans > 0, n - nans, (n - 1) // 2)
        else:
            position = get_array_module(data).asarray((n - 1) // 2)
        position = xp.broadcast_to(position, xp.take(order, [0], axis=axis).shape)
        idx = xp.take_along_axis(order, position, axis)
        ctx.args = (idx, axis, keepdim, x._data.shape)
        values = xp.take_along_axis(data, idx, axis)
        if x._data.ndim == 0:
            values, idx = values.reshape(()), idx.reshape(())
        elif not keepdim:
            values, idx = xp.squeeze(values, axis), xp.squeeze(idx, axis)
        indices = Tensor._make(idx.astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, gy, gi):
        return PutAlong.apply(gy, *ctx.args), None, None


@op(method=True)
def median(input: Tensor, dim=None, keepdim: bool = False):
    """Lower median: a value, or (values, indices) along dim (matches `torch.median`)."""
    if dim is None:
        return MedianAll.apply(input)
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, "median", axis)
    values, indices = MedianDim.apply(input, axis, keepdim)
    return _MedianResult(values, indices)
