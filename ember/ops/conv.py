"""Convolution (1-d, 2-d, 3-d) and the ops of its transpose: im2col + one matmul per group.

NOTE [Convolution as three bilinear ops]
A convolution y = conv(x, w) reads x through windows: the window of each kernel offset is a
strided view of the zero-padded x, and one copy per offset gathers them into the contiguous
channel-major column buffer (groups, C/g·∏K, N·∏O) (`_columns`); one `matmul` with w seen as
(groups, Cout/g, C/g·∏K) gives y as (groups, Cout/g, N·∏O), moved to NCHW with one copy
(for a 1x1 kernel: no columns at all, y[n] = W·x[n]). Groups are the batch axis of that
matmul; there is no Python loop over batch items. The batch is cut into blocks so that the
column buffer stays in cache (NOTE [Batch blocks] in `ember/ops/_conv_kernels.py`, which
holds all the array kernels).

Its derivatives are convolutions again, so three ops cover everything, and each one's backward
is written with the other two (higher-order gradients for free, no once_differentiable):

    Convolution    y  = conv(x, w)     gx = ConvTranspose(gy, w),   gw = ConvWeight(x, gy)
    ConvTranspose  y  = convT(x, w)    gx = Convolution(gy, w),     gw = ConvWeight(gy, x)
    ConvWeight     gw = corr(x, gy)    gx = ConvTranspose(gy, ggw), ggy = Convolution(x, ggw)

(for complex tensors the operand held fixed enters conjugated, PyTorch's Wirtinger convention:
gx = ConvTranspose(gy, conj(w)), ...; `conj` is a no-op on real tensors).

Stride-1 2-d convolutions whose kernels are large for their images (5x5 on 16x16, say) are
computed through the DFT instead, one product per frequency (NOTE [Spectral convolution] in
`ember/ops/_conv_spectral.py`); in training, the forward keeps the spectra of x and w for the
backward (NOTE [Spectra kept for the backward]).

A transposed convolution computes columns W^T·x and sums them back into place (`_col2im`, a
loop over the ∏K kernel offsets adding strided slices); with stride 1 the same sums are a
convolution with the flipped kernel, computed that way when its column buffer is the smaller
one (`_transpose_as_conv`). Each op carries its own geometry: stride, dilation, groups, and
the zero padding before (`lo`) and after (`hi`) each spatial dim, so asymmetric padding
('same' with an even kernel) needs no special case.

The public transposed convolutions are in `ember/ops/conv_transpose.py`; `unfold`/`fold`
(im2col and col2im as ops) in `ember/ops/fold.py`.
"""

import math

from ember._autocast import lower_precision
from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor, contiguous_format
from ember.autograd._shown_graph import tensor_slots
from ember.autograd.function import Op
from ember.ops.conversion import laid_out_as, suggest_memory_format
from ember.ops._opmath import is_half
from ember.ops._wirtinger import conj
from ember.ops._conv_bias import _bias_as_input, _check_bias_type, _uses_onednn
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops._conv_kernels import (
    _conv_forward,
    _conv_transpose_forward,
    _conv_weight,
    _Geometry,
    _transpose_pad_hi,
)
from ember.ops._conv_spectral import _fits_spectral, _spectral_backward, _spectral_forward
from ember.ops.nn_norm_kernels import _SHORT_ROW, row_sums, rows

_NAMED = {}


def _named(op, node_name):
    """`op` under another grad_fn name (PyTorch names nodes per mode and dimension)."""
    key = (op, node_name)
    if key not in _NAMED:
        _NAMED[key] = type(op.__name__, (op,), {"node_name": node_name})
    return _NAMED[key]


# ---- the ops --------------------------------------------------------------------------------
class Convolution(Op):
    """y = conv(x, w) + b;  gx = convT(gy, w),  gw = corr(x, gy),  gb = Σ_{n,spatial} gy."""

    torch_edges = tensor_slots(0, 3)  # (PyTorch's node lists input, weight and bias)

    @staticmethod
    def forward(ctx, x, w, b, geo, out):
        bias = None if b is None else b._data
        ctx.spectra = None  # NOTE [Spectra kept for the backward]
        if ctx.needs_input_grad[1] and _fits_spectral(x._data.shape, x._data.dtype,
                                                      w._data.shape[2:], geo, out,
                                                      w._data.shape[0]):
            y, ctx.spectra = _spectral_forward(x._data, w._data, geo, out, bias, keep=True)
        else:  # (with no gradient to follow, the route is chosen for the forward alone)
            y = _conv_forward(x._data, w._data, geo, out, bias,
                              forward_only=not any(ctx.needs_input_grad))
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        ctx.geo, ctx.kernel, ctx.spatial = geo, w._data.shape[2:], x._data.shape[2:]
        return _in_format_of(y, x, w, geo)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors  # (checks that neither was modified in place since)
        geo = ctx.geo
        gx = gw = gb = None
        if ctx.spectra is not None and not is_grad_enabled():
            gx, gw = (None if a is None else Tensor._make(a) for a in _spectral_backward(
                ctx.spectra, gy._data, geo.lo, ctx.spatial, *ctx.needs_input_grad[:2]))
        if ctx.needs_input_grad[0] and gx is None:
            gx = ConvTranspose.apply(gy, conj(w), None, geo, ctx.spatial)
        if ctx.needs_input_grad[1] and gw is None:
            gw = ConvWeight.apply(conj(x), gy, ctx.kernel, geo)
        if ctx.needs_input_grad[2]:
            gb = ChannelSum.apply(gy)
        return gx, gw, gb, None, None


