"""Reductions, scans, sorting and softmax (ember/ops/reduction.py) against torch.

A table of calls drives the generic tests: each entry is a function of the library (`ember` or
`torch`) and an input tensor, run on the same NumPy values in both, comparing values, dtypes,
shapes, grad_fn names and gradients. Then float64 finite differences, second derivatives, PyTorch's
gradient conventions at ties and zeros, dtype rules, 0-d and empty inputs, and errors.
"""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, outputs

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _sample(kind, shape, dtype=np.float32):
    """Inputs: distinct floats, floats with ties, positive floats, ints, bools."""
    if kind == "randn":
        array = RNG.standard_normal(shape)
    elif kind == "ties":
        array = RNG.integers(-2, 3, shape)
    elif kind == "pos":
        array = RNG.uniform(0.5, 2.0, shape)
    elif kind == "int":
        array = RNG.integers(-5, 6, shape)
    elif kind == "bool":
        array = RNG.integers(0, 2, shape).astype(bool)
    else:
        raise ValueError(kind)
    return np.asarray(array).astype(dtype)


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
    "max": (lambda m, x: x.max(), "randn", (3, 4)),
    "max_ties": (lambda m, x: x.max(), "ties", (3, 4)),
    "max_dim": (lambda m, x: x.max(1), "randn", (3, 4)),
    "max_dim_keepdim": (lambda m, x: m.max(x, -2, keepdim=True), "randn", (2, 3, 4)),
    "max_dim_ties": (lambda m, x: x.max(dim=0), "ties", (4, 5)),
    "min": (lambda m, x: m.min(x), "ties", (3, 4)),
    "min_dim": (lambda m, x: x.min(0), "ties", (4, 5)),
    "max_binary": (lambda m, x: m.max(x, m.zeros_like(x)), "ties", (3, 4)),
    "amax": (lambda m, x: x.amax(), "ties", (3, 4)),
    "amax_dims": (lambda m, x: m.amax(x, (0, 2)), "ties", (3, 2, 4)),
    "amin_keepdim": (lambda m, x: x.amin(1, keepdim=True), "ties", (3, 4)),
    "aminmax": (lambda m, x: m.aminmax(x), "ties", (3, 4)),
    "aminmax_dim": (lambda m, x: m.aminmax(x, dim=1, keepdim=True), "ties", (3, 4)),
    "argmax": (lambda m, x: x.argmax(), "ties", (3, 4)),
    "argmax_dim": (lambda m, x: x.argmax(1, keepdim=True), "ties", (3, 4)),
    "argmin_dim": (lambda m, x: m.argmin(x, dim=0), "ties", (3, 4)),
    "logsumexp": (lambda m, x: m.logsumexp(x, 1), "randn", (3, 4)),
    "logsumexp_dims": (lambda m, x: x.logsumexp((0, 1), keepdim=True), "randn", (3, 4)),
    "logsumexp_large": (lambda m, x: (x * 1000).logsumexp(0), "randn", (3, 4)),
    "norm": (lambda m, x: x.norm(), "randn", (3, 4)),
    "norm_dim": (lambda m, x: m.norm(x, dim=1, keepdim=True), "randn", (3, 4)),
    "norm_fro": (lambda m, x: x.norm(p="fro", dim=(0, 1)), "randn", (3, 4)),
    "norm_p1": (lambda m, x: x.norm(p=1, dim=0), "randn", (3, 4)),
    "norm_inf": (lambda m, x: x.norm(p=math.inf), "ties", (3, 4)),
    "norm_neginf": (lambda m, x: x.norm(p=-math.inf, dim=1), "randn", (3, 4)),
    "norm_p3": (lambda m, x: x.norm(p=3, dim=-1), "randn", (3, 4)),
    "norm_p0": (lambda m, x: x.norm(p=0), "ties", (3, 4)),
    "cumsum": (lambda m, x: x.cumsum(1), "randn", (3, 4)),
    "cumsum_neg": (lambda m, x: m.cumsum(x, dim=-2), "randn", (2, 3, 4)),
    "cumsum_dtype": (lambda m, x: x.cumsum(0, dtype=m.float64), "randn", (3, 4)),
    "cumprod": (lambda m, x: x.cumprod(1), "randn", (3, 4)),
    "cumprod_zeros": (lambda m, x: m.cumprod(x, 0), "ties", (6, 5)),
    "sort": (lambda m, x: x.sort(), "randn", (3, 4)),
    "sort_desc": (lambda m, x: m.sort(x, 0, descending=True), "randn", (3, 4)),
    "sort_stable_ties": (lambda m, x: x.sort(dim=1, stable=True), "ties", (3, 8)),
    "sort_stable_ties_desc": (lambda m, x: x.sort(dim=1, descending=True, stable=True), "ties",
                              (3, 8)),
    "argsort": (lambda m, x: m.argsort(x, dim=1, stable=True), "ties", (3, 8)),
    "argsort_desc": (lambda m, x: x.argsort(dim=0, descending=True, stable=True), "ties", (8, 3)),
    "topk": (lambda m, x: x.topk(2), "randn", (3, 5)),
    "topk_smallest": (lambda m, x: m.topk(x, 3, dim=0, largest=False), "randn", (4, 3)),
    "softmax": (lambda m, x: x.softmax(1), "randn", (3, 4)),
    "softmax_neg": (lambda m, x: m.softmax(x, -3), "randn", (2, 3, 4)),
    "softmax_large": (lambda m, x: m.softmax(x * 1000, 0), "randn", (3, 4)),
    "softmax_dtype": (lambda m, x: m.softmax(x, 1, dtype=m.float64), "randn", (3, 4)),
    "log_softmax": (lambda m, x: x.log_softmax(1), "randn", (3, 4)),
    "log_softmax_large": (lambda m, x: m.log_softmax(x * 1000, 0), "randn", (3, 4)),
    "median": (lambda m, x: x.median(), "randn", (3, 5)),
    "median_ties": (lambda m, x: x.median(), "ties", (3, 5)),
    "median_dim": (lambda m, x: m.median(x, 1), "randn", (3, 5)),
    "median_even": (lambda m, x: x.median(0, keepdim=True), "randn", (4, 3)),
    "count_nonzero": (lambda m, x: m.count_nonzero(x), "ties", (3, 4)),
    "count_nonzero_dim": (lambda m, x: m.count_nonzero(x, dim=(0, 1)), "ties", (3, 4, 2)),
    "all": (lambda m, x: x.all(), "ties", (3, 4)),
    "any_dim": (lambda m, x: m.any(x, 1, keepdim=True), "ties", (3, 4)),
    "var_mean": (lambda m, x: m.var_mean(x, 1), "randn", (3, 4)),
    "std_mean": (lambda m, x: m.std_mean(x, correction=0), "randn", (3, 4)),
}
# Calls that also run on 0-d and empty inputs (and what those inputs look like).
CASES.update({
    "max_0d_dim": (lambda m, x: x.max(0), "randn", ()),
    "topk_0d": (lambda m, x: x.topk(1), "randn", ()),
    "argmax_0d": (lambda m, x: x.argmax(0), "randn", ()),
    "logsumexp_0d": (lambda m, x: x.logsumexp(0), "randn", ()),
    "cumsum_0d": (lambda m, x: x.cumsum(-1), "randn", ()),
    "cumprod_0d": (lambda m, x: x.cumprod(0), "randn", ()),
    "softmax_0d": (lambda m, x: x.softmax(0), "randn", ()),
    "log_softmax_0d": (lambda m, x: m.log_softmax(x, -1), "randn", ()),
    "median_0d": (lambda m, x: x.median(0), "randn", ()),
})
ZERO_DIM = ["sum", "sum_0d_dim", "mean", "prod", "max", "amax", "argmax", "norm", "sort",
            "median", "all", "var", "std", "max_0d_dim", "topk_0d", "argmax_0d", "logsumexp_0d",
            "cumsum_0d", "cumprod_0d", "softmax_0d", "log_softmax_0d", "median_0d"]
