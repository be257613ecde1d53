"""Sparse COO tensors against torch: construction, metadata, printing, coalesce, to_dense and
to_sparse, and the errors torch raises."""

import copy

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch
from tests.sparse._helpers import QUIET, assert_same_sparse, both_sparse, coo_data

pytestmark = QUIET

DTYPES = [np.float32, np.float64]
INDICES = np.array([[0, 1, 1, 0], [2, 0, 2, 2]])
VALUES = np.array([3.0, 4.0, 5.0, 1.0], dtype=np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dense_shape,size_given", [
    ((4, 5), (), True), ((4, 5), (), False), ((3, 2, 4), (), True), ((6,), (3,), True),
    ((5, 4), (2,), False)])
def test_construction(dtype, shape, dense_shape, size_given):
    rng = np.random.default_rng(len(shape) + len(dense_shape))
    i, v = coo_data(rng, shape, 7, dense_shape, dtype=dtype)
    size = shape + dense_shape if size_given else None
    se, st, _, _ = both_sparse(i, v, size)
    assert_same_sparse(se, st)
    assert isinstance(se, ember.Tensor)
    assert se.dtype is getattr(ember, np.dtype(dtype).name)
    assert (se.dim(), se.ndim, se.numel(), len(se)) == (st.dim(), st.ndim, st.numel(), len(st))
    assert se.size() == tuple(st.size()) and se.size(-1) == st.size(-1)
    assert_same(se.to_dense(), st.to_dense())
    assert repr(se) == repr(st)


def test_layout_and_is_sparse():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3))
    dense = ember.ones(2)
    assert se.is_sparse and not dense.is_sparse
    assert se.layout is ember.sparse_coo and dense.layout is ember.strided
    assert repr(se.layout) == repr(st.layout) and repr(dense.layout) == repr(torch.ones(2).layout)
    assert not hasattr(st, "nnz") and not hasattr(se, "nnz")  # torch has only _nnz()


@pytest.mark.parametrize("kwargs", [{}, {"dtype": "float64"}, {"requires_grad": True}])
def test_repr(kwargs):
    kw_e = {k: getattr(ember, v) if k == "dtype" else v for k, v in kwargs.items()}
    kw_t = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    se = ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES), (2, 3), **kw_e)
    st = torch.sparse_coo_tensor(torch.tensor(INDICES), torch.tensor(VALUES), (2, 3), **kw_t)
    assert repr(se) == repr(st)
    assert repr(se.coalesce()) == repr(st.coalesce())


def test_repr_of_lists_empty_and_grad_fn():
    args = ([[0, 1], [1, 0]], [1, 2], (2, 2))
    assert repr(ember.sparse_coo_tensor(*args)) == repr(torch.sparse_coo_tensor(*args))
    empty = (np.zeros((2, 0), np.int64), np.zeros(0, np.float32), (2, 3))
    assert repr(ember.sparse_coo_tensor(*to_ember(empty))) == repr(
        torch.sparse_coo_tensor(*to_torch(empty)))
    x = np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32)
    assert repr(to_ember(x, True).to_sparse()) == repr(to_torch(x, True).to_sparse())
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3), values_grad=True)
    assert repr(se) == repr(st)
    assert se.grad_fn.name() == type(st.grad_fn).__name__
    assert se.requires_grad and not se.is_leaf and not st.is_leaf


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dense_shape", [(), (2,)])
def test_coalesce(dtype, dense_shape):
    rng = np.random.default_rng(3)
    i, v = coo_data(rng, (3, 4), 12, dense_shape, dtype=dtype)
    se, st, _, _ = both_sparse(i, v, (3, 4) + dense_shape)
    assert not se.is_coalesced() and not st.is_coalesced()
    ce, ct = se.coalesce(), st.coalesce()
    assert_same_sparse(ce, ct)
    assert ce.coalesce() is ce and ct.coalesce() is ct
    assert_same(ce.indices(), ct.indices(), exact=True)
    assert_same(ce.values(), ct.values())
    assert_same(ce.to_dense(), se.to_dense())


def test_values_of_uncoalesced_raise():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3))
    for name in ("values", "indices"):
        with pytest.raises(RuntimeError):
            getattr(st, name)()
        with pytest.raises(RuntimeError, match="uncoalesced"):
            getattr(se, name)()
    assert_same(se._values(), st._values())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse(dtype, sparse_dim):
    x = np.array([[0, 1.5, 0], [0, 0, 0], [2, 0, -3]], dtype=dtype)
    args = () if sparse_dim is None else (sparse_dim,)
    se, st = to_ember(x, True).to_sparse(*args), to_torch(x, True).to_sparse(*args)
    assert_same_sparse(se, st)
    assert repr(se) == repr(st)
    assert se.to_sparse() is se


