"""Reductions and scans (ember/ops/reduction.py) against torch: sum, nansum, mean, prod, var,
std, var_mean, std_mean, all, any, count_nonzero, cumsum, cumprod.

A table of calls drives the generic tests (tests/ops/_tables.py): each entry is a function of the
library (`ember` or `torch`) and an input tensor, run on the same NumPy values in both, comparing
values, dtypes, shapes, grad_fn names and gradients. Then float64 finite differences, second
derivatives, PyTorch's gradient conventions at zeros, dtype rules, 0-d and empty inputs, and errors.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, sample
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.REDUCTION_TOL

# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
    "sum": (lambda m, x: m.sum(x), "randn", (3, 4)),
    "sum_dim": (lambda m, x: x.sum(1), "randn", (3, 4)),
    "sum_dims_keepdim": (lambda m, x: m.sum(x, (0, 2), keepdim=True), "randn", (2, 3, 4)),
    "sum_negdim": (lambda m, x: x.sum(dim=-1), "randn", (2, 3, 4)),
    "sum_empty_list": (lambda m, x: x.sum(dim=[]), "randn", (2, 3)),
    "sum_dtype": (lambda m, x: x.sum(0, dtype=m.float64), "randn", (3, 4)),
    "sum_0d": (lambda m, x: x.sum(), "randn", ()),
    "sum_0d_dim": (lambda m, x: x.sum(0), "randn", ()),
    "sum_none_keepdim": (lambda m, x: x.sum(dim=None, keepdim=True), "randn", (2, 3)),
    "mean": (lambda m, x: x.mean(), "randn", (3, 4)),
    "mean_dim": (lambda m, x: m.mean(x, dim=0), "randn", (3, 4)),
    "mean_keepdim": (lambda m, x: x.mean((-1, 0), keepdim=True), "randn", (2, 3, 4)),
    "mean_dtype": (lambda m, x: x.mean(1, dtype=m.float64), "randn", (3, 4)),
    "nansum": (lambda m, x: m.nansum(x, 1), "randn", (3, 4)),
    "prod": (lambda m, x: x.prod(), "pos", (3, 4)),
    "prod_dim": (lambda m, x: x.prod(1, keepdim=True), "randn", (3, 4)),
    "prod_ties": (lambda m, x: x.prod(0), "ties", (4, 5)),
    "var": (lambda m, x: x.var(), "randn", (3, 4)),
    "var_dim": (lambda m, x: m.var(x, 1), "randn", (3, 4)),
    "var_unbiased_false": (lambda m, x: x.var(1, unbiased=False, keepdim=True), "randn", (3, 4)),
    "var_correction": (lambda m, x: x.var((0, 1), correction=0), "randn", (2, 3, 4)),
    "var_bool_arg": (lambda m, x: x.var(False), "randn", (3, 4)),
    "std": (lambda m, x: x.std(), "randn", (3, 4)),
    "std_dim": (lambda m, x: m.std(x, -1, keepdim=True), "randn", (3, 4)),
    "std_correction": (lambda m, x: x.std(0, correction=2), "randn", (5, 2)),
    "cumsum": (lambda m, x: x.cumsum(1), "randn", (3, 4)),
    "cumsum_neg": (lambda m, x: m.cumsum(x, dim=-2), "randn", (2, 3, 4)),
    "cumsum_dtype": (lambda m, x: x.cumsum(0, dtype=m.float64), "randn", (3, 4)),
    "cumprod": (lambda m, x: x.cumprod(1), "randn", (3, 4)),
    "cumprod_zeros": (lambda m, x: m.cumprod(x, 0), "ties", (6, 5)),
    "count_nonzero": (lambda m, x: m.count_nonzero(x), "ties", (3, 4)),
    "count_nonzero_dim": (lambda m, x: m.count_nonzero(x, dim=(0, 1)), "ties", (3, 4, 2)),
    "all": (lambda m, x: x.all(), "ties", (3, 4)),
    "any_dim": (lambda m, x: m.any(x, 1, keepdim=True), "ties", (3, 4)),
    "var_mean": (lambda m, x: m.var_mean(x, 1), "randn", (3, 4)),
    "std_mean": (lambda m, x: m.std_mean(x, correction=0), "randn", (3, 4)),
}
# Calls that also run on 0-d and empty inputs (and what those inputs look like).
CASES.update({
    "cumsum_0d": (lambda m, x: x.cumsum(-1), "randn", ()),
    "cumprod_0d": (lambda m, x: x.cumprod(0), "randn", ()),
})
ZERO_DIM = ["sum", "sum_0d_dim", "mean", "prod", "all", "var", "std", "cumsum_0d", "cumprod_0d"]
EMPTY = {
    "sum": (0, 3), "sum_dim": (0, 3), "mean": (0,), "mean_dim": (0, 3), "prod": (0,),
    "prod_dim": (3, 0), "var": (0,), "cumsum": (2, 0), "all": (0,), "any_dim": (2, 0),
    "count_nonzero": (0, 2),
}

test_forward = _tables.reduction_forward(RNG, CASES)
test_backward = _tables.reduction_backward(RNG, CASES)
test_zero_dim = _tables.reduction_zero_dim(RNG, CASES, ZERO_DIM)
test_empty = _tables.reduction_empty(RNG, CASES, EMPTY)
test_empty_backward = _tables.reduction_empty_backward(
    RNG, CASES, ["sum", "mean_dim", "prod", "cumsum"], EMPTY)

# ---- finite differences and second derivatives -------------------------------------------------
GRADCHECK = ["sum_dims_keepdim", "mean_keepdim", "prod_dim", "var_dim", "std_dim", "cumsum",
             "cumprod"]
SECOND_ORDER = ["sum_dim", "mean_keepdim", "prod", "prod_ties", "var_dim", "std_dim", "cumsum",
                "cumprod", "cumprod_zeros"]
test_gradcheck_float64 = _tables.reduction_gradcheck(RNG, CASES, GRADCHECK)
test_double_backward = _tables.reduction_double_backward(RNG, CASES, SECOND_ORDER)


# ---- PyTorch's gradient conventions ------------------------------------------------------------
def _grad(lib, values, fn):
    x = lib.tensor(values, requires_grad=True)
    fn(x).backward()
    return x.grad.tolist()


@pytest.mark.parametrize("values, fn, expected", [
    ([2.0, 0.0, 3.0], lambda x: x.prod(), [0.0, 6.0, 0.0]),              # single zero
    ([0.0, 2.0, 0.0], lambda x: x.prod(), [0.0, 0.0, 0.0]),              # two zeros
    ([2.0, 0.0, 3.0, 4.0], lambda x: x.cumprod(0).sum(), [1.0, 2 + 6 + 24, 0.0, 0.0]),
    ([3.0, 3.0], lambda x: x.std(), [0.0, 0.0]),                         # 0 where std = 0
])
def test_gradient_conventions(values, fn, expected):
    np.testing.assert_allclose(_grad(torch, values, fn), expected, rtol=1e-6)
    np.testing.assert_allclose(_grad(ember, values, fn), _grad(torch, values, fn), rtol=1e-6)


def test_var_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        torch.tensor([1.0]).std()
    with pytest.warns(UserWarning, match="std\\(\\): degrees of freedom is <= 0"):
        value = ember.tensor([1.0]).std()
    assert np.isnan(value.item())


@pytest.mark.parametrize("call", [lambda m, x: x.std(), lambda m, x: x.var(),
                                  lambda m, x: m.var_mean(x), lambda m, x: m.std_mean(x),
                                  lambda m, x: m.cov(x[None])])
def test_degrees_of_freedom_warning_is_torchs(call):
    """The warning names the op (var_mean, not var) and ends as torch's C++ warnings do."""
    messages = []
    for m in (torch, ember):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(m, m.tensor([1.0]))
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1


