"""renorm: each slice along a dim whose p-norm exceeds maxnorm rescaled to norm maxnorm, as one
op (so that renorm_ can overwrite its input), with the norm's share in its gradient."""

import math

from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._wirtinger import conj
from ember.ops.comparison import where
from ember.ops.extrema import norm
from ember.ops.reduction import _axis, _constant, _type_word
from ember.ops.unary import abs as _abs


class Renorm(Op):
    """y = x·f per slice along `axis`, f = M/(n + 1e-7) where the slice's p-norm n > M, else 1;
    gx = gy·f + x's share of the norm's change: (Σ gy·x)·(-M/(n + 1e-7)²)·∂n/∂x on those slices.

    One op (not a composition) so that renorm_ can overwrite x: its node keeps a copy of x.
    """

    @staticmethod
    def forward(ctx, x, p, axis, maxnorm):
        others = tuple(d for d in range(x._data.ndim) if d != axis)
        with _quiet():
            n = _norm_array(x._data, p, others)
            f = xp.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0).astype(x._data.dtype)
        ctx.args = (p, others, maxnorm)
        ctx.save_for_backward(x)
        return x._data * f

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        p, others, maxnorm = ctx.args
        n = norm(x, p, others, keepdim=True)
        over = _constant(n._data > maxnorm)
        shifted = where(over, n, 1.0) + 1e-7
        gx = gy * where(over, maxnorm / shifted, 1.0)
        inner = (gy * conj(x)).sum(others, keepdim=True)  # Re Σ gy·conj(x): n is real
        change = where(over, (inner.real if inner.is_complex() else inner) * -maxnorm
                       / (shifted * shifted), 0.0)
        slope = _norm_slope(x, n, where(over, n, 1.0), p, others)
        return gx + change * slope, None, None, None


def _quiet():
    return xp.errstate(invalid="ignore", divide="ignore", over="ignore")


def _norm_array(a, p, axes):
    """‖a‖_p over axes (keepdims), on arrays."""
    m = xp.abs(a)
    if math.isinf(p):
        return (xp.max if p > 0 else xp.min)(m, axis=axes, keepdims=True)
    return xp.sum(m ** a.dtype.type(p), axis=axes, keepdims=True) ** a.dtype.type(1 / p)


def _norm_slope(x, n, safe_n, p, axes):
    """∂‖x‖_p/∂x given the norm n (keepdim; safe_n: n with zeros replaced): sign(x)·|x|^(p-1)
    / n^(p-1); for p = ±inf the sign at the entries equal to n, shared among ties."""
    sign = _constant(xp.sign(x._data))
    n = safe_n if not math.isinf(p) else n
    if math.isinf(p):
        hits = xp.abs(x._data) == n._data
        share = hits / xp.maximum(xp.sum(hits, axis=axes, keepdims=True, dtype=x._data.dtype), 1)
        return sign * _constant(share)
    if p == 1:
        return sign
    if p == 2:
        return x / n
    return sign * _abs(x) ** (p - 1) / n ** (p - 1)


@op(method=True, inplace=True, out="exact")
def renorm(input: Tensor, p, dim: int, maxnorm) -> Tensor:
    """Rescale each slice along dim whose p-norm exceeds maxnorm to norm maxnorm
    (matches `torch.renorm`)."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           "dimensions")
    axis = _axis(dim, input.dim())  # a dim out of range is refused before the dtype
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_word(input.dtype)}")
    return Renorm.apply(input, float(p), axis, float(maxnorm))
