"""LU and LDLᵀ factorisations: lu_factor(_ex), lu, lu_unpack, lu_solve (and the legacy torch.lu,
torch.lu_solve), ldl_factor(_ex) and ldl_solve.

The LU is ember's own partial-pivoting kernel (ember/ops/linalg_core.py), which reproduces
LAPACK getrf's packed LU, 1-based pivots and info. LDLᵀ with Bunch-Kaufman pivoting is LAPACK's
sytrf, reached through SciPy (an optional extra).
"""

import importlib
import math

from ember._backend import get_array_module, xp
from ember._registry import op, tensor_arguments, tensor_method, torch_function, write_out
from ember._warnings import warn_once
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.ops.joins import cat
from ember.ops.linalg import matmul
from ember.ops.linalg_core import (LDLExResult, LDLResult, LUFactorExResult, LUFactorResult,
                                   LUResult, LUUnpackResult, check_square,
                                   first_failure, int32_tensor, lu_array, mH,
                                   permutation_array, size_at)
from ember.ops.linalg_solve import solve_triangular


class LUFactor(Op):
    """P·L·U = A (LU packed: L strictly below the diagonal, U on and above). For square A:
    gA = P·L⁻ᵀ·(tril(Lᵀ·gL, -1) + triu(gU·Uᵀ))·U⁻ᵀ. Wide A = P·L·[U₁ | U₂]: gA₂ = P·L⁻ᵀ·gU₂ and
    gL gains -tril(L⁻ᵀ·gU₂·U₂ᵀ, -1). Tall A = P·[L₁; L₂]·U: gA₂' = gL₂·U⁻ᵀ and gU gains
    -triu(L₂ᵀ·gL₂·U⁻ᵀ); the square formula then runs on the square blocks."""

    node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A):
        lu, pivots, info = lu_array(A._data)
        lu = Tensor._make(lu)
        pivots = int32_tensor(pivots)
        ctx.save_for_backward(lu, pivots)
        return lu, pivots, int32_tensor(info)

    @staticmethod
    def backward(ctx, glu, gpivots, ginfo):
        lu, pivots = ctx.saved_tensors
        m, n = lu._data.shape[-2:]
        k = min(m, n)
        P, L, U = lu_unpack(lu, pivots)
        gL, gU = glu.tril(-1)[..., :k], glu.triu()[..., :k, :]
        if m == n:
            return matmul(P, _square_grad(L, U, gL, gU))
        if m < n:
            u2, gu2 = U[..., k:], gU[..., k:]
            x = solve_triangular(mH(L), gu2, upper=True, unitriangular=True)
            gL = gL - matmul(x, mH(u2)).tril(-1)
            ga1 = _square_grad(L, U[..., :k], gL, gU[..., :k])
            return matmul(P, cat((ga1, x), -1))
        l2, gl2 = L[..., k:, :], gL[..., k:, :]
        ga2 = solve_triangular(mH(U), gl2, upper=False, left=False)
        gU = gU - matmul(mH(l2), ga2).triu()
        ga1 = _square_grad(L[..., :k, :], U, gL[..., :k, :], gU)
        return matmul(P, cat((ga1, ga2), -2))


def _square_grad(L, U, gL, gU):
    """P⁻¹·gA for a square LU: L⁻ᵀ·(tril(Lᵀ·gL, -1) + triu(gU·Uᵀ))·U⁻ᵀ."""
    phi = matmul(mH(L), gL).tril(-1) + matmul(gU, mH(U)).triu()
    x = solve_triangular(mH(L), phi, upper=True, unitriangular=True)
    return solve_triangular(mH(U), x, upper=False, left=False)


def _check_lu_input(A: Tensor, pivot: bool):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    if A._data.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._data.shape)} instead")
    if not (A.dtype.is_floating_point or A.dtype.is_complex) or A.dtype.name == "float16":
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{short_name(A.dtype)}\'')


