"""torch's float32 Box–Muller on whole arrays: the log and sin/cos of avx_mathfun.h, bit for bit.

NOTE [The float32 normal kernel]
For 16 or more contiguous float32 elements, `torch.randn` runs `NormalFill16` (ATen's
DistributionTemplates.h) on blocks of 16 uniforms: u1 = 1 - u[0:8], u2 = u[8:16],
r = sqrt(-2·log(u1)), θ = 2π·u2, out = fma(r·cos θ, std, mean), fma(r·sin θ, std, mean). On x86
the log and the sine/cosine are `log256_ps` and `sincos256_ps` of avx_mathfun.h (Cephes
polynomials in float32; the AVX-512 build dispatches the normal kernel to its AVX2 version).
GCC contracts some of their multiply-adds into fused ones, so each step below is either a
float32 multiply and add or one rounding of a·b + c (`fma32`). Which steps are fused was found by
comparing with torch on 3·10⁶ samples (seeds 0, 42, 2026), where this agrees in every bit. Two
contractions are not the obvious ones: in the log, `y·z + e·q1` fuses the multiply by z (e·q1 is
rounded first), and in the cosine polynomial `y·z·z - z/2` fuses the last multiply by z.

NumPy is slow on `where` and on strided halves, so selections are bit operations on the int32
views and the halves are contiguous copies; work goes in chunks that stay in the CPU's cache.
"""

from ember._backend import xp

_f32 = xp.float32
_f64 = xp.float64
_i32 = xp.int32
_CHUNK_ROWS = 4096  # 4096 blocks of 16: the temporaries of one chunk fit in L2

_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
          3.3333331174e-1)
_LOG_Q1 = _f32(-2.12194440e-4)
_LOG_Q2 = _f32(0.693359375)
_SQRT_HALF = _f32(0.707106781186547524)
_FOUR_OVER_PI = _f32(1.27323954473516)
_DP1, _DP2, _DP3 = _f32(-0.78515625), _f32(-2.4187564849853515625e-4), _f32(-3.77489497744594108e-8)
_COS_P = (2.443315711809948e-005, -1.388731625493765e-003, 4.166664568298827e-002)
_SIN_P = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_TWO_PI = _f32(2.0 * 3.141592653589793)


def fma32(a, b, c):
    """round32(a·b + c), the FMA instruction's one rounding (a, b, c float32 values).

    NOTE [Emulating a float32 FMA]
    a·b of two float32 numbers is exact in float64; the float64 sum a·b + c is then rounded to
    float32. That is one rounding of the exact a·b + c unless the float64 sum was inexact *and*
    landed exactly halfway between two float32 numbers, when round-half-even may go the other
    way: about one operation in 2^29. In 3·10^7 of these operations on torch's uniforms it
    happened 0 times (80 sums were halfway, all of them exact), so the check, which would double
    the cost, is left out.
    """
    product = a.astype(_f64)
    product *= b
    product += c
    return product.astype(_f32)


def _fma_constant(x64, p0, p1):
    """fma(p0, x, p1) for float32 constants p0, p1 and float32 values x held in float64."""
    product = x64 * _f32(p0)
    product += _f32(p1)
    return product.astype(_f32)


def log_ps(x):
    """Natural log of float32 values in [2^-24, 1], as avx_mathfun's `log256_ps`.

    (torch's inputs are 1 - u ≥ 2^-24, so the clamp of denormals and the NaN of x ≤ 0 never act.)
    """
    bits = x.view(_i32)
    m = ((bits & 0x007F_FFFF) | 0x3F00_0000).view(_f32)  # the mantissa, scaled into [0.5, 1)
    small = m < _SQRT_HALF  # below √½: use 2m - 1 and one less exponent
    e = ((bits >> 23) - 126 - small).astype(_f32)
    x = (m - _f32(1)) + m * small
    z = x * x
    x64 = x.astype(_f64)
    y = _fma_constant(x64, _LOG_P[0], _LOG_P[1])
    for p in _LOG_P[2:]:
        y = fma32(y, x64, _f32(p))
    y = fma32(y * x, z, e * _LOG_Q1)
    y = y - z * _f32(0.5)
    return (x + y) + e * _LOG_Q2


def sincos_ps(x):
    """(sin x, cos x) of float32 values x ≥ 0, as avx_mathfun's `sincos256_ps` (Cephes)."""
    j = (x * _FOUR_OVER_PI).astype(_i32)
    j = (j + 1) & ~1  # the octant, rounded up to even (j ≤ 8 here)
    y = j.astype(_f32)
    x = (x + y * _DP1) + y * _DP2  # j·DP1 and j·DP2 are exact: fused or not, the same
    x = fma32(y, _DP3, x)
    z = x * x
    z64 = z.astype(_f64)
    c = _fma_constant(z64, _COS_P[0], _COS_P[1])
    c = fma32(c, z64, _f32(_COS_P[2]))
    c = fma32(c * z, z64, -(z * _f32(0.5))) + _f32(1)
    s = _fma_constant(z64, _SIN_P[0], _SIN_P[1])
    s = fma32(s, z64, _f32(_SIN_P[2]))
    s = fma32(s * z, x, x)
    # octants 1, 2, 5, 6 swap the polynomials; bit 2 of j flips the sine's sign, of j - 2 the
    # cosine's
    s_bits, c_bits = s.view(_i32), c.view(_i32)
    swap = (s_bits ^ c_bits) & (((j & 2) >> 1) - 1)
    sin = (c_bits ^ swap) ^ ((j & 4) << 29)
    cos = (s_bits ^ swap) ^ ((~(j - 2) & 4) << 29)
    return sin.view(_f32), cos.view(_f32)


def box_muller(u, mean: float, std: float):
    """torch's `NormalFill16<float>` on rows of 16 float32 uniforms: shape (m, 16) -> (m, 16)."""
    out = xp.empty_like(u)
    for start in range(0, u.shape[0], _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        out[rows] = _box_muller_chunk(u[rows], _f32(mean), _f32(std))
    return out


def _box_muller_chunk(u, mean, std):
    """One chunk of `box_muller` (mean and std already float32)."""
    radius = xp.sqrt(_f32(-2) * log_ps((_f32(1) - u[:, :8]).reshape(-1)))
    sin, cos = sincos_ps((_TWO_PI * u[:, 8:]).reshape(-1))
    out = xp.empty_like(u)
    out[:, :8] = _scale(radius * cos, mean, std).reshape(-1, 8)
    out[:, 8:] = _scale(radius * sin, mean, std).reshape(-1, 8)
    return out


def _scale(normal, mean, std):
    """fma(normal, std, mean): with std 1 and mean 0 that is normal + 0 (which turns -0 to +0)."""
    if std == 1 and mean == 0:
        return normal + _f32(0)
    return fma32(normal, std, mean)


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
    """Veltkamp's split: a = high + low with 26-bit halves."""
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
