"""Padding (constant, reflect, replicate, circular) and pixel (un)shuffle.

NOTE [Padding as gathers]
Constant padding writes x into a filled array (negative pads crop); its adjoint is the same op
with the pads negated and value 0. The other modes are an index table per padded dim (reflect:
-1 → 1; replicate: -1 → 0; circular: -1 → n-1) applied with `take`, one dim at a time; the
adjoint of a gather along a dim is a scatter-add along it, and the two ops are each other's
backward. Interpolation (`ember/ops/interpolate.py`) reuses the gather for its 'nearest' modes.
"""

from ember._autocast import float32_inputs
from ember._backend import get_array_module, scatter_add, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.conv import _named


# ---- constant padding -----------------------------------------------------------------------
class ConstantPad(Op):
    """y = x placed inside a `value`-filled array (pads per dim: (before, after), may be < 0);
    gx = gy cropped (the same op with the pads negated and value 0)."""

    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pads, value):
        a = x._data
        ctx.pads = pads
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, pads))
        if any(s < 0 for s in shape):
            raise RuntimeError(
                f"The input size {a.shape[len(a.shape) - 1]}, plus negative padding "
                f"{pads[-1][0]} and {pads[-1][1]} resulted in a negative output size, which is "
                "invalid. Check dimension 0 of your input.")
        y = get_array_module(a).full(shape, value, dtype=a.dtype)
        target = tuple(slice(max(lo, 0), max(lo, 0) + n + min(lo, 0) + min(hi, 0))
                       for n, (lo, hi) in zip(a.shape, pads))
        source = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for n, (lo, hi) in zip(a.shape, pads))
        y[target] = a[source]
        return y

    @staticmethod
    def backward(ctx, gy):
        return ConstantPad.apply(gy, tuple((-lo, -hi) for lo, hi in ctx.pads), 0), None, None


# ---- gather / scatter-add along one dim -----------------------------------------------------
class TakeAlong(Op):
    """y = x.take(table, axis);  gx = scatter-add of gy along axis at table."""

    node_name = "ReflectionPad2DBackward0"

    @staticmethod
    def forward(ctx, x, table, axis):
        ctx.table, ctx.axis, ctx.n = table, axis, x._data.shape[axis]
        return xp.take(x._data, table, axis=axis)

    @staticmethod
    def backward(ctx, gy):
        return AddAlong.apply(gy, ctx.table, ctx.axis, ctx.n), None, None


class AddAlong(Op):
    """y = zeros with y[.., table[j], ..] += x[.., j, ..] along axis;  gx = gy.take(table)."""

    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, table, axis, n):
        ctx.table, ctx.axis = table, axis
        a = xp.moveaxis(x._data, axis, 0)
        y = get_array_module(a).zeros((n,) + a.shape[1:], dtype=a.dtype)
        # The identity part of the table (the interior) is one slice add; the rest are few.
        scatter_add(y, table, a)
        return xp.moveaxis(y, 0, axis)

    @staticmethod
    def backward(ctx, gy):
        return TakeAlong.apply(gy, ctx.table, ctx.axis), None, None, None


def _pad_table(n: int, lo: int, hi: int, mode: str, module):
    """Source index of each output position j - lo for j in [0, n + lo + hi)."""
    j = module.arange(-lo, n + hi)
    if mode == "reflect":
        j = xp.abs(j)
        return xp.where(j >= n, 2 * (n - 1) - j, j)
    if mode == "replicate":
        return xp.clip(j, 0, n - 1)
    # circular. NOTE [circular negative padding]: PyTorch first crops the negative sides, then
    # wraps around what is left: pad (-1, 2) of [0..5] is [1..5] + [1, 2].
    start = max(-lo, 0)
    kept = n + min(lo, 0) + min(hi, 0)
    j = module.arange(-max(lo, 0), kept + max(hi, 0))
    return j % kept + start


_MODE_NAMES = {"reflect": "Reflection", "replicate": "Replication", "circular": "Circular"}


