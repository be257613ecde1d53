"""Special functions of one tensor: the gamma family (digamma, lgamma, polygamma, mvlgamma),
modified Bessel functions (i0, i0e, i1, i1e), the normal distribution (ndtr, ndtri, log_ndtr),
erfcx, entr, and the Bessel/Airy functions torch.special has without gradients.

NumPy has none of these but i0, so they come from `scipy.special` through the seam
`ember/_scipy.py` (an optional extra, imported on first use). Each derivative is written with
ember ops on other functions of this family (digamma' = polygamma(1, ·), i0' = i1, ...), so
create_graph=True gives higher derivatives.
"""

import math
from fractions import Fraction

from ember import _scipy
from ember._backend import quiet, xp
from ember._registry import op, tensor_method
from ember.ops._out_rules import mvlgamma_out
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._util import float_operand
from ember.ops.comparison import where
from ember.ops.special_airy import airy_ai_array
from ember.ops.special_bessel import bessel_array
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


def _trigamma(d):
    """ψ₁(x) as PyTorch's `trigamma` computes it, in d's own precision: for x < 0.5 the
    reflection -π²/sin²(πx) (so a negative integer, or a float too big to have a fraction,
    gives whatever sin(πx) rounds to), then six recurrence steps and the asymptotic series."""
    one = d.dtype.type(1)
    pi = d.dtype.type(math.pi)
    reflect = d < 0.5
    with quiet():
        sin_pi_x = xp.sin(pi * d)
        result = xp.where(reflect, -(pi * pi) / (sin_pi_x * sin_pi_x), d.dtype.type(0))
        x = xp.where(reflect, one - d, d)
        for _ in range(6):
            result = result + one / (x * x)
            x = x + one
        ixx = one / (x * x)
        series = one / 6 - ixx * (one / 30 - ixx * (one / 42))
        result = result + (one + one / (2 * x) + ixx * series) / x
    return xp.where(reflect, -result, result)


def _polygamma_factor(n: int, dtype):
    """±n! of PyTorch's `calc_polygamma` in dtype: +1 for odd n; inf once n! overflows."""
    with quiet():
        magnitude = xp.asarray(math.factorial(n) if n < 171 else xp.inf, dtype=xp.float64)
        return xp.asarray(magnitude if n % 2 else -magnitude, dtype=dtype)


def _bernoulli_numbers(count: int) -> list:
    """B_0 .. B_count exactly (B_1 = -1/2), from Σ_k C(m + 1, k)·B_k = 0."""
    numbers = [Fraction(1)]
    for m in range(1, count + 1):
        numbers.append(-sum(math.comb(m + 1, k) * numbers[k] for k in range(m)) / (m + 1))
    return numbers


# the Euler-Maclaurin tail's divisors (2k)!/B_2k, k = 1..12, as Cephes' zeta (and PyTorch's)
_ZETA_A = tuple(float(math.factorial(2 * k) / b)
                for k, b in enumerate(_bernoulli_numbers(24)[2::2], start=1))
_MACHEP = 1.11022302462515654042e-16


def _zeta_below_zero(x: float, q, first):
    """ζ(x, q) for non-integer q ≤ 0 and integer x > 1 as PyTorch's `zeta` sums it, in q's
    dtype from the first term `first`: the terms (q + i)^-x until q + i > 9, stopping early
    only when a term is within MACHEP of a POSITIVE sum (so a sum cancelled to 0 or below
    goes on), then the Euler-Maclaurin tail. (SciPy's zeta stops on |term / sum|.)"""
    one = q.dtype.type(1)
    x = q.dtype.type(x)
    machep = q.dtype.type(_MACHEP)
    s, a, b = first, q.copy(), xp.zeros_like(q)
    done = xp.zeros(q.shape, dtype=bool)
    i = 0
    while True:
        going = ~done & ((i < 9) | (a <= 9))
        if not going.any():
            break
        i += 1
        a = xp.where(going, a + one, a)
        b = xp.where(going, a ** -x, b)
        s = xp.where(going, s + b, s)
        done |= going & (-machep * s < b) & (b < machep * s)
    w = a
    s = xp.where(done, s, s + b * w / (x - one) - b / 2)
    factor, k = one, q.dtype.type(0)
    for coefficient in _ZETA_A:
        factor = factor * (x + k)
        b = b / w
        term = factor * b / q.dtype.type(coefficient)
        s = xp.where(done, s, s + term)
        done |= xp.abs(term / s) < machep
        k += one
        factor = factor * (x + k)
        b = b / w
        k += one
    return s


