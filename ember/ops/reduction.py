"""Reductions (sum, mean, prod, var/std, max/min, amax/amin, argmax, logsumexp, norm, all/any)
and scans (cumsum, cumprod). Sorting lives in sort.py and softmax in softmax.py.

Every backward is written with ember ops, so second derivatives work. Three private op pairs
carry gradients between a reduced shape and the input shape; each is the other's adjoint, so
they can be differentiated any number of times:

    Sum        <->  ExpandDims   (sum over dims / put the removed dims back and broadcast)
    TakeAlong  <->  PutAlong     (pick entries at indices along a dim / place them back in zeros)
    Cumsum     <->  RevCumsum    (running sum from the front / from the back)
"""

import collections
import math
import warnings

import numpy as np

from ember import _dtype
from ember._tensor import Tensor, wrap_dim
from ember.autograd.function import Op
from ember.ops._util import as_operand

__all__ = [
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cumprod",
    "cumsum", "logsumexp", "max", "mean", "min", "nanmean", "nansum", "norm", "prod", "std",
    "std_mean", "sum", "var", "var_mean",
]

_builtin_max = max  # this module defines its own max


# ---- helpers -------------------------------------------------------------------------------
def _return_type(name, fields):
    """A named tuple that prints like PyTorch's `torch.return_types.<name>`."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__})


_MaxResult = _return_type("max", ("values", "indices"))
_MinResult = _return_type("min", ("values", "indices"))
_AminmaxResult = _return_type("aminmax", ("min", "max"))


def _constant(array) -> Tensor:
    return Tensor._make(np.asarray(array))


def _axes(dim, ndim):
    """dim (None, int, or a sequence; empty means all) as a tuple of NumPy axes.

    A 0-d tensor accepts dim 0 and -1 (PyTorch's rule) but has no NumPy axes to reduce.
    """
    if dim is None or (not isinstance(dim, (int, np.integer)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = [dim] if isinstance(dim, (int, np.integer)) else list(dim)
    wrapped = [wrap_dim(int(d), ndim) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(wrapped)) if ndim else ()


def _axis(dim, ndim) -> int:
    """One dim wrapped to a non-negative axis (0 for a 0-d tensor)."""
    return wrap_dim(int(dim), ndim)


def _count(shape, axes) -> int:
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _accumulate_dtype(x: Tensor, dtype):
    """sum/prod/cumsum: bool and integer inputs accumulate in int64, as in PyTorch."""
    if dtype is not None:
        return _dtype.to_dtype(dtype)
    return x.dtype if x.dtype.is_floating_point else _dtype.int64


def _type_word(d) -> str:
    return {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[d.name]


# ---- the adjoint pairs -----------------------------------------------------------------------
class Sum(Op):
    """y = Σ_axes x;  gx = gy with the summed axes put back and broadcast (ExpandDims)."""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.args = (axes, keepdim, x._data.shape)
        if dtype is _dtype.float16:  # accumulate in float32, as PyTorch does
            total = np.sum(x._data, axis=axes, keepdims=keepdim, dtype=np.float32)
            return np.asarray(total).astype(np.float16)
        return np.sum(x._data, axis=axes, keepdims=keepdim, dtype=dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        return expand_dims(gy, *ctx.args), None, None, None


class SumAll(Sum):
    """sum over every element (PyTorch names this node SumBackward0)."""

    node_name = "SumBackward0"


class ExpandDims(Op):
    """y = g with `axes` re-inserted (unless keepdim) and broadcast to `shape`;  gg = Σ_axes gy."""

    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, g, axes, keepdim, shape):
        ctx.args = (axes, keepdim)
        data = g._data if keepdim or not shape else np.expand_dims(g._data, axes)
        return np.broadcast_to(data, shape)

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim = ctx.args
        return Sum.apply(gy, axes, keepdim, gy.dtype), None, None, None


def expand_dims(g: Tensor, axes, keepdim, shape) -> Tensor:
    """Undo a reduction over `axes`: the gradient of every reduced element is its slice's g."""
    if g._data.shape == tuple(shape):
        return g
    return ExpandDims.apply(g, axes, keepdim, tuple(shape))


def _along(array, ndim):
    """A 0-d array seen as shape (1,), so index ops along axis 0 work on it."""
    return array if ndim else array.reshape(1)


class TakeAlong(Op):
    """y = x[..., idx, ...] along `axis` (squeezed unless keepdim);  gx = PutAlong(gy)."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx, axis, keepdim):
        ctx.args = (idx, axis, keepdim, x._data.shape)
        y = np.take_along_axis(_along(x._data, x._data.ndim), idx, axis)
        if x._data.ndim == 0:
            return y.reshape(())
        return y if keepdim else np.squeeze(y, axis)

    @staticmethod
    def backward(ctx, gy):
        return PutAlong.apply(gy, *ctx.args), None, None, None


class PutAlong(Op):
    """y = zeros(shape) with g placed at idx along `axis`;  gg = TakeAlong(gy).

    The indices along `axis` are distinct (an argmax, a permutation or its first k), so
    placing is the exact adjoint of taking.
    """

    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, g, idx, axis, keepdim, shape):
        ctx.args = (idx, axis, keepdim)
        out = np.zeros(shape if shape else (1,), dtype=g._data.dtype)
        data = _along(g._data, len(shape))
        if not keepdim and shape:
            data = np.expand_dims(data, axis)
        np.put_along_axis(out, idx, data, axis)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return TakeAlong.apply(gy, *ctx.args), None, None, None, None


class Cumsum(Op):
    """y_i = Σ_{j<=i} x_j along `axis`;  gx_i = Σ_{j>=i} gy_j (RevCumsum)."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        if x._data.ndim == 0:
            return x._data.astype(dtype.numpy)
        if dtype is _dtype.float16:  # accumulate in float32, as PyTorch does
            return np.cumsum(x._data, axis=axis, dtype=np.float32).astype(np.float16)
        return np.cumsum(x._data, axis=axis, dtype=dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        return RevCumsum.apply(gy, ctx.axis), None, None


class RevCumsum(Op):
    """y_i = Σ_{j>=i} x_j along `axis`;  gx = Cumsum(gy)."""

    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x._data.ndim == 0:
            return x._data.copy()
        flipped = np.flip(x._data, axis)
        return np.flip(np.cumsum(flipped, axis=axis), axis).copy()

    @staticmethod
    def backward(ctx, gy):
        return Cumsum.apply(gy, ctx.axis, gy.dtype), None


# ---- sum, mean, prod -------------------------------------------------------------------------
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over `dim` (all elements if None); ints and bools give int64 (matches `torch.sum`)."""
    out_dtype = _accumulate_dtype(input, dtype)
    axes = _axes(dim, input._data.ndim)
    op = SumAll if dim is None and not keepdim else Sum  # PyTorch's two overloads
    return op.apply(input, axes, keepdim, out_dtype)


class Nansum(Op):
    """y = Σ_axes x over the non-NaN entries;  gx = gy broadcast back, 0 at the NaNs."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.args = (axes, keepdim, x._data.shape)
        ctx.valid = ~np.isnan(x._data)
        return np.nansum(x._data, axis=axes, keepdims=keepdim, dtype=dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        g = expand_dims(gy, *ctx.args)
        return g * _constant(ctx.valid.astype(g._data.dtype)), None, None, None


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero (matches `torch.nansum`)."""
    if not input.dtype.is_floating_point:
        return sum(input, dim, keepdim, dtype=dtype)
    axes = _axes(dim, input._data.ndim)
    return Nansum.apply(input, axes, keepdim, _accumulate_dtype(input, dtype))


class Mean(Op):
    """y = Σ_axes x / n;  gx = gy / n broadcast back over the axes."""

    node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        n = _count(x._data.shape, axes)
        ctx.args = (axes, keepdim, x._data.shape, n)
        wide = np.float32 if x._data.dtype == np.float16 else x._data.dtype
        total = np.sum(x._data, axis=axes, keepdims=keepdim, dtype=wide)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / total.dtype.type(n)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim, shape, n = ctx.args
        scaled = gy / n if n else gy * math.nan  # n = 0 only when x (and gx) are empty
        return expand_dims(scaled, axes, keepdim, shape), None, None


class MeanAll(Mean):
    node_name = "MeanBackward0"


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over `dim`; integer inputs need dtype= (matches `torch.mean`)."""
    if dtype is not None:
        input = as_operand(input, _dtype.to_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_type_word(input.dtype)}")
    axes = _axes(dim, input._data.ndim)
    return (MeanAll if dim is None and not keepdim else Mean).apply(input, axes, keepdim)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (matches `torch.nanmean`)."""
    valid = _constant(~np.isnan(input._data))
    return nansum(input, dim, keepdim, dtype=dtype) / sum(valid, dim, keepdim)


class Prod(Op):
    """y = Π_axes x;  gx = gy·y/x where the slice has no zero.

    NOTE [prod with zeros]
    y/x is 0/0 at a zero. With exactly one zero in a slice, its gradient is the product of the
    others and every other element's gradient is 0; with two or more zeros all are 0. The
    product of the others is the product of x with its zeros replaced by 1.
    """

    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        y = Tensor._make(np.asarray(np.prod(x._data, axis=axes, keepdims=keepdim,
                                             dtype=dtype.numpy)))
        ctx.args = (axes, keepdim, x._data.shape)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from ember.ops.comparison import where

        x, y = ctx.saved_tensors
        axes, keepdim, shape = ctx.args
        is_zero = x._data == 0
        g = expand_dims(gy, axes, keepdim, shape)
        if not is_zero.any():
            return g * expand_dims(y, axes, keepdim, shape) / x, None, None, None
        zeros = np.sum(is_zero, axis=axes, keepdims=True)
        others = Prod.apply(where(_constant(is_zero), 1.0, x), axes, True, x.dtype)
        lone_zero = _constant(is_zero & (zeros == 1))
        no_zero = _constant(np.broadcast_to(zeros == 0, shape))
        safe_x = where(_constant(is_zero), 1.0, x)
        dense = expand_dims(others, axes, True, shape)
        local = where(no_zero, dense / safe_x, where(lone_zero, dense, 0.0))
        return g * local, None, None, None


class ProdAll(Prod):
    node_name = "ProdBackward0"


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over `dim` (all elements if None) (matches `torch.prod`)."""
    out_dtype = _accumulate_dtype(input, dtype)
    if dim is None:
        return ProdAll.apply(input, _axes(None, input._data.ndim), False, out_dtype)
    return Prod.apply(input, _axes(int(dim), input._data.ndim), keepdim, out_dtype)


# ---- var, std --------------------------------------------------------------------------------
def _var_args(dim, unbiased, correction):
    """PyTorch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim), correction=."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var_grad(x, g, axes, dof):
    """d var / dx times g (g already broadcast to x's shape): g·2(x - x̄)/(n - c)."""
    scale = 2.0 / dof if dof else math.inf
    return g * (x - mean(x, axes, True)) * scale


def _std_grad(x, y, gy, axes, keepdim, shape, dof):
    """d std / dx times gy: gy·(x - x̄)/((n - c)·y), taken as 0 where y = 0 (as in PyTorch)."""
    from ember.ops.comparison import where

    flat = _constant(y._data == 0)
    ratio = where(flat, 0.0, gy / where(flat, 1.0, y))
    return _var_grad(x, expand_dims(ratio, axes, keepdim, shape), axes, dof) * 0.5


def _variance(x, axes, correction, keepdim):
    n = _count(x.shape, axes)
    with np.errstate(invalid="ignore", divide="ignore"):
        centered = x - (np.sum(x, axis=axes, keepdims=True) / x.dtype.type(n))
        squares = np.sum(centered * centered, axis=axes, keepdims=keepdim)
        return np.asarray(squares / squares.dtype.type(_builtin_max(n - correction, 0)))


class Var(Op):
    """y = Σ(x - x̄)² / (n - c);  gx = gy·2(x - x̄)/(n - c)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = _count(x._data.shape, axes)
        ctx.args = (axes, keepdim, x._data.shape, n - correction)
        ctx.save_for_backward(x)
        return _variance(x._data, axes, correction, keepdim)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        axes, keepdim, shape, dof = ctx.args
        return _var_grad(x, expand_dims(gy, axes, keepdim, shape), axes, dof), None, None, None


class Std(Op):
    """y = √var;  gx = gy·(x - x̄)/((n - c)·y), taken as 0 where y = 0 (as PyTorch does)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = _count(x._data.shape, axes)
        y = Tensor._make(np.sqrt(_variance(x._data, axes, correction, keepdim)))
        ctx.args = (axes, keepdim, x._data.shape, n - correction)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return _std_grad(x, y, gy, *ctx.args), None, None, None


class VarMean(Op):
    """(var, mean) in one op;  gx = the var gradient + gmean/n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = _count(x._data.shape, axes)
        y = Tensor._make(_variance(x._data, axes, correction, keepdim))
        ctx.args = (axes, keepdim, x._data.shape, n - correction, n)
        ctx.save_for_backward(x, y)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = np.sum(x._data, axis=axes, keepdims=keepdim) / x._data.dtype.type(n)
        return y, np.asarray(m)

    @staticmethod
    def backward(ctx, gy, gmean):
        x, y = ctx.saved_tensors
        axes, keepdim, shape, dof, n = ctx.args
        if ctx._function is StdMean:
            gx = _std_grad(x, y, gy, axes, keepdim, shape, dof)
        else:
            gx = _var_grad(x, expand_dims(gy, axes, keepdim, shape), axes, dof)
        return gx + expand_dims(gmean / n, axes, keepdim, shape), None, None, None


class StdMean(VarMean):
    """(std, mean) in one op."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        var, m = VarMean.forward(ctx, x, axes, correction, keepdim)
        y = Tensor._make(np.sqrt(var._data))
        ctx.save_for_backward(x, y)
        return y, m


def _var_or_std(op, name, input, dim, unbiased, keepdim, correction):
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, correction = _var_args(dim, unbiased, correction)
    axes = _axes(dim, input._data.ndim)
    if _count(input._data.shape, axes) - correction <= 0:
        warnings.warn(f"{name.split('_')[0]}(): degrees of freedom is <= 0. Correction should be "
                      "strictly less than the reduction factor (input numel divided by output "
                      "numel).", UserWarning, stacklevel=3)
    return op.apply(input, axes, correction, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (matches `torch.var`)."""
    return _var_or_std(Var, "var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Standard deviation (matches `torch.std`)."""
    return _var_or_std(Std, "std", input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) (matches `torch.var_mean`)."""
    return _var_or_std(VarMean, "var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) (matches `torch.std_mean`)."""
    return _var_or_std(StdMean, "std_mean", input, dim, unbiased, keepdim, correction)


# ---- max, min, amax, amin, argmax, argmin ----------------------------------------------------
class MaxAll(Op):
    """y = max of all elements;  gx = gy / k at each of the k elements equal to y.

    NOTE [Gradient at ties]
    PyTorch's max()/min() without dim and amax/amin split the gradient evenly among tied
    maxima; max(dim)/min(dim) return one index per slice and send the whole gradient there.
    """

    node_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, x, take_max):
        y = np.max(x._data) if take_max else np.min(x._data)
        if ctx.needs_input_grad[0]:
            ctx.share = _tie_share(x._data, y)
        return np.asarray(y)

    @staticmethod
    def backward(ctx, gy):
        return gy * _constant(ctx.share.astype(gy._data.dtype, copy=False)), None


class MinAll(MaxAll):
    node_name = "MinBackward1"


class Amax(Op):
    """y = max over axes;  gx = gy / k at each of the k tied maxima of a slice (see NOTE)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, take_max):
        reduce = np.max if take_max else np.min
        y = reduce(x._data, axis=axes, keepdims=True)
        if ctx.needs_input_grad[0]:
            ctx.args = (axes, keepdim, x._data.shape)
            ctx.share = _tie_share(x._data, y, axes)
        return y if keepdim else np.squeeze(y, axes)

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim, shape = ctx.args
        share = _constant(ctx.share.astype(gy._data.dtype, copy=False))
        return expand_dims(gy, axes, keepdim, shape) * share, None, None, None


class Amin(Amax):
    pass


def _tie_share(x, y, axes=None):
    """1/k at each of the k entries of a slice equal to its extreme y (NaN matches NaN), else 0."""
    hits = (x == y) | (np.isnan(x) & np.isnan(y))
    return hits / hits.sum(axis=axes, keepdims=True, dtype=x.dtype)


def _check_nonempty(x: Tensor, name: str, axis=None):
    if x._data.size:
        return
    if axis is None:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument.")
    if x._data.ndim and x._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def _arg_extreme(data, axis, take_max):
    """Index of the first max/min along axis (NaN counts as the extreme, as in PyTorch)."""
    return (np.argmax if take_max else np.argmin)(data, axis=axis, keepdims=True)


class MaxDim(Op):
    """(values, indices) of max along a dim;  gx = gy at the returned index (see NOTE)."""

    node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, axis, keepdim, take_max):
        idx = _arg_extreme(_along(x._data, x._data.ndim), axis, take_max)
        ctx.args = (idx, axis, keepdim, x._data.shape)
        values = np.take_along_axis(_along(x._data, x._data.ndim), idx, axis)
        indices = idx
        if x._data.ndim == 0:
            values, indices = values.reshape(()), idx.reshape(())
        elif not keepdim:
            values, indices = np.squeeze(values, axis), np.squeeze(idx, axis)
        indices = Tensor._make(indices.astype(np.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, gy, gi):
        return PutAlong.apply(gy, *ctx.args), None, None, None


class MinDim(MaxDim):
    node_name = "MinBackward0"


def _max_or_min(input, dim, keepdim, other, take_max):
    name = "max" if take_max else "min"
    if isinstance(dim, Tensor) or other is not None:
        from ember.ops.comparison import maximum, minimum

        return (maximum if take_max else minimum)(input, dim if other is None else other)
    if dim is None:
        _check_nonempty(input, name)
        return (MaxAll if take_max else MinAll).apply(input, take_max)
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, name, axis)
    values, indices = (MaxDim if take_max else MinDim).apply(input, axis, keepdim, take_max)
    return (_MaxResult if take_max else _MinResult)(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """max(x): the largest value; max(x, dim): (values, indices); max(x, y): elementwise
    (matches `torch.max`)."""
    return _max_or_min(input, dim, keepdim, other, True)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """min(x), min(x, dim) -> (values, indices), min(x, y) (matches `torch.min`)."""
    return _max_or_min(input, dim, keepdim, other, False)


def _amax_or_amin(input, dim, keepdim, take_max):
    name = "amax" if take_max else "amin"
    axes = _axes(dim, input._data.ndim)
    if dim is None or not isinstance(dim, int) and len(dim) == 0:
        _check_nonempty(input, name)
    _check_reduced_sizes(input, axes, f"{name}():")
    return (Amax if take_max else Amin).apply(input, axes, keepdim, take_max)


def _check_reduced_sizes(x: Tensor, axes, prefix: str):
    """A max/min over an empty dim has no identity: PyTorch's IndexError."""
    for a in axes:
        if x._data.shape[a] == 0:
            raise IndexError(f"{prefix} Expected reduction dim {a} to have non-zero size.")


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Max over dims (all if empty), ties share the gradient (matches `torch.amax`)."""
    return _amax_or_amin(input, dim, keepdim, True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    """Min over dims (all if empty) (matches `torch.amin`)."""
    return _amax_or_amin(input, dim, keepdim, False)


class Aminmax(Op):
    """(min, max) in one pass;  gx = gmin shared among tied minima + gmax among tied maxima."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        shares = []
        outputs = []
        for reduce in (np.min, np.max):
            y = reduce(x._data, axis=axes, keepdims=True)
            if ctx.needs_input_grad[0]:
                shares.append(_tie_share(x._data, y, axes))
            outputs.append(y if keepdim else np.squeeze(y, axes))
        ctx.args = (axes, keepdim, x._data.shape)
        ctx.shares = shares
        return tuple(outputs)

    @staticmethod
    def backward(ctx, gmin, gmax):
        axes, keepdim, shape = ctx.args
        share_min, share_max = (_constant(s.astype(gmin._data.dtype)) for s in ctx.shares)
        return (expand_dims(gmin, axes, keepdim, shape) * share_min
                + expand_dims(gmax, axes, keepdim, shape) * share_max), None, None


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    """(min, max) over a dim or all elements (matches `torch.aminmax`)."""
    if dim is None:
        _check_nonempty(input, "aminmax")
    axes = _axes(dim, input._data.ndim)
    _check_reduced_sizes(input, axes, "aminmax:")
    low, high = Aminmax.apply(input, axes, keepdim)
    return _AminmaxResult(low, high)


def _argextreme(input, dim, keepdim, take_max):
    name = "argmax" if take_max else "argmin"
    data = input._data
    if dim is None:
        if data.size == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        index = _arg_extreme(data.reshape(-1), 0, take_max).reshape(())
        if keepdim:
            index = index.reshape((1,) * data.ndim)
        return Tensor._make(index.astype(np.int64))
    axis = _axis(dim, data.ndim)
    if data.ndim and data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    index = _arg_extreme(_along(data, data.ndim), axis, take_max)
    if data.ndim == 0:
        index = index.reshape(())
    elif not keepdim:
        index = np.squeeze(index, axis)
    return Tensor._make(index.astype(np.int64))


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum (flattened if dim is None) (matches `torch.argmax`)."""
    return _argextreme(input, dim, keepdim, True)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum (matches `torch.argmin`)."""
    return _argextreme(input, dim, keepdim, False)


# ---- logsumexp, norm -------------------------------------------------------------------------
class Logsumexp(Op):
    """y = m + log Σ exp(x - m) with m = max (no overflow);  gx = gy·exp(x - y)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = x._data
        if data.size == 0:
            with np.errstate(divide="ignore"):
                y = np.log(np.sum(np.exp(data), axis=axes, keepdims=True))
        else:
            m = np.max(data, axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0).astype(data.dtype)
            with np.errstate(divide="ignore"):
                y = m + np.log(np.sum(np.exp(data - m), axis=axes, keepdims=True))
        y = Tensor._make(y if keepdim else np.squeeze(y, axes))
        ctx.args = (axes, keepdim, data.shape)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from ember.ops.unary import exp

        x, y = ctx.saved_tensors
        axes, keepdim, shape = ctx.args
        weights = exp(x - expand_dims(y, axes, keepdim, shape))
        return expand_dims(gy, axes, keepdim, shape) * weights, None, None


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(Σ exp(input)) over dims, computed stably (matches `torch.logsumexp`)."""
    if not input.dtype.is_floating_point:
        input = as_operand(input, _dtype.get_default_dtype())
    return Logsumexp.apply(input, _axes(dim, input._data.ndim), keepdim)


class Norm(Op):
    """y = (Σ|x|^p)^(1/p) over axes (p = inf: max |x|, p = 0: count of nonzeros);
    gx = gy·sign(x)·|x|^(p-1) / y^(p-1), which is gy·x/y for p = 2 (0 where y = 0).
    """

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = np.abs(x._data)
        if p == math.inf:
            y = np.max(a, axis=axes, keepdims=True)
        elif p == -math.inf:
            y = np.min(a, axis=axes, keepdims=True)
        elif p == 0:
            y = np.sum(a != 0, axis=axes, keepdims=True).astype(a.dtype)
        elif p == 1:
            y = np.sum(a, axis=axes, keepdims=True)
        elif p == 2:
            y = np.sqrt(np.sum(a * a, axis=axes, keepdims=True))
        else:
            y = np.sum(a ** a.dtype.type(p), axis=axes, keepdims=True) ** a.dtype.type(1 / p)
        y = Tensor._make(np.asarray(y if keepdim else np.squeeze(y, axes), dtype=a.dtype))
        ctx.args = (p, axes, keepdim, x._data.shape)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from ember.ops.comparison import where
        from ember.ops.unary import abs as abs_

        x, y = ctx.saved_tensors
        p, axes, keepdim, shape = ctx.args
        g = expand_dims(gy, axes, keepdim, shape)
        sign = _constant(np.sign(x._data))
        if p == 0:
            return None, None, None, None  # PyTorch leaves the gradient of a count undefined
        if p == 1:
            return g * sign, None, None, None
        y_full = expand_dims(y, axes, keepdim, shape)
        if math.isinf(p):
            hits = np.abs(x._data) == y_full._data
            share = hits / np.sum(hits, axis=axes, keepdims=True, dtype=x._data.dtype)
            return g * sign * _constant(share), None, None, None
        flat = _constant(y_full._data == 0)
        safe_y = where(flat, 1.0, y_full)
        if p == 2:
            return where(flat, 0.0, g * x / safe_y), None, None, None
        local = sign * abs_(x) ** (p - 1) / safe_y ** (p - 1)
        return where(flat, 0.0, g * local), None, None, None


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None):
    """Vector p-norm over dims, 'fro' = 2 (matches `torch.norm`; matrix norms not supported)."""
    if dtype is not None:
        input = as_operand(input, _dtype.to_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_word(input.dtype)}")
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise RuntimeError(f"norm: p={p!r} (matrix norms) is not supported by ember")
    p = float(p)
    axes = _axes(dim, input._data.ndim)
    if math.isinf(p) and input._data.size == 0:
        empty = [a for a in axes if input._data.shape[a] == 0]
        prefix = f"linalg.vector_norm cannot compute the {p:g} norm on"
        if dim is None:
            raise RuntimeError(f"{prefix} an empty tensor because the operation does not have "
                               "an identity")
        if empty:  # (PyTorch's message lacks the space after the dimension)
            raise RuntimeError(f"{prefix} the dimension {empty[0]}because this dimension is "
                               "empty and the operation does not have an identity")
    result = Norm.apply(input, p, axes, keepdim)
    if out is not None:
        from ember.ops.elementwise import _out

        return _out(result, out)
    return result


# ---- all, any, count_nonzero -----------------------------------------------------------------
def _logical_reduce(array_fn, input, dim, keepdim):
    axes = _axes(dim, input._data.ndim)
    result = np.asarray(array_fn(input._data, axis=axes, keepdims=keepdim))
    if input.dtype is _dtype.uint8:
        result = result.astype(np.uint8)
    return Tensor._make(result)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element is nonzero, over dims (matches `torch.all`)."""
    return _logical_reduce(np.all, input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether any element is nonzero, over dims (matches `torch.any`)."""
    return _logical_reduce(np.any, input, dim, keepdim)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements over dims, int64 (matches `torch.count_nonzero`)."""
    axes = _axes(dim, input._data.ndim)
    return Tensor._make(np.asarray(np.sum(input._data != 0, axis=axes), dtype=np.int64))


# ---- cumsum, cumprod -------------------------------------------------------------------------
class Cumprod(Op):
    """y_i = Π_{j<=i} x_j;  gx_i = Σ_{j>=i} gy_j·y_j / x_i when no x_j (j <= i) is zero.

    NOTE [cumprod with zeros]
    Past a slice's first zero z every y_j is 0, and so is the gradient of every x_i with i > z.
    For i < z the formula above holds. For i = z the gradient is Σ_{j>=z} gy_j·y'_j, where y'
    is the cumprod of x with x_z replaced by 1.
    """

    @staticmethod
    def forward(ctx, x, axis, dtype):
        if x._data.ndim == 0:
            y = x._data.astype(dtype.numpy)
        else:
            y = np.cumprod(x._data, axis=axis, dtype=dtype.numpy)
        y = Tensor._make(y)
        ctx.axis = axis
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        from ember.ops.comparison import where

        x, y = ctx.saved_tensors
        axis = ctx.axis
        is_zero = x._data == 0
        if not is_zero.any():
            return RevCumsum.apply(gy * y, axis) / x, None, None
        zeros_so_far = np.cumsum(is_zero, axis=axis) if x._data.ndim else is_zero.astype(int)
        before = _constant(zeros_so_far == 0)
        first = _constant(is_zero & (zeros_so_far == 1))
        head = where(before, RevCumsum.apply(gy * y, axis) / where(before, x, 1.0), 0.0)
        y_without_zero = Cumprod.apply(where(first, 1.0, x), axis, x.dtype)
        at_zero = where(first, RevCumsum.apply(gy * y_without_zero, axis), 0.0)
        return head + at_zero, None, None


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along dim; ints give int64 (matches `torch.cumsum`)."""
    return Cumsum.apply(input, _axis(dim, input._data.ndim), _accumulate_dtype(input, dtype))


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along dim (matches `torch.cumprod`)."""
    return Cumprod.apply(input, _axis(dim, input._data.ndim), _accumulate_dtype(input, dtype))


# ---- Tensor methods --------------------------------------------------------------------------
for _fn in (sum, nansum, mean, nanmean, prod, var, std, max, min, amax, amin, aminmax, argmax,
            argmin, logsumexp, norm, all, any, count_nonzero, cumsum, cumprod):
    setattr(Tensor, _fn.__name__, _fn)
Tensor.cumsum_ = lambda self, dim, *, dtype=None: self._inplace_update(cumsum(self, dim))
Tensor.cumprod_ = lambda self, dim, *, dtype=None: self._inplace_update(cumprod(self, dim))
