"""The legacy cross-channel LRN of `torch.nn.CrossMapLRN2d` (Lua Torch's SpatialCrossMapLRN),
its forward and its own backward formula side by side.

NOTE [CrossMapLRN2d's windows]
scale[c] = k + α/size · Σ x[j]² over the channel window of c, y = x · scale^-β. PyTorch sums
the window by a running total that adds the channel entering and subtracts the one leaving,
but only subtracts once c > pre_pad, so channel 0 never leaves: from c = pre_pad on, the
window [c - pre_pad + 1, c + pre_pad - 1] has x[0]² added too. ember sums the same windows
through one cumulative sum over the channels. The backward is PyTorch's formula (a running
window of gy·y/scale over [c - p, c + size - 1 - p], p = size - (size - 1) // 2), which is not
the exact gradient of that forward; matched as it is.
"""

from ember._backend import xp
from ember.autograd.function import Op, once_differentiable


def _window_sums(values, lows, highs):
    """Σ values[:, lo..hi] along dim 1 for each output channel's (lo, hi), empty when lo > hi."""
    shape = list(values.shape)
    shape[1] = 1
    running = xp.concatenate([xp.zeros(shape, dtype=values.dtype),
                              xp.cumsum(values, axis=1, dtype=values.dtype)], axis=1)
    highs = xp.maximum(highs, lows - 1)
    return running[:, highs + 1] - running[:, lows]


class CrossMapLrn2d(Op):
    """y = x · (k + α/size · window Σ x²)^-β (NOTE [CrossMapLRN2d's windows]); gx by
    PyTorch's backward formula."""

    node_name = "CrossMapLRN2dBackward"

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        data = x._data
        channels = data.shape[1]
        pre_pad = int((size - 1) / 2 + 1)
        c = xp.arange(channels)
        squares = data * data
        sums = _window_sums(squares, xp.maximum(c - pre_pad + 1, 0),
                            xp.minimum(c + pre_pad - 1, channels - 1))
        sums[:, pre_pad:] += squares[:, :1]  # channel 0 never leaves the running window
        scale = sums * data.dtype.type(alpha / size) + data.dtype.type(k)
        y = xp.power(scale, data.dtype.type(-beta)) * data
        ctx.x, ctx.y, ctx.scale, ctx.size, ctx.alpha, ctx.beta = data, y, scale, size, alpha, beta
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        g, x, y, scale = gy._data, ctx.x, ctx.y, ctx.scale
        channels = x.shape[1]
        offset = int(ctx.size - (ctx.size - 1) / 2)
        padded = channels + ctx.size - 1
        if offset + channels > padded:  # (size 1: PyTorch's padded buffer is too short)
            raise RuntimeError(f"start ({offset}) + length ({channels}) exceeds dimension size "
                               f"({padded}).")
        c = xp.arange(channels)
        ratio = g * y / scale
        accumulated = _window_sums(ratio, xp.maximum(c - offset, 0),
                                   xp.minimum(c + ctx.size - 1 - offset, channels - 1))
        factor = x.dtype.type(-2 * ctx.alpha * ctx.beta / ctx.size)
        gx = xp.power(scale, x.dtype.type(-ctx.beta)) * g + factor * x * accumulated
        return gx, None, None, None, None
