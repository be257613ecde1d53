"""Broadcasting as a pair of adjoint ops: expand (broadcast_to) and sum_to.

Every binary op's backward undoes broadcasting by summing the gradient back to the input's
shape; expand's backward is that sum, and the sum's backward is an expand, so both are
differentiable any number of times.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op


def _sum_to_shape(array, shape):
    """Sum `array` over the axes that broadcasting added or stretched to reach it from `shape`."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and array.shape[lead + i] != 1)
    if not axes:
        return array.reshape(shape)
    if array.dtype.itemsize == 2 and array.dtype.kind == "f" or array.dtype.name == "bfloat16":
        # float16/bfloat16 summed in float32 and rounded once, as PyTorch's sum does
        return array.sum(axis=axes, keepdims=True, dtype=xp.float32).astype(
            array.dtype).reshape(shape)
    return xp.add.reduce(array, axis=axes, keepdims=True).reshape(shape)


class SumTo(Op):
    """y = sum of x over broadcast axes, shape `shape`;  gx = expand(gy, x.shape)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return _sum_to_shape(x._data, tuple(shape))

    @staticmethod
    def backward(ctx, gy):
        return expand_to(gy, ctx.input_shape), None


class ExpandTo(Op):
    """y = x broadcast to `shape` (a read-only view);  gx = sum_to(gy, x.shape)."""

    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x._data.shape
        return xp.broadcast_to(x._data, tuple(shape))

    @staticmethod
    def backward(ctx, gy):
        return sum_to(gy, ctx.input_shape), None


def sum_to(x: Tensor, shape) -> Tensor:
    """Reduce x to `shape` by summing broadcast axes (PyTorch's `sum_to_size`)."""
    if x._data.shape == tuple(shape):
        return x
    return SumTo.apply(x, tuple(shape))


def expand_to(x: Tensor, shape) -> Tensor:
    """Broadcast x to `shape` without copying."""
    if x._data.shape == tuple(shape):
        return x
    return ExpandTo.apply(x, tuple(shape))
