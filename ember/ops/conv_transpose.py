"""Transposed convolution (1-d, 2-d, 3-d): the adjoint of convolution in its input.

The op itself, `ConvTranspose`, lives in `ember/ops/conv.py` with `Convolution` and
`ConvWeight`: the three are each other's backward (NOTE [Convolution as three bilinear ops]).
This module checks the arguments and works out the output size.

NOTE [Transposed convolution in float16 and bfloat16]
PyTorch's CPU build runs a 16-bit transposed convolution through oneDNN, which computes in
float32 and rounds once, bias included (NOTE [opmath] in `ember/ops/_opmath.py`), unless an
output_padding is at least its stride (oneDNN refuses those), or the CPU lacks the
instructions oneDNN needs for the dtype (float16 on most CPUs before AVX512-FP16, such as
AMD's Zen 4; `ember/_cpu_features.py`), or mkldnn is disabled. Then the fallback kernel rounds
each column product to the input dtype and sums the overlapping columns in it (col2im), as
`ConvTranspose` on 16-bit arrays does.
"""

from ember._autocast import lower_precision
from ember._cpu_features import onednn_takes
from ember._registry import op
from ember._tensor import Tensor
from ember.ops._conv_bias import _bias_as_input
from ember.ops._conv_kernels import _Geometry
from ember.ops._opmath import in_opmath
from ember.ops.conv import (
    ConvTranspose,
    DropBatch,
    _as_batch,
    _check_common,
    _check_rank,
    _ntuple,
)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    nd):
    """conv_transpose{nd}d: out = (S-1)·s - 2p + d·(K-1) + output_padding + 1 per dim."""
    _check_rank(input, nd, f"conv_transpose{nd}d")
    x, batched = _as_batch(input, nd)
    stride, dilation = _ntuple(stride, nd), _ntuple(dilation, nd)
    padding, output_padding = _ntuple(padding, nd), _ntuple(output_padding, nd)
    _check_common(x, weight, stride, nd)
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} "
            "channels instead")
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size {list(weight.shape)} instead")
    channels = weight.shape[1] * groups  # a transposed weight is (in, out / groups, *kernel)
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
            f"1-dimensional with {channels} elements, but got bias of size "
            f"{list(bias.shape)} instead")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if nd == 2 else tuple(f"{i}" for i in range(nd))
        parts = [f"output_padding_{n}: {op}" for n, op in zip(names, output_padding)]
        parts += [f"stride_{n}: {s}" for n, s in zip(names, stride)]
        parts += [f"dilation_{n}: {d}" for n, d in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           f"got {' '.join(parts)}")
    kernel = tuple(weight.shape[2:])
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, st, p, d, k, op in
                zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated "
            f"output size per channel: ({' x '.join(map(str, out))}). Output size is too small")
    geo = _Geometry(stride, dilation, padding, (0,) * nd, int(groups))
    bias = _bias_as_input(x, weight, bias, geo, output_padding)
    if any(op >= s for op, s in zip(output_padding, stride)) or \
            not onednn_takes(x.dtype.name):
        y = ConvTranspose.apply(x, weight, bias, geo, out)
    else:
        y = in_opmath(ConvTranspose.apply, x, weight, bias, geo, out)
    return y if batched else DropBatch.apply(y)


@op
@lower_precision
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """1-d transposed convolution (matches `torch.nn.functional.conv_transpose1d`)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


@op
@lower_precision
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """2-d transposed convolution (matches `torch.nn.functional.conv_transpose2d`)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


@op
@lower_precision
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1) -> Tensor:
    """3-d transposed convolution (matches `torch.nn.functional.conv_transpose3d`)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 3)
