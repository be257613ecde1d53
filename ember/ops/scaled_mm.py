"""Scaled matrix products of float8 matrices: `torch._scaled_mm` and `torch._scaled_mm_v2`.

    y = cast((float32(a)·sa) @ (float32(b)·sb) + bias) [/ scale_result]

with one scale per tensor (TensorWise: 1-element scales) or per row of a and column of b
(RowWise: scales of shapes (M, 1) and (1, N)). The float8 operands are widened exactly to
float32, the product is a float32 matmul and the result is cast once to the output dtype
(by default a's dtype). PyTorch has no derivative for either: an input that requires grad
puts the result in the graph under a node whose backward raises (`NoDerivative`).

NOTE [PyTorch's two CPU paths for _scaled_mm]
PyTorch 2.13's CPU `_scaled_mm` takes one of two kernels, chosen by the CPU it runs on: with
1-element scales, on an x86 CPU with AMX-INT8 (same operand dtypes) or AMX-FP16 (mixed), it
calls oneDNN; otherwise an emulation in float32. They differ where the result leaves float8's
range and in what they accept:
- emulation: `Tensor.to` casts the result, so float8_e4m3fn saturates at ±448; scales must be
  float32; any output dtype;
- oneDNN: its cast overflows to NaN (e4m3fn) or inf (e5m2); scales of any dtype are read as
  numbers; operands, bias and output must be types oneDNN knows (float8_e4m3fn/e5m2 operands;
  float32/bfloat16/float16 bias; those and the two float8 types as output).
ember reads the same CPU flags (and `backends.mkldnn.enabled`) and follows the same path, so it
gives what PyTorch gives on the machine it runs on. `_scaled_mm_v2` always emulates.
"""

import enum

from ember import _dtype
from ember._backend import xp
from ember._cpu_features import cpu_flags, mkldnn_enabled
from ember._registry import op, write_out
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.linalg_core import size_at

_FLOAT8 = tuple(d.name for d in _dtype.FLOAT8_DTYPES)
_ONEDNN_TYPES = ("float32", "bfloat16", "float16", "float8_e4m3fn", "float8_e5m2")
_SCALING = {0: "TensorWise", 1: "RowWise"}  # ScalingType values the CPU kernels accept


class ScalingType(enum.IntEnum):
    """How a scale tensor maps onto its matrix (matches `torch.nn.functional.ScalingType`)."""

    TensorWise = 0
    RowWise = 1
    BlockWise1x16 = 2
    BlockWise1x32 = 3
    BlockWise1x128 = 4
    BlockWise128x128 = 5


class SwizzleType(enum.IntEnum):
    """The memory layout of a blockwise scale (matches `torch.nn.functional.SwizzleType`)."""

    NO_SWIZZLE = 0
    SWIZZLE_32_4_4 = 1


def short_name(d) -> str:
    """PyTorch's name of a dtype in messages: Float, BFloat16, Float8_e4m3fn, ..."""
    return _dtype._SHORT.get(d.name, d.name)


def _uses_onednn(a, b, scale_a, scale_b) -> bool:
    """Whether PyTorch's CPU _scaled_mm goes to oneDNN here (NOTE above)."""
    if scale_a.numel() != 1 or scale_b.numel() != 1 or not mkldnn_enabled():
        return False
    return ("amx_int8" if a.dtype is b.dtype else "amx_fp16") in cpu_flags()


def _check_matrices(a, b, names="mat_a and mat_b"):
    """2-D operands whose inner sizes agree (PyTorch's RuntimeErrors; oneDNN's message says
    "mat1 and mat2")."""
    if a.dim() != 2:
        raise RuntimeError("mat1 must be a matrix")
    if b.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"{names} shapes cannot be multiplied "
                           f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def _scaling(a, b, scale_a, scale_b):
    """'TensorWise' or 'RowWise' for the emulation, else ValueError as PyTorch words it (a
    size it reads that b lacks is its IndexError: only the failure's message reads b's)."""
    float8 = a.dtype.name in _FLOAT8 and b.dtype.name in _FLOAT8
    if float8 and scale_a.dtype is _dtype.float32 and scale_b.dtype is _dtype.float32:
        if scale_a.numel() == 1 and scale_b.numel() == 1:
            return "TensorWise"
        rows = (scale_a.dim() == 2 and tuple(scale_a.shape) == (size_at(a, 0), 1)
                and scale_a.is_contiguous())
        cols = (scale_b.dim() == 2 and tuple(scale_b.shape) == (1, size_at(b, 1))
                and scale_b.is_contiguous())
        if rows and cols:
            return "RowWise"
    raise ValueError(
        "Invalid scaling configuration.\n- For TensorWise scaling, a and b should be float8, "
        "scales should be float and singletons.\n- For RowWise scaling, a and b should be "
        f"float8, scales should be float, scale_a should be ({size_at(a, 0)}, 1) and scale_b "
        f"should be (1, {size_at(b, 1)}), and both should be contiguous.\nGot mat_a.dtype()="
        f"{short_name(a.dtype)}, scale_a.size()={list(scale_a.shape)}, mat_b.dtype()="
        f"{short_name(b.dtype)}, scale_b.size()={list(scale_b.shape)}")


