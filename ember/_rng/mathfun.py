"""torch's float32 Box–Muller on whole arrays: the log and sin/cos of avx_mathfun.h, bit for bit.

NOTE [The float32 normal kernel]
For 16 or more contiguous float32 elements, `torch.randn` runs `NormalFill16` (ATen's
DistributionTemplates.h) on blocks of 16 uniforms: u1 = 1 - u[0:8], u2 = u[8:16],
r = sqrt(-2·log(u1)), θ = 2π·u2, out = fma(r·cos θ, std, mean), fma(r·sin θ, std, mean). On x86
the log and the sine/cosine are `log256_ps` and `sincos256_ps` of avx_mathfun.h (Cephes
polynomials in float32; the AVX-512 build dispatches the normal kernel to its AVX2 version).
GCC contracts some of their multiply-adds into fused ones, so each step below is either a
float32 multiply and add or one rounding of a·b + c (NOTE [Emulating a float32 FMA]). Which
steps are fused was found by comparing with torch; two contractions are not the obvious ones:
in the log, `y·z + e·q1` fuses the multiply by z (e·q1 is rounded first), and in the cosine
polynomial `y·z·z - z/2` fuses the last multiply by z.

Every uniform is k·2^-24 for the low 24 bits k of a word, so the log only ever sees the 2^24
values 1 - k·2^-24 and the sine/cosine the 2^24 values round(2π·k·2^-24): the kernel below
agrees with torch on all of them (tests/_rng/test_mathfun.py feeds torch chosen words; all
2 × 2^24 were checked once that way).

Speed: the kernel works straight from the words, in chunks of `_CHUNK_ROWS` blocks whose
buffers (preallocated per thread, every step an `out=` ufunc) stay in the cache through the
~110 passes; a big draw is split in two parts, one transformed by the pool while this thread
draws the other's words (`normal_rows`). Selections are bit operations on int32 views: NumPy's
`where` and strided halves are slow. Half the time goes to the 16 emulated FMAs (two float
conversions, a float64 multiply and add each).

Measured and left: tables of corrections. torch's radius, sine and cosine differ from NumPy's
own float32 log/sin/cos by at most a few units in the last place (radius -2..2, sine -1..1,
cosine -6..1 over all 2^24 inputs), so int8 tables built at run time (0.3 s, 32 MB) plus a
gather would replace the polynomials. The gathers are random reads: from 16 MB tables they
made randn(10**6) slower than this kernel, and even from tables small enough for the cache
(a bound, not a design) it took 1.8x torch's time, not the 1.5x aimed for.
"""

from ember._backend import xp
from ember._threads import parallel_blocks

_f32 = xp.float32
_f64 = xp.float64
_i32 = xp.int32
# Blocks of 16 per chunk. Measured for randn(10**6) on an idle 2-core machine (wall, medians):
# 2048 rows (buffers in L2) 21 ms on one thread but 25 ms on two, whose many short ufunc calls
# then queue for the GIL; 8192 rows 17.3 ms on two threads (22.6 on one); 16384 no better.
_CHUNK_ROWS = 8192
_MIN_ROWS = 4096  # rows per thread before the work is split

_LOG_P = tuple(_f64(_f32(p)) for p in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
    -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1))
_LOG_Q1 = _f32(-2.12194440e-4)
_LOG_Q2 = _f32(0.693359375)
_SQRT_HALF_MANTISSA = 0x3504F3  # float32 √½ is 0x3F3504F3: below it m < √½
_FOUR_OVER_PI = _f32(1.27323954473516)
_DP1, _DP2 = _f32(-0.78515625), _f32(-2.4187564849853515625e-4)
_DP3 = _f64(_f32(-3.77489497744594108e-8))
_COS_P = tuple(_f64(_f32(p)) for p in (2.443315711809948e-005, -1.388731625493765e-003,
                                       4.166664568298827e-002))
