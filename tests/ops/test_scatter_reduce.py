"""scatter_reduce and index_reduce (ember/ops/scatter_reduce.py) against torch.

Every reduction (sum, prod, mean, amax, amin) with and without include_self, on inputs with ties
and zeros (where the gradients of prod, amax and amin have their special cases): values, dtypes,
grad_fn names and the gradients of input and src; float64 finite differences and second
derivatives against torch's; integer inputs; the in-place forms; the errors.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.INDEX_TOL
REDUCTIONS = ["sum", "prod", "mean", "amax", "amin"]

# Ties and zeros: x[0, 0] = 0, two zeros meet at column 1, src repeats x's values.
X = np.array([[0.0, 1.0, -2.0, 2.0], [1.0, 2.0, 0.0, -1.0], [2.0, -1.0, 1.0, 1.0]])
SRC = np.array([[1.0, 0.0, -2.0, 2.0], [2.0, 0.0, 1.0, 1.0]])
INDEX = np.array([[0, 1, 0, 2], [0, 1, 2, 2]])


def _scatter(m, x, src, reduce, include_self):
    return x.scatter_reduce(0, m.from_numpy(INDEX.copy()), src, reduce,
                            include_self=include_self)


def _index_reduce(m, x, src, reduce, include_self):
    return m.index_reduce(x, 0, m.tensor([2, 0]), src, reduce, include_self=include_self)


CALLS = {"scatter_reduce": _scatter, "index_reduce": _index_reduce}
CASES = [(call, reduce, include_self) for call in CALLS for reduce in REDUCTIONS
         for include_self in (True, False) if not (call == "index_reduce" and reduce == "sum")]


def _ids(case):
    return f"{case[0]}-{case[1]}-{'self' if case[2] else 'noself'}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_grads(case, dtype):
    call, reduce, include_self = case
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.astype(dtype)).requires_grad_()
        src = m.from_numpy(SRC.astype(dtype)).requires_grad_()
        y = CALLS[call](m, x, src * 1, reduce, include_self)
        y.backward(m.from_numpy(np.arange(12.0).reshape(3, 4).astype(dtype)))
        results.append((y, x.grad, src.grad, y.grad_fn.name()))
    for a, b in zip(results[0][:3], results[1][:3]):
        assert_same(a, b, **TOL)
    assert results[0][3] == results[1][3]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradcheck_and_double_backward(case):
    call, reduce, include_self = case
    x64 = RNG.standard_normal((3, 4))
    src64 = RNG.standard_normal((2, 4))

    def f(x, src):
        return CALLS[call](ember, x, src, reduce, include_self)

    leaves = [ember.from_numpy(a.copy()).requires_grad_() for a in (x64, src64)]
    assert ember.autograd.gradcheck(f, leaves)
    results = []
    for m in (ember, torch):
        x, src = (m.from_numpy(a.copy()).requires_grad_() for a in (x64, src64))
        y = CALLS[call](m, x, src, reduce, include_self)
        w = m.from_numpy(np.linspace(-1, 1, 12).reshape(3, 4))
        grads = m.autograd.grad((y * y * w).sum(), [x, src], create_graph=True)
        total = sum((g * g).sum() for g in grads)
        results.append([*grads, *m.autograd.grad(total, [x, src])])
    for a, b in zip(*results):
        assert_same(a, b, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_integer_inputs(reduce, include_self):
    results = []
    for m in (ember, torch):
        x = m.from_numpy((X * 3).astype(np.int64))
        src = m.from_numpy((SRC * 5 + 1).astype(np.int64))
        results.append(_scatter(m, x, src, reduce, include_self))
    assert_same(*results, exact=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_low_precision(reduce, dtype):
    """scatter_reduce reduces float16/bfloat16 in float32, index_reduce in the dtype itself:
    both bit for bit as torch."""
    x64, src64 = RNG.standard_normal((5, 6)) * 3, RNG.standard_normal((8, 6)) * 3
    index = RNG.integers(0, 5, (8, 6))
    results = []
    for m in (ember, torch):
        x = m.from_numpy(x64.astype(np.float32)).to(getattr(m, dtype))
        src = m.from_numpy(src64.astype(np.float32)).to(getattr(m, dtype))
        y = x.scatter_reduce(0, m.from_numpy(index.copy()), src, reduce)
        z = (x.index_reduce(0, m.tensor([0, 2, 0]), src[:3], reduce) if reduce != "sum"
             else y)
        results.append((y, z))
    for a, b in zip(*results):
        assert a.dtype == getattr(ember, dtype)
        assert_same(a.float(), b.float(), exact=True)


def test_src_larger_than_index_and_0d():
    """Only src[:index.shape] is read (torch's own backward rejects this case, so ember's
    gradient is checked by finite differences)."""
    src64 = RNG.standard_normal((3, 5))
    results = []
    for m in (ember, torch):
        y = m.from_numpy(X.copy()).scatter_reduce(1, m.tensor([[0, 2], [1, 1]]),
                                                   m.from_numpy(src64.copy()), "amax")
        z = m.scatter_reduce(m.tensor(2.0), 0, m.tensor([0, 0]), m.tensor([3.0, 4.0]), "prod")
        results.append((y, z))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)
    leaves = [ember.from_numpy(a.copy()).requires_grad_() for a in (X + 0.1, src64)]
    index = ember.tensor([[0, 2], [1, 1]])
    assert ember.autograd.gradcheck(lambda x, s: x.scatter_reduce(1, index, s, "mean"), leaves)


@pytest.mark.parametrize("reduce", REDUCTIONS)
@pytest.mark.parametrize("include_self", [True, False])
def test_0d_input(reduce, include_self):
    results = []
    for m in (ember, torch):
        x, src = m.tensor(2.0, requires_grad=True), m.tensor([3.0, 4.0], requires_grad=True)
        y = x.scatter_reduce(0, m.tensor([0, 0]), src, reduce, include_self=include_self)
        y.backward()
        results.append((y, x.grad, src.grad, y.grad_fn.name()))
        if reduce != "sum":
            x, src = m.tensor(2.0, requires_grad=True), m.tensor(3.0, requires_grad=True)
            z = x.index_reduce(0, m.tensor([0]), src, reduce, include_self=include_self)
            z.backward()
            results[-1] += (z, x.grad, src.grad, z.grad_fn.name())
    for a, b in zip(*results):
        if isinstance(a, str):
            assert a == b
        else:
            assert_same(a, b, **TOL)


def test_max_min_forward_only():
    """torch's forward takes reduce='max'/'min' (as amax/amin); its backward raises."""
    for reduce in ("max", "min"):
        results = []
        for m in (ember, torch):
            x = m.tensor([1.0, 5.0, 0.0], requires_grad=True)
            y = x.scatter_reduce(0, m.tensor([0, 1]), m.tensor([3.0, 2.0]), reduce)
            results.append(y)
            with pytest.raises(RuntimeError, match="Expected 'reduce'"):
                y.sum().backward()
        assert_same(*results, **TOL)


