"""Sparse COO tensors: construction (`torch.sparse_coo_tensor`, `Tensor.to_sparse`), `to_dense`,
`coalesce`, sparse × dense products (`torch.sparse.mm`/`addmm`, `torch.mm`,
`torch.matmul`, `@` both ways), `dense + sparse`, `sparse + sparse` and `sparse * scalar` (see
NOTE [Sparse COO tensors are a Tensor subclass holding a values Tensor] in
`ember.ops._sparse_coo`). The reductions (`torch.sparse.sum`, `softmax`) are in
`ember.ops.sparse_reduce`.

Every forward is a vectorised gather (`x[ids]`) or scatter-add (`xp.add.at`) over the nnz
entries, never a Python loop; every backward is the other one of the pair, written with ember
ops, so gradients reach the values and the dense operands, and differentiate again.

NOTE [torch.mm and torch.add see sparse operands]
`torch.mm`, `torch.matmul` and `torch.add` are dense ops declared in their families. This module
is imported last by `ember.ops`, and it re-files those three `ember.<name>` faces in the
registry as a wrapper that sends a call with a sparse operand here and every other call on to
the dense op unchanged (one isinstance test). The Tensor methods and operators stay the dense
ones; `SparseCooTensor` overrides its own (`s @ d`, `d @ s`, `d + s`, `s * 2`, `s.mm(d)`).
"""

import functools
import math

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._device import check_device
from ember._registry import FUNCTIONS, tensor_method, torch_function, write_out
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops._sparse_rows import GatherRows, ScatterAddRows, merge_slots
from ember.ops._sparse_coo import (SparseCooTensor, checks_invariants, sparse_coo,
                                   with_dense_face)
from ember.ops.conversion import cast
from ember.ops.creation import tensor as new_tensor
from ember.ops.joins import cat


def _sparse_method(*names):
    """Decorator: make the function `SparseCooTensor.<name>` for each name."""

    def bind(fn):
        for name in names or (fn.__name__,):
            setattr(SparseCooTensor, name, fn)
        return fn

    return bind


class ToSparse(GatherRows):
    """Dense → COO values read at the nonzero positions (node as PyTorch names it)."""

    node_name = "ToSparseBackward1"


class ToSparseDim(GatherRows):
    """Dense → COO with `sparse_dim` given: nonzero blocks read (PyTorch's node name)."""

    node_name = "ToSparseBackward0"


class Coalesce(ScatterAddRows):
    """Repeated positions summed by coalesce (PyTorch's node name)."""

    node_name = "CoalesceBackward0"


class ToDense(Op):
    """y = the dense tensor of the entries: y.flat_rows[keys[k]] += v[k];  gv = gy's rows at
    keys (a gather)."""

    @staticmethod
    def forward(ctx, values, keys, shape):
        ctx.keys, ctx.rows_shape = keys, (-1,) + tuple(values._data.shape[1:])
        v = values._data
        cells = 1
        for n in shape[:len(shape) - v.ndim + 1]:
            cells *= n
        y = get_array_module(v).zeros((cells,) + v.shape[1:], dtype=v.dtype)
        xp.add.at(y, keys, v)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return GatherRows.apply(gy.reshape(ctx.rows_shape), ctx.keys), None, None


class SparseValues(Op):
    """The values a sparse tensor is built from, as the node PyTorch shows;  gx = gy."""

    node_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data

    @staticmethod
    def backward(ctx, gy):
        return gy


