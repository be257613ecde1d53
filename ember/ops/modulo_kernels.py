"""fmod and remainder on float arrays: exact like C's fmod, with PyTorch's signs, and fast.

NOTE [fmod through float64]
C's fmod(a, b) = a - n·b with n = trunc(a/b) is always exact, and NumPy's float32 `fmod` calls
the C function element by element (about 12 ns an element, 15 times PyTorch's vectorised
loop). For float32 operands, float64 gives the same exact result in whole-array passes:
- a/b in float64 is within |a/b|·2^-53 of the true quotient, while a quotient of float32
  numbers that is not an integer lies at least 2^-24 (relative: 2^-48) from one, so
  trunc(a/b) is n exactly whenever |a/b| < 2^29;
- n·b then has at most 29 + 24 bits (exact in float64), and a - n·b, smaller than b and a
  multiple of the smaller of a's and b's last bits, is exact too; it is a float32 number
  (fmod's result always is), with the sign of a once a zero takes a's sign.
Everything else (|a/b| ≥ 2^29, an infinite b, NaN and infinite quotients) goes to NumPy's
fmod, element by element as before.

NOTE [PyTorch's fmod overflows]
PyTorch's vectorised fmod (SLEEF's `fmodf` / `fmod`, which its CPU kernels use for all but
the last few elements of a tensor) returns NaN, not the exact result, where its first
quotient estimate toward0(|a|)·toward0(1/|b|) overflows (|b| below the smallest normal is
scaled by 2^25, or 2^54 for float64, first); toward0 is the next number toward zero. ember
gives that NaN too (checked against torch on 8·10^6 pairs around the limit), so `fmod` and
`remainder` agree with PyTorch on every element of a big tensor; PyTorch's scalar tail and
tiny tensors would give the exact value there instead.
"""

from ember._backend import quiet, xp
from ember.ops._selection import select_into
from ember.ops.activation_kernels import chunked

_EXACT_QUOTIENT = 2.0 ** 29  # below it, float64 truncates a float32 quotient exactly
_MIN_ELEMENTS = 1 << 12  # smaller arrays: NumPy's fmod in one call


def fmod(a, b):
    """PyTorch's fmod of a and b (arrays of one float dtype, broadcast): C's exact fmod, NaN
    where b is 0 and where PyTorch's quotient overflows (NOTE [PyTorch's fmod overflows])."""
    with quiet():
        if a.dtype != xp.float32 or b.dtype != xp.float32 or max(a.size, b.size) < _MIN_ELEMENTS:
            out = xp.asarray(xp.fmod(a, b))
            if out.dtype.kind not in "biu":  # (integers: C's %, no quotient estimate)
                out[_quotient_overflows(a, b)] = xp.nan
            return out
        return _fmod_float32(a, b)


def _quotient_overflows(a, b):
    """Where SLEEF's first quotient estimate overflows (NOTE [PyTorch's fmod overflows]), in
    float32 for 16- and 32-bit floats (PyTorch's Half and BFloat16 run the float kernel)."""
    work = xp.float64 if a.dtype == xp.float64 else xp.float32
    numerator = xp.abs(a.astype(work, copy=False))
    denominator = xp.abs(b.astype(work, copy=False))
    finfo = xp.finfo(work)
    subnormal = denominator < finfo.tiny
    if subnormal.any():
        scale = work(2.0 ** (25 if work == xp.float32 else 54))
        numerator, denominator = xp.broadcast_arrays(numerator, denominator)
        numerator = xp.where(subnormal, numerator * scale, numerator)
        denominator = xp.where(subnormal, denominator * scale, denominator)
    estimate = _toward_zero(numerator) * _toward_zero(work(1) / denominator)
    overflows = xp.isinf(estimate)
    overflows &= xp.isfinite(a)  # (inf / b and b = 0 are NaN already)
    overflows &= denominator != 0
    return overflows


def _toward_zero(x):
    """The next number toward zero from each nonzero x (infinity gives the largest finite):
    its bits less one."""
    x = xp.array(x, copy=True, ndmin=0)
    bits = x.view(xp.uint32 if x.dtype == xp.float32 else xp.uint64)
    xp.subtract(bits, 1, out=bits, where=x != 0, casting="unsafe")
    return x


def _fmod_float32(a, b):
    """fmod of float32 arrays through float64 (NOTE [fmod through float64]), in cache-sized
    chunks on the intra-op threads when b is one number or has a's shape."""
    out = xp.empty(xp.broadcast_shapes(a.shape, b.shape), dtype=xp.float32)
    if b.size == 1 and out.shape == a.shape:
        divisor = b.reshape(())
        return chunked(lambda o, x: _fmod_chunk(o, x, divisor), out, a)
    if a.shape == b.shape:
        return chunked(_fmod_chunk, out, a, b)
    _fmod_chunk(out, a, b)
    return out


def _fmod_chunk(out, a, b):
    """out = fmod(a, b) for float32 a and b that broadcast to out."""
    wide_a, wide_b = a.astype(xp.float64), b.astype(xp.float64)
    quotient = xp.divide(wide_a, wide_b)
    unsure = ~(xp.abs(quotient) < _EXACT_QUOTIENT)  # (NaN included)
    unsure |= xp.isinf(wide_b)
    xp.trunc(quotient, out=quotient)
    xp.multiply(quotient, wide_b, out=quotient)
    rest = xp.subtract(wide_a, quotient, out=quotient)
    xp.copysign(rest, wide_a, out=rest)  # a zero takes a's sign, as fmod's
    xp.copyto(out, rest, casting="same_kind")  # exact: a float32 number
    if unsure.any():  # (every quotient that can overflow is among them)
        a_full, b_full = xp.broadcast_arrays(a, b)
        a_unsure, b_unsure = a_full[unsure], b_full[unsure]
        exact = xp.fmod(a_unsure, b_unsure)
        exact[_quotient_overflows(a_unsure, b_unsure)] = xp.nan
        out[unsure] = exact


def remainder(a, b):
    """PyTorch's float remainder: fmod, plus b where that is nonzero and its sign is not b's.
    (NumPy's `remainder` gives a zero b's sign; PyTorch's keeps fmod's, the sign of a.)"""
    mod = fmod(a, b)
    moved = xp.not_equal(mod, 0)
    moved &= xp.less(b, 0) != xp.less(mod, 0)
    if mod.dtype.kind != "f" or type(mod) is not xp.ndarray:  # (ml_dtypes' bfloat16)
        with quiet():
            xp.add(mod, b, out=mod, where=moved)
        return mod
    with quiet():
        shifted = xp.add(mod, b, out=xp.empty(mod.shape, dtype=mod.dtype))
    return select_into(shifted, moved, shifted, mod)  # (`where=` branches per element)
