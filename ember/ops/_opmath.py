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
