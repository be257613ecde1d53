"""What the linear-algebra families share: `LinAlgError`, PyTorch's argument checks and messages,
the named result tuples, two array kernels NumPy lacks (partial-pivoting LU with LAPACK's pivots
and info, triangular substitution), and the diagonal adjoint pair.

NOTE [Batched kernels without a loop over the batch]
NumPy's `linalg` has no LU factorisation and no triangular solve. The kernels here loop over the
columns of the matrices (n steps), each step one whole-array update of every matrix of the batch,
so a batch of a thousand 4x4 matrices costs four NumPy passes, not a thousand.
"""

import math

from ember._backend import get_array_module, quiet, xp
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops.extrema import _return_type


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite (matches `torch.linalg.LinAlgError`)."""


# torch's class is the C extension's `torch._C._LinAlgError` (exported as torch.linalg.LinAlgError),
# so `type(e).__name__` and a traceback name it so.
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
LinAlgError.__module__ = "torch._C"

# the named tuples torch.return_types.<name>
SlogdetResult = _return_type("linalg_slogdet", ("sign", "logabsdet"))
TopSlogdetResult = _return_type("slogdet", ("sign", "logabsdet"))
InvExResult = _return_type("linalg_inv_ex", ("inverse", "info"))
SolveExResult = _return_type("linalg_solve_ex", ("result", "info"))
CholeskyExResult = _return_type("linalg_cholesky_ex", ("L", "info"))
QRResult = _return_type("linalg_qr", ("Q", "R"))
TopQRResult = _return_type("qr", ("Q", "R"))
EighResult = _return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
SVDResult = _return_type("linalg_svd", ("U", "S", "Vh"))
TopSVDResult = _return_type("svd", ("U", "S", "V"))
LUFactorResult = _return_type("linalg_lu_factor", ("LU", "pivots"))
LUFactorExResult = _return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
LUResult = _return_type("linalg_lu", ("P", "L", "U"))
LUUnpackResult = _return_type("lu_unpack", ("P", "L", "U"))
LstsqResult = _return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))
TriangularSolveResult = _return_type("triangular_solve", ("solution", "cloned_coefficient"))
LDLResult = _return_type("linalg_ldl_factor", ("LD", "pivots"))
LDLExResult = _return_type("linalg_ldl_factor_ex", ("LD", "pivots", "info"))


# ---- checks ----------------------------------------------------------------------------------
def check_float(A: Tensor, name: str, complex_ok: bool = False):
    """PyTorch's dtype errors: integers are refused, and so is float16 on the CPU. Complex
    inputs are accepted by the ops whose backward is written for them (complex_ok)."""
    if A.dtype.is_complex:
        if complex_ok:
            return
        raise NotImplementedError(f"{name}: complex inputs are not supported by ember yet "
                                  f"(got {short_name(A.dtype)})")
    if A.dtype.name == "float16":
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got Half")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {short_name(A.dtype)}")


def check_matrix(A: Tensor, name: str, arg: str = "A", complex_ok: bool = False):
    """At least two dims, floating."""
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    check_float(A, name, complex_ok)


def check_square(A: Tensor, name: str, arg: str = "A", complex_ok: bool = False):
    """A batch of square floating matrices (PyTorch's squareCheckInputs comes before the
    dtype check)."""
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{m} by {n} matrices")
    check_float(A, name, complex_ok)


def size_at(A: Tensor, dim: int) -> int:
    """A.size(dim), with the IndexError PyTorch's kernels raise when they read a missing dim."""
    ndim = A._data.ndim
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")
    return A._data.shape[dim]


def check_same_dtype(A: Tensor, B: Tensor, name: str, a: str = "A", b: str = "B"):
    if A.dtype is not B.dtype:
        raise RuntimeError(f"{name}: Expected {a} and {b} to have the same dtype, but found {a} "
                           f"of type {short_name(A.dtype)} and {b} of type "
                           f"{short_name(B.dtype)} instead")


def batch_prefix(info, index) -> str:
    """'(Batch element i): ' for a batched input, '' for a single matrix."""
    if info.ndim == 0:
        return ""
    return f"(Batch element {int(xp.ravel_multi_index(index, info.shape))}): "


def first_failure(info):
    """The index (a tuple) of the first matrix whose info is non-zero, or None."""
    bad = xp.argwhere(info != 0)
    return tuple(int(i) for i in bad[0]) if len(bad) else None


def raise_singular(name: str, info):
    """LinAlgError for an LU that met a zero pivot (info = its 1-based position)."""
    index = first_failure(info)
    if index is None:
        return
    raise LinAlgError(f"{name}: {batch_prefix(info, index)}The diagonal element "
                      f"{int(info[index])} is zero, the inversion could not be completed "
                      "because the input matrix is singular.")


