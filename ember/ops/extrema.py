"""Extrema and the reductions built on them: max/min (all, along a dim, or elementwise),
amax/amin, aminmax, argmax/argmin, logsumexp (a stable log Σ exp, shifted by the max) and the
vector norms (whose ±inf norms are max/min of |x|).

The gradient of a value picked at an index travels through a private pair of adjoint ops
(sort.py's backward uses them too); each is the other's adjoint, so they can be differentiated
any number of times:

    TakeAlong  <->  PutAlong     (pick entries at indices along a dim / place them back in zeros)
"""

import math

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op, write_out
from ember._out_dtypes import c_type
from ember.ops._out_rules import extremum_out, logsumexp_out
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops._util import as_operand
from ember.ops._wirtinger import conj, refuse_complex
from ember.ops.comparison import maximum, minimum, where
from ember.ops.reduction import _axes, _axis, _constant, _type_word, expand_dims
from ember.ops.unary import abs as _abs
from ember.ops.unary import exp, sign_array
from ember.ops._opmath import holds_nan
from ember.return_types import return_type as _return_type  # (the other ops import it here)


# ---- helpers -------------------------------------------------------------------------------
_MaxResult = _return_type("max", ("values", "indices"))
_MinResult = _return_type("min", ("values", "indices"))
_AminmaxResult = _return_type("aminmax", ("min", "max"))


# ---- the index adjoint pair ------------------------------------------------------------------
def _along(array, ndim):
    """A 0-d array seen as shape (1,), so index ops along axis 0 work on it."""
    return array if ndim else array.reshape(1)


class TakeAlong(Op):
    """y = x[..., idx, ...] along `axis` (squeezed unless keepdim);  gx = PutAlong(gy)."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx, axis, keepdim):
        ctx.args = (idx, axis, keepdim, x._data.shape)
        y = xp.take_along_axis(_along(x._data, x._data.ndim), idx, axis)
        if x._data.ndim == 0:
            return y.reshape(())
        return y if keepdim else xp.squeeze(y, axis)

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
        out = get_array_module(g._data).zeros(shape if shape else (1,), dtype=g._data.dtype)
        data = _along(g._data, len(shape))
        if not keepdim and shape:
            data = xp.expand_dims(data, axis)
        xp.put_along_axis(out, idx, data, axis)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return TakeAlong.apply(gy, *ctx.args), None, None, None, None


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
        y = xp.max(x._data) if take_max else xp.min(x._data)
        if ctx.needs_input_grad[0]:
            ctx.share = _tie_share(x._data, y)
        return xp.asanyarray(y)

    @staticmethod
    def backward(ctx, gy):
        return gy * _constant(ctx.share.astype(gy._data.dtype, copy=False)), None


class MinAll(MaxAll):
    node_name = "MinBackward1"


class Amax(Op):
    """y = max over axes;  gx = gy / k at each of the k tied maxima of a slice (see NOTE)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, take_max):
        reduce = xp.max if take_max else xp.min
        y = reduce(x._data, axis=axes, keepdims=True)
        if ctx.needs_input_grad[0]:
            ctx.args = (axes, keepdim, x._data.shape)
            ctx.share = _tie_share(x._data, y, axes, nan_ties=False)
        return y if keepdim else xp.squeeze(y, axes)

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim, shape = ctx.args
        share = _constant(ctx.share.astype(gy._data.dtype, copy=False))
        return expand_dims(gy, axes, keepdim, shape) * share, None, None, None


class Amin(Amax):
    pass


