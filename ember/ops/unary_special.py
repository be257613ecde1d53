"""Special functions of one tensor: the gamma family (digamma, lgamma, polygamma, mvlgamma),
modified Bessel functions (i0, i0e, i1, i1e), the normal distribution (ndtr, ndtri, log_ndtr),
erfcx, entr, and the Bessel/Airy functions torch.special has without gradients.

NumPy has none of these but i0, so they come from `scipy.special` through the seam
`ember/_scipy.py` (an optional extra, imported on first use). Each derivative is written with
ember ops on other functions of this family (digamma' = polygamma(1, ·), i0' = i1, ...), so
create_graph=True gives higher derivatives.
"""

import math

from ember import _scipy
from ember._backend import quiet, xp
from ember._registry import op, tensor_method
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import float_operand
from ember.ops.comparison import where
from ember.ops.special_airy import airy_ai_array
from ember.ops.unary import exp, float_unary, log, sign


def scipy_call(name, x, *args):
    """scipy.special.<name>(*args, x) on an array, silently, in x's dtype."""
    with quiet():
        return xp.asanyarray(_scipy.function(name)(*args, x)).astype(x.dtype, copy=False)


class Digamma(Op):
    """y = ψ(x) = Γ'(x)/Γ(x);  gx = gy·ψ₁(x) (polygamma(1, x))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("psi", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * polygamma(1, x)


class Lgamma(Op):
    """y = ln|Γ(x)|;  gx = gy·ψ(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        # PyTorch gives lgamma(-inf) = inf, SciPy -inf.
        return xp.where(d == -xp.inf, xp.inf, scipy_call("gammaln", d)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * digamma(x)


class Polygamma(Op):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of digamma;  gx = gy·ψ⁽ⁿ⁺¹⁾(x)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        if n == 0:
            return scipy_call("psi", x._data)
        # ψ⁽ⁿ⁾(x) = (-1)ⁿ⁺¹·n!·ζ(n + 1, x): the zeta ufunc keeps the input's array type.
        d = x._data
        scale = (-1) ** (n + 1) * math.factorial(n)
        y = scipy_call("zeta", d, n + 1) * xp.asarray(scale, dtype=d.dtype)
        # PyTorch's kernels at ±inf: trigamma(-inf) is nan; ψ⁽ⁿ⁾(+inf) is nan for n ≥ 2.
        return xp.where(d == (-xp.inf if n == 1 else xp.inf), xp.nan, y).astype(d.dtype,
                                                                                copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * polygamma(ctx.n + 1, x), None


class Mvlgamma(Op):
    """y = p(p-1)/4·ln π + Σⱼ ln Γ(x - j/2), j < p;  gx = gy·Σⱼ ψ(x - j/2)."""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save_for_backward(x)
        ctx.p = p
        d = x._data
        halves = xp.arange(p, dtype=d.dtype) / 2
        total = scipy_call("gammaln", d[..., None] - halves).sum(-1)
        return (total + p * (p - 1) / 4 * math.log(math.pi)).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        halves = Tensor._make(xp.arange(ctx.p, dtype=x._data.dtype) / 2)
        return gy * digamma(x.unsqueeze(-1) - halves).sum(-1), None


class I0(Op):
    """y = I₀(x), the modified Bessel function of order 0;  gx = gy·I₁(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("i0", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * i1(x)


class I0e(Op):
    """y = e^(-|x|)·I₀(x);  gx = gy·(i1e(x) - sign(x)·y)."""

    node_name = "SpecialI0EBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("i0e", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * (i1e(x) - sign(x) * i0e(x))


def _over_x(value: Tensor, x: Tensor) -> Tensor:
    """value/x, with 0 where x = 0 (where the limit is taken separately)."""
    zero = Tensor._make(x._data == 0)
    return where(zero, 0.0, value / where(zero, 1.0, x))


class I1(Op):
    """y = I₁(x);  gx = gy·(I₀(x) - y/x), 1/2 at x = 0."""

    node_name = "SpecialI1Backward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("i1", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        zero = Tensor._make(x._data == 0)
        return gy * where(zero, 0.5, i0(x) - _over_x(i1(x), x))


class I1e(Op):
    """y = e^(-|x|)·I₁(x);  gx = gy·(i0e(x) - y·(sign(x) + 1/x)), 1/2 at x = 0."""

    node_name = "SpecialI1EBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("i1e", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        y = i1e(x)
        zero = Tensor._make(x._data == 0)
        return gy * where(zero, 0.5, i0e(x) - y * sign(x) - _over_x(y, x))


class Ndtr(Op):
    """y = Φ(x), the standard normal CDF;  gx = gy·e^(-x²/2)/√(2π)."""

    node_name = "MulBackward1"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return scipy_call("ndtr", x._data)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return gy * exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))


class Ndtri(Op):
    """y = Φ⁻¹(x);  gx = gy·√(2π)·e^(y²/2)."""

    node_name = "SpecialNdtriBackward0"

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(scipy_call("ndtri", x._data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return gy * exp(y * y * 0.5) * math.sqrt(2 * math.pi)


class LogNdtr(Op):
    """y = ln Φ(x);  gx = gy·e^(-x²/2 - y)/√(2π)."""

    node_name = "SpecialLogNdtrBackward0"

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(scipy_call("log_ndtr", x._data))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return gy * exp(x * x * -0.5 - y) * (1 / math.sqrt(2 * math.pi))


class Erfcx(Op):
    """y = e^(x²)·erfc(x);  gx = gy·(2x·y - 2/√π)."""

    node_name = "SpecialErfcxBackward0"

    @staticmethod
    def forward(ctx, x):
        y = Tensor._make(scipy_call("erfcx", x._data))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        return gy * (x * y * 2 - 2 / math.sqrt(math.pi))


class Entr(Op):
    """y = -x·ln x (0 at 0, -inf for x < 0);  gx = -gy·(ln x + 1)."""

    node_name = "SpecialEntrBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        d = x._data
        with quiet():
            y = xp.where(d > 0, -d * xp.log(xp.where(d > 0, d, 1)), xp.where(d == 0, 0, -xp.inf))
        return xp.where(xp.isnan(d), d, y).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        return -gy * (log(x) + 1)


digamma = float_unary(Digamma)
lgamma = float_unary(Lgamma)
i0 = float_unary(I0)


@op(out=True)
def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma (matches `torch.polygamma`)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(float_operand(input), int(n))


@tensor_method("polygamma")
def tensor_polygamma(self, n: int) -> Tensor:
    """self.polygamma(n) is polygamma(n, self) (matches `Tensor.polygamma`)."""
    return polygamma(n, self)


@tensor_method("polygamma_")
def tensor_polygamma_(self, n: int) -> Tensor:
    """In-place polygamma (matches `Tensor.polygamma_`)."""
    return self._inplace_update(polygamma(n, self))


@op(method=True, inplace=True, out=True)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension p (matches `torch.mvlgamma`)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    return Mvlgamma.apply(float_operand(input), int(p))


def _refuse_16_bit(x: Tensor, name: str):
    """PyTorch has no float16/bfloat16 CPU kernel for some special functions."""
    if x.dtype.is_floating_point and x.dtype.itemsize == 2:
        word = "Half" if x.dtype.name == "float16" else "BFloat16"
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{word}\'')


def _special(op_class, half=True):
    """A torch.special function of one tensor (no Tensor method): integers compute as floats;
    half=False: float16 and bfloat16 are refused, as PyTorch does."""
    name = op_class.__name__.lower()

    def fn(input: Tensor) -> Tensor:
        x = float_operand(input)
        if not half:
            _refuse_16_bit(x, name)
        return op_class.apply(x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"(matches `torch.special.{name}`). {op_class.__doc__}"
    return fn


i0e = _special(I0e)
i1 = _special(I1)
i1e = _special(I1e)
ndtr = _special(Ndtr)
ndtri = _special(Ndtri, half=False)
log_ndtr = _special(LogNdtr, half=False)
erfcx = _special(Erfcx, half=False)
entr = _special(Entr)


# ---- without gradients --------------------------------------------------------------------------
# PyTorch has no derivative for these: their results never require grad.
def _no_grad_special(name, array_fn):
    """A torch.special function whose result is outside the graph (no float16 kernel)."""

    def fn(input: Tensor) -> Tensor:
        x = float_operand(input)
        _refuse_16_bit(x, name)
        with quiet():
            return Tensor._make(xp.asanyarray(array_fn(x._data)).astype(x._data.dtype, copy=False))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"(matches `torch.special.{name}`); not differentiable, as in PyTorch."
    return fn


def _scipy_fn(scipy_name):
    return lambda d: _scipy.function(scipy_name)(d)


airy_ai = _no_grad_special("airy_ai", airy_ai_array)
bessel_j0 = _no_grad_special("bessel_j0", _scipy_fn("j0"))
bessel_j1 = _no_grad_special("bessel_j1", _scipy_fn("j1"))
bessel_y0 = _no_grad_special("bessel_y0", _scipy_fn("y0"))
bessel_y1 = _no_grad_special("bessel_y1", _scipy_fn("y1"))
modified_bessel_i0 = _no_grad_special("modified_bessel_i0", _scipy_fn("i0"))
modified_bessel_i1 = _no_grad_special("modified_bessel_i1", _scipy_fn("i1"))
modified_bessel_k0 = _no_grad_special("modified_bessel_k0", _scipy_fn("k0"))
modified_bessel_k1 = _no_grad_special("modified_bessel_k1", _scipy_fn("k1"))
scaled_modified_bessel_k0 = _no_grad_special("scaled_modified_bessel_k0", _scipy_fn("k0e"))
scaled_modified_bessel_k1 = _no_grad_special("scaled_modified_bessel_k1", _scipy_fn("k1e"))
spherical_bessel_j0 = _no_grad_special(
    "spherical_bessel_j0", lambda d: _scipy.function("spherical_jn")(0, d))
