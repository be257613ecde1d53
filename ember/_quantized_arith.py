"""The arithmetic of quantized tensors on arrays, rounding as PyTorch's CPU kernels (FBGEMM's on
x86) round: quantizing float32 arrays per tensor and per channel, dequantizing, choosing a
scale and zero point from a min and max, and FBGEMM's dynamically quantized linear layer.

NOTE [Quantizing as FBGEMM rounds]
A quantized value is q = clamp(round(x / scale) + zero_point) with round half to even, but
PyTorch's kernels do not divide, and where they add the zero point decides some halfway cases:
- per tensor, qint8 and quint8 (FBGEMM's AVX2 `QuantizeAvx2`, its "legacy" form): one fused
  multiply-add in float32, t = fl(x * inv_scale + zero_point) with inv_scale = fl(1 / scale)
  and scale itself rounded to float32; then t is rounded half to even (CVTPS2DQ). A NaN or
  +inf becomes the top of the range (`min_ps` returns its second operand for a NaN, and t is
  first clipped to 2^31 - 128), -inf the bottom.
- per tensor qint32, and every per-channel quantization: FBGEMM's scalar `Quantize`, two
  float32 roundings, t = fl(zero_point + fl(x * inv_scale)), then nearbyint, then a clamp in
  double; a NaN survives the clamp and its conversion to int32 gives INT32_MIN, of which the
  8-bit types keep the low byte (0).
- dequantizing per tensor is fl(scale * (q - zero_point)) in float32; per channel,
  (float(q) - zero_point) * scale is computed in double (scale is a double) and stored as float.
The fused multiply-add is emulated exactly (`fma32`): the float32 product is exact in double,
and the one rounding of the double sum that could differ from rounding the exact sum (a sum
landing on a float32 halfway point) is corrected with the sum's rounding error (TwoSum).
"""

from ember._backend import xp

_F32 = xp.float32
_INT32_FLOAT_MAX = 2147483520.0  # the largest float32 below 2^31 (FBGEMM clips to it)
SMALL_SCALE_THRESHOLD = float(_F32(6.1e-5))  # scales under fp16's smallest normal are raised
_RANGES = {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-2 ** 31, 2 ** 31 - 1)}


def qrange(dtype_name):
    """(qmin, qmax) of a quantized dtype, by name."""
    return _RANGES[dtype_name]


def fma32(a, b, c):
    """fl32(a*b + c) with one rounding, as a float32 fused multiply-add (NOTE [Quantizing as
    FBGEMM rounds]); a, b, c broadcast float32 arrays or numbers."""
    p = xp.asarray(a, dtype=_F32).astype(xp.float64) * xp.asarray(b, dtype=_F32).astype(
        xp.float64)  # exact: 24 + 24 bits
    c = xp.asarray(c, dtype=_F32).astype(xp.float64)
    s = xp.asarray(p + c)  # an array even for 0-d operands
    r = s.astype(_F32)
    # rounding the double sum differs from rounding the exact one only where the sum lands on a
    # float32 halfway point (its 29 bits below float32's last one are 1000...0), or in float32's
    # subnormal range, where the halfway points sit higher
    with xp.errstate(invalid="ignore"):
        suspect = ((s.view(xp.int64) & 0x1FFFFFFF) == 0x10000000) | (
            (xp.abs(s) < 2.0 ** -126) & (s != 0))
    if suspect.any():  # few elements: correct just those
        r = r.copy()
        r[suspect] = _correct_halfway(xp.broadcast_to(p, s.shape)[suspect],
                                      xp.broadcast_to(c, s.shape)[suspect], s[suspect],
                                      r[suspect])
    return r


def _correct_halfway(p, c, s, r):
    """r (= fl32(s), s = fl64(p + c)) corrected to fl32(p + c): a double sum exactly halfway
    between two float32s, with a nonzero rounding error, rounds toward the error's side (TwoSum
    gives the error) instead of to even."""
    with xp.errstate(invalid="ignore"):
        virtual = s - p
        err = (p - (s - virtual)) + (c - virtual)  # s + err == p + c exactly
        back = r.astype(xp.float64)
        away = xp.nextafter(r, xp.where(s > back, xp.inf, -xp.inf).astype(_F32))
        halfway = (s != back) & (xp.abs(s - back) * 2 == xp.abs(away.astype(xp.float64) - back))
        fix = halfway & (err != 0) & xp.isfinite(s)
    return xp.where(fix, xp.where(err > 0, xp.maximum(r, away), xp.minimum(r, away)), r)


def _int32_of(t):
    """float values converted to int32 as x86 converts (out-of-range and NaN: INT32_MIN)."""
    with xp.errstate(invalid="ignore"):
        bad = ~((t >= -2.0 ** 31) & (t < 2.0 ** 31))
        return xp.where(bad, -2 ** 31, xp.where(bad, 0, t).astype(xp.int64))


