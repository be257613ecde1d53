"""Running reductions and finite differences (ember/ops/scans.py) against torch: cummax, cummin,
logcumsumexp, diff, gradient, trapezoid / trapz and cumulative_trapezoid.

A table of calls drives the generic tests (tests/ops/_tables.py): values, dtypes and shapes,
gradients (and grad_fn names where ember's node is PyTorch's), float64 finite differences and
second derivatives. Then ties and NaN in cummax/cummin, integer and bool inputs, the spacing
forms of gradient and trapezoid, and PyTorch's errors.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_outputs, both, outputs, sample
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.REDUCTION_TOL
COORDS = np.array([0.0, 0.5, 2.0, 2.5, 4.0])  # uneven sample points for dims of size 5

# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
    "cummax": (lambda m, x: m.cummax(x, 1), "randn", (3, 5)),
    "cummax_ties": (lambda m, x: x.cummax(0), "ties", (6, 4)),
    "cummin": (lambda m, x: x.cummin(-1), "randn", (2, 3, 4)),
    "cummin_ties": (lambda m, x: m.cummin(x, 1), "ties", (3, 7)),
    "cummax_0d": (lambda m, x: x.cummax(0), "randn", ()),
    "logcumsumexp": (lambda m, x: m.logcumsumexp(x, 1), "randn", (3, 5)),
    "logcumsumexp_neg": (lambda m, x: x.logcumsumexp(-3), "randn", (4, 2, 3)),
    "logcumsumexp_0d": (lambda m, x: x.logcumsumexp(0), "randn", ()),
}
# Compositions, as in PyTorch: their grad_fn is whatever op comes last.
COMPOSITE = {
    "diff": (lambda m, x: m.diff(x), "randn", (3, 5)),
    "diff_n2_dim0": (lambda m, x: x.diff(2, 0), "randn", (5, 3)),
    "diff_n_past_size": (lambda m, x: m.diff(x, 6, -1), "randn", (2, 4)),
    "diff_n0": (lambda m, x: m.diff(x, 0), "randn", (2, 4)),
    "diff_prepend_append": (lambda m, x: m.diff(x, 1, 1, prepend=x[:, :2] * 2, append=x[:, :1]),
                            "randn", (3, 4)),
    "gradient": (lambda m, x: m.gradient(x), "randn", (4, 5)),
    "gradient_dim": (lambda m, x: m.gradient(x, dim=1, spacing=2.0), "randn", (4, 5)),
    "gradient_edge2": (lambda m, x: m.gradient(x, spacing=(0.5, 3.0), edge_order=2), "randn",
                       (4, 5)),
    "gradient_coords": (lambda m, x: m.gradient(x, spacing=[m.tensor(COORDS)], dim=-1),
                        "randn", (3, 5)),
    "gradient_coords_edge2": (lambda m, x: m.gradient(x, spacing=[m.tensor(COORDS)], dim=0,
                                                      edge_order=2), "randn", (5, 2)),
    "trapezoid": (lambda m, x: m.trapezoid(x), "randn", (3, 5)),
    "trapezoid_dx": (lambda m, x: m.trapezoid(x, dx=0.5, dim=0), "randn", (5, 3)),
    "trapezoid_x": (lambda m, x: m.trapezoid(x, m.tensor(COORDS).float()), "randn", (3, 5)),
    "trapezoid_x_nd": (lambda m, x: m.trapezoid(x, x.detach().cumsum(0), dim=0), "randn", (4, 3)),
    "trapz": (lambda m, x: m.trapz(x, dim=0), "randn", (4, 3)),
    "trapz_x": (lambda m, x: m.trapz(x, m.tensor(COORDS).float()), "randn", (2, 5)),
    "trapz_dx": (lambda m, x: m.trapz(x, dx=2.0), "randn", (2, 5)),
    "cumulative_trapezoid": (lambda m, x: m.cumulative_trapezoid(x), "randn", (3, 5)),
    "cumulative_trapezoid_dx": (lambda m, x: m.cumulative_trapezoid(x, dx=0.25, dim=0), "randn",
                                (5, 2)),
    "cumulative_trapezoid_x": (lambda m, x: m.cumulative_trapezoid(x, m.tensor(COORDS).float()),
                               "randn", (2, 5)),
}
ALL = {**CASES, **COMPOSITE}

test_forward = _tables.reduction_forward(RNG, ALL)
test_backward = _tables.reduction_backward(RNG, CASES)  # also checks the grad_fn names
test_gradcheck_float64 = _tables.reduction_gradcheck(RNG, ALL, [
    "cummax", "cummin_ties", "logcumsumexp", "logcumsumexp_neg", "diff_prepend_append",
    "diff_n2_dim0", "gradient_edge2", "gradient_coords", "gradient_coords_edge2", "trapezoid_x",
    "trapezoid_dx", "cumulative_trapezoid_x"])
test_double_backward = _tables.reduction_double_backward(RNG, ALL, [
    "cummax", "logcumsumexp", "diff_prepend_append", "gradient_coords_edge2", "trapezoid_x",
    "cumulative_trapezoid"])
test_empty = _tables.reduction_empty(RNG, ALL, {
    "cummax": (2, 0), "logcumsumexp": (0, 3), "diff": (3, 0), "trapezoid": (3, 0),
    "cumulative_trapezoid": (3, 0)})


@pytest.mark.parametrize("case", sorted(COMPOSITE))
def test_composite_gradients(case):
    """The gradients of every input (prepend/append and sample points included)."""
    call, kind, shape = COMPOSITE[case]
    e, t = both(sample(RNG, kind, shape, np.float32), requires_grad=True)
    ye, yt = outputs(call(ember, e)), outputs(call(torch, t))
    seeds = [RNG.standard_normal(tuple(y.shape)).astype(np.float32) for y in yt]
    ember.autograd.backward(list(ye), [ember.from_numpy(s) for s in seeds])
    torch.autograd.backward(list(yt), [torch.from_numpy(s) for s in seeds])
    assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-5)


# ---- cummax / cummin conventions ---------------------------------------------------------------
@pytest.mark.parametrize("fn", ["cummax", "cummin"])
@pytest.mark.parametrize("values", [
    [1.0, 3.0, 3.0, 2.0, 3.0],                      # ties take the latest index
    [2.0, float("nan"), 1.0, float("nan"), 5.0],    # NaN sticks, its index follows later NaNs
])
def test_cummax_ties_and_nan(fn, values):
    e, t = both(np.array(values, dtype=np.float32), requires_grad=True)
    ye, yt = getattr(ember, fn)(e, 0), getattr(torch, fn)(t, 0)
    assert_same_outputs(ye, yt, **TOL)
    ye.values.sum().backward()
    yt.values.sum().backward()
    assert_same(e.grad, t.grad, **TOL)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_inputs(dtype):
    array = sample(RNG, "int" if dtype is not np.bool_ else "bool", (3, 6), np.float64)
    e, t = both(array.astype(dtype) if dtype is not np.uint8 else np.abs(array).astype(dtype))
    for call in (lambda m, x: m.cummax(x, 1), lambda m, x: m.cummin(x, 0),
                 lambda m, x: m.diff(x), lambda m, x: m.diff(x, 2, 0)):
        assert_same_outputs(call(ember, e), call(torch, t), **TOL)
    if dtype is not np.bool_:
        for call in (lambda m, x: m.gradient(x), lambda m, x: m.trapezoid(x),
                     lambda m, x: m.cumulative_trapezoid(x), lambda m, x: m.logcumsumexp(x, 1)):
            try:
                expected = call(torch, t)
            except (RuntimeError, NotImplementedError) as error:  # logcumsumexp; uint8 gradient
                with pytest.raises(type(error)):
                    call(ember, e)
                continue
            assert_same_outputs(call(ember, e), expected, **TOL)


def test_logcumsumexp_is_stable():
    """Large magnitudes (where exp overflows) forward and backward."""
    values = np.array([[1e4, -1e4, 3.0, 1e4 + 1], [-50.0, 80.0, 90.0, -1e4]], dtype=np.float32)
    e, t = both(values, requires_grad=True)
    seed = np.array([[1.0, -2.0, 0.5, 1.0], [0.0, 1.0, -1.0, 2.0]], dtype=np.float32)
    ye, yt = ember.logcumsumexp(e, 1), torch.logcumsumexp(t, 1)
    assert_same(ye, yt, **TOL)
    ye.backward(ember.from_numpy(seed))
    yt.backward(torch.from_numpy(seed))
    assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-4)


def test_out_and_methods():
    e, t = both(sample(RNG, "randn", (3, 4), np.float32))
    values, indices = ember.empty(0), ember.empty(0, dtype=ember.int64)
    ember.cummax(e, 1, out=(values, indices))
    expected = torch.cummax(t, 1)
    assert_same(values, expected.values, **TOL)
    assert_same(indices, expected.indices, exact=True)
    out = ember.empty(0)
    assert ember.diff(e, out=out) is out
    assert_same(out, torch.diff(t), **TOL)
    assert_same(e.diff(dim=0), t.diff(dim=0), **TOL)
    assert_same(e.logcumsumexp(0), t.logcumsumexp(0), **TOL)
    assert repr(ember.cummin(e, 0)).startswith("torch.return_types.cummin(")


# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: m.diff(x), (), np.float32),
    (lambda m, x: m.diff(x, -1), (3,), np.float32),
    (lambda m, x: m.diff(x, prepend=m.zeros(2, 2)), (3,), np.float32),
    (lambda m, x: m.cummax(x, 2), (3, 4), np.float32),
    (lambda m, x: m.logcumsumexp(x, 1), (3,), np.float32),
    (lambda m, x: m.gradient(x, edge_order=3), (3, 3), np.float32),
    (lambda m, x: m.gradient(x, dim=(1, 1)), (3, 3), np.float32),
    (lambda m, x: m.gradient(x, spacing=[0.1], dim=(1, 0)), (3, 3), np.float32),
    (lambda m, x: m.gradient(x, dim=3), (3, 3), np.float32),
    (lambda m, x: m.gradient(x), (3, 1), np.float32),
    (lambda m, x: m.gradient(x, edge_order=2), (2, 2), np.float32),
    (lambda m, x: m.trapezoid(x, dim=2), (3, 4), np.float32),
])


# ---- issue #19's fuzz: cumulative_trapezoid's checks, in PyTorch's order ----------------------
TRAPEZOID_CALLS = [
    lambda m: m.cumulative_trapezoid(m.tensor([[True, False, True]])),
    lambda m: m.cumulative_trapezoid(m.ones(3, 3), m.tensor([True, False, True])),
    lambda m: m.cumulative_trapezoid(m.tensor(True)),
    lambda m: m.cumulative_trapezoid(m.tensor(1.0)),
    lambda m: m.cumulative_trapezoid(m.zeros(0, dtype=m.float64), m.ones(3, 3)),
    lambda m: m.cumulative_trapezoid(m.zeros(3), m.ones(3, 3)),
    lambda m: m.cumulative_trapezoid(m.ones(3, 3), m.ones(4, 1, 3)),
    lambda m: m.cumulative_trapezoid(m.ones(3, 3), m.ones(2)),
    lambda m: m.cumulative_trapezoid(m.zeros(0, dtype=m.int64)),
    # trapezoid / trapz (issue #19, FUZZ20): bool refused, no samples give zeros of y's dtype,
    # x's view against y and the broadcast of its differences as PyTorch's
    lambda m: m.trapezoid(m.tensor([[True, False, True]]), m.ones(1, 3)),
    lambda m: m.trapezoid(m.tensor([[True, False, True]])),
    lambda m: m.trapz(m.ones(2, 3), m.tensor([True, False, True])),
    lambda m: m.trapezoid(m.ones(2, 3), dx=True),
    lambda m: m.trapezoid(m.zeros(2, 0, 3, dtype=m.bool), dim=1),
    lambda m: m.trapezoid(m.zeros(2, 0, 3, dtype=m.int64), m.ones(3), dim=1),
    lambda m: m.trapezoid(m.ones(3), m.ones(2, 3)),
    lambda m: m.trapezoid(m.ones(2, 3), m.ones(4, 1, 3), dim=1),
    lambda m: m.trapezoid(m.ones(2, 3), m.ones(2)),
    lambda m: m.trapezoid(m.ones(2, 3), m.tensor(2.0)),
    lambda m: m.trapz(m.ones(2, 3), m.arange(6.0).reshape(3, 1, 2), dim=0),
    lambda m: m.trapezoid(m.tensor(2.0)),
]


test_cumulative_trapezoid_checks = _tables.result_or_error(
    {str(i): call for i, call in enumerate(TRAPEZOID_CALLS)})


@pytest.mark.parametrize("dim", [0, 1, -2, 5])
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cumulative_extreme_of_empty_ignores_dim(name, dim):
    """PyTorch returns empty values and int64 indices for an empty input, whatever dim is."""
    e = getattr(ember, name)(ember.zeros(0, dtype=ember.bool), dim)
    t = getattr(torch, name)(torch.zeros(0, dtype=torch.bool), dim)
    for a, b in zip(e, t):
        assert str(a.dtype) == str(b.dtype) and a.shape == b.shape
