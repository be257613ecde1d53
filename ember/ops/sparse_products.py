"""Products with sparse operands beyond sparse × dense: sparse × sparse for COO, CSR and CSC
(`torch.sparse.mm`, `torch.mm`, `@`), compressed × dense, `torch.sparse.sampled_addmm`, the
row reductions of `torch.sparse.mm(csr, dense, reduce)`, and the COO × dense products with
sparse results (`torch.hspmm`, `torch.smm`, `torch.sspaddmm`; `torch.spmm` is `mm`).

NOTE [Sparse times sparse]
C = A·B for COO A (m×k) and B (k×n) pairs every entry (i, p, a) of A with every entry (p, j, b)
of B's row p: B's entries are sorted by row once, and each A entry's partners are a contiguous
run found by a binary search, expanded with `repeat` (no Python loop). The products a·b are
gathered from the two values Tensors and summed per output position (i, j) by a scatter-add,
so C's values are a differentiable function of A's and B's values: gA_e = Σ_j gC(i,j)·b(p,j),
PyTorch's gradient of a sparse product masked to A's pattern. C holds every structural
position, as PyTorch's result does, and comes out coalesced.
"""

import functools

from ember._backend import xp
from ember._registry import FUNCTIONS, write_out
from ember._tensor import Tensor, short_name
from ember.ops._sparse_coo import SparseCooTensor, with_dense_face
from ember.ops._sparse_compressed import (SparseCompressedTensor, layout_word, sparse_csc,
                                          sparse_csr, warn_beta)
from ember.ops.joins import cat
from ember.ops.sparse import (_DENSE, GatherRows, ScatterAddRows, SparseAddmm, SparseMm,
                              dense_sparse_mm, sparse_dense_mm)
from ember.ops.sparse import mm as coo_mm
from ember.ops.sparse_compressed import coo_of, compressed_of

_SPARSE = (SparseCooTensor, SparseCompressedTensor)


# ---- COO × COO ------------------------------------------------------------------------------
def _check_pair(a, b):
    """torch's errors for a sparse product: matrices, one dtype, matching inner sizes."""
    for t in (a, b):
        if t.dim() != 2 or isinstance(t, _SPARSE) and t.dense_dim():
            raise RuntimeError(f"addmm: matrices expected, got {t.dim()}D tensor")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"mat1 dtype {short_name(a.dtype)} does not match mat2 dtype "
                           f"{short_name(b.dtype)}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x"
                           f"{a.shape[1]} and {b.shape[0]}x{b.shape[1]})")


