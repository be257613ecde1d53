"""Binary arithmetic (+ - * / // % ** lerp) with broadcasting, and its operators.

Each binary op promotes its operands with PyTorch's rules (`_util.binary_operands`) before
NumPy sees them, so NumPy never picks a dtype. Backward sums each gradient back to its input's
shape (`sum_to`), which undoes broadcasting.
"""

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op, tensor_method
from ember._rng.mathfun import fma64
from ember._tensor import Tensor, short_name
from ember.autograd.array_recording import RECORDED, UNRECORDED, array_call, record_binary
from ember.autograd.function import Op, array_result, unrecorded
from ember import _in_place
from ember._in_place import _ACTIVE as _IN_PLACE_ACTIVE
from ember.ops._opmath import fused_add32, is_half, widen
from ember.ops._reduced_scalar import ScalarDiv, ScalarMul, opmath_scalar
from ember.ops._util import alpha_check, as_operand, binary_operands, broadcast_error
from ember.ops._wirtinger import chain, conj, conj_scalar
from ember.ops.broadcast import sum_to
from ember.ops.comparison import zero_gradient
from ember.ops.conversion import first_operand_layout
from ember.ops import modulo_kernels


def apply_binary(op_class, a, b, *extra):
    """Promote, then apply; NumPy's broadcasting ValueError becomes PyTorch's RuntimeError."""
    # two plain tensors of one dtype (the common case) need no promotion
    if type(a) is not Tensor or type(b) is not Tensor or a._data.dtype is not b._data.dtype:
        a, b = binary_operands(a, b)
    try:
        mode = array_call(a, b) if op_class.array_forward is not None and not extra else 0
        if mode is UNRECORDED or mode is RECORDED and not _IN_PLACE_ACTIVE[0]:
            if _IN_PLACE_ACTIVE[0] and op_class in _WRITES_IN_PLACE:  # x += y, no grad
                return array_result(_in_place.binary(op_class.array_forward, a._data, b._data))
            out = array_result(op_class.array_forward(a._data, b._data))
            if mode is RECORDED:  # NOTE [Recording from arrays]
                record_binary(op_class, a, b, out, op_class.saves_operands)
            # (inlined test: the common contiguous case costs no call)
            return out if a._data.flags.c_contiguous else first_operand_layout(out, a._data)
        out = op_class.apply(a, b, *extra)
        return out if a._data.flags.c_contiguous else first_operand_layout(out, a._data)
    except ValueError:
        if a._data.ndim and b._data.ndim:
            try:
                xp.broadcast_shapes(a._data.shape, b._data.shape)
            except ValueError:
                raise broadcast_error(a._data.shape, b._data.shape) from None
        raise


