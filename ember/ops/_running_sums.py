"""cumsum's array kernel: PyTorch's accumulation type, and a fast loop for non-last dims.

NOTE [cumsum in PyTorch's accumulation type]
PyTorch's CPU cumsum keeps its running sum in `acc_type` (double for float32 and complex64,
float for float16 and bfloat16) and rounds each output once; summing in float32, as
`np.cumsum(x)` does, gave other bits for 70-80% of a float32 cumsum's outputs. Here the sum is
kept in that type too, so the bits are PyTorch's. NumPy's cumsum does not vectorise: about
8 ns an element in double, and more along a dim that is not the last (it strides through
memory). Where each position along the dim has a slice of at least `_SLICED_FROM` elements,
the sum is run as a loop over the positions instead, each step one `add` over a whole slice
(the same sums in the same order: 10x faster for a (32, 64, 256) cumsum over dim 1).
"""

from ember._backend import get_array_module, xp

# Elements per slice from which the loop over positions beats NumPy's cumsum (a step costs a
# few microseconds of calls; NumPy's cumsum some nanoseconds an element)
_SLICED_FROM = 512


def _accumulator(dtype):
    """PyTorch's CPU acc_type for a cumsum of dtype (NOTE above)."""
    if dtype == xp.float32:
        return xp.dtype(xp.float64)
    if dtype == xp.complex64:
        return xp.dtype(xp.complex128)
    if dtype.itemsize == 2 and dtype.kind not in "iu":  # float16, bfloat16
        return xp.dtype(xp.float32)
    return dtype


def cumsum_array(data, axis: int, dtype, reverse: bool = False):
    """The running sums of data along axis (from the end when `reverse`), as dtype: data is
    first converted to dtype, then summed in PyTorch's accumulation type."""
    dtype = xp.dtype(dtype)
    data = data.astype(dtype, copy=False)
    accumulate = _accumulator(dtype)
    length = data.shape[axis]
    if length < 2 or data.size // length < _SLICED_FROM:
        if reverse:
            flipped = xp.flip(data, axis)
            return xp.flip(xp.add.accumulate(flipped, axis=axis, dtype=accumulate),
                           axis).astype(dtype)
        # (the ufunc, not np.cumsum's wrapper: inf - inf stays silent, NOTE [NumPy's
        # floating-point warnings] in ember/_backend.py)
        return xp.add.accumulate(data, axis=axis, dtype=accumulate).astype(dtype, copy=False)
    out = get_array_module(data).empty(data.shape, dtype=dtype)
    positions = xp.moveaxis(data, axis, 0)
    sums = xp.moveaxis(out, axis, 0)
    total = get_array_module(data).zeros(positions.shape[1:], dtype=accumulate)
    for j in (range(length - 1, -1, -1) if reverse else range(length)):
        xp.add(total, positions[j], out=total)
        sums[j] = total  # (rounded to dtype)
    return out