class SparseMm(Op):
    """y = S·D for S with entries (rows[k], cols[k], v[k]): y[rows[k]] += v[k]·D[cols[k]];
    gD[cols[k]] += v[k]·gy[rows[k]] (Sᵀ·gy),  gv[k] = gy[rows[k]]·D[cols[k]] (S's pattern).

    form "mv" takes a vector D (a one-column matrix); form "rmm" computes D·S as (Sᵀ·Dᵀ)ᵀ,
    the caller passing Sᵀ's entries (rows and cols swapped).
    """

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, values, dense, rows, cols, n, form="mm"):
        ctx.save_for_backward(values, dense)
        ctx.rows, ctx.cols, ctx.form = rows, cols, form
        v, d = values._data, _as_columns(dense._data, form)
        y = get_array_module(d).zeros((n, d.shape[1]), dtype=d.dtype)
        xp.add.at(y, rows, v[:, None] * d[cols])
        if form == "mv":
            return y[:, 0]
        return xp.ascontiguousarray(y.T) if form == "rmm" else y

    @staticmethod
    def backward(ctx, gy):
        values, dense = ctx.saved_tensors
        g_rows = GatherRows.apply(_as_columns(gy, ctx.form), ctx.rows)
        columns = _as_columns(dense, ctx.form)
        gv = gd = None
        if ctx.needs_input_grad[0]:
            gv = (g_rows * GatherRows.apply(columns, ctx.cols)).sum(-1)
        if ctx.needs_input_grad[1]:
            gd = ScatterAddRows.apply(g_rows * values.reshape(-1, 1), ctx.cols, columns.shape[0])
            gd = gd.reshape(-1) if ctx.form == "mv" else gd.t() if ctx.form == "rmm" else gd
        return gv, gd, None, None, None, None


class SparseMv(SparseMm):
    """Sparse matrix · dense vector (PyTorch's node name)."""

    node_name = "MvBackward0"


def _as_columns(x, form):
    """The dense operand (array or Tensor) as the matrix S multiplies: a vector as one column,
    D of D·S transposed."""
    if form == "mv":
        return x.reshape(-1, 1)
    if form == "rmm":
        return x.t() if isinstance(x, Tensor) else x.T
    return x


class SparseAddmm(SparseMm):
    """torch.sparse.mm's product (PyTorch's node name)."""

    node_name = "SparseAddmmBackward0"


# ---- positions as flat keys -----------------------------------------------------------------
def _keys(indices, shape) -> xp.ndarray:
    """The C-order flat position of each entry among the sparse dims `shape`."""
    if indices.shape[0] == 0:
        return xp.zeros(indices.shape[1], dtype=xp.int64)
    return xp.ravel_multi_index(tuple(indices), tuple(shape)).astype(xp.int64)


def _unkeys(keys, shape) -> xp.ndarray:
    """The (len(shape), n) int64 indices of flat keys (the inverse of `_keys`)."""
    if not shape:
        return xp.zeros((0, keys.shape[0]), dtype=xp.int64)
    return xp.stack(xp.unravel_index(keys, tuple(shape))).astype(xp.int64).reshape(
        len(shape), -1)


def _group(values: Tensor, keys, sparse_shape, node=Coalesce):
    """Entries with equal keys summed, keys sorted: (indices, values) of the coalesced form."""
    unique, inverse = xp.unique(keys, return_inverse=True)
    summed = node.apply(values, inverse.reshape(-1), unique.shape[0])
    return _unkeys(unique, sparse_shape), summed


# ---- construction -------------------------------------------------------------------------
@torch_function()
def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A sparse tensor with values[k] at position indices[:, k] (matches
    `torch.sparse_coo_tensor`); repeated positions add up."""
    check_device(device)
    checked = checks_invariants(check_invariants)  # (its warning comes before any error)
    index = indices._data if isinstance(indices, Tensor) else new_tensor(indices)._data
    if not isinstance(values, Tensor):
        values = new_tensor(values, dtype=dtype)
    elif dtype is not None and values.dtype is not _dtype.to_dtype(dtype):
        values = cast(values, _dtype.to_dtype(dtype))
    index = index.astype(xp.int64)
    if index.ndim == 1:  # PyTorch reads a 1-D index as the coordinates of a single entry
        index = index.reshape(-1, 1)
    nnz, sparse_dim = index.shape[1], index.shape[0]
    dense_shape = tuple(values.shape[1:])
    if size is not None and len(size) != sparse_dim + len(dense_shape):
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                           f"{len(size)}, sparse_dim = {sparse_dim}, dense_dim = "
                           f"{len(dense_shape)}")
    if values.dim() == 0 or values.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values.shape[0] if values.dim() else 0}")
    if size is None:
        if nnz and index.min() < 0:
            raise RuntimeError(f"found negative index {int(index.min())} for dim "
                               f"{int(xp.argmin(index.min(axis=1)))}")
        size = tuple(int(m) + 1 for m in index.max(axis=1)) if nnz else (0,) * sparse_dim
        size = size + dense_shape
    size = tuple(int(n) for n in size)
    if checked:
        _check_invariants(index, size, dense_shape)
    if requires_grad:
        values = values.detach().requires_grad_(True)
    elif values.requires_grad:
        values = SparseValues.apply(values)
    coalesced = bool(is_coalesced) or nnz <= 1
    return SparseCooTensor._make_sparse(index, values, size, coalesced)


def _check_invariants(index, size, dense_shape):
    """PyTorch's check_invariants errors: negative or out-of-range indices, bad dense dims."""
    sparse_dim = index.shape[0]
    if tuple(size[sparse_dim:]) != dense_shape:
        raise RuntimeError(f"values has incorrect size, expected {list(size[sparse_dim:])}, got "
                           f"{list(dense_shape)}")
    if not index.shape[1]:
        return
    for d in range(sparse_dim):
        low, high = int(index[d].min()), int(index[d].max())
        if low < 0:
            raise RuntimeError(f"found negative index {low} for dim {d}")
        if high >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                               f"{size[d]} but found index {high}")


