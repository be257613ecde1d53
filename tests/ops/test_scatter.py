"""gather, scatter, scatter_add, take_along_dim, index_select, index_add, index_fill, index_copy,
take, put, masked_scatter and the private masked index ops (ember/ops/scatter.py) against torch,
also on 0-d inputs.

A table of calls on one input drives the generic tests (tests/ops/_tables.py): values, grad_fn
names, gradients, float64 finite differences and double backward; then scatter's src handling,
the in-place forms, reductions, and the errors for bad indices.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from tests.differential import assert_same, assert_same_error
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.INDEX_TOL

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
    "take": lambda m, x: m.take(x, m.tensor([[0, 11], [5, 5]])),
    "take_negative": lambda m, x: x.take(m.tensor([-1, -12])),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[0], [3], [1]]), 1),
    "take_along_dim_flat": lambda m, x: x.take_along_dim(m.tensor([[0, 11], [5, 5]])),
    "take_along_dim_broadcast": lambda m, x: m.take_along_dim(x, m.tensor([[2, 0, 1, 1]]),
                                                              dim=0),
    "take_along_dim_broadcast_input": lambda m, x: m.take_along_dim(
        x[:1], m.tensor([[0, 1], [3, 2], [0, 0]]), 1),
    "index_fill": lambda m, x: x.index_fill(1, m.tensor([0, 3, 0]), -1.5),
    "index_fill_tensor_value": lambda m, x: m.index_fill(x, 0, m.tensor([2]),
                                                         x[0, 0] * 3),
    "index_copy": lambda m, x: x.index_copy(1, m.tensor([2, 0]), x[:, :2] * 3),
    "index_copy_dim0": lambda m, x: m.index_copy(x, 0, m.tensor([1]), x[2:] * 2),
    "put": lambda m, x: x.put(m.tensor([0, -1, 5]), x[1, :3] * 2),
    "put_accumulate": lambda m, x: m.put(x, m.tensor([[0, 0], [5, 11]]), x[:2, :2] * 2,
                                         accumulate=True),
    "gather_0d": lambda m, x: m.gather(x[1, 2], 0, m.tensor([0, 0])),
    "scatter_0d": lambda m, x: m.scatter(x[1, 2], 0, m.tensor(0), x[0, 0] * 2),
    "scatter_add_0d": lambda m, x: x[1, 2].scatter_add(0, m.tensor(0), x[0, 0] * 2),
    "index_select_0d_input": lambda m, x: x[0, 1].index_select(0, m.tensor([0])),
    "index_add_0d": lambda m, x: m.index_add(x[0, 1], 0, m.tensor(0), x[1, 1] * 3),
    "index_fill_0d": lambda m, x: x[0, 1].index_fill(0, m.tensor(0), 2.0),
    "index_copy_0d": lambda m, x: x[0, 1].index_copy(0, m.tensor(0), x[2, 2] * 2),
    "take_0d": lambda m, x: x[2, 3].take(m.tensor([0, 0])),
    "masked_scatter": lambda m, x: x.masked_scatter(x > 0, x.flatten() * 2),
    "masked_scatter_broadcast": lambda m, x: m.masked_scatter(
        x[0], m.tensor([[True], [False], [True]]), x.flatten() * 3),
}
NAMES_DIFFER = set()  # every grad_fn name is torch's

test_ops_forward_and_backward = _tables.index_ops_forward_and_backward(RNG, X, OPS, NAMES_DIFFER)
test_ops_gradcheck_and_double_backward = _tables.index_ops_gradcheck_and_double_backward(X, OPS)


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


def test_inplace_index_ops():
    """scatter_, scatter_add_ and index_add_, chained with masked_fill_ and index_put_
    (indexing.py)."""
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


def test_masked_scatter_inplace_and_0d():
    results = []
    for m in (ember, torch):
        base = m.from_numpy(X.copy())
        base[1].masked_scatter_(m.tensor([True, False, True, False]), m.tensor([7.0, 8.0, 9.0]))
        y = m.tensor(1.0).masked_scatter_(m.tensor(True), m.tensor([5.0, 6.0]))
        results.append((base, y))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_inplace_variants():
    """index_fill_, index_copy_, put_ (with accumulate) on a view, written through."""
    results = []
    for m in (ember, torch):
        base = m.from_numpy(np.zeros((2, 3, 4), np.float32))
        x = base[1]
        x.index_fill_(1, m.tensor([1]), 2.0)
        x.index_copy_(0, m.tensor([2]), m.ones(1, 4) * 5)
        x.put_(m.tensor([0, 0, 3]), m.tensor([1.0, 2.0, 3.0]), accumulate=True)
        x.put_(m.tensor([11]), m.tensor([-1.0]))
        results.append(base)
    assert_same(*results, **TOL)


@pytest.mark.parametrize("name", ["gather", "index_select", "take"])
def test_out_overlapping_an_input(name):
    call = {"gather": lambda m, x, out: m.gather(x, 0, m.tensor([0, 1]), out=out),
            "index_select": lambda m, x, out: m.index_select(x, 0, m.tensor([0, 1]), out=out),
            "take": lambda m, x, out: m.take(x, m.tensor([0, 1]), out=out)}[name]
    for target in ("input", "expanded"):
        def fn(m):
            x = m.arange(6.0)
            out = x if target == "input" else m.zeros(1).expand(2)
            return call(m, x, out)
        assert_same_error(fn, same_message=True)
    results = []
    for m in (ember, torch):
        out = m.zeros(5)
        call(m, m.arange(6.0), out)
        results.append(out)
    assert_same(*results, **TOL)


def test_put_gradient_of_a_non_contiguous_gy():
    """put's regions are coordinates, so a transposed incoming gradient is zeroed in place."""
    results = []
    for m in (ember, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        src = m.tensor([10.0, 20.0], requires_grad=True)
        y = x.put(m.tensor([0, 4]), src * 2)
        y.backward(m.arange(6.0).reshape(3, 2).t())
        results.append((x.grad, src.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_out_resized_over_the_index():
    """gather resizes a too-small out= in its own memory first, here over the index; take and
    index_select check before resizing, so they accept it."""
    def fn(m):
        ind = m.tensor([2, 1, 0])
        return m.gather(ind.clone(), 0, ind[1:], out=ind[:1])
    assert_same_error(fn, same_message=True)
    for name in ("take", "index_select"):
        results = []
        for m in (ember, torch):
            ind = m.tensor([2, 1, 0])
            args = (ind[1:],) if name == "take" else (0, ind[1:])
            results.append(getattr(m, name)(ind.clone(), *args, out=ind[:1]))
        assert_same(*results, exact=True)


test_op_errors = _tables.index_op_errors(X, [
    lambda m, x: x.gather(1, m.tensor([[5]])),
    lambda m, x: x.gather(0, m.tensor([0])),
    lambda m, x: x.gather(0, m.tensor([[0] * 5])),
    lambda m, x: x.index_select(0, m.tensor([5])),
    lambda m, x: x.index_select(0, m.tensor([[0]])),
    lambda m, x: m.take(x, m.tensor([12])),
    lambda m, x: x.scatter(1, m.tensor([[4]]), 1.0),
    lambda m, x: x.scatter(0, m.tensor([[0]]), m.ones(1, 1, dtype=m.float64)),
    lambda m, x: x.scatter_add(0, m.tensor([[0]]), m.ones(1, 1, dtype=m.float64)),
    lambda m, x: m.gather(x, 0, m.tensor([[0]]), out=m.zeros(1, 1, dtype=m.float64)),
    lambda m, x: m.index_select(m.tensor(3.0), 0, m.tensor([0, 0])),
    lambda m, x: x.index_add(0, m.tensor([0]), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_add(0, m.tensor([0, 1]), m.ones(1, 4)),
    lambda m, x: x.index_add(0, m.tensor([0]), m.ones(2)),
    lambda m, x: m.index_add(m.tensor(3.0), 0, m.tensor([0]), m.tensor([5.0])),
    lambda m, x: x.index_copy(0, m.tensor([0]), m.ones(1, 4, dtype=m.float64)),
    lambda m, x: x.index_copy(0, m.tensor([0, 1]), m.ones(1, 4)),
    lambda m, x: x.index_copy(0, m.tensor([0]), m.ones(1, 3)),
    lambda m, x: x.index_copy(0, m.tensor([5]), m.ones(1, 4)),
    lambda m, x: x.index_fill(0, m.tensor([5]), 5.0),
    lambda m, x: x.index_fill(0, m.tensor([1]), m.tensor([5.0])),
    lambda m, x: x.index_fill(0, m.tensor([[1]]), 2.0),
    lambda m, x: x.index_fill(0, m.tensor([1.0]), 2.0),
    lambda m, x: m.take_along_dim(x, m.tensor([[0]]).float(), 1),
    lambda m, x: m.take_along_dim(x, m.tensor([0]), 1),
    lambda m, x: x.put(m.tensor([12]), m.tensor([1.0])),
    lambda m, x: x.put(m.tensor([1, 2]), m.tensor([1.0])),
    lambda m, x: x.put(m.tensor([1]), m.tensor([1.0], dtype=m.float64)),
    lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.bool), m.ones(5)),
    lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.uint8), m.ones(12)),
    lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.bool), m.ones(12, dtype=m.float64)),
])


