"""In-place arithmetic with sparse COO tensors, what optimizers run on sparse gradients
(NOTE [Sparse gradients] in ember/autograd/engine.py): `dense.add_(sparse)` (and `+=`,
`sub_`), `sparse.add_(sparse)`, `mul_`, `div_`, `neg_` and `zero_` of a sparse tensor, and
`dense.add(sparse)` as a method.

A sparse tensor changed in place here keeps its identity (a gradient held in `.grad`, a
momentum buffer); its entries are replaced. Nothing here records a graph: in-place arithmetic
on a sparse tensor that requires grad, with grad mode on, is refused.
"""

import functools
import numbers

from ember._backend import xp
from ember._registry import rewrap_tensor_method
from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops import sparse
from ember.ops._sparse_coo import SparseCooTensor


def _sparse_other(dense_method, sparse_method):
    """Tensor.<name>: `sparse_method` when the operand is a sparse COO tensor, else the dense
    method unchanged (one type test)."""

    @functools.wraps(dense_method)
    def method(self, other, *args, **kwargs):
        if type(other) is SparseCooTensor:
            return sparse_method(self, other, *args, **kwargs)
        return dense_method(self, other, *args, **kwargs)

    return method


def _refuse_recording(*tensors):
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in tensors):
        raise NotImplementedError(
            "ember: in-place arithmetic on sparse COO tensors that require grad is not "
            "supported; run it under torch.no_grad() (as optimizers do)")


# ---- dense self, sparse operand -----------------------------------------------------------
def dense_add_sparse_(self, other, *, alpha=1):
    """self += alpha·other, entry by entry in stored order (matches `Tensor.add_` with a
    sparse operand; repeats add up)."""
    if tuple(self.shape) != other._sparse_shape:
        raise RuntimeError(
            f"add_: expected 'self' and 'other' to have same size, but self has size "
            f"{list(self.shape)} while other has size {list(other._sparse_shape)} (FYI: "
            f"dense-sparse addition does not currently support broadcasting)")
    if is_grad_enabled() and (self.requires_grad or other.requires_grad):
        return self.add_(other._dense_face(), alpha=alpha)  # recorded, through the dense op
    values = other._sparse_values._data
    if alpha != 1:
        values = values * xp.asarray(alpha, dtype=values.dtype)
    xp.add.at(self._data, tuple(other._sparse_indices), values.astype(self._data.dtype,
                                                                      copy=False))
    self._version_counter.value += 1
    return self


def dense_sub_sparse_(self, other, *, alpha=1):
    """self -= alpha·other (matches `Tensor.sub_` with a sparse operand)."""
    return dense_add_sparse_(self, other, alpha=-alpha)


def dense_add_sparse(self, other, *, alpha=1):
    """self + alpha·other, dense (matches `Tensor.add` with a sparse operand)."""
    return sparse.add(self, other, alpha=alpha)


def dense_sub_sparse(self, other, *, alpha=1):
    """self - alpha·other, dense (matches `Tensor.sub` with a sparse operand)."""
    return sparse.add(self, other, alpha=-alpha)


# ---- sparse self ---------------------------------------------------------------------------
def _replace_entries(self, result):
    """self takes result's entries (indices, values, coalesced flag); returns self."""
    _new_values(self, result._sparse_values)
    self._sparse_indices = result._sparse_indices
    self._sparse_shape, self._sparse_coalesced = result._sparse_shape, result._sparse_coalesced
    self._dense_cache = None
    return self


def _new_values(self, values):
    """self's values replaced by values, which carry on self's version counter, one more (a
    tensor changed in place counts up, as in PyTorch, what saving for backward checks)."""
    counter = self._sparse_values._version_counter
    values._version_counter = counter
    counter.value += 1
    self._sparse_values = values


