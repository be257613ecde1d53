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

import math

from ember._backend import xp
from ember._threads import flat_blocks
from ember._in_place import MIN_ELEMENTS, target_for

def relu(a):
    """max(a, 0) as PyTorch: NaN stays NaN and -0 stays -0 (NOTE [ReLU's zero operand])."""
    shape = a.shape  # (each attribute of an ndarray read costs as much as a small call)
    if shape and a.size < MIN_ELEMENTS:  # (small: never written in place; 0-d: below)
        dtype = a.dtype
        zeros = _ZERO_VIEWS.get((dtype, shape))  # (zeros_shaped's lookup, inlined)
        if zeros is None:
            zeros = zeros_shaped(dtype, shape)
        # (_max_with_zero, inlined)
        return xp.maximum(zeros, a) if dtype is not _FLOAT16 else xp.maximum(a, zeros)
    # relu_ writes into a itself (NOTE [Writing in place]); (a 0-d maximum without out= would
    # come back as a NumPy scalar)
    y = a if target_for(a) is not None else xp.empty(a.shape, dtype=a.dtype)
    flat_blocks(lambda out, a: _max_with_zero(a, zeros_shaped(a.dtype, a.shape), out), y, a)
    return y


def _max_with_zero(a, zeros, out=None):
    """maximum(0, a), or maximum(a, 0) for float16: whichever keeps -0 (NOTE below)."""
    if a.dtype is _FLOAT16:  # (NumPy's built-in dtypes are singletons)
        return xp.maximum(a, zeros, out=out)
    return xp.maximum(zeros, a, out=out)


def zeros_shaped(dtype, shape):
    """A read-only zero array of dtype and shape: a view of one shared buffer per dtype."""
    key = (dtype, shape)
    zeros = _ZERO_VIEWS.get(key)
    if zeros is None:
        if len(_ZERO_VIEWS) >= 256:  # (a program that keeps changing shapes)
            _ZERO_VIEWS.clear()
        zeros = _ZERO_VIEWS[key] = _zero_buffer(dtype, math.prod(shape)).reshape(shape)
    return zeros


def _zero_buffer(dtype, size: int):
    """The first `size` elements of dtype's shared zero buffer (grown, never written)."""
    buffer = _ZERO_BUFFERS.get(dtype)
    if buffer is None or buffer.size < size:
        # calloc'd: its untouched pages all map the kernel's one zero page, so reading even a
        # big one stays in the cache
        buffer = _ZERO_BUFFERS[dtype] = xp.zeros(max(size, 1024), dtype=dtype)
        buffer.flags.writeable = False
    return buffer[:size]


# NOTE [ReLU's zero operand]
# NumPy's `maximum` has SIMD loops for two arrays but not for an array and a broadcast scalar:
# with a 0-d zero it took 3x the time of the same call with a zero array (24 vs 8 µs on 64K
# floats; 0.78 vs 0.44 µs on 1000), so the zero is an array of the input's shape, a view of
# one calloc'd buffer. PyTorch's ReLU keeps -0 (its max returns the input when both are
# zeros); NumPy's loops return the second operand then (float32, float64, ml_dtypes'
# bfloat16), so zero goes first, except float16's, which returns the first (all checked
# against torch bit for bit, NaN and -0 included: tests/ops/test_relu_kernels.py).
_ZERO_VIEWS = {}  # (dtype, shape) -> zeros_shaped's view
_ZERO_BUFFERS = {}  # dtype -> the shared buffer
_FLOAT16 = xp.dtype(xp.float16)


def relu_backward(g, y):
    """gy where y > 0 or y is NaN, +0 elsewhere (NOTE [Masking by bits]), y being ReLU's
    output: never negative, so the mask is y != 0 (a NaN is kept, both zeros are not), one
    comparison. It is made block by block with the product, the two passes on the threads."""
    gx = xp.empty(g.shape, dtype=g.dtype)

    def masked(out, g, y):
        keep_where(out, g, xp.not_equal(y, 0))

    flat_blocks(masked, gx, g, xp.broadcast_to(y, g.shape) if y.shape != g.shape else y)
    return gx


def kept(g, mask):
    """A new array: g where mask, else +0 (`keep_where`)."""
    out = xp.empty(g.shape, dtype=g.dtype)
    keep_where(out, g, mask)
    return out


def keep_where(out, g, mask):
    """out = g where mask, else +0: g's bits times the mask's 0/1 as unsigned integers, one
    pass where a selection takes five (NOTE [Masking by bits])."""
    bits = xp.dtype(f"u{out.dtype.itemsize}")
    xp.multiply(g.view(bits), mask.view(xp.uint8), out=out.view(bits))
