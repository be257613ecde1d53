"""A float16/bfloat16 tensor times or over a scalar, with the scalar in float32, as PyTorch does.

NOTE [Reduced-precision tensor and a scalar]
PyTorch's CPU mul and div kernels (true, floor and trunc division) on a float16 or bfloat16
tensor whose second operand is a scalar (a Python number, a 0-d tensor) do not round that
scalar to the tensor's dtype: they read its original value as a float ("opmath"), compute
float(a)·s, float(a)/s, floor or trunc of it, and round the result once (`binary_op_scalar`
in ATen's BinaryOpsKernel.cpp; floor and trunc division take it in `FloorDivide.forward`,
ember/ops/elementwise.py, which knows the float32 scalar by its dtype). Rounding 0.1 to
float16 first, as plain promotion would, changes a third of the results of `x * 0.1` by an
ulp, and `x / 70000.` to zero (70000 is inf in float16). The backward's `gy·s` and `gy/s`
take the same path. Only the second operand counts (PyTorch looks at that one), and only when
it needs no gradient (then the ordinary ops run, as before).
"""

from ember import _dtype
from ember._backend import quiet, xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._opmath import is_half


def opmath_scalar(a, b):
    """b's value as a float32 0-d array when `a op b` is a reduced-precision tensor and a scalar
    (NOTE above), else None."""
    if not _dense(a) or not is_half(a._data.dtype):
        return None
    if type(b) is float or type(b) is int and abs(b) < 2 ** 128:
        with quiet():  # (a float beyond float32's range is inf there too, as in PyTorch)
            return xp.asarray(b, dtype=xp.float32)
    # a 0-d float32/float64 tensor leaves the result a's dtype unless a is 0-d too
    if _dense(b) and b._data.ndim == 0 and a._data.ndim and not b._requires_grad and \
            b.dtype in (_dtype.float32, _dtype.float64):
        return b._data.astype(xp.float32)
    return None


def _dense(t) -> bool:
    """A tensor (or Parameter) holding a NumPy array: not sparse, not batched by vmap."""
    return isinstance(t, Tensor) and type(t._data) is xp.ndarray


class ScalarMul(Op):
    """y = round(float(a)·s);  ga = round(float(gy)·s) (NOTE above)."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        return (a._data.astype(xp.float32) * s).astype(a._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return ScalarMul.apply(gy, ctx.scalar), None


class ScalarDiv(Op):
    """y = round(float(a)/s);  ga = round(float(gy)/s) (NOTE above)."""

    node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, s):
        ctx.scalar = s
        with quiet():
            return (a._data.astype(xp.float32) / s).astype(a._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return ScalarDiv.apply(gy, ctx.scalar), None

