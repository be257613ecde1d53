"""The orthogonal polynomials of torch.special: Chebyshev (T, U, V, W and their shifted forms),
Hermite (H, He), Laguerre (L) and Legendre (P), evaluated at x for integer degrees n.

Each is its three-term recurrence p₍ₖ₊₁₎ = f(k, x, pₖ, p₍ₖ₋₁₎) run on whole arrays, up to the
largest degree asked for (a loop over degrees, never over elements). The degree is truncated to
an integer and a negative degree gives 0, as in PyTorch. PyTorch has no derivatives for these:
the results never require grad.
"""

from ember import _dtype
from ember._backend import quiet, xp
from ember._tensor import Tensor
from ember.ops._util import as_operand, binary_operands


def _evaluate(x, n, p1, step):
    """Σ over degrees: p₀ = 1, p₁ = p1(x), p₍ₖ₊₁₎ = step(k, x, pₖ, p₍ₖ₋₁₎), picked at degree n."""
    degree = xp.trunc(n).astype(xp.int64) if n.dtype.kind == "f" else n.astype(xp.int64)
    previous = xp.ones_like(x)
    current = p1(x)
    out = xp.where(degree == 0, previous, xp.where(degree == 1, current, 0))
    top = int(degree.max()) if degree.size else 0
    with quiet():
        for k in range(1, top):
            previous, current = current, step(k, x, current, previous)
            out = xp.where(degree == k + 1, current, out)
    return xp.where(degree < 0, 0, out).astype(x.dtype, copy=False)


def _chebyshev_step(k, x, p, q):
    return 2 * x * p - q


def _hermite_step(k, x, p, q):
    return 2 * x * p - 2 * k * q


def _hermite_e_step(k, x, p, q):
    return x * p - k * q


def _laguerre_step(k, x, p, q):
    return ((2 * k + 1 - x) * p - k * q) / (k + 1)


def _legendre_step(k, x, p, q):
    return ((2 * k + 1) * x * p - k * q) / (k + 1)


_FAMILIES = {
    "chebyshev_polynomial_t": (lambda x: x, _chebyshev_step),
    "chebyshev_polynomial_u": (lambda x: 2 * x, _chebyshev_step),
    "chebyshev_polynomial_v": (lambda x: 2 * x - 1, _chebyshev_step),
    "chebyshev_polynomial_w": (lambda x: 2 * x + 1, _chebyshev_step),
    "hermite_polynomial_h": (lambda x: 2 * x, _hermite_step),
    "hermite_polynomial_he": (lambda x: x, _hermite_e_step),
    "laguerre_polynomial_l": (lambda x: 1 - x, _laguerre_step),
    "legendre_polynomial_p": (lambda x: x, _legendre_step),
}


def polynomial(name, input, n, shifted=False) -> Tensor:
    """The polynomial `name` of degree n at input (shifted: at 2·input - 1)."""
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(n).__name__})")
    x, degree = binary_operands(input, n)
    if not x.dtype.is_floating_point:
        x = as_operand(x, _dtype.get_default_dtype())
    d = x._data
    if shifted:
        d = 2 * d - 1
    p1, step = _FAMILIES[name]
    return Tensor._make(_evaluate(d, degree._data, p1, step))