EMPTY = {
    "sum": (0, 3), "sum_dim": (0, 3), "mean": (0,), "mean_dim": (0, 3), "prod": (0,),
    "prod_dim": (3, 0), "var": (0,), "max_dim": (0, 3), "amax_dims": (3, 0, 2),
    "logsumexp": (3, 0), "norm_dim": (0, 3), "cumsum": (2, 0), "sort": (0, 3),
    "softmax": (0, 3), "log_softmax": (2, 0), "all": (0,), "any_dim": (2, 0),
    "count_nonzero": (0, 2),
}


def _run(case, array, requires_grad=False):
    call = CASES[case][0]
    e, t = both(array, requires_grad)
    return e, t, call(ember, e), call(torch, t)


def _compare(result_e, result_t):
    assert type(result_e).__name__ == type(result_t).__name__ or not isinstance(result_t, tuple)
    outs_e, outs_t = outputs(result_e), outputs(result_t)
    assert len(outs_e) == len(outs_t)
    for oe, ot in zip(outs_e, outs_t):
        assert_same(oe, ot, **TOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case):
    _, kind, shape = CASES[case]
    _compare(*_run(case, _sample(kind, shape))[2:])


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    _, kind, shape = CASES[case]
    e, t, ye, yt = _run(case, _sample(kind, shape), requires_grad=True)
    outs_e = [o for o in outputs(ye) if o.requires_grad]
    outs_t = [o for o in outputs(yt) if o.requires_grad]
    assert len(outs_e) == len(outs_t)
    if not outs_t:
        return
    for oe, ot in zip(outs_e, outs_t):
        assert oe.grad_fn.name() == ot.grad_fn.name()
    seeds = [RNG.standard_normal(tuple(o.shape)).astype(o.detach().numpy().dtype)
             for o in outs_t]
    ember.autograd.backward(outs_e, [ember.from_numpy(s) for s in seeds])
    torch.autograd.backward(outs_t, [torch.from_numpy(s) for s in seeds])
    if t.grad is None:  # PyTorch leaves some gradients undefined (the 0-norm's)
        assert e.grad is None
        return
    assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("case", ZERO_DIM)