class ConvTranspose(Op):
    """y = convT(x, w) (the adjoint of conv in x);  gx = conv(gy, w),  gw = corr(gy, x)."""

    torch_edges = tensor_slots(0, 3)  # (PyTorch's node lists input, weight and bias)

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, geo, out):
        y = _conv_transpose_forward(x._data, w._data, geo, tuple(out),
                                    None if b is None else b._data)
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              w if ctx.needs_input_grad[0] else None)
        ctx.geo, ctx.kernel, ctx.spatial = geo, w._data.shape[2:], x._data.shape[2:]
        return _in_format_of(y, x, w, geo)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        geo, kernel, spatial = ctx.geo, ctx.kernel, ctx.spatial
        hi = _transpose_pad_hi(geo, spatial, kernel, gy._data.shape[2:])
        back = geo._replace(hi=hi)  # gy padded so that its windows line up with x
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = Convolution.apply(gy, conj(w), None, back, spatial)
        if ctx.needs_input_grad[1]:
            gw = ConvWeight.apply(gy, conj(x), kernel, back)
        if ctx.needs_input_grad[2]:
            gb = ChannelSum.apply(gy)
        return gx, gw, gb, None, None


class ConvWeight(Op):
    """gw = corr(x, gy), the weight gradient of conv;  gx = convT(gy, ggw),  ggy = conv(x, ggw)."""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, gy, kernel, geo):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None,
                              gy if ctx.needs_input_grad[0] else None)
        ctx.geo, ctx.spatial, ctx.out = geo, x._data.shape[2:], gy._data.shape[2:]
        return _conv_weight(x._data, gy._data, kernel, geo)

    @staticmethod
    def backward(ctx, ggw):
        x, gy = ctx.saved_tensors
        gx = ggy = None
        if ctx.needs_input_grad[0]:
            gx = ConvTranspose.apply(conj(gy), ggw, None, ctx.geo, ctx.spatial)
        if ctx.needs_input_grad[1]:
            ggy = Convolution.apply(conj(x), ggw, None, ctx.geo, ctx.out)
        return gx, ggy, None, None


class ChannelSum(Op):
    """y[c] = Σ_{n, spatial} x[n, c, ...] (the bias gradient);  gx = gy broadcast back."""

    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x):
        data = x._data
        ctx.shape = data.shape
        if data.dtype.kind == "f" and data.size and math.prod(data.shape[2:]) < _SHORT_ROW:
            # small maps: batch norm's sum, images first in float64 (NOTE [Per-channel values
            # over short rows] in ember/ops/nn_norm_kernels.py: 0.84 -> 0.07 ms on (100, 512, 2, 2))
            return row_sums(rows(data))[0].astype(data.dtype)
        axes = (0,) + tuple(range(2, data.ndim))
        if is_half(data.dtype):  # (bfloat16: summed in float32 and rounded once, as PyTorch)
            return data.sum(axis=axes, dtype=xp.float32).astype(data.dtype)
        return data.sum(axis=axes)

    @staticmethod
    def backward(ctx, gy):
        return ChannelBroadcast.apply(gy, ctx.shape)


class ChannelBroadcast(Op):
    """y[n, c, ...] = x[c] (a read-only broadcast view);  gx = Σ_{n, spatial} gy."""

    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        return xp.broadcast_to(x._data.reshape((-1,) + (1,) * (len(shape) - 2)), shape)

    @staticmethod
    def backward(ctx, gy):
        return ChannelSum.apply(gy), None


class AddBatch(Op):
    """y = x[None];  gx = gy[0]."""

    node_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data[None]

    @staticmethod
    def backward(ctx, gy):
        return DropBatch.apply(gy)


class DropBatch(Op):
    """y = x[0] for a batch of one;  gx = gy[None]."""

    node_name = "SqueezeBackward1"

    @staticmethod
    def forward(ctx, x):
        return x._data[0]

    @staticmethod
    def backward(ctx, gy):
        return AddBatch.apply(gy)


