"""Array kernels of the smooth activations (the ops are in ember/ops/activation.py and
ember/ops/unary.py): sigmoid, silu, gelu, leaky_relu, the ELU family, softplus, mish, hardswish,
and the first-order gradients of the common ones.

NOTE [Activation kernels in cache-sized chunks]
Each kernel is PyTorch's CPU formula written as a few in-place NumPy passes over one output
buffer (PyTorch runs the same formula once per element, fused). Over an activation of a few
megabytes every pass would go to memory, so the work is cut into chunks of CHUNK elements
whose buffers stay in the CPU's cache, the chunks shared by the intra-op threads
(`flat_blocks`; NumPy releases the GIL inside ufuncs). Two NumPy habits are avoided: `where`,
which branches per element and took 3.6 ns an element on random signs (a whole sigmoid in
passes takes about 1), and `maximum` / `minimum` with a broadcast scalar, which have no SIMD
loop (NOTE [ReLU's zero operand]); a selection is a max/min where the formula allows one, else
bit operations (`select_into`, ember/ops/_selection.py). Measured on 2M float32
(64x128x16x16) against the formulas they replace: forward 5-25x faster, forward and backward
3-10x.

The formulas and their order of operations are ATen's (Activation.cpp, UnaryOpsKernel.cpp), so
the results differ from PyTorch's only where NumPy's exp/tanh/log1p differ from SLEEF's (an ulp
here and there), and in GELU's erf (`_erf32`).
"""

import math

from ember._backend import quiet, xp
from ember._rng.mathfun import fma64
from ember._threads import flat_blocks, parallel_blocks
from ember.ops._selection import select_into
from ember.ops.relu_kernels import keep_where, zeros_shaped

CHUNK = 1 << 16  # elements per pass: a float32 buffer of 256 KB, a few of them in L2


def chunked(kernel, out, *arrays):
    """kernel(out_chunk, *array_chunks) over flat chunks of out's elements (out is new and
    contiguous; the arrays have out's shape, made contiguous if they are not), on the
    intra-op threads when big."""
    flat_out = out.reshape(-1)
    flat = [xp.ascontiguousarray(a).reshape(-1) for a in arrays]

    def block(o, *parts):
        for start in range(0, o.size, CHUNK):
            stop = start + CHUNK
            kernel(o[start:stop], *[p[start:stop] for p in parts])

    with quiet():  # exp overflowing to inf is part of the formulas (1 / (1 + inf) = 0)
        flat_blocks(block, flat_out, *flat)
    return out


def apply(kernel, x, *arrays):
    """A new array of x's shape and dtype holding kernel's result (see `chunked`)."""
    return chunked(kernel, xp.empty(x.shape, dtype=x.dtype), x, *arrays)


# ---- sigmoid and silu: 1 / (1 + e^-x) ------------------------------------------------------
def _one_plus_exp_minus(o, x):
    """o = 1 + e^-x, the denominator of σ(x)."""
    xp.negative(x, out=o)
    xp.exp(o, out=o)
    xp.add(o, 1, out=o)


def sigmoid(o, x):
    """o = 1 / (1 + e^-x) (e^-x = inf gives 0, as in PyTorch)."""
    _one_plus_exp_minus(o, x)
    xp.divide(1, o, out=o)


def sigmoid_backward(o, gy, y, dtype=None):
    """o = gy·(1 - y)·y, y = σ(x); for a float16 dtype rounded to it after each operation, as
    PyTorch's float16 kernel (its bfloat16 one rounds once)."""
    steps = (xp.subtract, (1, y)), (xp.multiply, (gy, o)), (xp.multiply, (o, y))
    for ufunc, operands in steps:
        ufunc(*operands, out=o)
        if dtype == xp.float16 and o.dtype != xp.float16:
            o[...] = o.astype(xp.float16)


def tanh_backward(o, gy, y):
    """o = gy·(1 - y²), y = tanh(x), with 1 - y² rounded once as ATen's kernel does (it is
    compiled with FMA contraction). float32: y² is exact in float64 and so is 1 - y² for
    |y| ≥ 1/8, leaving one rounding to float32 (below 1/8 a second, float64, rounding comes
    first: a tie it creates is astronomically rare); the exact FMA emulation cost 10x."""
    if y.dtype == xp.float32:
        wide = y.astype(xp.float64)
        xp.multiply(wide, wide, out=wide)
        xp.subtract(1.0, wide, out=wide)
        xp.copyto(o, wide, casting="same_kind")
    else:
        o[...] = fma64(-y, y, 1.0)
    xp.multiply(gy, o, out=o)


