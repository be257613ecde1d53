"""Activation functions as fused elementwise ops: leaky_relu, elu/selu/celu, gelu, silu, mish,
hardtanh, hardsigmoid, hardswish, softplus, logsigmoid, threshold, prelu.

Each backward multiplies gy by the local derivative, written with ember ops on the saved input
(masks from comparisons are constants), so create_graph=True differentiates it again.
"""

import math

from ember import _dtype
from ember._autocast import lower_precision
from ember._backend import get_array_module, xp
from ember._registry import op, torch_function
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops._opmath import is_half, widen
from ember.ops._streams import uniform53
from ember.ops import activation_kernels as kernels
from ember.ops import unary
from ember.ops.unary import gradient_by_kernel
from ember.ops.broadcast import sum_to
from ember.ops.comparison import kept_gradient, where
from ember.ops.conversion import strided_like
from ember.ops._selection import where_array
from ember.ops.relu_kernels import kept


def _by_kernel(kernel, d, *args):
    """kernel on x's array d (16-bit floats in float32, rounded once: NOTE [opmath]), or None
    when d is not a real float array (NOTE [Activation kernels in cache-sized chunks])."""
    w = widen(d)
    if w.dtype.char not in "fd":
        return None
    y = kernels.apply(lambda o, x: kernel(o, x, *args), w).astype(d.dtype, copy=False)
    return strided_like(y, d)  # (a channels-last or permuted x: y in its stride order)


# NOTE [Kept for the backward]
# GELU's Φ(x) (or tanh), SiLU's σ(x) and Mish's tanh(softplus(x)) cost most of their
# backward's NumPy passes (erf is about 30 of them). Their forward computes them anyway, so
# for float32/64 inputs that will get a gradient it keeps them in ctx.kept (one more
# activation-sized array, until the backward frees it) and the backward's kernel starts from
# them: GELU's backward does a quarter of the work, SiLU's half, and Mish's (op by op before)
# has a kernel. The gradients are the same bits as before. PyTorch keeps only x: its fused
# loops would gain little from this.
def _keeping(ctx, kernel, d):
    """kernel(o, x, kept) on d into a new array, filling ctx.kept for the backward; None when
    no gradient will be asked or d is not float32/64 (NOTE [Kept for the backward])."""
    if not ctx.needs_input_grad[0] or d.dtype.char not in "fd":
        return None
    ctx.kept = xp.empty(d.shape, dtype=d.dtype)
    return strided_like(kernels.apply(kernel, d, ctx.kept), d)


def _from_kept(ctx, kernel, gy, x, keeping):
    """kernel(o, gy, x, kept) as the gradient when the forward kept an array (a 16-bit x: made
    now in float32 by the forward's kernel `keeping`), else None."""
    kept = ctx.__dict__.get("kept")
    if kept is None and is_half(x._data.dtype) and not unary._state["enabled"]:
        wide = widen(x._data)
        kept = xp.empty(wide.shape, dtype=wide.dtype)
        kernels.apply(keeping, wide, kept)
    return None if kept is None else gradient_by_kernel(kernel, gy, x, kept=(kept,))


