"""Indexing (ember/ops/indexing.py) against torch.

A table of indices drives the generic getitem tests (values, grad_fn names, views vs copies,
gradients with repeated indices, float64 finite differences, double backward); a second table
drives setitem (values, version counter, gradients to the old tensor and to the value); then
gather/scatter/index_select/masked ops/nonzero/take, and the errors for bad indices.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from tests.differential import assert_same, both, version

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-7}
SHAPE = (3, 4, 5)


def _index(m, spec):
    """Build an index for module m: tensors in the spec are written as ('t', values[, dtype])."""
    if isinstance(spec, tuple) and spec and spec[0] == "t":
        dtype = getattr(m, spec[2]) if len(spec) > 2 else None
        return m.tensor(spec[1], dtype=dtype)
    if isinstance(spec, tuple):
        return tuple(_index(m, s) for s in spec)
    return spec


MASK = (np.arange(20).reshape(4, 5) % 3 == 0).tolist()
# id -> index spec into a (3, 4, 5) tensor
GETITEM = {
    "int": 1,
    "neg_int": -1,
    "int_int": (0, 2),
    "all_ints": (2, 3, 4),
    "slice": slice(1, None),
    "full_slice": slice(None),
    "step": (slice(None), slice(None, None, 2)),
    "slice_past_end": slice(1, 10),
    "empty_slice": slice(2, 1),
    "int_slice": (1, slice(0, 3)),
    "none": None,
    "none_int": (None, 1),
    "ellipsis": Ellipsis,
    "ellipsis_int": (Ellipsis, 1),
    "int_ellipsis_none": (0, Ellipsis, None, 2),
    "two_ellipses": (Ellipsis, 1, Ellipsis),
    "zero_dim_tensor": ("t", 1),
    "true": True,
    "list": [0, 2, 0],
    "tensor": ("t", [2, 0]),
    "tensor_2d": ("t", [[0, 1], [1, 2]]),
    "tensor_neg": ("t", [-1, 0]),
    "tensor_int32": ("t", [1, 0], "int32"),
    "slice_tensor": (slice(None), ("t", [3, 3, 0])),
    "int_slice_tensor": (0, slice(None), ("t", [0, 4])),
    "separated_tensors": (("t", [0, 1]), slice(None), ("t", [1, 2])),
    "adjacent_tensors": (slice(None), ("t", [0, 1]), ("t", [1, 2])),
    "broadcast_tensors": (("t", [[0], [2]]), ("t", [1, 3])),
    "bool_mask_2d": (slice(None), ("t", MASK)),
    "bool_mask_1d": ("t", [True, False, True]),
    "bool_list": [True, False, True],
    "byte_mask": ("t", [1, 0, 1], "uint8"),
    "mask_and_int": (("t", [True, False, True]), 2),
    "tensor_then_none": (("t", [0, 2]), None, slice(1, 3)),
    "empty_tensor": ("t", [], "int64"),
}


def _getitem(name, requires_grad=False, dtype=np.float32):
    e, t = both(RNG.standard_normal(SHAPE).astype(dtype), requires_grad)
    return e, t, e[_index(ember, GETITEM[name])], t[_index(torch, GETITEM[name])]


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_forward(name, dtype):
    e, t, ye, yt = _getitem(name, dtype=dtype)
    assert_same(ye, yt, **TOL)
    torch_view = yt.numel() > 0 and np.shares_memory(yt.numpy(), t.numpy())
    assert np.shares_memory(ye._data, e._data) == torch_view


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_grad_fn_and_backward(name):
    e, t, ye, yt = _getitem(name, requires_grad=True)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    g = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.from_numpy(g.copy()))
    yt.backward(torch.from_numpy(g.copy()))
    assert_same(e.grad, t.grad, **TOL)


@pytest.mark.parametrize("name", ["int_slice", "list", "separated_tensors", "bool_mask_2d",
                                  "int_ellipsis_none", "broadcast_tensors"])
def test_getitem_gradcheck(name):
    x = ember.from_numpy(RNG.standard_normal(SHAPE)).requires_grad_()
    index = _index(ember, GETITEM[name])
    assert gradcheck(lambda v: v[index], (x,))


@pytest.mark.parametrize("name", ["int_slice", "list", "separated_tensors", "bool_mask_2d"])
def test_getitem_double_backward(name):
    array = RNG.standard_normal(SHAPE)
    results = []
    for m in (ember, torch):
        x = m.from_numpy(array.copy()).requires_grad_()
        y = (x * x)[_index(m, GETITEM[name])]
        g = m.from_numpy(np.random.default_rng(1).standard_normal(tuple(y.shape)))
        g.requires_grad_()
        (gx,) = m.autograd.grad([y], [x], [g], create_graph=True)
        v = m.from_numpy(np.random.default_rng(2).standard_normal(SHAPE))
        results.append([gx, *m.autograd.grad([gx], [x, g], [v])])
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


GETITEM_ERRORS = [
    lambda x, m: x[3],
    lambda x, m: x[0, 0, 0, 0],
    lambda x, m: x[::-1],
    lambda x, m: x[::0],
    lambda x, m: x[1.0],
    lambda x, m: x[m.tensor([1.0])],
    lambda x, m: x[m.tensor([3])],
    lambda x, m: x[:, [0, -5]],
    lambda x, m: x[m.ones(2, 4, dtype=m.bool)],
    lambda x, m: x[0][0][0][0],
    lambda x, m: x["a"],
]


@pytest.mark.parametrize("index", range(len(GETITEM_ERRORS)))
def test_getitem_errors(index):
    with pytest.raises(Exception) as expected:
        GETITEM_ERRORS[index](torch.zeros(SHAPE), torch)
    with pytest.raises(expected.type) as got:
        GETITEM_ERRORS[index](ember.zeros(SHAPE), ember)
    if index in (0, 2, 3, 4, 5, 6, 8, 9):
        assert str(got.value) == str(expected.value)


# ---- setitem ------------------------------------------------------------------------------------
# id -> (index spec, value shape or None for a Python number)
SETITEM = {
    "int": (1, (4, 5)),
    "int_broadcast": (1, (5,)),
    "slice_scalar": ((slice(None), slice(1, 3)), None),
    "step": ((slice(None), slice(None, None, 2)), (3, 2, 5)),
    "ellipsis": ((Ellipsis, 0), (3, 4)),
    "tensor": (("t", [0, 2]), (2, 4, 5)),
    "repeated_tensor": (("t", [0, 0]), (4, 5)),
    "int_tensor": ((1, ("t", [3, 0])), (1, 5)),
    "mask": ((slice(None), ("t", MASK)), (3, 7)),
    "mask_scalar": (("t", [True, False, True]), None),
    "leading_ones": (0, (1, 1, 4, 5)),
    "everything": (Ellipsis, (5,)),
}


def _setitem_case(m, name, x_array, v_array):
    spec, _ = SETITEM[name]
    w = m.from_numpy(x_array.copy()).requires_grad_()
    value = 2.5 if v_array is None else m.from_numpy(v_array.copy()).requires_grad_()
    y = w * 3
    before = version(y)
    y[_index(m, spec)] = value if v_array is None else value * 2
    assert version(y) == before + 1
    (y * w).backward(m.from_numpy(np.random.default_rng(3).standard_normal(SHAPE)))
    return y, w.grad, None if v_array is None else value.grad


@pytest.mark.parametrize("name", sorted(SETITEM))
def test_setitem_values_and_grads(name):
    x = RNG.standard_normal(SHAPE)
    shape = SETITEM[name][1]
    v = None if shape is None else RNG.standard_normal(shape)
    if name == "repeated_tensor":  # torch leaves the winner of repeated writes undefined
        v = np.broadcast_to(RNG.standard_normal(shape[-1:]), shape).copy()
    for a, b in zip(_setitem_case(ember, name, x, v), _setitem_case(torch, name, x, v)):
        if b is None:
            assert a is None
        else:
            assert_same(a, b, **TOL)


@pytest.mark.parametrize("name", sorted(SETITEM))
def test_setitem_no_grad_writes_through_views(name):
    spec, shape = SETITEM[name]
    value = 1.5 if shape is None else RNG.standard_normal(shape).astype(np.float32)
    results = []
    for m in (ember, torch):
        base = m.zeros(2, *SHAPE)
        x = base[1]
        x[_index(m, spec)] = value if shape is None else m.from_numpy(value.copy())
        results.append(base)
    assert_same(*results, **TOL)


def test_setitem_grad_fn_names():
    for m in (ember, torch):
        y = m.ones(3, 4, requires_grad=True) * 2
        y[0] = 1.0
        assert y.grad_fn.name() == "torch::autograd::CopySlices"
        y[[0, 1]] = 2.0
        assert y.grad_fn.name() == "IndexPutBackward0"


def test_setitem_casts_value_and_int_tensors():
    results = []
    for m in (ember, torch):
        x = m.zeros(4, dtype=m.int64)
        x[1:3] = m.tensor([1.7, -2.2])
        x[0] = 5
        y = m.zeros(3)
        y[m.tensor([0, 2])] = 7
        y[1:] = m.tensor([1, 2])
        results.append((x, y))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_setitem_gradcheck():
    def f(x, v):
        y = x * 1
        y[1:, [0, 2]] = v * v
        return y

    x = ember.from_numpy(RNG.standard_normal((3, 4))).requires_grad_()
    v = ember.from_numpy(RNG.standard_normal((2,))).requires_grad_()
    assert gradcheck(f, (x, v))


SETITEM_ERRORS = [
    lambda m: m.ones(3, 4, requires_grad=True).__setitem__(0, 1.0),
    lambda m: m.ones(3, 4, requires_grad=True).__setitem__([0], 1.0),
    lambda m: m.zeros(3, 4).__setitem__(0, m.ones(3)),
    lambda m: m.zeros(3, 4).__setitem__([0, 1], m.ones(3)),
    lambda m: m.zeros(3, 4).__setitem__(0, m.ones(2, 1, 4)),
    lambda m: m.zeros(3, 4).__setitem__(5, 1.0),
    lambda m: m.zeros(3, 4).__setitem__(slice(None, None, -1), 1.0),
    lambda m: m.zeros(3, 4).__setitem__([0, 1], m.ones(4, dtype=m.int64)),
]


@pytest.mark.parametrize("index", range(len(SETITEM_ERRORS)))
def test_setitem_errors(index):
    with pytest.raises(Exception) as expected:
        SETITEM_ERRORS[index](torch)
    with pytest.raises(expected.type) as got:
        SETITEM_ERRORS[index](ember)
    assert str(got.value) == str(expected.value)


# ---- gather / scatter / select / masks -----------------------------------------------------------
X = RNG.standard_normal((3, 4)).astype(np.float32)
IDX = np.array([[0, 3, 3], [1, 0, 2]])
OPS = {
    "gather": lambda m, x: x.gather(1, m.tensor(IDX)),
    "gather_dim0": lambda m, x: m.gather(x, 0, m.tensor([[2, 0, 1, 1]])),
    "scatter_src": lambda m, x: x.scatter(1, m.tensor([[0, 2], [3, 1]]), x[1:, 2:] * 10),
    "scatter_value": lambda m, x: m.scatter(x, 0, m.tensor([[2, 0, 1, 1]]), 7.0),
    "scatter_add": lambda m, x: x.scatter_add(1, m.tensor(IDX), x[:2, :3] * 2),
    "scatter_add_dim0": lambda m, x: m.scatter_add(x, 0, m.tensor([[0, 0], [0, 2]]),
                                                   x[:2, 1:3] * 3),
    "index_select": lambda m, x: x.index_select(1, m.tensor([3, 0, 3])),
    "index_select_0d": lambda m, x: m.index_select(x, 0, m.tensor(2)),
    "index_add": lambda m, x: x.index_add(0, m.tensor([0, 0]), x[1:3] * 2, alpha=2),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, -1.0),
    "masked_fill_broadcast": lambda m, x: m.masked_fill(x, m.tensor([True, False, True, False]),
                                                        m.tensor(2.0)),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_select_broadcast": lambda m, x: m.masked_select(x, m.tensor([[True], [False],
                                                                        [True]])),
    "take": lambda m, x: m.take(x, m.tensor([[0, 11], [5, 5]])),
    "index_put": lambda m, x: x.index_put((m.tensor([2, 0]),), x[1] * 3),
    "index_put_accumulate": lambda m, x: m.index_put(x, (m.tensor([0, 0]), m.tensor([1, 1])),
                                                     x[2, :2] * 2, accumulate=True),
    "select": lambda m, x: m.select(x, 1, -1),
}
NAMES_DIFFER = {"index_add", "index_put_accumulate", "index_put"}  # ember composes these


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_forward_and_backward(name):
    e, t = both(X, requires_grad=True)
    ye, yt = OPS[name](ember, e), OPS[name](torch, t)
    assert_same(ye, yt, **TOL)
    assert ye.grad_fn.name() == yt.grad_fn.name() or name in NAMES_DIFFER
    g = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.from_numpy(g.copy()))
    yt.backward(torch.from_numpy(g.copy()))
    assert_same(e.grad, t.grad, **TOL)


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_gradcheck_and_double_backward(name):
    x = ember.from_numpy(X.astype(np.float64)).requires_grad_()
    assert gradcheck(lambda v: OPS[name](ember, v), (x,))
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.astype(np.float64)).requires_grad_()
        y = OPS[name](m, x * x)
        g = m.from_numpy(np.random.default_rng(1).standard_normal(tuple(y.shape)))
        (gx,) = m.autograd.grad([y], [x], [g.requires_grad_()], create_graph=True)
        results.append([gx, *m.autograd.grad([gx], [x, g], [m.ones_like(x)])])
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


@pytest.mark.parametrize("op", ["scatter", "scatter_add"])
def test_scatter_src_larger_than_index(op):
    """Only src[:index.shape] is read, so only it gets gradient (torch's own backward returns a
    gradient of the index's shape here, which its engine then rejects)."""
    x = ember.from_numpy(X.astype(np.float64)).requires_grad_()
    src = ember.from_numpy(RNG.standard_normal((3, 5))).requires_grad_()
    index = ember.tensor([[0, 2], [3, 1]])
    y = getattr(ember, op)(x, 1, index, src)
    y.backward(ember.ones(3, 4, dtype=ember.float64))
    expected = np.zeros((3, 5))
    expected[:2, :2] = 1
    np.testing.assert_array_equal(src.grad.numpy(), expected)
    assert gradcheck(lambda a, b: getattr(ember, op)(a, 1, index, b), (x, src))


def test_masked_fill_value_grad():
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.copy()).requires_grad_()
        value = m.tensor(3.0, requires_grad=True)
        x.masked_fill(x > 0, value).backward(m.from_numpy(X * 2))
        results += [x.grad, value.grad]
    assert_same(results[0], results[2], **TOL)
    assert_same(results[1], results[3], **TOL)


