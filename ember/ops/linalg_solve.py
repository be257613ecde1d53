"""Determinants, inverses and linear solves: det/slogdet/logdet, inv(_ex), solve(_ex),
solve_triangular (and the legacy triangular_solve), cholesky_solve/cholesky_inverse, pinv,
tensorinv and tensorsolve (lstsq: linalg_lstsq.py).

Every backward is written with these same ops, so second derivatives work. With X = A⁻¹B the
one identity behind most of them is dX = -A⁻¹·dA·X + A⁻¹·dB, which gives gB = A⁻ᵀ·gX and
gA = -gB·Xᵀ.
"""

import math

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op
from ember._warnings import warn_once
from ember.ops._out_rules import cholesky_inverse_out, cholesky_solve_out
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op
from ember.ops.broadcast import sum_to
from ember.ops.linalg import matmul
from ember.ops.linalg_core import (InvExResult, LinAlgError, SlogdetResult,
                                   SolveExResult, TopSlogdetResult, TriangularSolveResult,
                                   batch_prefix, check_float, check_same_dtype,
                                   check_square, first_failure, identity_like, int32_tensor, mH,
                                   lu_array, permutation_array, raise_singular, svd_arrays,
                                   triangular_solve_array)

_NUMPY_ERROR = xp.linalg.LinAlgError


# ---- determinants ----------------------------------------------------------------------------
class Det(Op):
    """y = det(A);  gA = gy·conj(det A)·A⁻ᴴ (the conjugate cofactor matrix; A⁻ᵀ for real A).

    NOTE [The gradient of det at a singular matrix]
    PyTorch's gradient is zero where det(A) is exactly zero (gy·det(A) vanishes there and the
    solve is skipped), although the cofactor matrix need not be; ember matches it.
    """

    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        with quiet():  # (an inf entry: NumPy warns of the nan, PyTorch gives it silently)
            y = Tensor._make(xp.asarray(xp.linalg.det(A._data)))
        ctx.save_for_backward(A, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        A, y = ctx.saved_tensors
        singular = y._data == 0
        if bool(xp.any(singular)):
            eye = identity_like(A, A._data.shape[-1])
            A = A.where(Tensor._make(~singular[..., None, None]), eye)
        return (gy * y.conj())[..., None, None] * mH(inv(A))


class Slogdet(Op):
    """(sign, log|det A|);  gA = g_logabsdet·A⁻ᵀ for real A (sign is piecewise constant). For
    complex A, sign = e^{i·Im log det A} moves too:
    gA = (g_logabsdet - i·Im(conj(g_sign)·sign))·A⁻ᴴ."""

    node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        with quiet():
            sign, logabs = xp.linalg.slogdet(A._data)
        sign = xp.asarray(sign)
        ctx.save_for_backward(A, Tensor._make(sign) if A.dtype.is_complex else None)
        return sign, xp.asarray(logabs)

    @staticmethod
    def backward(ctx, gsign, glogabs):
        A, sign = ctx.saved_tensors
        if sign is None:
            return glogabs[..., None, None] * inv(A).mT
        # (complex: the coefficient is formed on arrays, so this branch is differentiable once)
        coefficient = glogabs._data - 1j * xp.imag(xp.conj(gsign._data) * sign._data)
        coefficient = Tensor._make(coefficient.astype(A._data.dtype))
        return coefficient[..., None, None] * mH(inv(A))


@op(method=True)
def det(A: Tensor) -> Tensor:
    """Determinant of each square matrix (matches `torch.linalg.det` / `torch.det`)."""
    check_square(A, "linalg.det", complex_ok=True)
    return Det.apply(A)


def linalg_slogdet(A: Tensor):
    """(sign, log|det|) of each square matrix (matches `torch.linalg.slogdet`)."""
    check_square(A, "linalg.slogdet", complex_ok=True)
    return SlogdetResult(*Slogdet.apply(A))


@op(method=True, out=True)
def slogdet(input: Tensor):
    """(sign, log|det|) of each square matrix (matches `torch.slogdet`)."""
    check_square(input, "linalg.slogdet", complex_ok=True)
    return TopSlogdetResult(*Slogdet.apply(input))


@op(method=True)
def logdet(input: Tensor) -> Tensor:
    """log det of each square matrix: nan for a negative determinant; for complex input the
    complex log, log|det| + i·arg det (matches `torch.logdet`)."""
    check_square(input, "linalg.slogdet", complex_ok=True)
    sign, logabs = Slogdet.apply(input)
    if input.dtype.is_complex:
        return logabs + sign.log()  # sign = e^{i·arg det}: log sign = i·arg det
    return logabs.masked_fill(Tensor._make(sign._data < 0), math.nan)


# ---- inverses --------------------------------------------------------------------------------
class Inv(Op):
    """Y = A⁻¹;  gA = -Yᴴ·gY·Yᴴ."""

    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A, name):
        try:
            y = Tensor._make(xp.linalg.inv(A._data))
        except _NUMPY_ERROR:
            y = None
        if y is None:
            raise_singular(name, lu_array(A._data)[2])
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return -matmul(matmul(mH(y), gy), mH(y)), None


