"""gather, scatter, scatter_add, index_select, index_add and take (ember/ops/scatter.py) against
torch.

A table of calls on one input drives the generic tests (tests/ops/_tables.py): values, grad_fn
names, gradients, float64 finite differences and double backward; then scatter's src handling,
the in-place forms, reductions, and the errors for bad indices.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from tests.differential import assert_same
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
}
NAMES_DIFFER = {"index_add"}  # ember composes it

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


test_op_errors = _tables.index_op_errors(X, [
    lambda m, x: x.gather(1, m.tensor([[5]])),
    lambda m, x: x.gather(0, m.tensor([0])),
    lambda m, x: x.gather(0, m.tensor([[0] * 5])),
    lambda m, x: x.index_select(0, m.tensor([5])),
    lambda m, x: x.index_select(0, m.tensor([[0]])),
    lambda m, x: m.take(x, m.tensor([12])),
    lambda m, x: x.scatter(1, m.tensor([[4]]), 1.0),
])
