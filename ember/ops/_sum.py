"""The sum op and the broadcast that undoes a reduction (ExpandDims, the backward of sum,
mean, amax ...): an adjoint pair, each the other's backward."""

from ember import _dtype
from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.shape import squeeze


def _is_half(dtype) -> bool:
    """float16 and bfloat16, which PyTorch accumulates in float32."""
    return dtype is _dtype.float16 or dtype.name == "bfloat16"


class Sum(Op):
    """y = Σ_axes x (in NumPy's order: PyTorch's cascade, copied, cost 3-20x per sum);  gx = gy
    with the summed axes put back and broadcast (ExpandDims)."""
    node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.args = (axes, keepdim, x._data.shape)
        if axes is None and not keepdim and x._data.dtype is dtype.numpy and dtype.itemsize > 2:
            return xp.add.reduce(x._data, axis=None)  # a full sum in the input's own dtype
        if _is_half(dtype):  # accumulate in float32, as PyTorch does
            total = xp.add.reduce(x._data, axis=axes, keepdims=keepdim, dtype=xp.float32)
            return xp.asanyarray(total).astype(dtype.numpy)
        return xp.add.reduce(x._data, axis=axes, keepdims=keepdim, dtype=dtype.numpy)

    @staticmethod
    def backward(ctx, gy):
        return expand_dims(gy, *ctx.args), None, None, None


class SumAll(Sum):
    """sum over every element (PyTorch names this node SumBackward0)."""

    node_name = "SumBackward0"


class ExpandDims(Op):
    """y = g with `axes` re-inserted (unless keepdim) and broadcast to `shape`;  gg = Σ_axes gy."""

    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, g, axes, keepdim, shape):
        ctx.args = (axes, keepdim)
        data = g._data if keepdim or not shape or axes is None else xp.expand_dims(g._data, axes)
        return xp.broadcast_to(data, shape)

    @staticmethod
    def backward(ctx, gy):
        axes, keepdim = ctx.args
        if axes is None and not keepdim:  # (PyTorch's expand of a 0-d gradient: SumBackward0)
            return SumAll.apply(gy, None, False, gy.dtype), None, None, None
        if axes is None or keepdim:
            return Sum.apply(gy, axes, keepdim, gy.dtype), None, None, None
        # PyTorch's sum_backward unsqueezes the axes one by one, then expands: its gradient sums
        # keeping them, then squeezes them, the last first (seen in a double backward's graph)
        gg = Sum.apply(gy, axes, True, gy.dtype)
        for axis in sorted((a % gy.dim() for a in _axes_tuple(axes)), reverse=True):
            gg = squeeze(gg, axis)
        return gg, None, None, None


def _axes_tuple(axes) -> tuple:
    return tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)


def expand_dims(g: Tensor, axes, keepdim, shape) -> Tensor:
    """Undo a reduction over `axes`: the gradient of every reduced element is its slice's g."""
    if g._data.shape == tuple(shape):
        return g
    return ExpandDims.apply(g, axes, keepdim, tuple(shape))