def _inverse_by_lu(a):
    """A⁻¹ from our own LU, where singular matrices give inf/nan as LAPACK's getri does."""
    lu, pivots, info = lu_array(a)
    n = a.shape[-1]
    eye = xp.broadcast_to(get_array_module(a).eye(n, dtype=a.dtype), a.shape)
    perm = permutation_array(pivots, n)
    pb = xp.take_along_axis(eye, perm[..., :, None], axis=-2)
    y = triangular_solve_array(lu, pb, upper=False, unitriangular=True)
    return triangular_solve_array(lu, y, upper=True), info


def inv(A: Tensor) -> Tensor:
    """Inverse of each square matrix; LinAlgError if one is singular (matches
    `torch.linalg.inv`)."""
    check_square(A, "linalg.inv", complex_ok=True)
    return Inv.apply(A, "linalg.inv")


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info): info[i] > 0 marks a singular matrix (matches `torch.linalg.inv_ex`)."""
    check_square(A, "linalg.inv_ex", complex_ok=True)
    try:
        y = Inv.apply(A, "linalg.inv_ex")
        info = xp.zeros(A._data.shape[:-2], dtype=xp.int32)
    except LinAlgError:
        if check_errors:
            raise
        y, info = _inverse_by_lu(A._data)
        y = Tensor._make(y)
    return InvExResult(y, int32_tensor(info))


@op(method=True, out=True)
def inverse(input: Tensor) -> Tensor:
    """Inverse of each square matrix (matches `torch.inverse`)."""
    return inv(input)


# ---- solves ----------------------------------------------------------------------------------
class Solve(Op):
    """X = A⁻¹·B (batch dims broadcast; a vector B is a column);  gB = A⁻ᴴ·gX,  gA = -gB·Xᴴ.
    For X·A = B (left=False): gB = gX·A⁻ᴴ,  gA = -Xᴴ·gB. Both are summed back over broadcast
    batch dims (ᴴ is the transpose for real tensors)."""

    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B, left, vector):
        a, b = A._data, B._data[..., None] if vector else B._data
        if not left:
            a, b = xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)
        try:
            x = xp.linalg.solve(a, b)
        except _NUMPY_ERROR:
            x = None
        if x is None:
            info = lu_array(A._data)[2]
            raise LinAlgError(f"torch.linalg.solve: {batch_prefix(info, first_failure(info))}"
                              "The solver failed because the input matrix is singular.")
        x = xp.swapaxes(x, -1, -2) if not left else x
        x = Tensor._make(x[..., 0] if vector else x)
        ctx.flags = (left, vector)
        ctx.shapes = (A._data.shape, B._data.shape)
        ctx.save_for_backward(A, x if ctx.needs_input_grad[0] else None)
        return x

    @staticmethod
    def backward(ctx, gx):
        A, x = ctx.saved_tensors
        left, vector = ctx.flags
        a_shape, b_shape = ctx.shapes
        gb = Solve.apply(mH(A), gx, left, vector)
        ga = None
        if ctx.needs_input_grad[0]:
            gbm, xm = (gb[..., None], x[..., None]) if vector else (gb, x)
            ga = sum_to(-matmul(gbm, mH(xm)) if left else -matmul(mH(xm), gbm), a_shape)
        return ga, sum_to(gb, b_shape) if ctx.needs_input_grad[1] else None, None, None


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """PyTorch's rule: B is a (batch of) vector(s) if it is 1-D or has A's batch shape."""
    b = B._data.shape
    return B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and b == A._data.shape[:-1])


def _check_solve(A: Tensor, B: Tensor, name: str, vector: bool):
    check_square(A, name, complex_ok=True)
    if B._data.ndim < 1 or (B._data.ndim < 2 and not vector):
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    check_same_dtype(A, B, name)
    rows = B._data.shape[-1] if vector else B._data.shape[-2]
    cols = 1 if vector else B._data.shape[-1]
    if rows != A._data.shape[-1]:
        n = A._data.shape[-1]
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({n}x{n} and {rows}x{cols})")


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A·X = B (or X·A = B if not left), batched (matches `torch.linalg.solve`)."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor A must have at least 2 dimensions.")
    vector = _is_vector_rhs(A, B)
    if left or vector:
        _check_solve(A, B, "linalg.solve", vector)
        return Solve.apply(A if left else A.mT, B, True, vector)
    _check_solve(A.mT, B.mT, "linalg.solve", vector)
    return Solve.apply(A, B, False, False)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """(result, info): info[i] > 0 marks a singular A (matches `torch.linalg.solve_ex`)."""
    try:
        x = solve(A, B, left=left)
        info = xp.zeros(A._data.shape[:-2], dtype=xp.int32)
    except LinAlgError as error:
        if check_errors:
            raise LinAlgError(str(error).replace("solve:", "solve_ex:", 1)) from None
        info = lu_array(A._data)[2]
        with quiet():
            x = Tensor._make(xp.full(xp.broadcast_shapes(A._data.shape[:-2], B._data.shape[:-2])
                                     + B._data.shape[-2:], xp.nan, dtype=A._data.dtype))
    return SolveExResult(x, int32_tensor(info))


class SolveTriangular(Op):
    """X = A⁻¹·B for triangular A;  gB = A⁻ᴴ·gX (the other triangle),  gA = -gB·Xᴴ kept on
    A's triangle (strictly, if the diagonal is taken as ones). For X·A = B (left=False):
    gB = gX·A⁻ᴴ,  gA = -Xᴴ·gB on A's triangle."""

    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        if left:
            x = triangular_solve_array(A._data, B._data, upper, unitriangular)
        else:
            x = xp.swapaxes(triangular_solve_array(
                xp.swapaxes(A._data, -1, -2), xp.swapaxes(B._data, -1, -2), not upper,
                unitriangular), -1, -2)
        x = Tensor._make(x)
        ctx.flags = (upper, left, unitriangular)
        ctx.shapes = (A._data.shape, B._data.shape)
        ctx.save_for_backward(A, x if ctx.needs_input_grad[0] else None)
        return x

    @staticmethod
    def backward(ctx, gx):
        A, x = ctx.saved_tensors
        upper, left, unit = ctx.flags
        a_shape, b_shape = ctx.shapes
        gb = SolveTriangular.apply(mH(A), gx, not upper, left, unit)
        ga = None
        if ctx.needs_input_grad[0]:
            ga = -matmul(gb, mH(x)) if left else -matmul(mH(x), gb)
            ga = ga.triu(1 if unit else 0) if upper else ga.tril(-1 if unit else 0)
            ga = sum_to(ga, a_shape)
        return ga, sum_to(gb, b_shape) if ctx.needs_input_grad[1] else None, None, None, None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A·X = B (X·A = B if not left) for triangular A (matches
    `torch.linalg.solve_triangular`)."""
    name = "linalg.solve_triangular"
    check_square(A, name, complex_ok=True)
    if B._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    A, B = _common_float(A, B)
    if left:
        _check_solve(A, B, name, False)
    else:
        _check_solve(A.mT, B.mT, name, False)
    return SolveTriangular.apply(A, B, upper, left, unitriangular)


def _common_float(A: Tensor, B: Tensor):
    """Both operands in their promoted dtype (solve_triangular promotes, solve does not)."""
    dtype = _dtype.promote_types(A.dtype, B.dtype)
    return A.to(dtype), B.to(dtype)


_TRIANGULAR_SOLVE_DEPRECATED = (  # (TORCH_WARN_ONCE)
    "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be "
    "removed in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments "
    "reversed and does not return a copy of one of the inputs.\nX = torch.triangular_solve(B, "
    "A).solution\nshould be replaced with\nX = torch.linalg.solve_triangular(A, B). (Triggered "
    "internally at /__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2273.)")


@op(method=True, out="exact")
def triangular_solve(input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False):
    """(X, A.clone()) with op(A)·X = input, op = transpose or identity (matches
    `torch.triangular_solve`)."""
    warn_once(_TRIANGULAR_SOLVE_DEPRECATED, UserWarning, stacklevel=2)
    for name, t in (("b", input), ("A", A)):
        if t._data.ndim < 2:
            raise RuntimeError(f"torch.triangular_solve: Expected {name} to have at least 2 "
                               f"dimensions, but it has {t._data.ndim} dimensions instead")
    coefficient = A.mT if transpose else A
    x = solve_triangular(coefficient, input, upper=upper != transpose,
                         unitriangular=unitriangular)
    return TriangularSolveResult(x, A.clone())


# ---- through a Cholesky factor ---------------------------------------------------------------
def _cholesky_solve_arrays(b, factor, upper):
    """(L·Lᴴ)⁻¹·b, or (Uᴴ·U)⁻¹·b, by two triangular solves."""
    lower = _conj_t(factor) if upper else factor
    y = triangular_solve_array(lower, b, upper=False)
    return triangular_solve_array(_conj_t(lower), y, upper=True)


class CholeskySolve(Op):
    """X = (L·Lᴴ)⁻¹·B;  gB = (L·Lᴴ)⁻¹·gX,  gL = -(gB·Xᴴ + X·gBᴴ)·L (upper: gU = -U·(...))."""

    @staticmethod
    def forward(ctx, B, L, upper):
        x = Tensor._make(_cholesky_solve_arrays(B._data, L._data, upper))
        ctx.upper = upper
        ctx.shapes = (B._data.shape, L._data.shape)
        ctx.save_for_backward(L, x if ctx.needs_input_grad[1] else None)
        return x

    @staticmethod
    def backward(ctx, gx):
        L, x = ctx.saved_tensors
        b_shape, l_shape = ctx.shapes
        gb = CholeskySolve.apply(gx, L, ctx.upper)
        gl = None
        if ctx.needs_input_grad[1]:
            common = matmul(gb, mH(x))
            common = common + mH(common)
            gl = sum_to(-matmul(L, common) if ctx.upper else -matmul(common, L), l_shape)
        return sum_to(gb, b_shape) if ctx.needs_input_grad[0] else None, gl, None


@op(method=True, out=cholesky_solve_out)
def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """X with A·X = input, A = L·Lᵀ given its Cholesky factor (matches `torch.cholesky_solve`)."""
    for t in (input, input2):
        if t._data.ndim < 2:
            raise RuntimeError(f"b should have at least 2 dimensions, but has "
                               f"{input._data.ndim} dimensions instead")
    check_same_dtype(input, input2, "cholesky_solve", "b", "A")
    n, (rows, cols) = input2._data.shape[-1], input._data.shape[-2:]
    if input2._data.shape[-2] != n or rows != n:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{input2._data.shape[-2]} by {n} but each b matrix is {rows} by "
                           f"{cols}")
    return CholeskySolve.apply(input, input2, upper)


class CholeskyInverse(Op):
    """Y = (L·Lᴴ)⁻¹;  gL = -Y·(gY + gYᴴ)·Y·L (upper: gU = -U·Y·(gY + gYᴴ)·Y).

    A complex factor's diagonal is taken as given: a Cholesky factor's is real, and for such
    factors ember equals PyTorch (whose LAPACK potri ignores an imaginary part there).
    """

    @staticmethod
    def forward(ctx, L, upper):
        n = L._data.shape[-1]
        eye = xp.broadcast_to(get_array_module(L._data).eye(n, dtype=L._data.dtype),
                              L._data.shape)
        y = Tensor._make(_cholesky_solve_arrays(eye, L._data, upper))
        ctx.upper = upper
        ctx.save_for_backward(L, y)
        return y

    @staticmethod
    def backward(ctx, gy):
        L, y = ctx.saved_tensors
        common = matmul(matmul(y, gy + mH(gy)), y)
        return (-matmul(L, common) if ctx.upper else -matmul(common, L)), None


@op(method=True, out=cholesky_inverse_out)
def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """(L·Lᵀ)⁻¹ from the Cholesky factor L (matches `torch.cholesky_inverse`)."""
    check_square(input, "cholesky_inverse", "A", complex_ok=True)
    return CholeskyInverse.apply(input, upper)


# ---- pseudo-inverse and least squares ----------------------------------------------------------
def _tolerance(a, s_max, atol, rtol):
    """max(atol, rtol·σ_max) per matrix, with PyTorch's default rtol = eps·max(m, n) (0 when a
    positive atol is given)."""
    real_dtype = a.real.dtype
    eps = float(xp.finfo(real_dtype).eps)
    atol_a = xp.asarray(0.0 if atol is None else _value(atol), dtype=real_dtype)
    if rtol is None:
        default = eps * max(a.shape[-2:])
        rtol_a = xp.where(atol_a > 0, 0, default) if atol is not None else default
    else:
        rtol_a = xp.asarray(_value(rtol), dtype=real_dtype)
    return xp.maximum(atol_a, rtol_a * s_max)


def _value(t):
    return t._data if isinstance(t, Tensor) else t


def _pinv_array(a, atol, rtol, hermitian):
    """The pseudo-inverse of each matrix: σ below the tolerance count as zero."""
    if hermitian and a.size:  # PyTorch takes empty inputs through the SVD, unchecked
        check_square(Tensor._make(a), "linalg.eigh", complex_ok=True)
        w, v = xp.linalg.eigh(a)
        tol = _tolerance(a, xp.max(xp.abs(w), axis=-1, initial=0), atol, rtol)
        with quiet():
            w_inv = xp.where(xp.abs(w) > tol[..., None], 1 / w, 0).astype(a.dtype)
        return xp.matmul(v * w_inv[..., None, :], _conj_t(v))
    u, s, vh = svd_arrays(a, full_matrices=False)
    tol = _tolerance(a, xp.max(s, axis=-1, initial=0), atol, rtol)
    with quiet():
        s_inv = xp.where(s > tol[..., None], 1 / s, 0).astype(a.dtype)
    return xp.matmul(_conj_t(vh) * s_inv[..., None, :], _conj_t(u))


def _conj_t(a):
    """The conjugate transpose of an array's last two axes."""
    return xp.conj(xp.swapaxes(a, -1, -2))


