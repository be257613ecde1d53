"""The sparse COO tensor: coordinates and values of a tensor's nonzero entries (matches a
`torch.Tensor` of layout `torch.sparse_coo`), its metadata and printing, and how dense tensors
answer the sparse API (`sparse_dim()` is 0, `coalesce()` raises). The ops on it are in
`ember.ops.sparse` and `ember.ops.sparse_reduce`.

NOTE [Sparse COO tensors are a Tensor subclass holding a values Tensor]
A sparse tensor of size (d0, ..., d(s-1), e0, ...) with `sparse_dim` s stores `nnz` entries:
an int64 array of indices, shape (s, nnz), and a dense `values` Tensor, shape (nnz, e0, ...);
entry k puts values[k] at position indices[:, k]. Repeated positions add up; `coalesce()` sums
them and sorts the positions.

`SparseCooTensor` subclasses `Tensor`, so `isinstance(s, torch.Tensor)` holds as in PyTorch and
Python's operator rules give the subclass's reflected methods first say (`dense + sparse` reaches
`SparseCooTensor.__radd__` before `Tensor.__add__` runs). It never sets `_data`: nothing on the
dense path learns about sparsity, and every dense op keeps its speed. Autograd is the values':
a sparse tensor is never an input of an Op, the ops take its values Tensor and its indices
array, so gradients reach the values (and through them whatever made them, e.g. the edge
weights of a graph). `requires_grad`, `grad_fn` and `is_leaf` are the values'; `.grad` of a
leaf sparse tensor is a sparse tensor with its indices and the values' gradient, which is
PyTorch's masked gradient (`torch.sparse.mm`; PyTorch's `torch.mm` gives a leaf a dense one).
"""

import copy

from ember import _dtype
from ember._backend import xp
from ember._device import CPU, Size
from ember._registry import tensor_method
from ember._tensor import Tensor, layout, wrap_dim
from ember._tensor_str import _tensor_str, get_printoptions

sparse_coo = layout("sparse_coo")


class SparseParts:
    """What COO and compressed sparse tensors share (a mixin placed before Tensor in the bases):
    the shape is `_sparse_shape`; dtype, requires_grad, grad_fn and is_leaf are those of the
    stored values, the one dense tensor autograd sees."""

    @property
    def shape(self) -> Size:
        return Size(self._sparse_shape)

    def size(self, dim=None):
        """The shape, or one dimension of it (matches `torch.Tensor.size`)."""
        if dim is None:
            return Size(self._sparse_shape)
        return self._sparse_shape[wrap_dim(dim, len(self._sparse_shape))]

    @property
    def dtype(self):
        return self._sparse_values.dtype

    @property
    def device(self):
        return CPU

    @property
    def requires_grad(self) -> bool:
        return self._sparse_values.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._sparse_values.requires_grad = value

    def requires_grad_(self, requires_grad: bool = True):
        """Set requires_grad on the values; return self (matches `Tensor.requires_grad_`)."""
        self._sparse_values.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._sparse_values.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._sparse_values.grad_fn is None


