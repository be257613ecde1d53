"""The matrix product of two arrays behind every product op (mm, matmul, linear, ...), with the
layout choices that make NumPy's BLAS calls fast."""

from ember._backend import xp


def product(a, b):
    """a @ b on arrays, in their dtype: NumPy gives bfloat16 products in float32, PyTorch rounds
    them back to bfloat16."""
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1 and a.dtype == b.dtype and \
            a.dtype.char in "fdFD":
        # An outer product (contracted size 1, as a batch-1 weight gradient): NumPy's matmul
        # takes a slow path for it (450 µs for 512x784, against 60 µs in np.dot). Each element
        # is a single product, so the result is the same either way.
        return xp.dot(a, b)
    if _thin_times_transposed(a, b):  # NOTE [Thin rows times a transposed matrix]
        return xp.ascontiguousarray(xp.matmul(b.T, a.T).T)
    y = xp.matmul(a, b)
    return y if y.dtype == a.dtype else y.astype(a.dtype)


def _thin_times_transposed(a, b):
    """Whether a·b is a few float32 rows times a big transposed matrix (x·Wᵀ of a small-batch
    Linear), which OpenBLAS computes faster as (W·xᵀ)ᵀ.

    NOTE [Thin rows times a transposed matrix]
    For x (M, K) C-ordered times Wᵀ (W (N, K) C-ordered) with 4 <= M <= 64 and K, N >= 256,
    NumPy's OpenBLAS sgemm takes about twice torch's time (M = 4-16: 166 µs against torch's
    80 for 4x784x512) and 1.15x at M = 64. Computing W·xᵀ instead (the same dot products,
    the same bits: checked on these shapes) and copying its transpose, M·N elements, takes
    0.4-0.9x the direct call's time, on one thread and on two. Outside those bounds (smaller
    K or N, where the copy weighs more; float64; the other layouts of Linear's backward) the
    direct call measured as fast or faster.
    """
    return (a.ndim == 2 and b.ndim == 2 and a.dtype is _FLOAT32 and b.dtype is _FLOAT32
            and 4 <= a.shape[0] <= 64 and a.shape[1] >= 256 and b.shape[1] >= 256
            and a.flags.c_contiguous and b.T.flags.c_contiguous and type(a) is xp.ndarray)


_FLOAT32 = xp.dtype(xp.float32)
