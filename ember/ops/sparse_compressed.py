"""CSR and CSC matrices: construction (`torch.sparse_csr_tensor`, `torch.sparse_csc_tensor`,
`Tensor.to_sparse_csr`/`to_sparse_csc`), conversions between COO, CSR, CSC and dense, and
`Tensor.sparse_mask` (see NOTE [Compressed sparse matrices] in `ember.ops._sparse_compressed`).

NOTE [Compressed matrices through COO]
Every op on a compressed matrix goes through its coalesced COO form: the row of each CSR entry
is its position in `crow_indices` (a `repeat` of the row numbers), so CSR's entries *are* COO's
row-major order and the values Tensor is shared as is. CSC's entries are column-major: its COO
form reorders them with a gather (`GatherRows`), so gradients flow back to the CSC values.
"""

from ember import _dtype
from ember._backend import xp
from ember._device import check_device
from ember._registry import tensor_method, torch_function
from ember._tensor import Tensor
from ember.ops._sparse_coo import (SparseCooTensor, checks_invariants, masked_face, sparse_coo,
                                   with_dense_face)
from ember.ops._sparse_compressed import (_WORDS, SparseCompressedTensor, layout_word,
                                          sparse_csc, sparse_csr)
from ember.ops.conversion import cast
from ember.ops.creation import tensor as new_tensor
from ember.ops.sparse import GatherRows, SparseValues, refuse_complex_grad
from ember.ops.sparse import to_sparse as _coo_from_dense


def _compressed_method(*names):
    """Decorator: make the function `SparseCompressedTensor.<name>` for each name."""

    def bind(fn):
        for name in names or (fn.__name__,):
            setattr(SparseCompressedTensor, name, fn)
        return fn

    return bind


def _expand_compressed(compressed):
    """The compressed-dim index of every entry: i repeated crow[i+1] - crow[i] times."""
    return xp.repeat(xp.arange(compressed.shape[0] - 1, dtype=xp.int64), xp.diff(compressed))


def _compress(index, length):
    """crow/ccol indices of sorted entry positions along a dim of `length`."""
    counts = xp.bincount(index, minlength=length)
    return xp.concatenate([xp.zeros(1, dtype=xp.int64), xp.cumsum(counts)]).astype(xp.int64)


def _require_matrix(t, name):
    if t.dim() != 2:
        raise NotImplementedError(f"ember: {name} supports 2-D matrices only (PyTorch's batched "
                                  f"and hybrid compressed tensors are not implemented), got "
                                  f"{t.dim()}-D")


# ---- COO <-> compressed ---------------------------------------------------------------------
def coo_of(t: SparseCompressedTensor) -> SparseCooTensor:
    """The coalesced COO form of a compressed matrix (NOTE [Compressed matrices through COO])."""
    compressed = _expand_compressed(t._compressed)
    if t._layout is sparse_csr:
        rows, cols, values = compressed, t._plain, t._sparse_values
    else:
        rows, cols = t._plain, compressed
        order = xp.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        values = GatherRows.apply(t._sparse_values, order)
    keys = rows * t._sparse_shape[1] + cols
    coalesced = bool(keys.size <= 1 or (xp.diff(keys) > 0).all())
    return masked_face(SparseCooTensor._make_sparse(xp.stack([rows, cols]).astype(xp.int64),
                                                    values, t._sparse_shape, coalesced), t)


def compressed_of(s: SparseCooTensor, kind) -> SparseCompressedTensor:
    """A 2-D COO matrix as CSR or CSC (coalesced first)."""
    _require_matrix(s, f"to_{kind.name}")
    if s.dense_dim():
        raise NotImplementedError("ember: compressed tensors with dense dims are not implemented")
    s = s if s.is_coalesced() else s.coalesce()
    rows, cols = s._sparse_indices
    m, n = s._sparse_shape
    if kind is sparse_csr:
        out = SparseCompressedTensor._make_compressed(_compress(rows, m), cols.copy(),
                                                      s._sparse_values, (m, n), kind)
    else:
        order = xp.lexsort((rows, cols))
        values = GatherRows.apply(s._sparse_values, order)
        out = SparseCompressedTensor._make_compressed(_compress(cols[order], n),
                                                      rows[order].copy(), values, (m, n), kind)
    return masked_face(out, s)