def _pinv_backward(A, p, gp):
    """gA of P = A⁺ from gP (the formula in Pinv's docstring)."""
    m, n = A._data.shape[-2:]
    ga = -matmul(matmul(mH(p), gp), mH(p))
    left = identity_like(A, m) - matmul(A, p)
    ga = ga + matmul(matmul(left, mH(gp)), matmul(p, mH(p)))
    right = identity_like(A, n) - matmul(p, A)
    return ga + matmul(matmul(mH(p), p), matmul(mH(gp), right))


class Pinv(Op):
    """P = A⁺;  gA = -Pᴴ·gP·Pᴴ + (I - A·P)·gPᴴ·P·Pᴴ + Pᴴ·P·gPᴴ·(I - P·A)
    (the derivative of the pseudo-inverse at constant rank, Golub & Pereyra)."""

    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        p = Tensor._make(_pinv_array(A._data, atol, rtol, hermitian))
        ctx.save_for_backward(A, p)
        return p

    @staticmethod
    def backward(ctx, gp):
        A, p = ctx.saved_tensors
        return _pinv_backward(A, p, gp), None, None, None


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """Moore-Penrose pseudo-inverse via the SVD (eigh if hermitian), singular values at most
    max(atol, rtol·σ_max) dropped (matches `torch.linalg.pinv`)."""
    if A._data.ndim < 2 or A.dtype.name == "float16" or not (A.dtype.is_floating_point
                                                              or A.dtype.is_complex):
        raise RuntimeError(f"linalg.pinv({short_name(A.dtype)}{{{list(A._data.shape)}}}): "
                           "expected a tensor with 2 or more dimensions of float, double, "
                           "cfloat or cdouble types")
    if rcond is not None:
        rtol = rcond
    return Pinv.apply(A, atol, rtol, hermitian)


