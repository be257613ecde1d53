"""Matrix factorisations: Cholesky, QR, the symmetric eigendecomposition, the SVD and LU (with
lu_unpack and lu_solve), plus the legacy top-level forms (torch.cholesky, torch.qr, torch.svd,
torch.lu).

Each factorisation is one op whose backward is the adjoint of its differential, written with
ember ops (so it can be differentiated again); the formulas are in the op docstrings (ᴴ is the
conjugate transpose, the transpose for real tensors). eigh and svd take complex input: their
vectors are then defined up to a phase e^{iφ}, and the backward checks, as PyTorch's does, that
the loss does not depend on it (Im of the diagonal of Vᴴ·gV, resp. of Uᴴ·gU + Vᴴ·gV, is zero).
Cholesky and QR take complex input too.
"""

from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import cholesky_out
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.joins import cat
from ember.ops.linalg import matmul
from ember.ops.linalg_core import (LinAlgError, CholeskyExResult, EighResult, QRResult,
                                   SVDResult, TopQRResult, TopSVDResult, check_matrix,
                                   check_gauge, check_square, cholesky_info,
                                   cholesky_partial, diag, diag_embed,
                                   herm, int32_tensor, mH, raise_not_pd, svd_arrays)
from ember.ops.linalg_solve import solve_triangular

_NUMPY_ERROR = xp.linalg.LinAlgError


# ---- Cholesky --------------------------------------------------------------------------------
class Cholesky(Op):
    """L = chol(A), A = L·Lᴴ read from one triangle;  with Φ = tril(Lᴴ·gL):
    gA = L⁻ᴴ·(Φ + tril(Φ, -1)ᴴ)/2·L⁻¹, Hermitian off the diagonal (Murray 2016; for the upper
    factor U = Lᴴ, gL = gUᴴ)."""

    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper, name):
        a = xp.swapaxes(A._data, -1, -2) if upper else A._data
        try:
            factor = xp.linalg.cholesky(A._data, upper=upper)
        except _NUMPY_ERROR:
            raise_not_pd(name, cholesky_info(a))
            raise
        if xp.isnan(xp.diagonal(factor, 0, -2, -1)).any():
            # NumPy carries a NaN pivot on; LAPACK's potrf stops there (not positive-definite)
            raise_not_pd(name, cholesky_info(a))
        factor = Tensor._make(factor)
        ctx.upper = upper
        ctx.save_for_backward(factor)
        return factor

    @staticmethod
    def backward(ctx, g):
        (factor,) = ctx.saved_tensors
        L, gL = (mH(factor), mH(g)) if ctx.upper else (factor, g)
        phi = matmul(mH(L), gL).tril()
        phi = (phi + mH(phi.tril(-1))) * 0.5
        x = solve_triangular(mH(L), phi, upper=True)
        return solve_triangular(L, x, upper=False, left=False), None, None


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info): info[i] > 0 is the order of the first leading minor that is not
    positive-definite (matches `torch.linalg.cholesky_ex`)."""
    check_square(A, "linalg.cholesky", complex_ok=True)
    try:
        return CholeskyExResult(Cholesky.apply(A, upper, "linalg.cholesky_ex"),
                                int32_tensor(xp.zeros(A._data.shape[:-2], dtype=xp.int32)))
    except LinAlgError:
        if check_errors:
            raise
    a = xp.swapaxes(A._data, -1, -2).conj() if upper else A._data
    info, partial = cholesky_partial(a)
    good = xp.where((info == 0)[..., None, None], A._data, get_array_module(a).eye(a.shape[-1]))
    factor = xp.linalg.cholesky(good.astype(a.dtype), upper=upper)
    failed = info != 0  # there LAPACK's partial factor, as PyTorch returns it
    if upper:  # (+ 0: the conjugate's -0 imaginary parts are +0 in LAPACK's)
        partial = xp.swapaxes(partial, -1, -2).conj() + 0
    factor[failed] = partial[failed]
    return CholeskyExResult(Tensor._make(factor), int32_tensor(info))


def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix (matches
    `torch.linalg.cholesky`)."""
    check_square(A, "linalg.cholesky", complex_ok=True)
    return Cholesky.apply(A, upper, "linalg.cholesky")


