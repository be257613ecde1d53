"""Indexing (ember/ops/indexing.py) against torch: getitem/setitem, index_put, select,
masked_fill, masked_select, nonzero, argwhere, nonzero_static.

A table of indices drives the generic getitem tests (values, grad_fn names, views vs copies,
gradients with repeated indices, float64 finite differences, double backward); a second table
drives setitem (values, version counter, gradients to the old tensor and to the value); then a
table of the other index ops (generic tests in tests/ops/_tables.py), nonzero, and the errors for
bad indices. gather/scatter/index_select/index_add/take: test_scatter.py.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from tests.differential import assert_same, assert_same_list_or_message, both, version
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.INDEX_TOL
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
    # PyTorch skips a slice over a whole dim (0 to at least the end, step 1) inside a tuple
    "int_whole_slice": (1, slice(0, 4)),
    "whole_slices": (slice(None, 3), slice(0, 10), slice(None, None, 1)),
    "one_whole_slice_tuple": (slice(0, 3),),
    "none_whole_slice": (None, slice(None, 3)),
    "negative_start_whole": (slice(-3, None), slice(None, 4)),
    "ellipsis_whole_slice": (Ellipsis, slice(0, 5)),
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
    "range": range(2),
    "range_and_int": (range(0, 3, 2), 1),
    "tensor_2d_in_first_dim": (("t", [[0, 1], [2, 2]]), 0, 0),
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


@pytest.mark.parametrize("index", [Ellipsis, slice(None), slice(None, 3),
                                   (slice(0, 3), slice(None, 9)), (Ellipsis, slice(0, 4))],
                         ids=str)
def test_setitem_of_the_whole_tensor_is_a_copy(index):
    """A write whose index takes no view (x[...], x[:], slices over whole dims: PyTorch skips
    them) is x.copy_(value) itself: CopyBackwards, and on a leaf that requires grad the leaf's
    own error (not a view's)."""
    seen = []
    for m in (ember, torch):
        leaf = m.ones(3, 4, requires_grad=True)
        value = m.arange(4.0, requires_grad=True)
        y = leaf * 2
        y[index] = value
        y.sum().backward()
        with pytest.raises(RuntimeError) as error:
            leaf[index] = 1.0
        with m.no_grad():
            leaf[index] = m.ones(1, 1, 4)  # (leading size-1 dims of the value dropped)
        seen.append((y.grad_fn.name(), y._version, leaf.grad.sum().item(),
                     value.grad.tolist(), str(error.value), leaf._version))
    assert seen[0] == seen[1]
    assert seen[0][0] == "torch::autograd::CopyBackwards"


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


# ---- select / masks / index_put ----------------------------------------------------------------
X = RNG.standard_normal((3, 4)).astype(np.float32)
OPS = {
    "masked_fill": lambda m, x: x.masked_fill(x > 0, -1.0),
    "masked_fill_broadcast": lambda m, x: m.masked_fill(x, m.tensor([True, False, True, False]),
                                                        m.tensor(2.0)),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_select_broadcast": lambda m, x: m.masked_select(x, m.tensor([[True], [False],
                                                                        [True]])),
    "index_put": lambda m, x: x.index_put((m.tensor([2, 0]),), x[1] * 3),
    "index_put_accumulate": lambda m, x: m.index_put(x, (m.tensor([0, 0]), m.tensor([1, 1])),
                                                     x[2, :2] * 2, accumulate=True),
    "select": lambda m, x: m.select(x, 1, -1),
    "masked_select_0d": lambda m, x: m.masked_select(x[1, 2], m.tensor(True)),
    "index_put_accumulate_broadcast": lambda m, x: x.index_put(
        (m.tensor([2, 2]),), x[0] * 2, accumulate=True),
    "unsafe_masked_index": lambda m, x: m._unsafe_masked_index(
        x, m.tensor([[True, False], [True, True]]), [m.tensor([[0], [5]]), m.tensor([1, -1])],
        -2.0),
    "unsafe_masked_index_put": lambda m, x: m._unsafe_masked_index_put_accumulate(
        x, m.tensor([True, False, True]), [m.tensor([0, 9, 0]), m.tensor([1, 1, 1])],
        x[1, :3] * 2),
    # a mask of another dtype: its nonzero values (NaN too) select (issue #19, FUZZ20)
    "unsafe_masked_index_put_float_mask": lambda m, x: m._unsafe_masked_index_put_accumulate(
        x, m.tensor([0.5, 0.0, float("nan")]), [m.tensor([0, 9, 0]), m.tensor([1, 1, 1])],
        x[1, :3] * 2),
}
# ember composes these private ops
NAMES_DIFFER = {"unsafe_masked_index", "unsafe_masked_index_put",
                "unsafe_masked_index_put_float_mask"}

