"""Reductions of sparse COO tensors: `torch.sparse.sum` and `torch.sparse.softmax` /
`log_softmax`, each a scatter-add over groups of entries (`ember.ops.sparse` has the pair of
ops they are built from)."""

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._tensor import Tensor, wrap_dim
from ember.ops._sparse_coo import SparseCooTensor, with_dense_face
from ember.ops.conversion import cast
from ember.ops.sparse import (GatherRows, ScatterAddRows, SparseValues, _group, _keys,
                              _sparse_method, _with_values, coalesce, sparse_to)


class SparseSum(ScatterAddRows):
    """Entries summed by torch.sparse.sum (PyTorch's node name)."""

    node_name = "SparseSumBackward0"


class SparseSoftmaxNode(SparseValues):
    """The values of torch.sparse.softmax (PyTorch's node name)."""

    node_name = "SparseSoftmaxBackward0"


class SparseLogSoftmaxNode(SparseValues):
    """The values of torch.sparse.log_softmax (PyTorch's node name)."""

    node_name = "SparseLogSoftmaxBackward0"


# ---- sums -----------------------------------------------------------------------------------
def sparse_sum(input, dim=None, dtype=None):
    """Sum of the entries over `dim` (all when None) (matches `torch.sparse.sum`): dense when
    every sparse dim is summed, else a coalesced sparse tensor of the dims left."""
    if not isinstance(input, SparseCooTensor):
        raise RuntimeError("coalesce expected sparse coordinate tensor layout but got Strided")
    values = input._sparse_values
    if dtype is not None:
        values = cast(values, _dtype.to_dtype(dtype))
    if dim is None:
        return values.sum()
    ndim, s = input.dim(), input.sparse_dim()
    dims = {wrap_dim(d, ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
    dense_dims = tuple(sorted(d - s + 1 for d in dims if d >= s))
    if dense_dims:
        values = values.sum(dense_dims)
    kept = [d for d in range(s) if d not in dims]
    if not kept:
        return values.sum(0)
    kept_shape = tuple(input._sparse_shape[d] for d in kept)
    indices, values = _group(values, _keys(input._sparse_indices[kept], kept_shape), kept_shape,
                             SparseSum)
    shape = [n for d, n in enumerate(input._sparse_shape) if d not in dims]
    return SparseCooTensor._make_sparse(indices, values, shape, True)


@_sparse_method("sum")
def sparse_sum_method(self, dim=None, keepdim=False, dtype=None):
    """Sum of the entries (matches `Tensor.sum` on a sparse tensor); the gradient of a whole
    sum is dense (NOTE [Dense gradients of sparse tensors])."""
    if not self._needs_dense_face():
        return sparse_sum(self, dim, dtype)
    if dim is None:
        return self._dense_face().sum(dtype=dtype)
    def face():
        return self._dense_face().sum(dim, dtype=dtype)

    out = sparse_sum(self, dim, dtype)  # its layout; its gradient, torch's expand, is dense
    return with_dense_face(out, face, self) if isinstance(out, SparseCooTensor) else face()


# ---- softmax over the stored entries -------------------------------------------------------
def softmax(input, dim, *, dtype=None):
    """Softmax along `dim` over the stored entries only, absent ones counting as -inf (matches
    `torch.sparse.softmax`); a coalesced sparse tensor with the input's pattern."""
    return _sparse_softmax(input, dim, dtype, log=False)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along `dim` over the stored entries (matches `torch.sparse.log_softmax`)."""
    return _sparse_softmax(input, dim, dtype, log=True)


def _sparse_softmax(input, dim, dtype, log):
    """Entries grouped by their position off `dim`; each group's values normalised."""
    s = coalesce(input if dtype is None else sparse_to(input, _dtype.to_dtype(dtype)))
    dim = wrap_dim(dim, s.dim())
    values, sparse_dim = s._sparse_values, s.sparse_dim()
    if dim >= sparse_dim:  # a dense dim: each value's own softmax
        out = values.log_softmax(dim - sparse_dim + 1) if log else values.softmax(
            dim - sparse_dim + 1)
    else:
        others = [d for d in range(sparse_dim) if d != dim]
        keys = _keys(s._sparse_indices[others], tuple(s._sparse_shape[d] for d in others))
        _, group = xp.unique(keys, return_inverse=True)
        group = group.reshape(-1)
        n_groups = int(group.max()) + 1 if group.size else 0
        peak = get_array_module(values._data).full((n_groups,) + values._data.shape[1:], -xp.inf,
                                                   dtype=values._data.dtype)
        xp.maximum.at(peak, group, values._data)
        shifted = values - Tensor._make(peak[group])  # the max is a constant shift
        exp = shifted.exp()
        total = GatherRows.apply(ScatterAddRows.apply(exp, group, n_groups), group)
        out = shifted - total.log() if log else exp / total
    out = (SparseLogSoftmaxNode if log else SparseSoftmaxNode).apply(out)
    return _with_values(s, out)


# ---- functions of the coalesced values (what optimizers read from sparse gradients) ----------
@_sparse_method("pow", "__pow__")
def sparse_pow(self, exponent):
    """The coalesced tensor with each value raised to a nonzero number (matches `Tensor.pow`;
    a zeroth power would fill every position, which PyTorch refuses)."""
    if exponent == 0:
        raise RuntimeError("pow: cannot raise to zeroth power on sparse tensor; it would make "
                           "the result tensor dense")
    merged = coalesce(self)
    return with_dense_face(_with_values(merged, merged._sparse_values ** exponent),
                           lambda: self._dense_face() ** exponent, self)


@_sparse_method()
def sqrt(self):
    """The coalesced tensor with the square roots of its values (matches `Tensor.sqrt`)."""
    merged = coalesce(self)
    return with_dense_face(_with_values(merged, merged._sparse_values.sqrt()),
                           lambda: self._dense_face().sqrt(), self)


@_sparse_method()
def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm of all entries, a dense 0-d tensor (matches `Tensor.norm` of a sparse tensor:
    the values of the coalesced tensor, the implicit zeros adding nothing)."""
    if dim is not None:
        raise RuntimeError("norm(): sparse tensors support only the norm of all entries "
                           f"(dim=None), got dim={dim}")
    return coalesce(self)._sparse_values.norm(2 if p == "fro" else p, dtype=dtype)