@op(method=True, out=cholesky_out)
def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor, lower unless upper (matches `torch.cholesky`)."""
    shape = input._data.shape
    square = len(shape) >= 2 and shape[-1] == shape[-2] and (input.dtype.is_floating_point or
                                                             input.dtype.is_complex)
    if input._data.size == 0 and not square:
        # the deprecated op returns an empty tensor before any check (of dims or dtype)
        return Tensor._make(xp.empty_like(input._data))
    check_square(input, "cholesky", complex_ok=True)
    return Cholesky.apply(input, upper, "cholesky")


# ---- QR --------------------------------------------------------------------------------------
class QR(Op):
    """A = Q·R (Householder, LAPACK's signs). For m ≥ n, with X = gR·Rᴴ - Qᴴ·gQ:
    gA = (gQ + Q·S)·R⁻ᴴ, S = triu(X) + triu(X, 1)ᴴ with the real part of X's diagonal (the
    Hermitian matrix whose upper triangle is X's). For m < n, with A = [X | Y], R = [U | V]:
    gQ' = gQ + Y·gVᴴ, gX = the square formula on (gQ', gU), gY = Q·gV.
    """

    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        q, r = xp.linalg.qr(A._data, mode=mode)
        q, r = Tensor._make(q), Tensor._make(r)
        ctx.mode = mode
        ctx.save_for_backward(A, q, r)
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        A, q, r = ctx.saved_tensors
        m, n = A._data.shape[-2:]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if m >= n:
            return _qr_square_grad(q, r, gq, gr), None
        y_part, u, gu, gv = A[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
        gx = _qr_square_grad(q, u, gq + matmul(y_part, mH(gv)), gu)
        return cat((gx, matmul(q, gv)), -1), None


def _qr_square_grad(q, r, gq, gr):
    """gA for A = Q·R with R square and invertible (the m ≥ n case)."""
    X = matmul(gr, mH(r)) - matmul(mH(q), gq)
    middle = X.triu() + mH(X.triu(1))
    d = diag(middle)
    middle = middle - diag_embed((d - d.conj()) * 0.5)  # keep Re of the diagonal
    b = gq + matmul(q, middle)
    return solve_triangular(mH(r), b, upper=False, left=False)


_QR_MODES = ("reduced", "r", "complete")


def linalg_qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q·R (matches `torch.linalg.qr`; mode 'r' returns an empty Q)."""
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    check_matrix(A, "linalg.qr", complex_ok=True)
    if mode == "r":
        r = RNoGrad.apply(QR.apply(A, "reduced")[1])
        return QRResult(Tensor._make(xp.zeros(0, dtype=A._data.dtype)), r)
    return QRResult(*QR.apply(A, mode))


class RNoGrad(Op):
    """R of linalg.qr(mode='r'): its backward raises as PyTorch's does."""

    node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, r):
        return r._data.copy()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when "
                           "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going "
                           "to differentiate through linalg.qr.")


@op(method=True, out="exact")
def qr(input: Tensor, some: bool = True):
    """(Q, R), reduced unless some=False (matches `torch.qr`)."""
    check_matrix(input, "linalg.qr", complex_ok=True)
    return TopQRResult(*QR.apply(input, "reduced" if some else "complete"))


# ---- symmetric eigendecomposition ------------------------------------------------------------
class Eigh(Op):
    """A = V·diag(w)·Vᴴ from one triangle;  gA = herm(V·(diag(gw) + (Vᴴ·gV)/E)·Vᴴ) with
    E_ij = w_j - w_i off the diagonal (the diagonal of Vᴴ·gV is dropped) and herm(X) =
    (X + Xᴴ)/2, as PyTorch returns it (only one triangle is read, so the split between the two
    is a choice). Complex input: the loss must not depend on the eigenvectors' phases, i.e.
    Im(diag(Vᴴ·gV)) = 0 (checked, as PyTorch does)."""

    node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, uplo):
        w, v = xp.linalg.eigh(A._data, UPLO=uplo)
        w, v = Tensor._make(w), Tensor._make(v)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        inner = None
        if gv is not None:
            vhgv = matmul(mH(v), gv)
            check_gauge(xp.diagonal(vhgv._data, 0, -2, -1).imag, _largest(vhgv), _EIGH_GAUGE)
            e = w[..., None, :] - w[..., :, None]
            on = Tensor._make(xp.eye(w._data.shape[-1], dtype=bool))
            inner = (vhgv * e.masked_fill(on, 1.0).reciprocal()).masked_fill(on, 0)
        if gw is not None:
            gw = diag_embed(gw)
            inner = gw if inner is None else inner + gw
        if inner is None:
            return None, None
        if inner.dtype is not v.dtype:  # real eigenvalue gradients of a complex input
            inner = inner.to(v.dtype)
        return herm(matmul(matmul(v, inner), mH(v))), None


def _largest(t: Tensor) -> float:
    return float(xp.max(xp.abs(t._data), initial=0))


_EIGH_GAUGE = ("linalg_eigh_backward: The eigenvectors in the complex case are specified up to "
               "multiplication by e^{i phi}. The specified loss function depends on this "
               "quantity, so it is ill-defined.")
_SVD_GAUGE = ("svd_backward: The singular vectors in the complex case are specified up to "
              "multiplication by e^{i phi}. The specified loss function depends on this phase "
              "term, making it ill-defined.")