def refuse_complex_grad(t: Tensor, name: str):
    """PyTorch has no derivative for a dense → sparse conversion with a complex result."""
    if t.requires_grad and t.dtype.is_complex and is_grad_enabled():
        raise RuntimeError(f"{name} does not support automatic differentiation for outputs "
                           "with complex dtype.")


@tensor_method("to_sparse", "to_sparse_coo")
def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The nonzero entries of a dense tensor as a coalesced COO tensor (matches
    `Tensor.to_sparse`); with `sparse_dim`, the leading dims index blocks that are not all
    zero."""
    if isinstance(self, SparseCooTensor):
        return self
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"ember has only COO sparse tensors, got layout {layout}")
    refuse_complex_grad(self, "_to_sparse")
    ndim = self.dim()
    node = ToSparse if sparse_dim is None else ToSparseDim
    sparse_dim = ndim if sparse_dim is None else int(sparse_dim)
    if not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{ndim}] range, "
                           f"but {sparse_dim} is given")
    if sparse_dim == 0 and ndim:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when "
                           "self.dim()>0")
    shape = tuple(self.shape)
    count = math.prod(shape[:sparse_dim])  # the blocks, counted (a -1 cannot size no elements)
    blocks = self._data.reshape((count,) + shape[sparse_dim:])
    nonzero = (blocks != 0).reshape(count, math.prod(shape[sparse_dim:])).any(axis=1)
    keys = xp.flatnonzero(nonzero).astype(xp.int64)
    values = node.apply(self.reshape((count,) + shape[sparse_dim:]), keys)
    out = SparseCooTensor._make_sparse(_unkeys(keys, shape[:sparse_dim]), values, shape, True)
    return with_dense_face(out, lambda: self, self)  # a dense gradient reaches self whole


# ---- conversions ----------------------------------------------------------------------------
@tensor_method("to_dense")
def dense_to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor is its own dense form (matches `Tensor.to_dense`)."""
    return self if dtype is None else cast(self, _dtype.to_dtype(dtype))


@_sparse_method()
def to_dense(self, dtype=None, *, masked_grad=None):
    """The dense tensor the entries describe, repeats summed (matches `Tensor.to_dense`)."""
    if dtype is not None:
        raise RuntimeError("dtype argument is not supported by sparse_to_dense")
    values = self._sparse_values
    keys = _keys(self._sparse_indices, self._sparse_shape[:self.sparse_dim()])
    return ToDense.apply(values, keys, self._sparse_shape)


@_sparse_method()
def coalesce(self):
    """Repeated positions summed and positions sorted (matches `Tensor.coalesce`)."""
    if self._sparse_coalesced:
        return self
    sparse_shape = self._sparse_shape[:self.sparse_dim()]
    indices, values = _group(self._sparse_values, _keys(self._sparse_indices, sparse_shape),
                             sparse_shape)
    out = SparseCooTensor._make_sparse(indices, values, self._sparse_shape, True)
    return with_dense_face(out, self._dense_face, self)


