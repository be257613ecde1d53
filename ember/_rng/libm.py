"""glibc's double-precision log1p, log, sin and cos, for torch's scalar samplers.

NOTE [Which libm]
torch's scalar samplers (`at::normal_distribution<double>`, the float64 Box–Muller) call the C
library's `log1p`, `log`, `sin` and `cos`. NumPy's float64 `sin` and `cos` agreed with glibc's
on all of 2·10⁶ of torch's arguments (2π·u); its `log` differs in ~0.4% of them and its `log1p`
in ~7% (NumPy has SIMD versions of its own), and long-double versions rounded to double differ
too. Python's `math` module calls the C library's functions, so `call` maps them over an array
(~0.07 µs an element). The float64 Box–Muller's log (one per two samples) is mostly vectorised
instead (NOTE [glibc's log from a long-double log]). Ports tried and not used: glibc's
table-driven `log` with its fused multiply-adds (agreed with glibc on 7·10⁵ arguments, twice
as slow) and fdlibm's `log1p` as x86-64 glibc runs it (FMA in its series; agreed on 6·10⁶
arguments, but the emulated FMAs made it twice as slow as `math.log1p`).
"""

import functools
import math
import sys

from ember._backend import quiet, xp

_FUNCTIONS = {name: getattr(math, name) for name in ("log1p", "log")}


def call(name: str, values):
    """glibc's `name` (log1p, log, sin or cos) of each value of a float64 array."""
    values = xp.asarray(values, dtype=xp.float64)
    if name in ("sin", "cos"):  # NumPy's agree with glibc's (NOTE above)
        return getattr(xp, name)(values)
    if values.size == 0:
        return values.copy()
    return per_element(_FUNCTIONS[name], values)


def per_element(fn, values):
    """fn (a `math` function) of each value of a float64 array: a C-level loop over a list,
    a fifth faster than `frompyfunc`."""
    flat = values.reshape(-1)
    return xp.fromiter(map(fn, flat.tolist()), dtype=xp.float64, count=flat.size).reshape(
        values.shape)


@functools.cache
def _float_functions():
    """The C library's float32 acosf, sinf and cosf through ctypes ({} where there is none);
    loaded at first use: finding the library costs ~5 ms, a fortieth of `import ember`."""
    import ctypes.util
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    except OSError:
        return {}
    found = {}
    for name in ("acos", "sin", "cos"):
        fn = getattr(libm, name + "f", None)
        if fn is not None:
            fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
            found[name] = fn
    return found


def call_c(name: str, values):
    """The C library's acos, sin or cos of each value, in the array's precision (float32 or
    float64), as torch's scalar CPU kernels call them (std::acos(float) is acosf). NumPy's own
    float64 acos differs from glibc's in ~10% of values, its float32 functions in ~35%; where
    the C library cannot be loaded, float32 values are rounded from the float64 result."""
    values = xp.asarray(values)
    if values.dtype == xp.float32:
        fn = _float_functions().get(name)
        if fn is None:
            return call_c(name, values.astype(xp.float64)).astype(xp.float32)
        flat = values.reshape(-1)
        return xp.fromiter(map(fn, flat.tolist()), dtype=xp.float32, count=flat.size).reshape(
            values.shape)
    if name in ("sin", "cos"):  # NumPy's agree with glibc's (NOTE [Which libm])
        return getattr(xp, name)(values)
    return per_element(_nan_outside_domain(getattr(math, name)), values.astype(xp.float64))


def _nan_outside_domain(fn):
    """math's fn, NaN where math refuses (acos outside [-1, 1]) as C gives it."""
    def guarded(value):
        try:
            return fn(value)
        except ValueError:
            return math.nan
    return guarded


# NOTE [glibc's log from a long-double log]
# glibc's `log` (2.28 on, from Arm's optimized-routines) is within 0.534 ulp of the true value
# (its source's bound: 0.5 + 4.13/128 ulp, + 0.002 without FMA). The x87 long-double log is
# within ~2^-10 ulp of double. When the long-double value lies within 0.45 ulp of the double
# R it rounds to, the true log lies within 0.451 ulp of R, every other double is more than
# 0.549 ulp away, and glibc's answer must be R. The 11 mantissa bits that long double has
# beyond double say where it lies between two doubles, so the check is two integer passes.
# Only the rest (10% of values, near a midpoint, and results that are powers of two) go to
# glibc one by one. Where long double is not the x87 format, all of them do.
_LONG_DOUBLE_OK = (xp.finfo(xp.longdouble).nmant == 63 and xp.dtype(xp.longdouble).itemsize == 16
                   and sys.byteorder == "little")
_NEAR_MIDPOINT = (int(0.45 * 2048) + 1, int(0.55 * 2048))  # the extra 11 bits, unsure range


def glibc_log(x):
    """glibc's `log` of a float64 array of positive finite values (NOTE above)."""
    shape = xp.shape(x)
    x = xp.asarray(x, dtype=xp.float64).reshape(-1)
    if not _LONG_DOUBLE_OK or x.size == 0:
        return call("log", x).reshape(shape)
    with quiet():  # log(0) and log(-1): glibc's answer (through `math`) decides, below
        accurate = xp.log(x.astype(xp.longdouble))
    result = accurate.astype(xp.float64)
    extra = accurate.view(xp.uint64)[::2] & xp.uint64(0x7FF)  # the x87 mantissa's low bits
    extra -= xp.uint64(_NEAR_MIDPOINT[0])
    unsure = extra <= xp.uint64(_NEAR_MIDPOINT[1] - _NEAR_MIDPOINT[0])  # wraps below the range
    # at a power of two the ulp below is half as big: leave those to glibc (and 0, ±inf, nan)
    unsure |= (result.view(xp.uint64) & xp.uint64((1 << 52) - 1)) == 0
    unsure |= ~(x > 0)
    if unsure.any():
        result[unsure] = call("log", x[unsure])
    return result.reshape(shape)