def spgemm(a: SparseCooTensor, b: SparseCooTensor) -> SparseCooTensor:
    """A·B of two 2-D COO matrices, a coalesced COO matrix (NOTE [Sparse times sparse])."""
    _check_pair(a, b)
    a_rows, a_inner = a._sparse_indices
    b_rows, b_cols = b._sparse_indices
    m, n = a.shape[0], b.shape[1]
    order = xp.argsort(b_rows, kind="stable")
    sorted_rows = b_rows[order]
    starts = xp.searchsorted(sorted_rows, a_inner, side="left")
    runs = xp.searchsorted(sorted_rows, a_inner, side="right") - starts
    total = int(runs.sum())
    a_pick = xp.repeat(xp.arange(a_inner.shape[0], dtype=xp.int64), runs)
    within = xp.arange(total, dtype=xp.int64) - xp.repeat(xp.cumsum(runs) - runs, runs)
    b_pick = order[xp.repeat(starts, runs) + within]
    keys = a_rows[a_pick] * n + b_cols[b_pick]
    products = GatherRows.apply(a._sparse_values, a_pick) * GatherRows.apply(
        b._sparse_values, b_pick)
    unique, inverse = xp.unique(keys, return_inverse=True)
    values = ScatterAddRows.apply(products, inverse.reshape(-1), unique.shape[0])
    indices = xp.stack([unique // max(n, 1), unique % max(n, 1)]).astype(xp.int64)
    return SparseCooTensor._make_sparse(indices.reshape(2, -1), values, (m, n), True)


# ---- dispatch by layouts ----------------------------------------------------------------------
def _mixed_error(first, a, b):
    return RuntimeError(f"addmm: computation on CPU is not implemented for {layout_word(first)} "
                        f"+ {layout_word(a)} @ {layout_word(b)}")


def sparse_product(a, b, *, sparse_mm=False):
    """a @ b with at least one sparse operand, in the layout torch gives; torch.mm sends a
    sparse operand a dense gradient, torch.sparse.mm a masked one (NOTE [Dense gradients of
    sparse tensors])."""
    a_sparse, b_sparse = isinstance(a, _SPARSE), isinstance(b, _SPARSE)
    if a_sparse and b_sparse:
        out = _sparse_sparse(a, b, sparse_mm)
        if sparse_mm:
            return out
        return with_dense_face(out, lambda: _DENSE["mm"](a._dense_face(), b._dense_face()), a, b)
    if a_sparse:  # compressed × dense
        node, whole = (SparseAddmm, None) if sparse_mm else (SparseMm, a)
        if b.dim() == 1:
            return sparse_dense_mm(coo_of(a), b.unsqueeze(1), node, whole).squeeze(1)
        return sparse_dense_mm(coo_of(a), b, node, whole)
    if isinstance(b, SparseCooTensor):
        return coo_mm(a, b)
    return dense_sparse_mm(a, coo_of(b), b)  # dense × compressed


def _sparse_sparse(a, b, sparse_mm):
    """a @ b of two sparse matrices: COO × COO, or two compressed ones."""
    a_coo, b_coo = isinstance(a, SparseCooTensor), isinstance(b, SparseCooTensor)
    if a_coo and b_coo:
        warn_beta(sparse_csr)  # (torch multiplies them as CSR matrices)
        return spgemm(a, b)
    if a_coo or b_coo:
        raise _mixed_error(b if sparse_mm else a, a, b)
    if sparse_mm and a._layout is sparse_csr and b._layout is sparse_csc:
        raise _mixed_error(b, a, b)
    kind = sparse_csc if sparse_mm and a._layout is b._layout is sparse_csc else sparse_csr
    return compressed_of(spgemm(coo_of(a), coo_of(b)), kind)


def _is_sparse_call(args):
    return any(isinstance(x, _SPARSE) for x in args) and (
        any(isinstance(x, SparseCompressedTensor) for x in args)
        or all(isinstance(x, SparseCooTensor) for x in args))


def _refile(name, sparse_mm=False):
    """`ember.<name>`: calls with a compressed operand, or two COO ones, come here."""
    previous = FUNCTIONS[name]

    @functools.wraps(previous)
    def face(*args, out=None, **kwargs):
        operands = args + tuple(kwargs.values())
        if len(operands) == 2 and _is_sparse_call(operands):
            result = sparse_product(*operands)
            return result if out is None else write_out(result, out)
        return previous(*args, out=out, **kwargs)

    FUNCTIONS[name] = face
    return face


_refile("mm")
_refile("matmul")

_COO_MATMUL = SparseCooTensor.__matmul__
_COO_MM = SparseCooTensor.mm


def _coo_matmul(self, other):
    """sparse @ other: sparse × sparse here, sparse × dense as before."""
    if isinstance(other, _SPARSE):
        return sparse_product(self, other)
    return _COO_MATMUL(self, other)


def _coo_mm_method(self, mat2):
    if isinstance(mat2, _SPARSE):
        return sparse_product(self, mat2)
    return _COO_MM(self, mat2)


SparseCooTensor.__matmul__ = SparseCooTensor.matmul = _coo_matmul
SparseCooTensor.mm = _coo_mm_method


def _compressed_matmul(self, other):
    """csr/csc @ other (matches `torch.matmul`)."""
    return sparse_product(self, other)


def _compressed_rmatmul(self, other):
    """dense @ csr/csc, dense (matches `torch.matmul`)."""
    return sparse_product(other, self)


SparseCompressedTensor.__matmul__ = SparseCompressedTensor.matmul = _compressed_matmul
SparseCompressedTensor.mm = _compressed_matmul
SparseCompressedTensor.__rmatmul__ = _compressed_rmatmul


# ---- torch.sparse.mm, sampled_addmm, mm with reduce ------------------------------------------
_REDUCTIONS = ("sum", "mean", "amax", "amin")


def mm(mat1, mat2, reduce=None) -> Tensor:
    """The product of sparse and dense or sparse matrices (matches `torch.sparse.mm`); with
    `reduce`, each output row reduces its products instead of summing them."""
    if reduce is not None:
        return _sparse_mm(mat1, mat2, reduce)
    if not _is_sparse_call((mat1, mat2)):  # COO and dense, as before
        return coo_mm(mat1, mat2, node=SparseAddmm)
    return sparse_product(mat1, mat2, sparse_mm=True)


def _sparse_mm(sparse, dense, reduce="sum") -> Tensor:
    """Row i of the result reduces a[i,k]·dense[k,:] over row i's entries; empty rows are 0
    (matches `torch._sparse_mm` with reduce)."""
    if reduce not in _REDUCTIONS + ("prod",):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    if not isinstance(sparse, SparseCompressedTensor) or sparse._layout is not sparse_csr:
        if isinstance(sparse, SparseCompressedTensor):
            raise RuntimeError(f"sparse_mm_reduce: expect self to be SparseCsr, got "
                               f"{layout_word(sparse)}")
        raise NotImplementedError(f"Could not run 'aten::_sparse_mm_reduce_impl' with arguments "
                                  f"from the '{layout_word(sparse)}CPU' backend")
    if reduce == "prod":
        raise RuntimeError("sparse_mm_reduce: reduce type of prod has not been enabled.")
    _check_reduce_operands(sparse, dense)
    coo = coo_of(sparse)
    rows, cols = coo._sparse_indices
    m = sparse.shape[0]
    products = coo._sparse_values.unsqueeze(1) * GatherRows.apply(dense, cols)
    if reduce in ("sum", "mean"):
        out = ScatterAddRows.apply(products, rows, m)
        if reduce == "mean":
            counts = xp.maximum(xp.bincount(rows, minlength=m), 1).astype(products._data.dtype)
            out = out / Tensor._make(counts.reshape(-1, 1))
        return out
    return _first_extreme(products, rows, m, reduce == "amax")


def _check_reduce_operands(sparse, dense):
    """torch's checks of sparse_mm_reduce, in its order: dense's dtype, then its size(0) (an
    IndexError for a 0-d tensor), then a matrix of sparse's column count of rows."""
    if dense.dtype is not sparse.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'other' to have scalar type "
                           f"{short_name(sparse.dtype)}; but got {dense.type()} instead (while "
                           f"checking arguments for sparse_mm_reduce)")
    if dense.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if dense.dim() != 2 or dense.shape[0] != sparse.shape[1]:
        raise RuntimeError(f"Expected a tensor of dimension 2 and tensor.size[0] == "
                           f"{sparse.shape[1]} but got: dimension {dense.dim()} and "
                           f"tensor.size[0] = {dense.shape[0]}")


def _first_extreme(products: Tensor, rows, m, take_max) -> Tensor:
    """Per row i and column j, the product of the first entry holding the row's max (min);
    0 for empty rows. The gradient goes to that one entry, as torch's does."""
    p = products._data
    n = p.shape[1]
    best = xp.full((m, n), -xp.inf if take_max else xp.inf, dtype=p.dtype)
    (xp.maximum if take_max else xp.minimum).at(best, rows, p)
    entry = xp.arange(p.shape[0], dtype=xp.int64)[:, None]
    candidates = xp.where(p == best[rows], entry, p.shape[0])
    first = xp.full((m, n), p.shape[0], dtype=xp.int64)
    xp.minimum.at(first, rows, candidates)
    empty = first == p.shape[0]
    picked = products.gather(0, Tensor._make(xp.where(empty, 0, first))) if p.shape[0] else \
        Tensor._make(xp.zeros((m, n), dtype=p.dtype))
    return picked * Tensor._make((~empty).astype(p.dtype))


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None) -> Tensor:
    """beta·input + alpha·(mat1 @ mat2) at input's CSR positions only (matches
    `torch.sparse.sampled_addmm`); gradients reach input's values, mat1 and mat2."""
    if not isinstance(input, SparseCompressedTensor) or input._layout is not sparse_csr:
        word = layout_word(input)
        raise NotImplementedError(f"Could not run 'aten::sparse_sampled_addmm' with arguments "
                                  f"from the '{'' if word == 'Strided' else word}CPU' backend")
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"sampled_addmm: Expected mat1 and mat2 to be matrices, got "
                           f"{mat1.dim()}D and {mat2.dim()}D")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x"
                           f"{mat1.shape[1]} and {mat2.shape[0]}x{mat2.shape[1]})")
    rows = coo_of(input)._sparse_indices[0]
    cols = input._plain
    sampled = (GatherRows.apply(mat1, rows) * GatherRows.apply(mat2.mT, cols)).sum(-1)
    values = input._sparse_values * beta + sampled * alpha
    # torch passes a dense gradient on to input whole (beta·grad), masks mat1's and mat2's
    result = with_dense_face(input._with_values(values), lambda: input._dense_face() * beta + (
        input._with_values(sampled * alpha).to_dense()), input)
    return result if out is None else write_out(result, out)


