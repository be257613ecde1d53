"""geqrf / ormqr / orgqr (ember/ops/linalg_householder.py) against torch: LAPACK's packed
Householder form, Q applied on either side with or without transposition (real and complex),
gradients for the reflectors, tau and the other matrix, float64 finite differences, errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, gradcheck64

RNG = np.random.default_rng(0)


def _array(shape, dtype=np.float64):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 3), (5, 0)])
def test_geqrf(shape, dtype):
    a = _array(shape, dtype)
    e, t = ember.geqrf(ember.from_numpy(a)), torch.geqrf(torch.from_numpy(a))
    tol = 1e-5 if dtype == np.float32 else 1e-10
    assert type(e).__name__ == "geqrf"
    for ei, ti in zip(e, t):
        assert_same(ei, ti, tol, tol)
    assert_same(ember.from_numpy(a).geqrf()[1], t[1], tol, tol)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("left", [True, False])
def test_ormqr_values_and_grads(left, transpose, dtype):
    rows = 5 if left else 4
    a, tau = torch.geqrf(torch.from_numpy(_array((2, rows, 3), dtype)))
    other = _array((2, 5, 4), dtype)
    leaves_t = [t.detach().clone().requires_grad_() for t in (a, tau, torch.from_numpy(other))]
    leaves_e = [ember.from_numpy(t.detach().numpy().copy()).requires_grad_() for t in leaves_t]
    y_t = torch.ormqr(*leaves_t, left, transpose)
    y_e = ember.ormqr(*leaves_e, left, transpose)
    assert_same(y_e, y_t, 1e-10, 1e-10)
    g = _array(tuple(y_t.shape), dtype)
    y_t.backward(torch.from_numpy(g))
    y_e.backward(ember.from_numpy(g))
    for e, t in zip(leaves_e, leaves_t):
        assert_same(e.grad, t.grad, 1e-9, 1e-9)


def test_ormqr_gradcheck_method_and_orgqr():
    a, tau = (t.numpy() for t in torch.geqrf(torch.from_numpy(_array((4, 3)))))
    other = _array((4, 2))
    assert gradcheck64(lambda x, s, c: ember.ormqr(x, s, c, True, True), a, tau, other)
    e = ember.from_numpy(a).ormqr(ember.from_numpy(tau), ember.from_numpy(other))
    assert_same(e, torch.from_numpy(a).ormqr(torch.from_numpy(tau), torch.from_numpy(other)))
    assert_same(ember.orgqr(ember.from_numpy(a), ember.from_numpy(tau)),
                torch.orgqr(torch.from_numpy(a), torch.from_numpy(tau)))


ERRORS = {
    "input_1d": lambda m, a, t, c: m.ormqr(a[0], t, c),
    "other_1d": lambda m, a, t, c: m.ormqr(a, t, c[0]),
    "tau_length": lambda m, a, t, c: m.ormqr(a, m.cat([t, t]), c),
    "rows": lambda m, a, t, c: m.ormqr(a, t, m.cat([c, c])),
    "right_columns": lambda m, a, t, c: m.ormqr(a, t, c, False),
    "tau_dtype": lambda m, a, t, c: m.ormqr(a, t.double(), c),
    "other_dtype": lambda m, a, t, c: m.ormqr(a, t, c.double()),
    "integers": lambda m, a, t, c: m.ormqr(a.long(), t.long(), c.long()),
    "batch": lambda m, a, t, c: m.ormqr(a.expand(2, 5, 3), t.expand(3, 3), c.expand(2, 5, 4)),
    "geqrf_1d": lambda m, a, t, c: m.geqrf(a[0]),
    "geqrf_int": lambda m, a, t, c: m.geqrf(a.long()),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    a, tau = torch.geqrf(torch.from_numpy(_array((5, 3), np.float32)))
    assert_same_error(ERRORS[name], a, tau, torch.from_numpy(_array((5, 4), np.float32)))
