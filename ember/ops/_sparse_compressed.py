"""Sparse compressed tensors: CSR and CSC matrices (matches a `torch.Tensor` of layout
`torch.sparse_csr` / `torch.sparse_csc`), their metadata and printing. The ops on them are in
`ember.ops.sparse_compressed`.

NOTE [Compressed sparse matrices]
A CSR matrix of shape (m, n) stores its nnz entries row by row: `values` (nnz,), their column
indices `col_indices` (nnz,), and `crow_indices` (m + 1,), where the entries of row i are
positions crow_indices[i] to crow_indices[i+1]. CSC is the same with rows and columns swapped
(`ccol_indices`, `row_indices`). As for COO tensors (NOTE [Sparse COO tensors are a Tensor
subclass holding a values Tensor]), the class subclasses Tensor without setting `_data`, and its
autograd is the values' (and a dense face, NOTE [Dense gradients of sparse tensors] in
`ember.ops._sparse_coo`). ember keeps 2-D matrices with scalar values, PyTorch's common case;
batched and hybrid (block) compressed tensors raise NotImplementedError.
"""

import copy

from ember import _dtype
from ember._warnings import warn_at_caller
from ember._tensor import Tensor, layout
from ember._tensor_str import _tensor_str, get_printoptions
from ember.ops._sparse_coo import SparseParts

sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
_BETA_WARNED = [False]
_WORDS = {"sparse_csr": "SparseCsr", "sparse_csc": "SparseCsc", "sparse_coo": "Sparse",
          "strided": "Strided"}


def warn_beta(kind) -> None:
    """torch's warning on making its first compressed tensor (TORCH_WARN_ONCE), naming that
    tensor's layout, at the program's line; its COO × COO product makes a CSR one inside."""
    if not _BETA_WARNED[0]:
        _BETA_WARNED[0] = True
        warn_at_caller(f"Sparse {kind.name[7:].upper()} tensor support is in beta state. If "
                       "you miss a functionality in the sparse tensor support, please submit a "
                       "feature request to https://github.com/pytorch/pytorch/issues. "
                       "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/"
                       "SparseCsrTensorImpl.cpp:49.)", UserWarning)


def layout_word(t) -> str:
    """PyTorch's word for a tensor's layout in error messages: Strided, Sparse, SparseCsr..."""
    return _WORDS.get(t.layout.name, t.layout.name)


