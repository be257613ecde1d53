"""Sorting and order statistics (ember/ops/sort.py) against torch: sort, argsort, topk, median.

A table of calls drives the generic tests (tests/ops/_tables.py), as in test_reduction.py; then
PyTorch's gradient convention at ties, index outputs, NaN ordering, dtype rules and errors.
"""

import re

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
# kthvalue, mode, nanmedian, msort
CASES.update({
    "kthvalue": (lambda m, x: m.kthvalue(x, 2), "randn", (3, 5)),
    "kthvalue_dim0_keepdim": (lambda m, x: x.kthvalue(4, 0, keepdim=True), "randn", (4, 3)),
    "mode": (lambda m, x: m.mode(x), "ties", (3, 9)),
    "mode_dim0": (lambda m, x: x.mode(0, keepdim=True), "ties", (9, 4)),
    "nanmedian": (lambda m, x: m.nanmedian(x), "randn", (3, 5)),
    "nanmedian_ties": (lambda m, x: x.nanmedian(), "ties", (3, 5)),
    "nanmedian_dim": (lambda m, x: m.nanmedian(x, 1), "randn", (3, 5)),
    "nanmedian_even": (lambda m, x: x.nanmedian(0, keepdim=True), "randn", (4, 3)),
    "msort": (lambda m, x: m.msort(x), "randn", (4, 3)),
    "msort_method": (lambda m, x: x.msort(), "randn", (5,)),
})
# Calls that also run on 0-d and empty inputs (and what those inputs look like).
CASES.update({
    "topk_0d": (lambda m, x: x.topk(1), "randn", ()),
    "median_0d": (lambda m, x: x.median(0), "randn", ()),
    "kthvalue_0d": (lambda m, x: x.kthvalue(1), "randn", ()),
    "mode_0d": (lambda m, x: x.mode(), "randn", ()),
    "nanmedian_0d": (lambda m, x: x.nanmedian(0), "randn", ()),
})
ZERO_DIM = ["sort", "median", "topk_0d", "median_0d", "kthvalue_0d", "mode_0d", "nanmedian_0d",
            "nanmedian", "msort"]
EMPTY = {"sort": (0, 3), "nanmedian": (0,), "msort": (0, 3)}

test_forward = _tables.reduction_forward(RNG, CASES)
test_backward = _tables.reduction_backward(RNG, CASES)
test_zero_dim = _tables.reduction_zero_dim(RNG, CASES, ZERO_DIM)
test_empty = _tables.reduction_empty(RNG, CASES, EMPTY)
test_empty_backward = _tables.reduction_empty_backward(RNG, CASES, ["sort"], EMPTY)

# ---- finite differences and second derivatives -------------------------------------------------
test_gradcheck_float64 = _tables.reduction_gradcheck(
    RNG, CASES, ["sort_desc", "topk", "median_dim", "kthvalue", "nanmedian_dim", "msort"])
test_double_backward = _tables.reduction_double_backward(
    RNG, CASES, ["sort_desc", "median_dim", "kthvalue_dim0_keepdim", "nanmedian", "msort"])


# ---- PyTorch's gradient conventions ------------------------------------------------------------
def _grad(lib, values, fn):
    x = lib.tensor(values, requires_grad=True)
    fn(x).backward()
    return x.grad.tolist()


@pytest.mark.parametrize("values, fn, expected", [
    ([1.0, 3.0, 3.0, 0.0, 3.0], lambda x: x.median(), [0, 1 / 3, 1 / 3, 0, 1 / 3]),
    ([3.0, 1.0, 3.0, float("nan"), 5.0], lambda x: x.nanmedian(), [0.5, 0, 0.5, 0, 0]),
    ([2.0, 1.0, 2.0, 1.0, 1.0], lambda x: x.mode()[0], [0, 0, 0, 0, 1]),  # the last index
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
    lambda m, x: x.sort(0), lambda m, x: x.median(), lambda m, x: x.mode(1),
    lambda m, x: x.mode(0), lambda m, x: x.nanmedian(1), lambda m, x: x.nanmedian(),
    lambda m, x: m.msort(x), lambda m, x: x.kthvalue(2, 0).values,
])


@pytest.mark.parametrize("values", [
    [[float("nan"), float("nan"), float("nan")], [1.0, float("nan"), 2.0], [3.0, 3.0, 0.5]],
    [[1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [float("nan"), 0.0, -1.0]],
])
def test_nanmedian_and_kthvalue_with_nan(values):
    """nanmedian skips NaN (an all-NaN row gives NaN at its first index); kthvalue sorts NaN
    last."""
    for call in (lambda m, x: x.nanmedian(1), lambda m, x: x.nanmedian(), lambda m, x: m.nanmedian(
            x, 0), lambda m, x: x.kthvalue(3, 1), lambda m, x: x.kthvalue(1, 0)):
        result_e = call(ember, ember.tensor(values))
        result_t = call(torch, torch.tensor(values))
        for oe, ot in zip(outputs(result_e), outputs(result_t)):
            np.testing.assert_array_equal(oe.numpy(), ot.numpy())


def test_out_and_return_types():
    x = ember.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.int64)
    ember.kthvalue(x, 2, 1, out=(values, indices))
    assert values.tolist() == [2.0, 4.0] and indices.tolist() == [2, 2]
    with pytest.raises(RuntimeError, match="unsupported operation"):
        ember.kthvalue(x, 1, 1, out=(x[0], indices))
    assert repr(ember.mode(x)).startswith("torch.return_types.mode(")
    assert repr(ember.nanmedian(x, 0)).startswith("torch.return_types.nanmedian(")
    assert repr(x.kthvalue(1)).startswith("torch.return_types.kthvalue(")
    out = ember.empty(0)
    assert ember.msort(x, out=out) is out and out.tolist() == [[0.0, 1.0, 2.0], [3.0, 5.0, 4.0]]

# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: x.topk(4), (2, 3), np.float32),
    (lambda m, x: x.sort(2), (2, 3), np.float32),
    (lambda m, x: x.median(2), (2, 3), np.float32),
    (lambda m, x: x.kthvalue(3), (2, 2), np.float32),
    (lambda m, x: x.kthvalue(0, 1), (2, 2), np.float32),
    (lambda m, x: x.kthvalue(2), (), np.float32),
    (lambda m, x: x.mode(1), (2, 0), np.float32),
    (lambda m, x: x.nanmedian(1), (2, 0), np.float32),
    (lambda m, x: x.nanmedian(2), (2, 3), np.float32),
])


# ---- the order of equal values (NOTE [Tie order of PyTorch's CPU sort, topk, kthvalue and mode])
TIE_CALLS = {
    "sort": lambda m, x: m.sort(x, -1),
    "sort_desc_dim0": lambda m, x: x.sort(0, descending=True),
    "sort_stable_false": lambda m, x: x.sort(stable=False),
    "sort_stable": lambda m, x: x.sort(stable=True),
    "argsort": lambda m, x: m.argsort(x),
    "argsort_desc": lambda m, x: x.argsort(0, descending=True),
    "msort": lambda m, x: m.msort(x),
    "topk": lambda m, x: x.topk(5),
    "topk_one": lambda m, x: m.topk(x, 1, 0),
    "topk_smallest": lambda m, x: x.topk(9, largest=False),
    "topk_unsorted": lambda m, x: m.topk(x, 7, sorted=False),
    "kthvalue": lambda m, x: x.kthvalue(6),
    "kthvalue_dim0": lambda m, x: m.kthvalue(x, 2, 0),
    "mode": lambda m, x: x.mode(),
    "mode_dim0": lambda m, x: m.mode(x, 0),
}


@pytest.mark.parametrize("name", sorted(TIE_CALLS))
@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_, np.float32])
@pytest.mark.parametrize("shape", [(3, 12), (4, 40), (70, 3)])
def test_indices_of_equal_values_match_torch(name, dtype, shape):
    """Past 16 values PyTorch's (unstable) CPU algorithms reorder equal values; the same
    indices come out of ember, for every dtype (floats with repeated values and NaN)."""
    array = RNG.integers(0, 4, shape).astype(dtype)
    if dtype is np.float32:
        array[RNG.random(shape) < 0.1] = np.nan
    e, t = ember.from_numpy(array.copy()), torch.from_numpy(array.copy())
    try:
        expected = TIE_CALLS[name](torch, t)
    except (RuntimeError, NotImplementedError) as error:  # topk, kthvalue of bool; big k
        with pytest.raises(type(error), match=re.escape(str(error))):
            TIE_CALLS[name](ember, e)
        return
    for oe, ot in zip(outputs(TIE_CALLS[name](ember, e)), outputs(expected)):
        np.testing.assert_array_equal(oe.numpy(), ot.numpy())


