"""Sample statistics (ember/ops/statistics.py) against torch: cov, corrcoef, quantile and
nanquantile.

A table of calls drives the generic tests of tests/ops/_tables.py (values, dtypes, shapes,
float64 finite differences, second derivatives); the gradients of every input (weights, q) are
compared here, since these ops are compositions whose last node differs from PyTorch's. Then
NaN handling, every interpolation mode, the weights of cov, integer inputs and the errors.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_outputs, both, sample
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.REDUCTION_TOL
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]



def _q(m, x, values):
    """q as a tensor of x's dtype (quantile wants them to match)."""
    return m.tensor(values, dtype=x.dtype)


# ---- the table ---------------------------------------------------------------------------------
# id -> (call, input kind, shape). `call(lib, x)` must mean the same thing in ember and torch.
CASES = {
    "cov": (lambda m, x: m.cov(x), "randn", (3, 6)),
    "cov_1d": (lambda m, x: x.cov(), "randn", (5,)),
    "cov_correction0": (lambda m, x: m.cov(x, correction=0), "randn", (2, 5)),
    "cov_correction2": (lambda m, x: m.cov(x, correction=2), "randn", (4, 5)),
    "cov_fweights": (lambda m, x: m.cov(x, fweights=m.tensor([1, 2, 0, 3])), "randn", (3, 4)),
    "cov_aweights": (lambda m, x: m.cov(x, aweights=m.tensor([0.5, 1.0, 2.0, 0.1])), "randn",
                     (3, 4)),
    "cov_both_weights": (lambda m, x: m.cov(x, correction=0, fweights=m.tensor([1, 2, 1, 1]),
                                            aweights=m.tensor([0.5, 1.0, 2.0, 0.1])),
                         "randn", (2, 4)),
    "corrcoef": (lambda m, x: m.corrcoef(x), "randn", (3, 6)),
    "corrcoef_1d": (lambda m, x: x.corrcoef(), "randn", (6,)),
    "quantile": (lambda m, x: m.quantile(x, 0.3), "randn", (3, 5)),
    "quantile_dim": (lambda m, x: x.quantile(0.75, dim=1), "randn", (3, 5)),
    "quantile_q_tensor": (lambda m, x: m.quantile(x, _q(m, x, [0.1, 0.5, 1.0]), dim=0,
                                                  keepdim=True), "randn", (4, 3)),
    "quantile_keepdim_all": (lambda m, x: m.quantile(x, _q(m, x, [0.2, 0.9]), keepdim=True),
                             "randn", (2, 3)),
    "quantile_0d": (lambda m, x: m.quantile(x, 0.4, dim=0), "randn", ()),
    "quantile_ties": (lambda m, x: m.quantile(x, 0.5, dim=-1), "ties", (4, 6)),
    "nanquantile": (lambda m, x: m.nanquantile(x, 0.3, dim=1), "randn", (3, 5)),
    "nanquantile_q_tensor": (lambda m, x: x.nanquantile(_q(m, x, [0.0, 0.6]), 0), "randn",
                             (5, 2)),
}
for mode in INTERPOLATIONS:
    CASES[f"quantile_{mode}"] = (
        lambda m, x, mode=mode: m.quantile(x, _q(m, x, [0.0, 0.25, 0.4, 0.7, 1.0]), dim=1,
                                           interpolation=mode), "randn", (3, 6))
    CASES[f"nanquantile_{mode}"] = (
        lambda m, x, mode=mode: m.nanquantile(x, 0.35, interpolation=mode), "randn", (4, 5))

test_forward = _tables.reduction_forward(RNG, CASES)
test_gradcheck_float64 = _tables.reduction_gradcheck(RNG, CASES, [
    "cov", "cov_1d", "cov_both_weights", "corrcoef", "quantile_dim", "quantile_q_tensor",
    "quantile_midpoint", "nanquantile_linear"])
test_double_backward = _tables.reduction_double_backward(RNG, CASES, [
    "cov_aweights", "corrcoef", "quantile_q_tensor", "nanquantile"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    call, kind, shape = CASES[case]
    e, t = both(sample(RNG, kind, shape, np.float32), requires_grad=True)
    ye, yt = call(ember, e), call(torch, t)
    seed = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.from_numpy(seed))
    yt.backward(torch.from_numpy(seed))
    assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-5)


# ---- gradients of the other inputs -------------------------------------------------------------
@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
def test_gradient_with_respect_to_q(fn):
    """PyTorch's linear interpolation is differentiable in q (the rank q·(n - 1))."""
    x = sample(RNG, "randn", (3, 7), np.float32)
    q = np.array([0.05, 0.5, 0.93], dtype=np.float32)
    grads = []
    for lib in (ember, torch):
        tx, tq = lib.from_numpy(x.copy()).requires_grad_(), lib.from_numpy(q.copy())
        tq.requires_grad_()
        getattr(lib, fn)(tx, tq, dim=1).sum().backward()
        grads.append((tx.grad, tq.grad))
    assert_same(grads[0][0], grads[1][0], **TOL)
    assert_same(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-4)