def _empty_integral(A: Tensor, pivot: bool) -> bool:
    """An empty integer or bool batch of matrices: PyTorch returns empty factors for it."""
    return A._data.size == 0 and pivot and A._data.ndim >= 2 and not (
        A.dtype.is_floating_point or A.dtype.is_complex)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """(LU, pivots, info) of A by partial pivoting (matches `torch.linalg.lu_factor_ex`)."""
    if _empty_integral(A, pivot):  # PyTorch's kernel (and its dtype check) never runs
        shape = A._data.shape
        return LUFactorExResult(Tensor._make(A._data.copy()),
                                int32_tensor(xp.zeros(shape[:-2] + (min(shape[-2:]),))),
                                int32_tensor(xp.zeros(shape[:-2])))
    _check_lu_input(A, pivot)
    lu, pivots, info = LUFactor.apply(A)
    if check_errors:
        _raise_zero_pivot(info._data, "torch.linalg.lu_factor_ex")
    return LUFactorExResult(lu, pivots, info)


def _raise_zero_pivot(info, name):
    index = first_failure(info)
    if index is not None:
        position = int(info[index])
        raise RuntimeError(f"{name}: U[{position},{position}] is zero and using it on lu_solve "
                           "would result in a division by zero. If you still want to perform "
                           "the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True):
    """(LU, pivots) of A; an error if some U has a zero on its diagonal (matches
    `torch.linalg.lu_factor`)."""
    if _empty_integral(A, pivot):
        return LUFactorResult(*lu_factor_ex(A)[:2])
    _check_lu_input(A, pivot)
    lu, pivots, info = LUFactor.apply(A)
    _raise_zero_pivot(info._data, "torch.linalg.lu_factor")
    return LUFactorResult(lu, pivots)


def linalg_lu(A: Tensor, *, pivot: bool = True):
    """(P, L, U) with A = P·L·U (matches `torch.linalg.lu`)."""
    if _empty_integral(A, pivot):
        return LUResult(*lu_unpack(*lu_factor_ex(A)[:2]))
    _check_lu_input(A, pivot)
    lu, pivots, _ = LUFactor.apply(A)
    return LUResult(*lu_unpack(lu, pivots))


def _lu_with_info(input: Tensor, pivot: bool = True, check_errors: bool = True):
    """(LU, pivots, infos): torch.lu's C-bound part, `torch._lu_with_info` (check_errors is not
    read, as in PyTorch)."""
    warn_once(_LU_DEPRECATED, UserWarning, stacklevel=3)
    return lu_factor_ex(input, pivot=pivot)


_LU_DEPRECATED = (  # (TORCH_WARN_ONCE)
    "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
    "will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, compute_pivots)\n"
    "should be replaced with\nLU, pivots = torch.linalg.lu_factor(A, compute_pivots)\nand\n"
    "LU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)\nshould be replaced with\n"
    "LU, pivots, info = torch.linalg.lu_factor_ex(A, compute_pivots) (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/BatchLinearAlgebra.cpp:2073.)")


_checked_lu_with_info = tensor_arguments(_lu_with_info, schema="torch._lu_with_info")


@torch_function()
@tensor_method()
def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, *, out=None):
    """(LU, pivots[, infos]) (matches `torch.lu`, Python code: it takes the truth of get_infos
    first, a tensor of several values being an error, then parses the rest as
    `torch._lu_with_info`; an out= is resized and filled, as torch's `resize_` and `copy_`)."""
    infos = bool(get_infos)
    lu_data, pivots, info = _checked_lu_with_info(A, pivot=pivot, check_errors=not infos)
    result = (lu_data, pivots, info) if infos else (lu_data, pivots)
    if out is None:
        return result
    if any(o.requires_grad for o in out):
        raise RuntimeError("cannot resize variables that require grad")
    for o, r in zip(out, result):
        o.resize_(r.shape)  # (silently)
    return write_out(result, tuple(out), False, "any")


