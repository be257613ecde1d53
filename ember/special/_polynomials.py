"""The orthogonal polynomials of torch.special: Chebyshev (T, U, V, W and their shifted forms),
Hermite (H, He), Laguerre (L) and Legendre (P), evaluated at x for integer degrees n.

PyTorch evaluates each element on its own: a few early returns first (a negative degree gives 0,
x = ±1 and the Chebyshev closed forms cos(n·acos x), ...; a Hermite degree past 128 in float32,
512 in float64 gives NaN), then the three-term recurrence p₍ₖ₊₁₎ = f(k, x, pₖ, p₍ₖ₋₁₎), which
stops as soon as a term is NaN. Here the early returns are masks over the whole array and the
recurrence runs on the remaining elements together, dropping each one when its degree is
reached or its term turns NaN -- so a huge degree costs what it costs PyTorch (a closed form, or
a few steps to overflow), never a loop to n. The degree is the operand cast to int64 (C's
truncation; NaN, ±inf and out-of-range floats give INT64_MIN on x86, so 0). Bit for bit: each
step is one fused multiply-add as GCC compiles PyTorch's loop, and the closed forms call the C
library's acos/sin/cos (a one-ulp difference in acos x is amplified n times). Where PyTorch too
runs n steps (Legendre for |x| < 1, Laguerre for x > 0) so does this, far slower per step.
PyTorch has no derivatives for these: the results never require grad.
"""

from ember import _dtype
from ember._backend import quiet, xp
from ember._rng.libm import call_c
from ember._rng.mathfun import fma32, fma64
from ember._tensor import Tensor
from ember.ops._util import as_operand, binary_operands

_INT64_MIN = -(2 ** 63)


def _degrees(n):
    """The degree as PyTorch's static_cast<int64_t>(n): truncated, INT64_MIN where undefined."""
    if n.dtype.kind != "f":
        return n.astype(xp.int64)
    with quiet():
        fits = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 63)
        return xp.where(fits, xp.trunc(xp.where(fits, n, 0)), _INT64_MIN).astype(xp.int64)


def _parity(n, even, odd):
    return xp.where(n % 2 == 0, even, odd)


def _overflows(y, n):
    """Where PyTorch's loop surely ends in NaN for |y| > 1: Chebyshev and Legendre terms grow
    at least like e^(n·t)/(n+1) with t = acosh|y|, overflow to inf, and inf - inf is NaN two
    steps later. The 20% margin keeps clear of the step where that happens."""
    log_max = 88.8 if y.dtype == xp.float32 else 709.8
    size = xp.abs(y.astype(xp.float64))
    t = xp.arccosh(xp.where(xp.isfinite(size) & (size > 1), size, 1))
    nf = n.astype(xp.float64)
    return (t > 0) & (nf * t > 1.2 * (log_max + 4 + xp.log1p(xp.maximum(nf, 0)))) & (n > 8)


def _laguerre_overflows(x, n):
    """Where PyTorch's Laguerre loop surely ends in NaN: for x = -s < 0 every term of
    Lₙ(-s) = Σₖ C(n, k)·sᵏ/k! is positive, and the one at k = √(n·s) alone (bounded below
    through C(n, k) ≥ (n/k)ᵏ and k! ≤ e·k^(k+½)·e⁻ᵏ) overflows with a 20% margin."""
    log_max = 88.8 if x.dtype == xp.float32 else 709.8
    s = xp.where(xp.isfinite(x) & (x < 0), -x.astype(xp.float64), 0)
    nf = xp.maximum(n.astype(xp.float64), 1)
    k = xp.maximum(xp.minimum(xp.floor(xp.sqrt(nf * s)), nf), 1)
    term = k * xp.log(nf / k) + k * xp.log(xp.maximum(s, 1e-300)) - (k + 0.5) * xp.log(k) + k - 1
    return (s > 0) & (term > 1.2 * (log_max + 4)) & (n > 8)