@_sparse_method("to")
def sparse_to(self, *args, **kwargs):
    """Values converted by `Tensor.to` (dtype; CPU only), indices kept (matches `Tensor.to`)."""
    values = self._sparse_values.to(*args, **kwargs)
    if values is self._sparse_values:
        return self
    out = SparseCooTensor._make_sparse(self._sparse_indices, values, self._sparse_shape,
                                       self._sparse_coalesced)
    return with_dense_face(out, lambda: self._dense_face().to(*args, **kwargs), self)


@_sparse_method("double")
def sparse_double(self):
    """Values as float64 (matches `Tensor.double`)."""
    return sparse_to(self, _dtype.float64)


@_sparse_method("float")
def sparse_float(self):
    """Values as float32 (matches `Tensor.float`)."""
    return sparse_to(self, _dtype.float32)


@_sparse_method()
def clone(self, *, memory_format=None):
    """A copy with its own values (matches `Tensor.clone`)."""
    out = SparseCooTensor._make_sparse(self._sparse_indices.copy(), self._sparse_values.clone(),
                                       self._sparse_shape, self._sparse_coalesced)
    return with_dense_face(out, lambda: self._dense_face().clone(), self)


# ---- products -------------------------------------------------------------------------------
def _check_mm(s: SparseCooTensor, d: Tensor):
    """PyTorch's errors for sparse·dense: a 2-D sparse matrix, a 2-D dense one, one dtype."""
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"addmm: matrices expected, got {s.sparse_dim()}D sparse tensor with "
                           f"{s.dense_dim()} dense dims")
    if d.dim() > 2:
        raise RuntimeError(f"addmm: matrices expected, got {d.dim()}D tensor")
    if d.dim() < 2:  # PyTorch reads the dense operand's dim 1 before it checks the rank
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(d.dim(), 1)},"
                         f" {max(d.dim(), 1) - 1}], but got 1)")
    if s.dtype is not d.dtype:
        raise RuntimeError(f"expected scalar type {short_name(s.dtype)} but found "
                           f"{short_name(d.dtype)}")


def sparse_dense_mm(s: SparseCooTensor, d: Tensor, node=SparseMm, whole=False) -> Tensor:
    """S·D for a 2-D sparse S and a 2-D dense D, a dense (n, m) result; torch.mm (node SparseMm)
    sends `whole` (S unless given; None: none) a dense gradient through its dense face."""
    _check_mm(s, d)
    if s._sparse_shape[1] != d.shape[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size "
                           f"{s._sparse_shape[1]}, got {d.shape[0]}")
    whole = s if whole is False else whole
    if node is SparseMm and whole is not None and whole._needs_dense_face():
        return _DENSE["mm"](whole._dense_face(), d)
    rows, cols = s._sparse_indices
    return node.apply(s._sparse_values, d, rows, cols, s._sparse_shape[0])


def sparse_mv(s: SparseCooTensor, vec: Tensor, whole=False) -> Tensor:
    """S·v for a 2-D sparse S and a dense vector v (matches `torch.mv`); `whole` as in
    sparse_dense_mm."""
    _check_mm(s, vec.reshape(-1, 1))
    if s._sparse_shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({s._sparse_shape[0]}), mat "
                           f"({s._sparse_shape[0]}x{s._sparse_shape[1]}), vec ({vec.shape[0]})")
    whole = s if whole is False else whole
    if whole is not None and whole._needs_dense_face():
        return _DENSE["matmul"](whole._dense_face(), vec)
    rows, cols = s._sparse_indices
    return SparseMv.apply(s._sparse_values, vec, rows, cols, s._sparse_shape[0], "mv")


def dense_sparse_mm(d: Tensor, s: SparseCooTensor, whole=False) -> Tensor:
    """D·S for a 2-D dense D and a 2-D sparse S, computed as (Sᵀ·Dᵀ)ᵀ; `whole` as in
    sparse_dense_mm."""
    _check_mm(s, d)
    if d.shape[1] != s._sparse_shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({d.shape[0]}x"
                           f"{d.shape[1]} and {s._sparse_shape[0]}x{s._sparse_shape[1]})")
    whole = s if whole is False else whole
    if whole is not None and whole._needs_dense_face():
        return _DENSE["mm"](d, whole._dense_face())
    rows, cols = s._sparse_indices
    return SparseMm.apply(s._sparse_values, d, cols, rows, s._sparse_shape[1], "rmm")