def _check_onednn(a, b, bias, out_dtype):
    """The operand, bias and output types oneDNN's kernel accepts (PyTorch's RuntimeErrors)."""
    for name, t in (("mat1", a), ("mat2", b)):
        if t.dtype.name not in _FLOAT8:
            raise RuntimeError(f"Expected {name} to be Float8 matrix got {short_name(t.dtype)}")
    for d in (a.dtype, b.dtype, out_dtype, bias.dtype if bias is not None else None):
        if d is not None and d.name not in _ONEDNN_TYPES:
            raise RuntimeError("itensor_view_from_dense expects float/bfloat16/half/int8/fp8 "
                               f"tensor input{short_name(d)}")


def _product(a, b, scale_a, scale_b, bias):
    """(float32(a)·sa) @ (float32(b)·sb) + bias as a float32 array."""
    f32 = xp.dtype(xp.float32)
    sa = _dtype.cast_array(scale_a._data, f32)
    sb = _dtype.cast_array(scale_b._data, f32)
    if scale_a.numel() == 1:  # a number, as `item<float>()` reads it
        sa, sb = sa.reshape(()), sb.reshape(())
    wide_a = _dtype.cast_array(a._data, f32) * sa
    wide_b = _dtype.cast_array(b._data, f32) * sb
    y = xp.matmul(wide_a, wide_b)
    if bias is not None:
        y = y + _dtype.cast_array(bias._data, f32).reshape(-1)
    return y.astype(f32, copy=False)


def _finish(y, out_dtype, onednn):
    """The float32 result cast to out_dtype (oneDNN: float8 without saturation)."""
    if onednn and out_dtype.name in _FLOAT8:
        with xp.errstate(invalid="ignore", over="ignore"):
            return y.astype(out_dtype.numpy)  # ml_dtypes' cast: NaN / inf past the range
    return _dtype.cast_array(y, out_dtype.numpy)


class NoDerivative(Op):
    """y = the op's float32 result cast once; PyTorch defines no derivative, so backward raises
    its error (the node is PyTorch's `torch::autograd::NotImplemented`)."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, name, compute, *tensors):
        ctx.op_name = name
        return compute()

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError(f"derivative for aten::{ctx.op_name} is not implemented")


NoDerivative._backward_cls.name = lambda node: "torch::autograd::NotImplemented"


def _recorded(name, compute, tensors, out):
    """compute() as NoDerivative's output (in the graph when an input requires grad); into out."""
    result = NoDerivative.apply(name, compute, *[t for t in tensors if t is not None])
    return result if out is None else write_out(result, out)


@op
def _scaled_mm(input: Tensor, mat2: Tensor, scale_a: Tensor, scale_b: Tensor, bias=None,
               scale_result=None, out_dtype=None, use_fast_accum: bool = False, *,
               out=None) -> Tensor:
    """a @ b of float8 matrices with their scales, cast to out_dtype (matches
    `torch._scaled_mm` on the CPU; NOTE [PyTorch's two CPU paths for _scaled_mm])."""
    a, b = input, mat2
    target = _dtype.to_dtype(out_dtype) if out_dtype is not None else (
        out.dtype if out is not None else a.dtype)
    onednn = _uses_onednn(a, b, scale_a, scale_b)
    if out is not None and out_dtype is not None and out.dtype is not target:
        # oneDNN's kernel checks it with TORCH_CHECK, the emulation with TORCH_CHECK_VALUE
        raise (RuntimeError if onednn else ValueError)("out_dtype must match output matrix type")
    if not onednn:
        # the emulation reads a.size(0) and transposes b and scale_b before its matrix checks
        size_at(a, 0)
        for t in (b, scale_b):
            if t.dim() > 2:
                raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                                   f"{t.dim()}D")
        _scaling(a, b, scale_a, scale_b)  # the emulation checks the scales first
    _check_matrices(a, b, "mat1 and mat2" if onednn else "mat_a and mat_b")
    if scale_result is not None and (scale_result.numel() != 1
                                     or scale_result.dtype is not _dtype.float32):
        raise RuntimeError("scale_result must be a float scalar")
    if bias is not None and bias.numel() != b.shape[1]:
        raise RuntimeError(f"Bias must be size {b.shape[1]} but got {bias.numel()}")
    if onednn:
        _check_onednn(a, b, bias, target)
    # scale_result divides only when out_dtype names float8_e4m3fn or float8_e5m2 explicitly
    explicit = _dtype.to_dtype(out_dtype).name if out_dtype is not None else None
    divide = scale_result is not None and explicit in ("float8_e4m3fn", "float8_e5m2")

    def compute():
        y = _product(a, b, scale_a, scale_b, bias)
        if divide:
            y = y * (xp.float32(1.0) / scale_result._data.astype(xp.float32).reshape(()))
        return _finish(y, target, onednn)

    return _recorded("_scaled_mm", compute, (a, b, scale_a, scale_b, bias, scale_result), out)