class Add(Op):
    """y = a + alpha·b;  ga = gy,  gb = conj(alpha)·gy (each summed back to its input's shape)."""

    array_forward = xp.add  # (with the default alpha)
    _node_defaults = {"alpha": 1}  # (what record_binary leaves unset: NOTE [Recording ...])

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            scale = get_array_module(b._data).asarray(alpha, dtype=b._data.dtype)
            if is_half(b._data.dtype):
                return _scaled_in_float32(xp.add, a._data, b._data, scale)
            if a._data.dtype == b._data.dtype == xp.float32:
                return _fused_float32(a._data, b._data, alpha)
            return _in_place.binary(xp.add, a._data, b._data * scale)
        if _IN_PLACE_ACTIVE[0]:  # (an x += y is running)
            return _in_place.binary(xp.add, a._data, b._data)
        return a._data + b._data

    @staticmethod
    def backward(ctx, gy):
        ga = sum_to(gy, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            scale = conj_scalar(ctx.alpha)
            gb = sum_to(gy if ctx.alpha == 1 else gy * scale, ctx._input_meta[1][0])
        return ga, gb


class Sub(Op):
    """y = a - alpha·b;  ga = gy,  gb = -conj(alpha)·gy."""

    array_forward = xp.subtract  # (with the default alpha)
    _node_defaults = {"alpha": 1}

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1:
            scale = get_array_module(b._data).asarray(alpha, dtype=b._data.dtype)
            if is_half(b._data.dtype):
                return _scaled_in_float32(xp.subtract, a._data, b._data, scale)
            if a._data.dtype == b._data.dtype == xp.float32:
                return _fused_float32(a._data, b._data, -alpha)
            return _in_place.binary(xp.subtract, a._data, b._data * scale)
        if _IN_PLACE_ACTIVE[0]:  # (an x -= y is running)
            return _in_place.binary(xp.subtract, a._data, b._data)
        return a._data - b._data

    @staticmethod
    def backward(ctx, gy):
        ga = sum_to(gy, ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(gy * -conj_scalar(ctx.alpha), ctx._input_meta[1][0])
        return ga, gb


def _scaled_in_float32(fn, a, b, scale):
    """fn(a, b·scale) for 16-bit floats, in float32 and rounded once (NOTE [opmath]); scale is
    alpha rounded to b's dtype, as PyTorch's vectorized loop has it (its scalar loop, for the
    last few elements of an array, reads alpha unrounded: an ulp apart there, now and then)."""
    return fn(widen(a), widen(b) * widen(scale)).astype(xp.result_type(a, b))


def _fused_float32(a, b, alpha):
    """a + alpha·b for float32 arrays as PyTorch computes it, one fused multiply-add
    (`fused_add32`), written into a when a is an in-place op's target (x.add_(y, alpha=...))."""
    fits = b.shape == a.shape and (b is a or not xp.may_share_memory(a, b))
    return fused_add32(a, b, alpha, out=_in_place.target_for(a) if fits else None)


# NOTE [Writing in place]: add_ and sub_ (x += y) write into x (ember/_in_place.py)
_WRITES_IN_PLACE = (Add, Sub)


class Mul(Op):
    """y = a·b;  ga = gy·conj(b),  gb = gy·conj(a)."""

    array_forward = xp.multiply
    saves_operands = True  # (each input's gradient needs the other: record_binary saves them)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None,
                              b if ctx.needs_input_grad[0] else None)
        return a._data * b._data

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(chain(gy, b), ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(chain(gy, a), ctx._input_meta[1][0]) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    """y = a / b;  ga = gy / conj(b),  gb = -gy·conj((a / b) / b) (PyTorch's order: no b²
    to underflow)."""

    @staticmethod
    def forward(ctx, a, b, rounding_mode=None):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        with quiet():
            return a._data / b._data

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(gy / conj(b), ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(-gy * conj(a / b / b), ctx._input_meta[1][0])
        return ga, gb


@op(method=True, inplace=True, operators=("__add__",), inplace_operators=("__iadd__",), out=True,
    writes_in_place=True)
def add(input, other, *, alpha=1):
    """input + alpha·other with broadcasting (matches `torch.add`)."""
    if type(alpha) is int and alpha == 1:  # the default: no check, a shorter apply
        return apply_binary(Add, input, other)
    a, b = binary_operands(input, other)
    _check_alpha(a.dtype, alpha)
    return apply_binary(Add, a, b, alpha)


def _check_alpha(dtype, alpha):
    """torch's alpha_check for add and sub: alpha must fit the result's kind (bool, integral,
    real); a complex alpha is refused for a real result outright."""
    alpha_check(alpha, dtype)
    if not dtype.is_complex and isinstance(alpha, complex):
        raise RuntimeError(
            "For non-complex input tensors, argument alpha must not be a complex number.")


@op(method=True, inplace=True, aliases=("subtract",), operators=("__sub__",),
    inplace_operators=("__isub__",), out=True, writes_in_place=True)
def sub(input, other, *, alpha=1):
    """input - alpha·other (matches `torch.sub`)."""
    a, b = binary_operands(input, other)
    if a.dtype is _dtype.bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead.")
    if any(type(t) is bool or isinstance(t, Tensor) and t.dtype is _dtype.bool
           for t in (input, other)):  # a Python bool counts as a bool tensor here
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    _check_alpha(a.dtype, alpha)
    if type(alpha) is int and alpha == 1:  # the default: Sub's array forward applies
        return apply_binary(Sub, a, b)
    return apply_binary(Sub, a, b, alpha)


@op(method=True, inplace=True, aliases=("multiply",), operators=("__mul__",),
    inplace_operators=("__imul__",), out=True)
def mul(input, other):
    """input · other (matches `torch.mul`)."""
    scalar = opmath_scalar(input, other)  # NOTE [Reduced-precision tensor and a scalar]
    if scalar is not None:
        return ScalarMul.apply(input, scalar)
    return apply_binary(Mul, input, other)


@op(method=True, inplace=True, aliases=("divide",), operators=("__truediv__", "__div__"),
    inplace_operators=("__itruediv__", "__idiv__"), out=True)
def div(input, other, *, rounding_mode=None):
    """input / other: true division gives a float even for integers (matches `torch.div`)."""
    if rounding_mode in ("floor", "trunc"):  # (DivBackward2: a zero gradient)
        return _floor_divide(FloorDivide, input, other, *(("trunc",) if rounding_mode == "trunc"
                                                          else ()))
    if rounding_mode is not None:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    scalar = opmath_scalar(input, other)  # NOTE [Reduced-precision tensor and a scalar]
    if scalar is not None:
        return ScalarDiv.apply(input, scalar)
    return apply_binary(Div, *_float_operands(input, other))


# NOTE [Reflected operators check self]: `2 + t` calls `t.__radd__(2)`; called unbound with a
# number for self (`Tensor.__radd__(2, t)`), PyTorch raises (TypeError, or AttributeError for
# `__rtruediv__`, which it writes in Python), so these check self.
def _reflected_self(name, self):
    if not isinstance(self, Tensor):
        raise TypeError(f"descriptor '{name}' requires a 'torch._C.TensorBase' object but "
                        f"received a '{type(self).__name__}'")


@tensor_method("__radd__")
def tensor_radd(self, other):
    """other + self (matches `Tensor.__radd__`)."""
    _reflected_self("__radd__", self)
    return add(self, other)


@tensor_method("__rmul__")
def tensor_rmul(self, other):
    """other · self (matches `Tensor.__rmul__`)."""
    _reflected_self("__rmul__", self)
    return mul(self, other)


@tensor_method("__rtruediv__", "__rdiv__")
def tensor_rtruediv(self, other):
    """other / self (matches `Tensor.__rtruediv__`)."""
    if not isinstance(self, Tensor):
        raise AttributeError(f"'{type(self).__name__}' object has no attribute 'reciprocal'")
    # PyTorch's own definition (torch/_tensor.py): it rounds 1/self before the product, so
    # `0.3 / t` differs from `t.new_full(t.shape, 0.3) / t` in the last bit about a quarter
    # of the time; and its graph is MulBackward0 over ReciprocalBackward0
    return self.reciprocal() * other


def _require_a_tensor(name, a, b):
    """PyTorch's TypeError for two Python numbers (`torch.pow(2, 3)`)."""
    if not isinstance(a, (Tensor, xp.ndarray)) and not isinstance(b, (Tensor, xp.ndarray)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(a).__name__}, {type(b).__name__})")


def _require_tensor_input(name, a, b):
    """PyTorch's TypeError for a Python number as the first operand (`torch.fmod(2, t)`)."""
    if not isinstance(a, (Tensor, xp.ndarray)):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(a).__name__}, {type(b).__name__})")


