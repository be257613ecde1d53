"""Binary arithmetic (+ - * / // % ** lerp) with broadcasting, and its operators.

Each binary op promotes its operands with PyTorch's rules (`_util.binary_operands`) before
NumPy sees them, so NumPy never picks a dtype. Backward sums each gradient back to its input's
shape (`sum_to`), which undoes broadcasting.
"""

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import as_operand, binary_operands, broadcast_error
from ember.ops.broadcast import sum_to
from ember.ops.comparison import where
from ember.ops.unary import log, trunc


def _apply_binary(op_class, a, b, *extra):
    """Promote, then apply; NumPy's broadcasting ValueError becomes PyTorch's RuntimeError."""
    a, b = binary_operands(a, b)
    try:
        return op_class.apply(a, b, *extra)
    except ValueError:
        if a._data.ndim and b._data.ndim:
            try:
                xp.broadcast_shapes(a._data.shape, b._data.shape)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
        raise


class Add(Op):
    """y = a + alpha·b;  ga = gy,  gb = alpha·gy (each summed back to its input's shape)."""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            scale = get_array_module(b._data).asarray(alpha, dtype=b._data.dtype)
            return a._data + b._data * scale
        return a._data + b._data

    @staticmethod
    def backward(ctx, gy):
        ga = sum_to(gy, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(gy if ctx.alpha == 1 else gy * ctx.alpha, ctx._input_meta[1][0])
        return ga, gb


class Sub(Op):
    """y = a - alpha·b;  ga = gy,  gb = -alpha·gy."""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            scale = get_array_module(b._data).asarray(alpha, dtype=b._data.dtype)
            return a._data - b._data * scale
        return a._data - b._data

    @staticmethod
    def backward(ctx, gy):
        ga = sum_to(gy, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(gy * -ctx.alpha, ctx._input_meta[1][0]) if ctx.needs_input_grad[1] else None
        return ga, gb


class Mul(Op):
    """y = a·b;  ga = gy·b,  gb = gy·a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return a._data * b._data

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(gy * b, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(gy * a, ctx._input_meta[1][0]) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    """y = a / b;  ga = gy / b,  gb = -gy·a / b²."""

    @staticmethod
    def forward(ctx, a, b, rounding_mode=None):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        with quiet():
            return a._data / b._data

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(gy / b, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(-gy * a / (b * b), ctx._input_meta[1][0]) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Op):
    """y = a ** b;  ga = gy·b·a^(b-1),  gb = gy·y·log(a) (taken as 0 where a = 0 and b >= 0)."""

    @staticmethod
    def forward(ctx, a, b):
        y = Tensor._make(_power(a._data, b._data))
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # NOTE [pow at b = 0]: PyTorch gives 0 (not nan) for d(a**0)/da, even at a = 0.
            local = where_nonzero(b, b * pow(a, b - 1))
            ga = sum_to(gy * local, a._data.shape)
        if ctx.needs_input_grad[1]:
            # d(a**b)/db = a**b·log a; at a = 0 with b >= 0 PyTorch takes the limit 0.
            mask = Tensor._make((a._data == 0) & (b._data >= 0))
            gb = sum_to(gy * masked_zero(y * log(a), mask), b._data.shape)
        return ga, gb


def _power(a, b):
    """a ** b; integers to negative integer powers give 1, ±1 or 0 (truncated), as in PyTorch."""
    if a.dtype.kind not in "iu" or not xp.any(b < 0):
        with quiet():
            return xp.power(a, b)
    y = xp.power(a, xp.maximum(b, 0))
    negative_one = xp.where(b % 2 == 0, 1, -1).astype(a.dtype)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, negative_one, 0)).astype(a.dtype)
    return xp.where(b < 0, inverse, y)


def where_nonzero(condition_source: Tensor, value: Tensor) -> Tensor:
    """value where condition_source != 0, else 0 (the mask is a constant)."""
    return where(Tensor._make(condition_source._data != 0), value, 0.0)


def masked_zero(value: Tensor, mask: Tensor) -> Tensor:
    """value with the entries under `mask` set to 0 (differentiable in value)."""
    return where(mask, 0.0, value)


@op(method=True, inplace=True, operators=("__add__", "__radd__"), inplace_operators=("__iadd__",),
    out=True)
def add(input, other, *, alpha=1):
    """input + alpha·other with broadcasting (matches `torch.add`)."""
    return _apply_binary(Add, input, other, alpha)


@op(method=True, inplace=True, aliases=("subtract",), operators=("__sub__",),
    reflected=("__rsub__",), inplace_operators=("__isub__",), out=True)
def sub(input, other, *, alpha=1):
    """input - alpha·other (matches `torch.sub`)."""
    a, b = binary_operands(input, other)
    if a.dtype is _dtype.bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead.")
    return _apply_binary(Sub, a, b, alpha)


@op(method=True, inplace=True, aliases=("multiply",), operators=("__mul__", "__rmul__"),
    inplace_operators=("__imul__",), out=True)
def mul(input, other):
    """input · other (matches `torch.mul`)."""
    return _apply_binary(Mul, input, other)


@op(method=True, inplace=True, aliases=("divide",), operators=("__truediv__",),
    reflected=("__rtruediv__",), inplace_operators=("__itruediv__",), out=True)
def div(input, other, *, rounding_mode=None):
    """input / other: true division gives a float even for integers (matches `torch.div`)."""
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        result = _apply_binary(Div, *_float_operands(input, other))
        target = _dtype.result_type(*_tensors(input, other))
        return trunc(result).to(target) if not target.is_floating_point else trunc(result)
    return _apply_binary(Div, *_float_operands(input, other))


def _tensors(*values):
    return tuple(Tensor._make(v) if isinstance(v, xp.ndarray) else v for v in values)


def _float_operands(a, b):
    """True division promotes integer operands to the default float dtype."""
    dtype = _dtype.result_type(*_tensors(a, b))
    if not dtype.is_floating_point:
        dtype = _dtype.get_default_dtype()
    a, b = _tensors(a, b)
    return as_operand(a, dtype), as_operand(b, dtype)


@op(method=True)
def true_divide(input, other):
    return div(input, other)


class FloorDivide(Op):
    """y = floor(a / b), computed exactly as Python's // is;  ga = gb = 0 (a step function)."""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b):
        return xp.floor_divide(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        zero = gy * 0
        return tuple(sum_to(zero, meta[0]) if meta is not None else None
                     for meta in ctx._input_meta)


@op(method=True, inplace=True, operators=("__floordiv__",), reflected=("__rfloordiv__",),
    inplace_operators=("__ifloordiv__",))
def floor_divide(input, other):
    """Division rounded toward -inf (matches `torch.floor_divide`); its gradient is zero."""
    a, b = binary_operands(*_tensors(input, other))
    if not a.dtype.is_floating_point and xp.any(b._data == 0):
        raise RuntimeError("ZeroDivisionError")
    return _apply_binary(FloorDivide, a, b)


class Remainder(Op):
    """y = a - floor(a / b)·b (sign of b, like Python's %);  ga = gy,  gb = -gy·floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        with quiet():
            return xp.remainder(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(gy, a._data.shape) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            quotient = Tensor._make(xp.floor_divide(a._data, b._data))
            gb = sum_to(-gy * quotient, b._data.shape)
        return ga, gb


@op(method=True, inplace=True, operators=("__mod__",), reflected=("__rmod__",),
    inplace_operators=("__imod__",))
def remainder(input, other):
    """Python-style modulus, sign of the divisor (matches `torch.remainder`)."""
    a, b = binary_operands(*_tensors(input, other))
    if not a.dtype.is_floating_point and xp.any(b._data == 0):
        raise RuntimeError("ZeroDivisionError")
    return _apply_binary(Remainder, a, b)


@op(method=True, inplace=True)
def fmod(input, other):
    """C-style modulus, sign of the dividend (matches `torch.fmod`)."""
    a, b = binary_operands(*_tensors(input, other))
    return a - b * Tensor._make(xp.trunc(a._data / b._data).astype(a._data.dtype))


@op(method=True, inplace=True, operators=("__pow__",), reflected=("__rpow__",),
    inplace_operators=("__ipow__",))
def pow(input, exponent):
    """input ** exponent (matches `torch.pow`)."""
    a, b = _tensors(input, exponent)
    if not isinstance(a, Tensor):
        a = as_operand(a, _dtype.result_type(a, b))
    dtype = _dtype.result_type(a, b)
    # Only a Python-scalar exponent is refused; tensor exponents truncate (see _power).
    if (not dtype.is_floating_point and dtype is not _dtype.bool and not isinstance(b, Tensor)
            and xp.any(xp.asarray(b) < 0)):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _apply_binary(Pow, a, b)


@op(method=True)
def float_power(input, exponent):
    """input ** exponent in float64 (matches `torch.float_power`)."""
    exponent = exponent if not isinstance(exponent, Tensor) else as_operand(exponent,
                                                                            _dtype.float64)
    return pow(as_operand(input, _dtype.float64), exponent)


@op
def rsub(input, other, *, alpha=1):
    """other - alpha·input (matches `torch.rsub`)."""
    return sub(other, input, alpha=alpha)


class Lerp(Op):
    """y = a + w·(b - a);  ga = gy·(1 - w),  gb = gy·w,  gw = gy·(b - a)."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        return a._data + w._data * (b._data - a._data)

    @staticmethod
    def backward(ctx, gy):
        a, b, w = ctx.saved_tensors
        ga = sum_to(gy * (1 - w), a._data.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(gy * w, b._data.shape) if ctx.needs_input_grad[1] else None
        gw = sum_to(gy * (b - a), w._data.shape) if ctx.needs_input_grad[2] else None
        return ga, gb, gw


@op(method=True, inplace=True)
def lerp(input, end, weight):
    """Linear interpolation input + weight·(end - input) (matches `torch.lerp`)."""
    a, b = binary_operands(input, end)
    w = as_operand(weight, a.dtype)
    return Lerp.apply(a, b, w)