def quantize_per_tensor(x, scale, zero_point, dtype_name):
    """The integer array of float32 x quantized per tensor (NOTE [Quantizing as FBGEMM
    rounds]); scale a Python float, zero_point an int."""
    qmin, qmax = _RANGES[dtype_name]
    inv = _F32(1.0) / _F32(scale) if _F32(scale) != 0 else _F32(xp.inf)
    with xp.errstate(all="ignore"):
        if dtype_name == "qint32":
            return _scalar_quantize(x, inv, zero_point, qmin, qmax).astype(xp.int32)
        t = fma32(x, inv, _F32(zero_point))
        t = xp.where(xp.isnan(t), _F32(_INT32_FLOAT_MAX), xp.minimum(t, _F32(_INT32_FLOAT_MAX)))
        rounded = _int32_of(xp.rint(t).astype(xp.float64))
        return xp.clip(rounded, qmin, qmax).astype(xp.dtype(_np_name(dtype_name)))


def _np_name(dtype_name):
    """The NumPy integer type a quantized dtype's values are stored as."""
    return {"qint8": "int8", "quint8": "uint8", "qint32": "int32"}[dtype_name]


def _scalar_quantize(x, inv, zero_point, qmin, qmax):
    """FBGEMM's scalar `Quantize` (legacy): nearbyint(fl(zp + fl(x * inv))), clamped in
    double, converted to int32 (a NaN: INT32_MIN); int64 results."""
    t = (x.astype(_F32) * inv).astype(_F32)
    t = (xp.asarray(zero_point).astype(_F32) + t).astype(_F32)
    t = xp.rint(t).astype(xp.float64)
    t = xp.where(xp.isnan(t), t, xp.clip(t, qmin, qmax))
    return _int32_of(t)


def quantize_per_channel(x, scales, zero_points, axis, dtype_name):
    """The integer array of float32 x quantized with scales[c], zero_points[c] along axis
    (float64 and int64 arrays), FBGEMM's scalar rounding per element."""
    qmin, qmax = _RANGES[dtype_name]
    shape = [1] * x.ndim
    shape[axis] = -1
    with xp.errstate(all="ignore"):
        inv = (_F32(1.0) / scales.astype(_F32)).reshape(shape)
        zp = zero_points.reshape(shape)
        q = _scalar_quantize(x, inv, zp, qmin, qmax)
    return q.astype(xp.dtype(_np_name(dtype_name)))  # NaN's INT32_MIN keeps its low bits


def quantize_per_channel_float_qparams(x, scales, zero_points, axis, dtype_name):
    """Quantization with float zero points (`per_channel_affine_float_qparams`):
    lrintf(x * inv_scale + zero_point) in float32, clamped; a zero scale counts as 1."""
    qmin, qmax = _RANGES[dtype_name]
    shape = [1] * x.ndim
    shape[axis] = -1
    scales = scales.astype(_F32).reshape(shape)
    with xp.errstate(all="ignore"):
        inv = xp.where(scales == 0, _F32(1.0), _F32(1.0) / scales)
        t = ((x * inv).astype(_F32) + zero_points.astype(_F32).reshape(shape)).astype(_F32)
        q = xp.clip(_int32_of(xp.rint(t).astype(xp.float64)), qmin, qmax)
    return q.astype(xp.dtype(_np_name(dtype_name)))


def dequantize_per_tensor(q, scale, zero_point):
    """fl32(scale * (q - zero_point)), the difference taken in int32 (FBGEMM's Dequantize)."""
    diff = q.astype(xp.int64) - int(zero_point)
    diff = (diff + 2 ** 31) % 2 ** 32 - 2 ** 31
    with xp.errstate(all="ignore"):
        return _F32(scale) * diff.astype(_F32)


def dequantize_per_channel(q, scales, zero_points, axis, float_qparams=False):
    """(float(q) - zero_point) * scale per channel: in double for double scales, in float32
    for float qparams (PyTorch's `dequantize_per_channel_affine_kernel`)."""
    shape = [1] * q.ndim
    shape[axis] = -1
    diff = q.astype(_F32) - zero_points.astype(_F32).reshape(shape)
    with xp.errstate(all="ignore"):
        if float_qparams:
            return (diff * scales.astype(_F32).reshape(shape)).astype(_F32)
        return (diff.astype(xp.float64) * scales.astype(xp.float64).reshape(shape)).astype(_F32)


