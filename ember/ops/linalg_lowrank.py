"""Randomized low-rank SVD and PCA (Halko, Martinsson and Tropp, "Finding structure with
randomness", 2009): `svd_lowrank` and `pca_lowrank`, composed of ember ops, so they are
differentiable and draw their random test matrix from ember's generator as torch does from
its own (`ember.manual_seed(s)` reproduces torch's result under `torch.manual_seed(s)`).
"""

from ember import _dtype
from ember._registry import op
from ember._tensor import Tensor
from ember.ops.creation import randn
from ember.ops.linalg import matmul
from ember.ops.linalg_decomp import linalg_svd as svd
from ember.ops.linalg_decomp import qr


def _floating(A: Tensor):
    """The dtype the random test matrix takes: A's if complex or float16/32/64, else float32."""
    if A.dtype.is_complex or A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64):
        return A.dtype
    return _dtype.float32


def _minus(X: Tensor, M, R: Tensor) -> Tensor:
    """X - M·R, or X when there is no M."""
    return X if M is None else X - matmul(M, R)


def get_approximate_basis(A: Tensor, q: int, niter=2, M=None) -> Tensor:
    """An orthonormal Q (n × q) whose range approximates that of A - M, by niter rounds of
    subspace iteration from a Gaussian start (matches `torch.lowrank.get_approximate_basis`)."""
    niter = 2 if niter is None else niter
    R = randn(A.shape[-1], q, dtype=_floating(A))
    Q = qr(_minus(matmul(A, R), M, R)).Q
    for _ in range(niter):
        Q = qr(_minus(matmul(A.mH, Q), None if M is None else M.mH, Q)).Q
        Q = qr(_minus(matmul(A, Q), M, Q)).Q
    return Q


def _svd_lowrank(A: Tensor, q=6, niter=2, M=None):
    """(U, S, V) of rank q approximating A - M: SVD of the small Qᴴ·(A - M)."""
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # work on the transpose: keeps the small matrix B q × min(m, n)
        A = A.mH
        M = None if M is None else M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = matmul(Q.mH, A)
    if M is not None:
        B = B - matmul(Q.mH, M)
    U, S, Vh = svd(B, full_matrices=False)
    V = Vh.mH
    U = matmul(Q, U)
    return (V, S, U) if m < n else (U, S, V)


@op
def svd_lowrank(A: Tensor, q=6, niter=2, M=None):
    """(U, S, V) with A - M ≈ U·diag(S)·Vᴴ of rank q, by randomized subspace iteration
    (matches `torch.svd_lowrank`)."""
    return _svd_lowrank(A, q=q, niter=niter, M=M)


@op
def pca_lowrank(A: Tensor, q=None, center: bool = True, niter: int = 2):
    """(U, S, V) of a rank-q PCA of A's rows (columns centred when center) by randomized SVD
    (matches `torch.pca_lowrank`)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return _svd_lowrank(A, q, niter=niter)
    return _svd_lowrank(A - A.mean(dim=(-2,), keepdim=True), q, niter=niter)