def _tie_share(x, y, axes=None, nan_ties=True):
    """1/k at each of the k entries of a slice equal to its extreme y, else 0. nan_ties: NaN
    matches NaN (max/min over everything, PyTorch's evenly_distribute_backward); without,
    a slice whose extreme is NaN has no hit and shares 0/0, NaN (amax/amin, whose backward
    PyTorch scales by the count of `x == y`)."""
    hits = x == y
    if nan_ties:
        hits |= xp.isnan(x) & xp.isnan(y)
    with quiet():
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
    length = data.shape[axis]
    if (axis != data.ndim - 1 and 2 <= length <= _MAX_PICKED and data.dtype.kind in "biuf"
            and data.size // length >= _MIN_ROWS_PICKED):
        return xp.expand_dims(_running_pick(data, axis, take_max), axis)
    return (xp.argmax if take_max else xp.argmin)(data, axis=axis, keepdims=True)


# NumPy's argmax along an inner axis copies the array with that axis last, then reduces each
# short row in its own call (~30 ns a row: 9 ms for a channel max of a 64x32x32x32 batch). A
# running pick over the axis's positions is a few whole-array passes per position instead.
_MAX_PICKED = 64  # positions along the axis: one pass each
_MIN_ROWS_PICKED = 1 << 12


def _running_pick(data, axis, take_max):
    """argmax (argmin) along an inner axis: the first strict extreme, or the first NaN."""
    better_than = xp.greater if take_max else xp.less
    keep_extreme = xp.maximum if take_max else xp.minimum  # (NaN propagates: it stays best)
    has_nan = holds_nan(data.dtype) and bool(xp.isnan(data).any())
    position = [slice(None)] * data.ndim
    position[axis] = 0
    best = data[tuple(position)].copy()
    index = xp.zeros(best.shape, dtype=xp.int8)  # (≤ _MAX_PICKED positions)
    for k in range(1, data.shape[axis]):
        position[axis] = k
        candidate = data[tuple(position)]
        better = better_than(candidate, best)
        if has_nan:
            better |= xp.isnan(candidate) & ~xp.isnan(best)
        index -= better * (index - k)  # k where better
        keep_extreme(best, candidate, out=best)
    return index.astype(xp.int64)


class MaxDim(Op):
    """(values, indices) of max along a dim;  gx = gy at the returned index (see NOTE)."""

    node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, axis, keepdim, take_max):
        idx = _arg_extreme(_along(x._data, x._data.ndim), axis, take_max)
        ctx.args = (idx, axis, keepdim, x._data.shape)
        values = xp.take_along_axis(_along(x._data, x._data.ndim), idx, axis)
        indices = idx
        if x._data.ndim == 0:
            values, indices = values.reshape(()), idx.reshape(())
        elif not keepdim:
            values, indices = xp.squeeze(values, axis), xp.squeeze(idx, axis)
        indices = Tensor._make(indices.astype(xp.int64, copy=False))
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, gy, gi):
        return PutAlong.apply(gy, *ctx.args), None, None, None


class MinDim(MaxDim):
    node_name = "MinBackward0"


def _max_or_min(input, dim, keepdim, other, take_max):
    name = "max" if take_max else "min"
    if isinstance(dim, (bool, float, str)):  # no overload of torch.max takes these as dim
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(dim).__name__}), but expected one of: (Tensor input), (Tensor "
                        "input, Tensor other), (Tensor input, int dim, bool keepdim)")
    if isinstance(dim, Tensor) or other is not None:
        return (maximum if take_max else minimum)(input, dim if other is None else other)
    if dim is None:
        _check_nonempty(input, name)
        return (MaxAll if take_max else MinAll).apply(input, take_max)
    axis = _axis(dim, input._data.ndim)
    _check_nonempty(input, name, axis)
    values, indices = (MaxDim if take_max else MinDim).apply(input, axis, keepdim, take_max)
    return (_MaxResult if take_max else _MinResult)(values, indices)


@op(method=True, out=extremum_out)
def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """max(x): the largest value; max(x, dim): (values, indices); max(x, y): elementwise
    (matches `torch.max`)."""
    if other is not None:
        refuse_complex(input, RuntimeError, "maximum not implemented for complex tensors.")
    elif dim is None:
        refuse_complex(input, NotImplementedError,
                       f'"max_all" not implemented for \'{short_name(input.dtype)}\'')
    else:
        refuse_complex(input, RuntimeError, "max(): does not support complex input")
    return _max_or_min(input, dim, keepdim, other, True)


@op(method=True, out=extremum_out)
def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """min(x), min(x, dim) -> (values, indices), min(x, y) (matches `torch.min`)."""
    if other is not None:
        refuse_complex(input, RuntimeError, "minimum not implemented for complex tensors.")
    elif dim is None:
        refuse_complex(input, NotImplementedError,
                       f'"min_all" not implemented for \'{short_name(input.dtype)}\'')
    else:
        refuse_complex(input, RuntimeError, "min(): does not support complex input")
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


def _same_dtype_out(input: Tensor, out) -> None:
    """amax/amin's out= must have input's dtype (PyTorch does not cast into it)."""
    if out is not None and out.dtype is not input.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{short_name(input.dtype)} for input's dtype and "
                           f"{short_name(out.dtype)} for out's dtype.")