def _tensors(*values):
    return tuple(Tensor._make(v) if isinstance(v, xp.ndarray) else v for v in values)


def _float_operands(a, b):
    """True division promotes integer operands to the default float dtype."""
    dtype = _dtype.result_type(*_tensors(a, b))
    if not (dtype.is_floating_point or dtype.is_complex):
        dtype = _dtype.get_default_dtype()
    a, b = _tensors(a, b)
    return as_operand(a, dtype), as_operand(b, dtype)


@op(method=True, inplace=True, out=True)
def true_divide(input, other):
    """input / other, always true division (matches `torch.true_divide`)."""
    return div(input, other)


class FloorDivide(Op):
    """y = floor(a / b), computed exactly as Python's // is, or trunc(a / b) (rounding toward
    zero);  ga = gb = 0 (a step function)."""

    node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, mode="floor"):
        if a._data.dtype != b._data.dtype or is_half(a._data.dtype):
            # float16/bfloat16 (by a float32 scalar or not): in float32, rounded once
            return _scalar_floor_divide(a._data, widen(b._data), mode)
        with quiet():
            quotient = xp.floor_divide(a._data, b._data)
        if mode == "floor":
            return quotient
        if a._data.dtype.kind == "f":
            with quiet():
                return xp.trunc(a._data / b._data)
        # Integers: floor and trunc differ by one where the exact quotient is negative and
        # not whole.
        inexact = (quotient < 0) & (quotient * b._data != a._data)
        return quotient + inexact.astype(quotient.dtype)

    @staticmethod
    def backward(ctx, gy):
        zero = zero_gradient(gy)
        return tuple(sum_to(zero, meta[0]) if meta is not None else None
                     for meta in ctx._input_meta)


def _scalar_floor_divide(a, s, mode):
    """a // s or trunc(a / s) in float32, rounded once to a's dtype (NOTE [Reduced-precision
    tensor and a scalar])."""
    with quiet():
        wide = a.astype(xp.float32)
        quotient = xp.floor_divide(wide, s) if mode == "floor" else xp.trunc(wide / s)
    return quotient.astype(a.dtype)


