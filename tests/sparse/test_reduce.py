"""Reductions of sparse COO tensors against torch: torch.sparse.sum over every kind of dim,
torch.sparse.softmax / log_softmax, values and gradients to the values."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch
from tests.sparse._helpers import QUIET, assert_same_sparse, both_sparse, coo_data

pytestmark = QUIET

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 1), 2, (1, 2), (0, 2)])
def test_sparse_sum(dim, dtype):
    rng = np.random.default_rng(13)
    i, v = coo_data(rng, (4, 5), 10, (3,), dtype=dtype)
    se, st, ve, vt = both_sparse(i, v, (4, 5, 3), values_grad=True)
    args = () if dim is None else (dim,)
    ye, yt = ember.sparse.sum(se, *args), torch.sparse.sum(st, *args)
    if yt.is_sparse:
        assert_same_sparse(ye, yt, **TOL[dtype])
        ye, yt = ye.to_dense(), yt.to_dense()
    assert_same(ye, yt, **TOL[dtype])
    w = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    (ye * to_ember(w)).sum().backward()
    (yt * to_torch(w)).sum().backward()
    assert_same(ve.grad, vt.grad, **TOL[dtype])


def test_sparse_sum_of_dense_raises():
    assert_same_error(lambda lib: lib.sparse.sum(lib.ones(2, 2)), None, exact_type=True)



@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim,dense_shape", [(0, ()), (1, ()), (-1, ()), (1, (2,)), (2, (2,))])
def test_sparse_softmax(dim, dense_shape, log, dtype):
    rng = np.random.default_rng(19)
    i, v = coo_data(rng, (4, 5), 12, dense_shape, dtype=dtype)
    se, st, ve, vt = both_sparse(i, v, (4, 5) + dense_shape, values_grad=True)
    name = "log_softmax" if log else "softmax"
    ye, yt = getattr(ember.sparse, name)(se, dim), getattr(torch.sparse, name)(st, dim)
    assert_same_sparse(ye, yt, **TOL[dtype])
    assert ye.grad_fn.name() == type(yt.grad_fn).__name__
    # torch 2.13's backward mishandles a negative dim (its gradient for dim=-1 differs from
    # dim=1's and from the dense masked softmax's); compare with the same dim made positive
    yt = getattr(torch.sparse, name)(st, dim % st.dim())
    w = rng.standard_normal((4, 5) + dense_shape).astype(dtype)
    (ye.to_dense() * to_ember(w)).sum().backward()
    (yt.to_dense() * to_torch(w)).sum().backward()
    assert_same(ve.grad, vt.grad, **TOL[dtype])


def test_sparse_softmax_matches_dense_masked_softmax():
    rng = np.random.default_rng(22)
    i, v = coo_data(rng, (4, 5), 9, duplicates=False, dtype=np.float64)
    i = np.unique(i, axis=1)
    v = v[:i.shape[1]]
    se, _, ve, _ = both_sparse(i, v, (4, 5), values_grad=True)
    dense = ember.full((4, 5), float("-inf"), dtype=ember.float64)
    dense = dense.index_put((ember.tensor(i[0]), ember.tensor(i[1])), ve)
    w = ember.tensor(rng.standard_normal((4, 5)))
    expected = dense.softmax(-1).nan_to_num(0.0)
    got = ember.sparse.softmax(se, -1).to_dense()
    assert_same(got, expected.detach().numpy(), rtol=1e-12)
    (got * w).sum().backward()
    g_sparse = ve.grad.clone()
    ve.grad = None
    (expected * w).sum().backward()
    assert_same(g_sparse, ve.grad.numpy(), rtol=1e-10)


def test_sparse_softmax_dtype():
    rng = np.random.default_rng(20)
    se, st, _, _ = both_sparse(*coo_data(rng, (3, 3), 5), (3, 3))
    assert_same_sparse(ember.sparse.softmax(se, 1, dtype=ember.float64),
                       torch.sparse.softmax(st, 1, dtype=torch.float64), rtol=1e-6)


def test_gradcheck_float64():
    rng = np.random.default_rng(21)
    i, _ = coo_data(rng, (4, 3), 7)
    index = ember.tensor(i)

    def fn(values):
        s = ember.sparse_coo_tensor(index, values, (4, 3))
        return (ember.sparse.softmax(s, 1).to_dense() + ember.sparse.sum(s, 0).to_dense()
                + ember.sparse.log_softmax(s, 0).to_dense().exp())

    leaves = (ember.tensor(rng.standard_normal(7), requires_grad=True),)
    assert ember.autograd.gradcheck(fn, leaves)
    assert ember.autograd.gradgradcheck(fn, leaves)