def _check_uplo(UPLO: str):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L"):
    """Eigenvalues (ascending) and eigenvectors of each symmetric matrix (matches
    `torch.linalg.eigh`)."""
    check_square(A, "linalg.eigh", complex_ok=True)
    _check_uplo(UPLO)
    return EighResult(*Eigh.apply(A, UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of each symmetric matrix (matches `torch.linalg.eigvalsh`)."""
    check_square(A, "linalg.eigh", complex_ok=True)
    _check_uplo(UPLO)
    if not A.requires_grad:
        return Tensor._make(xp.linalg.eigvalsh(A._data, UPLO=UPLO))
    return Eigh.apply(A, UPLO)[0]


# ---- SVD -------------------------------------------------------------------------------------
class SVD(Op):
    """A = U·diag(S)·Vᵀ (reduced; a full U/Vh only feeds its first k columns/rows back);
    gA = U·[(skew(Uᵀ·gU)/E)·S + S·(skew(Vᵀ·gV)/E) + diag(gS)]·Vᵀ
         + (I - U·Uᵀ)·gU·S⁻¹·Vᵀ + U·S⁻¹·gVᵀ·(I - V·Vᵀ),
    skew(X) = X - Xᵀ, E_jk = S_k² - S_j² off the diagonal (Townsend 2016). For complex A (ᵀ
    read as ᴴ) the diagonal also gets i·(Im diag(Uᴴ·gU) - Im diag(Vᴴ·gV)) / (2S): the phase
    terms that the gauge check lets through only as a difference."""

    node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        u, s, vh = svd_arrays(A._data, full_matrices=full_matrices)
        u, s, vh = Tensor._make(u), Tensor._make(s), Tensor._make(vh)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        k = s._data.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        if gu is None and gvh is None:
            if gs is None:
                return None, None
            return matmul(u * gs[..., None, :].to(u.dtype), vh), None
        gu = None if gu is None else gu[..., :k]
        gv = None if gvh is None else mH(gvh[..., :k, :])
        v = mH(vh)
        on = Tensor._make(xp.eye(k, dtype=bool))
        # (divisions are products with real reciprocals, which also serve complex operands)
        inv_e = ((s * s)[..., None, :] - (s * s)[..., :, None]).masked_fill(on, 1.0).reciprocal()
        inv_s = s.reciprocal()
        inner = diag_embed(gs).to(u.dtype) if gs is not None else None
        outer = None
        phase, scale = 0, 0.0
        imaginary = None  # Im diag(Uᴴ·gU) - Im diag(Vᴴ·gV), complex input only
        if gu is not None:
            uhgu = matmul(mH(u), gu)
            phase, scale = xp.diagonal(uhgu._data, 0, -2, -1).imag, _largest(uhgu)
            term = ((uhgu - mH(uhgu)) * inv_e) * s[..., None, :]
            inner = term if inner is None else inner + term
            outer = matmul(gu - matmul(u, uhgu), vh * inv_s[..., :, None])
            if u.dtype.is_complex:
                imaginary = uhgu.diagonal(0, -2, -1).imag
        if gv is not None:
            vhgv = matmul(mH(v), gv)
            phase = phase + xp.diagonal(vhgv._data, 0, -2, -1).imag
            scale = max(scale, _largest(vhgv))
            term = ((vhgv - mH(vhgv)) * inv_e) * s[..., :, None]
            inner = term if inner is None else inner + term
            extra = matmul(u * inv_s[..., None, :], mH(gv - matmul(v, vhgv)))
            outer = extra if outer is None else outer + extra
            if u.dtype.is_complex:
                im_v = vhgv.diagonal(0, -2, -1).imag
                imaginary = -im_v if imaginary is None else imaginary - im_v
        check_gauge(phase, scale, _SVD_GAUGE)
        if imaginary is not None:
            inner = inner + diag_embed(imaginary * 0.5 * inv_s).to(u.dtype) * 1j
        return matmul(matmul(u, inner), vh) + outer, None


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None):
    """(U, S, Vh) with A = U·diag(S)·Vh (matches `torch.linalg.svd`)."""
    check_matrix(A, "linalg.svd", complex_ok=True)
    return SVDResult(*SVD.apply(A, full_matrices))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of each matrix, descending (matches `torch.linalg.svdvals`)."""
    check_matrix(A, "linalg.svd", complex_ok=True)
    if not A.requires_grad:
        return Tensor._make(svd_arrays(A._data, compute_uv=False))
    return SVD.apply(A, False)[1]


@op(method=True, out="exact")
def svd(input: Tensor, some: bool = True, compute_uv: bool = True):
    """(U, S, V) with input = U·diag(S)·Vᴴ, V not Vᴴ (matches `torch.svd`; without compute_uv,
    U and V are zero matrices)."""
    check_matrix(input, "linalg.svd", complex_ok=True)
    if not compute_uv:
        m, n = input._data.shape[-2:]
        batch = input._data.shape[:-2]
        module = get_array_module(input._data)
        zeros_u = Tensor._make(module.zeros(batch + (m, m), dtype=input._data.dtype))
        zeros_v = Tensor._make(module.zeros(batch + (n, n), dtype=input._data.dtype))
        return TopSVDResult(zeros_u, svdvals(input), zeros_v)
    u, s, vh = SVD.apply(input, not some)
    return TopSVDResult(u, s, vh.mH)