class FloorDivideNoDerivative(FloorDivide):
    """FloorDivide as `torch.floor_divide` and `//` record it: PyTorch defines no derivative,
    so backward raises its error (the node is its `torch::autograd::NotImplemented`)."""

    node_name = "NotImplemented"

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


FloorDivideNoDerivative._backward_cls.name = lambda node: "torch::autograd::NotImplemented"


@op(method=True, inplace=True, operators=("__floordiv__",), reflected=("__rfloordiv__",),
    inplace_operators=("__ifloordiv__",), out=True)
def floor_divide(input, other):
    """Division rounded toward -inf (matches `torch.floor_divide`); like PyTorch's, it has no
    derivative (backward raises)."""
    return _floor_divide(FloorDivideNoDerivative, input, other)


def _floor_divide(op_class, input, other, *mode):
    """input // other (or trunc(input / other), mode "trunc") recorded as op_class."""
    scalar = opmath_scalar(input, other)  # NOTE [Reduced-precision tensor and a scalar]
    if scalar is not None:
        return op_class.apply(input, Tensor._make(scalar), *mode)
    a, b = binary_operands(*_tensors(input, other))
    _check_integer_division(a, b, "div_floor_cpu" if not mode else "div_trunc_cpu")
    return apply_binary(op_class, a, b, *mode)


class Remainder(Op):
    """y = a - floor(a / b)·b (sign of b, like Python's %; a zero keeps a's sign, as PyTorch's);
    ga = gy,  gb = -gy·floor(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.dtype.is_floating_point and b._data.dtype == a._data.dtype:
            return modulo_kernels.remainder(a._data, b._data)
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
    inplace_operators=("__imod__",), out=True)
def remainder(input, other):
    """Python-style modulus, sign of the divisor (matches `torch.remainder`)."""
    _require_a_tensor("remainder", input, other)
    a, b = binary_operands(*_tensors(input, other))
    _check_integer_division(a, b, "remainder_cpu")
    return apply_binary(Remainder, a, b)


class Fmod(Op):
    """y = a - trunc(a / b)·b (C's fmod, sign of a);  ga = gy,  gb = -gy·trunc(a / b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return modulo_kernels.fmod(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        ga = sum_to(gy, a._data.shape) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            with quiet():
                quotient = Tensor._make(xp.trunc(a._data / b._data))
            gb = sum_to(-gy * quotient, b._data.shape)
        return ga, gb


def _check_integer_division(a, b, kernel):
    """torch's integer-division errors: no bool kernel; a zero divisor (if anything is divided)."""
    if a.dtype is _dtype.bool or a.dtype.is_complex:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(a.dtype)}\'')
    if not a.dtype.is_floating_point and a._data.size and b._data.size and xp.any(b._data == 0):
        raise RuntimeError("ZeroDivisionError")


@op(method=True, inplace=True, out=True)
def fmod(input, other):
    """C-style modulus, sign of the dividend (matches `torch.fmod`)."""
    _require_tensor_input("fmod", input, other)
    a, b = binary_operands(*_tensors(input, other))
    _check_integer_division(a, b, "fmod_cpu")
    return apply_binary(Fmod, a, b)


class Rsub(Op):
    """y = b - alpha·a (torch.rsub of two tensors);  ga = -conj(alpha)·gy,  gb = gy."""

    node_name = "RsubBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        return Sub.forward(ctx, b, a, alpha)

    @staticmethod
    def backward(ctx, gy):
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to(gy * -conj_scalar(ctx.alpha), ctx._input_meta[0][0])
        if ctx.needs_input_grad[1]:
            gb = sum_to(gy, ctx._input_meta[1][0])
        return ga, gb


class RsubScalar(Op):
    """y = s - alpha·a for a number s (rsub.Scalar: `2 - x`, a node with one input);
    ga = -conj(alpha)·gy."""

    node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, a, s, alpha=1):
        return Sub.forward(ctx, Tensor._make(s), a, alpha)  # (s: the number as a 0-d array)

    @staticmethod
    def backward(ctx, gy):
        return gy * -conj_scalar(ctx.alpha), None


