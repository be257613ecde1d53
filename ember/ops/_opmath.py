"""float16 and bfloat16 arithmetic the way PyTorch's CPU kernels do it.

NOTE [opmath]
Most of PyTorch's CPU kernels compute a 16-bit float input in float32 (its "opmath" type) and
round the result to the input dtype once, at the end: convolutions, pooling, interpolation,
the norms, embedding bags, most losses, the activations (sigmoid, silu, gelu, hardswish, elu,
leaky_relu), softmax, lerp, add/sub with alpha, mul/div by a scalar (NOTE [Reduced-precision
tensor and a scalar] in ember/ops/_reduced_scalar.py). NumPy instead rounds every
intermediate to float16 (and ml_dtypes's bfloat16 matmul returns float32). The helpers here
widen 16-bit floats to float32 for the computation; the caller rounds once. Kernels that do
round intermediates (adaptive_avg_pool3d's running sum, soft_margin_loss's exp, the
interpolation weights) say so where they are written. The first-order backward of the
activations and softmaxes takes the same path (`gradient_by_kernel` in ember/ops/unary.py);
under create_graph they run as ember ops in the 16-bit dtype (a rounding per step).
"""

from ember._backend import quiet, xp
from ember._threads import flat_blocks


def is_half(dtype) -> bool:
    """float16 or bfloat16 (an ember or NumPy dtype)."""
    return dtype.itemsize == 2 and getattr(dtype, "kind", "f") not in "iub" \
        and getattr(dtype, "is_floating_point", True)


def holds_nan(dtype) -> bool:
    """Whether a NumPy dtype's values can be NaN: NumPy's floats and ml_dtypes' (bfloat16,
    float8), whose kind is 'V' but whose isnan works."""
    return dtype.kind in "fc" or dtype.kind == "V" and dtype.name.startswith(("bfloat", "float"))


def opmath_dtype(dtype):
    """The NumPy dtype PyTorch computes an array of `dtype` in: float32 for 16-bit floats."""
    return xp.dtype(xp.float32) if is_half(dtype) else dtype


def widen(a):
    """a as float32 if it is a 16-bit float array, else a itself."""
    return a.astype(xp.float32) if is_half(a.dtype) else a


def in_opmath(fn, input, *tensors, **kwargs):
    """fn(input, *tensors, **kwargs) with 16-bit float tensors widened to float32 and the
    result rounded back to input's dtype once (differentiably: the gradients are rounded once
    too). Other dtypes run fn unchanged."""
    if not is_half(input.dtype):
        return fn(input, *tensors, **kwargs)

    def wide(t):
        is_tensor = hasattr(t, "_data")
        return t.float() if is_tensor and t.dtype.is_floating_point else t

    return fn(wide(input), *(wide(t) for t in tensors), **kwargs).to(input.dtype)


def magnitude(values):
    """|values| as PyTorch computes it: a complex one as hypot(re, im) (NumPy's complex abs
    rounds differently: a third of complex64 values off by one bit)."""
    return xp.hypot(values.real, values.imag) if values.dtype.kind == "c" else xp.abs(values)


def through_float64(fn, a):
    """fn of a float32 array computed in float64 and rounded once: NumPy's float32 log2 and
    log10 are off torch's by an ulp on a sixth to a half of values (log10(1e-6) was -6.0000005),
    the rounded float64 on one in a thousand. (Only for these two, seldom in a hot loop: the
    detour costs 5-20x a float32 kernel.)"""
    with quiet():
        if a.dtype == xp.float32:
            return fn(a.astype(xp.float64)).astype(xp.float32)
        return fn(a)


# ---- float32 add with alpha ---------------------------------------------------------------
_FMA_CHUNK = 1 << 15  # elements per float64 pass: its 256 KB temporary stays in the L2 cache


def fused_add32(x, y, alpha, out=None):
    """round32(x + alpha·y) for float32 arrays, as PyTorch's vectorized `add` with alpha
    computes it: one fused multiply-add (`vec::fmadd(y, alpha, x)`, alpha rounded to float32).
    The product of two float32 values is exact in float64, so the float64 sum rounded to
    float32 is the FMA (NOTE [Emulating a float32 FMA] in ember/_rng/mathfun.py). Same-shaped
    contiguous operands go in cache-sized chunks on the intra-op threads; out (x itself for
    an in-place add_) must not partly overlap y."""
    scale = xp.float64(xp.float32(alpha))
    same = x.shape == y.shape and x.flags.c_contiguous and y.flags.c_contiguous
    if not same or out is not None and not out.flags.c_contiguous:
        with quiet():
            result = xp.add(y.astype(xp.float64) * scale, x.astype(xp.float64)).astype(
                xp.float32)
        if out is None:
            return result
        out[...] = result
        return out
    out = xp.empty(x.shape, dtype=xp.float32) if out is None else out
    flat_blocks(lambda o, a, b: _fma_chunks(o, a, b, scale), out.reshape(-1), x.reshape(-1),
                y.reshape(-1))
    return out


def _fma_chunks(out, x, y, scale):
    """out = round32(x + scale·y) on flat arrays, a float64 chunk at a time. Every step has
    one dtype: NumPy's mixed float32/float64 ufuncs cast through a buffer, ~15x slower."""
    size = min(out.size, _FMA_CHUNK)
    wide, other = xp.empty(size, dtype=xp.float64), xp.empty(size, dtype=xp.float64)
    with quiet():
        for start in range(0, out.size, _FMA_CHUNK):
            stop = min(start + _FMA_CHUNK, out.size)
            product, addend = wide[:stop - start], other[:stop - start]
            xp.copyto(product, y[start:stop])
            xp.multiply(product, scale, out=product)  # exact: 24 × 24 bits
            xp.copyto(addend, x[start:stop])
            xp.add(product, addend, out=product)
            xp.copyto(out[start:stop], product, casting="same_kind")  # the one rounding