def _as_coo(t):
    """Any tensor as COO: compressed through coo_of, dense through to_sparse."""
    if isinstance(t, SparseCooTensor):
        return t
    if isinstance(t, SparseCompressedTensor):
        return coo_of(t)
    return _coo_from_dense(t)


def _to_compressed(self, kind):
    if isinstance(self, SparseCompressedTensor) and self._layout is kind:
        return self
    if isinstance(self, SparseCompressedTensor):
        return compressed_of(coo_of(self), kind)
    _require_matrix(self, f"to_{kind.name}")
    refuse_complex_grad(self, f"_to_{kind.name}")
    out = compressed_of(_as_coo(self), kind)
    if isinstance(self, SparseCooTensor):
        return out
    out._dense_recipe = None  # from a dense tensor: a dense gradient reaches self whole
    return with_dense_face(out, lambda: self, self)


@tensor_method("to_sparse_csr")
def to_sparse_csr(self, dense_dim=None) -> Tensor:
    """The matrix in CSR form (matches `Tensor.to_sparse_csr`)."""
    return _to_compressed(self, sparse_csr)


@tensor_method("to_sparse_csc")
def to_sparse_csc(self, dense_dim=None) -> Tensor:
    """The matrix in CSC form (matches `Tensor.to_sparse_csc`)."""
    return _to_compressed(self, sparse_csc)


for _cls in (SparseCooTensor, SparseCompressedTensor):
    _cls.to_sparse_csr = to_sparse_csr
    _cls.to_sparse_csc = to_sparse_csc

_COO_TO_SPARSE = Tensor.to_sparse


@tensor_method("to_sparse")
def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The tensor as a sparse tensor of `layout` (COO by default; matches `Tensor.to_sparse`)."""
    if layout is sparse_csr or layout is sparse_csc:
        if not isinstance(self, (SparseCooTensor, SparseCompressedTensor)):
            refuse_complex_grad(self, "_to_sparse")  # torch names the generic conversion
        return _to_compressed(self, layout)
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"ember: to_sparse with layout {layout} is not implemented")
    if sparse_dim is not None:  # torch's two overloads: (sparse_dim) or keywords only
        return _COO_TO_SPARSE(self, sparse_dim)
    return _COO_TO_SPARSE(self, blocksize=blocksize, dense_dim=dense_dim)


@_compressed_method("to_sparse", "to_sparse_coo")
def compressed_to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The matrix as COO (or another compressed layout) (matches `Tensor.to_sparse`)."""
    if layout is sparse_csr or layout is sparse_csc:
        return _to_compressed(self, layout)
    return coo_of(self)


@_compressed_method()
def to_dense(self, dtype=None, *, masked_grad=None):
    """The dense matrix (matches `Tensor.to_dense`); gradients reach the values."""
    return coo_of(self).to_dense(dtype)


@_compressed_method()
def clone(self, *, memory_format=None):
    """A copy with its own values (matches `Tensor.clone`)."""
    out = SparseCompressedTensor._make_compressed(
        self._compressed.copy(), self._plain.copy(), self._sparse_values.clone(),
        self._sparse_shape, self._layout)
    return with_dense_face(out, lambda: self._dense_face().clone(), self)


@_compressed_method()
def to(self, *args, **kwargs):
    """The matrix with its values converted (matches `Tensor.to`)."""
    values = self._sparse_values.to(*args, **kwargs)
    if values is self._sparse_values:
        return self
    return with_dense_face(self._with_values(values),
                           lambda: self._dense_face().to(*args, **kwargs), self)


def _compressed_only(name, word):
    """The index accessor on a dense or COO tensor: torch's RuntimeError."""

    def method(self):
        raise RuntimeError(f"{name} expected sparse {word} compressed tensor layout but got "
                           f"{layout_word(self)}")

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Only for compressed tensors: others raise (matches `Tensor.{name}`)."
    return method


for _name, _word in (("crow_indices", "row"), ("col_indices", "row"),
                     ("ccol_indices", "column"), ("row_indices", "column")):
    tensor_method(_name)(_compressed_only(_name, _word))


