"""Extrema and norms (ember/ops/extrema.py) against torch: max, min, amax, amin, aminmax, argmax,
argmin, logsumexp, norm.

A table of calls drives the generic tests (tests/ops/_tables.py), as in test_reduction.py; then
PyTorch's gradient conventions at ties, the (values, indices) result type, dtype rules and errors.
"""

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, both, sample
from tests.ops import _tables

RNG = np.random.default_rng(0)

# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
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
    "norm_nuc": (lambda m, x: x.norm(p="nuc"), "randn", (3, 4)),
    "norm_nuc_dims": (lambda m, x: m.norm(x, "nuc", dim=(0, 2)), "randn", (3, 2, 4)),
    "norm_nuc_keepdim": (lambda m, x: x.norm("nuc", dim=(2, 1), keepdim=True), "randn",
                         (2, 3, 4)),
    "norm_fro_3d": (lambda m, x: x.norm("fro"), "randn", (2, 3, 4)),
    "dist": (lambda m, x: m.dist(x, x[0] * 0.5), "randn", (3, 4)),
    "dist_p1": (lambda m, x: x.dist(x.flip(0), 1), "randn", (3, 4)),
    "dist_p3": (lambda m, x: m.dist(x, x.flip(1), p=3.0), "randn", (3, 4)),
    "dist_inf": (lambda m, x: m.dist(x, m.zeros(4), math.inf), "randn", (3, 4)),
    "renorm": (lambda m, x: m.renorm(x, 2, 0, 1.0), "randn", (3, 4)),
    "renorm_p1_dim1": (lambda m, x: x.renorm(1, 1, 1.5), "randn", (3, 4)),
    "renorm_p3": (lambda m, x: m.renorm(x, 3, -1, 1.2), "randn", (2, 3, 4)),
    "renorm_inf": (lambda m, x: x.renorm(math.inf, 0, 0.8), "randn", (3, 4)),
    "renorm_large_maxnorm": (lambda m, x: x.renorm(2, 0, 100.0), "randn", (3, 4)),
}
# Calls that also run on 0-d and empty inputs (and what those inputs look like).
CASES.update({
    "max_0d_dim": (lambda m, x: x.max(0), "randn", ()),
    "argmax_0d": (lambda m, x: x.argmax(0), "randn", ()),
    "logsumexp_0d": (lambda m, x: x.logsumexp(0), "randn", ()),
})
ZERO_DIM = ["max", "amax", "argmax", "norm", "max_0d_dim", "argmax_0d", "logsumexp_0d"]
EMPTY = {"max_dim": (0, 3), "amax_dims": (3, 0, 2), "logsumexp": (3, 0), "norm_dim": (0, 3)}

test_forward = _tables.reduction_forward(RNG, CASES)
test_backward = _tables.reduction_backward(RNG, CASES)
test_zero_dim = _tables.reduction_zero_dim(RNG, CASES, ZERO_DIM)
test_empty = _tables.reduction_empty(RNG, CASES, EMPTY)
test_empty_backward = _tables.reduction_empty_backward(RNG, CASES, ["max_dim"], EMPTY)

# ---- finite differences and second derivatives -------------------------------------------------
GRADCHECK = ["max_dim", "amax_dims", "logsumexp", "norm_dim", "norm_p3", "aminmax_dim",
             "norm_nuc", "norm_nuc_dims", "dist", "dist_p3", "renorm", "renorm_p1_dim1",
             "renorm_p3", "renorm_inf"]
SECOND_ORDER = ["max_dim", "amax_dims", "logsumexp", "norm", "norm_p3", "dist", "renorm",
                "renorm_p3"]
test_gradcheck_float64 = _tables.reduction_gradcheck(RNG, CASES, GRADCHECK)
test_double_backward = _tables.reduction_double_backward(RNG, CASES, SECOND_ORDER)


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
    ([0.0, 0.0, 0.0], lambda x: x.norm(), [0.0, 0.0, 0.0]),              # 0 at the origin
    ([1.0, -2.0, 2.0], lambda x: x.norm(p=math.inf), [0.0, -0.5, 0.5]),
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


# ---- dtype rules -------------------------------------------------------------------------------
test_integer_and_bool_dtypes = _tables.reduction_integer_dtypes(RNG, [
    lambda m, x: x.max(), lambda m, x: x.max(0), lambda m, x: x.amin(0), lambda m, x: x.argmax(),
    lambda m, x: x.logsumexp(0),
])

# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: x.norm(), (3,), np.int64),
    (lambda m, x: x.max(), (0,), np.float32),
    (lambda m, x: x.max(0), (0, 3), np.float32),
    (lambda m, x: x.min(-3), (2, 3), np.float32),
    (lambda m, x: x.amax(0), (0, 3), np.float32),
    (lambda m, x: x.argmax(), (0,), np.float32),
    (lambda m, x: x.logsumexp(3), (3,), np.float32),
    (lambda m, x: m.aminmax(x, dim=0), (0, 3), np.float32),
    (lambda m, x: x.amax(), (0, 3), np.float32),
    (lambda m, x: x.amin((0, 1)), (0, 3), np.float32),
    (lambda m, x: x.norm(p=math.inf, dim=0), (0, 3), np.float32),
    (lambda m, x: x.norm(p=-math.inf), (0,), np.float32),
    (lambda m, x: x.norm(p="nuc"), (2, 3, 4), np.float32),
    (lambda m, x: x.norm(p="nuc"), (3,), np.float32),
    (lambda m, x: x.norm(p="abc"), (3, 3), np.float32),
    (lambda m, x: m.dist(x, x), (3,), np.int64),
    (lambda m, x: m.dist(x, m.zeros(2)), (3,), np.float32),
    (lambda m, x: x.renorm(0, 0, 1.0), (3, 3), np.float32),
    (lambda m, x: x.renorm(2, 0, -1.0), (3, 3), np.float32),
    (lambda m, x: x.renorm(2, 0, 1.0), (3,), np.float32),
    (lambda m, x: x.renorm(2, 2, 1.0), (3, 3), np.float32),
])


def test_dist_p0_counts_differences():
    """dist with p = 0 is the number of differing entries (torch cannot differentiate it)."""
    e, t = both(sample(RNG, "ties", (3, 4), np.float32))
    assert_same(ember.dist(e, e.flip(0), 0), torch.dist(t, t.flip(0), 0), rtol=0, atol=0)


def test_renorm_in_place_and_out():
    """renorm_ overwrites its input and still differentiates (its node kept the input)."""
    array = sample(RNG, "randn", (3, 4), np.float32)
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(array.copy()).requires_grad_()
        y = x * 2
        y.renorm_(2, 0, 1.0)
        (y * y).sum().backward()
        results.append((y.detach(), x.grad))
    assert_same(results[0][0], results[1][0], rtol=1e-5, atol=1e-6)
    assert_same(results[0][1], results[1][1], rtol=1e-4, atol=1e-5)
    e, t = both(array)
    out = ember.empty(0)
    assert ember.renorm(e, 1, 1, 0.5, out=out) is out
    assert_same(out, torch.renorm(t, 1, 1, 0.5), rtol=1e-5, atol=1e-6)


# ---- out= of amax / amin / aminmax ---------------------------------------------------------------
OUT_CALLS = {  # name -> call(lib, x, out)
    "amax": lambda m, x, out: m.amax(x, 0, out=out),
    "amin_keepdim": lambda m, x, out: m.amin(x, 1, True, out=out),
    "amax_all": lambda m, x, out: m.amax(x, out=out),
}


@pytest.mark.parametrize("out_shape", [(4,), (0,), (2, 2)])
@pytest.mark.parametrize("name", OUT_CALLS)
def test_amax_amin_out(name, out_shape):
    """The result is written into out (resized as torch does) and out is returned."""
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        out = lib.zeros(out_shape)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when it resizes a non-empty out
            r = OUT_CALLS[name](lib, lib.from_numpy(x.copy()), out)
        assert r is out
        results.append(r)
    assert_same(*results)


def test_aminmax_out():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        out = (lib.zeros(4), lib.zeros(4))
        r = lib.aminmax(lib.from_numpy(x.copy()), dim=0, out=out)
        assert r[0] is out[0] and r[1] is out[1]
        results.append(r)
    for e, t in zip(*results):
        assert_same(e, t)


@pytest.mark.parametrize("call", [
    lambda m, x: m.amax(x, 0, out=m.zeros(4, dtype=m.int32)),
    lambda m, x: m.amin(x, 0, out=m.zeros(4, dtype=m.float64)),
    lambda m, x: m.aminmax(x, dim=0, out=(m.zeros(4), m.zeros(4, dtype=m.float64))),
    lambda m, x: m.aminmax(x, dim=0, out=(m.zeros(4, dtype=m.int64), m.zeros(4))),
])
def test_out_dtype_errors(call):
    assert_same_error(call, RNG.standard_normal((3, 4)).astype(np.float32))


@pytest.mark.parametrize("values", ["random", "ties", "nan", "inf", "int"])
@pytest.mark.parametrize("fn", ["max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("shape, dim", [((16, 32, 16, 16), 1), ((40, 20, 300), 0)], ids=str)
def test_inner_axis_extremes_by_running_pick(shape, dim, fn, values):
    """Big arrays reduced along an inner axis (the running pick of `_arg_extreme`): torch's
    values and indices, first extreme at ties, first NaN."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape).astype(np.float32)
    if values == "ties":
        x = np.round(x)
    elif values == "nan":
        x[rng.random(shape) < 0.05] = np.nan
    elif values == "inf":
        x[rng.random(shape) < 0.05] = np.inf
        x[rng.random(shape) < 0.05] = -np.inf
    elif values == "int":
        x = np.round(x * 3).astype(np.int32)
    e, t = getattr(ember.tensor(x), fn)(dim), getattr(torch.tensor(x), fn)(dim)
    for a, b in zip(e if fn in ("max", "min") else (e,), t if fn in ("max", "min") else (t,)):
        assert a.dtype.is_floating_point == b.dtype.is_floating_point
        np.testing.assert_array_equal(a.numpy(), b.numpy())