def silu(o, x):
    """o = x / (1 + e^-x)."""
    _one_plus_exp_minus(o, x)
    xp.divide(x, o, out=o)


def silu_keeping_sigmoid(o, x, s):
    """`silu`, and s = σ(x) for the backward (`silu_backward`)."""
    _one_plus_exp_minus(s, x)
    xp.divide(x, s, out=o)
    xp.divide(1, s, out=s)


def silu_backward(o, gy, x, s):
    """o = gy·σ·(1 + x·(1 - σ)), with σ = σ(x) kept by the forward."""
    xp.subtract(1, s, out=o)
    xp.multiply(x, o, out=o)
    xp.add(o, 1, out=o)
    xp.multiply(o, xp.multiply(gy, s), out=o)


# ---- gelu ----------------------------------------------------------------------------------
_SQRT_HALF = math.sqrt(0.5)
_PDF_SCALE = 2 / math.sqrt(math.pi) * math.sqrt(0.5) * 0.5  # 1/√(2π)
_TANH_BETA = math.sqrt(2) * 2 / math.sqrt(math.pi) * 0.5  # √(2/π)
_TANH_KAPPA = 0.044715
# erfc(z) ≈ t·exp(-z² + P(t)), t = 1 / (1 + z/2), z ≥ 0: relative error below 1.2e-7 for every
# z (Numerical Recipes' erfcc, a Chebyshev fit); P's coefficients, constant term first
_ERFC_P = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
           -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _erf32(o, v):
    """o = erf(v) for float32 v: sign(v)·(1 - erfc|v|), a few float32 ulps from the exact
    value (SciPy's float32 erf computes in double and took 15 ns an element; PyTorch's SLEEF
    erf is within an ulp, so GELU's 1 + erf(v) differs from PyTorch's by an ulp or two)."""
    z = xp.abs(v)
    t = xp.multiply(z, 0.5)
    xp.add(t, 1, out=t)
    xp.divide(1, t, out=t)
    xp.multiply(t, _ERFC_P[-1], out=o)
    for c in _ERFC_P[-2:0:-1]:
        xp.add(o, c, out=o)
        xp.multiply(o, t, out=o)
    xp.add(o, _ERFC_P[0], out=o)
    xp.multiply(z, z, out=z)
    xp.subtract(o, z, out=o)
    xp.exp(o, out=o)
    xp.multiply(o, t, out=o)
    xp.subtract(1, o, out=o)  # erf|v| ≥ 0, then v's sign bit
    bits = xp.dtype(f"i{o.dtype.itemsize}")
    sign = xp.bitwise_and(v.view(bits), bits.type(-(1 << (8 * o.dtype.itemsize - 1))))
    xp.bitwise_or(o.view(bits), sign, out=o.view(bits))


def _erf(o, v):
    """erf for gelu: `_erf32` for float32, SciPy's (or ember's fallback) for float64."""
    if o.dtype == xp.float32:
        _erf32(o, v)
    else:
        from ember.ops.unary import erf_array

        o[...] = erf_array(v)


def normal_cdf(o, x):
    """o = Φ(x) = ½(1 + erf(x/√2))."""
    _erf(o, xp.multiply(x, _SQRT_HALF))
    xp.add(o, 1, out=o)
    xp.multiply(o, 0.5, out=o)  # (halving is exact: x·Φ = ½·(x·(1 + erf)) as PyTorch has it)


def gelu(o, x):
    """o = x·Φ(x)."""
    gelu_keeping_cdf(o, x, o)


def gelu_keeping_cdf(o, x, cdf):
    """o = x·Φ(x), and cdf = Φ(x) for the backward (`gelu_backward`)."""
    normal_cdf(cdf, x)
    xp.multiply(x, cdf, out=o)


def gelu_backward(o, gy, x, cdf):
    """o = gy·(Φ(x) + x·φ(x)), φ = e^(-x²/2)/√(2π), with Φ(x) kept by the forward."""
    xp.multiply(x, x, out=o)
    xp.multiply(o, -0.5, out=o)
    xp.exp(o, out=o)
    xp.multiply(o, _PDF_SCALE, out=o)
    xp.multiply(x, o, out=o)
    xp.add(cdf, o, out=o)
    xp.multiply(gy, o, out=o)


