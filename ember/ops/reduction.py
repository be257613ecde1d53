"""Reductions (sum, mean, prod, var/std, all/any, count_nonzero) and scans (cumsum, cumprod).
max/min, amax/amin, argmax/argmin, logsumexp and norm live in extrema.py, sorting in sort.py
and softmax in softmax.py.

Every backward is written with ember ops, so second derivatives work. Private op pairs carry
gradients between a reduced shape and the input shape; each is the other's adjoint, so they
can be differentiated any number of times:

    Sum        <->  ExpandDims   (sum over dims / put the removed dims back and broadcast)
    Cumsum     <->  RevCumsum    (running sum from the front / from the back)

(TakeAlong <-> PutAlong, placing entries at indices along a dim back in zeros: extrema.py.)
"""

import math

from ember._warnings import warn as _warn
from ember import _dtype
from ember._backend import quiet, xp
from ember._registry import op
from ember.ops._out_rules import (boolean_out, in_out_dtype, mean_out, nanmean_out, nansum_out,
                                   var_out)
from ember._tensor import short_name, Tensor, wrap_dim
from ember.autograd.array_recording import RECORDED, array_call, record_unary
from ember.autograd.function import Op
from ember.ops._running_sums import cumsum_array
from ember.ops._sum import ExpandDims, Sum, SumAll, expand_dims  # noqa: F401 - (re-exported)
from ember.ops._scalar_ops import DividedBy
from ember.ops._util import as_operand
from ember.ops._wirtinger import conj
from ember.ops.comparison import where
from ember.ops.joins import cat
from ember.ops.shape import narrow
from ember.autograd import grad_mode


