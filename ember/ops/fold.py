"""Sliding blocks as ops: `unfold` (im2col) and `fold` (col2im), each the other's adjoint.

They read and write windows with the kernels of convolution (`_im2col`, `_col2im` in
`ember/ops/_conv_kernels.py`, NOTE [Convolution as three bilinear ops] in `ember/ops/conv.py`).
"""

import math
from collections.abc import Iterable

from ember._backend import xp
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops._conv_kernels import _col2im, _Geometry, _im2col
from ember.ops.conv import AddBatch, DropBatch, _as_batch, _blocks, _ntuple


class Unfold(Op):
    """y[n, (c, k), o] = x_pad[n, c, o·s + k·d] (im2col);  gx = fold(gy)."""

    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, geo, blocks):
        ctx.spatial = x._data.shape[2:]
        ctx.kernel, ctx.geo = kernel, geo
        cols = _im2col(x._data, kernel, geo.stride, geo.dilation, geo.lo, geo.hi, blocks)
        n, c = x._data.shape[:2]
        return cols.reshape(n, c * math.prod(kernel), math.prod(blocks))

    @staticmethod
    def backward(ctx, gy):
        return Fold.apply(gy, ctx.kernel, ctx.geo, ctx.spatial), None, None, None


class Fold(Op):
    """y = the windows x[n, (c, k), o] summed back into place (col2im);  gx = unfold(gy)."""

    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, x, kernel, geo, size):
        padded = tuple(s + a + b for s, a, b in zip(size, geo.lo, geo.hi))
        blocks = _blocks(padded, kernel, geo.stride, geo.dilation)
        ctx.kernel, ctx.geo, ctx.blocks = kernel, geo, blocks
        n, ck = x._data.shape[:2]
        cols = x._data.reshape((n, ck // math.prod(kernel)) + tuple(kernel) + blocks)
        full = _col2im(cols, padded, geo.stride, geo.dilation)
        return full[(slice(None),) * 2 + tuple(slice(a, a + s) for a, s in zip(geo.lo, size))]

    @staticmethod
    def backward(ctx, gy):
        return Unfold.apply(gy, ctx.kernel, ctx.geo, ctx.blocks), None, None, None


def _pair_of_ints(value, name: str, position: int) -> tuple:
    """torch.nn.functional's `_pair` (an iterable as a tuple, anything else twice) then im2col's
    argument parser of an int[2] (NOTE [torch's argument parser] in ember/_schemas.py)."""
    items = tuple(value) if isinstance(value, Iterable) else (value, value)  # (0-d: TypeError)
    for index, item in enumerate(items):
        if isinstance(item, Tensor):
            ok = item.numel() == 1 and not (item.is_floating_point() or item.is_complex())
        else:
            ok = isinstance(item, (int, xp.integer)) and (index > 0 or type(item) is not bool)
        if ok:
            continue
        kind = "Tensor" if isinstance(item, Tensor) else type(item).__name__
        if index == 0:
            raise TypeError(f"im2col(): argument '{name}' (position {position}) must be tuple of "
                            f"ints, but found element of type {kind} at pos 0")
        raise TypeError(f"im2col(): argument '{name}' failed to unpack the object at pos "
                        f"{index + 1} with error \"type must be tuple of ints,but got {kind}\"")
    return tuple(int(item) for item in items)


_IM2COL_CHECKS = (("kernel size should be greater than zero", "kernel", lambda v: v > 0),
                  ("dilation should be greater than zero", "dilation", lambda v: v > 0),
                  ("padding should be non-negative", "pad", lambda v: v >= 0),
                  ("stride should be greater than zero", "stride", lambda v: v > 0))


def _check_im2col(input, args) -> None:
    """PyTorch's im2col checks, in its order: two of each argument, their signs, the input."""
    for name, values in zip(("kernel_size", "dilation", "padding", "stride"), args):
        if len(values) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
    for (message, word, ok), (h, w) in zip(_IM2COL_CHECKS, args):
        if not (ok(h) and ok(w)):
            raise RuntimeError(f"{message}, but got {word}_height: {h} {word}_width: {w}")
    for dim in (1, 2):  # PyTorch reads sizes 1 and 2 before looking at the rank
        if input.dim() <= dim:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions"
                             if input.dim() == 0 else "Dimension out of range (expected to be "
                             f"in range of [{-input.dim()}, {input.dim() - 1}], but got {dim})")
    first = 0 if input.dim() == 3 else 1
    if input.dim() not in (3, 4) or 0 in input.shape[first:]:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(input.shape)}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sliding blocks (N, C·∏K, L) of a 4-d input (matches `torch.nn.functional.unfold`)."""
    args = [_pair_of_ints(v, name, position) for v, name, position in
            ((kernel_size, "kernel_size", 2), (dilation, "dilation", 3),
             (padding, "padding", 4), (stride, "stride", 5))]
    _check_im2col(input, args)
    kernel, dilation, padding, stride = args
    x, batched = _as_batch(input, 2)
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    blocks = _blocks(padded, kernel, stride, dilation)
    if any(b <= 0 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size="
            f"({kernel[0]}, {kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding="
            f"({padding[0]}, {padding[1]}), calculated shape of the array of sliding blocks as "
            f"({blocks[0]}, {blocks[1]}), but its components must be at least one.")
    if not (input.is_floating_point() or input.is_complex() or input.dtype.name == "bool"):
        raise NotImplementedError(f'"im2col_out_cpu" not implemented for '
                                  f"'{short_name(input.dtype)}'")
    geo = _Geometry(stride, dilation, padding, padding, 1)
    y = Unfold.apply(x, kernel, geo, blocks)
    return y if batched else DropBatch.apply(y)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks (N, C·∏K, L) into (N, C, H, W) (matches `torch.nn.functional.fold`)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
            f"non-zero dimensions for input, but got: {list(input.shape)}")
    x, batched = (input, True) if input.dim() == 3 else (AddBatch.apply(input), False)
    size, kernel = _ntuple(output_size, 2), _ntuple(kernel_size, 2)
    dilation, padding, stride = _ntuple(dilation, 2), _ntuple(padding, 2), _ntuple(stride, 2)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    blocks = _blocks(padded, kernel, stride, dilation)
    if x.shape[1] % math.prod(kernel):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and kernel_size=({kernel[0]}, "
            f"{kernel[1]})")
    if x.shape[2] != math.prod(blocks):
        raise RuntimeError(
            f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
            f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
            f"stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 to match "
            f"the calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
            f"{math.prod(blocks)}, but got input.size(2)={x.shape[2]}.")
    geo = _Geometry(stride, dilation, padding, padding, 1)
    y = Fold.apply(x, kernel, geo, size)
    return y if batched else DropBatch.apply(y)
