"""More binary elementwise ops: atan2, hypot, logaddexp(2), xlogy/xlog1py, copysign, ldexp,
frexp, igamma/igammac, zeta, addcmul/addcdiv, heaviside, nextafter, gcd/lcm and bit shifts.

Operands are promoted with PyTorch's rules (`_util.binary_operands`); the float ops then compute
integers in the default float dtype. Some ops take only tensors (PyTorch raises TypeError for a
Python number, `tensor_operands`); gradients are summed back to each input's shape (`sum_to`).
"""

import math

from ember import _dtype, _scipy
from ember._backend import quiet, xp
from ember._registry import op, torch_function
from ember._rng.mathfun import fma32_exact, fma64
from ember.ops._out_rules import heaviside_out, ldexp_out
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op, array_result  # (a 0-d result: an array)
from ember.ops._util import as_operand, binary_operands, broadcast_error
from ember.ops._wirtinger import chain, conj, is_complex
from ember.ops.broadcast import sum_to
from ember.ops.comparison import where, zero_gradient
from ember.ops.elementwise import apply_binary
from ember.ops.unary import exp, log
from ember.ops.unary_ext import exp2
from ember.return_types import return_type


# ---- operands -----------------------------------------------------------------------------------
def tensor_operands(name, *args, names=("input", "other")):
    """PyTorch's TypeError for an op whose operands must all be tensors."""
    for position, (value, arg_name) in enumerate(zip(args, names), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg_name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")


def one_tensor(name, a, b):
    """PyTorch's TypeError when neither operand is a tensor (two Python numbers)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(a).__name__}, {type(b).__name__})")


def float_operands(a, b, kernel=None, *, name=None, complex_ok=False):
    """Both operands promoted, then as the default float dtype if integral; with `kernel`, an
    integral result type is refused as PyTorch's CPU kernel does. A complex result type is
    refused (naming the kernel, or `name`) unless the op has a complex kernel (complex_ok)."""
    a, b = binary_operands(a, b)
    if a.dtype.is_complex:
        if complex_ok:
            return a, b
        raise NotImplementedError(
            f'"{kernel or name}_cpu" not implemented for \'{short_name(a.dtype)}\'')
    if not a.dtype.is_floating_point:
        if kernel is not None:
            raise NotImplementedError(
                f'"{kernel}_cpu" not implemented for \'{short_name(a.dtype)}\'')
        dtype = _dtype.get_default_dtype()
        a, b = as_operand(a, dtype), as_operand(b, dtype)
    return a, b


def _grads(ctx, ga_fn, gb_fn):
    """(ga, gb) summed to the inputs' shapes, each computed only when needed."""
    ga = sum_to(ga_fn(), ctx._input_meta[0][0]) if ctx.needs_input_grad[0] else None
    gb = sum_to(gb_fn(), ctx._input_meta[1][0]) if ctx.needs_input_grad[1] else None
    return ga, gb


# ---- differentiable -----------------------------------------------------------------------------
class Atan2(Op):
    """y = atan2(a, b);  ga = gy·b·r,  gb = gy·(-a)·r with r = 1/(a² + b²), 0 where a² + b² is
    0 (PyTorch's atan2_backward)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return xp.arctan2(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        squares = a * a + b * b
        flat = squares._data == 0
        with quiet():
            recip = squares.reciprocal()
            if flat.any():  # (a select only where some a² + b² is 0)
                recip = where(Tensor._make(flat), 0.0, recip)
        return _grads(ctx, lambda: gy * b * recip, lambda: gy * -a * recip)


class Hypot(Op):
    """y = √(a² + b²);  ga = gy·a/y,  gb = gy·b/y."""

    @staticmethod
    def forward(ctx, a, b):
        y = array_result(xp.hypot(a._data, b._data))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, y = ctx.saved_tensors
        return _grads(ctx, lambda: gy * a / y, lambda: gy * b / y)


class Logaddexp(Op):
    """y = ln(eᵃ + eᵇ);  ga = gy / conj(1 + e^(b - a)),  gb = gy / conj(1 + e^(a - b)) (PyTorch's
    formulas: an infinite a gets gy, not e^(inf - inf))."""

    @staticmethod
    def forward(ctx, a, b):
        if is_complex(a):
            y = array_result(_complex_logaddexp(a._data, b._data))
        else:
            y = array_result(xp.logaddexp(a._data, b._data))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, _ = ctx.saved_tensors
        return _grads(ctx, lambda: gy / conj(exp(b - a) + 1), lambda: gy / conj(exp(a - b) + 1))


def _complex_logaddexp(a, b):
    """ln(eᵃ + eᵇ) for complex arrays as PyTorch computes it: m + ln(1 + e^(n - m)), with m the
    operand of larger real part (so the imaginary part is m's plus a principal log)."""
    larger = a.real >= b.real
    m, n = xp.where(larger, a, b), xp.where(larger, b, a)
    with quiet():
        return m + xp.log1p(xp.exp(n - m))


class Logaddexp2(Op):
    """y = log₂(2ᵃ + 2ᵇ);  ga = gy / (1 + 2^(b - a)),  gb = gy / (1 + 2^(a - b))."""

    @staticmethod
    def forward(ctx, a, b):
        y = array_result(xp.logaddexp2(a._data, b._data))
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        a, b, _ = ctx.saved_tensors
        return _grads(ctx, lambda: gy / (exp2(b - a) + 1), lambda: gy / (exp2(a - b) + 1))


class Xlogy(Op):
    """y = a·ln b, 0 where a = 0 (unless b is nan);  ga = gy·xlogy(a ≠ 0, b),  gb = gy·a/b.

    xlog1py is the same with ln(1 + b): ga = gy·xlog1py(a ≠ 0, b),  gb = gy·a/(1 + b).
    """

    @staticmethod
    def forward(ctx, a, b, log1p_form):
        ctx.save_for_backward(a, b)
        ctx.log1p_form = log1p_form
        return _xlogy_array(a._data, b._data, log1p_form)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        # NOTE [xlogy's gradient at a = 0]: PyTorch takes ga = gy·ln b even at a = 0, and 0
        # only where a = 0 and b is outside the log's domain (b ≤ 0, or b ≤ -1 for log1p).
        edge = -1 if ctx.log1p_form else 0
        outside = Tensor._make((a._data == 0) & (b._data <= edge))
        if ctx.log1p_form:
            ga, gb = _grads(ctx, lambda: where(outside, 0.0, xlog1py(gy, b)),
                            lambda: gy * a / (b + 1))
        else:
            ga, gb = _grads(ctx, lambda: where(outside, 0.0, xlogy(gy, b)), lambda: gy * a / b)
        return ga, gb, None


class Xlog1py(Xlogy):
    """y = a·ln(1 + b) (Xlogy with log1p_form=True), under PyTorch's node name."""

    node_name = "SpecialXlog1PyBackward0"


def _xlogy_array(a, b, log1p_form):
    with quiet():
        y = a * (xp.log1p(b) if log1p_form else xp.log(b))
    return xp.where((a == 0) & ~xp.isnan(b), 0, y).astype(a.dtype, copy=False)


class Copysign(Op):
    """y = |a|·sign(b) (the sign bit of b);  ga = gy·(y/a) (0 where a = 0; NaN at an infinite a,
    as PyTorch's ratio),  gb = 0."""

    @staticmethod
    def forward(ctx, a, b):
        y = xp.copysign(a._data, b._data)
        with quiet():
            ratio = xp.asarray(y / a._data)
        ratio[xp.broadcast_to(a._data == 0, ratio.shape)] = 0
        ctx.ratio = ratio
        return y

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: gy * Tensor._make(ctx.ratio), lambda: zero_gradient(gy))


class Ldexp(Op):
    """y = a·2ᵇ;  ga = gy·conj(2ᵇ),  gb = gy·conj(a·2ᵇ)·ln 2."""

    @staticmethod
    def forward(ctx, a, b, integer_exponent=False):
        ctx.save_for_backward(a, b)
        e = b._data
        with quiet():
            if is_complex(b):
                return a._data * xp.exp2(e)
            if integer_exponent:
                # torch's kernel takes integer exponents as C's ldexp does: 0·2¹²⁸ is 0 and
                # inf·2⁻²⁰⁰ is inf. Float exponents multiply by exp2 in the result's dtype,
                # where the same two give nan, as in torch.
                whole = xp.clip(e, -(2**31), 2**31 - 1).astype(xp.int32)
                return xp.ldexp(a._data, whole).astype(a._data.dtype, copy=False)
            return a._data * xp.exp2(e).astype(a._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        a, b = ctx.saved_tensors
        scale = exp2(b)
        return _grads(ctx, lambda: chain(gy, scale),
                      lambda: gy * conj(a) * conj(scale) * math.log(2.0)) + (None,)


class Frexp(Op):
    """(m, e) with x = m·2ᵉ, 0.5 ≤ |m| < 1;  gx = gy_m / 2ᵉ (e is an int32 constant)."""

    @staticmethod
    def forward(ctx, x):
        mantissa, exponent = xp.frexp(x._data)
        ctx.scale = xp.exp2(-exponent.astype(x._data.dtype))
        return array_result(mantissa), array_result(exponent.astype(xp.int32))

    @staticmethod
    def backward(ctx, g_mantissa, g_exponent):
        return g_mantissa * Tensor._make(ctx.scale)


class Igamma(Op):
    """y = P(a, x) (or Q = 1 - P for igammac);  gx = ±gy·x^(a-1)·e^(-x)/Γ(a); PyTorch has no
    derivative in a."""

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        name = "gammaincc" if upper else "gammainc"
        da, dx = a._data, x._data
        with quiet():
            y = _scipy.function(name)(da, dx).astype(da.dtype, copy=False)
        # PyTorch answers x = 0 and x = inf before looking at a, even a nan a.
        at_zero, at_inf = xp.isnan(da) & (dx == 0), xp.isnan(da) & (dx == xp.inf)
        y = xp.where(at_zero, float(upper), xp.where(at_inf, float(not upper), y))
        return y.astype(da.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            name = "igammac" if ctx.upper else "igamma"
            # (derivatives.yaml's not_implemented(...): a NotImplementedError)
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        density = exp((a - 1) * log(x) - x - a.lgamma())
        gx = sum_to(-gy * density if ctx.upper else gy * density, ctx._input_meta[1][0])
        return None, gx, None


class Zeta(Op):
    """y = ζ(s, q) = Σₖ (k + q)^(-s);  gq = -gy·s·ζ(s + 1, q); PyTorch has no derivative in s."""

    node_name = "SpecialZetaBackward0"

    @staticmethod
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        with quiet():
            y = _scipy.function("zeta")(s._data, q._data).astype(s._data.dtype, copy=False)
        y = xp.where(q._data == xp.inf, xp.nan, y)  # PyTorch: ζ(s, inf) is nan, SciPy's 0
        return y.astype(s._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        s, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, sum_to(-gy * s * zeta(s + 1, q), ctx._input_meta[1][0])


def _wide(*tensors):
    """The arrays, 16-bit floats widened to float32: PyTorch computes fused ops on float16 and
    bfloat16 in float32 and rounds the result once."""
    arrays = tuple(t._data for t in tensors)
    if tensors[0].dtype.is_floating_point and tensors[0].dtype.itemsize == 2:
        return tuple(a.astype(xp.float32) for a in arrays)
    return arrays


class Addcmul(Op):
    """y = a + v·t1·t2;  ga = gy,  gt1 = gy·conj(v·t2),  gt2 = gy·conj(v·t1)."""

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        d, d1, d2 = _wide(a, t1, t2)
        return _addcmul(d, d1, d2, value).astype(a._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        t1, t2 = ctx.saved_tensors
        meta, need, value = ctx._input_meta, ctx.needs_input_grad, ctx.value
        ga = sum_to(gy, meta[0][0]) if need[0] else None
        # PyTorch's order: gy·conj(t2·v) (t2·v first: it may round to 0 before an inf gy)
        g1 = sum_to(gy * conj(t2 * value), meta[1][0]) if need[1] else None
        g2 = sum_to(gy * conj(t1 * value), meta[2][0]) if need[2] else None
        return ga, g1, g2, None


def _addcmul(d, d1, d2, value):
    """PyTorch's CPU addcmul kernel: its `self + value * t1 * t2` is compiled to a fused
    multiply-add, fma(value·t1, t2, self), for float32/float64 (16-bit floats come widened to
    float32); other dtypes left to right."""
    scaled = xp.asarray(value).astype(d.dtype) * d1
    with quiet():
        if d.dtype == xp.float32:
            return fma32_exact(scaled, d2, d)
        plain = d + scaled * d2
        if d.dtype == xp.float64:  # (fma64's splits turn an inf into NaN: plain there)
            fused = fma64(scaled, d2, d)
            return xp.where(xp.isfinite(fused), fused, plain)
        return plain


class Addcdiv(Op):
    """y = a + v·t1/t2;  ga = gy,  gt1 = gy·conj(v/t2),  gt2 = -gy·conj(v·t1/t2²)."""

    @staticmethod
    def forward(ctx, a, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value = value
        d, d1, d2 = _wide(a, t1, t2)
        with quiet():  # PyTorch's kernel: input + (value·t1)/t2, left to right
            y = d + xp.asarray(value).astype(d.dtype) * d1 / d2
        return y.astype(a._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        t1, t2 = ctx.saved_tensors
        meta, need, value = ctx._input_meta, ctx.needs_input_grad, ctx.value
        ga = sum_to(gy, meta[0][0]) if need[0] else None
        # PyTorch's order: gy·conj(v/t2) and -gy·conj(v·t1/t2²), v/t2 first (no gy·v overflow)
        g1 = sum_to(gy * conj(value / t2), meta[1][0]) if need[1] else None
        g2 = sum_to(-gy * conj(value * t1 / (t2 * t2)), meta[2][0]) if need[2] else None
        return ga, g1, g2, None


class Heaviside(Op):
    """y = b where a = 0, else 1 where a > 0, else 0 (a NaN a gives 0: PyTorch's `a == 0 ? b :
    a > 0`, where NumPy's heaviside gives NaN); recorded, with no derivative."""

    node_name = "torch::autograd::NotImplemented"

    @staticmethod
    def forward(ctx, a, b):
        d = a._data
        return xp.where(d == 0, b._data, d > 0).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


class Nextafter(Op):
    """y = the float after a towards b;  ga = gy where a ≠ b (else y = b), gb = 0, as PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.moved = a._data != b._data
        return xp.nextafter(a._data, b._data)

    @staticmethod
    def backward(ctx, gy):
        return _grads(ctx, lambda: where(Tensor._make(ctx.moved), gy, 0.0),
                      lambda: zero_gradient(gy))


# ---- public functions ---------------------------------------------------------------------------
@op(method=True, inplace=True, aliases=("arctan2",), out=True)
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point (other, input), in (-π, π] (matches `torch.atan2`)."""
    tensor_operands("atan2", input, other)
    return apply_binary(Atan2, *float_operands(input, other, name="atan2"))


@op(method=True, inplace=True, out=True)
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """√(input² + other²) (matches `torch.hypot`)."""
    tensor_operands("hypot", input, other)
    return apply_binary(Hypot, *float_operands(input, other, "hypot"))


@op(method=True, out=True)
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """ln(e^input + e^other), computed stably (matches `torch.logaddexp`)."""
    tensor_operands("logaddexp", input, other)
    return apply_binary(Logaddexp, *float_operands(input, other, "logaddexp", complex_ok=True))


@op(method=True, out=True)
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log₂(2^input + 2^other) (matches `torch.logaddexp2`)."""
    tensor_operands("logaddexp2", input, other)
    return apply_binary(Logaddexp2, *float_operands(input, other, "logaddexp2"))


@op(method=True, inplace=True, out=True)
def xlogy(input, other) -> Tensor:
    """input·ln(other), 0 where input = 0 (matches `torch.xlogy`)."""
    one_tensor("xlogy", input, other)
    return apply_binary(Xlogy, *float_operands(input, other, name="xlogy"), False)


def xlog1py(input, other) -> Tensor:
    """input·ln(1 + other), 0 where input = 0 (matches `torch.special.xlog1py`)."""
    one_tensor("special_xlog1py", input, other)
    return apply_binary(Xlog1py, *float_operands(input, other, name="xlog1py"), True)


@op(method=True, inplace=True, out=True)
def copysign(input, other) -> Tensor:
    """|input| with the sign of other (matches `torch.copysign`)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    return apply_binary(Copysign, *float_operands(input, other, name="copysign"))


@op(method=True, inplace=True, out=ldexp_out)
def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input·2^other (matches `torch.ldexp`)."""
    tensor_operands("ldexp", input, other)
    if isinstance(other, Tensor) and other.dtype.name == "bool" and \
            isinstance(input, Tensor) and input.dtype.is_floating_point:
        raise NotImplementedError('"ldexp_cpu_exp" not implemented for \'Bool\'')
    integer_exponent = not (isinstance(other, float) or (
        isinstance(other, Tensor) and (other.dtype.is_floating_point or other.dtype.is_complex)))
    return apply_binary(Ldexp, *float_operands(input, other, complex_ok=True), integer_exponent)


FrexpResult = return_type("frexp", ("mantissa", "exponent"))


@op(method=True, out=True)
def frexp(input: Tensor) -> FrexpResult:
    """Mantissa in [0.5, 1) and int32 exponent with input = mantissa·2^exponent (matches
    `torch.frexp`)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return FrexpResult(*Frexp.apply(input))


@op(method=True, inplace=True, out=True)
def igamma(input: Tensor, other: Tensor) -> Tensor:
    """The regularized lower incomplete gamma function P(input, other) (matches
    `torch.igamma`)."""
    tensor_operands("igamma", input, other)
    return apply_binary(Igamma, *float_operands(input, other, "igamma"), False)


@op(method=True, inplace=True, out=True)
def igammac(input: Tensor, other: Tensor) -> Tensor:
    """The regularized upper incomplete gamma function Q(input, other) (matches
    `torch.igammac`)."""
    tensor_operands("igammac", input, other)
    return apply_binary(Igamma, *float_operands(input, other, "igammac"), True)


def zeta(input, other) -> Tensor:
    """The Hurwitz zeta function ζ(input, other) (matches `torch.special.zeta`)."""
    one_tensor("special_zeta", input, other)
    return apply_binary(Zeta, *float_operands(input, other, name="zeta"))


def _addc_operands(input, tensor1, tensor2, value):
    """The three tensors in their result dtype, and value in it (PyTorch truncates a float value
    for integer tensors); shapes that do not broadcast raise PyTorch's error."""
    dtype = _dtype.result_type(input, tensor1, tensor2)
    shapes = [t._data.shape for t in (input, tensor1, tensor2)]
    try:
        xp.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error(shapes[0], xp.broadcast_shapes(*shapes[1:])) from None
    operands = tuple(as_operand(t, dtype) for t in (input, tensor1, tensor2))
    value = _dtype.check_complex_fits(value, dtype)
    exact = dtype.is_floating_point or dtype.is_complex
    return operands + (value if exact else int(value),)


@op(method=True, inplace=True, out=True)
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value·tensor1·tensor2 (matches `torch.addcmul`)."""
    return Addcmul.apply(*_addc_operands(input, tensor1, tensor2, value))


@op(method=True, inplace=True, out=True)
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """input + value·tensor1/tensor2 (matches `torch.addcdiv`)."""
    if not any(t.dtype.is_floating_point or t.dtype.is_complex for t in (tensor1, tensor2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. Use "
            "(input + value * tensor1 / tensor2) instead.")
    return Addcdiv.apply(*_addc_operands(input, tensor1, tensor2, value))


@op(method=True, inplace=True, out=heaviside_out)
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """0 where input < 0, 1 where input > 0, values where input = 0 (matches
    `torch.heaviside`); not differentiable."""
    tensor_operands("heaviside", input, values, names=("input", "values"))
    if input.dtype.is_complex or values.dtype.is_complex:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    return apply_binary(Heaviside, input, values)


@op(method=True, inplace=True, out=True)
def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable float after input towards other (matches `torch.nextafter`)."""
    tensor_operands("nextafter", input, other)
    return apply_binary(Nextafter, *float_operands(input, other, "nextafter"))


def _integer_op(name, kernel, array_fn, operators=(), reflected=(), inplace_operators=(),
                numbers=False):
    """The public function of an op on integer tensors (gcd, lcm, shifts): no gradient."""

    def fn(input, other):
        if numbers:
            one_tensor(name, input, other)
        else:
            tensor_operands(name, input, other)
        a, b = binary_operands(input, other)
        if a.dtype.is_floating_point or a.dtype is _dtype.bool:
            raise NotImplementedError(
                f'"{kernel}_cpu" not implemented for \'{short_name(a.dtype)}\'')
        return Tensor._make(array_fn(a._data, b._data))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} of integer tensors (matches `torch.{name}`)."
    return op(method=True, inplace=True, operators=operators, reflected=reflected,
              inplace_operators=inplace_operators, out=True)(fn)


def _shift(array_fn):
    """A shift as PyTorch's CPU kernel: shifting by the width or more (or by a negative
    amount) gives 0, or -1 for negative values shifted right."""

    def shift(a, b):
        width = a.dtype.itemsize * 8
        out_of_range = (b < 0) | (b >= width)
        shifted = array_fn(a, xp.where(out_of_range, 0, b).astype(a.dtype))
        overflow = xp.where(a < 0, -1, 0) if array_fn is xp.right_shift else 0
        return xp.where(out_of_range, overflow, shifted).astype(a.dtype)

    return shift


gcd = _integer_op("gcd", "gcd", xp.gcd)
lcm = _integer_op("lcm", "lcm", xp.lcm)
bitwise_left_shift = _integer_op(
    "bitwise_left_shift", "lshift", _shift(xp.left_shift), operators=("__lshift__",),
    reflected=("__rlshift__",), inplace_operators=("__ilshift__",), numbers=True)
bitwise_right_shift = _integer_op(
    "bitwise_right_shift", "rshift", _shift(xp.right_shift), operators=("__rshift__",),
    reflected=("__rrshift__",), inplace_operators=("__irshift__",), numbers=True)


# ---- torch.<name>_ ------------------------------------------------------------------------------
# NOTE [In-place functions]: PyTorch also exposes the in-place form of most elementwise ops as a
# function, `torch.exp_(x)` being `x.exp_()`. Their faces are the in-place methods themselves.
_INPLACE_FUNCTIONS = (
    "abs", "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh",
    "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg2rad", "erf", "erfc", "exp",
    "exp2", "expm1", "fix", "floor", "frac", "gcd", "i0", "lcm", "ldexp", "log", "log10", "log1p",
    "log2", "logit", "nan_to_num", "neg", "negative", "rad2deg", "reciprocal", "relu", "round",
    "rsqrt", "sigmoid", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "xlogy",
    "clamp", "clamp_min", "clamp_max", "clip")
for _name in _INPLACE_FUNCTIONS:
    torch_function(_name + "_")(getattr(Tensor, _name + "_"))