sparse_sampled_addmm = sampled_addmm


# ---- spmm, hspmm, smm, sspaddmm --------------------------------------------------------------
FUNCTIONS["spmm"] = FUNCTIONS["mm"]  # torch.spmm: mm under its sparse name


def _check_rows_product(name, sparse, dense, arg=3):
    """PyTorch's checks of a COO matrix times a dense matrix in hspmm/sspaddmm."""
    if isinstance(dense, _SPARSE):
        raise RuntimeError("addmm_sparse_dense: expected strided result tensor, got tensor with "
                           "layout Sparse")
    if dense.shape[0] != sparse.shape[1]:
        raise RuntimeError(f"{name}: Argument #{arg}: Expected dim 0 size {sparse.shape[1]}, got "
                           f"{dense.shape[0]}")
    if dense.dtype is not sparse.dtype:
        raise RuntimeError(f"expected scalar type {short_name(sparse.dtype)} but found "
                           f"{short_name(dense.dtype)}")


def _rows_product(sparse: SparseCooTensor, dense: Tensor):
    """(the rows of sparse holding entries, sorted; those rows of sparse @ dense)."""
    rows = xp.unique(sparse._sparse_indices[0])
    return rows, GatherRows.apply(coo_mm(sparse, dense), rows)


def hspmm(mat1, mat2, *, out=None) -> Tensor:
    """sparse @ dense as a hybrid COO tensor: one sparse dim (the rows of mat1 holding
    entries), dense rows as values (matches `torch.hspmm`)."""
    if not isinstance(mat1, SparseCooTensor):
        raise NotImplementedError("Could not run 'aten::hspmm' with arguments from the 'CPU' "
                                  "backend.")
    _check_rows_product("hspmm", mat1, mat2)
    rows, values = _rows_product(mat1, mat2)
    result = SparseCooTensor._make_sparse(rows.reshape(1, -1), values,
                                          (mat1.shape[0], mat2.shape[1]), True)
    return result if out is None else write_out(result, out)