class SparseCompressedTensor(SparseParts, Tensor):
    """A CSR or CSC matrix (NOTE [Compressed sparse matrices])."""

    __slots__ = ("_compressed", "_plain", "_sparse_values", "_sparse_shape", "_layout",
                 "_dense_leaf", "_dense_recipe", "_dense_cache")

    @classmethod
    def _make_compressed(cls, compressed, plain, values: Tensor, shape, kind):
        """Wrap int64 compressed/plain index arrays and a values Tensor, unchecked."""
        t = object.__new__(cls)
        t._compressed = compressed
        t._plain = plain
        t._sparse_values = values
        t._sparse_shape = tuple(int(n) for n in shape)
        t._layout = kind
        t._dense_leaf = t._dense_recipe = t._dense_cache = None
        warn_beta(kind)
        return t

    # ---- metadata -----------------------------------------------------------------------------
    @property
    def layout(self):
        return self._layout

    @property
    def is_sparse(self) -> bool:
        return False  # torch's is_sparse means COO

    @property
    def is_sparse_csr(self) -> bool:
        return self._layout is sparse_csr

    def sparse_dim(self) -> int:
        """The two compressed dims (matches `Tensor.sparse_dim`)."""
        return 2

    def dense_dim(self) -> int:
        """Scalar values: no dense dims (matches `Tensor.dense_dim`)."""
        return 0

    def _nnz(self) -> int:
        """The number of stored entries (matches `Tensor._nnz`)."""
        return int(self._plain.shape[0])

    def values(self) -> Tensor:
        """The stored values, with their autograd (matches `Tensor.values`)."""
        return self._sparse_values

    def _check_layout(self, name, kind, word):
        if self._layout is not kind:
            raise RuntimeError(f"{name} expected sparse {word} compressed tensor layout but got "
                               f"{layout_word(self)}")

    def crow_indices(self) -> Tensor:
        """Where each row's entries start (matches `Tensor.crow_indices`)."""
        self._check_layout("crow_indices", sparse_csr, "row")
        return Tensor._make(self._compressed)

    def col_indices(self) -> Tensor:
        """The column of each entry (matches `Tensor.col_indices`)."""
        self._check_layout("col_indices", sparse_csr, "row")
        return Tensor._make(self._plain)

    def ccol_indices(self) -> Tensor:
        """Where each column's entries start (matches `Tensor.ccol_indices`)."""
        self._check_layout("ccol_indices", sparse_csc, "column")
        return Tensor._make(self._compressed)

    def row_indices(self) -> Tensor:
        """The row of each entry (matches `Tensor.row_indices`)."""
        self._check_layout("row_indices", sparse_csc, "column")
        return Tensor._make(self._plain)

    def numpy(self, *, force=False):
        raise TypeError(f"can't convert {layout_word(self)} layout tensor to numpy. Use "
                        "Tensor.to_dense() first.")

    # ---- autograd: the values', and a dense face (NOTE [Dense gradients of sparse tensors]) ----
    @property
    def grad(self):
        """The values' gradient at the same positions (PyTorch's masked sparse gradient), dense
        when a dense gradient reached the matrix."""
        g = self._sparse_values.grad
        return self._merged_grad(None if g is None else self._with_values(g))

    @grad.setter
    def grad(self, value):
        if not self._set_dense_grad(value):
            self._sparse_values.grad = None if value is None else value.values()

    def detach(self):
        """The same entries cut from the graph (matches `Tensor.detach`)."""
        return self._with_values(self._sparse_values.detach())

    def _with_values(self, values: Tensor):
        return SparseCompressedTensor._make_compressed(self._compressed, self._plain, values,
                                                       self._sparse_shape, self._layout)

    def __hash__(self):
        return id(self)

    def __repr__(self, *, tensor_contents=None):
        """torch's print form: the two index tensors and the values, then the suffixes."""
        indent = len("tensor(")
        compressed, plain = (("crow", "col") if self._layout is sparse_csr else ("ccol", "row"))
        parts = []
        for name, array in ((compressed, self._compressed), (plain, self._plain),
                            ("values", self._sparse_values._data)):
            prefix = f"{name}_indices=tensor(" if name != "values" else "values=tensor("
            body = _tensor_str(array, indent + len(prefix))
            if array.size == 0:
                body += f", size={tuple(array.shape)}"
            parts.append(prefix + body + ")")
        suffixes = [f"size={tuple(self._sparse_shape)}", f"nnz={self._nnz()}"]
        default = _dtype.get_default_dtype()
        if self.dtype not in (default, _dtype.int64, _dtype.bool, default.to_complex()):
            suffixes.append(f"dtype={self.dtype}")
        suffixes.append(f"layout=torch.{self._layout.name}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name().rsplit('::', 1)[-1]}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        return _with_suffixes("tensor(" + (",\n" + " " * indent).join(parts), suffixes, indent)

    def __format__(self, spec):
        return object.__format__(self, spec) if spec else repr(self)

    def __deepcopy__(self, memo):
        new = SparseCompressedTensor._make_compressed(
            self._compressed.copy(), self._plain.copy(), copy.deepcopy(self._sparse_values, memo),
            self._sparse_shape, self._layout)
        memo[id(self)] = new
        return new

    def __getattr__(self, name):
        # A dense op reached a compressed tensor: it reads one of Tensor's slots, never set here.
        if name in Tensor.__slots__:
            raise NotImplementedError(
                f"ember: this operation is not implemented for {self._layout.name} tensors; "
                "call .to_dense() first")
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")


def _with_suffixes(text, suffixes, indent) -> str:
    """`, suffix` items filling the last line up to the line width (torch's _add_suffixes)."""
    width = get_printoptions()["linewidth"]
    parts = [text]
    line = len(text) - text.rfind("\n") + 1  # torch counts one more than the line's length
    for suffix in suffixes:
        if line + len(suffix) + 2 > width:
            parts.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(parts) + ")"