def _recurrence(x, n, first, step, doomed=False):
    """torch's loop: p₀ = 1, p₁ = first, pⱼ = step(j, x, pⱼ₋₁, pⱼ₋₂) up to degree n or a NaN
    (doomed: where it is known to end in NaN)."""
    out = xp.full(x.shape, xp.nan, x.dtype)
    out[n == 0] = 1
    out[n == 1] = first[n == 1]
    live = xp.flatnonzero((n >= 2) & ~xp.isnan(first) & ~doomed)
    x, n, p, q = x[live], n[live], xp.ones(live.size, x.dtype), first[live]
    j = 1
    while live.size:
        j += 1
        p, q = q, step(j, x, q, p).astype(x.dtype, copy=False)
        done = n == j
        out[live[done]] = q[done]
        keep = ~done & ~xp.isnan(q)
        if not keep.all():
            live, x, n, p, q = live[keep], x[keep], n[keep], p[keep], q[keep]
    return out


def _fused(a, b, c):
    """round(a·b + c) once: GCC contracts PyTorch's `a * b - k * p` into an FMA."""
    if a.dtype == xp.float32:
        return fma32(a, b, c)
    # the emulation's splits overflow past ~1e300: scale b and c by 2⁻⁶⁴ there (exact)
    big = (xp.abs(b) > 2.0 ** 960) | (xp.abs(c) > 2.0 ** 960)
    scale = xp.where(big, 2.0 ** -64, 1.0)
    fused = fma64(a, b * scale, c * scale) / scale
    # a zero result with c = 0 takes IEEE's sign, which the emulation's sum of parts loses:
    # round(a·b) if a·b ≠ 0, else the sum of the two zeros (U₃(0) = fma(0, -1, -0) = -0)
    fused = xp.where((fused == 0) & (c == 0), xp.where((a == 0) | (b == 0), a * b + c, a * b),
                     fused)
    return xp.where(xp.isfinite(fused) | ~xp.isfinite(a * b + c), fused, a * b + c)


def _chebyshev_step(j, y, q, p):
    return _fused(y + y, q, -p)


def _hermite_step(j, x, q, p):
    return _fused(x + x, q, -((2 * (j - 1)) * p))


def _hermite_e_step(j, x, q, p):
    return _fused(x, q, -((j - 1) * p))


def _laguerre_step(j, x, q, p):
    k = j - 1
    return _fused((k + k) + (1 - x), q, -(k * p)) / (k + 1)


def _legendre_step(j, x, q, p):
    k = j - 1
    return _fused((k + k + 1) * x, q, -(k * p)) / (k + 1)


def _chebyshev_closed(kind, y, n, at_one):
    """PyTorch's closed forms for |y| < 1 (θ = acos y): T = cos nθ, U = sin (n+1)θ / sin θ,
    V = cos (n+½)θ / cos ½θ, W = sin (n+½)θ / sin ½θ; where the divisor is 0 (or the half
    angle's sine or cosine rounds to 1) they fall back as PyTorch does."""
    theta = call_c("acos", y)
    nf, dtype = n.astype(y.dtype), y.dtype
    if kind == "t":
        return call_c("cos", nf * theta)
    if kind == "u":
        m = (n + 1).astype(dtype)
        sine = call_c("sin", theta)
        return xp.where(sine != 0, call_c("sin", m * theta) / sine,
                        m * call_c("cos", m * theta) / y)
    half, angle = theta / 2, (nf + xp.asarray(0.5, dtype)) * theta
    if kind == "v":
        return xp.where(call_c("sin", half) != 1, call_c("cos", angle) / call_c("cos", half),
                        _parity(n, 2 * n + 1, -(2 * n + 1)))
    return xp.where(call_c("cos", half) != 1, call_c("sin", angle) / call_c("sin", half), at_one)


