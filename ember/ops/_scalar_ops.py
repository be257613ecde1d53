"""A tensor times or divided by a Python number, as the Scalar overloads (mul.Scalar,
div.Scalar) that PyTorch's backward formulas call: their nodes, MulBackward1 and DivBackward1,
show in the graph of a gradient taken with create_graph=True."""

from ember._backend import xp
from ember.autograd.function import Op
from ember.ops._wirtinger import conj_scalar


class ScaledBy(Op):
    """y = a·s for a number s (the Scalar mul in PyTorch's backward formulas);  ga = gy·conj(s)."""

    node_name = "MulBackward1"

    @staticmethod
    def forward(ctx, a, s):
        ctx.s = s
        return a._data * xp.asarray(s, dtype=a._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return ScaledBy.apply(gy, conj_scalar(ctx.s)), None


class DividedBy(Op):
    """y = a / s for a number s;  ga = gy / conj(s)."""

    node_name = "DivBackward1"

    @staticmethod
    def forward(ctx, a, s):
        ctx.s = s
        with xp.errstate(divide="ignore", invalid="ignore"):
            return a._data / xp.asarray(s, dtype=a._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return DividedBy.apply(gy, conj_scalar(ctx.s)), None