def test_zero_dim(case):
    _compare(*_run(case, _sample("randn", ()))[2:])


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_empty(case):
    _compare(*_run(case, _sample("randn", EMPTY[case]))[2:])


@pytest.mark.parametrize("case", ["sum", "mean_dim", "prod", "max_dim", "cumsum", "sort"])
def test_empty_backward(case):
    e, t, ye, yt = _run(case, _sample("randn", EMPTY.get(case, (0, 3))), requires_grad=True)
    outputs(ye)[0].sum().backward()
    outputs(yt)[0].sum().backward()
    assert_same(e.grad, t.grad, **TOL)


# ---- finite differences and second derivatives -------------------------------------------------
GRADCHECK = ["sum_dims_keepdim", "mean_keepdim", "prod_dim", "var_dim", "std_dim", "max_dim",
             "amax_dims", "logsumexp", "norm_dim", "norm_p3", "cumsum", "cumprod", "sort_desc",
             "topk", "softmax_neg", "log_softmax", "median_dim", "aminmax_dim"]


@pytest.mark.parametrize("case", GRADCHECK)
def test_gradcheck_float64(case):
    call, _, shape = CASES[case]
    x = ember.from_numpy(_sample("randn", shape, np.float64)).requires_grad_()
    assert ember.autograd.gradcheck(lambda x: outputs(call(ember, x))[0], (x,))


SECOND_ORDER = ["sum_dim", "mean_keepdim", "prod", "prod_ties", "var_dim", "std_dim",
                "max_dim", "amax_dims", "logsumexp", "norm", "norm_p3", "cumsum", "cumprod",
                "cumprod_zeros", "sort_desc", "softmax", "log_softmax", "median_dim"]


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_double_backward(case):
    """d/dx of <dL/dx, v> with L = Σ w·f(x): second derivatives against torch's."""
    call, kind, shape = CASES[case]
    array = _sample(kind, shape, np.float64)
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(array.copy()).requires_grad_()
        y = outputs(call(lib, x))[0]
        w = lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
        (g,) = lib.autograd.grad((y * w * y).sum(), x, create_graph=True)
        v = lib.from_numpy(np.linspace(0.5, 1.5, x.numel()).reshape(shape))
        (gg,) = lib.autograd.grad((g * v).sum(), x)
        results.append((g, gg))
    (g_e, gg_e), (g_t, gg_t) = results
    assert_same(g_e, g_t, rtol=1e-6, atol=1e-8)
    assert_same(gg_e, gg_t, rtol=1e-6, atol=1e-8)


