"""More elementwise functions of one tensor: inverse hyperbolics, exp2, erfc, sinc, logit,
nan_to_num, deg2rad/rad2deg, sgn, signbit, positive.

Like ember/ops/unary.py: integer and bool inputs compute in the default float dtype (except the
ops that keep dtypes: sgn, nan_to_num, positive), and the derivative is saved as the output where
it is a function of it.
"""

import math

from ember import _dtype, _scipy
from ember._backend import quiet, xp
from ember._registry import op
from ember.ops._out_rules import isneginf_out, isposinf_out, nan_to_num_out, signbit_out
from ember._tensor import Tensor
from ember.autograd.function import Op, array_result  # (a 0-d result: an array)
from ember.ops._opmath import widen
from ember.ops._util import float_operand
from ember.ops._wirtinger import chain, conj, is_complex
from ember.ops.comparison import where, zero_gradient
from ember.ops.unary import cos, exp, float_unary, refuse_complex_kernel, rsqrt, sign, sin


class Acosh(Op):
    """y = acosh x;  gx = gy·conj(1/√(x² - 1)), as 1/(√(x - 1)·√(x + 1)) for complex x (the
    principal branch PyTorch uses)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.arccosh(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        if is_complex(x):
            return chain(gy, rsqrt(x - 1) * rsqrt(x + 1))
        return chain(gy, rsqrt(x * x - 1))


class Asinh(Op):
    """y = asinh x;  gx = gy·conj(1/√(x² + 1))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return xp.arcsinh(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return chain(gy, rsqrt(x * x + 1))


class Atanh(Op):
    """y = atanh x;  gx = gy / conj(1 - x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():
            return xp.arctanh(x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy / conj(1 - x * x)


class Exp2(Op):
    """y = 2^x;  gx = gy·conj(y)·ln 2."""

    @staticmethod
    def forward(ctx, x):
        with quiet():
            y = array_result(xp.exp2(x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return chain(gy, y) * math.log(2.0)


class Erfc(Op):
    """y = 1 - erf x;  gx = -gy·2/√π·e^(-x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _scipy.function("erfc")(x._data).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * exp(-(x * x)) * (-2 / math.sqrt(math.pi))


class Sinc(Op):
    """y = sin(πx)/(πx), 1 at 0;  gx = gy·conj((cos(πx) - y)/x), 0 at x = 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet():  # (16-bit floats in float32, rounded once: NOTE [opmath])
            return xp.sinc(widen(x._data)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        zero = Tensor._make(x._data == 0)
        safe = where(zero, 1.0, x)
        px = safe * math.pi
        local = (cos(px) - sin(px) / px) / safe
        return chain(gy, where(zero, 0.0, local))


class Logit(Op):
    """y = ln(z/(1 - z)) with z = clamp(x, eps, 1 - eps);  gx = gy / (x(1 - x)), 0 outside
    [eps, 1 - eps] when eps is given."""

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x._data if eps is None else xp.clip(x._data, eps, 1 - eps)
        with quiet():
            return xp.log(z / (1 - z)).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        gx = gy / (x * (1 - x))
        # Outside [eps, 1 - eps] the clamp makes the gradient 0; without eps, PyTorch gives nan
        # outside [0, 1].
        lo, hi, value = (0, 1, xp.nan) if ctx.eps is None else (ctx.eps, 1 - ctx.eps, 0.0)
        outside = Tensor._make((x._data < lo) | (x._data > hi))
        return where(outside, value, gx), None


class NanToNum(Op):
    """y = x with nan, +inf, -inf replaced;  gx = gy where x is finite, else 0."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        d = x._data
        if d.dtype.kind in "fc":
            return xp.nan_to_num(d, nan=nan, posinf=posinf, neginf=neginf)
        # bfloat16 and float8 (ml_dtypes): NumPy's nan_to_num leaves them alone, so in float32
        # with this dtype's own largest values as the defaults
        largest = _dtype.finfo(x.dtype).max
        posinf, neginf = (largest if posinf is None else posinf,
                          -largest if neginf is None else neginf)
        wide = xp.nan_to_num(d.astype(xp.float32), nan=nan, posinf=posinf, neginf=neginf)
        return wide.astype(d.dtype)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        finite = xp.isfinite(x._data).astype(gy._data.dtype)  # a product, as PyTorch's: an
        return gy * Tensor._make(finite), None, None, None  # inf grad at inf x gives NaN


class Sgn(Op):
    """y = x/|x| (0 at 0 and at nan, unlike sign);  gx = 0 for real x, and for complex
    z (s = z/|z|):  gz = (gy - s·Re(gy·conj s)) / |z|, 0 at z = 0."""

    @staticmethod
    def forward(ctx, x):
        d = x._data
        y = Tensor._make(xp.where(xp.isnan(d), 0, xp.sign(d)).astype(d.dtype, copy=False))
        ctx.save_for_backward(x if is_complex(x) else None, y if is_complex(x) else None)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, s = ctx.saved_tensors
        if x is None:
            return zero_gradient(gy)
        zero = Tensor._make(x._data == 0)
        radius = where(zero, 1.0, x.abs())
        tangential = gy - s * (gy * s.conj()).real
        return where(zero, 0.0, tangential / radius)


acosh = float_unary(Acosh, aliases=("arccosh",))
asinh = float_unary(Asinh, aliases=("arcsinh",))
atanh = float_unary(Atanh, aliases=("arctanh",))
exp2 = float_unary(Exp2)
erfc = float_unary(Erfc, real_only="erfc_vml_cpu")
sinc = float_unary(Sinc)


@op(method=True, inplace=True, out=True)
def logit(input: Tensor, eps=None) -> Tensor:
    """ln(p/(1 - p)), p clamped to [eps, 1 - eps] when eps is given (matches `torch.logit`)."""
    if input.dtype.is_complex:
        refuse_complex_kernel(input, "logit_cpu")
    return Logit.apply(float_operand(input), eps)


@op(method=True, inplace=True, out=nan_to_num_out)
def nan_to_num(input: Tensor, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """nan, +inf and -inf replaced by nan, posinf (default: the largest finite value) and neginf
    (default: the smallest) (matches `torch.nan_to_num`; complex tensors: in each part); integer
    tensors are returned as is."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        return input.clone()
    return NanToNum.apply(input, nan, posinf, neginf)


@op(method=True, inplace=True, out="same")
def sgn(input: Tensor) -> Tensor:
    """The sign of each element, x/|x| (matches `torch.sgn`); keeps the dtype."""
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        return sign(input)
    return Sgn.apply(input)


@op(method=True, out=signbit_out)
def signbit(input: Tensor) -> Tensor:
    """Whether the sign bit is set, true for -0.0 (matches `torch.signbit`); not differentiable."""
    if input.dtype is _dtype.bool:
        return Tensor._make(xp.zeros_like(input._data, dtype=bool))
    if input.dtype.is_complex:
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return array_result(xp.signbit(input._data))


@op(method=True)
def positive(input: Tensor) -> Tensor:
    """input itself (matches `torch.positive`)."""
    if input.dtype is _dtype.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class Deg2Rad(Op):
    """y = c·x (c = π/180, or 180/π for rad2deg);  gx = c·gy."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x._data * xp.asarray(scale, dtype=x._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.scale, None


class Rad2Deg(Deg2Rad):
    """y = x·180/π;  gx = gy·180/π."""


@op(method=True, inplace=True, out=True)
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians, input·π/180 (matches `torch.deg2rad`)."""
    _refuse_angle_of_complex(input, "deg2rad")
    return Deg2Rad.apply(float_operand(input), math.pi / 180)


@op(method=True, inplace=True, out=True)
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees, input·180/π (matches `torch.rad2deg`)."""
    _refuse_angle_of_complex(input, "rad2deg")
    return Rad2Deg.apply(float_operand(input), 180 / math.pi)



def _refuse_angle_of_complex(input, name):
    if input.dtype.is_complex:
        raise RuntimeError(f"{name} is not supported for complex tensors.")


def _refuse_complex(input, name):
    if input.dtype.is_complex:
        raise RuntimeError(f"{name} does not support complex inputs.")


@op(method=True, out=isposinf_out)
def isposinf(input: Tensor) -> Tensor:
    """Whether each element is +inf (matches `torch.isposinf`)."""
    _refuse_complex(input, "isposinf")
    return array_result(xp.isposinf(input._data) if input.dtype.is_floating_point
                        else xp.zeros_like(input._data, dtype=bool))


@op(method=True, out=isneginf_out)
def isneginf(input: Tensor) -> Tensor:
    """Whether each element is -inf (matches `torch.isneginf`)."""
    _refuse_complex(input, "isneginf")
    return array_result(xp.isneginf(input._data) if input.dtype.is_floating_point
                        else xp.zeros_like(input._data, dtype=bool))


@op(method=True)
def isreal(input: Tensor) -> Tensor:
    """Whether each element has a zero imaginary part: all true for real dtypes (matches
    `torch.isreal`)."""
    return array_result(xp.isreal(input._data))