# ---- dtype rules -------------------------------------------------------------------------------
test_integer_and_bool_dtypes = _tables.reduction_integer_dtypes(RNG, [
    lambda m, x: x.sum(), lambda m, x: x.sum(0), lambda m, x: x.prod(), lambda m, x: x.cumsum(0),
    lambda m, x: x.cumprod(0), lambda m, x: x.all(), lambda m, x: x.any(0),
    lambda m, x: x.mean(dtype=m.float32), lambda m, x: x.sum(dtype=m.float32),
    lambda m, x: m.count_nonzero(x),
])


def test_float16_accumulates_in_float32():
    e, t = both(np.full((5000,), 0.1, dtype=np.float16))
    for call in (lambda x: x.sum(), lambda x: x.mean(), lambda x: x.cumsum(0)):
        assert_same(call(e), call(t), rtol=1e-3, atol=1e-5)


def test_float64_stays_float64():
    """Also norm, softmax and logsumexp (extrema.py, softmax.py): the float64 paths together."""
    e, t = both(sample(RNG, "randn", (3, 4), np.float64))
    for call in (lambda x: x.sum(1), lambda x: x.mean(), lambda x: x.var(0), lambda x: x.norm(),
                 lambda x: x.softmax(0), lambda x: x.logsumexp(1)):
        assert_same(call(e), call(t), **TOL)


# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: x.sum(2), (3, 4), np.float32),
    (lambda m, x: x.sum((0, 0)), (3, 4), np.float32),
    (lambda m, x: x.sum((0, -2)), (3, 4), np.float32),
    (lambda m, x: x.sum(1), (), np.float32),
    (lambda m, x: x.mean(), (3,), np.int64),
    (lambda m, x: x.var(), (3,), np.int64),
    (lambda m, x: x.std(0), (3,), np.int32),
    (lambda m, x: x.cumsum(1), (3,), np.float32),
])


def test_cumprod_float32_multiplies_in_double():
    """PyTorch's CPU cumprod keeps a double product: past float32's range, times 0 gives 0
    (not inf·0 = NaN), and the rounded values agree bit for bit (issue #19's fuzz)."""
    x = np.array([[7e27, 7e27, -0.0, 2.0], [1e30, 1e30, 1e-30, 0.0]], dtype=np.float32)
    x = np.concatenate([x, np.random.default_rng(0).standard_normal((3, 4), dtype=np.float32)])
    e = ember.cumprod(ember.from_numpy(x.copy()), 1).numpy()
    t = torch.cumprod(torch.from_numpy(x.copy()), 1).numpy()
    np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("name", ["var", "std"])
def test_float32_variance_accumulates_in_double(name):
    """torch's CPU var/std sum float32 squares in double: squares past float32's range
    (1e19² ≈ 1e38, four of them) still give a finite float32 result; three equal values give
    torch's rounding of the float32 mean (√6 for 3.2014292e7), not 0."""
    for value in (3.2014292e7, 1.0):
        equal = np.full(3, value, dtype=np.float32)
        assert_same(getattr(ember, name)(ember.tensor(equal)),
                    getattr(torch, name)(torch.tensor(equal)))
    a = np.zeros((4, 1, 3), dtype=np.float32)
    a[:, 0, 2] = 1.4288787e19
    for dim in (None, 0, (0, 2)):
        expected = getattr(torch, name)(torch.tensor(a), dim)
        result = getattr(ember, name)(ember.tensor(a), dim)
        assert_same(result, expected)
        assert np.isfinite(result.numpy()).all()


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
@pytest.mark.parametrize("values, dim", [
    ([[1.0, INF, 2.0], [3.0, 4.0, 5.0]], 1),      # an infinity before the last: NaN mean
    ([[1.0, INF, 2.0], [3.0, 4.0, 5.0]], 0),      # ... reduced along the other dim
    ([[1.0, 3.0, 2.0], [3.0, INF, 5.0]], 0),      # an infinity last: that infinity
    ([1.0, 2.0, -INF], None),
    ([1.0, NAN, INF], None),
    ([3e38, 3e38, -3e38, 1e38], None),            # a float32 sum past the range: finite mean
])
def test_var_mean_is_a_running_mean(name, values, dim):
    """NOTE [var_mean's running mean]: torch's Welford reduction in double (issue #19's fuzz)."""
    for dtype in (np.float32, np.float64):
        array = np.array(values, dtype=dtype)
        expected = getattr(torch, name)(torch.tensor(array), dim)
        result = getattr(ember, name)(ember.tensor(array), dim)
        for r, e in zip(result, expected):
            assert_same(r, e)