@_compressed_method("__mul__", "__rmul__", "mul")
def compressed_mul(self, other):
    """The product with a number or a dense tensor of the same shape, at the stored entries
    only (matches `Tensor.mul` of a compressed tensor); gradients reach both."""
    if isinstance(other, Tensor) and not isinstance(other, (SparseCooTensor,
                                                            SparseCompressedTensor)):
        if self._layout is sparse_csc:  # torch 2.13 has no CSC kernel for this
            raise RuntimeError("Expected result Tensor to be of format CSR")
        if tuple(other.shape) != tuple(self.shape):
            raise NotImplementedError("ember: a compressed tensor times a dense tensor of "
                                      "another shape is not implemented")
        coo = coo_of(self)
        rows, cols = coo._sparse_indices
        picked = GatherRows.apply(other.reshape(-1), rows * self._sparse_shape[1] + cols)
        out = self._with_values(self._sparse_values * picked)
    elif isinstance(other, (int, float, bool)):
        out = self._with_values(self._sparse_values * other)
    else:
        raise NotImplementedError(f"ember: {self._layout.name} times {type(other).__name__} is "
                                  "not implemented")
    return with_dense_face(out, lambda: self._dense_face() * other, self)


@_compressed_method()
def sum(self, dim=None, keepdim=False, dtype=None):
    """The sum of the stored entries (matches `Tensor.sum` with no dim)."""
    if dim is not None:
        raise NotImplementedError(f"ember: sum over a dim of a {self._layout.name} tensor is "
                                  "not implemented; call .to_dense() first")
    if self._needs_dense_face():  # torch's gradient of a sum is dense
        return self._dense_face().sum(dtype=dtype)
    return self._sparse_values.sum(dtype=dtype)


# ---- construction ---------------------------------------------------------------------------
def _index_array(x):
    return (x._data if isinstance(x, Tensor) else new_tensor(x)._data).astype(xp.int64)


def _compressed_tensor(name, kind, compressed, plain, values, size, dtype, device,
                       requires_grad, check_invariants):
    check_device(device)
    checked = checks_invariants(check_invariants, stacklevel=4)  # (warns before any error)
    compressed, plain = _index_array(compressed), _index_array(plain)
    if not isinstance(values, Tensor):
        values = new_tensor(values, dtype=dtype)
    elif dtype is not None and values.dtype is not _dtype.to_dtype(dtype):
        values = cast(values, _dtype.to_dtype(dtype))
    if compressed.ndim != 1 or plain.ndim != 1 or values.dim() != 1:
        raise NotImplementedError(f"ember: {name} supports 2-D matrices with scalar values only")
    if plain.shape[0] != values.shape[0]:
        raise RuntimeError(f"{name}: expected values and plain indices to have the same number "
                           f"of elements, got {values.shape[0]} and {plain.shape[0]}")
    if size is None:
        other = int(plain.max()) + 1 if plain.size else 0
        size = (compressed.shape[0] - 1, other) if kind is sparse_csr else \
            (other, compressed.shape[0] - 1)
    size = tuple(int(n) for n in size)
    if checked:
        _check_compressed(compressed, plain, size, kind)
    if requires_grad:
        values = values.detach().requires_grad_(True)
    elif values.requires_grad:
        values = SparseValues.apply(values)
    return SparseCompressedTensor._make_compressed(compressed, plain, values, size, kind)


def _check_compressed(compressed, plain, size, kind):
    """PyTorch's invariants of compressed indices (a subset of its checks)."""
    length = size[0] if kind is sparse_csr else size[1]
    word = "crow_indices" if kind is sparse_csr else "ccol_indices"
    if compressed.shape[0] != length + 1:
        raise RuntimeError(f"{word}.size(-1) == compressed_dim_size + 1 is not satisfied.")
    if compressed[0] != 0:
        raise RuntimeError(f"`{word}[..., 0] == 0` is not satisfied.")
    if compressed[-1] != plain.shape[0]:
        raise RuntimeError(f"`{word}[..., -1] == nnz` is not satisfied.")
    _check_plain(compressed, plain, size, kind, word)