@op(out="exact")
def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True,
              unpack_pivots: bool = True):
    """(P, L, U) from a packed LU and its pivots (matches `torch.lu_unpack`); as PyTorch, only
    the first min(m, n) pivots are read."""
    if LU_data._data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data._data.shape)} instead")
    if LU_pivots.dtype.name != "int32":
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of "
                           "torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")
    m, n = LU_data._data.shape[-2:]
    k = min(m, n)
    module = get_array_module(LU_data._data)
    empty = Tensor._make(module.zeros(0, dtype=LU_data._data.dtype))
    L = U = P = empty
    if unpack_data:
        eye = Tensor._make(module.eye(m, k, dtype=LU_data._data.dtype))
        L = LU_data[..., :k].tril(-1) + eye
        U = LU_data[..., :k, :].triu()
    if unpack_pivots:
        pivots = LU_pivots._data[..., :k].astype(xp.int64)
        batch = xp.broadcast_shapes(LU_data._data.shape[:-2], pivots.shape[:-1])
        perm = permutation_array(xp.broadcast_to(pivots, batch + (k,)), m)
        p = xp.zeros(perm.shape + (m,), dtype=LU_data._data.dtype)
        xp.put_along_axis(p, perm[..., None, :], 1, axis=-2)
        P = Tensor._make(p)
    return LUUnpackResult(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,
             adjoint: bool = False) -> Tensor:
    """X with A·X = B (Aᵀ·X = B if adjoint; X·A = B if not left) from A's LU (matches
    `torch.linalg.lu_solve`)."""
    _check_lu_solve(LU, pivots, B)
    if not left:
        return mH(lu_solve(LU, pivots, mH(B), adjoint=not adjoint))
    P, L, U = lu_unpack(LU, pivots)
    if adjoint:
        y = solve_triangular(mH(U), B, upper=False)
        return matmul(P, solve_triangular(mH(L), y, upper=True, unitriangular=True))
    y = solve_triangular(L, matmul(mH(P), B), upper=False, unitriangular=True)
    return solve_triangular(U, y, upper=True)


def _check_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor):
    """PyTorch's checks of linalg.lu_solve, in its order."""
    if pivots.dtype.name != "int32":
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type torch.int32")
    check_square(LU, "linalg.lu_solve", "LU", complex_ok=True)
    if B._data.ndim < 2:
        raise RuntimeError("linalg.lu_solve: The input tensor B must have at least 2 dimensions.")
    if B.dtype != LU.dtype:
        raise RuntimeError(f"linalg.lu_solve: Expected LU and B to have the same dtype, but found "
                           f"LU of type {short_name(LU.dtype)} and B of type "
                           f"{short_name(B.dtype)} instead")
    if size_at(pivots, -1) != LU._data.shape[-1]:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")


@torch_function("lu_solve")
@tensor_method("lu_solve")
def _legacy_lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:
    """X with A·X = input from A's LU (matches `torch.lu_solve`)."""
    result = lu_solve(LU_data, LU_pivots, input)
    return result if out is None else write_out(result, out, "lu_solve", "exact")


# ---- LDLᵀ ------------------------------------------------------------------------------------
def scipy_linalg(name: str = "lapack"):
    """scipy.linalg.<name>, imported on first use (SciPy is the optional `scipy` extra)."""
    try:
        return importlib.import_module(f"scipy.linalg.{name}" if name else "scipy.linalg")
    except ImportError as error:
        raise ImportError("ldl_factor and ldl_solve need SciPy, an optional dependency of "
                          "ember: pip install ember[scipy]") from error


_LAPACK_PREFIX = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}


def _routine(dtype, hermitian: bool, step: str):
    """LAPACK's sytrf/sytrs (or hetrf/hetrs for Hermitian complex matrices) for the dtype:
    `step` is "trf" (factor) or "trs" (solve)."""
    kind = "he" if hermitian and dtype.kind == "c" else "sy"
    return getattr(scipy_linalg(), _LAPACK_PREFIX[dtype.name] + kind + step)


def per_matrix(a, fn):
    """fn applied to each matrix of a batch (LAPACK's sytrf/sytrs take one matrix).

    NOTE [A loop over the batch]
    SciPy's LAPACK wrappers are not batched, so LDLᵀ is the one linalg op that loops over the
    matrices of a batch (in Python, one LAPACK call each).
    """
    flat = a.reshape((math.prod(a.shape[:-2]),) + a.shape[-2:])
    return [fn(i, m) for i, m in enumerate(flat)]