# below this, PyTorch's loop (one step per unit up to q > 9) is SciPy's sum to a few ulps
_SUMMED_BELOW = -1e4


def _zeta(x, q, acc):
    """ζ(x, q), x an integer ≥ 3, as PyTorch's `zeta` for an input q: summed in `acc`, but
    its first term q^-x in q's own precision (so in float32 it underflows, or loses digits
    as a subnormal, where float64 would not); inf at the poles q = 0, -1, -2, ...; SciPy's
    sum for q > 0, PyTorch's own loop for the rest."""
    with quiet():
        first = (q ** q.dtype.type(-x)).astype(acc)
        q64 = q.astype(xp.float64)
        poles = (q64 <= 0) & (q64 == xp.floor(q64))
        below = (q64 <= 0) & (q64 > _SUMMED_BELOW) & ~poles
        full = scipy_call("zeta", xp.where(below | poles, 1.0, q64), x)
        head = q64 ** -float(x)
        rest = xp.where(xp.isinf(head), 0.0, full - head)  # the terms after the first
        result = xp.where(poles, xp.inf, rest + first.astype(xp.float64)).astype(acc)
        if below.any():
            result[below] = _zeta_below_zero(x, q[below].astype(acc), first[below])
    return result


def _polygamma_array(d, n: int):
    """ψ⁽ⁿ⁾(d), n ≥ 1, as PyTorch's kernels compute it: 16-bit floats in float32; n = 1 its
    trigamma; n ≥ 2 ζ(n + 1, d) in the accumulation type (float64 for float32, float32 for
    16 bits; the order n + 1 rounded to a 16-bit dtype), rounded to d's dtype, times ±n!."""
    work = d.astype(xp.float32) if d.dtype.itemsize == 2 else d
    if n == 1:
        return _trigamma(work).astype(d.dtype, copy=False)
    if d.dtype.itemsize == 2:
        z = _zeta(float(xp.asarray(n + 1, dtype=d.dtype)), work, xp.float32)
    else:
        z = _zeta(n + 1, work, xp.float64)
    y = _polygamma_factor(n, work.dtype) * z.astype(d.dtype).astype(work.dtype)
    # PyTorch's ζ(n + 1, +inf) is nan (its Euler-Maclaurin tail is 0·inf).
    return xp.where(d == xp.inf, xp.nan, y).astype(d.dtype, copy=False)


class Polygamma(Op):
    """y = ψ⁽ⁿ⁾(x), the n-th derivative of digamma;  gx = gy·ψ⁽ⁿ⁺¹⁾(x).

    As PyTorch: n = 1 is its `trigamma` kernel (_trigamma); n ≥ 2 is ±n!·ζ(n + 1, x) with n!
    in the input's dtype, so once n! overflows it (n ≥ 35 in float32, 171 in float64) the
    result is ±inf, or nan where ζ rounds to 0.
    """

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        d = x._data
        if n == 0:
            return scipy_call("psi", d)
        with quiet():  # overflow to inf and 0·inf = nan are PyTorch's answers too
            return _polygamma_array(d, n)

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


@op(method=True, inplace=True, out=mvlgamma_out)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension p (matches `torch.mvlgamma`)."""
    if isinstance(input, Tensor) and input.dtype.name == "bool":  # checked before p, even empty
        raise RuntimeError("The input tensor may not be a boolean tensor.")
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
# NOTE [torch's float32 Bessel functions] (ember/ops/special_bessel.py)
bessel_j0 = _no_grad_special("bessel_j0", bessel_array("j0"))
bessel_j1 = _no_grad_special("bessel_j1", bessel_array("j1"))
bessel_y0 = _no_grad_special("bessel_y0", bessel_array("y0"))
bessel_y1 = _no_grad_special("bessel_y1", bessel_array("y1"))
modified_bessel_i0 = _no_grad_special("modified_bessel_i0", _scipy_fn("i0"))
modified_bessel_i1 = _no_grad_special("modified_bessel_i1", _scipy_fn("i1"))
modified_bessel_k0 = _no_grad_special("modified_bessel_k0", _scipy_fn("k0"))
modified_bessel_k1 = _no_grad_special("modified_bessel_k1", _scipy_fn("k1"))
scaled_modified_bessel_k0 = _no_grad_special("scaled_modified_bessel_k0", _scipy_fn("k0e"))
scaled_modified_bessel_k1 = _no_grad_special("scaled_modified_bessel_k1", _scipy_fn("k1e"))
spherical_bessel_j0 = _no_grad_special(
    "spherical_bessel_j0", lambda d: _scipy.function("spherical_jn")(0, d))