def mm(input, mat2, *, out=None, node=SparseMm) -> Tensor:
    """The product of a sparse and a dense matrix, a dense matrix (matches `torch.mm`)."""
    if isinstance(input, SparseCooTensor) and isinstance(mat2, SparseCooTensor):
        raise NotImplementedError("ember: the product of two sparse tensors is not supported")
    if isinstance(input, SparseCooTensor):
        result = sparse_dense_mm(input, mat2, node)
    elif isinstance(mat2, SparseCooTensor):
        result = dense_sparse_mm(input, mat2)
    else:
        return _DENSE["mm"](input, mat2, out=out)
    return result if out is None else write_out(result, out)


def sparse_mm(mat1, mat2) -> Tensor:
    """The product of a sparse and a dense matrix, a dense matrix (matches `torch.sparse.mm`)."""
    return mm(mat1, mat2, node=SparseAddmm)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0) -> Tensor:
    """beta·mat + alpha·(mat1 @ mat2) for a sparse mat1 and dense mat and mat2 (matches
    `torch.sparse.addmm`)."""
    product = mm(mat1, mat2, node=SparseAddmm)
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # mat is ignored (its nan and inf too), yet gets a zero gradient
        return product + (mat * 0.0).nan_to_num(0.0)
    return product + (mat if beta == 1 else mat * beta)


@_sparse_method("matmul", "__matmul__")
def sparse_matmul(self, other) -> Tensor:
    """sparse @ dense: a matrix or vector product, dense (matches `torch.matmul`)."""
    if isinstance(other, Tensor) and not isinstance(other, SparseCooTensor) and other.dim() == 1:
        return sparse_mv(self, other)
    return mm(self, other)


@_sparse_method("__rmatmul__")
def sparse_rmatmul(self, other) -> Tensor:
    """dense @ sparse, dense (matches `torch.matmul`)."""
    return dense_sparse_mm(other, self)


@_sparse_method("mm")
def sparse_mm_method(self, mat2) -> Tensor:
    """sparse.mm(dense) (matches `Tensor.mm`)."""
    return mm(self, mat2)


# ---- arithmetic -----------------------------------------------------------------------------
def _with_values(s: SparseCooTensor, values: Tensor) -> SparseCooTensor:
    return SparseCooTensor._make_sparse(s._sparse_indices, values, s._sparse_shape,
                                        s._sparse_coalesced)


def add(input, other, *, alpha=1, out=None):
    """dense + alpha·sparse, a dense tensor; sparse + sparse, their entries together
    (matches `torch.add` with a sparse operand)."""
    if isinstance(input, SparseCooTensor) and isinstance(other, SparseCooTensor):
        return _sparse_sparse_add(input, other, alpha)
    if isinstance(input, SparseCooTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    if isinstance(input, Tensor) and tuple(input.shape) != other._sparse_shape:
        raise RuntimeError(
            f"add: expected 'self' and 'other' to have same size, but self has size "
            f"{list(input.shape)} while other has size {list(other._sparse_shape)} (FYI: "
            f"dense-sparse addition does not currently support broadcasting)")
    return _DENSE["add"](input, other._dense_face(), alpha=alpha, out=out)


def _sparse_sparse_add(a: SparseCooTensor, b: SparseCooTensor, alpha) -> SparseCooTensor:
    """Both tensors' entries merged as PyTorch merges them (NOTE [PyTorch's sparse merge])."""
    if a._sparse_shape != b._sparse_shape or a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but "
                           f"{list(a._sparse_shape)} != {list(b._sparse_shape)}")
    values_b = b._sparse_values if alpha == 1 else b._sparse_values * alpha
    sparse_shape = a._sparse_shape[:a.sparse_dim()]
    slots_a, slots_b, keys = merge_slots(_keys(a._sparse_indices, sparse_shape),
                                         _keys(b._sparse_indices, sparse_shape))
    values = ScatterAddRows.apply(cat([a._sparse_values, values_b]),
                                  xp.concatenate([slots_a, slots_b]), keys.shape[0])
    out = SparseCooTensor._make_sparse(_unkeys(keys, sparse_shape), values, a._sparse_shape,
                                       a._sparse_coalesced and b._sparse_coalesced)
    return with_dense_face(out, lambda: a._dense_face() + b._dense_face() * alpha, a, b)