def sparse_add_(self, other, *, alpha=1):
    """self += alpha·other for a sparse other, PyTorch's merge of the two entry lists
    (matches `Tensor.add_`; a dense other raises, as PyTorch's add(sparse, dense))."""
    if not isinstance(other, SparseCooTensor):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    _refuse_recording(self, other)
    return _replace_entries(self, sparse.add(self, other, alpha=alpha))


def sparse_sub_(self, other, *, alpha=1):
    """self -= alpha·other (matches `Tensor.sub_` of two sparse tensors)."""
    return sparse_add_(self, other, alpha=-alpha)


def _scale_values(self, scaled):
    """self's values replaced in place by scaled(values) (an array); returns self."""
    _refuse_recording(self)
    values = self._sparse_values
    values._data[...] = scaled(values._data)
    values._version_counter.value += 1
    self._dense_cache = None
    return self


def sparse_mul_(self, other):
    """self *= other: a number, a 0-d tensor, or a dense tensor of self's shape read at the
    entries (matches `Tensor.mul_`)."""
    if isinstance(other, SparseCooTensor):
        return _replace_entries(self, sparse.sparse_mul(self, other))
    if isinstance(other, Tensor) and other.dim() > 0:
        _refuse_recording(self, other)
        product = sparse.sparse_mul(self, other)._sparse_values._data
        return _scale_values(self, lambda values: product)
    factor = other.item() if isinstance(other, Tensor) else other
    if not isinstance(factor, numbers.Number):
        raise TypeError(f"mul_(): argument 'other' must be Tensor or Number, not "
                        f"{type(other).__name__}")
    return _scale_values(self, lambda values: values * factor)


def sparse_div_(self, other):
    """self /= a number (matches `Tensor.div_`)."""
    factor = other.item() if isinstance(other, Tensor) else other
    return _scale_values(self, lambda values: values / factor)


def sparse_neg_(self):
    """self = -self (matches `Tensor.neg_`)."""
    return _scale_values(self, xp.negative)


def sparse_zero_(self):
    """No entries left, coalesced (matches `Tensor.zero_` of a sparse tensor)."""
    values = self._sparse_values._data
    self._sparse_indices = xp.zeros((self._sparse_indices.shape[0], 0), dtype=xp.int64)
    _new_values(self, Tensor._make(xp.zeros((0,) + values.shape[1:], dtype=values.dtype)))
    self._sparse_coalesced = True
    self._dense_cache = None
    return self


for _name, _method in (("add_", dense_add_sparse_), ("__iadd__", dense_add_sparse_),
                       ("sub_", dense_sub_sparse_), ("__isub__", dense_sub_sparse_),
                       ("add", dense_add_sparse), ("sub", dense_sub_sparse)):
    rewrap_tensor_method(_name, functools.partial(_sparse_other, sparse_method=_method))
for _name, _method in (("add_", sparse_add_), ("__iadd__", sparse_add_), ("sub_", sparse_sub_),
                       ("__isub__", sparse_sub_), ("mul_", sparse_mul_), ("__imul__", sparse_mul_),
                       ("div_", sparse_div_), ("__itruediv__", sparse_div_),
                       ("neg_", sparse_neg_), ("zero_", sparse_zero_)):
    setattr(SparseCooTensor, _name, _method)


def sparse_copy_(self, src, non_blocking=False):
    """self takes src's entries and size, as copies (matches `Tensor.copy_` between sparse
    tensors; a dense src is refused in torch's words)."""
    if not isinstance(src, SparseCooTensor):
        sparse_type = self._sparse_values.type().replace("torch.", "torch.sparse.", 1)
        raise RuntimeError(f"copy_() between dense and sparse Tensors is not implemented! "
                           f"Found self type = {sparse_type} and src type = {src.type()}")
    _refuse_recording(self, src)
    values = src._sparse_values._data.astype(self._sparse_values._data.dtype)
    return _replace_entries(self, SparseCooTensor._make_sparse(
        src._sparse_indices.copy(), Tensor._make(values), src._sparse_shape,
        src._sparse_coalesced))


SparseCooTensor.copy_ = sparse_copy_
