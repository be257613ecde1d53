"""glibc's double-precision `log1p` on whole arrays: fdlibm's algorithm, certified per element.

NOTE [glibc's log1p in NumPy]
torch's `exponential_` (and the scalar normal sampler) call glibc's `log1p`: fdlibm's algorithm
(sysdeps/ieee754/dbl-64/s_log1p.c). 1 + x = 2^k·(1 + f) with √½ < 1 + f < √2 and a correction
c = ((1 + x) - u)/u for the rounding of u = 1 + x; s = f/(2 + f), z = s², a series
R = z·Lp1 + z²·(Lp2 + z·Lp3) + z⁴·(Lp4 + z·Lp5) + z⁶·(Lp6 + z·Lp7), and
log1p = f - (hfsq - s·(hfsq + R)) for k = 0, else
k·ln2_hi - ((hfsq - (s·(hfsq + R) + (k·ln2_lo + c))) - f), with hfsq = f²/2.
x86-64 glibc runs a build where GCC fused the series' multiply-adds (measured), and emulating
those FMAs exactly costs more than calling glibc. So R is summed with plain multiplies and adds
and the answer certified instead: the fused R lies within `_SERIES_SLACK` ulps of it (six
extra roundings of terms no bigger than R, all terms positive), and the rest of the formula is
a chain of correctly rounded operations, each monotonic in R (and in A = k·ln2_lo + c, whose
fusing is unknown: within 2 ulps). So when the formula gives the same double at both ends of
those ranges, that double is glibc's. Where it does not (3% of torch's arguments) and for the
special inputs, glibc is called one by one. Every operation outside the series is glibc's own,
in its order; checked against `math.log1p` on 5·10⁶ arguments, all equal.
"""

import math

from ember._backend import quiet, xp
from ember._rng.libm import per_element
from ember._threads import parallel_blocks

_f64 = xp.float64
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LP = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
_SERIES_SLACK = 8.0  # ulps of R
_CHUNK = 1 << 15  # elements per chunk: the temporaries stay in the L2 cache
_MIN_BLOCK = 1 << 17  # elements per thread before the work is split
_PER_ELEMENT_BELOW = 1024  # (a call of the array version costs ~0.15 ms, glibc ~0.1 µs a value)


def glibc_log1p(x):
    """glibc's log1p of a float64 array (NOTE above)."""
    x = xp.ascontiguousarray(x, dtype=_f64)
    flat = x.reshape(-1)
    if flat.size < _PER_ELEMENT_BELOW:  # glibc itself: cheaper than the array passes here
        return per_element(math.log1p, x)
    out = xp.empty_like(flat)
    unsure = xp.zeros(flat.size, dtype=bool)

    def block(start, stop):
        for first in range(start, stop, _CHUNK):
            last = min(first + _CHUNK, stop)
            with quiet():
                out[first:last], unsure[first:last] = _log1p_chunk(flat[first:last])

    parallel_blocks(block, flat.size, _MIN_BLOCK)
    if unsure.any():
        out[unsure] = per_element(math.log1p, flat[unsure])
    return out.reshape(x.shape)


def _high_word(values):
    """The upper 32 bits of each double, as a signed int32 (fdlibm's GET_HIGH_WORD)."""
    return (values.view(xp.uint64) >> xp.uint64(32)).astype(xp.uint32).view(xp.int32)


def _with_high_word(values, high):
    """values with their upper 32 bits replaced (fdlibm's SET_HIGH_WORD)."""
    low = values.view(xp.uint64) & xp.uint64(0xFFFF_FFFF)
    return ((high.view(xp.uint32).astype(xp.uint64) << xp.uint64(32)) | low).view(_f64)


def _log1p_chunk(x):
    """(log1p, unsure) for one chunk: unsure marks what glibc must compute itself."""
    hx = _high_word(x)
    # k = 0, f = x for -0.2929 < x < 0.41422; otherwise reduce u = 1 + x
    direct = (hx < 0x3FDA_827A) & ((hx > 0) | (hx <= xp.int32(-0x402D_413D)))  # 0xbfd2bec3
    u = 1.0 + x
    hu = _high_word(u)
    k = (hu >> 20) - 1023
    c = xp.where(k > 0, 1.0 - (u - x), x - (u - 1.0)) / u  # the rounding of 1 + x
    hu &= 0x000F_FFFF
    low = hu < 0x6A09E  # normalise u into [√½, √2)
    u = _with_high_word(u, xp.where(low, hu | 0x3FF0_0000, hu | 0x3FE0_0000))
    k += ~low
    hu = xp.where(low, hu, (0x0010_0000 - hu) >> 2)
    f = xp.where(direct, x, u - 1.0)
    k = xp.where(direct, 0, k).astype(_f64)
    c[direct] = 0.0  # then the k ≠ 0 formula is the k = 0 one, negated twice (exactly)
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    series = z * _LP[0] + z * z * (_LP[1] + z * _LP[2])
    series += (z * z) * (z * z) * (_LP[3] + z * _LP[4])
    series += (z * z) * (z * z) * (z * z) * (_LP[5] + z * _LP[6])
    # R·2^-49 ≥ 8 ulps of R; with the sign of s it moves the result up, as a larger A does
    slack = xp.copysign(series * _SERIES_SLACK * 2.0 ** -52, s)
    scaled_lo = k * _LN2_LO + c
    lo_slack = xp.abs(scaled_lo) * 2.0 ** -51  # ≥ 2 ulps of A
    ends = [_finish(f, hfsq, s, series + sign * slack, k, scaled_lo + sign * lo_slack)
            for sign in (-1.0, 1.0)]
    result = ends[0]
    unsure = result != ends[1]
    # special inputs: |x| < 2^-29, |f| < 2^-20 (hu = 0), x ≤ -1, ≥ 2^53, inf and nan
    unsure |= ((hx & 0x7FFF_FFFF) < 0x3E20_0000) | ((hu == 0) & ~direct)
    unsure |= ~((x > -1.0) & (hx < 0x4340_0000))
    return result, unsure


def _finish(f, hfsq, s, series, k, scaled_lo):
    """The end of fdlibm's formula for a given R and k·ln2_lo + c. With k = 0 (and c = 0) it
    is -((hfsq - s·t) - f), which rounds as fdlibm's f - (hfsq - s·t)."""
    t = hfsq + series
    t *= s
    t += scaled_lo
    xp.subtract(hfsq, t, out=t)
    t -= f
    xp.subtract(k * _LN2_HI, t, out=t)
    return t
