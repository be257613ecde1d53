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
PyTorch's masked gradient (`torch.sparse.mm`, `to_dense`, `values`), unless a dense gradient
reached it (NOTE [Dense gradients of sparse tensors]).

NOTE [Dense gradients of sparse tensors]
In PyTorch the gradient of a sparse tensor is whatever the backward of its consumer returns:
`Tensor.sum()`, `torch.mm`/`matmul`/`mv` and `dense + sparse` send back a dense (strided)
gradient of the whole shape, and the elementwise ops (`*` by a number or a dense tensor, `/`,
`-`, `clone`, `coalesce`, `t`, `to`, `sparse + sparse`, `torch.mm` of two sparse tensors,
`sampled_addmm`'s input, and `to_sparse` of a dense tensor) pass a dense gradient on whole, so a
sparse leaf ends with a dense `.grad`, nonzero off its pattern too. `to_dense`, `values`,
`torch.sparse.mm`/`addmm`/`sum`/`softmax` and the constructors from values send a sparse
gradient masked to the pattern, which the values carry. ember keeps the values' graph and adds
a *dense face* (`_dense_face()`): a dense tensor equal to `to_dense()` through which a
gradient reaches the tensor whole. A leaf's face is a dense leaf kept on it, and its `.grad` is
that leaf's gradient plus the values' one scattered (dense + sparse = dense, as PyTorch
accumulates); an op output that passes a dense gradient on holds a recipe building its face
from its inputs' faces (`with_dense_face`); any other tensor's face is `to_dense()`, whose
gradient the values carry masked. The dense-gradient consumers use the face only when it
leads somewhere (`_needs_dense_face`: grad mode on and a leaf or a recipe behind it), so sparse
products whose values require grad keep their sparse kernels. Conversions between sparse
layouts keep the values' path: PyTorch gives a leaf the dense gradient converted to its layout
(every nonzero, off the pattern too); ember gives the same layout with the pattern's entries.
"""

import copy

from ember._warnings import warn as _warn

from ember import _dtype
from ember._backend import xp
from ember._device import CPU, Size
from ember._registry import tensor_method
from ember._tensor import Tensor, layout, wrap_dim
from ember._tensor_str import _tensor_str, get_printoptions
from ember.autograd.grad_mode import is_grad_enabled

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
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True):
        """Set requires_grad on the values; return self (matches `Tensor.requires_grad_`)."""
        self._sparse_values.requires_grad = requires_grad
        if self._dense_recipe is MASKED:  # made a leaf of its own
            self._dense_recipe = None
        return self

    @property
    def grad_fn(self):
        return self._sparse_values.grad_fn

    @property
    def _version_counter(self):
        """The values' version counter: what saving for backward and `_version` read."""
        return self._sparse_values._version_counter

    @property
    def is_leaf(self) -> bool:
        return self._sparse_values.grad_fn is None

    # ---- the dense face (NOTE [Dense gradients of sparse tensors]) -----------------------------
    def _needs_dense_face(self) -> bool:
        """Whether a dense gradient sent to this tensor reaches a leaf whole."""
        recipe = self._dense_recipe
        return recipe is not MASKED and is_grad_enabled() and self.requires_grad and (
            recipe is not None or self.is_leaf)

    def _dense_face(self) -> Tensor:
        """`to_dense()`, through which a dense gradient reaches this tensor whole."""
        if not self._needs_dense_face():
            return self.to_dense()
        if self._dense_recipe is not None:
            if self._dense_cache is None:
                self._dense_cache = self._dense_recipe()
            return self._dense_cache
        return self._dense_face_leaf()

    def _merged_grad(self, sparse_grad):
        """A leaf's gradient: the values' (sparse) plus its dense face's (dense + sparse)."""
        dense = None if self._dense_leaf is None else self._dense_leaf.grad
        if dense is None:
            return sparse_grad
        return dense if sparse_grad is None else dense + sparse_grad.detach().to_dense()

    def _set_dense_grad(self, value) -> bool:
        """`.grad = value`: a dense value goes to the dense face; False for a sparse one."""
        if value is not None and value.layout.name == "strided":
            self._dense_face_leaf().grad = value
            self._sparse_values.grad = None
            return True
        if self._dense_leaf is not None:
            self._dense_leaf.grad = None
        return False

    def _dense_face_leaf(self) -> Tensor:
        """The dense leaf a leaf's dense gradients accumulate in, holding `to_dense()`."""
        data = self.detach().to_dense()._data
        if self._dense_leaf is None:
            self._dense_leaf = Tensor._make(data, requires_grad=True)
        self._dense_leaf._data = data  # refreshed: the values may have changed in place
        return self._dense_leaf


# The recipe of a tensor sharing the values of another that requires grad (a layout conversion):
# its face is to_dense(), masked, even when those values are a leaf's
MASKED = "masked"

# torch.sparse.check_sparse_tensor_invariants' global switch: constructors given no
# check_invariants= validate their indices when it is on (off by default, as in PyTorch).
# "explicit": the program turned it on or off itself (enable(), disable(), the context
# manager), after which torch no longer warns that the checks are implicitly off
INVARIANT_CHECKS = {"enabled": False, "explicit": False, "warned": False}

_IMPLICIT_WARNING = (
    "Sparse invariant checks are implicitly disabled. Memory errors (e.g. SEGFAULT) will occur "
    "when operating on a sparse tensor which violates the invariants, but checks incur "
    "performance overhead. To silence this warning, explicitly opt in or out. See "
    "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance.  (Triggered internally "
    "at /__w/pytorch/pytorch/aten/src/ATen/Context.cpp:816.)")


def checks_invariants(flag, stacklevel=3) -> bool:
    """Whether a constructor called with check_invariants=flag validates its indices. Given
    no flag while the program never chose, torch warns once per process (TORCH_WARN_ONCE) at
    the line calling the constructor (`stacklevel` frames up from the caller of this)."""
    if flag is not None:
        return bool(flag)
    if not INVARIANT_CHECKS["explicit"] and not INVARIANT_CHECKS["warned"]:
        INVARIANT_CHECKS["warned"] = True
        _warn(_IMPLICIT_WARNING, UserWarning, stacklevel=stacklevel)
    return INVARIANT_CHECKS["enabled"]


def masked_face(out, source):
    """out, a conversion of source sharing its values: no leaf of its own while source needs
    grad (NOTE [Dense gradients of sparse tensors])."""
    if source.requires_grad:
        out._dense_recipe = MASKED
    return out


def _needs_face(x) -> bool:
    """A dense source needs its face when it requires grad; a sparse one when it leads on."""
    if isinstance(x, SparseParts):
        return x._needs_dense_face()
    return isinstance(x, Tensor) and is_grad_enabled() and x.requires_grad


def with_dense_face(out, recipe, *sources):
    """out, holding `recipe` (its dense face from the sources') when a source needs a face."""
    if any(_needs_face(x) for x in sources):
        out._dense_recipe = recipe
    return out


class SparseCooTensor(SparseParts, Tensor):
    """A tensor stored as coordinates and values (matches a `torch.sparse_coo` tensor)."""

    __slots__ = ("_sparse_indices", "_sparse_values", "_sparse_shape", "_sparse_coalesced",
                 "_dense_leaf", "_dense_recipe", "_dense_cache")

    @classmethod
    def _make_sparse(cls, indices, values: Tensor, shape, coalesced=False):
        """Wrap an int64 (sparse_dim, nnz) array and a values Tensor, unchecked."""
        t = object.__new__(cls)
        t._sparse_indices = indices
        t._sparse_values = values
        t._sparse_shape = tuple(int(n) for n in shape)
        t._sparse_coalesced = bool(coalesced)
        t._dense_leaf = t._dense_recipe = t._dense_cache = None
        return t

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def layout(self):
        return sparse_coo

    @property
    def is_sparse(self) -> bool:
        return True

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
        """The values' gradient at the same indices (PyTorch's masked sparse gradient), dense
        when a dense gradient reached the tensor (NOTE [Dense gradients of sparse tensors])."""
        return self._merged_grad(self._values_grad())

    def _values_grad(self):
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
        if not self._set_dense_grad(value):
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