# ---- argument handling ----------------------------------------------------------------------
def _in_format_of(y, x, w, geo):
    """y laid out channels-last when x's or w's strides suggest it, as PyTorch's CPU
    convolutions choose their output's format (`mkldnn_conv_use_channels_last`); 3-d ones
    only on oneDNN (its slow 3-d kernels write contiguous outputs)."""
    if y.ndim == 5 and not _uses_onednn(x, w, geo, (), x.shape[2:]):
        return y
    for fmt in (suggest_memory_format(x._data), suggest_memory_format(w._data)):
        if fmt is not contiguous_format and y.ndim == x.ndim:
            return laid_out_as(y, fmt)
    return y


def _ntuple(value, n: int) -> tuple:
    """An int or a sequence as an n-tuple of ints (PyTorch's _pair/_triple)."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return (int(value[0]),) * n
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _blocks(padded, kernel, stride, dilation) -> tuple:
    """Number of window positions per dim: (P - d·(K-1) - 1) // s + 1."""
    return tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in
                 zip(padded, kernel, stride, dilation))


def _type_word(t) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}[t.dtype.name]


def _check_rank(input, nd: int, name: str):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got "
            f"input of size: {list(input.shape)}")


def _check_types(x, w):
    if x.dtype is not w.dtype:
        raise RuntimeError(
            f"expected scalar type {_type_word(x)} but found {_type_word(w)}")


def _check_bias(weight, bias):
    """A convolution's bias has one element per output channel (torch's message if not)."""
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
            f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead")


def _check_common(x, weight, stride, nd):
    if weight.dim() != nd + 2:
        raise RuntimeError(
            f"Expected {nd + 2}-dimensional input for {nd + 2}-dimensional weight "
            f"{list(weight.shape)}, but got {x.dim()}-dimensional input of size "
            f"{list(x.shape)} instead")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    _check_types(x, weight)


def _as_batch(input, nd):
    """input with a batch axis (unbatched inputs get one of size 1) and whether it had one."""
    if input.dim() == nd + 2:
        return input, True
    return AddBatch.apply(input), False


def _same_padding(kernel, dilation, stride):
    """'same' padding: d·(K-1) in total per dim, the odd one out after (as PyTorch)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    lo = tuple(t // 2 for t in total)
    return lo, tuple(t - a for t, a in zip(total, lo))


def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    """conv{nd}d: argument checks, then the Convolution op (see NOTE at the top)."""
    name = f"conv{nd}d"
    if not isinstance(padding, str):
        _check_bias_type(input, bias)
    _check_rank(input, nd, name)
    x, batched = _as_batch(input, nd)
    stride, dilation = _ntuple(stride, nd), _ntuple(dilation, nd)
    _check_common(x, weight, stride, nd)
    _check_bias(weight, bias)
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            lo, hi = _same_padding(kernel, dilation, stride)
        else:
            raise ValueError(
                f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    else:
        lo = hi = _ntuple(padding, nd)
        if any(p < 0 for p in lo):
            raise RuntimeError("negative padding is not supported")
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size {list(weight.shape)} instead")
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{x.shape[1]} channels instead")
    padded = tuple(s + a + b for s, a, b in zip(x.shape[2:], lo, hi))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < k for p, k in zip(padded, span)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, span))}). Kernel size can't be greater than "
            "actual input size")
    geo = _Geometry(stride, dilation, lo, hi, int(groups))
    # torch pads the odd one out of 'same' padding itself: its kernel sees that input
    bias = _bias_as_input(x, weight, bias, geo,
                          padded=tuple(s + b - a for s, a, b in zip(x.shape[2:], lo, hi)))
    y = Convolution.apply(x, weight, bias, geo, _blocks(padded, kernel, stride, dilation))
    return y if batched else DropBatch.apply(y)


@op
@lower_precision
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-d cross-correlation over (N, C, L) (matches `torch.nn.functional.conv1d`)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


@op
@lower_precision
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-d cross-correlation over (N, C, H, W) (matches `torch.nn.functional.conv2d`)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


@op
@lower_precision
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """3-d cross-correlation over (N, C, D, H, W) (matches `torch.nn.functional.conv3d`)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


@op
def conv_tbc(input, weight, bias, pad: int = 0) -> Tensor:
    """1-d convolution of a (time, batch, channels) sequence by a (kernel, in, out) filter,
    `pad` steps of zeros at both ends (matches `torch.conv_tbc`): conv1d on permuted views."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if pad < 0:  # (PyTorch takes a negative pad as that many steps cut off both ends)
        input, pad = input[-pad:input.shape[0] + pad], 0
    out = _conv(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad, 1, 1, 1)
    return out.permute(2, 0, 1)