def test_to_sparse_gradient():
    x = np.array([[0, 1.5, 0], [2, 0, -3]], dtype=np.float64)
    xe, xt = to_ember(x, True), to_torch(x, True)
    w = np.arange(6.0).reshape(3, 2)
    (ember.sparse.mm(xe.to_sparse(), to_ember(w))).sum().backward()
    (torch.sparse.mm(xt.to_sparse(), to_torch(w))).sum().backward()
    assert_same(xe.grad, xt.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_dense_gradient_and_dtype(dtype):
    rng = np.random.default_rng(5)
    i, v = coo_data(rng, (3, 4), 6, (2,), dtype=dtype)
    se, st, ve, vt = both_sparse(i, v, (3, 4, 2), values_grad=True)
    weight = rng.standard_normal((3, 4, 2))
    de, dt = se.to_dense(), st.to_dense()
    assert_same(de, dt)
    (de * to_ember(weight.astype(dtype))).sum().backward()
    (dt * to_torch(weight.astype(dtype))).sum().backward()
    assert_same(ve.grad, vt.grad)
    with pytest.raises(RuntimeError):
        st.to_dense(torch.float64)
    with pytest.raises(RuntimeError, match="dtype argument"):
        se.to_dense(ember.float64)
    assert_same(ember.ones(2).to_dense(), torch.ones(2).to_dense())


def test_conversions():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3))
    for fn in (lambda s: s.double(), lambda s: s.float(), lambda s: s.detach(),
               lambda s: s.clone()):
        assert_same_sparse(fn(se), fn(st))
    assert_same_sparse(se.to(ember.float64), st.to(torch.float64))
    assert_same_sparse(se.t(), st.t())
    assert repr(se.t()) == repr(st.t())


def test_requires_grad_leaf_and_grad():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3), requires_grad=True)
    assert se.requires_grad and se.is_leaf and se.grad_fn is None
    x = np.array([[0.5, -1.0], [2.0, 0.25], [1.5, -0.5]], dtype=np.float32)
    ember.sparse.mm(se, to_ember(x)).sum().backward()
    torch.sparse.mm(st, to_torch(x)).sum().backward()
    assert_same_sparse(se.grad, st.grad)  # masked, at the coalesced positions


@pytest.mark.parametrize("case", [
    "nnz_mismatch", "size_rank", "out_of_bounds", "negative", "negative_inferred",
    "values_size"])
def test_construction_errors(case):
    i = INDICES
    v = VALUES
    calls = {
        "nnz_mismatch": lambda lib: lib.sparse_coo_tensor(lib.tensor(i), lib.tensor(v[:3]),
                                                          (2, 3)),
        "size_rank": lambda lib: lib.sparse_coo_tensor(lib.tensor(i), lib.tensor(v), (2, 3, 4)),
        "out_of_bounds": lambda lib: lib.sparse_coo_tensor(lib.tensor(i), lib.tensor(v), (2, 2),
                                                           check_invariants=True),
        "negative": lambda lib: lib.sparse_coo_tensor(lib.tensor(-i), lib.tensor(v), (2, 3),
                                                      check_invariants=True),
        "negative_inferred": lambda lib: lib.sparse_coo_tensor(lib.tensor(-i), lib.tensor(v)),
        "values_size": lambda lib: lib.sparse_coo_tensor(
            lib.tensor(i), lib.ones(4, 2), (2, 3, 3), check_invariants=True),
    }
    fn = calls[case]
    assert_same_error((lambda _: fn(ember), lambda _: fn(torch)), None, exact_type=True)


def test_out_of_bounds_message():
    e, t = assert_same_error((
        lambda _: ember.sparse_coo_tensor(ember.tensor(INDICES), ember.tensor(VALUES), (2, 2),
                                          check_invariants=True),
        lambda _: torch.sparse_coo_tensor(torch.tensor(INDICES), torch.tensor(VALUES), (2, 2),
                                          check_invariants=True)), None)
    assert str(e) == str(t)


def test_dense_op_on_sparse_raises_not_implemented():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3))
    with pytest.raises(NotImplementedError):
        st.exp()
    with pytest.raises(NotImplementedError):
        se.exp()


def test_str_format_deepcopy():
    se, st, _, _ = both_sparse(INDICES, VALUES, (2, 3), requires_grad=True)
    assert str(se) == str(st) and f"{se}" == f"{st}"
    ce, ct = copy.deepcopy(se), copy.deepcopy(st)
    assert_same_sparse(ce, ct)
    assert ce.requires_grad and ce._values() is not se._values()


@pytest.mark.parametrize("op", ["to_dense", "coalesce", "mm", "sum", "softmax", "to_sparse"])
def test_no_entries(op):
    empty = (np.zeros((2, 0), np.int64), np.zeros(0, np.float32), (2, 3))
    se = ember.sparse_coo_tensor(*to_ember(empty))
    st = torch.sparse_coo_tensor(*to_torch(empty))
    fns = {"to_dense": lambda lib, s: s.to_dense(), "coalesce": lambda lib, s: s.coalesce(),
           "mm": lambda lib, s: lib.sparse.mm(s, lib.ones(3, 2)),
           "sum": lambda lib, s: lib.sparse.sum(s), "softmax": lambda lib, s:
           lib.sparse.softmax(s, 1), "to_sparse": lambda lib, s: lib.zeros(2, 3).to_sparse()}
    ye, yt = fns[op](ember, se), fns[op](torch, st)
    if yt.is_sparse:
        assert_same_sparse(ye, yt)
        assert repr(ye) == repr(yt)
    else:
        assert_same(ye, yt)


@pytest.mark.parametrize("name", ["sparse_dim", "dense_dim", "_nnz", "is_coalesced", "coalesce",
                                  "indices", "values", "_indices", "_values"])
def test_sparse_api_on_dense_tensors(name):
    x = np.ones((2, 3), np.float32)
    try:
        expected = getattr(to_torch(x), name)()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(type(error)):
            getattr(to_ember(x), name)()
        return
    assert getattr(to_ember(x), name)() == expected