def test_inplace_index_ops():
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.copy())
        x.masked_fill_(x < 0, 0.0)
        x.scatter_(1, m.tensor([[0], [1]]), 9.0)
        x.scatter_add_(0, m.tensor([[2, 2]]), m.ones(1, 2))
        x.index_add_(1, m.tensor([3]), m.ones(3, 1))
        x.index_put_((m.tensor([1, 1]),), m.ones(4), accumulate=True)
        x.index_put_((m.tensor([0]), m.tensor([2])), m.tensor(-4.0))
        results.append(x)
    assert_same(*results, **TOL)


def test_scatter_reduce_forward():
    for reduce in ("add", "multiply"):
        results = [m.from_numpy(X.copy()).scatter(1, m.tensor([[0, 0], [1, 1]]), 2.0,
                                                  reduce=reduce) for m in (ember, torch)]
        assert_same(*results, **TOL)


@pytest.mark.parametrize("as_tuple", [False, True])
@pytest.mark.parametrize("shape", [(), (0,), (5,), (3, 4), (2, 3, 2)], ids=str)
def test_nonzero(shape, as_tuple):
    array = RNG.integers(0, 2, shape).astype(np.float32)
    e, t = both(array)
    ye, yt = ember.nonzero(e, as_tuple=as_tuple), torch.nonzero(t, as_tuple=as_tuple)
    if as_tuple:
        assert len(ye) == len(yt)
        for a, b in zip(ye, yt):
            assert_same(a, b, **TOL)
    else:
        assert_same(ye, yt, **TOL)
        assert_same(ember.argwhere(e), torch.argwhere(t), **TOL)


OP_ERRORS = [
    lambda m, x: x.gather(1, m.tensor([[5]])),
    lambda m, x: x.gather(0, m.tensor([0])),
    lambda m, x: x.gather(0, m.tensor([[0] * 5])),
    lambda m, x: x.index_select(0, m.tensor([5])),
    lambda m, x: x.index_select(0, m.tensor([[0]])),
    lambda m, x: x.masked_fill(m.ones(3, 4), 1.0),
    lambda m, x: x.masked_fill(m.ones(3, 4, dtype=m.bool), m.tensor([1.0])),
    lambda m, x: m.take(x, m.tensor([12])),
    lambda m, x: x.scatter(1, m.tensor([[4]]), 1.0),
    lambda m, x: m.select(x, 0, 3),
]


@pytest.mark.parametrize("index", range(len(OP_ERRORS)))
def test_op_errors(index):
    with pytest.raises(Exception) as expected:
        OP_ERRORS[index](torch, torch.from_numpy(X.copy()))
    with pytest.raises(expected.type) as got:
        OP_ERRORS[index](ember, ember.from_numpy(X.copy()))
    assert str(got.value) == str(expected.value)