test_ops_forward_and_backward = _tables.index_ops_forward_and_backward(RNG, X, OPS, NAMES_DIFFER)
test_ops_gradcheck_and_double_backward = _tables.index_ops_gradcheck_and_double_backward(X, OPS)


def test_masked_fill_value_grad():
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.copy()).requires_grad_()
        value = m.tensor(3.0, requires_grad=True)
        x.masked_fill(x > 0, value).backward(m.from_numpy(X * 2))
        results += [x.grad, value.grad]
    assert_same(results[0], results[2], **TOL)
    assert_same(results[1], results[3], **TOL)


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


@pytest.mark.parametrize("size", [0, 2, 6])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)], ids=str)
def test_nonzero_static(shape, size):
    e, t = both(RNG.integers(0, 2, shape).astype(np.float32))
    assert_same(ember.nonzero_static(e, size=size), torch.nonzero_static(t, size=size),
                exact=True)
    assert_same(e.nonzero_static(size=size, fill_value=9),
                t.nonzero_static(size=size, fill_value=9), exact=True)


def test_masked_fill__with_0d_tensor_value():
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.copy()).requires_grad_()
        value = m.tensor(2.5, requires_grad=True)
        y = x * 1
        y.masked_fill_(y > 0, value)
        y.masked_fill_(y < -1, m.tensor(-7))  # an integer 0-d tensor into a float tensor
        y.backward(m.from_numpy(X * 3))
        z = m.zeros(3, dtype=m.int64).masked_fill_(m.tensor([True, False, True]), m.tensor(2))
        results.append((y, x.grad, value.grad, z, y.grad_fn.name()))
    for a, b in zip(results[0][:4], results[1][:4]):
        assert_same(a, b, **TOL)
    assert results[0][4] == results[1][4]


def test_index_put_inplace_function():
    results = []
    for m in (ember, torch):
        x = m.zeros(3, 2)
        assert m.index_put_(x, (m.tensor([0, 0]),), m.ones(2), accumulate=True) is x
        m.index_put_(x, (m.tensor([2]), m.tensor([1])), m.tensor(5.0))
        results.append(x)
    assert_same(*results, **TOL)


def test_index_put_accumulate_grad_fn():
    for m in (ember, torch):
        y = m.zeros(3, requires_grad=True).index_put((m.tensor([0, 0]),), m.tensor(1.0),
                                                     accumulate=True)
        assert y.grad_fn.name() == "IndexPutBackward0"


test_op_errors = _tables.index_op_errors(X, [
    lambda m, x: x.masked_fill(m.ones(3, 4), 1.0),
    lambda m, x: x.masked_fill(m.ones(3, 4, dtype=m.bool), m.tensor([1.0])),
    lambda m, x: m.select(x, 0, 3),
    lambda m, x: x.masked_fill(x > 0, 1j),
    lambda m, x: x.long().masked_fill(x > 0, 2 ** 63),
    lambda m, x: x.byte().masked_fill(x > 0, 300),
    lambda m, x: m.masked_select(x, x > 0, out=x),
    lambda m, x: x.nonzero_static(size=-1),
    lambda m, x: x.index_put((m.tensor([0, 2]),), m.ones(3), accumulate=True),
    lambda m, x: m._unsafe_masked_index(x, m.ones(2, dtype=m.bool), [m.tensor([0.0, 1.0])],
                                        0.0),
])


def _index_put_in_place(m, x, index, value):
    x[index] = value
    return x