def _check_plain(compressed, plain, size, kind, word):
    """The slice lengths and the plain indices: in range, sorted and distinct in each slice."""
    csr = kind is sparse_csr
    plain_word, other, count = ("col_indices", "ncols", "nrows") if csr else \
        ("row_indices", "nrows", "ncols")
    plain_size = size[1 if csr else 0]
    steps = xp.diff(compressed)
    if (steps < 0).any() or (steps > plain_size).any():
        raise RuntimeError(f"`0 <= {word}[..., 1:] - {word}[..., :-1] <= {other}` is not "
                           "satisfied.")
    if plain.size and (plain.min() < 0 or plain.max() >= plain_size):
        raise RuntimeError(f"`0 <= {plain_word} < {other}` is not satisfied.")
    slice_of = xp.repeat(xp.arange(steps.shape[0]), steps)  # the slice of each entry
    if (xp.diff(plain)[slice_of[1:] == slice_of[:-1]] <= 0).any():
        raise RuntimeError(f"`{plain_word}[..., {word}[..., i - 1]:{word}[..., i]] for all i = 1, "
                           f"..., {count} are sorted and distinct along the last dimension "
                           "values` is not satisfied.")


@torch_function()
def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, layout=None,
                      device=None, pin_memory=False, requires_grad=False, check_invariants=None):
    """A CSR matrix (matches `torch.sparse_csr_tensor`)."""
    return _compressed_tensor("sparse_csr_tensor", sparse_csr, crow_indices, col_indices, values,
                              size, dtype, device, requires_grad, check_invariants)


@torch_function()
def sparse_csc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None, layout=None,
                      device=None, pin_memory=False, requires_grad=False, check_invariants=None):
    """A CSC matrix (matches `torch.sparse_csc_tensor`)."""
    return _compressed_tensor("sparse_csc_tensor", sparse_csc, ccol_indices, row_indices, values,
                              size, dtype, device, requires_grad, check_invariants)


@torch_function()
def sparse_compressed_tensor(compressed_indices, plain_indices, values, size=None, *, dtype=None,
                             layout=None, device=None, pin_memory=False, requires_grad=False,
                             check_invariants=None):
    """A CSR or CSC matrix, by `layout` (matches `torch.sparse_compressed_tensor`; ember has no
    block layouts)."""
    if layout is not sparse_csr and layout is not sparse_csc:
        word = "none" if layout is None else _WORDS.get(layout.name, layout.name)
        raise RuntimeError("sparse_compressed_tensor expected sparse compressed tensor layout "
                           f"but got {word}")
    name = "sparse_csr_tensor" if layout is sparse_csr else "sparse_csc_tensor"
    return _compressed_tensor(name, layout, compressed_indices, plain_indices, values, size,
                              dtype, device, requires_grad, check_invariants)


# ---- sparse_mask ----------------------------------------------------------------------------
@tensor_method("sparse_mask")
def sparse_mask(self, mask) -> Tensor:
    """self's values at mask's positions, in mask's layout (matches `Tensor.sparse_mask`);
    gradients reach self at those positions."""
    if not isinstance(mask, (SparseCooTensor, SparseCompressedTensor)):
        raise NotImplementedError("Could not run 'aten::sparse_mask' with arguments from the "
                                  f"'CPU' backend: mask has layout {layout_word(mask)}")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(self.shape)} but mask has size {list(mask.shape)}")
    dense = self if type(self) is Tensor else self.to_dense()
    coo = _as_coo(mask)
    sparse_shape = coo._sparse_shape[:coo.sparse_dim()]
    keys = xp.ravel_multi_index(tuple(coo._sparse_indices), sparse_shape).astype(xp.int64) \
        if coo._sparse_indices.shape[0] else xp.zeros(coo._nnz(), dtype=xp.int64)
    rows = dense.reshape((-1,) + tuple(coo._sparse_shape[coo.sparse_dim():]))
    values = GatherRows.apply(rows, keys)
    if isinstance(mask, SparseCompressedTensor):
        picked = SparseCooTensor._make_sparse(coo._sparse_indices, values, coo._sparse_shape,
                                              True)
        return compressed_of(picked, mask._layout)
    return SparseCooTensor._make_sparse(coo._sparse_indices, values, coo._sparse_shape,
                                        coo._sparse_coalesced)


SparseCooTensor.sparse_mask = sparse_mask
SparseCompressedTensor.sparse_mask = sparse_mask