def test_inplace_forms():
    results = []
    for m in (ember, torch):
        x = m.from_numpy(X.copy())
        x.scatter_reduce_(0, m.from_numpy(INDEX.copy()), m.from_numpy(SRC.copy()), "mean")
        x.index_reduce_(1, m.tensor([3, 3]), m.ones(3, 2, dtype=m.float64) * 4, "amax",
                        include_self=False)
        y = m.tensor(2.0)
        y.index_reduce_(0, m.tensor(0), m.tensor(3.0), "prod")
        results.append((x, y))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


ERRORS = [
    lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1), "add"),
    lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1, dtype=m.float64), "sum"),
    lambda m: m.zeros(3).scatter_reduce(0, m.tensor([5]), m.ones(1), "sum"),
    lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0.0]), m.ones(1), "sum"),
    lambda m: m.zeros(3).index_reduce(0, m.tensor([0]), m.ones(1), "sum"),
    lambda m: m.zeros(3).index_reduce(0, m.tensor([0]), m.ones(1, dtype=m.float64), "prod"),
    lambda m: m.tensor(2.0).index_reduce(0, m.tensor([0]), m.tensor([3.0]), "prod"),
    lambda m: m.ones(3, dtype=m.bool).scatter_reduce(0, m.tensor([0]), m.ones(1, dtype=m.bool),
                                                     "mean"),
    lambda m: m.ones(3, 2, dtype=m.bool).index_reduce(0, m.tensor([0, 0, 1]),
                                                      m.ones(3, 2, dtype=m.bool), "mean"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    assert_same_error(ERRORS[index], same_message=index in (0, 1, 4, 5, 6, 7, 8))


# Issue #19's fuzz: torch's result or its exception class, in torch's order of checks.
test_bad_calls = _tables.result_or_error({
    "scatter_reduce, an empty float index of another rank": lambda m: m.scatter_reduce(
        m.ones(2, 3), 1, m.zeros(2, 0, 3), m.ones(2, 3), "amax"),
    "scatter_reduce, src of more dims": lambda m: m.scatter_reduce(
        m.ones(3, 4), 0, m.zeros(2, 2, dtype=m.int64), m.ones(2, 0, 3), "sum"),
    "scatter_reduce, src smaller than the index": lambda m: m.scatter_reduce(
        m.ones(3, 4), 0, m.zeros(2, 2, dtype=m.int64), m.ones(1, 1), "mean"),
    "index_reduce, a float index": lambda m: m.ones(3, 4).index_reduce(
        0, m.zeros(2), m.ones(2, 4), "amax"),
    "index_reduce, an empty float index": lambda m: m.ones(3, 4).index_reduce(
        0, m.zeros(0), m.ones(0, 4), "amin"),
    "index_reduce, a 2-D index": lambda m: m.ones(3, 4).index_reduce(
        0, m.zeros(1, 2, dtype=m.int64), m.ones(2, 4), "prod"),
    "index_reduce, a negative index": lambda m: m.ones(3, 4).index_reduce(
        0, m.tensor([-1, 0]), m.ones(2, 4), "mean"),
    "index_reduce, a 0-d source into an empty input": lambda m: m.zeros(0).index_reduce(
        0, m.tensor([0]), m.tensor(1.0), "amax"),
})