@op
def _scaled_mm_v2(input: Tensor, mat2: Tensor, scale_a, recipe_a, swizzle_a, scale_b, recipe_b,
                  swizzle_b, bias=None, out_dtype=None, contraction_dim=(),
                  use_fast_accum: bool = False, *, out=None) -> Tensor:
    """a @ b of float8 matrices with scales given as lists with their ScalingType recipes
    (matches `torch._scaled_mm_v2` on the CPU: TensorWise or RowWise, no swizzle)."""
    a, b = input, mat2
    if a.dim() != 2:
        raise ValueError("mat_a must be a matrix")
    if b.dim() != 2:
        raise ValueError("mat_b must be a matrix")
    dims = tuple(contraction_dim) or (1, 0)
    if len(dims) != 2:
        raise ValueError("contraction_dim must have exactly 2 elements")
    if a.shape[dims[0]] != b.shape[dims[1]]:
        given = (f" with contraction dims mat_a: {dims[0]}, mat_b: {dims[1]}"
                 if contraction_dim else "")
        raise ValueError(f"mat_a and mat_b shapes cannot be multiplied "
                         f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]}){given}")
    if bias is not None and bias.numel() != b.shape[1]:
        raise ValueError(f"Bias must be size {b.shape[1]} but got {bias.numel()}")
    _check_matrices(a, b)  # the CPU kernel contracts a's columns with b's rows
    target = _dtype.to_dtype(out_dtype) if out_dtype is not None else a.dtype
    if min(a.shape[0], a.shape[1], b.shape[1]) == 0:
        result = Tensor._make(xp.zeros((a.shape[0], b.shape[1]), dtype=target.numpy))
        return result if out is None else write_out(result, out)
    if bias is not None and bias.dtype.name not in ("float32", "bfloat16", "float16"):
        raise ValueError(f"Bias must be Float32 or BFloat16 or Half, but got "
                         f"{short_name(bias.dtype)}")
    swizzles = [int(s) for s in swizzle_a][:1] + [int(s) for s in swizzle_b][:1]
    if len(swizzles) == 2 and any(swizzles):
        raise ValueError("CPU does not support swizzle.")
    recipes = [int(r) for r in recipe_a], [int(r) for r in recipe_b]
    scales = list(scale_a), list(scale_b)
    if not len(recipes[0]) == len(recipes[1]) == len(scales[0]) == len(scales[1]) == 1:
        raise ValueError("Invalid scaling configuration: one scale and recipe per matrix")
    kind = _scaling(a, b, scales[0][0], scales[1][0])
    if recipes[0] != recipes[1] or _SCALING.get(recipes[0][0]) != kind:
        raise ValueError(f"Invalid scaling configuration: the scales are {kind}, the recipes "
                         f"{recipes[0]} and {recipes[1]}")
    def compute():
        return _finish(_product(a, b, scales[0][0], scales[1][0], bias), target, False)

    return _recorded("_scaled_mm_v2", compute, (a, b, scales[0][0], scales[1][0], bias), out)


def _as_list(value) -> list:
    """A single value as a one-item list; None as []; lists and tuples as they are."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def scaled_mm(mat_a: Tensor, mat_b: Tensor, scale_a, scale_recipe_a, scale_b, scale_recipe_b,
              swizzle_a=None, swizzle_b=None, bias=None, output_dtype=_dtype.bfloat16,
              contraction_dim=(), use_fast_accum: bool = False) -> Tensor:
    """mat_a @ mat_b with the scales their recipes describe, as `output_dtype` (bfloat16 by
    default) (matches `torch.nn.functional.scaled_mm`: single values or lists)."""
    return _scaled_mm_v2(mat_a, mat_b, _as_list(scale_a), [int(r) for r in _as_list(
        scale_recipe_a)], [int(s) for s in _as_list(swizzle_a)], _as_list(scale_b),
        [int(r) for r in _as_list(scale_recipe_b)], [int(s) for s in _as_list(swizzle_b)],
        bias, output_dtype, contraction_dim, use_fast_accum)