class LDLFactor(Op):
    """(LD, pivots, info) by LAPACK's sytrf; PyTorch defines no derivative."""

    node_name = "LinalgLdlFactorExBackward0"

    @staticmethod
    def forward(ctx, A, hermitian):
        return _ldl_arrays(A, hermitian)

    @staticmethod
    def backward(ctx, gld, gpivots, ginfo):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False):
    """(LD, pivots, info): the Bunch-Kaufman LDLᵀ of each symmetric matrix (LDLᴴ of each
    Hermitian one with hermitian=True) in LAPACK's compact form (matches
    `torch.linalg.ldl_factor_ex`)."""
    check_square(A, "torch.linalg.ldl_factor_ex", complex_ok=True)
    ld, pivots, info = LDLFactor.apply(A, hermitian)
    if check_errors:
        index = first_failure(info._data)
        if index is not None:
            raise RuntimeError("torch.linalg.ldl_factor_ex: The factorization could not be "
                               "completed because the input matrix is singular.")
    return LDLExResult(ld, pivots, info)


def _ldl_arrays(A: Tensor, hermitian: bool):
    """LAPACK sytrf (hetrf) of each matrix (lower): the compact LD, 1-based pivots, info."""
    sytrf = _routine(A._data.dtype, hermitian, "trf")
    shape = A._data.shape
    if A._data.size == 0:
        return (A._data.copy(), xp.zeros(shape[:-1], dtype=xp.int32),
                xp.zeros(shape[:-2], dtype=xp.int32))
    results = per_matrix(A._data, lambda i, m: sytrf(m, lower=1))
    ld = xp.stack([xp.tril(r[0]) for r in results]).reshape(shape).astype(A._data.dtype)
    pivots = xp.stack([r[1] for r in results]).reshape(shape[:-1]).astype(xp.int32)
    info = xp.array([r[2] for r in results], dtype=xp.int32).reshape(shape[:-2])
    return ld, pivots, info


def ldl_factor(A: Tensor, *, hermitian: bool = False):
    """(LD, pivots) (matches `torch.linalg.ldl_factor`)."""
    LD, pivots, _ = ldl_factor_ex(A, hermitian=hermitian)
    return LDLResult(LD, pivots)


def _check_ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor):
    """PyTorch's checks of linalg.ldl_solve, in its order."""
    if LD._data.ndim < 2:
        raise RuntimeError("torch.linalg.ldl_solve: The input tensor A must have at least 2 "
                           "dimensions.")
    check_square(LD, "torch.linalg.ldl_solve", "LD", complex_ok=True)
    if pivots._data.shape != LD._data.shape[:-1]:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected LD.shape[:-1] and pivots.shape to "
                           f"be the same, but got pivots with shape {list(pivots._data.shape)} "
                           f"instead")
    if B.dtype != LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                           f"{short_name(B.dtype)} and A of type {short_name(LD.dtype)} instead.")
    rows, n = size_at(B, -2), LD._data.shape[-1]
    if rows != n:
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix "
                           f"is {n} by {n} but each b matrix is {rows} by {B._data.shape[-1]}")


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A·X = B from A's LDLᵀ factorisation (matches `torch.linalg.ldl_solve`)."""
    _check_ldl_solve(LD, pivots, B)
    sytrs = _routine(LD._data.dtype, hermitian, "trs")
    batch = xp.broadcast_shapes(LD._data.shape[:-2], B._data.shape[:-2])
    b = xp.broadcast_to(B._data, batch + B._data.shape[-2:])
    if b.size == 0:
        return Tensor._make(b.copy())
    count = math.prod(batch)
    ld = xp.broadcast_to(LD._data, batch + LD._data.shape[-2:]).reshape(
        (count,) + LD._data.shape[-2:])
    piv = xp.broadcast_to(pivots._data, batch + pivots._data.shape[-1:]).reshape(
        (count, pivots._data.shape[-1]))
    out = per_matrix(b, lambda i, m: sytrs(ld[i], piv[i], m, lower=1)[0])
    return Tensor._make(xp.stack(out).reshape(b.shape).astype(B._data.dtype))