def svd_arrays(a, **options):
    """NumPy's SVD of each matrix of `a`, failing as torch's does: LAPACK gives up on a matrix
    with a NaN (an inf only turns its results to NaN) and torch raises LinAlgError naming it."""
    try:
        return xp.linalg.svd(a, **options)
    except xp.linalg.LinAlgError:
        finite = xp.isfinite(a).all(axis=(-2, -1))
        index = first_failure(~finite)
        if index is None:  # LAPACK's other failure: no convergence on a finite matrix
            raise LinAlgError("linalg.svd: The algorithm failed to converge because the input "
                              "matrix is ill-conditioned or has too many repeated singular "
                              "values") from None
        raise LinAlgError(f"linalg.svd: {batch_prefix(finite, index)}The algorithm failed to "
                          "converge because the input matrix contained non-finite values."
                          ) from None


def raise_not_pd(name: str, info):
    """LinAlgError for a Cholesky factorisation that met a non-positive leading minor."""
    index = first_failure(info)
    if index is None:
        return
    raise LinAlgError(f"{name}: {batch_prefix(info, index)}The factorization could not be "
                      "completed because the input is not positive-definite (the leading minor "
                      f"of order {int(info[index])} is not positive-definite).")


def int32_tensor(array) -> Tensor:
    return Tensor._make(xp.asarray(array, dtype=xp.int32))


# ---- array kernels ---------------------------------------------------------------------------
_PANEL = 32  # columns factorised at a time before one matrix-product update of the rest


def _pivot_size(column):
    """|x| as LAPACK's pivot search measures it: |Re x| + |Im x| for complex x (izamax)."""
    if xp.iscomplexobj(column):
        return xp.abs(column.real) + xp.abs(column.imag)
    return xp.abs(column)


def lu_array(a):
    """(LU, pivots, info) of a batch of (m, n) matrices by partial pivoting (LAPACK's getrf).

    pivots are 1-based int32 row swaps (row j was swapped with row pivots[j]); info is the
    1-based position of the first exactly zero pivot, 0 if there is none. Right-looking and
    blocked like getrf: each panel of columns is factorised column by column, then the rows to
    its right are solved against its unit-lower block and the trailing matrix is updated with
    one matrix product (BLAS) instead of a rank-1 update per column.
    """
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    lu = a.reshape((math.prod(batch), m, n)).copy()
    count = lu.shape[0]
    rows = xp.arange(count)
    pivots = xp.zeros((count, k), dtype=xp.int32)
    info = xp.zeros(count, dtype=xp.int32)
    with quiet():  # inf/NaN entries: LAPACK's NaN, silently
        for j0 in range(0, k, _PANEL):
            j1 = min(j0 + _PANEL, k)
            for j in range(j0, j1):
                p = xp.argmax(_pivot_size(lu[:, j:, j]), axis=1) + j
                pivots[:, j] = p + 1
                row_j = lu[rows, j, :].copy()
                lu[rows, j, :] = lu[rows, p, :]
                lu[rows, p, :] = row_j
                pivot = lu[:, j, j]
                zero = pivot == 0
                info[(info == 0) & zero] = j + 1
                lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
                lu[:, j + 1:, j + 1:j1] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:j1]
            if j1 < n:
                lu[:, j0:j1, j1:] = _unit_lower_solve(lu[:, j0:j1, j0:j1], lu[:, j0:j1, j1:])
                lu[:, j1:, j1:] -= xp.matmul(lu[:, j1:, j0:j1], lu[:, j0:j1, j1:])
    return lu.reshape(a.shape), pivots.reshape(batch + (k,)), info.reshape(batch)


def _unit_lower_solve(lower, b):
    """L⁻¹·B for the unit lower triangle L of `lower` (getrf's trsm): a general solve where all
    is finite, else forward substitution -- the solve's back substitution against its identity
    upper factor would turn 0·inf into NaN in rows trsm leaves alone (row 0 is B's row 0)."""
    if xp.isfinite(lower).all() and xp.isfinite(b).all():
        unit_lower = xp.tril(lower, -1) + xp.eye(lower.shape[-1], dtype=lower.dtype)
        return xp.linalg.solve(unit_lower, b)
    return triangular_solve_array(lower, b, upper=False, unitriangular=True)


def permutation_array(pivots, m):
    """perm with (Pᵀ·A)[i] = A[perm[i]], from LAPACK's sequential 1-based row swaps."""
    perm = xp.broadcast_to(xp.arange(m), pivots.shape[:-1] + (m,)).copy()
    count = math.prod(pivots.shape[:-1])
    flat, piv = perm.reshape(count, m), pivots.reshape(count, pivots.shape[-1]) - 1
    rows = xp.arange(count)
    for i in range(piv.shape[-1]):
        j = piv[:, i]
        held = flat[rows, i].copy()
        flat[rows, i] = flat[rows, j]
        flat[rows, j] = held
    return flat.reshape(perm.shape)


def cholesky_info(a):
    """The LAPACK potrf info of each matrix: the order of the first leading minor that is not
    positive-definite (0 when the matrix is), by an unpivoted Cholesky on the lower triangle."""
    return cholesky_partial(a)[0]


