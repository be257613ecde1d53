"""Bilinear: y = x1ᵀ·W·x2 + b per output feature, one einsum each way."""

from ember._backend import xp
from ember._dtype import bool as bool_
from ember._registry import torch_function
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable
from ember.ops._opmath import is_half as _is_half
from ember.ops._util import c_type as _c_name, check_broadcast


class Bilinear(Op):
    """y[n,o] = Σᵢⱼ x1[n,i]·W[o,i,j]·x2[n,j] + b[o];  each gradient is the same contraction
    with gy in place of the factor being differentiated."""

    node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, x1, x2, w, b):
        ctx.save_for_backward(x1, x2, w)
        a, c, m = _wide(x1._data), _wide(x2._data), _wide(w._data)
        y = xp.einsum("...i,oij,...j->...o", a, m, c, optimize=True).astype(x1._data.dtype)
        return y + b._data if b is not None else y

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        x1, x2, w = (_wide(t._data) for t in ctx.saved_tensors)
        g, dtype = _wide(gy._data), gy._data.dtype
        gx1 = xp.einsum("...o,oij,...j->...i", g, w, x2, optimize=True).astype(dtype)
        gx2 = xp.einsum("...o,oij,...i->...j", g, w, x1, optimize=True).astype(dtype)
        gw = xp.einsum("...o,...i,...j->oij", g, x1, x2, optimize=True).astype(dtype)
        gb = g.reshape(-1, g.shape[-1]).sum(0).astype(dtype) if ctx.needs_input_grad[3] else None
        return gx1, gx2, gw, gb


def _wide(a):
    """float16/bfloat16 arrays as float32 (NumPy's einsum has no bfloat16; PyTorch computes
    half products in float32 too); other arrays as they are."""
    return a.astype(xp.float32) if _is_half(a.dtype) else a


@torch_function()
def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias=None) -> Tensor:
    """y = x1ᵀ·W·x2 + b per output feature (matches `torch.nn.functional.bilinear`)."""
    _check_bilinear(input1, input2, weight, bias)
    return Bilinear.apply(input1, input2, weight, bias)


def _check_bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias) -> None:
    """PyTorch's checks of bilinear's arguments, in its order: dtypes, ranks, batch sizes,
    feature sizes, the bias's size."""
    named = {"input1": input1, "input2": input2, "weight": weight}
    if bias is not None:
        named["bias"] = bias
    if len({t.dtype for t in named.values()}) > 1:
        raise RuntimeError("All tensors must have the same dtype, got " + ", ".join(
            f"{name}: {_c_name(t)}" for name, t in named.items()))
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and "
                           f"{input2.ndim}")
    for i in range(input1.ndim - 1):
        if input1.shape[i] != input2.shape[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: got "
                               f"{input1.shape[i]} and {input2.shape[i]}")
    for which, tensor, dim in (("input1", input1, 1), ("input2", input2, 2)):
        got, expected = _size(tensor, -1), _size(weight, dim)
        if got != expected:
            raise RuntimeError(f"bilinear(): {which} size does not match weight size: got {got} "
                               f"but expected {expected}")
    if bias is not None and _size(bias, 0) != weight.shape[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {weight.shape[0]}")
    if weight.ndim != 3:
        raise RuntimeError("number of dimensions must match")
    if bias is not None:
        check_broadcast(tuple(input1.shape[:-1]) + (weight.shape[0],), tuple(bias.shape))
    if input1.dtype is bool_:
        raise NotImplementedError('"bmm" not implemented for \'Bool\'')


def _size(tensor: Tensor, dim: int) -> int:
    """tensor.size(dim), with PyTorch's IndexError for a dim the tensor does not have."""
    if not tensor.ndim:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -tensor.ndim <= dim < tensor.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-tensor.ndim}, "
                         f"{tensor.ndim - 1}], but got {dim})")
    return tensor.shape[dim]
