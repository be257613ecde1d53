"""ember/ops/linalg_decomp.py against torch: cholesky(_ex), qr (modes), eigh/eigvalsh (UPLO),
svd/svdvals (full_matrices) and the top-level torch.cholesky / torch.qr / torch.svd.

Eigenvectors and singular vectors are unique only up to sign, so those cases compare invariants
(squares, reconstructions, U·Vh) and differentiate gauge-invariant losses, as PyTorch's own
tests do. Inputs of finite-difference checks are symmetrised inside the call where the op reads
one triangle.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.linalg._helpers import (assert_linalg_error, check_backward, check_forward,
                                   check_gradcheck, inputs)

RNG = np.random.default_rng(16)


def _eigh_invariants(m, a, uplo="L"):
    w, v = m.linalg.eigh(a, UPLO=uplo)
    return w, v * v, v @ (w[..., None] * v.mT)


def _svd_invariants(m, a, full=False):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    u, vh = u[..., :k], vh[..., :k, :]
    return s, u * u, vh * vh, u @ vh, (u * s[..., None, :]) @ vh


def _top_svd_invariants(m, a, some=True):
    u, s, v = m.svd(a, some=some)
    k = s.shape[-1]
    u, v = u[..., :k], v[..., :k]
    return s, u * u, u @ v.mT


# id -> (call(lib, *tensors), [(kind, shape), ...])
CASES = {
    "cholesky": (lambda m, a: m.linalg.cholesky(a), [("spd", (3, 3))]),
    "cholesky_batched": (lambda m, a: m.linalg.cholesky(a), [("spd", (2, 2, 4, 4))]),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(a, upper=True), [("spd", (2, 3, 3))]),
    "cholesky_ex": (lambda m, a: m.linalg.cholesky_ex(a), [("spd", (2, 3, 3))]),
    "cholesky_top": (lambda m, a: m.cholesky(a), [("spd", (3, 3))]),
    "cholesky_top_upper": (lambda m, a: a.cholesky(upper=True), [("spd", (3, 3))]),
    "qr": (lambda m, a: m.linalg.qr(a), [("randn", (4, 3))]),
    "qr_batched_square": (lambda m, a: m.linalg.qr(a), [("randn", (2, 3, 3))]),
    "qr_wide": (lambda m, a: m.linalg.qr(a), [("randn", (2, 3, 5))]),
    "qr_complete_wide": (lambda m, a: m.linalg.qr(a, mode="complete"), [("randn", (3, 4))]),
    "qr_top": (lambda m, a: m.qr(a), [("randn", (5, 3))]),
    "eigh": (_eigh_invariants, [("sym", (4, 4))]),
    "eigh_batched": (_eigh_invariants, [("sym", (2, 3, 3))]),
    "eigh_upper": (lambda m, a: _eigh_invariants(m, a, "U"), [("randn", (3, 3))]),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), [("sym", (2, 4, 4))]),
    "eigvalsh_upper": (lambda m, a: m.linalg.eigvalsh(a, UPLO="U"), [("randn", (3, 3))]),
    "svd_tall": (_svd_invariants, [("randn", (5, 3))]),
    "svd_wide": (_svd_invariants, [("randn", (2, 3, 5))]),
    "svd_square": (_svd_invariants, [("randn", (2, 4, 4))]),
    "svd_full": (lambda m, a: _svd_invariants(m, a, True), [("randn", (2, 4, 3))]),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), [("randn", (2, 3, 5))]),
    "svd_top": (_top_svd_invariants, [("randn", (4, 3))]),
    "svd_top_wide_full": (lambda m, a: _top_svd_invariants(m, a, False), [("randn", (3, 5))]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case, dtype):
    call, spec = CASES[case]
    check_forward(call, inputs(RNG, spec), dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    call, spec = CASES[case]
    check_backward(RNG, call, inputs(RNG, spec))


def _symmetrised(call):
    return lambda m, a: call(m, a + a.mT)


GRADCHECK = {
    "cholesky": _symmetrised(lambda m, a: m.linalg.cholesky(a + 4 * m.eye(3).double())),
    "cholesky_upper": _symmetrised(
        lambda m, a: m.linalg.cholesky(a + 4 * m.eye(3).double(), upper=True)),
    "eigh": _symmetrised(_eigh_invariants),
    "eigvalsh": _symmetrised(lambda m, a: m.linalg.eigvalsh(a)),
    "qr": lambda m, a: m.linalg.qr(a),
    "svd": _svd_invariants,
    "svdvals": lambda m, a: m.linalg.svdvals(a),
}


@pytest.mark.parametrize("case", sorted(GRADCHECK))
@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)])
def test_gradcheck(case, shape):
    if shape[0] != shape[1] and case not in ("qr", "svd", "svdvals"):
        shape = (3, 3)
    check_gradcheck(GRADCHECK[case], inputs(RNG, [("randn", shape)]))


@pytest.mark.parametrize("case", ["cholesky", "eigh", "qr", "svd"])
def test_second_order(case):
    check_gradcheck(GRADCHECK[case], inputs(RNG, [("randn", (3, 3))]), second_order=True)


def test_qr_r_mode():
    a = inputs(RNG, [("randn", (4, 3))])[0]
    check_forward(lambda m, x: m.linalg.qr(x, mode="r"), [a], np.float64)
    x = ember.from_numpy(a).requires_grad_()
    _, r = ember.linalg.qr(x, mode="r")
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()


def test_qr_complete_tall_not_differentiable():
    assert_same_error(lambda m, a: m.linalg.qr(a, mode="complete")[0].sum().backward(),
                      torch.randn(4, 3, dtype=torch.float64, requires_grad=True),
                      same_message=True)


def test_svd_compute_uv_false():
    a = inputs(RNG, [("randn", (2, 4, 3))])[0]
    check_forward(lambda m, x: m.svd(x, compute_uv=False), [a], np.float64)


def test_eigh_repeated_eigenvalues_values_only():
    """eigvalsh's gradient needs no eigenvalue gaps (only diag(gw) enters)."""
    check_backward(RNG, lambda m, a: m.linalg.eigvalsh(a), [np.eye(3)])
    check_backward(RNG, lambda m, a: m.linalg.svdvals(a), [np.eye(3)])