@op
def rsub(input, other, *, alpha=1):
    """other - alpha·input (matches `torch.rsub`, and its nodes RsubBackward0 / 1)."""
    _require_tensor_input("rsub", input, other)
    recorded = isinstance(input, Tensor) and not unrecorded(
        input, other if isinstance(other, Tensor) else None)
    if not recorded or type(other) is bool:  # (sub has the value, and torch's bool errors)
        return sub(other, input, alpha=alpha)
    a, b = binary_operands(input, other)
    _check_alpha(a.dtype, alpha)
    if isinstance(other, Tensor):
        return apply_binary(Rsub, a, b, alpha)
    return RsubScalar.apply(a, b._data, alpha)


@tensor_method("__rsub__")
def tensor_rsub(self, other):
    """`other - self` for a number other: torch's rsub (node RsubBackward1)."""
    return rsub(self, other)


class Lerp(Op):
    """y = a + w·(b - a);  ga = gy·conj(1 - w),  gb = gy·conj(w),  gw = gy·conj(b - a)."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        return _lerp(a._data, b._data, w._data)

    @staticmethod
    def backward(ctx, gy):
        a, b, w = ctx.saved_tensors
        ga = sum_to(chain(gy, 1 - w), a._data.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(chain(gy, w), b._data.shape) if ctx.needs_input_grad[1] else None
        gw = sum_to(chain(gy, b - a), w._data.shape) if ctx.needs_input_grad[2] else None
        return ga, gb, gw


class LerpTensor(Lerp):
    """Lerp with a tensor weight: PyTorch's lerp.Tensor overload, whose node is LerpBackward1."""

    node_name = "LerpBackward1"


def _lerp(a, b, w):
    """PyTorch's lerp kernel: from the nearer end, fma(w, b - a, a) for |w| < 1/2, else
    fma(w - 1, b - a, b) (exact at w = 1; no inf - inf from the far end). float32 products
    are exact in float64, so one float64 multiply-add rounded once is the FMA (float64:
    `fma64`, an exact emulation)."""
    if is_half(a.dtype):  # 16-bit floats in float32, rounded once (NOTE [opmath])
        return _lerp(widen(a), widen(b), widen(w)).astype(a.dtype)
    with quiet():
        difference = b - a
        small = abs(w) < 0.5
        coefficient, base = (w, a) if small.all() else \
            (xp.where(small, w, w - 1), xp.where(small, a, b))
        if difference.dtype == xp.float32:
            wide = xp.multiply(coefficient, difference, dtype=xp.float64)
            return (wide + base).astype(xp.float32)
        plain = coefficient * difference + base
        if difference.dtype == xp.float64:  # (Dekker's splits turn an inf into NaN)
            fused = fma64(coefficient, difference, base)
            return xp.where(xp.isfinite(fused), fused, plain)
        return plain


@op(method=True, inplace=True, out=True)
def lerp(input, end, weight):
    """Linear interpolation input + weight·(end - input) (matches `torch.lerp`)."""
    _require_tensor_input("lerp", input, end)
    _check_lerp_dtypes(input, end, weight)
    a, b = binary_operands(input, end)
    weight = _dtype.check_complex_fits(weight, a.dtype)
    if isinstance(weight, Tensor) and weight.ndim == 0 and a.ndim == 0 and b.ndim == 0:
        # all three 0-d: the weight takes part in type promotion (float32, float32, float64 ->
        # float64), as torch's TensorIterator promotes operands of one tier
        dtype = _dtype.result_type(a, b, weight)
        a, b = a.to(dtype), b.to(dtype)
    w = as_operand(weight, a.dtype)
    if is_half(a.dtype) and not isinstance(weight, Tensor):  # PyTorch reads it as a float
        w = Tensor._make(xp.asarray(weight, dtype=xp.float32))
    return (LerpTensor if isinstance(weight, Tensor) else Lerp).apply(a, b, w)


def _check_lerp_dtypes(input, end, weight):
    """PyTorch's lerp takes floats (or complex) of one dtype (a 0-d weight tensor or a number may
    differ)."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(input.dtype)}\'')
    named = [("end", end)]
    if isinstance(weight, Tensor) and weight.ndim:
        named.append(("weight", weight))
    for name, tensor in named:
        if isinstance(tensor, Tensor) and tensor.dtype is not input.dtype:
            raise RuntimeError(f"expected dtype {_scalar_word(input.dtype)} for `{name}` "
                               f"but got dtype {_scalar_word(tensor.dtype)}")


def _scalar_word(dtype) -> str:
    """A dtype as PyTorch's C++ scalar type prints it: 'float', 'c10::complex<double>'."""
    if dtype.is_complex:
        return f"c10::complex<{short_name(dtype.to_real()).lower()}>"
    return short_name(dtype).lower()