def choose_qparams(x_min, x_max, qmin, qmax, reduce_range=False):
    """(scale as a Python float, zero point) covering [x_min, x_max] and 0 in [qmin, qmax]:
    PyTorch's `quant_utils::ChooseQuantizationParams` (FBGEMM's), in its double and float
    steps; reduce_range halves the range (C's division, toward zero)."""
    if not x_min <= x_max:
        raise RuntimeError("In ChooseQuantizationParams, min should be less than or equal to max")
    if reduce_range:
        qmin, qmax = int(qmin / 2), int(qmax / 2)
    x_min = min(_F32(x_min), _F32(0.0))
    x_max = max(_F32(x_max), _F32(0.0))
    scale = (float(x_max) - float(x_min)) / (qmax - qmin)
    with xp.errstate(all="ignore"):
        if _F32(scale) == 0 or xp.isinf(_F32(1.0) / _F32(scale)):
            scale = 0.1  # a scale whose float reciprocal is infinite is replaced
    if scale < SMALL_SCALE_THRESHOLD:
        x_min, x_max = _widen_to_threshold(x_min, x_max, scale, qmax - qmin)
        scale = SMALL_SCALE_THRESHOLD
    return scale, _nudged_zero_point(float(x_min), float(x_max), scale, qmin, qmax)


def _widen_to_threshold(x_min, x_max, scale, levels):
    """[x_min, x_max] stretched (in float32) to what the raised smallest scale covers."""
    threshold = _F32(SMALL_SCALE_THRESHOLD)
    if x_min == 0:
        return x_min, _F32(threshold * levels)
    if x_max == 0:
        return _F32(-threshold * levels), x_max
    amplifier = _F32(threshold / _F32(scale))
    return _F32(x_min * amplifier), _F32(x_max * amplifier)


def _nudged_zero_point(x_min, x_max, scale, qmin, qmax):
    """The integer zero point: from whichever end (min or max) gives the smaller rounding error,
    clamped to the range, rounded half to even."""
    from_min = qmin - x_min / scale
    from_max = qmax - x_max / scale
    error_min = abs(qmin) - abs(x_min / scale)
    error_max = abs(qmax) - abs(x_max / scale)
    initial = from_min if error_min < error_max else from_max
    if initial < qmin:
        return qmin
    if initial > qmax:
        return qmax
    return int(xp.rint(initial))


def linear_dynamic(x, w_int, w_scales, w_zero_points, col_offsets, bias, reduce_range):
    """FBGEMM's dynamically quantized linear layer (`PackedLinearWeight::apply_dynamic`) on a
    float32 array x of shape (..., K) and int8 weights w_int (N, K); float32 (..., N).

    The activations are quantized to uint8 with a scale and zero point chosen from their min and
    max (range 0..127 with reduce_range) by `QuantizeAvx2`'s fused multiply-add; the products
    accumulate exactly in int32, and `ReQuantizeForFloat` writes
        out = fma(float(acc - a_zp * col_offsets - row_offsets * w_zp), a_scale * w_scale, bias)
    in float32 (one rounding for the multiply-add, as the compiled kernel contracts it), where
    row_offsets are the sums of each quantized activation row and col_offsets the sums of each
    weight row less K * w_zp. w_scales / w_zero_points: one entry (per tensor) or N."""
    K = x.shape[-1]
    rows = x.reshape(-1, K)
    x_min, x_max = (rows.min(), rows.max()) if rows.size else (0.0, 0.0)
    a_scale, a_zp = choose_qparams(x_min, x_max, 0, 255, reduce_range)
    # the int32 GEMM as a float GEMM of small integers: every partial sum is an integer below
    # K * 255 * 128, exact in float32 while that stays under 2^24, and in double beyond
    exact32 = K * (127 if reduce_range else 255) * 128 < 2 ** 24
    ftype = _F32 if exact32 else xp.float64
    a_q = quantize_per_tensor(rows, a_scale, a_zp, "quint8").astype(ftype)
    acc = (a_q @ w_int.astype(ftype).T).astype(xp.float64)
    row_offsets = a_q.sum(axis=1, keepdims=True, dtype=xp.float64)
    raw = acc - a_zp * col_offsets.astype(xp.float64) - row_offsets * w_zero_points
    raw = (raw.astype(xp.int64) + 2 ** 31) % 2 ** 32 - 2 ** 31  # int32 arithmetic wraps
    multiplier = (_F32(a_scale) * w_scales.astype(_F32)).astype(_F32)
    out = fma32(raw.astype(_F32), multiplier, 0.0 if bias is None else bias)
    return out.reshape(x.shape[:-1] + (w_int.shape[0],))


def col_offsets_of(w_int, w_zero_points):
    """FBGEMM's column offsets of int8 weights (N, K): each row's sum less K * zero point."""
    K = w_int.shape[1]
    return w_int.astype(xp.int64).sum(axis=1) - K * w_zero_points.astype(xp.int64)