_SIN_P = tuple(_f64(_f32(p)) for p in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_TWO_PI = _f32(2.0 * 3.141592653589793)
# 2π·(k·2^-24) and (2π·2^-24)·k are the same real number (scaling by 2^-24 is exact), so
# float32(k)·_THETA_STEP rounds to torch's θ = 2π·u2.
_THETA_STEP = _f32(_TWO_PI * _f32(2.0 ** -24))
_LOW24 = (1 << 24) - 1
_HALF_ROW = xp.dtype("V32")  # 8 float32 or int32 values, half a block


def fma32(a, b, c):
    """round32(a·b + c), the FMA instruction's one rounding (a, b, c float32 values).

    NOTE [Emulating a float32 FMA]
    a·b of two float32 numbers is exact in float64; the float64 sum a·b + c is then rounded to
    float32. That is one rounding of the exact a·b + c unless the float64 sum was inexact *and*
    landed exactly halfway between two float32 numbers, when round-half-even may go the other
    way: about one operation in 2^29. In the Box–Muller's log and sine/cosine it never
    matters: their only inputs are the 2^24 values of each half (NOTE [The float32 normal
    kernel]) and all of them give torch's bits. Nor can any of their fused steps be a plain
    float32 multiply and add: done that way, each one changes some outputs (checked on all
    2^24 inputs: from 2 inputs for the log's first step to 3·10^5 for the sine's last). For
    other callers the halfway check, which would double the cost, is left out.
    """
    product = a.astype(_f64)
    product *= b
    product += c
    return product.astype(_f32)


# ---- the chunk kernel ----------------------------------------------------------------------
# NumPy's mixed-dtype ufuncs (float32 · float64) cast through a buffer and cost more than an
# explicit conversion plus a same-dtype op, so every step below has one dtype, in place.
class _Scratch:
    """The buffers of one chunk of `size` logs and `size` sines (one set per thread)."""

    def __init__(self, size: int):
        self._i = [xp.empty(size, _i32) for _ in range(3)]
        self._f = [xp.empty(size, _f32) for _ in range(6)]
        self._d = [xp.empty(size, _f64) for _ in range(3)]

    def views(self, n: int):
        """The first n elements of every buffer: (int32s, float32s, float64s)."""
        return ([b[:n] for b in self._i], [b[:n] for b in self._f], [b[:n] for b in self._d])


def _fma_into(y, b64, c, t64):
    """y ← round32(y·b + c) in place: float32 y, float32 values b (in float64) and c (a float64
    scalar or array), the product and sum in float64 (NOTE [Emulating a float32 FMA])."""
    xp.copyto(t64, y)
    xp.multiply(t64, b64, out=t64)  # exact: 24 × 24 bits
    xp.add(t64, c, out=t64)
    xp.copyto(y, t64, casting="same_kind")  # the one rounding


def _radius(k, buffers):
    """sqrt(-2·log(1 - k·2^-24)) for the low 24 bits k of words (int32), as torch: the log is
    avx_mathfun's `log256_ps` (Cephes: x = m - 1 or 2m - 1 from the mantissa m in [½, 1), a
    degree-8 polynomial in x, the exponent e times log 2 in two parts). Returns a float32
    buffer that `_sincos` leaves alone."""
    (i0, i1, i2), (x, e, z, t, _, y), (x64, t64, u64) = buffers
    xp.subtract(1 << 24, k, out=i0)  # 1 - u = (2^24 - k)·2^-24 ...
    xp.copyto(t, i0, casting="same_kind")  # ... exactly, as the float32 2^24 - k ...
    bits = t.view(_i32)
    xp.subtract(bits, 24 << 23, out=bits)  # ... scaled by 2^-24 in its exponent
    xp.bitwise_and(bits, 0x7F_FFFF, out=i1)
    xp.less(i1, _SQRT_HALF_MANTISSA, out=i2)  # m < √½: use 2m - 1 and one less exponent
    xp.left_shift(i2, 23, out=i2)
    xp.bitwise_or(i1, 0x3F00_0000, out=i1)  # m in [½, 1) ...
    xp.add(i1, i2, out=i1)  # ... doubled when below √½
    xp.subtract(bits, i1, out=i2)  # (exponent - 126 - small) << 23: the mantissas cancel
    xp.right_shift(i2, 23, out=i2)
    xp.copyto(e, i2, casting="same_kind")
    xp.subtract(i1.view(_f32), _f32(1), out=x)  # m - 1 or 2m - 1, exact (Sterbenz)
    xp.multiply(x, x, out=z)
    xp.copyto(x64, x)
    xp.multiply(x64, _LOG_P[0], out=t64)  # fma(p0, x, p1)
    xp.add(t64, _LOG_P[1], out=t64)
    xp.copyto(y, t64, casting="same_kind")
    for p in _LOG_P[2:]:
        _fma_into(y, x64, p, t64)
    xp.multiply(y, x, out=y)
    xp.multiply(e, _LOG_Q1, out=t)
    xp.copyto(u64, t)
    xp.copyto(x64, z)
    _fma_into(y, x64, u64, t64)  # fma(y·x, z, e·q1)
    xp.multiply(z, _f32(0.5), out=z)
    xp.subtract(y, z, out=y)
    xp.add(x, y, out=y)
    xp.multiply(e, _LOG_Q2, out=e)
    xp.add(y, e, out=y)
    xp.multiply(y, _f32(-2), out=y)
    return xp.sqrt(y, out=y)


def _sincos(k, buffers):
    """(sin θ, cos θ) for θ = round32(2π·k·2^-24), k the low 24 bits of words (int32), as
    avx_mathfun's `sincos256_ps`: the octant j (rounded up to even), x = θ - j·π/4 in three
    parts, Cephes' polynomials, then swaps and signs by j. Returns two float32 buffers."""
    (j, i1, i2), (x, z, s, c, _, _), (z64, t64, u64) = buffers
    xp.copyto(x, k, casting="same_kind")
    xp.multiply(x, _THETA_STEP, out=x)  # θ
    xp.multiply(x, _FOUR_OVER_PI, out=z)
    xp.copyto(j, z, casting="unsafe")  # truncates: θ ≥ 0
    xp.add(j, 1, out=j)
    xp.bitwise_and(j, ~1, out=j)  # the octant, rounded up to even (j ≤ 8 here)
    xp.copyto(z, j, casting="same_kind")
    # θ + j·DP1 + j·DP2: both products are exact (j ≤ 8, DP1 and DP2 have few bits)
    xp.multiply(z, _DP1, out=s)
    xp.add(x, s, out=x)
    xp.multiply(z, _DP2, out=s)
    xp.add(x, s, out=x)
    xp.copyto(u64, x)
    xp.copyto(t64, j, casting="same_kind")
    xp.multiply(t64, _DP3, out=t64)  # fma(j, DP3, x)
    xp.add(t64, u64, out=t64)
    xp.copyto(x, t64, casting="same_kind")
    xp.multiply(x, x, out=z)
    xp.copyto(z64, z)
    _polynomial_into(c, z64, _COS_P, t64)
    xp.multiply(c, z, out=c)
    xp.multiply(z64, -0.5, out=u64)  # fma(c·z, z, -z/2) + 1 (z/2 is exact)
    _fma_into(c, z64, u64, t64)
    xp.add(c, _f32(1), out=c)
    _polynomial_into(s, z64, _SIN_P, t64)
    xp.multiply(s, z, out=s)
    xp.copyto(u64, x)
    _fma_into(s, u64, u64, t64)  # fma(s·z, x, x)
    _octant_signs(j, s.view(_i32), c.view(_i32), i1, i2)
    return s, c


def _polynomial_into(y, z64, coefficients, t64):
    """y ← the Horner steps fma(fma(p0, z, p1), z, p2) (float32 roundings)."""
    xp.multiply(z64, coefficients[0], out=t64)
    xp.add(t64, coefficients[1], out=t64)
    xp.copyto(y, t64, casting="same_kind")
    _fma_into(y, z64, coefficients[2], t64)


def _octant_signs(j, s_bits, c_bits, swap, sign):
    """Octants 2 and 6 swap the polynomials; bit 2 of j flips the sine's sign, bit 2 of j + 2
    the cosine's (in place on the int32 views)."""
    xp.bitwise_xor(s_bits, c_bits, out=swap)
    xp.left_shift(j, 30, out=sign)  # bit 1 of j to the sign bit ...
    xp.right_shift(sign, 31, out=sign)  # ... and all over: -1 where the halves swap
    xp.bitwise_and(swap, sign, out=swap)
    xp.bitwise_xor(s_bits, swap, out=s_bits)
    xp.bitwise_xor(c_bits, swap, out=c_bits)
    xp.left_shift(j, 29, out=j)  # bit 2 of j at the sign bit (bit 1 below it)
    xp.bitwise_and(j, -(1 << 31), out=sign)
    xp.bitwise_xor(s_bits, sign, out=s_bits)
    xp.add(j, 1 << 30, out=j)  # (j + 2) << 29
    xp.bitwise_and(j, -(1 << 31), out=sign)
    xp.bitwise_xor(c_bits, sign, out=c_bits)


def _normal_chunk(words, out, mean, std, scratch):
    """One chunk: rows of 16 words (int32) -> rows of 16 normals in `out` (float32).

    The halves of a row are 32-byte items of a void dtype: NumPy copies those in one strided
    loop, where a (rows, 8) float32 view would run its inner loop 8 elements at a time."""
    rows = words.shape[0]
    buffers = scratch.views(rows * 8)
    k, normal, t64 = buffers[0][2], buffers[1][4], buffers[2][1]
    xp.copyto(k.view(_HALF_ROW), words.view(_HALF_ROW)[:, 0])
    xp.bitwise_and(k, _LOW24, out=k)
    radius = _radius(k, buffers)  # the last float32 buffer: _sincos spares it
    xp.copyto(k.view(_HALF_ROW), words.view(_HALF_ROW)[:, 1])
    xp.bitwise_and(k, _LOW24, out=k)
    sin, cos = _sincos(k, buffers)
    unit = std == 1 and mean == 0
    zero_radius = unit and not radius.all()
    for half, value in enumerate((cos, sin)):
        xp.multiply(radius, value, out=normal)
        if zero_radius:  # fma(x, 1, 0) = x + 0, which turns -0 (radius 0) to +0
            xp.add(normal, _f32(0), out=normal)
        elif not unit:
            _fma_into(normal, _f64(_f32(std)), _f64(_f32(mean)), t64)
        xp.copyto(out.view(_HALF_ROW)[:, half], normal.view(_HALF_ROW))


def normal_from_words(words, mean: float, std: float, out=None):
    """torch's `NormalFill16<float>` on rows of 16 uint32 words: shape (m, 16) -> float32
    (m, 16); each uniform is the low 24 bits of its word times 2^-24."""
    words = words.view(_i32)
    out = xp.empty(words.shape, dtype=_f32) if out is None else out
    scratch = _Scratch(min(words.shape[0], _CHUNK_ROWS) * 8)
    for first in range(0, words.shape[0], _CHUNK_ROWS):
        rows = slice(first, first + _CHUNK_ROWS)
        _normal_chunk(words[rows], out[rows], mean, std, scratch)
    return out


def normal_rows(draw, rows: int, mean: float, std: float, out):
    """`normal_from_words` on `rows` blocks whose words come from draw(count), into out
    (rows, 16), on two threads when it is big.

    The words are sequential (one mt19937 stream), the transform is not: this thread draws
    the first part's words and hands that part to the pool, then draws and transforms the
    rest while the pool works. The part handed over is the bigger one, so that both threads
    finish together (drawing a word costs about a fifth of transforming it)."""
    if rows < 2 * _MIN_ROWS:
        return normal_from_words(draw(rows * 16).reshape(rows, 16), mean, std, out)
    split = rows * 3 // 5
    handed = draw(split * 16).reshape(split, 16)

    def part(start, stop):
        for index in range(start, stop):  # 0: the rest, here; 1: the first part, in the pool
            if index == 0:
                rest = draw((rows - split) * 16).reshape(rows - split, 16)
                normal_from_words(rest, mean, std, out[split:])
            else:
                normal_from_words(handed, mean, std, out[:split])

    parallel_blocks(part, 2)
    return out


def box_muller(u, mean: float, std: float):
    """torch's `NormalFill16<float>` on rows of 16 float32 uniforms: shape (m, 16) -> (m, 16)."""
    words = (xp.asarray(u, dtype=_f32) * _f32(2.0 ** 24)).astype(xp.uint32)  # exact: k·2^-24
    return normal_from_words(words, mean, std)


def fma32_exact(x, y, z):
    """x·y + z for float32 operands rounded once to float32, exactly (a fused multiply-add;
    `fma32` above leaves out the halfway check).

    The float64 product of two float32 values is exact; the float64 sum is made round-to-odd
    (its lost low bits kept as a sticky last bit), so its rounding to float32 is the correctly
    rounded one (round-to-odd then nearest is exact with 29 spare bits)."""
    product = xp.float64(x) * y.astype(xp.float64) if xp.ndim(x) == 0 else (
        x.astype(xp.float64) * y)
    addend = z.astype(xp.float64)
    total = product + addend
    # Knuth's TwoSum: the exact error of the float64 sum (0 when it is exact).
    back = total - addend
    error = (product - back) + (addend - (total - back))
    inexact = (error != 0) & ((total.view(xp.int64) & 1) == 0) & xp.isfinite(total)
    if inexact.any():
        toward = xp.where(error > 0, xp.inf, -xp.inf)
        total = xp.where(inexact, xp.nextafter(total, toward), total)
    return total.astype(xp.float32)


# ---- float64 fused multiply-add -----------------------------------------------------------
def fma64(a, b, c):
    """round64(a·b + c) with one rounding (a, b, c float64 arrays or scalars), exactly.

    torch's scalar kernels compute `x·(to - from) + from` and `value·std + mean` with FMA. Here
    a·b = p + e exactly (Dekker's product), and p + e + c is rounded once by Boldo and
    Melquiond's sum of three: the low parts are added with round-to-odd, then the rest in
    round-to-nearest ("Emulation of FMA and correctly rounded sums", 2008).
    """
    a, b, c = (xp.asarray(v, dtype=_f64) for v in (a, b, c))
    if b.ndim == 0 and c.ndim == 0 and b == 1 and c == 0:
        return a + 0.0  # a·1 + 0 (which turns -0 to +0)
    p, e = _two_product(a, b)
    high, low = _two_sum(p, c)
    top, rest = _two_sum(high, e)
    return top + _add_round_to_odd(rest, low)


def _split(a):
    """Veltkamp's split: a = high + low with 26-bit halves. Beyond 2^995 the multiply by
    2^27 + 1 would overflow, so such values are split scaled down by 2^-28 (exact, a power of
    two) and the halves scaled back."""
    big = xp.abs(a) > 2.0 ** 995
    if not big.any():
        return _split_in_range(a)
    factor = xp.where(big, 2.0 ** 28, 1.0)
    high, low = _split_in_range(a / factor)
    return high * factor, low * factor


def _split_in_range(a):
    t = a * 134217729.0  # 2^27 + 1
    high = t - (t - a)
    return high, a - high


def _two_product(a, b):
    """(p, e) with p = round(a·b) and p + e = a·b exactly (Dekker)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a, b):
    """(s, e) with s = round(a + b) and s + e = a + b exactly (Knuth)."""
    s = a + b
    bv = s - a
    return s, (a - (s - bv)) + (b - bv)


def _add_round_to_odd(a, b):
    """a + b rounded to odd: when inexact, the neighbour whose last mantissa bit is 1."""
    s, e = _two_sum(a, b)
    even = (s.view(xp.uint64) & xp.uint64(1)) == 0
    return xp.where((e != 0) & even, xp.nextafter(s, xp.where(e > 0, xp.inf, -xp.inf)), s)
