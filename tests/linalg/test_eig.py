"""ember/ops/linalg_eig.py against torch: eig/eigvals of real matrices give complex results
(complex64 for float32), LAPACK-normalised eigenvectors (up to a phase), gradients of
gauge-invariant losses, and PyTorch's error for a loss that depends on the eigenvectors' phase.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.linalg._helpers import make

RNG = np.random.default_rng(20)
ROTATION = np.array([[0.0, -2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])  # eigenvalues ±i√2, 3


def _arrays():
    return [make(RNG, "randn", (2, 4, 4)), ROTATION]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eig_values_and_vectors(dtype):
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == np.float32 else {"rtol": 1e-9, "atol": 1e-10}
    for a in _arrays():
        a = a.astype(dtype)
        we, ve = ember.linalg.eig(ember.from_numpy(a))
        wt, vt = torch.linalg.eig(torch.from_numpy(a))
        assert str(we.dtype) == str(wt.dtype) and str(ve.dtype) == str(vt.dtype)
        np.testing.assert_allclose(we.numpy(), wt.numpy(), **tol)
        # vectors agree up to a phase per column (LAPACK builds may differ): compare |v| and
        # check A·V = V·diag(w)
        np.testing.assert_allclose(np.abs(ve.numpy()), np.abs(vt.numpy()), **tol)
        residual = a @ ve.numpy() - ve.numpy() * we.numpy()[..., None, :]
        np.testing.assert_allclose(residual, 0, **tol)
        assert_same(ember.linalg.eigvals(ember.from_numpy(a)).real,
                    torch.linalg.eigvals(torch.from_numpy(a)).real, **tol)


def _invariant_loss(m, x, weights):
    w, v = m.linalg.eig(x)
    c1, c2, c3 = (m.from_numpy(c.copy()) for c in weights)
    return (m.real(w) * c1).sum() + (m.imag(w) * c2).sum() + (v.abs() * c3).sum()


@pytest.mark.parametrize("index", [0, 1])
def test_eig_backward(index):
    a = _arrays()[index]
    w_shape = a.shape[:-1]
    weights = [RNG.standard_normal(w_shape), RNG.standard_normal(w_shape),
               RNG.standard_normal(a.shape)]
    grads = []
    for m in (ember, torch):
        x = m.from_numpy(a.copy()).requires_grad_()
        _invariant_loss(m, x, weights).backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], rtol=1e-7, atol=1e-9)


def test_eigvals_backward():
    a = _arrays()[0]
    grads = []
    for m in (ember, torch):
        x = m.from_numpy(a.copy()).requires_grad_()
        w = m.linalg.eigvals(x)
        (m.real(w) ** 2 + 3 * m.imag(w)).sum().backward()
        grads.append(x.grad)
    assert_same(grads[0], grads[1], rtol=1e-7, atol=1e-9)


def test_eig_gradcheck():
    def fn(x):
        w, v = ember.linalg.eig(x)
        return ember.real(w), ember.imag(w), v.abs()

    x = ember.from_numpy(make(RNG, "randn", (3, 3))).requires_grad_()
    assert ember.autograd.gradcheck(fn, (x,))


def test_phase_dependent_loss_raises():
    assert_same_error(lambda m, x: m.real(m.linalg.eig(x)[1]).sum().backward(),
                      torch.from_numpy(ROTATION).requires_grad_(), same_message=True)


ERRORS = {
    "eig_rect": lambda m: m.linalg.eig(m.ones(2, 3)),
    "eig_int": lambda m: m.linalg.eig(m.ones(2, 2, dtype=m.long)),
    "eigvals_1d": lambda m: m.linalg.eigvals(m.ones(3)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    assert_same_error(ERRORS[case], same_message=True)
