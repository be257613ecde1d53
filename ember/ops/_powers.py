"""pow on arrays, as PyTorch's CPU kernels compute it (the `Pow` op is in
ember/ops/elementwise.py)."""

from ember._backend import quiet, xp


def power_arrays(a, b):
    """a ** b; integers to negative integer powers give 1, ±1 or 0 (truncated), as in PyTorch."""
    if b.ndim == 0 and (b.dtype.kind in "iuf" or b.dtype.name == "bfloat16") and (
            a.dtype.char in "fd" or a.dtype.name == "bfloat16" and float(b) in (2, 3, -2)):
        formula = _SCALAR_POWERS.get(float(b))
        if formula is not None:
            with quiet():
                return xp.asarray(formula(a))  # (a 0-d a's product is a NumPy scalar)
    if a.dtype.kind not in "iu" or not xp.any(b < 0):
        with quiet():
            return xp.power(a, b)
    y = xp.power(a, xp.maximum(b, 0))
    negative_one = xp.where(b % 2 == 0, 1, -1).astype(a.dtype)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, negative_one, 0)).astype(a.dtype)
    return xp.where(b < 0, inverse, y)


# NOTE [pow by a scalar]: PyTorch's CPU kernel computes these exponents of float32/float64
# tensors by their formulas, not by pow(): (x·x)·x for 3, 1/√x for -1/2, 1/(x·x) for -2 (pow()
# rounds once: 3-31% of float32 values differed in the last bit), and x·x, 1/x (which pow()
# matches, at a quarter of its time); an exponent of 1 (a square's gradient) is x itself.
# bfloat16 tensors take the formulas for 2, 3 and -2 too, each operation rounded to bfloat16
# (PyTorch's kernel runs them in bfloat16 vectors); float16 ones are pow() in float32.
_SCALAR_POWERS = {
    1.0: lambda a: a.copy(),
    2.0: lambda a: xp.multiply(a, a),
    3.0: lambda a: xp.multiply(xp.multiply(a, a), a),
    -0.5: lambda a: xp.divide(1, xp.sqrt(a)),
    -1.0: lambda a: xp.divide(1, a),
    -2.0: lambda a: xp.divide(1, xp.multiply(a, a)),
}