# ---- PyTorch's gradient conventions ------------------------------------------------------------
def _grad(lib, values, fn):
    x = lib.tensor(values, requires_grad=True)
    fn(x).backward()
    return x.grad.tolist()


@pytest.mark.parametrize("values, fn, expected", [
    ([[3.0, 1.0, 3.0]], lambda x: x.max(), [[0.5, 0.0, 0.5]]),          # ties split evenly
    ([[3.0, 1.0, 3.0]], lambda x: x.min(), [[0.0, 1.0, 0.0]]),
    ([[3.0, 1.0, 3.0]], lambda x: x.max(1).values.sum(), [[1.0, 0.0, 0.0]]),  # one index
    ([[3.0, 1.0, 3.0]], lambda x: x.amax(1).sum(), [[0.5, 0.0, 0.5]]),
    ([[1.0, 1.0, 3.0]], lambda x: x.amin().sum(), [[0.5, 0.5, 0.0]]),
    ([2.0, 0.0, 3.0], lambda x: x.prod(), [0.0, 6.0, 0.0]),              # single zero
    ([0.0, 2.0, 0.0], lambda x: x.prod(), [0.0, 0.0, 0.0]),              # two zeros
    ([2.0, 0.0, 3.0, 4.0], lambda x: x.cumprod(0).sum(), [1.0, 2 + 6 + 24, 0.0, 0.0]),
    ([0.0, 0.0, 0.0], lambda x: x.norm(), [0.0, 0.0, 0.0]),              # 0 at the origin
    ([3.0, 3.0], lambda x: x.std(), [0.0, 0.0]),                         # 0 where std = 0
    ([1.0, -2.0, 2.0], lambda x: x.norm(p=math.inf), [0.0, -0.5, 0.5]),
    ([1.0, 3.0, 3.0, 0.0, 3.0], lambda x: x.median(), [0, 1 / 3, 1 / 3, 0, 1 / 3]),
])
def test_gradient_conventions(values, fn, expected):
    np.testing.assert_allclose(_grad(torch, values, fn), expected, rtol=1e-6)
    np.testing.assert_allclose(_grad(ember, values, fn), _grad(torch, values, fn), rtol=1e-6)


def test_max_dim_result_type():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    result = x.max(dim=1)
    values, indices = result
    assert values is result.values and indices is result.indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert indices.dtype is ember.int64
    assert isinstance(result, tuple)
    assert repr(result) == repr(torch.tensor(x.tolist()).max(dim=1))
    assert repr(ember.sort(x)) == repr(torch.sort(torch.tensor(x.tolist())))
    low, high = ember.aminmax(x)
    assert (low.item(), high.item()) == (0.0, 7.0)


def test_indices_are_not_differentiable():
    x = ember.randn(3, 4, requires_grad=True)
    values, indices = x.sort(1)
    assert values.requires_grad and not indices.requires_grad


def test_nan_propagates_like_torch():
    values = [[float("nan"), 1.0, 2.0], [3.0, float("nan"), 0.0]]
    for call in (lambda m, x: x.max(), lambda m, x: x.max(1), lambda m, x: x.argmax(1),
                 lambda m, x: x.amax(0), lambda m, x: x.sort(1, descending=True),
                 lambda m, x: x.sort(1), lambda m, x: x.median(1), lambda m, x: x.median(),
                 lambda m, x: x.topk(2)):
        result_e = call(ember, ember.tensor(values))
        result_t = call(torch, torch.tensor(values))
        for oe, ot in zip(outputs(result_e), outputs(result_t)):
            np.testing.assert_array_equal(oe.numpy(), ot.numpy())


def test_var_warns_without_degrees_of_freedom():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        torch.tensor([1.0]).std()
    with pytest.warns(UserWarning, match="std\\(\\): degrees of freedom is <= 0"):
        value = ember.tensor([1.0]).std()
    assert np.isnan(value.item())