@op(method=True)
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Pseudo-inverse with relative cut-off rcond (matches `torch.pinverse`)."""
    return pinv(input, rtol=rcond)


# ---- tensor forms --------------------------------------------------------------------------
def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The tensor inverse w.r.t. tensordot over `ind` dims (matches `torch.linalg.tensorinv`)."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = A._data.shape
    if ind > len(shape):  # PyTorch slices the sizes at ind first
        raise RuntimeError(f"ArrayRef: invalid slice, N = {ind}; size = {len(shape)}")
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    check_float(A, "inv", complex_ok=True)
    return Inv.apply(A.reshape(rows, cols), "inv").reshape(shape[ind:] + shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B (matches `torch.linalg.tensorsolve`)."""
    if dims is not None:
        dims = [wrap_dim(d, A._data.ndim) for d in dims]
        keep = [d for d in range(A._data.ndim) if d not in dims]
        A = A.permute(*keep, *dims)
    shape = A._data.shape
    if len(shape) < B._data.ndim:  # PyTorch sizes a std::vector by A.dim() - B.dim()
        raise RuntimeError("cannot create std::vector larger than max_size()")
    rows = math.prod(B._data.shape)
    cols = math.prod(shape[B._data.ndim:])
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    x = solve(A.reshape(rows, cols), B.reshape(rows))
    return x.reshape(shape[B._data.ndim:])