@_sparse_method("add", "__add__")
def sparse_add_method(self, other, *, alpha=1):
    """sparse + sparse (sparse + dense raises, as in PyTorch)."""
    return add(self, other, alpha=alpha)


@_sparse_method("__radd__")
def sparse_radd(self, other):
    """dense + sparse, a dense tensor (matches `torch.add`)."""
    return add(other, self)


@_sparse_method("mul", "__mul__", "__rmul__")
def sparse_mul(self, other):
    """sparse · scalar, or sparse · dense of the same shape read at the entries: a sparse
    tensor with the same indices (matches `torch.mul`)."""
    if isinstance(other, SparseCooTensor):
        raise NotImplementedError("ember: sparse * sparse is not supported")
    if isinstance(other, Tensor) and other.dim() > 0:
        if tuple(other.shape) != self._sparse_shape:
            raise RuntimeError(f"mul: expected a dense operand of size {list(self._sparse_shape)}"
                               f", got {list(other.shape)}")
        sparse_shape = self._sparse_shape[:self.sparse_dim()]
        rows = other.reshape((-1,) + self._sparse_shape[len(sparse_shape):])  # hybrid: blocks
        keys = _keys(self._sparse_indices, sparse_shape)
        out = _with_values(self, self._sparse_values * GatherRows.apply(rows, keys))
    else:
        out = _with_values(self, self._sparse_values * other)
    return with_dense_face(out, lambda: self._dense_face() * other, self)


@_sparse_method("div", "__truediv__")
def sparse_div(self, other):
    """sparse / scalar, a sparse tensor with the same indices (matches `torch.div`)."""
    out = _with_values(self, self._sparse_values / other)
    return with_dense_face(out, lambda: self._dense_face() / other, self)


@_sparse_method("neg", "__neg__")
def sparse_neg(self):
    """-sparse (matches `torch.neg`)."""
    return with_dense_face(_with_values(self, -self._sparse_values),
                           lambda: -self._dense_face(), self)


@_sparse_method("t")
def sparse_t(self):
    """The transpose of a 2-D sparse matrix: its index rows swapped (matches `Tensor.t`)."""
    if self.sparse_dim() != 2 or self.dense_dim():
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but "
                           f"self is {self.sparse_dim()} sparse and {self.dense_dim()} dense")
    out = SparseCooTensor._make_sparse(self._sparse_indices[::-1].copy(), self._sparse_values,
                                       self._sparse_shape[::-1], False)
    return with_dense_face(out, lambda: self._dense_face().t(), self)


# ---- dispatch of torch.mm / torch.matmul / torch.add (NOTE [torch.mm and torch.add see ...]) ----
_DENSE = {name: FUNCTIONS[name] for name in ("mm", "matmul", "add")}


def matmul(input, other, *, out=None) -> Tensor:
    """sparse @ dense or dense @ sparse, dense (matches `torch.matmul`)."""
    if isinstance(input, SparseCooTensor):
        result = sparse_matmul(input, other)
    else:
        result = sparse_rmatmul(other, input)
    return result if out is None else write_out(result, out)


_SPARSE = {"mm": mm, "matmul": matmul, "add": add}


def _sees_sparse(name):
    """The `ember.<name>` face: sparse operands to this module, others to the dense op."""
    dense, sparse = _DENSE[name], _SPARSE[name]

    @functools.wraps(dense)
    def face(*args, **kwargs):
        if _any_sparse(args) or kwargs and _any_sparse(kwargs.values()):
            return sparse(*args, **kwargs)
        return dense(*args, **kwargs)

    return face


def _any_sparse(operands) -> bool:
    for x in operands:
        if isinstance(x, SparseCooTensor):
            return True
    return False


for _name in _DENSE:
    FUNCTIONS[_name] = _sees_sparse(_name)
