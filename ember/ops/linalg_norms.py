"""Norms and what is measured with them: vector_norm, matrix_norm, linalg.norm, cond and
matrix_rank.

The vector norms are extrema.py's `Norm` op; the matrix norms are compositions (Frobenius = the
2-norm of the entries, 1/inf = the largest absolute column/row sum, 2/nuc = the largest/summed
singular value), so their gradients are those of the parts, as in PyTorch. A complex tensor's
vector norm is the norm of its moduli |z|: abs carries the gradient gz = g·z/|z| (0 at z = 0),
which is PyTorch's.
"""

import math

from ember._warnings import warn as _warn
from ember._backend import xp
from ember._dtype import promote_types, to_dtype
from ember._registry import op, tensor_arguments, tensor_method, torch_function, with_out
from ember._schemas import type_name
from ember._tensor import Tensor, short_name, wrap_dim
from ember.ops._util import as_operand
from ember.ops.extrema import amax, amin
from ember.ops.extrema import norm as _vector_norm
from ember.ops.linalg_core import check_matrix, check_square, svd_arrays
from ember.ops.linalg_decomp import svdvals
from ember.ops.linalg_solve import _tolerance, inv_ex


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ord-norm of the entries over dim (all dims if None) (matches
    `torch.linalg.vector_norm`)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}'")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):  # (even with a dtype= given)
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {short_name(x.dtype)}")
    x = _with_dtype(x, dtype, "linalg.vector_norm")
    if x.dtype.is_complex:
        x = x.abs()
    return _vector_norm(x, float(ord), dim, keepdim)


def _with_dtype(x: Tensor, dtype, name: str) -> Tensor:
    """x cast to dtype= (if given), with PyTorch's checks: a floating or complex dtype, complex
    for complex inputs and real for real ones, that x's dtype promotes to (no narrowing)."""
    if dtype is None:
        return x
    dtype = to_dtype(dtype)
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                           f"{short_name(dtype)}")
    if dtype.is_complex != x.dtype.is_complex:
        kind = "complex" if x.dtype.is_complex else "real"
        raise RuntimeError(f"{name}: dtype should be {kind} for {kind} inputs, but got "
                           f"{short_name(dtype)}")
    if promote_types(x.dtype, dtype) is not dtype:
        raise RuntimeError(f"{name}: the dtype of the input ({short_name(x.dtype)}) should be "
                           f"convertible without narrowing to the specified dtype "
                           f"({short_name(dtype)})")
    return as_operand(x, dtype)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _order_text(ord) -> str:
    if isinstance(ord, str):  # an unknown string order ("a"), named as given
        return ord
    if isinstance(ord, float) and math.isinf(ord):
        return "inf" if ord > 0 else "-inf"
    return str(int(ord)) if float(ord).is_integer() else str(ord)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,
                dtype=None) -> Tensor:
    """The ord matrix norm over the two dims `dim` (matches `torch.linalg.matrix_norm`)."""
    if ord not in _MATRIX_ORDS:  # (PyTorch checks the order first)
        raise RuntimeError(f"linalg.matrix_norm: Order {_order_text(ord)} not supported.")
    if A._data.ndim < 2 or A.dtype.name != "float16" or ord in ("nuc", 2, -2):
        # float16 is refused only by the orders that need an SVD, as in PyTorch
        check_matrix(A, "linalg.matrix_norm", complex_ok=True)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dim)}")
    A = _with_dtype(A, dtype, "linalg.matrix_norm")
    ndim = A._data.ndim
    d0, d1 = (wrap_dim(d, ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2.0, (d0, d1), keepdim)
    if ord in (1, 2, math.inf) and 0 in (A._data.shape[d0], A._data.shape[d1]):
        return A.abs().sum((d0, d1), keepdim=keepdim)  # PyTorch: 0 (the max over nothing)
    if ord in ("nuc", 2, -2):
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        y = s.sum(-1, keepdim) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1, keepdim)
        # as PyTorch: the kept dims come back by a permutation (PermuteBackward0 in the graph)
        return y.unsqueeze(-1).movedim((-2, -1), (d0, d1)) if keepdim else y
    inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(inner, keepdim=True)
    y = (amax if ord > 0 else amin)(sums, outer, keepdim=True)
    return y if keepdim else y.squeeze((d0, d1))


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector or matrix norm, chosen by ord and dim (matches `torch.linalg.norm`): a string
    ord is a matrix norm (over dims (0, 1) by default); a number is a matrix norm over two dims
    (a 2-D input's by default), else a vector norm; None is the vector 2-norm over dim."""
    dims = None if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if dims is not None:
        if len(dims) not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is specified, it must be of length 1 or 2. "
                               f"Got {list(dims)}")
    elif ord is not None and A._data.ndim not in (1, 2):
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must be "
                           f"1D or 2D. Got {A._data.ndim}D.")
    if isinstance(ord, str):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    if ord is not None and (len(dims) == 2 if dims is not None else A._data.ndim == 2):
        return matrix_norm(A, ord, (0, 1) if dims is None else dims, keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)


# NOTE [torch.norm is Python code]
# torch.norm (and Tensor.norm, which calls it) is torch.functional.norm: it turns an int dim into
# [dim] and hands its arguments to torch.linalg.vector_norm ('fro' over at most two dims, or a
# number p; None is 2) or torch.linalg.matrix_norm (any other string, over all dims for None).
# Those are C-bound, so their argument parser refuses what their signatures do not take (a
# tensor p: "linalg_vector_norm(): argument 'ord' (position 2) must be Number, not Tensor"):
# ember's face routes the same way through faces that check as that parser does.
_checked_vector_norm = tensor_arguments(vector_norm, schema="linalg.vector_norm")
_checked_matrix_norm = tensor_arguments(matrix_norm, schema="linalg.matrix_norm")


