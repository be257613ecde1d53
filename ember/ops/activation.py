"""Activation functions as fused elementwise ops: leaky_relu, elu/selu/celu, gelu, silu, mish,
hardtanh, hardsigmoid, hardswish, softplus, logsigmoid, threshold, prelu.

Each backward multiplies gy by the local derivative, written with ember ops on the saved input
(masks from comparisons are constants), so create_graph=True differentiates it again.
"""

import math

from ember._backend import get_array_module, xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops import unary
from ember.ops.broadcast import sum_to
from ember.ops.comparison import where


def _const(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def _scalar(value, like):
    """A Python number as a 0-d array of like's dtype, in like's array module."""
    return get_array_module(like).asarray(value, dtype=like.dtype)


class LeakyRelu(Op):
    """y = x if x > 0 else s·x;  gx = gy·(1 if x > 0 else s)."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        d = x._data
        return xp.where(d > 0, d, d * _scalar(slope, d))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        local = xp.where(x._data > 0, 1, ctx.slope).astype(x._data.dtype)
        return gy * _const(local), None


class Elu(Op):
    """y = s·x if x > 0 else s·α·(e^(c·x) - 1);  gx = gy·(s if x > 0 else s·α·c·e^(c·x)).

    ELU is (α, 1, 1), SELU (1.6733, 1.0507, 1), CELU (α, 1, 1/α).
    """

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.params = (alpha, scale, input_scale)
        d = x._data
        negative = scale * alpha * xp.expm1(xp.minimum(d, 0) * input_scale)
        return xp.where(d > 0, d * _scalar(scale, d), negative).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        mask = _const(x._data > 0)
        negative = unary.exp(x.clamp(max=0) * input_scale) * (scale * alpha * input_scale)
        return gy * where(mask, scale, negative), None, None, None


class Gelu(Op):
    """y = x·Φ(x) ('none') or x/2·(1 + tanh(√(2/π)(x + 0.044715x³))) ('tanh');
    gx = gy·(Φ(x) + x·φ(x)) or the derivative of the tanh form."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        d = x._data
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (d + 0.044715 * d ** 3)
            return (0.5 * d * (1 + xp.tanh(inner))).astype(d.dtype, copy=False)
        return (d * 0.5 * (1 + unary.erf_array(d / math.sqrt(2)))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            t = unary.tanh((x + x * x * x * 0.044715) * k)
            local = (1 + t) * 0.5 + x * 0.5 * (1 - t * t) * k * (1 + x * x * (3 * 0.044715))
        else:
            cdf = (1 + unary.erf(x * (1 / math.sqrt(2)))) * 0.5
            pdf = unary.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
            local = cdf + x * pdf
        return gy * local, None


class Silu(Op):
    """y = x·σ(x);  gx = gy·σ(x)·(1 + x·(1 - σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data * unary._stable_sigmoid(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        s = unary.sigmoid(x)
        return gy * (s * (1 + x * (1 - s)))


class Mish(Op):
    """y = x·tanh(softplus(x));  gx = gy·(t + x·σ(x)·(1 - t²)) with t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        return (d * xp.tanh(xp.logaddexp(0, d))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        t = unary.tanh(softplus(x))
        return gy * (t + x * unary.sigmoid(x) * (1 - t * t))


class Hardtanh(Op):
    """y = clamp(x, lo, hi);  gx = gy where lo < x < hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return xp.clip(x._data, _scalar(lo, x._data), _scalar(hi, x._data))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return gy * _const((x._data > lo) & (x._data < hi)), None, None


class Hardsigmoid(Op):
    """y = clamp((x + 3)/6, 0, 1);  gx = gy/6 where -3 < x < 3.

    NOTE [hardsigmoid's 1/6]: PyTorch's backward multiplies by 1/6 rounded to float32 even for
    float64 tensors; ember uses the same constant so gradients agree to the last bit.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        return xp.clip((d + _scalar(3, d)) / _scalar(6, d), 0, 1).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        d = x._data
        sixth = _scalar(float(xp.float32(1 / 6)), d)
        return gy * _const(((d > -3) & (d < 3)) * sixth)


class Hardswish(Op):
    """y = x·clamp(x + 3, 0, 6)/6;  gx = gy·(0 if x ≤ -3, x/3 + 1/2 if -3 < x < 3, 1 if x ≥ 3)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        return (d * xp.clip(d + 3, 0, 6) / 6).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        d = x._data
        middle = _const((d > -3) & (d < 3))
        above = _const(d >= 3).to(x.dtype)
        return gy * where(middle, x * (1 / 3) + 0.5, above)


class Softplus(Op):
    """y = log(1 + e^(βx))/β, or x where βx > threshold;  gx = gy·σ(βx) (1 past threshold)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.params = (beta, threshold)
        d = x._data
        z = d * _scalar(beta, d)
        soft = (xp.logaddexp(0, z) / beta).astype(d.dtype, copy=False)
        return xp.where(z > threshold, d, soft)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.params
        z = x * beta
        linear = _const(z._data > threshold)
        return gy * where(linear, 1.0, unary.sigmoid(z)), None, None


def softplus(x, beta=1.0, threshold=20.0):
    """softplus as an ember op (used inside other backwards)."""
    return Softplus.apply(x, beta, threshold)


class LogSigmoid(Op):
    """y = log σ(x) = min(x, 0) - log(1 + e^-|x|);  gx = gy·σ(-x)."""

    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        return (xp.minimum(d, 0) - xp.log1p(xp.exp(-xp.abs(d)))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * unary.sigmoid(-x)


class Threshold(Op):
    """y = x if x > threshold else value;  gx = gy where x > threshold."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        d = x._data
        return xp.where(d > threshold, d, _scalar(value, d))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * _const(x._data > ctx.threshold), None, None


class Prelu(Op):
    """y = x if x > 0 else w·x (w per channel, dim 1);  gx = gy·(1 or w),  gw = Σ gy·x·[x ≤ 0]."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        d = x._data
        wb = _channel_view(w._data, d.ndim)
        return xp.where(d > 0, d, wb * d)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        positive = _const(x._data > 0)
        wb = w.reshape(_channel_shape(w.shape[0], x.ndim))
        gx = gy * where(positive, 1.0, wb) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            gw = sum_to(where(positive, 0.0, gy * x), wb.shape).reshape(w.shape)
        return gx, gw


def _channel_shape(n, ndim):
    """w's broadcast shape: channels on dim 1; one shared weight broadcasts as a scalar."""
    if n == 1:
        return ()
    return (1, n) + (1,) * (ndim - 2)


def _channel_view(w, ndim):
    return w.reshape(_channel_shape(w.shape[0], ndim))