def _long(m, *shape):
    return m.zeros(*shape, dtype=m.int64)


# Issue #19's fuzz: torch's result or its exception class, in torch's order of checks.
test_bad_calls = _tables.result_or_error({
    "gather, an empty float index of another rank": lambda m: m.gather(
        m.ones(2, 3), 1, m.zeros(2, 0, 3)),
    "gather, an empty index on a 0-d input": lambda m: m.gather(m.tensor(1.0), 0, m.zeros(0)),
    "gather, an int16 index": lambda m: m.gather(m.ones(2, 3), 1, m.ones(2, 2, dtype=m.int16)),
    "scatter_add, an empty index of another rank": lambda m: m.scatter_add(
        m.ones(2, 3), 1, _long(m, 2, 0, 3), m.ones(2, 3)),
    "scatter_add, src of more dims": lambda m: m.scatter_add(
        m.ones(3, 4), 0, _long(m, 2, 2), m.ones(2, 0, 3)),
    "scatter_add, src smaller than the index": lambda m: m.scatter_add(
        m.ones(3, 4), 0, _long(m, 2, 2), m.ones(1, 1)),
    "scatter, src smaller than the index": lambda m: m.scatter(
        m.ones(3, 4), 0, _long(m, 2, 2), m.ones(1, 1)),
    "scatter_add, a uint8 index": lambda m: m.scatter_add(
        m.ones(2, 3), 1, m.zeros(2, 2, dtype=m.uint8), m.ones(2, 3)),
    "gather, a negative index": lambda m: m.gather(m.ones(2, 3), 1, m.tensor([[-1]])),
    "scatter, a negative index": lambda m: m.scatter(m.ones(2, 3), 1, m.tensor([[-1]]), 9.0),
    "take_along_dim wraps the indices": lambda m: m.take_along_dim(
        m.arange(6.0).reshape(2, 3), m.tensor([[5], [-4]]), 1),
    "take_along_dim wraps them along a broadcast dim": lambda m: m.take_along_dim(
        m.arange(6.0).reshape(2, 3), m.tensor([[-1, 7, 0]]), 0),
    "take_along_dim, a negative index without dim": lambda m: m.take_along_dim(
        m.arange(3.0), m.tensor([-1])),
    "index_select, a negative index": lambda m: m.index_select(m.ones(3), 0, m.tensor([-1])),
    "index_select, a 0-d input and index -1": lambda m: m.index_select(
        m.tensor(1.0), 0, m.tensor(-1)),
    "index_select, an int16 index": lambda m: m.index_select(
        m.ones(3), 0, m.zeros(1, dtype=m.int16)),
    "index_select, an empty 2-D input": lambda m: m.index_select(
        m.zeros(0, 3), 1, m.tensor([5])),
    "index_select, dim 1 out of range": lambda m: m.index_select(m.ones(2, 3, 4), 1,
                                                                 m.tensor([9])),
    "index_select, dim 1 of a transposed input": lambda m: m.index_select(
        m.ones(3, 4).t(), 1, m.tensor([-1])),
    "index_select, a 0-d input and a 2-D index": lambda m: m.index_select(
        m.tensor(1.0), 0, _long(m, 2, 0)),
    "index_fill, an empty dim": lambda m: m.index_fill(m.zeros(0), 0, m.tensor([0]), 1.0),
    "index_copy, a negative index": lambda m: m.ones(3).index_copy(
        0, m.tensor([-1]), m.ones(1)),
    "index_copy, a scalar source and two indices": lambda m: m.ones(3, 4).index_copy(
        0, m.tensor([0, 1]), m.tensor(1.0)),
    "index_copy, a float index before the count": lambda m: m.ones(3, 4).index_copy(
        0, m.zeros(0), m.ones(1, 4)),
    "index_copy, slice shapes before the count": lambda m: m.ones(3, 4).index_copy(
        0, m.tensor([0, 1]), m.ones(1, 3)),
    "index_copy, a 1-element source into a 0-d input": lambda m: m.tensor(1.0).index_copy(
        0, m.tensor([0]), m.ones(1)),
    "index_add, a negative index": lambda m: m.ones(3).index_add(0, m.tensor([-1]), m.ones(1)),
    "take, an empty float index": lambda m: m.take(m.ones(3), m.zeros(0)),
    "take, an int32 index": lambda m: m.take(m.ones(3), m.zeros(2, dtype=m.int32)),
    "put, a float index": lambda m: m.zeros(3).put(m.zeros(1), m.ones(2)),
    "put, an int32 index": lambda m: m.zeros(3).put(m.zeros(1, dtype=m.int32), m.ones(1)),
    "put, the source dtype before the count": lambda m: m.zeros(3).put(
        m.tensor([0]), m.ones(2, dtype=m.float64)),
})
