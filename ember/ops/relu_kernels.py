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
from ember._threads import parallel_blocks

# Elements per block, at least: a ReLU does little work per element, so below a few megabytes
# handing half of it to another thread saves less than the hand-off can cost on a busy machine
BLOCK = 1 << 20


def flat_blocks(fn, out, *arrays):
    """fn(out, *arrays) on arrays of out's shape; in flat blocks on threads when big."""
    if out.size < 2 * BLOCK or not all(a.flags.c_contiguous for a in arrays):
        fn(out, *arrays)
        return
    flat = [a.reshape(-1) for a in (out,) + arrays]
    parallel_blocks(lambda i, j: fn(*[a[i:j] for a in flat]), out.size, BLOCK)


def relu(a):
    """max(a, 0) (NaN stays NaN)."""
    zero = _ZEROS.get(a.dtype)
    if zero is None:
        zero = _ZEROS[a.dtype] = xp.zeros((), dtype=a.dtype)
    if a.ndim and a.size < 2 * BLOCK:  # (a 0-d maximum would come back as a NumPy scalar)
        return xp.maximum(a, zero)
    y = xp.empty(a.shape, dtype=a.dtype)
    flat_blocks(lambda out, a: xp.maximum(a, zero, out=out), y, a)
    return y


# dtype -> a 0-d zero of it: NumPy takes an operand of the same dtype faster than the Python 0
# it must first fit to a dtype (2.1 -> 1.6 us on 1000 floats)
_ZEROS = {}


def at_most_zero(y):
    """The bool array y <= 0 (an array even when y is 0-d)."""
    zero = xp.empty(y.shape, dtype=xp.bool_)
    xp.less_equal(y, 0, out=zero)
    return zero


def relu_backward(g, y):
    """gy where y > 0 or y is NaN, +0 elsewhere (NOTE [Masking by bits])."""
    bits = xp.dtype(f"u{g.dtype.itemsize}")
    gx = xp.empty(g.shape, dtype=g.dtype)
    keep = at_most_zero(y)
    xp.logical_not(keep, out=keep)
    flat_blocks(lambda out, g, keep: xp.multiply(g.view(bits), keep.view(xp.uint8),
                                                 out=out.view(bits)), gx, g, keep)
    return gx
