"""Least squares: `torch.linalg.lstsq` with its four LAPACK drivers.

gelsd and gelss answer A⁺·B with the singular values at most rcond·σ_max dropped (the rank they
report). gelsy, torch's default, is LAPACK's own (SciPy's, when SciPy is installed; else as
gelsd): QR with column pivoting and an incremental rank estimate, whose rank and solution differ
from the SVD's for an ill-conditioned A. gels is LAPACK's QR/LQ solution with no rank cut-off.
The gradient is PyTorch's for every driver: that of A⁺·B with pinv's default tolerance.
"""

from ember import _scipy
from ember._backend import quiet, xp
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops.broadcast import sum_to
from ember.ops.linalg import matmul
from ember.ops.linalg_core import (LinAlgError, LstsqResult, batch_prefix, first_failure, mH,
                                   svd_arrays, triangular_solve_array)
from ember.ops.linalg_lu import per_matrix, scipy_linalg
from ember.ops.linalg_solve import Pinv, _conj_t, _pinv_array, _pinv_backward

_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lapack_scaled(a):
    """(a scaled into LAPACK's safe range, the factor): gels scales a matrix whose largest
    |entry| is below smlnum = tiny/eps up to smlnum, or above 1/smlnum down to it (an inf
    entry makes the factor 0, the matrix NaN/0 as dlascl leaves it)."""
    info = xp.finfo(a.real.dtype)
    small = info.tiny / info.eps
    big = 1 / small
    size = xp.max(xp.abs(a), axis=(-2, -1), keepdims=True)
    with quiet():
        target = xp.where(size < small, small, xp.where(size > big, big, size))
        factor = xp.where((size > 0) & (target != size), target / size, 1).astype(a.real.dtype)
        return a * factor, factor


def _gels_array(a, b):
    """LAPACK's gels: QR (m ≥ n, least squares) or LQ (m < n, minimum norm) with no rank
    cut-off, A and B scaled into the safe range first; an A of zeros gives X = 0 and an
    exactly zero diagonal of R is torch's LinAlgError (error code: its 1-based position)."""
    m, n = a.shape[-2:]
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    zero = ~xp.any(a != 0, axis=(-2, -1))
    a, a_factor = _lapack_scaled(a)
    b, b_factor = _lapack_scaled(b)
    q, r = xp.linalg.qr(a if m >= n else _conj_t(a))
    singular = (xp.diagonal(r, axis1=-2, axis2=-1) == 0) & ~zero[..., None]
    info = xp.where(singular.any(-1), xp.argmax(singular, axis=-1) + 1, 0)
    index = first_failure(info)
    if index is not None:
        raise LinAlgError(f"torch.linalg.lstsq: {batch_prefix(info, index)}The least squares "
                          "solution could not be computed because the input matrix does not "
                          f"have full rank (error code: {int(info[index])}).")
    with quiet():
        if m >= n:
            x = triangular_solve_array(r, xp.matmul(_conj_t(q), b), upper=True)
        else:
            x = xp.matmul(q, triangular_solve_array(_conj_t(r), b, upper=False))
        x = x * a_factor / b_factor
    return xp.where(zero[..., None, None], 0, x).astype(a.dtype)


def _gelsy_array(a, b, rcond):
    """(X, rank) by LAPACK's gelsy, SciPy's, one matrix at a time (NOTE [A loop over the
    batch]): QR with column pivoting, the rank k where its incremental estimate of cond(R₁₁)
    would pass 1/rcond, and the minimum-norm solution for the leading k pivoted columns. That
    is not A⁺·B at the SVD's rank (gelsd): for an ill-conditioned A the rank and the solution
    differ, and torch's default driver is gelsy."""
    lstsq = scipy_linalg("").lstsq
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    b = xp.broadcast_to(b, batch + b.shape[-2:])
    flat_b = b.reshape((-1,) + b.shape[-2:])
    results = per_matrix(a, lambda i, m: lstsq(m, flat_b[i], cond=rcond, check_finite=False,
                                               lapack_driver="gelsy"))
    x = xp.stack([r[0] for r in results]).reshape(batch + (a.shape[-1], b.shape[-1]))
    rank = xp.array([r[2] for r in results], dtype=xp.int64).reshape(batch)
    return x.astype(a.dtype, copy=False), rank