# ---- helpers -------------------------------------------------------------------------------
def _constant(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def _axes(dim, ndim):
    """dim (None, int, or a sequence; empty means all) as a tuple of NumPy axes.

    A 0-d tensor accepts dim 0 and -1 (PyTorch's rule) but has no NumPy axes to reduce.
    """
    if dim is None or (not isinstance(dim, (int, xp.integer)) and len(dim) == 0):
        return tuple(range(ndim))
    dims = [dim] if isinstance(dim, (int, xp.integer)) else list(dim)
    wrapped = [wrap_dim(int(d), ndim) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(wrapped)) if ndim else ()


def _axis(dim, ndim) -> int:
    """One dim wrapped to a non-negative axis (0 for a 0-d tensor)."""
    return wrap_dim(int(dim), ndim)


def _count(shape, axes) -> int:
    return int(xp.prod([shape[a] for a in axes], dtype=xp.int64))


def _accumulate_dtype(x: Tensor, dtype):
    """sum/prod/cumsum: bool and integer inputs accumulate in int64, as in PyTorch (floating and
    complex inputs keep their dtype)."""
    if dtype is not None:
        return _dtype.to_dtype(dtype)
    return x.dtype if x.dtype.is_floating_point or x.dtype.is_complex else _dtype.int64


def _is_half(dtype) -> bool:
    """float16 and bfloat16, which PyTorch accumulates in float32."""
    return dtype is _dtype.float16 or dtype.name == "bfloat16"


def _type_word(d) -> str:
    return {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[d.name]


# ---- the adjoint pairs (Sum and ExpandDims: in ember/ops/_sum.py) -------------------------
class Cumsum(Op):
    """y_i = Σ_{j<=i} x_j along `axis`;  gx_i = Σ_{j>=i} gy_j (RevCumsum)."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        if x._data.ndim == 0:
            return x._data.astype(dtype.numpy)
        return cumsum_array(x._data, axis, dtype.numpy)  # NOTE [cumsum in PyTorch's ...]

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
        return cumsum_array(x._data, axis, x._data.dtype, reverse=True)

    @staticmethod
    def backward(ctx, gy):
        return Cumsum.apply(gy, ctx.axis, gy.dtype), None


# ---- sum, mean, prod -------------------------------------------------------------------------
# what a full sum adds up in its own dtype (16-bit floats accumulate in float32: Sum)
_SUMMED_IN_OWN_DTYPE = frozenset(xp.dtype(name) for name in
                                 ("float32", "float64", "complex64", "complex128"))


@op(method=True, out=in_out_dtype)
def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum over `dim` (all elements if None); ints and bools give int64 (matches `torch.sum`)."""
    data = input._data
    if dim is None and not keepdim and dtype is None and data.dtype.kind in "fc":
        # the commonest call, in short; without a node or recorded from arrays, in shorter
        # (NOTE [Array forward], NOTE [Recording from arrays])
        mode = array_call(input) if data.dtype in _SUMMED_IN_OWN_DTYPE else 0
        if mode:  # (a full reduction of an ndarray gives a NumPy scalar: made a 0-d array)
            y = Tensor._make(xp.asarray(xp.add.reduce(data, axis=None)))
            if mode is RECORDED:  # (what SumAll's forward keeps)
                record_unary(SumAll, input, y, 4).args = (None, False, data.shape)
            return y
        return SumAll.apply(input, None, False, input.dtype)
    out_dtype = _accumulate_dtype(input, dtype)
    axes = _axes(dim, input._data.ndim)
    node = SumAll if dim is None and not keepdim else Sum  # PyTorch's two overloads
    return node.apply(input, axes, keepdim, out_dtype)


class Nansum(Op):
    """y = Σ_axes x over the non-NaN entries;  gx = gy broadcast back, 0 at the NaNs."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.args = (axes, keepdim, x._data.shape)
        ctx.valid = ~xp.isnan(x._data)
        with quiet():  # (NumPy's nansum would warn of inf - inf; PyTorch does not)
            return xp.nansum(x._data, axis=axes, keepdims=keepdim, dtype=dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        g = expand_dims(gy, *ctx.args)
        return g * _constant(ctx.valid.astype(g._data.dtype)), None, None, None


@op(method=True, out=nansum_out)
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero (matches `torch.nansum`); PyTorch has no complex kernel."""
    if input.dtype.is_complex:
        raise RuntimeError("nansum on CPU does not support complex inputs")
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
        wide = xp.float32 if x._data.dtype.itemsize == 2 else x._data.dtype
        total = xp.add.reduce(x._data, axis=axes, keepdims=keepdim, dtype=wide)
        with xp.errstate(invalid="ignore", divide="ignore"):
            return xp.asanyarray(total / total.dtype.type(n)).astype(x._data.dtype, copy=False)

    reduces_all = False

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim, shape, n = ctx.args
        if ctx._function.reduces_all:
            axes = None
        # (PyTorch's order: expanded, then divided by the number n, a node DivBackward1)
        return DividedBy.apply(expand_dims(gy, axes, keepdim, shape), n), None, None


class MeanAll(Mean):
    node_name = "MeanBackward0"
    reduces_all = True


@op(method=True, out=mean_out)
def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Arithmetic mean over `dim`; integer inputs need dtype= (matches `torch.mean`)."""
    if dtype is not None:
        input = as_operand(input, _dtype.to_dtype(dtype))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_type_word(input.dtype)}")
    axes = _axes(dim, input._data.ndim)
    return (MeanAll if dim is None and not keepdim else Mean).apply(input, axes, keepdim)


@op(method=True, out=nanmean_out)
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean of the non-NaN elements (matches `torch.nanmean`)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {short_name(input.dtype)}")
    valid = _constant(~xp.isnan(input._data))
    return nansum(input, dim, keepdim, dtype=dtype) / sum(valid, dim, keepdim)


class Prod(Op):
    """y = Π_axes x;  gx = gy·conj(y/x) where x has no zero.

    NOTE [prod with zeros]
    y/x is 0/0 at a zero. Once x holds one, PyTorch's prod_safe_zeros_backward gives every
    element the product of the others, exclusive running products from both ends: so does
    ember (an inf among the others gives its NaN). Over all elements with two or more zeros
    its first-order gradient is zeros.
    """

    node_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype, everything=False):
        y = Tensor._make(xp.asanyarray(xp.prod(x._data, axis=axes, keepdims=keepdim,
                                             dtype=dtype.numpy)))
        ctx.args = (axes, keepdim, x._data.shape, everything)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axes, keepdim, shape, everything = ctx.args
        zeros = int(xp.count_nonzero(x._data == 0))
        g = expand_dims(gy, axes, keepdim, shape)
        if not zeros:
            return g * conj(expand_dims(y, axes, keepdim, shape) / x), None, None, None, None
        if everything and zeros > 1 and not grad_mode._state["enabled"]:
            return Tensor._make(xp.zeros(shape, dtype=gy._data.dtype)), None, None, None, None
        others = (_products_of_others(x.reshape(-1), 0).reshape(shape) if everything
                  else _products_of_others(x, axes[0]))  # (over all: along one flat axis)
        return g * conj(others), None, None, None, None


def _products_of_others(x: Tensor, axis: int) -> Tensor:
    """Each element's product of the other elements along axis: exclusive running products
    from both ends (NOTE [prod with zeros])."""
    back = _shifted(x.flip(axis), axis).cumprod(axis).flip(axis)
    return _shifted(x, axis).cumprod(axis) * back


def _shifted(x: Tensor, axis: int) -> Tensor:
    """x moved one step along axis, 1 in front: of a running product, the one before."""
    ones = Tensor._make(xp.ones(x.shape[:axis] + (1,) + x.shape[axis + 1:], dtype=x._data.dtype))
    return cat([ones, narrow(x, axis, 0, x.shape[axis] - 1)], axis)


class ProdAll(Prod):
    node_name = "ProdBackward0"


@op(method=True, out=in_out_dtype)
def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Product over `dim` (all elements if None) (matches `torch.prod`)."""
    out_dtype = _accumulate_dtype(input, dtype)
    if dim is None:
        return ProdAll.apply(input, _axes(None, input._data.ndim), False, out_dtype, True)
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
    """d var / dx times g (g already broadcast to x's shape): g·2(x - x̄)/(n - c) (for complex x
    too: 2(x - x̄) is the conjugate Wirtinger gradient of |x - x̄|²)."""
    scale = 2.0 / dof if dof else math.inf
    return g * (x - mean(x, axes, True)) * scale


def _std_grad(x, y, gy, axes, keepdim, shape, dof):
    """d std / dx times gy: gy·(x - x̄)/((n - c)·y), taken as 0 where y = 0 (as in PyTorch)."""
    flat = _constant(y._data == 0)
    ratio = where(flat, 0.0, gy / where(flat, 1.0, y))
    return _var_grad(x, expand_dims(ratio, axes, keepdim, shape), axes, dof) * 0.5


def _variance(x, axes, correction, keepdim, root=False):
    """The variance (its square root with root=True) of array x over axes."""
    if x.dtype.itemsize == 2:  # float16/bfloat16: computed in float32, as PyTorch does
        wide = _variance(x.astype(xp.float32), axes, correction, keepdim, root)
        return wide.astype(x.dtype)
    if x.dtype.char == "f":
        return _variance_float32(x, axes, correction, keepdim, root)
    if root:
        return xp.sqrt(_variance(x, axes, correction, keepdim))
    n = _count(x.shape, axes)
    with xp.errstate(invalid="ignore", divide="ignore"):
        centered = x - (xp.sum(x, axis=axes, keepdims=True) / x.dtype.type(n))
        if centered.dtype.kind == "c":  # |x - x̄|² = Re² + Im², real
            squares = xp.sum(centered.real * centered.real + centered.imag * centered.imag,
                             axis=axes, keepdims=keepdim)
        else:
            squares = xp.sum(centered * centered, axis=axes, keepdims=keepdim)
        return xp.asanyarray(squares / squares.dtype.type(max(n - correction, 0)))


def _variance_float32(x, axes, correction, keepdim, root):
    """float32 variance as PyTorch's CPU kernels compute it: squares summed in double, around
    a float32 mean when the result is one number (`std_var_all_cpu`: x̄ = mean(x) in float32,
    then Σ(x - x̄)² in double), else a double mean (its Welford reduction accumulates in double).
    Either way a sum of squares past float32's range still gives a finite result."""
    wide = x.astype(xp.float64)
    n = _count(x.shape, axes)
    if n and x.size == n:  # one output: the mean of `mean(x)` in float32
        center = xp.float64(xp.add.reduce(x, axis=None, dtype=xp.float32) / xp.float32(n))
    else:
        center = xp.add.reduce(wide, axis=axes, keepdims=True) / n if n else xp.float64(xp.nan)
    with xp.errstate(invalid="ignore", divide="ignore"):
        centered = wide - center
        result = xp.sum(centered * centered, axis=axes, keepdims=keepdim) / max(n - correction, 0)
        if root:
            result = xp.sqrt(result)
    return xp.asanyarray(result.astype(xp.float32))


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
        y = Tensor._make(_variance(x._data, axes, correction, keepdim, root=True))
        ctx.args = (axes, keepdim, x._data.shape, n - correction)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return _std_grad(x, y, gy, *ctx.args), None, None, None


# NOTE [var_mean's running mean]
# torch.var_mean/std_mean reduce with Welford's update in double (mean += (x - mean)/k,
# M2 += (x - mean_old)(x - mean)), for float32 and 16-bit inputs too. Its results equal
# Σx/n and Σ(x - x̄)²/(n - c) computed in double, except where values are not finite: a NaN,
# or an infinity anywhere but at the last element reduced, makes the mean NaN (the next update
# computes inf - inf); an infinity last makes it that infinity. Σx/n in double is exact
# enough otherwise, and it cannot overflow for float32 inputs (float32 sums can).
def _running_mean(wide, axes, n: int):
    """Welford's mean (keepdims) of the float64 array `wide` over axes: NOTE [var_mean's
    running mean]."""
    with xp.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m = xp.sum(wide, axis=axes, keepdims=True) / wide.dtype.type(n)
    if not n or xp.isfinite(m).all():
        return m
    kept = [a for a in range(wide.ndim) if a not in axes]
    runs = xp.transpose(wide, kept + list(axes)).reshape(
        tuple(wide.shape[a] for a in kept) + (n,))  # each output's values, in reduction order
    with xp.errstate(invalid="ignore", over="ignore"):
        scaled = xp.sum(runs / n, axis=-1)  # no overflow where every value is finite
    last = runs[..., -1]
    poisoned = xp.isnan(runs).any(axis=-1) | xp.isinf(runs[..., :-1]).any(axis=-1)
    m_kept = xp.where(poisoned, xp.nan, xp.where(xp.isinf(last), last, scaled))
    return m_kept.reshape(m.shape)


def _welford_var_mean(data, axes, correction, keepdim, root):
    """(var or std, mean) of a real array as torch.var_mean computes them (float64 arrays)."""
    n = _count(data.shape, axes)
    wide = data.astype(xp.float64)
    center = _running_mean(wide, axes, n)
    with xp.errstate(invalid="ignore", divide="ignore", over="ignore"):
        centered = wide - center
        var = xp.sum(centered * centered, axis=axes, keepdims=keepdim) / max(n - correction, 0)
        y = xp.asanyarray(xp.sqrt(var) if root else var).astype(data.dtype)  # may overflow
    m = center if keepdim else center.reshape(y.shape)
    return Tensor._make(y), m


class VarMean(Op):
    """(var, mean) in one op;  gx = the var gradient + gmean/n broadcast back."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = _count(x._data.shape, axes)
        root = ctx._function is StdMean
        dtype = x._data.dtype
        if dtype.kind == "c":
            y = Tensor._make(_variance(x._data, axes, correction, keepdim, root))
            with xp.errstate(invalid="ignore", divide="ignore"):
                m = xp.sum(x._data, axis=axes, keepdims=keepdim) / dtype.type(n)
        else:
            y, m = _welford_var_mean(x._data, axes, correction, keepdim, root)
        ctx.args = (axes, keepdim, x._data.shape, n - correction, n)
        ctx.save_for_backward(x, y)
        return y, xp.asanyarray(m).astype(dtype, copy=False)

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
    """(std, mean) in one op (VarMean's forward takes the root for this class)."""


def _var_or_std(node, name, input, dim, unbiased, keepdim, correction):
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, correction = _var_args(dim, unbiased, correction)
    axes = _axes(dim, input._data.ndim)
    if _count(input._data.shape, axes) - correction <= 0:
        _warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than "
              "the reduction factor (input numel divided by output numel). (Triggered "
              "internally at /__w/pytorch/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)",
              UserWarning, stacklevel=3)
    return node.apply(input, axes, correction, keepdim)


@op(method=True, out=var_out)
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Variance with Bessel's correction by default (matches `torch.var`)."""
    return _var_or_std(Var, "var", input, dim, unbiased, keepdim, correction)


@op(method=True, out=var_out)
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> Tensor:
    """Standard deviation (matches `torch.std`)."""
    return _var_or_std(Std, "std", input, dim, unbiased, keepdim, correction)


@op
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) (matches `torch.var_mean`)."""
    return _var_or_std(VarMean, "var_mean", input, dim, unbiased, keepdim, correction)


@op
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) (matches `torch.std_mean`)."""
    return _var_or_std(StdMean, "std_mean", input, dim, unbiased, keepdim, correction)


# ---- all, any, count_nonzero -----------------------------------------------------------------
def _logical_reduce(array_fn, input, dim, keepdim):
    axes = _axes(dim, input._data.ndim)
    result = xp.asanyarray(array_fn(input._data, axis=axes, keepdims=keepdim))
    if input.dtype is _dtype.uint8:
        result = result.astype(xp.uint8)
    return Tensor._make(result)


@op(method=True, out=boolean_out)
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether every element is nonzero, over dims (matches `torch.all`)."""
    return _logical_reduce(xp.all, input, dim, keepdim)


@op(method=True, out=boolean_out)
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Whether any element is nonzero, over dims (matches `torch.any`)."""
    return _logical_reduce(xp.any, input, dim, keepdim)


@op(method=True)
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """Number of nonzero elements over dims, int64 (matches `torch.count_nonzero`)."""
    axes = _axes(dim, input._data.ndim)
    return Tensor._make(xp.asanyarray(xp.sum(input._data != 0, axis=axes), dtype=xp.int64))


# ---- cumsum, cumprod -------------------------------------------------------------------------
class Cumprod(Op):
    """y_i = Π_{j<=i} x_j;  gx_i = Σ_{j>=i} gy_j·conj(y_j / x_i) when no x_j (j <= i) is zero.

    NOTE [cumprod with zeros]
    Past a slice's first zero z the gradient is 0; before it the formula above holds, summed up
    to z; at z it is (Π_{i<z} x_i)·Σ_{z<=j<z2} gy_j·Π_{z<i<=j} x_i, z2 the second zero. The sums
    stop where PyTorch's do, so an inf or NaN past them (inf·0 in y, an inf gy) stays out.
    """

    @staticmethod
    def forward(ctx, x, axis, dtype):
        if x._data.ndim == 0:
            y = x._data.astype(dtype.numpy)
        elif dtype.numpy == xp.float32:
            # PyTorch's CPU kernel multiplies in double (acc_type) and rounds each result: a
            # product past float32's range times 0 is 0, not inf·0 = NaN
            with quiet():  # the cast's overflow to ±inf is the answer
                y = xp.cumprod(x._data, axis=axis, dtype=xp.float64).astype(xp.float32)
        else:
            y = xp.cumprod(x._data, axis=axis, dtype=dtype.numpy)
        y = Tensor._make(y)
        ctx.axis = axis
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        is_zero = x._data == 0
        if not is_zero.any():
            return RevCumsum.apply(gy * conj(y), axis) / conj(x), None, None
        zeros_so_far = xp.cumsum(is_zero, axis=axis) if x._data.ndim else is_zero.astype(int)
        before = _constant(zeros_so_far == 0)
        first = is_zero & (zeros_so_far == 1)
        between = _constant((zeros_so_far == 1) & ~first)  # after the first zero, before the next
        head = RevCumsum.apply(where(before, gy * conj(y), 0.0), axis)
        head = where(before, head / conj(where(before, x, 1.0)), 0.0)
        runs = Cumprod.apply(where(between, x, 1.0), axis, x.dtype)  # Π_{z<i<=j} x_i
        tail = (where(_constant(zeros_so_far == 1), gy, 0.0) * conj(runs)).sum(axis, True)
        prefix = _shifted(y, axis) if y.ndim else Tensor._make(xp.ones_like(y._data))
        return head + where(_constant(first), tail * conj(prefix), 0.0), None, None  # Π_{i<z}


@op(method=True, inplace=True, out=in_out_dtype)
def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sum along dim; ints give int64 (matches `torch.cumsum`)."""
    return Cumsum.apply(input, _axis(dim, input._data.ndim), _running_dtype(input, dtype, "sum"))


@op(method=True, inplace=True, out=in_out_dtype)
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running product along dim (matches `torch.cumprod`)."""
    return Cumprod.apply(input, _axis(dim, input._data.ndim), _running_dtype(input, dtype, "prod"))


def _running_dtype(input, dtype, name):
    """cumsum's / cumprod's result dtype; torch has no bool kernel for them."""
    dtype = _accumulate_dtype(input, dtype)
    if dtype is _dtype.bool:
        raise NotImplementedError(f"\"cum{name}_out_cpu\" not implemented for 'Bool'")
    return dtype