class SparseCooTensor(SparseParts, Tensor):
    """A tensor stored as coordinates and values (matches a `torch.sparse_coo` tensor)."""

    __slots__ = ("_sparse_indices", "_sparse_values", "_sparse_shape", "_sparse_coalesced")

    @classmethod
    def _make_sparse(cls, indices, values: Tensor, shape, coalesced=False):
        """Wrap an int64 (sparse_dim, nnz) array and a values Tensor, unchecked."""
        t = object.__new__(cls)
        t._sparse_indices = indices
        t._sparse_values = values
        t._sparse_shape = tuple(int(n) for n in shape)
        t._sparse_coalesced = bool(coalesced)
        return t

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def layout(self):
        return sparse_coo

    @property
    def is_sparse(self) -> bool:
        return True

    def dim(self) -> int:
        return len(self._sparse_shape)

    ndimension = dim

    @property
    def ndim(self) -> int:
        return len(self._sparse_shape)

    def numel(self) -> int:
        n = 1
        for d in self._sparse_shape:
            n *= d
        return n

    nelement = numel

    def __len__(self):
        if not self._sparse_shape:
            raise TypeError("len() of a 0-d tensor")
        return self._sparse_shape[0]

    def sparse_dim(self) -> int:
        """How many leading dims are indexed (matches `Tensor.sparse_dim`)."""
        return int(self._sparse_indices.shape[0])

    def dense_dim(self) -> int:
        """How many trailing dims each value has (matches `Tensor.dense_dim`)."""
        return self._sparse_values.dim() - 1

    def _nnz(self) -> int:
        """The number of stored entries, repeats included (matches `Tensor._nnz`)."""
        return int(self._sparse_indices.shape[1])

    def is_coalesced(self) -> bool:
        """Whether positions are unique and sorted (matches `Tensor.is_coalesced`)."""
        return self._sparse_coalesced

    def _indices(self) -> Tensor:
        """The (sparse_dim, nnz) int64 indices as stored (matches `Tensor._indices`)."""
        return Tensor._make(self._sparse_indices)

    def _values(self) -> Tensor:
        """The (nnz, *dense) values as stored, with their autograd (matches `Tensor._values`)."""
        return self._sparse_values

    def indices(self) -> Tensor:
        """The indices of a coalesced tensor (matches `Tensor.indices`)."""
        self._require_coalesced("indices")
        return self._indices()

    def values(self) -> Tensor:
        """The values of a coalesced tensor (matches `Tensor.values`)."""
        self._require_coalesced("values")
        return self._sparse_values

    def _require_coalesced(self, what):
        if not self._sparse_coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call "
                               f".coalesce() first")

    # ---- autograd: the values' ----------------------------------------------------------------
    @property
    def grad(self):
        """The values' gradient at the same indices (PyTorch's masked sparse gradient)."""
        g = self._sparse_values.grad
        if g is None:
            return None
        if self._sparse_coalesced:
            return SparseCooTensor._make_sparse(self._sparse_indices, g, self._sparse_shape, True)
        # repeats of a position share its gradient: keep one, at sorted unique positions
        sparse_shape = self._sparse_shape[:self.sparse_dim()]
        keys = xp.ravel_multi_index(tuple(self._sparse_indices), sparse_shape)
        unique, first = xp.unique(keys, return_index=True)
        indices = xp.stack(xp.unravel_index(unique, sparse_shape)).astype(xp.int64)
        # (unique and sorted, yet flagged uncoalesced, as PyTorch flags it)
        return SparseCooTensor._make_sparse(indices.reshape(len(sparse_shape), -1),
                                            Tensor._make(g._data[first]), self._sparse_shape)

    @grad.setter
    def grad(self, value):
        self._sparse_values.grad = None if value is None else value._values()

    def detach(self):
        """The same entries cut from the graph (matches `Tensor.detach`)."""
        return SparseCooTensor._make_sparse(self._sparse_indices, self._sparse_values.detach(),
                                            self._sparse_shape, self._sparse_coalesced)

    def __hash__(self):
        return id(self)

    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __repr__(self, *, tensor_contents=None):
        """`tensor(indices=..., values=..., size=..., nnz=..., layout=torch.sparse_coo)` as
        PyTorch prints it: indices and values laid out under their own `tensor(`."""
        indent = len("tensor(")
        parts = []
        for name, array in (("indices", self._sparse_indices),
                            ("values", self._sparse_values._data)):
            prefix = f"{name}=tensor("
            body = _tensor_str(array, indent + len(prefix))
            if array.size == 0:
                body += f", size={tuple(array.shape)}"
            parts.append(prefix + body + ")")
        suffixes = [f"size={tuple(self._sparse_shape)}", f"nnz={self._nnz()}"]
        default = _dtype.get_default_dtype()
        if self.dtype not in (default, _dtype.int64, _dtype.bool, default.to_complex()):
            suffixes.append(f"dtype={self.dtype}")
        suffixes.append("layout=torch.sparse_coo")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name().rsplit('::', 1)[-1]}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _suffixes_below("tensor(" + (",\n" + " " * indent).join(parts), suffixes, indent)

    def __format__(self, spec):
        return object.__format__(self, spec) if spec else repr(self)

    def __deepcopy__(self, memo):
        new = SparseCooTensor._make_sparse(self._sparse_indices.copy(),
                                           copy.deepcopy(self._sparse_values, memo),
                                           self._sparse_shape, self._sparse_coalesced)
        memo[id(self)] = new
        return new

    def __getattr__(self, name):
        # A dense op reached a sparse tensor: it reads one of Tensor's slots, never set here.
        if name in Tensor.__slots__:
            raise NotImplementedError(
                "ember: this operation is not implemented for sparse COO tensors "
                "(layout=torch.sparse_coo); call .to_dense() first")
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")


def _suffixes_below(text, suffixes, indent) -> str:
    """`, suffix` items starting on a new line, then filling lines up to the line width."""
    width = get_printoptions()["linewidth"]
    parts, line = [text, ",\n" + " " * indent + suffixes[0]], indent + len(suffixes[0])
    for suffix in suffixes[1:]:
        if line + len(suffix) + 2 > width:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"


# ---- the sparse API on dense tensors, as PyTorch answers it ------------------------------------
@tensor_method("sparse_dim")
def dense_sparse_dim(self) -> int:
    """A dense tensor has no sparse dims (matches `Tensor.sparse_dim`)."""
    return 0


@tensor_method("dense_dim")
def dense_dense_dim(self) -> int:
    """Every dim of a dense tensor is dense (matches `Tensor.dense_dim`)."""
    return self._data.ndim


def _needs_sparse(name, word="sparse coordinate tensor"):
    """A method of sparse tensors only: RuntimeError on a dense one, worded as PyTorch's."""

    def method(self, *args, **kwargs):
        raise RuntimeError(f"{name} expected {word} layout but got Strided")

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Only for sparse tensors: a dense tensor raises (matches `Tensor.{name}`)."
    return method


def _no_kernel(name):
    """A sparse-only kernel: NotImplementedError on a dense tensor, as PyTorch raises."""

    def method(self, *args, **kwargs):
        raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the 'CPU' "
                                  f"backend: it runs only on sparse tensors")

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Only for sparse tensors: a dense tensor raises (matches `Tensor.{name}`)."
    return method


for _name in ("is_coalesced", "coalesce", "indices"):
    tensor_method(_name)(_needs_sparse(_name))
tensor_method("values")(_needs_sparse("values", "sparse tensor"))
for _name in ("_nnz", "_indices", "_values"):
    tensor_method(_name)(_no_kernel(_name))