def gelu_tanh(o, x):
    """o = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    _gelu_tanh_inner(o, x)
    _gelu_tanh_from_inner(o, x, o)


def gelu_tanh_keeping_tanh(o, x, t):
    """`gelu_tanh`, and t = its tanh for the backward (`gelu_tanh_backward`)."""
    _gelu_tanh_inner(t, x)
    _gelu_tanh_from_inner(o, x, t)


def _gelu_tanh_inner(t, x):
    """t = tanh(√(2/π)·(x + 0.044715·x³))."""
    xp.multiply(x, x, out=t)
    xp.multiply(t, x, out=t)
    xp.multiply(t, _TANH_KAPPA, out=t)
    xp.add(x, t, out=t)
    xp.multiply(t, _TANH_BETA, out=t)
    xp.tanh(t, out=t)


def _gelu_tanh_from_inner(o, x, t):
    """o = ½·x·(1 + t) (computed as (x·(1 + t))·½, halving being exact)."""
    xp.add(t, 1, out=o)
    xp.multiply(x, o, out=o)
    xp.multiply(o, 0.5, out=o)


def gelu_tanh_backward(o, gy, x, t):
    """o = gy·(½·(1 + t) + ½x·(1 - t²)·√(2/π)·(1 + 3·0.044715·x²)), t the forward's tanh."""
    inner = xp.multiply(x, x)  # inner derivative β·(1 + 3κx²)
    xp.multiply(inner, 3 * _TANH_KAPPA, out=inner)
    xp.add(inner, 1, out=inner)
    xp.multiply(inner, _TANH_BETA, out=inner)
    xp.multiply(x, 0.5, out=o)  # right derivative ½x·(1 - t²)·(inner derivative)
    xp.multiply(o, xp.subtract(1, xp.multiply(t, t)), out=o)
    xp.multiply(o, inner, out=o)
    left = xp.add(t, 1)  # left derivative ½(1 + t)
    xp.multiply(left, 0.5, out=left)
    xp.add(left, o, out=o)
    xp.multiply(gy, o, out=o)


# ---- piecewise: leaky_relu, elu, softplus, hardswish ---------------------------------------
def leaky_relu(o, x, slope):
    """o = x if x > 0 else slope·x, slope a number or per-channel weights that broadcast to x
    (PReLU): the larger of x and slope·x where every slope is below 1 (the smaller where every
    one is above), with slope·x second so that where they tie (zeros) NumPy returns it, as
    PyTorch does. A zero or NaN slope, or slopes on both sides of 1, select by bits instead:
    0·inf is NaN where x = +inf must stay inf."""
    xp.multiply(x, slope, out=o)
    larger = _larger_or_smaller(slope)
    if larger is None:
        select_into(o, _not_positive(x), o, x)
    else:
        larger(x, o, out=o)


def _larger_or_smaller(slope):
    """maximum where every slope is in [-inf, 1] but 0, minimum where every one is above 1,
    else None (`leaky_relu`)."""
    if isinstance(slope, (int, float)):
        below, above = slope <= 1 and slope != 0, slope > 1
    else:
        below, above = bool(xp.all((slope <= 1) & (slope != 0))), bool(xp.all(slope > 1))
    return xp.maximum if below else xp.minimum if above else None


def leaky_relu_backward(o, gy, x, slope):
    """o = gy where x > 0, else gy·slope (slope as in `leaky_relu`). For one slope: gy times a
    factor of 1 or slope (gy·1 is gy exactly), the factor chosen by bits as in `select_into`:
    five passes instead of seven."""
    if not isinstance(slope, (int, float)):  # PReLU's weights
        xp.multiply(gy, slope, out=o)
        select_into(o, _not_positive(x), o, gy)
        return
    bits = xp.dtype(f"i{o.dtype.itemsize}")
    one, low = (xp.asarray(v, dtype=o.dtype).view(bits) for v in (1, slope))
    factors = xp.negative(xp.greater(x, 0).view(xp.int8), dtype=bits, casting="unsafe")
    xp.bitwise_and(factors, one ^ low, out=factors)  # (-1 where x > 0)
    xp.bitwise_xor(factors, low, out=factors)
    xp.multiply(gy, factors.view(o.dtype), out=o)


