"""Average pooling and power-average (Lp) pooling over 1, 2 or 3 spatial dims.

The output size and padding follow NOTE [Pooling geometry] in `ember/ops/pool.py`: a ceil_mode
window may run past the padded input, which is padded that far with zeros, and the divisor
only counts the part of each window inside the padded input (or inside the input, with
count_include_pad=False), as PyTorch does. float16 and bfloat16 windows are summed in float32
and the mean rounded once (NOTE [opmath]); PyTorch has no 16-bit avg_pool3d on the CPU.
"""

import math

from ember._autocast import float32_inputs
from ember._backend import get_array_module, xp
from ember._registry import op, write_out
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._opmath import is_half, opmath_dtype
from ember.ops._conv_kernels import _col2im, _pad_zeros
from ember.ops.conv import AddBatch, DropBatch, _named, _ntuple
from ember.ops.pool import _check_pool_input, _pads, _pool_args


# ---- average pooling ------------------------------------------------------------------------
def _avg_divisor(module, spatial, kernel, stride, padding, out, count_include_pad,
                 divisor_override):
    """The divisor of each output position, shaped (*out) (see NOTE [Pooling geometry])."""
    if divisor_override:
        return module.full(out, float(divisor_override))
    divisor = module.ones(out)
    for axis, (n, k, s, p, o) in enumerate(zip(spatial, kernel, stride, padding, out)):
        start = module.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if not count_include_pad:
            end, start = xp.minimum(end, n), xp.maximum(start, 0)
        shape = [1] * len(out)
        shape[axis] = o
        divisor = divisor * (end - start).reshape(shape)
    return divisor


class AvgPool(Op):
    """y = Σ window / divisor;  gx = gy / divisor summed back over each window (col2im)."""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out, divisor):
        a = x._data
        lo, hi = _pads(a.shape[2:], kernel, stride, padding, (1,) * len(kernel), out)
        padded = _pad_zeros(a, lo, hi)
        total = None  # Σ over kernel offsets of output-sized strided slices (no window copy)
        for offset in xp.ndindex(*kernel):
            window = padded[(slice(None),) * 2 + tuple(
                slice(k, k + (o - 1) * s + 1, s) for k, o, s in zip(offset, out, stride))]
            if total is None:
                total = window.astype(xp.result_type(a.dtype, divisor.dtype))
            else:
                total += window
        ctx.args = (kernel, stride, padding, out, divisor)
        ctx.spatial = a.shape[2:]
        return (total / divisor).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return (AvgPoolBackward.apply(gy, ctx.spatial, *ctx.args),) + (None,) * 5


class AvgPoolBackward(Op):
    """gx = Σ over the windows containing each position of gy / divisor;  ggy = avg_pool(ggx)."""

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, spatial, kernel, stride, padding, out, divisor):
        g = gy._data
        nd = len(kernel)
        lo, hi = _pads(spatial, kernel, stride, padding, (1,) * nd, out)
        scaled = (g / divisor).astype(g.dtype, copy=False)
        cols = xp.broadcast_to(scaled.reshape(g.shape[:2] + (1,) * nd + tuple(out)),
                               g.shape[:2] + tuple(kernel) + tuple(out))
        size = tuple(n + a + b for n, a, b in zip(spatial, lo, hi))
        full = _col2im(cols, size, stride, (1,) * nd)
        ctx.args = (kernel, stride, padding, out, divisor)
        return full[(slice(None),) * 2 + tuple(slice(a, a + n) for a, n in zip(lo, spatial))]

    @staticmethod
    def backward(ctx, ggx):
        return (AvgPool.apply(ggx, *ctx.args),) + (None,) * 6


def _check_avg_window(nd, kernel_size, stride) -> None:
    """PyTorch's checks of an average pool's stride and kernel (1-d pools run as (1, k) 2-d)."""
    first = kernel_size[0] if isinstance(kernel_size, (list, tuple)) and kernel_size else None
    if isinstance(kernel_size, bool) or isinstance(first, bool):  # torch's parser refuses bools
        shown = "not bool" if first is None else "but found element of type bool at pos 0"
        raise TypeError(f"avg_pool{nd}d(): argument 'kernel_size' (position 2) must be tuple of "
                        f"ints, {shown}")
    kernel = _ntuple(kernel_size, nd)
    strides = kernel  # the stride defaults to the kernel
    if stride is not None and not (isinstance(stride, (list, tuple)) and len(stride) == 0):
        strides = _ntuple(stride, nd)
    if any(s == 0 for s in strides):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel):
        if nd == 1:
            kernel = (1,) + kernel
        words = ("kT", "kH", "kW")[3 - len(kernel):]
        got = " ".join(f"{w}: {k}" for w, k in zip(words, kernel))
        raise RuntimeError(f"kernel size should be greater than zero, but got {got}")
    if any(s < 0 for s in strides):
        strides = (1,) + strides if nd == 1 else strides
        words = ("dT", "dH", "dW")[3 - len(strides):]
        got = " ".join(f"{w}: {s}" for w, s in zip(words, strides))
        raise RuntimeError(f"stride should be greater than zero, but got {got}")


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    name = f"avg_pool{nd}d"
    if input.dim() in (nd + 1, nd + 2):  # PyTorch checks the window before empty sizes
        _check_avg_window(nd, kernel_size, stride)
    _check_pool_input(input, nd, name, {1: "avg1d", 2: "avg2d", 3: "max"}[nd])
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    kernel, stride, padding, _, out = _pool_args(x, nd, kernel_size, stride, padding, 1,
                                                 ceil_mode, name)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if (nd == 3 and is_half(x.dtype)) or x.dtype.name == "bool":
        word = {"float16": "Half", "bfloat16": "BFloat16"}.get(x.dtype.name, "Bool")
        kernel_name = "avg_pool3d_out_frame" if nd == 3 else "avg_pool2d"
        raise NotImplementedError(f'"{kernel_name}" not implemented for \'{word}\'')
    divisor = _avg_divisor(get_array_module(x._data), x.shape[2:], kernel, stride, padding, out,
                           count_include_pad, divisor_override).astype(
        opmath_dtype(x._data.dtype) if x.is_floating_point() else xp.float64)
    op = _named(AvgPool, "SqueezeBackward1" if nd == 1 else f"AvgPool{nd}DBackward0")
    y = op.apply(x, kernel, stride, padding, out, divisor)
    return y if batched else DropBatch.apply(y)


@op
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over sliding windows of (N, C, L) (matches `torch.nn.functional.avg_pool1d`)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, out=None) -> Tensor:
    """Mean over sliding windows of (N, C, H, W) (matches `torch.nn.functional.avg_pool2d`)."""
    result = _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)
    return result if out is None else write_out(result, out, "avg_pool2d", "exact")


@float32_inputs  # on torch's CPU autocast float32 list
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, out=None) -> Tensor:
    """Mean over sliding windows of (N, C, D, H, W) (matches `F.avg_pool3d`)."""
    result = _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor_override)
    return result if out is None else write_out(result, out, "avg_pool3d", "exact")


# ---- power-average pooling ------------------------------------------------------------------
def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode):
    """(Σ window x^p)^(1/p) = (∏K · avg_pool(x^p))^(1/p), sign-safe as PyTorch writes it."""
    kernel = _ntuple(kernel_size, nd)
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, L) (matches `torch.nn.functional.lp_pool1d`)."""
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, H, W) (matches `torch.nn.functional.lp_pool2d`)."""
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W) (matches `F.lp_pool3d`)."""
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)