# ---- dtype rules -------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m, x: x.sum(), lambda m, x: x.sum(0), lambda m, x: x.prod(), lambda m, x: x.cumsum(0),
    lambda m, x: x.cumprod(0), lambda m, x: x.max(), lambda m, x: x.max(0),
    lambda m, x: x.amin(0), lambda m, x: x.argmax(), lambda m, x: x.all(), lambda m, x: x.any(0),
    lambda m, x: x.logsumexp(0), lambda m, x: x.mean(dtype=m.float32),
    lambda m, x: x.sum(dtype=m.float32), lambda m, x: x.softmax(0, dtype=m.float64),
    lambda m, x: x.sort(0), lambda m, x: m.count_nonzero(x), lambda m, x: x.median(),
])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_dtypes(call, dtype):
    array = _sample("int", (4, 3)).astype(dtype) if dtype is not np.bool_ else _sample(
        "bool", (4, 3))
    e, t = both(array)
    try:
        expected = call(torch, t)
    except (RuntimeError, NotImplementedError) as error:
        with pytest.raises(type(error)):
            call(ember, e)
        return
    _compare(call(ember, e), expected)


def test_float16_accumulates_in_float32():
    e, t = both(np.full((5000,), 0.1, dtype=np.float16))
    for call in (lambda x: x.sum(), lambda x: x.mean(), lambda x: x.cumsum(0)):
        assert_same(call(e), call(t), rtol=1e-3, atol=1e-5)


def test_float64_stays_float64():
    e, t = both(_sample("randn", (3, 4), np.float64))
    for call in (lambda x: x.sum(1), lambda x: x.mean(), lambda x: x.var(0), lambda x: x.norm(),
                 lambda x: x.softmax(0), lambda x: x.logsumexp(1)):
        assert_same(call(e), call(t), **TOL)


# ---- errors ------------------------------------------------------------------------------------
ERRORS = [
    (lambda m, x: x.sum(2), (3, 4), np.float32),
    (lambda m, x: x.sum((0, 0)), (3, 4), np.float32),
    (lambda m, x: x.sum((0, -2)), (3, 4), np.float32),
    (lambda m, x: x.sum(1), (), np.float32),
    (lambda m, x: x.mean(), (3,), np.int64),
    (lambda m, x: x.var(), (3,), np.int64),
    (lambda m, x: x.std(0), (3,), np.int32),
    (lambda m, x: x.softmax(0), (3,), np.int64),
    (lambda m, x: x.norm(), (3,), np.int64),
    (lambda m, x: x.max(), (0,), np.float32),
    (lambda m, x: x.max(0), (0, 3), np.float32),
    (lambda m, x: x.min(-3), (2, 3), np.float32),
    (lambda m, x: x.amax(0), (0, 3), np.float32),
    (lambda m, x: x.argmax(), (0,), np.float32),
    (lambda m, x: x.topk(4), (2, 3), np.float32),
    (lambda m, x: x.sort(2), (2, 3), np.float32),
    (lambda m, x: x.cumsum(1), (3,), np.float32),
    (lambda m, x: x.logsumexp(3), (3,), np.float32),
    (lambda m, x: x.softmax(-3), (2, 3), np.float32),
    (lambda m, x: x.median(2), (2, 3), np.float32),
    (lambda m, x: m.aminmax(x, dim=0), (0, 3), np.float32),
    (lambda m, x: x.amax(), (0, 3), np.float32),
    (lambda m, x: x.amin((0, 1)), (0, 3), np.float32),
    (lambda m, x: x.norm(p=math.inf, dim=0), (0, 3), np.float32),
    (lambda m, x: x.norm(p=-math.inf), (0,), np.float32),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    call, shape, dtype = ERRORS[index]
    e, t = both(np.zeros(shape, dtype=dtype))
    with pytest.raises(Exception) as expected:
        call(torch, t)
    with pytest.raises(expected.type) as raised:
        call(ember, e)
    if expected.type is IndexError or "appears multiple" in str(expected.value) or (
            "vector_norm" in str(expected.value)):
        assert str(raised.value) == str(expected.value)
