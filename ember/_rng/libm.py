"""glibc's double-precision log1p, log, sin and cos, for torch's scalar samplers.

NOTE [Which libm]
torch's scalar samplers (`at::normal_distribution<double>`, the float64 Box–Muller) call the C
library's `log1p`, `log`, `sin` and `cos`. NumPy's float64 `sin` and `cos` agreed with glibc's
on all of 2·10⁶ of torch's arguments (2π·u); its `log` differs in ~0.4% of them and its `log1p`
in ~7% (NumPy has SIMD versions of its own), and long-double versions rounded to double differ
too. Python's `math` module calls the C library's functions, so `call` maps them over an array:
a C-level loop of ~0.15 µs an element, for the scalar path and the float64 Box–Muller's log
(one per two samples). A NumPy port of glibc's table-driven `log` (with its fused
multiply-adds) agreed with glibc on 7·10⁵ arguments but took twice as long, so it is not used.
"""

import math

from ember._backend import xp

_UFUNCS = {name: xp.frompyfunc(getattr(math, name), 1, 1) for name in ("log1p", "log")}


def call(name: str, values):
    """glibc's `name` (log1p, log, sin or cos) of each value of a float64 array."""
    values = xp.asarray(values, dtype=xp.float64)
    if name in ("sin", "cos"):  # NumPy's agree with glibc's (NOTE above)
        return getattr(xp, name)(values)
    if values.size == 0:
        return values.copy()
    return _UFUNCS[name](values).astype(xp.float64)


def glibc_log(x):
    """glibc's `log` of a float64 array."""
    return call("log", x)