def _chebyshev(kind, x, n, shifted):
    """T, U, V or W (shifted: at y = 2x - 1), with PyTorch's early returns."""
    dtype = x.dtype
    y = x + x - 1 if shifted else x
    top = {"t": xp.ones(n.shape), "u": n + 1, "v": xp.ones(n.shape), "w": 2 * n + 1}[kind]
    bottom = {"t": _parity(n, 1, -1), "u": _parity(n, n + 1, -(n + 1)),
              "v": _parity(n, 2 * n + 1, -(2 * n + 1)), "w": _parity(n, 1, -1)}[kind]
    # the closed forms start past degree 6 (8 unshifted U, V, W; 4 shifted W)
    after = {"t": 6, "u": 6, "v": 6, "w": 4}[kind] if shifted else {"t": 6}.get(kind, 8)
    closed = (n > after) & (xp.abs(y) < 1)
    # shifted: x = 1 and x = 0, and also a tiny x whose y rounds to -1 (where PyTorch's loop
    # runs n steps of exact integers, the same values)
    edges = ((x == 1), (x == 0) | (y == -1)) if shifted else ((y == 1), (y == -1))
    first = {"t": y, "u": y + y, "v": y + y - 1, "w": y + y + 1}[kind]
    early = (n < 0) | edges[0] | edges[1] | closed
    out = _recurrence(y, xp.where(early, 0, n), first, _chebyshev_step, _overflows(y, n))
    if closed.any():
        # W where cos(θ/2) rounds to 1: its value at 1 unshifted, at -1 (x = 0) shifted
        at_one = bottom[closed] if shifted else xp.where(y[closed] > 0, top[closed],
                                                         bottom[closed])
        out[closed] = _chebyshev_closed(kind, y[closed], n[closed], at_one)
    out = xp.where(edges[1], bottom.astype(dtype), out)
    out = xp.where(edges[0], top.astype(dtype), out)
    return xp.where(n < 0, 0, out)


def _hermite(step, first, x, n):
    """H or He: NaN past degree 128 (float32) or 512 (float64), as PyTorch gives up there."""
    limit = 128 if x.dtype == xp.float32 else 512
    beyond = n > limit
    out = _recurrence(x, xp.where(beyond, 0, n), first, step)
    return xp.where(n < 0, 0, xp.where(beyond, xp.nan, out))


def _evaluate(name, x, n, shifted):
    """The polynomial `name` of degrees n (int64) at x, element by element as PyTorch."""
    x, n = xp.broadcast_arrays(x, n)
    x, n = x.ravel(), n.ravel()
    if name.startswith("chebyshev"):
        return _chebyshev(name[-1], x, n, shifted)
    if name == "hermite_polynomial_h":
        return _hermite(_hermite_step, x + x, x, n)
    if name == "hermite_polynomial_he":
        return _hermite(_hermite_e_step, x, x, n)
    if name == "laguerre_polynomial_l":
        out = _recurrence(x, xp.where(x == 0, 0, n), 1 - x, _laguerre_step,
                          _laguerre_overflows(x, n))
        return xp.where(n < 0, 0, xp.where(x == 0, 1, out))
    edges = xp.abs(x) == 1
    out = _recurrence(x, xp.where(edges, 0, n), x, _legendre_step, _overflows(x, n))
    return xp.where(n < 0, 0, xp.where(edges, _parity(n, 1.0, xp.where(x > 0, 1.0, -1.0)), out))


def polynomial(name, input, n, shifted=False) -> Tensor:
    """The polynomial `name` of degree n at input (shifted: at 2·input - 1)."""
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(n).__name__})")
    x, degree = binary_operands(input, n)
    if not x.dtype.is_floating_point:
        x = as_operand(x, _dtype.get_default_dtype())
    d = x._data
    shape = xp.broadcast_shapes(d.shape, degree._data.shape)
    with quiet():
        out = _evaluate(name, d, _degrees(degree._data), shifted)
    return Tensor._make(out.astype(d.dtype, copy=False).reshape(shape))