def _not_positive(x):
    """The mask of x ≤ 0 or NaN: PyTorch's `x > 0 ? … : …` takes its second branch there."""
    mask = xp.asarray(xp.greater(x, 0))  # (an array even for 0-d x)
    return xp.logical_not(mask, out=mask)


def prelu_weight_backward(gy, x, channel_axes):
    """Σ gy·x where x ≤ 0 (or NaN) over the axes that are not the weights' (PReLU's gw)."""
    product = xp.multiply(gy, x, out=xp.empty(x.shape, dtype=x.dtype))
    keep_where(product, product, _not_positive(x))
    return product.sum(axis=channel_axes)


def elu(o, x, alpha, scale, input_scale):
    """o = x·scale if x > 0 else expm1(x·input_scale)·alpha·scale: both parts computed on every
    element, each 0 where the other applies (max(0, x) and min(0, x)), then added."""
    negative = xp.minimum(_zeros(x), x)  # (x second: min(0, -0) is -0, expm1 keeps it)
    if input_scale != 1:
        xp.multiply(negative, input_scale, out=negative)
    xp.expm1(negative, out=negative)
    xp.multiply(negative, _coefficient(x, alpha, scale), out=negative)
    xp.maximum(_zeros(x), x, out=o)
    if scale != 1:
        xp.multiply(o, scale, out=o)
    xp.add(o, negative, out=o)


def elu_backward(o, gy, x, alpha, scale, input_scale):
    """o = gy·scale where x > 0, else gy·input_scale·alpha·scale·exp(x·input_scale)."""
    negative = xp.minimum(_zeros(x), x)
    if input_scale != 1:
        xp.multiply(negative, input_scale, out=negative)
    xp.exp(negative, out=negative)
    # ((gy·input_scale)·(alpha·scale))·e
    xp.multiply(negative, xp.multiply(xp.multiply(gy, input_scale), _coefficient(x, alpha, scale)),
                out=negative)
    xp.multiply(gy, scale, out=o)
    select_into(o, xp.greater(x, 0), o, negative)


def softplus(o, x, beta, threshold):
    """o = x where β·x > threshold, else log1p(e^(β·x))/β (from min(β·x, threshold): no
    overflow)."""
    xp.multiply(x, beta, out=o)
    curved = xp.logical_not(xp.greater(o, threshold))  # (NaN: curved, as in PyTorch)
    xp.clip(o, None, threshold, out=o)
    xp.exp(o, out=o)
    xp.log1p(o, out=o)
    if beta != 1:
        xp.divide(o, beta, out=o)
    select_into(o, curved, o, x)


def softplus_backward(o, gy, x, beta, threshold):
    """o = gy where β·x > threshold, else gy·z/(z + 1) with z = e^(β·x)."""
    scaled = xp.multiply(x, beta)
    curved = xp.logical_not(xp.greater(scaled, threshold))  # (NaN: curved, as in PyTorch)
    xp.clip(scaled, None, threshold, out=scaled)
    xp.exp(scaled, out=scaled)
    xp.add(scaled, 1, out=o)
    xp.multiply(gy, scaled, out=scaled)
    xp.divide(scaled, o, out=o)
    select_into(o, curved, o, gy)


def mish(o, x):
    """o = x·tanh(log1p(e^x))."""
    mish_keeping_tanh(o, x, o)


def mish_keeping_tanh(o, x, t):
    """`mish`, and t = tanh(log1p(e^x)) for the backward (`mish_backward`)."""
    xp.exp(x, out=t)
    xp.log1p(t, out=t)
    xp.tanh(t, out=t)
    xp.multiply(x, t, out=o)


def mish_backward(o, gy, x, t):
    """o = gy·(t + x·σ(x)·(1 - t²)), with t kept by the forward."""
    sigmoid(o, x)
    xp.multiply(x, o, out=o)
    xp.multiply(o, xp.subtract(1, xp.multiply(t, t)), out=o)
    xp.add(t, o, out=o)
    xp.multiply(gy, o, out=o)


def hardswish(o, x):
    """o = x·min(max(x + 3, 0), 6)/6."""
    xp.add(x, 3, out=o)
    xp.clip(o, 0, 6, out=o)  # (NaN stays NaN; a clip to scalars has a SIMD loop)
    xp.multiply(x, o, out=o)
    xp.divide(o, 6, out=o)