# Issue #19's fuzz: torch's result or its exception class, in torch's order of checks.
test_bad_calls = _tables.result_or_error({
    "a list of floats as an index (read as int64)": lambda m: m.arange(12.0).reshape(3, 4)[
        [1.5, -0.5]],
    "a list of floats too big for int64": lambda m: m.ones(3)[[1e30]],
    "a float tensor inside a list index": lambda m: m.ones(3, 4)[[m.tensor(1.0), 2]],
    "a list of lists read as a tuple": lambda m: m.arange(12.0).reshape(3, 4)[[[0, 1], [1, 2]]],
    "a list holding a slice read as a tuple": lambda m: m.arange(12.0).reshape(3, 4)[
        [0, slice(None)]],
    "out-of-range indices, empty result": lambda m: m.ones(2, 0, 3)[[1, 2]],
    "out-of-range indices, empty result, two arrays": lambda m: m.ones(2, 0, 3)[
        [5], :, [1]],
    "index_put, value shape before index bounds": lambda m: m.index_put(
        m.zeros(1, 3), (m.tensor([2]),), m.ones(1, 5)),
    "index_put accumulate, value shape before index bounds": lambda m: m.index_put(
        m.zeros(1, 3), (m.tensor([2]),), m.ones(1, 5), True),
    "setitem, value shape before index bounds": lambda m: _index_put_in_place(
        m, m.zeros(1, 3), m.tensor([2]), m.ones(1, 5)),
    "index_put accumulate, a bool value": lambda m: m.index_put(
        m.zeros(3), (m.tensor([0]),), m.ones(1, dtype=m.bool), True),
    "_unsafe_masked_index, a float mask": lambda m: m._unsafe_masked_index(
        m.arange(25.0).reshape(5, 5), m.tensor([[0.5, 0.0]]),
        [m.tensor([[1], [0]]), m.tensor([[1, 4]])], -1.0),
    "_unsafe_masked_index of an empty tensor": lambda m: m._unsafe_masked_index(
        m.ones(2, 0, 3), m.ones(2, 2, dtype=m.bool), [m.tensor([[1], [0]]), m.tensor([[1, 4]])],
        -1.0),
    "_unsafe_masked_index of an empty matrix": lambda m: m._unsafe_masked_index(
        m.ones(0, 5), m.ones(2, 2, dtype=m.bool), [m.tensor([[1], [0]]), m.tensor([[1, 4]])],
        -1.0),
    # NOTE [A one-element value written through a mask]: masked_fill_ takes any dtype
    "index_put, a mask and an int64 one-element value": lambda m: m.index_put(
        m.zeros(5, 5), (m.tensor([True, False, True, False, True]),), m.tensor([7])),
    "setitem, a mask after an int, a float64 0-d value": lambda m: _index_put_in_place(
        m, m.zeros(5, 5, dtype=m.int64), (m.tensor([True, False, True, False, True]), 0),
        m.tensor(-2.7, dtype=m.float64)),
    "setitem, a mask, -1 into uint8": lambda m: _index_put_in_place(
        m, m.zeros(3, dtype=m.uint8), m.tensor([True, False, True]), m.tensor([-1])),
    "index_put, a mask, a value float16 cannot hold": lambda m: m.index_put(
        m.zeros(3, dtype=m.float16), (m.tensor([True, False, True]),),
        m.tensor([1e300], dtype=m.float64)),
    "index_put, a mask, NaN into int64": lambda m: m.index_put(
        m.zeros(3, dtype=m.int64), (m.tensor([True, False, True]),), m.tensor([float("nan")])),
    "index_put, a uint8 mask and a one-element value": lambda m: m.index_put(
        m.zeros(3), (m.tensor([1, 0, 1], dtype=m.uint8),), m.ones(1)),
    "index_put, a mask and two values of another dtype": lambda m: m.index_put(
        m.zeros(3, 2), (m.tensor([True, False, True]),), m.ones(2, dtype=m.int64)),
    "index_put accumulate, a mask and a one-element value of another dtype": lambda m:
        m.index_put(m.zeros(3), (m.tensor([True, False, True]),), m.ones(1, dtype=m.int64),
                    True),
})


def test_index_put_through_a_mask_grad_reaches_a_value_of_another_dtype():
    """NOTE [A one-element value written through a mask]: the gradient keeps its dtype."""
    grads = []
    for m in (ember, torch):
        value = m.tensor([2.0], dtype=m.float64, requires_grad=True)
        m.index_put(m.zeros(5, 5), (m.tensor([True, False, True, False, True]),),
                    value).sum().backward()
        grads.append(value.grad)
    assert_same(*grads, **TOL)


@pytest.mark.parametrize("dtype, value", [
    ("float32", None), ("float32", "a"), ("int64", [1]), ("int64", (1,)),
    ("float32", np.float32(1.5)), ("float32", np.bool_(True)), ("float32", np.array(5.0)),
    ("float32", np.float64(2.5)), ("float32", np.int32(4)), ("float32", 1e300), ("float32", 1j),
    ("float32", 1 + 0j), ("float16", 1e10), ("bfloat16", -1e300), ("uint8", 300), ("uint8", -1),
    ("uint8", -256), ("uint8", 255.5), ("int8", 128), ("int64", 2 ** 63), ("int64", float("nan")),
    ("int32", 2 ** 31), ("complex64", 1e300), ("bool", 0.5)])
def test_setitem_of_a_number_converts_as_torch(dtype, value):
    """`x[0] = v`: a Python number is checked as fill_ checks it (a half takes inf silently),
    what is not a number (None, a str, a list, np.float32, a 0-d array) is torch's TypeError."""
    def call(lib):
        x = lib.zeros(2, dtype=getattr(lib, dtype))
        x[0] = value
        return x
    assert_same_list_or_message(call)