@op(method=True)
def amax(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Max over dims (all if empty), ties share the gradient (matches `torch.amax`)."""
    refuse_complex(input, NotImplementedError,
                   f'"max_values_cpu" not implemented for \'{short_name(input.dtype)}\'')
    _same_dtype_out(input, out)
    result = _amax_or_amin(input, dim, keepdim, True)
    return result if out is None else write_out(result, out)


@op(method=True)
def amin(input: Tensor, dim=(), keepdim: bool = False, *, out=None) -> Tensor:
    """Min over dims (all if empty) (matches `torch.amin`)."""
    refuse_complex(input, NotImplementedError,
                   f'"min_values_cpu" not implemented for \'{short_name(input.dtype)}\'')
    _same_dtype_out(input, out)
    result = _amax_or_amin(input, dim, keepdim, False)
    return result if out is None else write_out(result, out)


class Aminmax(Op):
    """(min, max) in one pass;  gx = gmin shared among tied minima + gmax among tied maxima."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        shares = []
        outputs = []
        for reduce in (xp.min, xp.max):
            y = reduce(x._data, axis=axes, keepdims=True)
            if ctx.needs_input_grad[0]:
                shares.append(_tie_share(x._data, y, axes, nan_ties=False))
            outputs.append(y if keepdim else xp.squeeze(y, axes))
        ctx.args = (axes, keepdim, x._data.shape)
        ctx.shares = shares
        return tuple(outputs)

    @staticmethod
    def backward(ctx, gmin, gmax):
        axes, keepdim, shape = ctx.args
        share_min, share_max = (_constant(s.astype(gmin._data.dtype)) for s in ctx.shares)
        return (expand_dims(gmin, axes, keepdim, shape) * share_min
                + expand_dims(gmax, axes, keepdim, shape) * share_max), None, None


@op(method=True)
def aminmax(input: Tensor, *, dim=None, keepdim: bool = False, out=None):
    """(min, max) over a dim or all elements (matches `torch.aminmax`)."""
    refuse_complex(input, NotImplementedError,
                   f'"aminmax_cpu" not implemented for \'{short_name(input.dtype)}\'')
    for o in out or ():
        if o.dtype is not input.dtype:
            raise RuntimeError(f"Expected out tensor to have dtype "
                               f"{c_type(input.dtype)}, but got {c_type(o.dtype)} instead")
    if dim is None:
        _check_nonempty(input, "aminmax")
    axes = _axes(dim, input._data.ndim)
    _check_reduced_sizes(input, axes, "aminmax:")
    low, high = Aminmax.apply(input, axes, keepdim)
    if out is not None:
        low, high = write_out(low, out[0]), write_out(high, out[1])
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
        return Tensor._make(index.astype(xp.int64))
    axis = _axis(dim, data.ndim)
    if data.ndim and data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    index = _arg_extreme(_along(data, data.ndim), axis, take_max)
    if data.ndim == 0:
        index = index.reshape(())
    elif not keepdim:
        index = xp.squeeze(index, axis)
    return Tensor._make(index.astype(xp.int64))


@op(method=True, out="exact")
def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum (flattened if dim is None) (matches `torch.argmax`)."""
    refuse_complex(input, RuntimeError,
                   "argmax(): does not support complex input")
    _refuse_bool("argmax", input)
    return _argextreme(input, dim, keepdim, True)


@op(method=True, out="exact")
def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum (matches `torch.argmin`)."""
    refuse_complex(input, RuntimeError,
                   "argmin(): does not support complex input")
    _refuse_bool("argmin", input)
    return _argextreme(input, dim, keepdim, False)


def _refuse_bool(name, input):
    if getattr(input, "dtype", None) is not None and input.dtype.name == "bool":
        raise RuntimeError(f"{name}(): does not support bool input")


# ---- logsumexp, norm -------------------------------------------------------------------------
class Logsumexp(Op):
    """y = m + log Σ exp(x - m) with m = max (of Re x for complex x; no overflow);
    gx = gy·conj(exp(x - y))."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = x._data
        if data.size == 0:
            with xp.errstate(divide="ignore"):
                y = xp.log(xp.sum(xp.exp(data), axis=axes, keepdims=True))
        else:
            m = xp.max(data.real, axis=axes, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0).astype(data.dtype)
            with xp.errstate(divide="ignore"):
                y = m + xp.log(xp.sum(xp.exp(data - m), axis=axes, keepdims=True))
        y = Tensor._make(y if keepdim else xp.squeeze(y, axes))
        ctx.args = (axes, keepdim, data.shape)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axes, keepdim, shape = ctx.args
        weights = exp(x - expand_dims(y, axes, keepdim, shape))
        return expand_dims(gy, axes, keepdim, shape) * conj(weights), None, None


@op(method=True, out=logsumexp_out)
def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(Σ exp(input)) over dims, computed stably (matches `torch.logsumexp`)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        input = as_operand(input, _dtype.get_default_dtype())
    return Logsumexp.apply(input, _axes(dim, input._data.ndim), keepdim)


class Norm(Op):
    """y = (Σ|x|^p)^(1/p) over axes (p = inf: max |x|, p = 0: count of nonzeros);
    gx = gy·sign(x)·|x|^(p-1) / y^(p-1), which is gy·x/y for p = 2 (0 where y = 0).
    """

    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        # |x| for p = 2 only when complex: a real x·x is |x|·|x| bit for bit, one pass fewer
        a = x._data if p == 2 and x._data.dtype.kind == "f" else xp.abs(x._data)
        dtype = a.dtype
        if dtype.itemsize == 2:  # float16/bfloat16: accumulate in float32, as PyTorch does
            a = a.astype(xp.float32)
        if p == math.inf:
            y = xp.max(a, axis=axes, keepdims=True)
        elif p == -math.inf:
            y = xp.min(a, axis=axes, keepdims=True)
        elif p == 0:
            y = xp.sum(a != 0, axis=axes, keepdims=True).astype(a.dtype)
        elif p == 1:
            y = xp.sum(a, axis=axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=True))
        else:
            y = xp.sum(a ** a.dtype.type(p), axis=axes, keepdims=True) ** a.dtype.type(1 / p)
        y = Tensor._make(xp.asanyarray(y if keepdim else xp.squeeze(y, axes)).astype(dtype))
        ctx.args = (p, axes, keepdim, x._data.shape)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        p, axes, keepdim, shape = ctx.args
        g = expand_dims(gy, axes, keepdim, shape)
        if p == 0:
            return None, None, None, None  # PyTorch leaves the gradient of a count undefined
        y_full = expand_dims(y, axes, keepdim, shape)
        return _norm_gradient(g, x, y_full, p, axes), None, None, None


def _norm_gradient(g, x, y, p, axes):
    """PyTorch's norm_backward (FunctionsManual.cpp) for g and y expanded to x's shape: its
    formula per p, in its order, with its masks (sgn(NaN) = 0; a NaN counts as a maximum)."""
    if p == 2 and y._data.all():  # g·(x/y), its bits, without the mask
        return g * (x / y)
    sign = _constant(sign_array(x._data))
    if p == 1:
        return sign * g
    if math.isinf(p):
        magnitude = xp.abs(x._data)
        hits = (magnitude == y._data) | xp.isnan(magnitude)
        count = _constant(xp.sum(hits, axis=axes, keepdims=True, dtype=x._data.dtype))
        return sign * (g / count * _constant(hits.astype(x._data.dtype)))
    flat = _constant(y._data == 0)
    if p == 2:  # (0 where y = 0, as PyTorch's masked_fill)
        return g * where(flat, 0.0, x / where(flat, 1.0, y))
    if p < 1:
        scaled = sign * where(_constant(x._data == 0), 0.0, _abs(x) ** (p - 1))
        return scaled * g * y ** (1 - p)
    scale = where(flat, 0.0, g / y ** (p - 1))
    scaled = sign * _abs(x) ** (p - 1) if p < 2 else x * _abs(x) ** (p - 2)
    return scaled * scale


def norm(input: Tensor, p=2.0, dim=None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over dims (all dims for None), p a number: the computation of
    `torch.linalg.vector_norm` (ember/ops/linalg_norms.py, where `torch.norm`'s face routes its
    arguments as torch.functional.norm does) and of renorm."""
    if input.dtype.is_complex:  # the norm of the moduli: abs carries gz = g·z/|z|
        input = input.abs()
    if not input.dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_word(input.dtype)}")
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
    return Norm.apply(input, p, axes, keepdim)


class Dist(Norm):
    """y = ‖a - b‖_p, applied to the difference (the p-norm's gradient, then Sub's)."""

    node_name = "DistBackward0"


@op(method=True)
def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The p-norm of input - other, broadcast (matches `torch.dist`)."""
    difference = input - other  # PyTorch's norm of the difference: promoted first
    if not (difference.dtype.is_floating_point or difference.dtype.is_complex):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {_type_word(difference.dtype)} instead.")
    if difference.dtype.is_complex:  # the norm of the moduli (abs carries the Wirtinger factor)
        difference = difference.abs()
    return Dist.apply(difference, float(p), _axes(None, difference._data.ndim), False)
