"""segment_reduce (ember/ops/segment_reduce.py) against torch: every reduction, by lengths and
by offsets, empty segments with and without `initial`, a batched axis, ties (max/min split
the gradient) and zeros (prod's gradient), float16, unsafe mode, and the errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.ops import _tables

RNG = np.random.default_rng(0)
REDUCTIONS = ["sum", "prod", "mean", "max", "min"]


def _data():
    x = RNG.integers(-3, 4, (7, 2)).astype(np.float64)  # repeated values: ties, zeros
    return x


def _segments(by):
    lengths = np.array([2, 0, 4, 1, 0])
    if by == "lengths":
        return {"lengths": lengths}
    return {"offsets": np.concatenate([[0], np.cumsum(lengths)])}


def _run(lib, x, reduce, kwargs, grad=True):
    t = lib.from_numpy(x.copy()).requires_grad_(grad)
    converted = {k: lib.from_numpy(v) if isinstance(v, np.ndarray) else v
                 for k, v in kwargs.items()}
    y = lib.segment_reduce(t, reduce, **converted)
    if grad:
        w = np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape))
        (y.nan_to_num(0.0, 0.0, 0.0) * lib.from_numpy(w)).sum().backward()
    return y, t.grad


@pytest.mark.parametrize("initial", [None, 2.5])
@pytest.mark.parametrize("by", ["lengths", "offsets"])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_values_and_grads(reduce, by, initial):
    x = _data()
    kwargs = {**_segments(by), "initial": initial}
    (ye, ge), (yt, gt) = (_run(lib, x, reduce, kwargs) for lib in (ember, torch))
    assert_same(ye, yt, 1e-12, 1e-12)
    assert_same(ge, gt, 1e-12, 1e-12)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_batched_axis_float32_and_aliases(reduce):
    """axis 1 with one row of lengths per leading index; `_segment_reduce` is the same op."""
    x = RNG.standard_normal((2, 6, 3)).astype(np.float32)
    lengths = np.array([[2, 4], [3, 3]])
    ye, ge = _run(ember, x, reduce, {"lengths": lengths, "axis": 1})
    yt, gt = _run(torch, x, reduce, {"lengths": lengths, "axis": 1})
    assert_same(ye, yt, 1e-5, 1e-5)
    assert_same(ge, gt, 1e-5, 1e-5)
    e = ember._segment_reduce(ember.from_numpy(x), reduce, lengths=ember.from_numpy(lengths),
                              axis=1)
    assert_same(e, yt.detach(), 1e-5, 1e-5)


def test_float16_and_unsafe():
    x = RNG.standard_normal(6).astype(np.float16)
    for kwargs in ({"lengths": np.array([2, 4])}, {"lengths": np.array([2, 3]), "unsafe": True}):
        ye, _ = _run(ember, x, "mean", kwargs, grad=False)
        yt, _ = _run(torch, x, "mean", kwargs, grad=False)
        assert_same(ye, yt, 1e-3, 1e-3)


ERRORS = {
    "no_segments": lambda m, x, n: m.segment_reduce(x, "sum"),
    "bad_reduce": lambda m, x, n: m.segment_reduce(x, "foo", lengths=n),
    "negative_length": lambda m, x, n: m.segment_reduce(x, "sum", lengths=n - 3),
    "wrong_total": lambda m, x, n: m.segment_reduce(x, "sum", lengths=n[:1]),
    "integer_data": lambda m, x, n: m.segment_reduce(x.long(), "sum", lengths=n),
    "float_lengths": lambda m, x, n: m.segment_reduce(x, "sum", lengths=n.float()),
    "indices": lambda m, x, n: m.segment_reduce(x, "sum", lengths=n, indices=n),
    "axis_out_of_range": lambda m, x, n: m.segment_reduce(x, "sum", lengths=n, axis=2),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    assert_same_error(ERRORS[name], RNG.standard_normal(6), np.array([2, 4]))


# ---- issue #19's fuzz: PyTorch's order of checks, offsets that do not span data ---------------
def _segment_call(data, reduce="sum", **kwargs):
    return lambda m: m.segment_reduce(m.tensor(data), reduce, axis=0, **kwargs)


X5 = [1.0, 2.0, 3.0, 4.0, 5.0]
CHECKS = {
    "0-d data, lengths": lambda m: _segment_call(2.0, "max", lengths=m.tensor([1]))(m),
    "0-d data, offsets": lambda m: _segment_call(2.0, "max", offsets=m.tensor([0, 1]))(m),
    "0-d data, 0-d lengths": lambda m: _segment_call(2.0, lengths=m.tensor(1))(m),
    "no segments before a bad reduce": lambda m: m.segment_reduce(m.tensor(X5), "foo"),
    "integer data, wrong total": lambda m: _segment_call([1, 2], lengths=m.tensor([3]))(m),
    "integer data, 2-d lengths": lambda m: _segment_call([1, 2], lengths=m.tensor([[3]]))(m),
    "bool lengths": lambda m: _segment_call(X5, lengths=m.tensor([True]))(m),
    "uint8 lengths": lambda m: _segment_call(X5, lengths=m.tensor([5], dtype=m.uint8))(m),
    "no lengths": lambda m: _segment_call(X5, lengths=m.ones(0, dtype=m.int64))(m),
    "offsets short of the end": lambda m: _segment_call(X5, "mean", offsets=m.tensor([0, 1, 3]))(m),
    "offsets from 2": lambda m: _segment_call(X5, "prod", offsets=m.tensor([2, 4]))(m),
    "one offset": lambda m: _segment_call(X5, "max", offsets=m.tensor([1]))(m),
    "decreasing offsets": lambda m: _segment_call(X5, offsets=m.tensor([0, 3, 1, 5]))(m),
    "offsets and lengths": lambda m: _segment_call(X5, lengths=m.tensor([5]),
                                                   offsets=m.tensor([0, 2]))(m),
    "unsafe negative lengths": lambda m: _segment_call(X5, lengths=m.tensor([-1, 6]),
                                                       unsafe=True)(m),
}


# torch's result, or (a subclass of) its exception class
test_checks_in_torch_order = _tables.result_or_error(CHECKS)


def test_offsets_past_data_are_refused():
    """NOTE [segment_reduce's offsets out of range]: torch reads outside data's memory there."""
    with pytest.raises(RuntimeError, match="offsets must lie in"):
        ember.segment_reduce(ember.ones(2), "sum", offsets=ember.tensor([0, 1, 3]), axis=0)
