"""ReLU's array kernels (the `Relu` op is in ember/ops/rectifier.py).

NOTE [Big ReLUs on threads]
A conv net's ReLU runs over megabytes of activations: when contiguous they are split into flat
blocks on parallel_blocks' threads (NumPy releases the GIL inside ufuncs). Elementwise, so the
bits are the same either way.

NOTE [Masking by bits]
PyTorch's ReLU backward zeroes gy where y <= 0 (so a NaN y passes gy on) and keeps gy's bits
elsewhere. A float multiply by the bool mask turns a negative gy into -0, and `where` is many
times slower in NumPy; so gx is gy's bits, as unsigned integers, times the mask (0 or 1): one
integer multiply, as fast as the float one, and exactly gy or +0.
"""

from ember._backend import xp
from ember._threads import flat_blocks
from ember._in_place import MIN_ELEMENTS, target_for

def relu(a):
    """max(a, 0) (NaN stays NaN)."""
    zero = _ZEROS.get(a.dtype)
    if zero is None:
        zero = _ZEROS[a.dtype] = xp.zeros((), dtype=a.dtype)
    if a.ndim and a.size < MIN_ELEMENTS:  # (small: never written in place; 0-d: below)
        return xp.maximum(a, zero)
    # relu_ writes into a itself (NOTE [Writing in place]); (a 0-d maximum without out= would
    # come back as a NumPy scalar)
    y = a if target_for(a) is not None else xp.empty(a.shape, dtype=a.dtype)
    flat_blocks(lambda out, a: xp.maximum(a, zero, out=out), y, a)
    return y


# dtype -> a 0-d zero of it: NumPy takes an operand of the same dtype faster than the Python 0
# it must first fit to a dtype (2.1 -> 1.6 us on 1000 floats)
_ZEROS = {}


def relu_backward(g, y):
    """gy where y > 0 or y is NaN, +0 elsewhere (NOTE [Masking by bits]), y being ReLU's
    output: never negative, so the mask is y != 0 (a NaN is kept, both zeros are not), one
    comparison. It is made block by block with the product, the two passes on the threads."""
    bits = xp.dtype(f"u{g.dtype.itemsize}")
    gx = xp.empty(g.shape, dtype=g.dtype)

    def masked(out, g, y):
        keep = xp.not_equal(y, 0)
        xp.multiply(g.view(bits), keep.view(xp.uint8), out=out.view(bits))

    flat_blocks(masked, gx, g, xp.broadcast_to(y, g.shape) if y.shape != g.shape else y)
    return gx
