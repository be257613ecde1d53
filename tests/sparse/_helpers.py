"""Shared pieces of the sparse tests: random COO data, (ember, torch) pairs, sparse comparison."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch

# PyTorch warns once that sparse invariant checks are off by default; not what is tested here
QUIET = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


def coo_data(rng, shape, nnz, dense_shape=(), duplicates=True, dtype=np.float32):
    """(indices (sparse_dim, nnz) int64, values (nnz, *dense_shape)) with repeats when asked."""
    indices = np.stack([rng.integers(0, n, nnz) for n in shape]).astype(np.int64)
    if duplicates and nnz > 2:
        indices[:, -1] = indices[:, 0]  # at least one repeated position
    values = rng.standard_normal((nnz,) + tuple(dense_shape)).astype(dtype)
    return indices, values


def both_sparse(indices, values, size=None, values_grad=False, **kwargs):
    """The same sparse tensor in ember and torch; values optionally leaves requiring grad.
    Returns (ember sparse, torch sparse, ember values, torch values)."""
    ve, vt = to_ember(values, values_grad), to_torch(values, values_grad)
    sizes = () if size is None else (size,)
    se = ember.sparse_coo_tensor(to_ember(indices), ve, *sizes, **kwargs)
    st = torch.sparse_coo_tensor(to_torch(indices), vt, *sizes, **kwargs)
    return se, st, ve, vt


def assert_same_sparse(e, t, rtol=1e-5, atol=1e-6):
    """Two sparse tensors agree: layout, shape, dtype, nnz, coalescing, indices and values."""
    assert e.is_sparse and t.is_sparse
    assert str(e.layout) == str(t.layout) == "torch.sparse_coo"
    assert tuple(e.shape) == tuple(t.shape)
    assert (e.sparse_dim(), e.dense_dim(), e._nnz()) == (t.sparse_dim(), t.dense_dim(), t._nnz())
    assert e.is_coalesced() == t.is_coalesced()
    assert_same(e._indices(), t._indices(), exact=True)
    assert_same(e._values(), t._values(), rtol, atol)
