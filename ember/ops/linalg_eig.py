"""The general (non-symmetric) eigendecomposition: eig and eigvals, whose results are complex
even for real input (complex64 for float32, complex128 for float64), as in PyTorch.

NOTE [The gauge of eigenvectors]
An eigenvector is defined up to a factor e^{iφ}; LAPACK's geev (behind both NumPy and PyTorch)
normalises each to unit norm with its largest component real, so the vectors agree. A loss that
depends on φ has no gradient: like PyTorch, the backward checks that Im(diag(Vᴴ·gV)) vanishes and
raises otherwise.
"""

from ember._backend import xp
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op, once_differentiable
from ember.ops.extrema import _return_type
from ember.ops.linalg_core import check_square
from ember.ops.linalg_lu import per_matrix, scipy_linalg

EigResult = _return_type("linalg_eig", ("eigenvalues", "eigenvectors"))
_COMPLEX = {"float32": xp.complex64, "float64": xp.complex128}

_GAUGE_MESSAGE = ("linalg_eig_backward: The eigenvectors in the complex case are specified up to "
                  "multiplication by e^{i phi}. The specified loss function depends on this "
                  "quantity, so it is ill-defined.")


class Eig(Op):
    """A·V = V·diag(w);  with E_ij = conj(w_j - w_i) (1 on the diagonal) and X = Vᴴ·gV:
    gA = V⁻ᴴ·[diag(gw) + (X - Vᴴ·V·Re(diag X)) / E (off the diagonal)]·Vᴴ, real part for real A.
    """

    node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, A):
        w, v = _eig_arrays(A._data)
        ctx.set_materialize_grads(False)
        ctx.real_input = not A.dtype.is_complex
        ctx.save_for_backward(Tensor._make(w), Tensor._make(v))
        return w, v

    @staticmethod
    @once_differentiable
    def backward(ctx, gw, gv):
        w, v = (t._data for t in ctx.saved_tensors)
        n = w.shape[-1]
        vh = xp.conj(xp.swapaxes(v, -1, -2))
        inner = xp.zeros(v.shape, dtype=v.dtype)
        if gv is not None:
            x = vh @ gv._data
            diag_x = xp.diagonal(x, 0, -2, -1)
            scale = xp.max(xp.abs(diag_x)) if diag_x.size else 0
            if diag_x.size and xp.max(xp.abs(diag_x.imag)) > 1e-4 * max(1.0, float(scale)):
                raise RuntimeError(_GAUGE_MESSAGE)
            x = x - (vh @ v) * diag_x.real[..., None, :]
            e = xp.conj(w[..., None, :] - w[..., :, None])
            e[..., xp.arange(n), xp.arange(n)] = 1
            inner = x / e
            inner[..., xp.arange(n), xp.arange(n)] = 0
        if gw is not None:
            inner[..., xp.arange(n), xp.arange(n)] = gw._data
        ga = xp.linalg.solve(vh, inner @ vh)
        return ga.real if ctx.real_input else ga


def _eig_arrays(a, vectors=True):
    """(w, v) of each matrix, complex64 for float32/complex64 input and complex128 otherwise.

    NOTE [Single-precision eig]
    NumPy runs every eig in double precision (dgeev/zgeev), whose eigenvectors can differ in
    sign and phase from the single-precision sgeev/cgeev PyTorch calls for float32/complex64.
    With SciPy installed, single precision goes to its geev (one call per matrix of a batch,
    as for LDLᵀ); without it, NumPy's result is rounded. Measured on 200 random 5×5 float32
    matrices, the eigenvectors equal torch's for 172 with SciPy's sgeev and for 18 with NumPy;
    the others differ by a sign (torch's LAPACK is another build), which the gauge allows.
    """
    dtype = _COMPLEX.get(a.dtype.name, a.dtype)
    single = a.dtype == xp.float32 or a.dtype == xp.complex64
    if single and a.size and _has_scipy():
        eig = scipy_linalg("").eig
        pairs = per_matrix(a, lambda i, m: eig(m, right=vectors, check_finite=False))
        w = xp.stack([p[0] if vectors else p for p in pairs]).reshape(a.shape[:-1])
        if not vectors:
            return w.astype(dtype), None
        v = xp.stack([p[1] for p in pairs]).reshape(a.shape)
        return w.astype(dtype), v.astype(dtype)
    if not vectors:
        return xp.linalg.eigvals(a).astype(dtype), None
    w, v = xp.linalg.eig(a)
    return w.astype(dtype), v.astype(dtype)


def _has_scipy() -> bool:
    try:
        scipy_linalg("")
    except ImportError:
        return False
    return True


def _check(A: Tensor, name: str):
    """A batch of square float32/float64 (or complex) matrices, with PyTorch's errors."""
    if A._data.ndim >= 2 and not A.dtype.is_complex:
        if A.dtype.name == "float16":
            raise NotImplementedError('"linalg_eig_out_cpu" not implemented for \'Half\'')
        if not A.dtype.is_floating_point:
            raise RuntimeError(f"Unknown Complex ScalarType for {short_name(A.dtype)}")
    check_square(A.real if A.dtype.is_complex else A, name)


def eig(A: Tensor):
    """Eigenvalues and eigenvectors of each square matrix, complex (matches
    `torch.linalg.eig`)."""
    _check(A, "linalg.eig")
    return EigResult(*Eig.apply(A))


def eigvals(A: Tensor) -> Tensor:
    """The eigenvalues of each square matrix, complex (matches `torch.linalg.eigvals`)."""
    _check(A, "linalg.eigvals")
    if not A.requires_grad:
        return Tensor._make(_eig_arrays(A._data, vectors=False)[0])
    return Eig.apply(A)[0]