def cholesky_partial(a):
    """(info, factor) of LAPACK's unblocked, left-looking Cholesky (potf2) on the lower
    triangle of each matrix. Where it fails at column j (a pivot not > 0, or NaN), the factor
    is what LAPACK leaves: columns before j factored, the failing pivot updated but not
    square-rooted, the rest of a's lower triangle untouched."""
    n = a.shape[-1]
    work = xp.tril(a.reshape((math.prod(a.shape[:-2]), n, n))).copy()
    info = xp.zeros(work.shape[0], dtype=xp.int32)
    with quiet():
        for j in range(n):
            active = info == 0
            row = work[:, j, :j]
            d = work[:, j, j].real - xp.sum((row * row.conj()).real, axis=-1)
            bad = active & ~(d > 0)
            info[bad] = j + 1
            work[bad, j, j] = d[bad]
            good = active & ~bad
            root = xp.sqrt(xp.where(good, d, 1))
            work[good, j, j] = root[good]
            below = work[:, j + 1:, j] - xp.einsum("bik,bk->bi", work[:, j + 1:, :j],
                                                     row.conj())
            work[good, j + 1:, j] = (below / root[:, None])[good]
    return info.reshape(a.shape[:-2]), work.reshape(a.shape)


def triangular_solve_array(a, b, upper: bool, unitriangular: bool = False):
    """X with A·X = B for triangular A (left side), batch dims broadcast; zero diagonal
    entries give inf/nan as LAPACK's trsm does."""
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = a.shape[-1]
    a = xp.broadcast_to(a, batch + a.shape[-2:])
    x = xp.array(xp.broadcast_to(b, batch + b.shape[-2:]), dtype=xp.result_type(a, b))
    with quiet():
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            known = slice(i + 1, n) if upper else slice(0, i)
            s = x[..., i, :] - xp.matmul(a[..., i, None, known], x[..., known, :])[..., 0, :]
            x[..., i, :] = s if unitriangular else s / a[..., i, i, None]
    return x


def identity_like(A: Tensor, n: int) -> Tensor:
    """The n x n identity in A's dtype and array module."""
    return Tensor._make(get_array_module(A._data).eye(n, dtype=A._data.dtype))


# ---- the diagonal adjoint pair ---------------------------------------------------------------
def _diag_index(shape, offset):
    """(rows, cols) of the diagonal `offset` of a (rows x cols) matrix of `shape`."""
    rows, cols = shape
    length = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    i = xp.arange(length)
    return i + max(-offset, 0), i + max(offset, 0)


class Diagonal(Op):
    """y = the diagonal `offset` of x over (dim1, dim2), moved last;  gx = gy placed back on that
    diagonal of zeros (DiagonalBackward)."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.args = (x._data.shape, offset, dim1, dim2)
        return xp.diagonal(x._data, offset, dim1, dim2).copy()

    @staticmethod
    def backward(ctx, gy):
        return DiagonalBackward.apply(gy, *ctx.args), None, None, None


class DiagonalBackward(Op):
    """y = zeros of `shape` with v on the diagonal `offset` over (dim1, dim2);  gv = that
    diagonal of gy."""

    node_name = "DiagonalBackwardBackward0"

    @staticmethod
    def forward(ctx, v, shape, offset, dim1, dim2):
        ctx.args = (offset, dim1, dim2)
        y = get_array_module(v._data).zeros(shape, dtype=v._data.dtype)
        moved = xp.moveaxis(y, (dim1, dim2), (-2, -1))
        rows, cols = _diag_index(moved.shape[-2:], offset)
        moved[..., rows, cols] = v._data
        return y

    @staticmethod
    def backward(ctx, gy):
        return Diagonal.apply(gy, *ctx.args), None, None, None, None


def diag(A: Tensor) -> Tensor:
    """The main diagonals of a batch of matrices, shape (..., min(m, n))."""
    return Diagonal.apply(A, 0, A._data.ndim - 2, A._data.ndim - 1)


def diag_embed(v: Tensor, shape=None) -> Tensor:
    """Matrices (square k x k unless shape is given) with v on the main diagonal."""
    k = v._data.shape[-1]
    shape = v._data.shape[:-1] + (k, k) if shape is None else tuple(shape)
    return DiagonalBackward.apply(v, shape, 0, len(shape) - 2, len(shape) - 1)


def mH(X: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (the transpose for real X)."""
    return X.mT.conj() if X.dtype.is_complex else X.mT


def sym(X: Tensor) -> Tensor:
    """(X + Xᵀ) / 2 over the last two dims."""
    return (X + X.mT) * 0.5


def herm(X: Tensor) -> Tensor:
    """(X + Xᴴ) / 2 over the last two dims (sym for real X)."""
    return (X + mH(X)) * 0.5


def check_gauge(phase_terms, scale, message: str):
    """PyTorch's check that a loss does not depend on the phases of eigen/singular vectors:
    the imaginary diagonal terms (zero for real inputs) must vanish, relative to `scale`."""
    phase = xp.abs(xp.asarray(phase_terms))
    if phase.size and float(xp.max(phase)) > 1e-6 * max(1.0, float(scale)):
        raise RuntimeError(message)