# ---- topk by partition (NOTE [topk by partition]) ----------------------------------------------
def _topk_input(kind, shape, dtype, dim=-1, k=1):
    """Distinct values, or in every slice along dim values tied at the k-th place (from
    either end) or among the top and bottom ones."""
    n = int(np.prod(shape))
    values = np.moveaxis((RNG.permutation(n) - n // 2).reshape(shape).astype(dtype), dim, -1)
    ranked = np.sort(values, axis=-1)
    if kind == "tied at the k-th":  # the k-th and (k+1)-th from each end equal
        values = np.where(values == ranked[..., [k]], ranked[..., [k - 1]], values)
        values = np.where(values == ranked[..., [-k - 1]], ranked[..., [-k]], values)
    if kind == "tied among the top":  # the two largest and the two smallest equal
        values = np.where(values == ranked[..., -2:-1], ranked[..., -1:], values)
        values = np.where(values == ranked[..., 1:2], ranked[..., :1], values)
    if kind == "signed zeros":  # the two largest become -0 and +0, which are equal
        values = values.astype(np.float64)
        values = np.where(values == ranked[..., -2:-1], 0.0, values)
        values = np.where(values == ranked[..., -1:], -0.0, values)
    return np.ascontiguousarray(np.moveaxis(values, -1, dim))


@pytest.mark.parametrize("kind", ["distinct", "tied at the k-th", "tied among the top",
                                  "signed zeros"])
@pytest.mark.parametrize("shape, dim, k", [((256, 100), 1, 5), ((3, 40, 6), 1, 4),
                                           ((2000,), 0, 10), ((20, 9), 0, 8)])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_topk_by_partition_matches_torch(kind, shape, dim, k, largest, dtype):
    x = _topk_input(kind, shape, dtype, dim, k)
    got = ember.topk(ember.tensor(x), k, dim, largest)
    want = torch.topk(torch.tensor(x), k, dim, largest)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("threads", [1, 2])
def test_topk_partition_in_row_blocks(threads, monkeypatch):
    """The k-th values come from row blocks on the intra-op threads (`_kth_values`): with a
    block per row, on one thread or two, torch's values and indices, tied rows included."""
    from ember.ops import sort

    monkeypatch.setattr(sort, "_ROW_BLOCK", 1)
    x = _topk_input("distinct", (48, 70), np.float32)
    x[5] = _topk_input("tied at the k-th", (1, 70), np.float32, -1, 3)[0]
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        got = ember.topk(ember.tensor(x), 3, 1)
    finally:
        ember.set_num_threads(previous)
    want = torch.topk(torch.tensor(x), 3, 1)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_rows_in_blocks(threads, descending, monkeypatch):
    """Rows are argsorted in blocks on the intra-op threads (`_argsort_rows`) and gathered by
    one flat take (`_gather_rows`): with a block per row, torch's values and indices, ties
    (a repeated value, -0 and +0, NaNs) included."""
    from ember.ops import sort

    monkeypatch.setattr(sort, "_ROW_BLOCK", 1)
    x = _topk_input("distinct", (40, 33), np.float32)
    x[3, [2, 9, 20]] = 7.5
    x[8, 4], x[8, 5] = -0.0, 0.0
    x[11, [1, 30]] = np.nan
    previous = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        got = ember.sort(ember.tensor(x), 1, descending)
    finally:
        ember.set_num_threads(previous)
    want = torch.sort(torch.tensor(x), 1, descending)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    assert got.values.numpy().tobytes() == want.values.numpy().tobytes()


def test_topk_sorts_only_the_rows_with_equal_values(monkeypatch):
    """Rows of distinct values take the partition path; only rows with a tie at the k-th
    value, among the top k or a NaN go to the sorting path, and the result is torch's."""
    from ember.ops import sort

    sorted_rows = []
    general = sort._topk_by_sorting

    def spy(data, axis, k, largest, sorted_):
        sorted_rows.append(len(data))
        return general(data, axis, k, largest, sorted_)

    monkeypatch.setattr(sort, "_topk_by_sorting", spy)
    x = _topk_input("distinct", (64, 300), np.float32)
    ember.topk(ember.tensor(x), 5, 1)
    assert sorted_rows == []
    x[3] = _topk_input("tied among the top", (1, 300), np.float32)[0]
    x[7] = _topk_input("tied at the k-th", (1, 300), np.float32, -1, 5)[0]
    x[9, 17] = np.nan
    got = ember.topk(ember.tensor(x), 5, 1)
    assert sorted_rows == [3]
    want = torch.topk(torch.tensor(x), 5, 1)
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("shape, axis", [((200,), 0), ((7, 30), 1), ((3, 40, 5), 1)])
def test_float_order_is_the_stable_order(dtype, descending, shape, axis):
    """The quicksort order with its runs of equal values (and NaNs, -0 beside +0) put back
    in index order is NumPy's stable order, which the rest of sort.py builds on."""
    from ember.ops import sort

    x = np.round(RNG.standard_normal(shape) * 3) / 3  # many equal values
    x[RNG.random(shape) < 0.15] = np.nan
    x[RNG.random(shape) < 0.15] = -0.0
    x = x.astype(dtype)
    np.testing.assert_array_equal(sort._float_order(x, axis, descending),
                                  sort._stable_argsort(x, axis, descending))


@pytest.mark.parametrize("shape", [(37, 101), (8,), (3, 5), (0,), (64, 64)])
def test_true_positions_are_flatnonzero(shape):
    from ember.ops import sort

    mask = RNG.random(shape) < 0.1
    np.testing.assert_array_equal(sort._true_positions(mask), np.flatnonzero(mask))


@pytest.mark.parametrize("op", ["kthvalue", "mode"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shapes", [((2,), (0,)), ((3, 2), (3, 2)), ((2, 2, 2), (0,)),
                                    ((3,), (5,))])
def test_kthvalue_mode_out_resize_warnings(op, keepdim, shapes):
    """kthvalue / mode resize their outs to the keepdim shape first (mode always adds the
    reduced dim back, kthvalue when the out has one dim fewer): the warnings name those."""
    import warnings
    seen = []
    for m in (ember, torch):
        x = m.arange(12.).reshape(3, 4)
        outs = (m.empty(shapes[0]), m.empty(shapes[1], dtype=m.long))
        args = (x, 2) if op == "kthvalue" else (x, 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = getattr(m, op)(*args, keepdim=keepdim, out=outs)
        seen.append(([str(w.message) for w in caught], [list(t.shape) for t in result],
                     [t.tolist() for t in result]))
    assert seen[0] == seen[1]
