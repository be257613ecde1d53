"""pow and float_power: a tensor to a tensor power, a tensor to a number's power and a number to
a tensor power, each with its PyTorch node (NOTE [pow's nodes]); the arrays are computed by
ember/ops/_powers.py as PyTorch's CPU kernels compute them."""

from ember import _dtype
from ember._backend import quiet, xp
from ember._registry import op, tensor_method
from ember.ops._out_rules import float_power_out
from ember._tensor import Tensor, short_name
from ember.autograd._shown_graph import tensor_slots
from ember.autograd.function import Op, array_result
from ember.ops._powers import power_arrays
from ember.ops._scalar_ops import ScaledBy
from ember.ops._util import as_operand
from ember.ops._wirtinger import chain
from ember.ops.broadcast import sum_to
from ember.ops.comparison import where
from ember.ops.elementwise import _require_a_tensor, _tensors, apply_binary
from ember.ops.unary import log


class Pow(Op):
    """y = a ** b;  ga = gy·conj(b·a^(b-1)),  gb = gy·conj(y·log(a)) (taken as 0 where a = 0 and
    Re b >= 0)."""

    node_name = "PowBackward1"  # a tensor to a tensor power (PowBackward0/2: NOTE [pow's nodes])

    @staticmethod
    def forward(ctx, a, b):
        y = array_result(power_arrays(a._data, b._data))
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # NOTE [pow at b = 0]: PyTorch gives 0 (not nan) for d(a**0)/da, even at a = 0.
            with quiet():  # 0·inf where b = 0 and a = 0, masked out just below
                ga = sum_to(where_nonzero(b, chain(gy, b * pow(a, b - 1))), a._data.shape)
            # (masked after the product, as PyTorch's where: an inf gy gives 0 there, not NaN)
        if ctx.needs_input_grad[1]:
            # d(a**b)/db = a**b·log a; at a = 0 with b >= 0 PyTorch takes the limit 0.
            mask = Tensor._make((a._data == 0) & (b._data.real >= 0))
            with quiet():  # 0·log 0, masked out
                gb = sum_to(chain(gy, masked_zero(y * log(a), mask)), b._data.shape)
        return ga, gb


# NOTE [pow's nodes]
# PyTorch's pow has three overloads, each with its node and its backward formula: a tensor to a
# tensor power (PowBackward1, masked by where), a tensor to a number's power (PowBackward0:
# gy·(b·a^(b-1)), zeros for b = 0) and a number to a tensor power (PowBackward2: gy·(y·log a)).
# The formulas show in the grad_fn of a gradient taken with create_graph=True.
class PowScalar(Pow):
    """y = a ** b for a number b;  ga = gy·conj(b·a^(b-1)) (0 for b = 0)."""

    node_name = "PowBackward0"
    torch_edges = tensor_slots(0, 1)  # (the exponent is no input of PyTorch's node)

    @staticmethod
    def forward(ctx, a, b, exponent):
        ctx._saved_exponent = exponent  # (the number, as PyTorch's node shows it)
        return Pow.forward(ctx, a, b)

    @staticmethod
    def backward(ctx, gy):
        a, b, _ = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None, None
        if not xp.any(b._data):
            return Tensor._make(xp.zeros_like(a._data)), None, None
        exponent = ctx._saved_exponent
        return chain(gy, ScaledBy.apply(pow(a, exponent - 1), exponent)), None, None


class PowScalarBase(Pow):
    """y = a ** b for a number a;  gb = gy·conj(y·log a) (0 where a = 0 and Re b >= 0)."""

    node_name = "PowBackward2"
    torch_edges = tensor_slots(1, 1)  # (the base is no input of PyTorch's node)

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        if not ctx.needs_input_grad[1]:
            return None, None
        with quiet():  # log of a zero or negative base: -inf or nan, as in PyTorch
            derivative = ScaledBy.apply(y, xp.log(a._data.item()).item())
        if not xp.any(a._data):  # 0 ** b: 0·log 0 taken as 0 where Re b >= 0
            derivative = masked_zero(derivative, Tensor._make(b._data.real >= 0))
        return None, chain(gy, derivative)


def where_nonzero(condition_source: Tensor, value: Tensor) -> Tensor:
    """value where condition_source != 0, else 0 (the mask is a constant; PyTorch's
    where(b == 0, 0, value), whose node lists the 0 first)."""
    return where(Tensor._make(condition_source._data == 0), 0.0, value)


def masked_zero(value: Tensor, mask: Tensor) -> Tensor:
    """value with the entries under `mask` set to 0 (differentiable in value)."""
    return where(mask, 0.0, value)


@op(method=True, inplace=True, operators=("__pow__",), reflected=("__rpow__",),
    inplace_operators=("__ipow__",), out=True)
def pow(input, exponent):
    """input ** exponent (matches `torch.pow`)."""
    _require_a_tensor("pow", input, exponent)
    a, b = _tensors(input, exponent)
    if not isinstance(a, Tensor):
        a = as_operand(a, _dtype.result_type(a, b))
    dtype = _dtype.result_type(a, b)
    if dtype is _dtype.bool:
        raise NotImplementedError('"pow" not implemented for \'Bool\'')
    # Only a Python-scalar exponent is refused; tensor exponents truncate (see power_arrays).
    if (not (dtype.is_floating_point or dtype.is_complex) and not isinstance(b, Tensor)
            and xp.any(xp.asarray(b) < 0)):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if not isinstance(input, Tensor):  # NOTE [pow's nodes]
        return apply_binary(PowScalarBase, a, b)
    if not isinstance(b, Tensor):
        return apply_binary(PowScalar, a, b, b)
    return apply_binary(Pow, a, b)


@op(method=True, out=float_power_out)
def float_power(input, exponent):
    """input ** exponent in float64, or complex128 if either is complex (matches
    `torch.float_power`)."""
    _require_a_tensor("float_power", input, exponent)
    dtype = _float_power_dtype(input, exponent)
    exponent = exponent if not isinstance(exponent, Tensor) else as_operand(exponent, dtype)
    return pow(as_operand(input, dtype), exponent)


def _float_power_dtype(input, exponent):
    """complex128 when either operand (a tensor or a Python number) is complex, else float64."""
    complex_operand = any(isinstance(v, Tensor) and v.dtype.is_complex or isinstance(v, complex)
                          for v in (input, exponent))
    return _dtype.complex128 if complex_operand else _dtype.float64


@tensor_method("float_power_")
def float_power_(self, exponent):
    """In-place float_power: self must already be float64 (complex128 for a complex result)
    (matches `Tensor.float_power_`)."""
    dtype = _float_power_dtype(self, exponent)
    if self.dtype is not dtype:
        raise RuntimeError(f"the base given to float_power_ has dtype {short_name(self.dtype)} "
                           f"but the operation's result requires dtype {short_name(dtype)}")
    return self._inplace_update(float_power(self, exponent))
