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


# NOTE [PyTorch's small bmm]
# PyTorch's bmm (and the batched matmuls it runs as bmm) computes a product whose
# K·M·N < 400 by a plain loop (baddbmm_cpu_kernel): each output is Σ_k a·b added from 0 in
# order of k, every product and sum rounded (no FMA: LinearAlgebra.cpp is built for the
# baseline CPU); bigger ones go to BLAS per batch item, as NumPy's matmul does. Float32 and
# float64 follow it here (16-bit products reach it in float32, as in PyTorch's opmath).
def bmm_product(a, b):
    """a @ b for batches of matrices (broadcast batch axes), as PyTorch's bmm computes it."""
    if a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype or a.dtype.char not in "fd" or \
            a.shape[-1] * a.shape[-2] * b.shape[-1] >= 400:
        return product(a, b)
    terms = a[..., :, :, None] * b[..., None, :, :]  # (..., M, K, N): each product rounded
    return _fold(xp.moveaxis(terms, -2, 0))


def _fold(rows):
    """((0 + r0) + r1) + ... over axis 0: the rows added one after the other."""
    zero = rows.dtype.type(0)
    if rows.shape[0] <= 1:
        return xp.add.reduce(rows, axis=0) + zero
    if rows.size < 2 * rows.shape[0]:  # one lane: NumPy's reduce would add it pairwise
        return xp.add.accumulate(rows, axis=0)[-1] + zero
    # the folded axis outermost in memory: NumPy's reduce adds its rows in order
    rows = rows if rows.flags.c_contiguous else rows.copy(order="C")  # (keeps the array type)
    return xp.add.reduce(rows, axis=0) + zero


def folds_into_mm(a, b, b_grad, a_grad):
    """PyTorch's `should_fold` for matmul(a, b) with a batched operand: whether it runs as
    one mm on the batches folded into rows (else as bmm on the expanded batches). b_grad /
    a_grad: whether b / a require grad."""
    two_d = a.ndim == 2
    if a.ndim < b.ndim:  # the larger operand first, as matmul orders them (transposed)
        a, b, b_grad = b.swapaxes(-1, -2), a.T if two_d else a, a_grad
    if not (a.ndim >= 3 and b.ndim <= 2):
        return False
    if b_grad:  # folding keeps the backward from a large expanded gradient
        return True
    if two_d:  # folding a matrix times a batch would copy its transposed result
        return False
    if a.size == 0:
        return True
    strides = [s // a.itemsize for s in a.strides]
    return all(strides[i] == strides[i + 1] * a.shape[i + 1] for i in range(a.ndim - 2))