@tensor_method()
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """The vector norm, or a matrix norm for a string p (matches `torch.norm`, see NOTE
    [torch.norm is Python code])."""
    if not isinstance(input, Tensor):  # torch trips over it (AttributeError); ember refuses
        raise TypeError(f"norm(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(input)}")
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return _torch_vector_norm(input, 2, dims, keepdim, dtype)
        dims = list(range(input.ndim)) if dims is None else dims
        return _checked_matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return _torch_vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype)


def _torch_vector_norm(input, ord, dims, keepdim, dtype) -> Tensor:
    """vector_norm, its arguments checked as torch's parser does unless they are of the plain
    types it takes (the common calls: a number ord, None or ints as dims)."""
    if dtype is None and type(ord) in (int, float) and type(keepdim) is bool and (
            dims is None or type(dims) in (list, tuple) and all(type(d) is int for d in dims)):
        return _vector_norm(input, ord, dims, keepdim)
    return _checked_vector_norm(input, ord, dims, keepdim, dtype=dtype)


torch_function()(with_out(norm, "exact"))  # with `out=`, as torch.norm


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number ‖A‖·‖A⁻¹‖ in the p-norm (σ_max/σ_min for p = None or 2) (matches
    `torch.linalg.cond`)."""
    if p not in (None,) + _MATRIX_ORDS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {_order_text(p)}")
    if A._data.ndim >= 2 and A._data.size == 0 and not isinstance(p, str):
        # PyTorch returns the zeros before it looks at the dtype: an int64 A gives int64 zeros
        return Tensor._make(xp.zeros(A._data.shape[:-2], dtype=A._data.real.dtype))
    if isinstance(p, str):  # PyTorch checks squareness first for 'fro' and 'nuc'
        check_square(A, f"linalg.cond(ord={p})", complex_ok=True)
    check_matrix(A, "linalg.svd" if p in (None, 2, -2) else "linalg.cond", complex_ok=True)
    if A._data.shape[-1] == 0 or A._data.shape[-2] == 0:  # PyTorch: 0 for empty matrices
        return Tensor._make(xp.zeros(A._data.shape[:-2], dtype=A._data.real.dtype))
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    check_square(A, f"linalg.cond(ord={_order_text(p) if p not in ('fro', 'nuc') else p})",
                 complex_ok=True)
    if p == "nuc":  # ‖A‖_* · ‖A⁻¹‖_* = Σσ · Σ1/σ, finite for a numerically singular A
        s = svdvals(A)
        return s.sum(-1) * s.reciprocal().sum(-1)
    inverse, info = inv_ex(A)
    y = matrix_norm(A, p) * matrix_norm(inverse, p)
    return y.masked_fill(Tensor._make(info._data > 0), math.inf)


def matrix_rank(A: Tensor, tol=None, hermitian: bool = False, *, atol=None,
                rtol=None) -> Tensor:
    """The number of singular values above max(atol, rtol·σ_max) (matches
    `torch.linalg.matrix_rank`)."""
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError("This function doesn't handle types other than float and double")
    check_matrix(A, "linalg.matrix_rank", complex_ok=True)
    if tol is not None:
        atol, rtol = tol, 0.0
    a = A._data
    if a.size == 0:  # rank 0, whatever the shape (PyTorch checks nothing more)
        return Tensor._make(xp.zeros(a.shape[:-2], dtype=xp.int64))
    if hermitian:
        check_square(A, "linalg.eigh", complex_ok=True)
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else svd_arrays(a, compute_uv=False)
    tolerance = _tolerance(a, xp.max(s, axis=-1, initial=0), atol, rtol)
    return Tensor._make(xp.sum(s > tolerance[..., None], axis=-1).astype(xp.int64))



# ---- the deprecated top-level norms (kept in PyTorch "for JIT compatibility") ------------------
_WARNED = set()  # PyTorch warns once per process (TORCH_WARN_ONCE)


def _deprecated(name: str, instead: str):
    if name in _WARNED:
        return
    _WARNED.add(name)
    line = {"frobenius_norm": 3175, "nuclear_norm": 3229}[name]
    _warn(f"at::{name} is deprecated and it is just left for JIT compatibility. It will be "
          f"removed in a future PyTorch release. Please use `{instead}` instead (Triggered "
          f"internally at /__w/pytorch/pytorch/aten/src/ATen/native/LinearAlgebra.cpp:{line}.)",
          UserWarning, stacklevel=3)


@op(out=True)
def frobenius_norm(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """The 2-norm of the entries over at most two dims (all dims for dim=()) (matches
    `torch.frobenius_norm`)."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions "
                           "instead.")
    _deprecated("frobenius_norm", "linalg.vector_norm(A, 2., dim, keepdim)")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {short_name(input.dtype)} instead.")
    return vector_norm(input, 2.0, dims or None, keepdim)


@op(out=True)
def nuclear_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """The sum of the singular values of the matrices over dim (matches `torch.nuclear_norm`;
    a bool second argument is keepdim, as in PyTorch's keepdim-only overload)."""
    if isinstance(dim, bool):
        dim, keepdim = (-2, -1), dim
    dims = (dim, dim) if isinstance(dim, int) else tuple(dim)  # an int fills both (IntArrayRef)
    _deprecated("nuclear_norm", "linalg.matrix_norm(A, 'nuc', dim, keepdim)")
    if input._data.ndim >= 2 and len(dims) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                           + " ".join(str(d) for d in dims))
    return matrix_norm(input, "nuc", dims, keepdim)