def hardswish_backward(o, gy, x):
    """o = gy where x ≥ 3, +0 where x ≤ -3, else gy·(x/3 + ½) (a NaN x gives NaN: PyTorch's
    results, checked at the kinks)."""
    middle = xp.divide(x, 3)
    xp.add(middle, 0.5, out=middle)
    xp.multiply(gy, middle, out=middle)
    select_into(o, xp.greater_equal(x, 3), gy, middle)
    keep_where(o, o, xp.logical_not(xp.less_equal(x, -3)))  # (NaN stays)


def hardtanh_backward(o, gy, x, low, high):
    """o = gy where low < x < high, else +0 (a NaN x included, as in PyTorch)."""
    inside = xp.greater(x, low)
    xp.logical_and(inside, xp.less(x, high), out=inside)
    keep_where(o, gy, inside)


def hardsigmoid_backward(o, gy, x):
    """o = gy·(1/6 rounded to float32) where -3 < x < 3, else +0 (NOTE [hardsigmoid's 1/6])."""
    inside = xp.greater(x, -3)
    xp.logical_and(inside, xp.less(x, 3), out=inside)
    keep_where(o, xp.multiply(gy, o.dtype.type(xp.float32(1 / 6))), inside)


def log_sigmoid_backward(o, gy, x, buffer_dtype):
    """o = gy·(1 - b/(1 + b)) where x < 0, else gy·b/(1 + b), with b = e^-|x| rounded to
    buffer_dtype: PyTorch's kernel reads the buffer its forward kept in x's dtype."""
    b = xp.exp(-xp.abs(x)).astype(buffer_dtype).astype(o.dtype)
    xp.add(b, 1, out=o)
    xp.divide(b, o, out=o)
    xp.subtract(1, o, out=o, where=xp.less(x, 0))
    xp.multiply(o, gy, out=o)


def _zeros(like):
    """Zeros of like's shape and dtype as an array (NumPy's max/min are slow with a scalar)."""
    return zeros_shaped(like.dtype, like.shape)


def _coefficient(like, alpha, scale):
    """alpha·scale as PyTorch makes it: a product in like's dtype."""
    return like.dtype.type(alpha) * like.dtype.type(scale)


# ---- softmax and log_softmax over the last dim, forward and backward ------------------------
def by_rows(kernel, out, *arrays):
    """kernel(out_rows, *array_rows) on the rows of 2-d arrays: one call for up to 4 chunks'
    worth of elements, else blocks of about 2·CHUNK elements shared by the intra-op threads.
    Each row's arithmetic is the same either way. Measured on (18432, 256) float32 (an
    attention's scores): softmax 12.5 ms whole, 8.6-11 ms in blocks on one thread, 5.6-5.9 ms
    on two; a (4096, 512) array, which fits this machine's L3, gained nothing from blocks."""
    rows, width = out.shape
    if out.size < 4 * CHUNK:
        with quiet():  # (an all -inf row is NaN, as in PyTorch, without a warning)
            kernel(out, *arrays)
        return out
    step = max(1, 2 * CHUNK // max(width, 1))
    starts = list(range(0, rows, step))

    def run(first, last):
        with quiet():  # (per thread: NumPy's error state is thread-local)
            for start in starts[first:last]:
                part = slice(start, start + step)
                kernel(out[part], *[a[part] for a in arrays])

    parallel_blocks(run, len(starts))
    return out


def softmax_rows(o, x):
    """o = exp(x - max) / Σ exp(x - max) per row of 2-d arrays."""
    xp.subtract(x, x.max(axis=-1, keepdims=True), out=o)
    xp.exp(o, out=o)
    o /= o.sum(axis=-1, keepdims=True)


def log_softmax_rows(o, x):
    """o = x - max - log Σ exp(x - max) per row of 2-d arrays."""
    xp.subtract(x, x.max(axis=-1, keepdims=True), out=o)
    o -= xp.log(xp.sum(xp.exp(o), axis=-1, keepdims=True))


def softmax_rows_backward(o, gy, y):
    """o = y·(gy - Σ gy·y) per row of 2-d arrays (the sum by einsum, no gy·y temporary)."""
    xp.subtract(gy, xp.einsum("ij,ij->i", gy, y)[:, None], out=o)
    xp.multiply(o, y, out=o)


def log_softmax_rows_backward(o, gy, y):
    """o = gy - e^y·Σ gy per row of 2-d arrays."""
    xp.exp(y, out=o)
    xp.multiply(o, xp.einsum("ij->i", gy)[:, None], out=o)
    xp.subtract(gy, o, out=o)