class Lstsq(Op):
    """(X, residuals) of one node, as PyTorch's LinalgLstsqBackward0: X the driver's
    least-squares solution of A·X = B (B a batch of vectors: X too), residuals the column sums
    of |A·X − B|² when `with_residuals` (else empty). With P = A⁺ at pinv's default tolerance,
    whatever the driver and rcond (as PyTorch's backward): gB = Pᴴ·gX and gA is pinv's gradient
    at gP = gX·Bᴴ (X = P·B at full rank); the residuals add 2·(R·diag(gL))·Xᴴ to gA and
    −2·R·diag(gL) to gB (R = A·X − B; through X it adds nothing at the optimum, Aᴴ·R = 0)."""

    node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, A, B, x, with_residuals, vector):
        if with_residuals:
            with quiet():  # a huge A overflows to inf, silently as in PyTorch
                r = xp.matmul(A._data, x) - (B._data[..., None] if vector else B._data)
                residuals = xp.sum(r.real ** 2 + r.imag ** 2 if xp.iscomplexobj(r) else r ** 2,
                                   -2)
        else:
            residuals = xp.zeros(0, dtype=x.real.dtype)
        solution = Tensor._make(x[..., 0] if vector else x)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(A, B, solution)  # the output itself: double backward sees X's graph
        ctx.vector = vector
        return solution, Tensor._make(residuals)

    @staticmethod
    def backward(ctx, gx, gres):
        A, B, x = ctx.saved_tensors
        if gres is not None and gres.numel() == 0:
            gres = None
        if gx is None and gres is None:
            return None, None, None, None, None
        Bm, x = (B[..., None], x[..., None]) if ctx.vector else (B, x)
        ga = gb = None
        if gx is not None:
            gx = gx[..., None] if ctx.vector else gx
            p = Pinv.apply(A, None, None, False)
            ga = _pinv_backward(A, p, matmul(gx, mH(Bm))) if ctx.needs_input_grad[0] else None
            gb = matmul(mH(p), gx) if ctx.needs_input_grad[1] else None
        if gres is not None:
            weighted = (matmul(A, x) - Bm) * (2 * gres[..., None, :])
            if ctx.needs_input_grad[0]:
                extra = matmul(weighted, mH(x))
                ga = extra if ga is None else ga + extra
            if ctx.needs_input_grad[1]:
                gb = -weighted if gb is None else gb - weighted
        ga = sum_to(ga, A._data.shape) if ga is not None else None
        if gb is not None:
            gb = sum_to(gb, Bm._data.shape)
            gb = gb[..., 0] if ctx.vector else gb
        return ga, gb, None, None, None


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None):
    """Least-squares solution of A·X = B with its residuals, rank and singular values as the
    LAPACK driver reports them (matches `torch.linalg.lstsq`; the solution is A⁺·B with σ at
    most rcond·σ_max dropped, and for gels LAPACK's QR/LQ solution with no rank cut-off)."""
    vector = _check_lstsq(A, B)
    name = "torch.linalg.lstsq"
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    if A.dtype.name not in ("float32", "float64", "complex64", "complex128"):
        raise RuntimeError("This function doesn't handle types other than float and double")
    a, b = A._data, (B._data[..., None] if vector else B._data)
    m, n = a.shape[-2:]
    rcond = float(xp.finfo(a.dtype).eps) * max(m, n) if rcond is None else rcond
    s = svd_arrays(a, compute_uv=False)
    rank = xp.sum(s > rcond * xp.max(s, axis=-1, keepdims=True, initial=0), axis=-1)
    if driver == "gels" and a.size and b.size:
        x = _gels_array(a, b)
    elif driver == "gelsy" and a.size and b.size and _scipy.has_scipy():
        x, rank = _gelsy_array(a, b, rcond)
    else:
        x = xp.matmul(_pinv_array(a, None, rcond, False), b)
    if b.size == 0:  # PyTorch leaves LAPACK out, and the rank 0
        rank = xp.zeros_like(rank)
    # LAPACK's residuals: for a tall A of full rank (gelsy reports none); a vector B keeps its
    # column of them, shape (..., 1), as PyTorch's
    with_residuals = m > n and (driver == "gels" or driver != "gelsy" and bool(xp.all(rank == n)))
    x, residuals = Lstsq.apply(A, B, x, with_residuals, vector)
    empty = Tensor._make(xp.zeros(0, dtype=a.real.dtype))
    return LstsqResult(x, residuals,
                       Tensor._make(rank.astype(xp.int64)) if driver != "gels" else
                       Tensor._make(xp.zeros(0, dtype=xp.int64)),
                       Tensor._make(s) if driver in ("gelsd", "gelss") else empty)


def _check_lstsq(A: Tensor, B: Tensor) -> bool:
    """PyTorch's shape and dtype errors of lstsq, in its order; whether B is a (batch of)
    vector(s), one dimension less than A."""
    name = "torch.linalg.lstsq"
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if B._data.ndim < 1:
        raise RuntimeError(f"{name}: other must have at least 1 dimension.")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got "
                           f"input's dtype {short_name(A.dtype)} and other's dtype "
                           f"{short_name(B.dtype)}")
    vector = A._data.ndim - B._data.ndim == 1
    if not (vector or A._data.ndim == B._data.ndim):
        raise RuntimeError(f"{name}: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    if A._data.shape[-2] != B._data.shape[-1 if vector else -2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size("
                           f"{-1 if vector else -2})")
    return vector