def _smm_parts(mat1, mat2):
    """(indices, values) of smm: every column of each row of mat1 holding entries."""
    rows, values = _rows_product(mat1, mat2)
    n = mat2.shape[1]
    index = xp.stack([xp.repeat(rows, n), xp.tile(xp.arange(n, dtype=xp.int64), rows.shape[0])])
    return index, values.reshape(-1)


def sspaddmm(input, mat1, mat2, *, beta=1, alpha=1, out=None) -> Tensor:
    """beta·input + alpha·(mat1 @ mat2) as an uncoalesced COO tensor: input's entries, then the
    product's rows of mat1 holding entries (matches `torch.sspaddmm`)."""
    if not isinstance(mat1, SparseCooTensor):
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    _check_rows_product("sspaddmm", mat1, mat2)
    if not isinstance(input, SparseCooTensor):
        raise RuntimeError("self.is_sparse() INTERNAL ASSERT FAILED: the input of sspaddmm "
                           "must be sparse")
    shape = (mat1.shape[0], mat2.shape[1])
    if tuple(input.shape) != shape:
        for axis in (0, 1):
            if input.shape[axis] != shape[axis]:
                raise RuntimeError(f"sspaddmm: Argument #1: Expected dim {axis} size "
                                   f"{shape[axis]}, got {input.shape[axis]}")
    index, values = _smm_parts(mat1, mat2)
    index = xp.concatenate([input._sparse_indices, index], axis=1)
    values = cat([input._sparse_values * beta, values * alpha])
    result = SparseCooTensor._make_sparse(index, values, shape, index.shape[1] <= 1)
    return result if out is None else write_out(result, out)


def smm(input, mat) -> Tensor:
    """sparse @ dense as a COO tensor holding every column of the rows of input that have
    entries (matches `torch.smm`)."""
    if not isinstance(input, SparseCooTensor):
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    _check_rows_product("sspaddmm", input, mat)
    index, values = _smm_parts(input, mat)
    return SparseCooTensor._make_sparse(index, values, (input.shape[0], mat.shape[1]), True)


def _sspaddmm_method(self, mat1, mat2, *, beta=1, alpha=1):
    """input.sspaddmm(mat1, mat2) (matches `Tensor.sspaddmm`)."""
    return sspaddmm(self, mat1, mat2, beta=beta, alpha=alpha)


FUNCTIONS.update(hspmm=hspmm, smm=smm, sspaddmm=sspaddmm)
SparseCooTensor.smm = smm
SparseCooTensor.sspaddmm = _sspaddmm_method