# ---- non positive-definite inputs and argument errors -----------------------------------------
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("array", [NOT_PD, np.stack([np.eye(2), NOT_PD])],
                         ids=["single", "batched"])
@pytest.mark.parametrize("call", [lambda m, a: m.linalg.cholesky(a),
                                  lambda m, a: m.linalg.cholesky(a, upper=True),
                                  lambda m, a: m.cholesky(a),
                                  lambda m, a: m.linalg.cholesky_ex(a, check_errors=True)],
                         ids=["linalg", "upper", "top", "ex_check"])
def test_not_positive_definite(call, array):
    assert_linalg_error(call, array)


def test_cholesky_ex_info():
    a = np.stack([np.eye(3), -np.eye(3), np.diag([1.0, 1.0, -1.0])])
    info_e = ember.linalg.cholesky_ex(ember.from_numpy(a)).info
    info_t = torch.linalg.cholesky_ex(torch.from_numpy(a)).info
    assert_same(info_e, info_t, exact=True)
    assert_same(ember.linalg.cholesky_ex(ember.from_numpy(a)).L[0],
                torch.linalg.cholesky_ex(torch.from_numpy(a)).L[0])


NAN = float("nan")


@pytest.mark.parametrize("array", [
    np.array([[NAN, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [0.0, NAN]]),
    np.array([[1.0, NAN], [NAN, 4.0]]), np.stack([np.eye(2), np.array([[4.0, 2.0], [NAN, 3.0]])])],
    ids=["first", "last", "off-diagonal", "batched"])
@pytest.mark.parametrize("call", [lambda m, a: m.linalg.cholesky(a),
                                  lambda m, a: m.linalg.cholesky_ex(a, check_errors=True)],
                         ids=["linalg", "ex_check"])
def test_nan_pivot_is_not_positive_definite(call, array):
    """LAPACK's potrf stops at a NaN pivot (info > 0): torch's LinAlgError, not a NaN factor."""
    assert_linalg_error(call, array)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_cholesky_ex_partial_factor(upper, dtype):
    """Where the factorisation fails, L is what LAPACK leaves, as torch returns it: columns
    before the failing one factored, its pivot updated (not square-rooted), the rest of the
    input's triangle untouched; a NaN pivot fails too."""
    a = np.array([[4.0, 2, 2, 2, 1], [2, 5, 1, 1, 1], [2, 1, 6, 1, 1], [2, 1, 1, -6, 1],
                  [1, 1, 1, 1, 7]]).astype(dtype)
    if dtype == np.complex128:
        a = a + 0.5j * (np.triu(np.ones((5, 5)), 1) - np.tril(np.ones((5, 5)), -1))
    nan_pivot = np.eye(5, dtype=dtype)
    nan_pivot[2, 2] = NAN
    batch = np.stack([a, a.conj().T @ a, -a, nan_pivot])
    e = ember.linalg.cholesky_ex(ember.from_numpy(batch), upper=upper)
    t = torch.linalg.cholesky_ex(torch.from_numpy(batch), upper=upper)
    assert_same(e.info, t.info, exact=True)
    assert_same(e.L, t.L, rtol=1e-12, atol=1e-12)


ERRORS = {
    "cholesky_rect": lambda m: m.linalg.cholesky(m.ones(2, 3)),
    "cholesky_int": lambda m: m.linalg.cholesky(m.ones(2, 2, dtype=m.long)),
    "eigh_rect": lambda m: m.linalg.eigh(m.ones(2, 3)),
    "eigh_uplo": lambda m: m.linalg.eigh(m.eye(2), UPLO="X"),
    "eigvalsh_1d": lambda m: m.linalg.eigvalsh(m.ones(2)),
    "svd_int": lambda m: m.linalg.svd(m.ones(2, 2, dtype=m.long)),
    "svdvals_1d": lambda m: m.linalg.svdvals(m.ones(2)),
    "qr_mode": lambda m: m.linalg.qr(m.eye(2), mode="x"),
    "qr_int": lambda m: m.linalg.qr(m.ones(2, 2, dtype=m.int32)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    assert_same_error(ERRORS[case], same_message=True)