def _on_float32_list(args, kwargs) -> bool:
    """torch's CPU autocast runs reflection_pad1d/2d and replication_pad1d/2d/3d in float32."""
    mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
    dims = len(args[1] if len(args) > 1 else kwargs.get("pad", ())) // 2
    return (mode == "reflect" and dims <= 2) or (mode == "replicate" and dims <= 3)


@float32_inputs(when=_on_float32_list)
def pad(input, pad, mode="constant", value=None) -> Tensor:
    """Pad the last len(pad)/2 dims, last dim first (matches `torch.nn.functional.pad`)."""
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not "
                        f"{type(mode).__name__}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {input.dim()}")
    k = len(pad) // 2
    pairs = tuple((pad[2 * i], pad[2 * i + 1]) for i in range(k))[::-1]  # first padded dim first
    if mode == "constant":
        full = ((0, 0),) * (input.dim() - k) + pairs
        return ConstantPad.apply(input, full, 0 if value is None else value)
    if mode not in _MODE_NAMES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if input.dim() not in (k + 1, k + 2) or k > 3:
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    module = get_array_module(input._data)
    y = input
    for i, (lo, hi) in enumerate(pairs):
        axis = input.dim() - k + i
        n = input.shape[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {axis} of input "
                f"{list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo or hi:
            op = _named(TakeAlong, f"{_MODE_NAMES[mode]}Pad{k}DBackward0")
            y = op.apply(y, _pad_table(n, lo, hi, mode, module), axis)
    return y


# ---- pixel shuffle --------------------------------------------------------------------------
class PixelShuffle(Op):
    """y[.., c, h·r + i, w·r + j] = x[.., c·r² + i·r + j, h, w];  gx = pixel_unshuffle(gy)."""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _shuffle(x._data, r)

    @staticmethod
    def backward(ctx, gy):
        return PixelUnshuffle.apply(gy, ctx.r), None


class PixelUnshuffle(Op):
    """The inverse of pixel_shuffle;  gx = pixel_shuffle(gy)."""

    @staticmethod
    def forward(ctx, x, r):
        ctx.r = r
        return _unshuffle(x._data, r)

    @staticmethod
    def backward(ctx, gy):
        return PixelShuffle.apply(gy, ctx.r), None


def _shuffle(a, r):
    *lead, c, h, w = a.shape
    n = len(lead)
    b = a.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
    b = b.transpose(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return b.reshape(tuple(lead) + (c // (r * r), h * r, w * r))


def _unshuffle(a, r):
    *lead, c, h, w = a.shape
    n = len(lead)
    b = a.reshape(tuple(lead) + (c, h // r, r, w // r, r))
    b = b.transpose(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return b.reshape(tuple(lead) + (c * r * r, h // r, w // r))


@op
def pixel_shuffle(input, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r) (matches `torch.nn.functional.pixel_shuffle`)."""
    r = int(upscale_factor)
    if input.dim() < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)")
    if input.shape[-3] % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={input.shape[-3]} is not divisible "
            f"by {r * r}")
    return PixelShuffle.apply(input, r)


@op
def pixel_unshuffle(input, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W) (matches `torch.nn.functional.pixel_unshuffle`)."""
    r = int(downscale_factor)
    if input.dim() < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)")
    for name, n in (("height", input.shape[-2]), ("width", input.shape[-1])):
        if n % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({-2 if name == 'height' else -1})={n} is not divisible by {r}")
    return PixelUnshuffle.apply(input, r)


@op(aliases=("native_channel_shuffle",))
def channel_shuffle(input, groups: int) -> Tensor:
    """(N, g·k, *) → channels interleaved across the g groups: channel i·k + j moves to
    j·g + i (matches `torch.nn.functional.channel_shuffle`)."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    n, c = input.shape[0], input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    rest = tuple(input.shape[2:])
    grouped = input.reshape((n, groups, c // groups) + rest)
    return grouped.transpose(1, 2).reshape((n, c) + rest)


_pad = pad  # constant_pad_nd's argument is named pad too


@op
def constant_pad_nd(input, pad, value=0) -> Tensor:
    """Constant padding, last dim first (matches `torch.constant_pad_nd`, F.pad's kernel)."""
    return _pad(input, pad, "constant", value)
