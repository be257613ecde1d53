"""Ops on sparse COO tensors against torch: torch.sparse.mm, torch.mm, `@` both ways,
dense + sparse, sparse * scalar, with gradients to the dense operand and the
values; finite differences in float64; a two-layer GCN forward and backward."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch
from tests.sparse._helpers import QUIET, assert_same_sparse, both_sparse, coo_data

pytestmark = QUIET

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

PRODUCTS = {
    "sparse.mm": lambda lib, s, d: lib.sparse.mm(s, d),
    "mm": lambda lib, s, d: lib.mm(s, d),
    "matmul": lambda lib, s, d: lib.matmul(s, d),
    "operator": lambda lib, s, d: s @ d,
    "method": lambda lib, s, d: s.mm(d),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(PRODUCTS))
@pytest.mark.parametrize("coalesced", [False, True])
def test_sparse_dense_product(name, dtype, coalesced):
    rng = np.random.default_rng(11)
    i, v = coo_data(rng, (5, 4), 9, dtype=dtype)
    d = rng.standard_normal((4, 3)).astype(dtype)
    se, st, ve, vt = both_sparse(i, v, (5, 4), values_grad=True)
    if coalesced:
        se, st = se.coalesce(), st.coalesce()
    de, dt = to_ember(d, True), to_torch(d, True)
    ye, yt = PRODUCTS[name](ember, se, de), PRODUCTS[name](torch, st, dt)
    assert_same(ye, yt, **TOL[dtype])
    assert ye.grad_fn.name() == type(yt.grad_fn).__name__
    w = rng.standard_normal((5, 3)).astype(dtype)
    (ye * to_ember(w)).sum().backward()
    (yt * to_torch(w)).sum().backward()
    assert_same(de.grad, dt.grad, **TOL[dtype])
    assert_same(ve.grad, vt.grad, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["dense@sparse", "mm(dense, sparse)", "sparse@vector"])
def test_other_products(kind, dtype):
    rng = np.random.default_rng(12)
    i, v = coo_data(rng, (4, 6), 8, dtype=dtype)
    other = rng.standard_normal((3, 4) if kind != "sparse@vector" else (6,)).astype(dtype)
    se, st, ve, vt = both_sparse(i, v, (4, 6), values_grad=True)
    oe, ot = to_ember(other, True), to_torch(other, True)
    fns = {"dense@sparse": lambda lib, s, o: o @ s, "mm(dense, sparse)": lambda lib, s, o:
           lib.mm(o, s), "sparse@vector": lambda lib, s, o: s @ o}
    ye, yt = fns[kind](ember, se, oe), fns[kind](torch, st, ot)
    assert_same(ye, yt, **TOL[dtype])
    ye.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    assert_same(oe.grad, ot.grad, **TOL[dtype])
    assert_same(ve.grad, vt.grad, **TOL[dtype])


@pytest.mark.parametrize("case", ["inner_size", "dtype", "sparse_vector_operand",
                                  "dense_3d", "sparse_3d"])
def test_product_errors(case):
    i2, v = np.array([[0, 1], [2, 0]]), np.array([1.0, 2.0], dtype=np.float32)
    i3 = np.array([[0, 1], [2, 0], [0, 0]])
    calls = {
        "inner_size": lambda lib: lib.sparse.mm(lib.sparse_coo_tensor(lib.tensor(i2),
                                                lib.tensor(v), (2, 3)), lib.ones(4, 2)),
        "dtype": lambda lib: lib.mm(lib.sparse_coo_tensor(lib.tensor(i2), lib.tensor(v), (2, 3)),
                                    lib.ones(3, 2, dtype=lib.float64)),
        "sparse_vector_operand": lambda lib: lib.sparse.mm(
            lib.sparse_coo_tensor(lib.tensor(i2), lib.tensor(v), (2, 3)), lib.ones(3)),
        "dense_3d": lambda lib: lib.sparse.mm(
            lib.sparse_coo_tensor(lib.tensor(i2), lib.tensor(v), (2, 3)), lib.ones(3, 2, 2)),
        "sparse_3d": lambda lib: lib.sparse.mm(
            lib.sparse_coo_tensor(lib.tensor(i3), lib.tensor(v), (2, 3, 1)), lib.ones(3, 2)),
    }
    fn = calls[case]
    assert_same_error((lambda _: fn(ember), lambda _: fn(torch)), None, exact_type=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["operator", "add", "add_alpha", "promote_dense",
                                  "int_dense"])
def test_dense_plus_sparse(form, dtype):
    rng = np.random.default_rng(14)
    i, v = coo_data(rng, (3, 4), 6, dtype=dtype)
    d = rng.standard_normal((3, 4)).astype(np.float64 if form == "promote_dense" else dtype)
    if form == "int_dense":
        d = np.arange(12).reshape(3, 4)
    se, st, ve, vt = both_sparse(i, v, (3, 4), values_grad=True)
    grad_dense = form != "int_dense"
    de, dt = to_ember(d, grad_dense), to_torch(d, grad_dense)
    fns = {"operator": lambda lib, a, s: a + s, "add": lambda lib, a, s: lib.add(a, s),
           "add_alpha": lambda lib, a, s: lib.add(a, s, alpha=2.5),
           "promote_dense": lambda lib, a, s: a + s, "int_dense": lambda lib, a, s: a + s}
    ye, yt = fns[form](ember, de, se), fns[form](torch, dt, st)
    assert_same(ye, yt, **TOL[dtype])
    ye.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    assert_same(ve.grad, vt.grad, **TOL[dtype])
    if grad_dense:
        assert_same(de.grad, dt.grad, **TOL[dtype])


@pytest.mark.parametrize("case", ["sparse_plus_dense", "broadcast"])
def test_add_errors(case):
    i, v = np.array([[0, 1], [2, 0]]), np.array([1.0, 2.0], dtype=np.float32)
    calls = {
        "sparse_plus_dense": lambda lib: lib.sparse_coo_tensor(lib.tensor(i), lib.tensor(v),
                                                               (2, 3)) + lib.ones(2, 3),
        "broadcast": lambda lib: lib.ones(3) + lib.sparse_coo_tensor(lib.tensor(i),
                                                                     lib.tensor(v), (2, 3)),
    }
    fn = calls[case]
    e, t = assert_same_error((lambda _: fn(ember), lambda _: fn(torch)), None, exact_type=True)
    assert str(e) == str(t)


def test_sparse_plus_sparse_coalesced():
    rng = np.random.default_rng(15)
    a, b = coo_data(rng, (3, 4), 5), coo_data(rng, (3, 4), 4)
    ae, at, _, _ = both_sparse(*a, (3, 4))
    be, bt, _, _ = both_sparse(*b, (3, 4))
    assert_same_sparse(ae.coalesce() + be.coalesce(), at.coalesce() + bt.coalesce())
    assert_same((ae + be).to_dense(), (at + bt).to_dense())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("form", ["mul", "rmul", "div", "neg", "dense_mask"])
def test_scalar_arithmetic(form, dtype):
    rng = np.random.default_rng(16)
    i, v = coo_data(rng, (3, 4), 6, dtype=dtype)
    mask = rng.standard_normal((3, 4)).astype(dtype)
    se, st, ve, vt = both_sparse(i, v, (3, 4), values_grad=True)
    fns = {"mul": lambda lib, s: s * 2.5, "rmul": lambda lib, s: 3 * s,
           "div": lambda lib, s: s / 4.0, "neg": lambda lib, s: -s,
           "dense_mask": lambda lib, s: s * (to_ember(mask) if lib is ember else to_torch(mask))}
    ye, yt = fns[form](ember, se), fns[form](torch, st)
    assert_same_sparse(ye, yt, **TOL[dtype])
    (ye.to_dense() ** 2).sum().backward()
    (yt.to_dense() ** 2).sum().backward()
    assert_same(ve.grad, vt.grad, **TOL[dtype])


def test_gradcheck_float64():
    rng = np.random.default_rng(17)
    i, _ = coo_data(rng, (4, 3), 7)
    index = ember.tensor(i)
    v = rng.standard_normal(7)
    d = rng.standard_normal((3, 2))

    def fn(values, dense):
        s = ember.sparse_coo_tensor(index, values, (4, 3))
        return ember.sparse.mm(s, dense) + ember.sparse.sum(s.coalesce(), 1).to_dense()[:, None]

    leaves = (ember.tensor(v, requires_grad=True), ember.tensor(d, requires_grad=True))
    assert ember.autograd.gradcheck(fn, leaves)
    assert ember.autograd.gradgradcheck(fn, leaves)


def _gcn(lib, x, edge_index, edge_weight, w1, w2, n):
    """Two graph-convolution layers: relu(A·X·W1), then A·H·W2, with A from the edge list."""
    adj = lib.sparse_coo_tensor(edge_index, edge_weight, (n, n))
    h = lib.relu(lib.sparse.mm(adj, x @ w1))
    return lib.log_softmax(adj @ (h @ w2), dim=1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_two_layer_gcn(dtype):
    rng = np.random.default_rng(18)
    n, edges, features, hidden, classes = 30, 120, 8, 16, 4
    edge_index = np.stack([rng.integers(0, n, edges), rng.integers(0, n, edges)])
    edge_index = np.concatenate([edge_index, np.stack([np.arange(n)] * 2)], axis=1)  # self loops
    arrays = [rng.standard_normal((n, features)), rng.random(edge_index.shape[1]),
              rng.standard_normal((features, hidden)) * 0.3,
              rng.standard_normal((hidden, classes)) * 0.3]
    arrays = [a.astype(dtype) for a in arrays]
    e_leaves = [to_ember(a, True) for a in arrays]
    t_leaves = [to_torch(a, True) for a in arrays]
    x_e, ew_e, w1_e, w2_e = e_leaves
    x_t, ew_t, w1_t, w2_t = t_leaves
    labels = rng.integers(0, classes, n)
    ye = _gcn(ember, x_e, ember.tensor(edge_index), ew_e, w1_e, w2_e, n)
    yt = _gcn(torch, x_t, torch.tensor(edge_index), ew_t, w1_t, w2_t, n)
    assert_same(ye, yt, **TOL[dtype])
    ember.nn.functional.nll_loss(ye, ember.tensor(labels)).backward()
    torch.nn.functional.nll_loss(yt, torch.tensor(labels)).backward()
    for e, t in zip(e_leaves, t_leaves):
        assert_same(e.grad, t.grad, rtol=1e-4 if dtype == np.float32 else 1e-9,
                    atol=1e-5 if dtype == np.float32 else 1e-11)


def test_namespace():
    for name in ("mm", "sum"):
        assert callable(getattr(ember.sparse, name))
    assert ember.sparse_coo is ember.sparse.sparse_coo
    assert ember.mm(ember.ones(2, 3), ember.ones(3, 2)).shape == (2, 2)  # dense path unchanged


@pytest.mark.parametrize("kind", ["dense@sparse", "sparse@vector", "mm(sparse, sparse.t())"])
def test_product_node_names(kind):
    se, st, _, _ = both_sparse(np.array([[0, 1, 1], [2, 0, 2]]), np.ones(3, np.float32),
                               (2, 3), values_grad=True)
    fns = {"dense@sparse": lambda lib, s: lib.ones(4, 2) @ s,
           "sparse@vector": lambda lib, s: s @ lib.ones(3),
           "mm(sparse, sparse.t())": lambda lib, s: lib.mm(s, s.t().to_dense())}
    ye, yt = fns[kind](ember, se), fns[kind](torch, st)
    assert_same(ye, yt)
    assert ye.grad_fn.name() == type(yt.grad_fn).__name__


def test_keyword_operands_and_out():
    se, st, _, _ = both_sparse(np.array([[0, 1, 1], [2, 0, 2]]), np.ones(3, np.float32), (2, 3))
    d = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert_same(ember.mm(input=se, mat2=to_ember(d)), torch.mm(input=st, mat2=to_torch(d)))
    assert_same(ember.matmul(input=se, other=to_ember(d)), torch.matmul(input=st,
                                                                      other=to_torch(d)))
    oe, ot = ember.empty(2, 2), torch.empty(2, 2)
    assert ember.mm(se, to_ember(d), out=oe) is oe
    torch.mm(st, to_torch(d), out=ot)
    assert_same(oe, ot)
    dense = np.ones((2, 3), np.float32)
    oe, ot = ember.empty(2, 3), torch.empty(2, 3)
    ember.add(to_ember(dense), se, out=oe)
    torch.add(to_torch(dense), st, out=ot)
    assert_same(oe, ot)
    assert_same(ember.mm(input=to_ember(dense), mat2=to_ember(d)),
                torch.mm(input=to_torch(dense), mat2=to_torch(d)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("beta,alpha", [(1.0, 1.0), (0.5, 2.0), (0.0, -1.0)])
def test_sparse_addmm(beta, alpha, dtype):
    rng = np.random.default_rng(23)
    i, v = coo_data(rng, (4, 3), 6, dtype=dtype)
    se, st, ve, vt = both_sparse(i, v, (4, 3), values_grad=True)
    m, d = rng.standard_normal((4, 2)).astype(dtype), rng.standard_normal((3, 2)).astype(dtype)
    me, mt, de, dt = to_ember(m, True), to_torch(m, True), to_ember(d, True), to_torch(d, True)
    ye = ember.sparse.addmm(me, se, de, beta=beta, alpha=alpha)
    yt = torch.sparse.addmm(mt, st, dt, beta=beta, alpha=alpha)
    assert_same(ye, yt, **TOL[dtype])
    ye.pow(2).sum().backward()
    yt.pow(2).sum().backward()
    for e, t in ((ve, vt), (de, dt), (me, mt)):
        if t.grad is not None:
            assert_same(e.grad, t.grad, **TOL[dtype])


def test_gradcheck_float64_every_product_form():
    rng = np.random.default_rng(24)
    i, _ = coo_data(rng, (3, 3), 6)
    index = ember.tensor(i)

    def fn(values, dense):
        s = ember.sparse_coo_tensor(index, values, (3, 3))
        return (ember.sparse.mm(s, dense) + (dense.t() @ s).t() + (s @ dense[:, 0])[:, None]
                + ember.add(dense, (s * 2.0).to_dense()[:, :2]))

    leaves = (ember.tensor(rng.standard_normal(6), requires_grad=True),
              ember.tensor(rng.standard_normal((3, 2)), requires_grad=True))
    assert ember.autograd.gradcheck(fn, leaves)
    assert ember.autograd.gradgradcheck(fn, leaves)