def test_cov_gradient_with_respect_to_aweights():
    x = sample(RNG, "randn", (3, 5), np.float64)
    w = np.array([0.5, 1.0, 2.0, 0.1, 1.5])
    grads = []
    for lib in (ember, torch):
        tw = lib.from_numpy(w.copy()).requires_grad_()
        lib.cov(lib.from_numpy(x), aweights=tw).sum().backward()
        grads.append(tw.grad)
    assert_same(grads[0], grads[1], rtol=1e-10, atol=1e-10)


# ---- NaN, integers, out= -----------------------------------------------------------------------
NAN = float("nan")


@pytest.mark.parametrize("mode", INTERPOLATIONS)
def test_nan_handling(mode):
    values = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, NAN, NAN], [4.0, 2.0, 1.0, 3.0]],
                      dtype=np.float32)
    e, t = both(values)
    for fn in ("quantile", "nanquantile"):
        for q in (0.3, 1.0):
            call = lambda m, x: getattr(m, fn)(x, q, dim=1, interpolation=mode)  # noqa: E731
            assert_same_outputs(call(ember, e), call(torch, t), **TOL)
        assert_same(getattr(ember, fn)(e, 0.5), getattr(torch, fn)(t, 0.5), **TOL)


def test_cov_integer_input_and_constant_rows():
    e, t = both(np.array([[1, 4, 9, 16], [2, 3, 5, 8], [3, 3, 3, 3]]))
    for call in (lambda m, x: m.cov(x), lambda m, x: m.corrcoef(x)):
        assert_same(call(ember, e), call(torch, t), **TOL)
    e, t = both(np.array([2.0, 2.0, 2.0], dtype=np.float32))
    assert_same(ember.corrcoef(e), torch.corrcoef(t), **TOL)


def test_cov_warns_without_degrees_of_freedom():
    e, t = both(np.array([[1.0], [2.0]], dtype=np.float32))
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        expected = torch.cov(t)
    with pytest.warns(UserWarning, match="cov\\(\\): degrees of freedom is <= 0"):
        assert_same(ember.cov(e), expected, **TOL)


def test_quantile_out():
    e, t = both(sample(RNG, "randn", (3, 5), np.float32))
    out = ember.empty(0)
    assert ember.quantile(e, 0.4, dim=1, out=out) is out
    assert_same(out, torch.quantile(t, 0.4, dim=1), **TOL)


# ---- errors ------------------------------------------------------------------------------------
test_errors_match_torch = _tables.reduction_errors([
    (lambda m, x: m.cov(x), (2, 2, 2), np.float32),
    (lambda m, x: m.cov(x, fweights=m.tensor([1.0, 2.0, 1.0])), (2, 3), np.float32),
    (lambda m, x: m.cov(x, fweights=m.tensor([1, -2, 1])), (2, 3), np.float32),
    (lambda m, x: m.cov(x, fweights=m.tensor([1, 2])), (2, 3), np.float32),
    (lambda m, x: m.cov(x, fweights=m.tensor([[1, 2, 3]])), (2, 3), np.float32),
    (lambda m, x: m.cov(x, aweights=m.tensor([1, 2, 1])), (2, 3), np.float32),
    (lambda m, x: m.cov(x, aweights=m.tensor([1.0, -2.0, 1.0])), (2, 3), np.float32),
    (lambda m, x: m.quantile(x, 0.5), (3,), np.int64),
    (lambda m, x: m.quantile(x, 1.5), (3,), np.float32),
    (lambda m, x: m.quantile(x, m.tensor([0.5, 2.0])), (3,), np.float32),
    (lambda m, x: m.quantile(x, m.tensor([[0.5]])), (3,), np.float32),
    (lambda m, x: m.quantile(x, m.tensor([0.5], dtype=m.float64)), (3,), np.float32),
    (lambda m, x: m.quantile(x, 0.5), (0,), np.float32),
    (lambda m, x: m.quantile(x, 0.5, interpolation="cubic"), (3,), np.float32),
    (lambda m, x: m.nanquantile(x, 0.5, dim=2), (3, 2), np.float32),
])


def test_error_messages_match_torch():
    calls = [lambda m, x: m.cov(x, fweights=m.tensor([1.0, 2.0, 1.0])),
             lambda m, x: m.cov(x, fweights=m.tensor([1, 2])),
             lambda m, x: m.quantile(x, 1.5),
             lambda m, x: m.quantile(x, 0.5, interpolation="cubic")]
    for call in calls:
        messages = []
        for lib in (ember, torch):
            with pytest.raises(RuntimeError) as info:
                with warnings.catch_warnings():
                    call(lib, lib.zeros(2, 3))
            messages.append(str(info.value))
        assert messages[0] == messages[1]