def _const(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def _scalar(value, like):
    """A Python number as a 0-d array of like's dtype, in like's array module (a complex
    number for a real tensor is PyTorch's error for its `double` arguments)."""
    if isinstance(value, complex) and like.dtype.kind != "c":
        raise RuntimeError("value cannot be converted to type double without overflow")
    return get_array_module(like).asarray(value, dtype=like.dtype)


class LeakyRelu(Op):
    """y = x if x > 0 else s·x;  gx = gy·(1 if x > 0 else s)."""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        y = _by_kernel(kernels.leaky_relu, x._data, slope)
        if y is not None:
            return y
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        return xp.where(w > 0, w, w * _scalar(slope, w)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = gradient_by_kernel(kernels.leaky_relu_backward, gy, x, ctx.slope)
        if gx is not None:
            return gx, None
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
        y = _by_kernel(kernels.elu, x._data, alpha, scale, input_scale)
        if y is not None:
            return y
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        negative = scale * alpha * xp.expm1(xp.minimum(w, 0) * input_scale)
        return xp.where(w > 0, w * _scalar(scale, w), negative).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        gx = gradient_by_kernel(kernels.elu_backward, gy, x, alpha, scale, input_scale)
        if gx is not None:
            return gx, None, None, None
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
        tanh = approximate == "tanh"
        y = _keeping(ctx, kernels.gelu_tanh_keeping_tanh if tanh else kernels.gelu_keeping_cdf, d)
        if y is None:
            y = _by_kernel(kernels.gelu_tanh if tanh else kernels.gelu, d)
        if y is not None:
            return y
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (w + 0.044715 * w ** 3)
            return (0.5 * w * (1 + xp.tanh(inner))).astype(d.dtype, copy=False)
        return (w * 0.5 * (1 + unary.erf_array(w / math.sqrt(2)))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        tanh = ctx.approximate == "tanh"
        gx = (_from_kept(ctx, kernels.gelu_tanh_backward, gy, x, kernels.gelu_tanh_keeping_tanh)
              if tanh else _from_kept(ctx, kernels.gelu_backward, gy, x, kernels.gelu_keeping_cdf))
        if gx is not None:
            return gx, None
        if tanh:
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
        y = _keeping(ctx, kernels.silu_keeping_sigmoid, x._data)
        if y is None:
            y = _by_kernel(kernels.silu, x._data)
        if y is not None:
            return y
        w = widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        return (w * unary._stable_sigmoid(w)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = _from_kept(ctx, kernels.silu_backward, gy, x, kernels.silu_keeping_sigmoid)
        if gx is not None:
            return gx
        s = unary.sigmoid(x)
        return gy * (s * (1 + x * (1 - s)))


class Mish(Op):
    """y = x·tanh(softplus(x));  gx = gy·(t + x·σ(x)·(1 - t²)) with t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        y = _keeping(ctx, kernels.mish_keeping_tanh, d)
        if y is None:
            y = _by_kernel(kernels.mish, d)
        if y is not None:
            return y
        return (d * xp.tanh(xp.logaddexp(0, d))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = _from_kept(ctx, kernels.mish_backward, gy, x, kernels.mish_keeping_tanh)
        if gx is not None:
            return gx
        t = unary.tanh(softplus(x))
        return gy * (t + x * unary.sigmoid(x) * (1 - t * t))


class Hardtanh(Op):
    """y = clamp(x, lo, hi);  gx = gy where lo < x < hi, else 0."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        d = x._data
        return xp.clip(d, _scalar(lo, d), _scalar(hi, d)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        gx = gradient_by_kernel(kernels.hardtanh_backward, gy, x, lo, hi)
        if gx is not None:
            return gx, None, None
        return kept_gradient(gy, (x._data > lo) & (x._data < hi)), None, None


class Hardsigmoid(Op):
    """y = clamp((x + 3)/6, 0, 1);  gx = gy/6 where -3 < x < 3.

    NOTE [hardsigmoid's 1/6]: PyTorch's backward multiplies by 1/6 rounded to float32 even for
    float64 tensors; ember uses the same constant so gradients agree to the last bit.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        return xp.clip((w + _scalar(3, w)) / _scalar(6, w), 0, 1).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = gradient_by_kernel(kernels.hardsigmoid_backward, gy, x)
        if gx is not None:
            return gx
        d = x._data
        sixth = _scalar(float(xp.float32(1 / 6)), d)
        return kept_gradient(gy * _const(sixth), (d > -3) & (d < 3))


class Hardswish(Op):
    """y = x·clamp(x + 3, 0, 6)/6;  gx = gy·(0 if x ≤ -3, x/3 + 1/2 if -3 < x < 3, 1 if x ≥ 3)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y = _by_kernel(kernels.hardswish, x._data)
        if y is not None:
            return y
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        return (w * xp.clip(w + 3, 0, 6) / 6).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = gradient_by_kernel(kernels.hardswish_backward, gy, x)
        if gx is not None:
            return gx
        d = x._data
        middle = _const((d > -3) & (d < 3))
        above = _const(d >= 3).to(x.dtype)
        return gy * where(middle, x / 3 + 0.5, above)  # (x/3 as PyTorch, not x·(1/3))


class Softplus(Op):
    """y = log(1 + e^(βx))/β, or x where βx > threshold;  gx = gy·σ(βx) (1 past threshold)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.params = (beta, threshold)
        d = x._data
        if beta > 0 and d.dtype.char in "fd":  # (softplus ≥ x holds for beta > 0)
            return _by_kernel(kernels.softplus, d, beta, threshold)
        z = d * _scalar(beta, d)
        soft = (xp.logaddexp(0, z) / beta).astype(d.dtype, copy=False)
        return xp.where(z > threshold, d, soft)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.params
        gx = gradient_by_kernel(kernels.softplus_backward, gy, x, beta, threshold)
        if gx is not None:
            return gx, None, None
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
        d, w = x._data, widen(x._data)  # (16-bit floats in float32: NOTE [opmath])
        return (xp.minimum(w, 0) - xp.log1p(xp.exp(-xp.abs(w)))).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = gradient_by_kernel(kernels.log_sigmoid_backward, gy, x, x._data.dtype)
        return gy * unary.sigmoid(-x) if gx is None else gx


class Threshold(Op):
    """y = x if x > threshold else value;  gx = gy where x > threshold."""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        d = x._data  # PyTorch's x <= threshold ? value : x, so NaN stays NaN
        return where_array(d <= _scalar(threshold, d), _scalar(value, d), d)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        d = x._data
        return kept_gradient(gy, xp.logical_not(d <= _scalar(ctx.threshold, d))), None, None


class Prelu(Op):
    """y = x if x > 0 else w·x (w per channel, dim 1);  gx = gy·(1 or w),  gw = Σ gy·x·[x ≤ 0]."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        d = x._data
        wb = _channel_view(w._data, d.ndim)
        if _float_pair(d, wb):  # leaky_relu's kernel with a slope per channel
            y = xp.empty(d.shape, dtype=d.dtype)
            kernels.leaky_relu(y, d, wb)
            return y
        return xp.where(d > 0, d, wb * d)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        wb = _channel_view(w._data, x.ndim)
        if not unary._state["enabled"] and _float_pair(x._data, wb, gy._data):
            return _prelu_gradients(ctx, gy._data, x._data, wb)
        positive = _const(x._data > 0)
        wb = w.reshape(_channel_shape(w.numel(), x.ndim))
        gx = gy * where(positive, 1.0, wb) if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            gw = sum_to(where(positive, 0.0, gy * x), wb.shape).reshape(w.shape)
        return gx, gw


def _float_pair(d, w, g=None):
    """Whether the array kernels apply: float32/64 input, weights (and gradient) alike."""
    return d.dtype.char in "fd" and w.dtype == d.dtype and (g is None or g.dtype == d.dtype)


def _prelu_gradients(ctx, g, d, wb):
    """PReLU's first-order (gx, gw) on arrays: gx = g where x > 0 else g·w, gw = Σ g·x over
    x ≤ 0 outside the weights' axis (NOTE [Activation kernels in cache-sized chunks])."""
    gx = gw = None
    if ctx.needs_input_grad[0]:
        gx = Tensor._make(xp.empty(d.shape, dtype=d.dtype))
        kernels.leaky_relu_backward(gx._data, g, d, wb)
    if ctx.needs_input_grad[1]:
        axes = tuple(a for a in range(d.ndim) if wb.ndim == 0 or wb.shape[a] == 1)
        summed = kernels.prelu_weight_backward(g, d, axes)
        gw = Tensor._make(summed.reshape(ctx.saved_tensors[1].shape))
    return gx, gw


def _channel_shape(n, ndim):
    """w's broadcast shape: channels on dim 1; one shared weight broadcasts as a scalar."""
    if n == 1:
        return ()
    return (1, n) + (1,) * (ndim - 2)


def _channel_view(w, ndim):
    return w.reshape(_channel_shape(w.size, ndim))


@op(method=True)
@lower_precision
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else w·x, w one weight or one per channel (dim 1) (matches `torch.prelu`)."""
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    if weight.numel() != 1 and (input.ndim < 2 or input.shape[1] != weight.numel()):
        channels = input.shape[1] if input.ndim >= 2 else 1
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}.")
    return Prelu.apply(input, weight)


class Hardshrink(Op):
    """y = x where |x| > λ, else 0;  gx = gy where |x| > λ."""

    @staticmethod
    def forward(ctx, x, lambd):
        d = x._data
        ctx.keep = _outside_band(d, lambd)
        inside = _inside_band(d, lambd)  # a NaN x is neither: it passes, its gradient does not
        keep = xp.logical_not(inside, out=inside)
        return kept(d, keep) if d.dtype.kind == "f" else xp.where(keep, d, 0).astype(d.dtype)

    @staticmethod
    def backward(ctx, gy):
        return kept_gradient(gy, ctx.keep), None


def _inside_band(d, lambd):
    """-λ ≤ x ≤ λ, where the shrinks give 0 (False at NaN)."""
    lambd = _scalar(lambd, d)
    inside = xp.asarray(xp.greater_equal(d, -lambd))  # (an array even for a 0-d d)
    return xp.logical_and(inside, xp.less_equal(d, lambd), out=inside)


def _outside_band(d, lambd):
    """x < -λ or x > λ, where the shrinks' gradient passes (False at NaN, as PyTorch's
    vectorised kernels)."""
    lambd = _scalar(lambd, d)
    outside = xp.asarray(xp.less(d, -lambd))  # (an array even for a 0-d d)
    return xp.logical_or(outside, xp.greater(d, lambd), out=outside)


@op(method=True, out="same")
def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0 (matches `torch.hardshrink`)."""
    return Hardshrink.apply(input, lambd)


class Softshrink(Op):
    """y = x - λ·sign(x) where |x| > λ, else 0;  gx = gy where |x| > λ."""

    @staticmethod
    def forward(ctx, x, lambd):
        d = x._data
        ctx.keep = _outside_band(d, lambd)
        if not x.dtype.is_floating_point:
            return xp.where(ctx.keep, d - xp.sign(d) * _scalar(lambd, d), 0).astype(d.dtype)
        # x - λ past λ, x + λ below -λ, +0 inside and NaN at NaN (PyTorch's vectorised
        # kernel): x - clip(x, -λ, λ) is the same arithmetic
        lambd = _scalar(lambd, d)  # (ml_dtypes' clip gives bfloat16 in float32: rounded once)
        return xp.subtract(d, xp.clip(d, -lambd, lambd)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return kept_gradient(gy, ctx.keep), None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - λ·sign(x) where |x| > λ, else 0; λ must be ≥ 0 (as `torch._C._nn.softshrink`)."""
    if lambd < 0:
        raise RuntimeError(
            f"lambda must be in range [0, {_largest(input)}] for input dtype "
            f"{short_name(input.dtype)}, but found {lambd:g}")
    return Softshrink.apply(input, lambd)


def _largest(x):
    """The largest finite value of x's dtype, printed as PyTorch prints it (3.40282e+38)."""
    return f"{float(xp.finfo(x._data.dtype).max):g}"


@op(function=True)
def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x if x > threshold else value (matches `torch.threshold`)."""
    threshold, value = (_dtype.check_complex_fits(n, input.dtype) for n in (threshold, value))
    return Threshold.apply(input, threshold, value)


@op(function=True)
def selu(input: Tensor) -> Tensor:
    """scale·(x if x > 0 else α(eˣ - 1)) with SELU's constants (matches `torch.selu`)."""
    return Elu.apply(input, SELU_ALPHA, SELU_SCALE, 1.0)


@op(function=True)
def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1)) (matches `torch.celu`)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return Celu.apply(input, alpha, 1.0, 1.0 / alpha)


class Celu(Elu):
    """Elu, named as PyTorch names celu's node."""

    node_name = "CeluBackward0"


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Rrelu(Op):
    """y = x if x ≥ 0 else s·x, s a constant slope per element;  gx = gy·(1 or s)."""

    node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, slopes, values):
        ctx.slopes = slopes
        return values

    @staticmethod
    def backward(ctx, gy):
        return gy * _const(ctx.slopes), None, None


@op(function=True)
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, generator=None) -> Tensor:
    """Leaky relu with a slope drawn from U(lower, upper) per element when training, their mean
    otherwise (matches `torch.rrelu`)."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    kernel = "rrelu_with_noise_out_cpu" if training else "leaky_relu_cpu"
    if not input.dtype.is_floating_point or (training and input.dtype.name == "float16"):
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{short_name(input.dtype)}'")
    if not training:  # (torch's kernel writes a C-contiguous output, whatever x's layout)
        y = LeakyRelu.apply(input, (lower + upper) / 2)
        y._data = xp.ascontiguousarray(y._data)
        return y
    # NOTE [rrelu's draws]: torch draws one 53-bit uniform per element x <= 0 only, in
    # order, between the bounds rounded to x's opmath dtype (float32 for bfloat16):
    # r = u·(upper - lower) + lower in double, rounded to the opmath dtype; the output is
    # x·r rounded to x's dtype, the slope kept for backward r rounded to x's dtype;
    # elements x > 0 keep slope 1.
    d = input._data
    math_dtype = xp.dtype(xp.float32) if is_half(d.dtype) else d.dtype
    low, high = (float(xp.asarray(v, dtype=math_dtype)) for v in (lower, upper))
    drawn = d.reshape(-1) <= 0
    u = uniform53(generator, int(xp.count_nonzero(drawn)))
    r = xp.ones(d.size, dtype=math_dtype)
    r[drawn] = u * (high - low) + low
    r = r.reshape(d.shape)
    return Rrelu.apply(input, r.astype(d.dtype), (d.astype(math_dtype) * r).astype(d.dtype))


@torch_function("rrelu_")
def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False, generator=None) -> Tensor:
    """In-place rrelu (matches `torch.rrelu_`)."""
    return input._inplace_update(rrelu(input, lower, upper, training, generator))


@torch_function("threshold_")
def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold (matches `torch.threshold_`)."""
    threshold, value = (_dtype.check_complex_fits(n, input.dtype) for n in (threshold, value))
    return input._inplace_update(Threshold.apply(input, threshold, value))


@torch_function("selu_")
def selu_(input: Tensor) -> Tensor:
    """In-place selu (matches `torch.selu_`)."""
    return input._inplace_update(selu(input))


@torch_function("celu_")
def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu (matches `torch.celu_`)."""
    return input._inplace_update(celu(input, alpha))
