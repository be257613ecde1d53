"""Sorting and order statistics (ember/ops/sort.py) against torch: sort, argsort, topk, median.

A table of calls drives the generic tests (tests/ops/_tables.py), as in test_reduction.py; then
PyTorch's gradient convention at ties, index outputs, NaN ordering, dtype rules and errors.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import outputs
from tests.ops import _tables

RNG = np.random.default_rng(0)

# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
    "sort": (lambda m, x: x.sort(), "randn", (3, 4)),
    "sort_desc": (lambda m, x: m.sort(x, 0, descending=True), "randn", (3, 4)),
    "sort_stable_ties": (lambda m, x: x.sort(dim=1, stable=True), "ties", (3, 8)),
    "sort_stable_ties_desc": (lambda m, x: x.sort(dim=1, descending=True, stable=True), "ties",
                              (3, 8)),
    "argsort": (lambda m, x: m.argsort(x, dim=1, stable=True), "ties", (3, 8)),
    "argsort_desc": (lambda m, x: x.argsort(dim=0, descending=True, stable=True), "ties", (8, 3)),
    "topk": (lambda m, x: x.topk(2), "randn", (3, 5)),
    "topk_smallest": (lambda m, x: m.topk(x, 3, dim=0, largest=False), "randn", (4, 3)),
    "median": (lambda m, x: x.median(), "randn", (3, 5)),
    "median_ties": (lambda m, x: x.median(), "ties", (3, 5)),
    "median_dim": (lambda m, x: m.median(x, 1), "randn", (3, 5)),
    "median_even": (lambda m, x: x.median(0, keepdim=True), "randn", (4, 3)),
}
# Calls that also run on 0-d and empty inputs (and what those inputs look like).
CASES.update({
    "topk_0d": (lambda m, x: x.topk(1), "randn", ()),
    "median_0d": (lambda m, x: x.median(0), "randn", ()),
})
ZERO_DIM = ["sort", "median", "topk_0d", "median_0d"]
EMPTY = {"sort": (0, 3)}

test_forward = _tables.reduction_forward(RNG, CASES)
test_backward = _tables.reduction_backward(RNG, CASES)
test_zero_dim = _tables.reduction_zero_dim(RNG, CASES, ZERO_DIM)
test_empty = _tables.reduction_empty(RNG, CASES, EMPTY)
test_empty_backward = _tables.reduction_empty_backward(RNG, CASES, ["sort"], EMPTY)

# ---- finite differences and second derivatives -------------------------------------------------
test_gradcheck_float64 = _tables.reduction_gradcheck(
    RNG, CASES, ["sort_desc", "topk", "median_dim"])
test_double_backward = _tables.reduction_double_backward(RNG, CASES, ["sort_desc", "median_dim"])


# ---- PyTorch's gradient conventions ------------------------------------------------------------
def _grad(lib, values, fn):
    x = lib.tensor(values, requires_grad=True)
    fn(x).backward()
    return x.grad.tolist()


@pytest.mark.parametrize("values, fn, expected", [
    ([1.0, 3.0, 3.0, 0.0, 3.0], lambda x: x.median(), [0, 1 / 3, 1 / 3, 0, 1 / 3]),
])
def test_gradient_conventions(values, fn, expected):
    np.testing.assert_allclose(_grad(torch, values, fn), expected, rtol=1e-6)
    np.testing.assert_allclose(_grad(ember, values, fn), _grad(torch, values, fn), rtol=1e-6)


def test_indices_are_not_differentiable():
    x = ember.randn(3, 4, requires_grad=True)
    values, indices = x.sort(1)
    assert values.requires_grad and not indices.requires_grad


def test_nan_propagates_like_torch():
    """NaN ordering of sort/median/topk, and of max/argmax/amax (extrema.py) beside them."""
    values = [[float("nan"), 1.0, 2.0], [3.0, float("nan"), 0.0]]
    for call in (lambda m, x: x.max(), lambda m, x: x.max(1), lambda m, x: x.argmax(1),
                 lambda m, x: x.amax(0), lambda m, x: x.sort(1, descending=True),
                 lambda m, x: x.sort(1), lambda m, x: x.median(1), lambda m, x: x.median(),
                 lambda m, x: x.topk(2)):
        result_e = call(ember, ember.tensor(values))
        result_t = call(torch, torch.tensor(values))
        for oe, ot in zip(outputs(result_e), outputs(result_t)):
            np.testing.assert_array_equal(oe.numpy(), ot.numpy())


# ---- dtype rules -------------------------------------------------------------------------------
test_integer_and_bool_dtypes = _tables.reduction_integer_dtypes(RNG, [
    lambda m, x: x.sort(0), lambda m, x: x.median(),
])

# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: x.topk(4), (2, 3), np.float32),
    (lambda m, x: x.sort(2), (2, 3), np.float32),
    (lambda m, x: x.median(2), (2, 3), np.float32),
])
