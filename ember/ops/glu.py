"""The gated linear unit as one op (PyTorch's GatedLinearUnit.cpp): y = a·σ(b) for the halves
a, b of x along a dim, computed as PyTorch's CPU kernels compute it (16-bit floats in float32,
rounded once: NOTE [opmath] in ember/ops/_opmath.py)."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops import activation_kernels as kernels
from ember.ops._opmath import widen
from ember.ops.joins import cat


def _sigmoid(b):
    """σ(b) in b's (float32/64) dtype: PyTorch's 1 / (1 + e^-b)."""
    return kernels.apply(kernels.sigmoid, b)


class Glu(Op):
    """y = a·σ(b);  ga = gy·σ(b),  gb = gy·a·σ(b)·(1 - σ(b)), with σ(b) in x's dtype (PyTorch's
    backward computes it into ga's place first)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        a, b = (widen(h) for h in xp.split(x._data, 2, axis=dim))
        return (a * _sigmoid(b)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if grad_mode._state["enabled"]:  # create_graph: the same formulas, recorded
            a, b = x.chunk(2, ctx.dim)
            s = b.sigmoid()
            return cat([gy * s, (1 - s) * s * a * gy], ctx.dim), None
        dtype = x._data.dtype
        a, b = (widen(h) for h in xp.split(x._data, 2, axis=ctx.dim))
        s = widen(_sigmoid(b).astype(dtype))
        g = widen(gy._data)
        halves = ((s * g).astype(dtype), ((1 - s) * s * a * g).astype(dtype))
        return Tensor._make(xp.concatenate(halves, axis=ctx.dim)), None


def glu(input: Tensor, dim: int) -> Tensor:
    """a·σ(b) for the halves of a float tensor along dim (checked by the caller)."""
    return Glu.apply(input, dim)