INF_MINUS_INF = {
    "sum": lambda lib, x: x.sum(), "sum dim": lambda lib, x: x.sum(-1),
    "sum of halves": lambda lib, x: x.half().sum(-1), "mean": lambda lib, x: x.mean(-1),
    "cumsum": lambda lib, x: x.cumsum(-1), "nansum": lambda lib, x: x.nansum(),
    "var": lambda lib, x: x.var(), "std dim": lambda lib, x: x.std(-1),
    "var float64": lambda lib, x: x.double().var(-1), "trace": lambda lib, x: x.trace(),
}


@pytest.mark.parametrize("name", sorted(INF_MINUS_INF))
def test_inf_minus_inf_is_silent_as_in_torch(name):
    """Reductions meeting inf and -inf give nan without NumPy's RuntimeWarning, as torch does
    (NumPy's Python wrappers escaped ember's filter: NOTE [NumPy's floating-point warnings])."""
    rows = np.array([[np.inf, -np.inf], [np.inf, -np.inf], [1.0, 2.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (as `python -W error`: ember's own filter goes first)
        warnings.filterwarnings("ignore", message=r"(invalid value|overflow|divide by zero|"
                                r"underflow) encountered in ", category=RuntimeWarning,
                                module=r"ember(\.|$)")
        got = INF_MINUS_INF[name](ember, ember.tensor(rows))
    assert_same(got, INF_MINUS_INF[name](torch, torch.tensor(rows)))  # (nan == nan here)


def _chain(node, length=4):
    """The names along the first-input path from node, `length` of them."""
    names = []
    while node is not None and len(names) < length:
        names.append(node.name())
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return names


DOUBLE_BACKWARD = {
    "sum over a dim": lambda x: x.exp().sum(1),
    "sum over two dims": lambda x: x.exp().sum((0, 2)),
    "sum over all": lambda x: x.exp().sum(),
    "sum keepdim": lambda x: x.exp().sum(1, keepdim=True),
    "mean over a dim": lambda x: x.exp().mean(1),
    "mean over two dims": lambda x: x.exp().mean((0, 1)),
    "mean over all": lambda x: x.exp().mean(),
}


@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_double_backward_graph_of_sum_and_mean_as_torch(name):
    """PyTorch's sum_backward unsqueezes the reduced dims and expands, mean_backward divides that
    by n: a J·v by double backward (autograd.functional.jvp) ends in their derivatives'
    nodes (SqueezeBackward1 ... SumBackward1, DivBackward1; SumBackward0 for a full sum)."""
    chains = []
    for lib in (ember, torch):
        x = lib.from_numpy(np.linspace(0.1, 1, 24).reshape(2, 3, 4))
        _, tangent = lib.autograd.functional.jvp(DOUBLE_BACKWARD[name], x, lib.ones_like(x),
                                                 create_graph=True)
        chains.append((_chain(tangent.grad_fn), tangent.detach().numpy()))
    assert chains[0][0] == chains[1][0]
    np.testing.assert_allclose(chains[0][1], chains[1][1], rtol=1e-12)
