"""svd_lowrank / pca_lowrank (ember/ops/linalg_lowrank.py) against torch. The random test
matrix comes from each library's generator, seeded alike, so both run the same iteration; the
singular vectors' signs come from LAPACK's SVD of a small wide matrix, where torch's MKL and
NumPy's LAPACK may choose differently, so the sign-free results are compared: the singular
values, U·Vᴴ and the reconstruction U·diag(S)·Vᴴ (and gradients through them)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(0)

CASES = {  # name -> call(lib, A)
    "svd_tall": lambda m, a: m.svd_lowrank(a, q=3),
    "svd_wide": lambda m, a: m.svd_lowrank(a.mT, q=3, niter=1),
    "svd_default_q": lambda m, a: m.svd_lowrank(a),
    "svd_M": lambda m, a: m.svd_lowrank(a, q=3, M=a[:1]),
    "pca_center": lambda m, a: m.pca_lowrank(a, q=3),
    "pca_no_center": lambda m, a: m.pca_lowrank(a, q=2, center=False),
    "pca_default_q": lambda m, a: m.pca_lowrank(a.mT),
}


def _sign_free(usv):
    u, s, v = usv
    return s, u @ v.mH, (u * s[..., None, :]) @ v.mH


@pytest.mark.parametrize("name", CASES)
def test_values_and_grads(name):
    """Rank-3 data (exact for q ≥ 3) and generic data: the same numbers, gradients too."""
    low = RNG.standard_normal((8, 3)) @ RNG.standard_normal((3, 7))
    a = (low + 1e-3 * RNG.standard_normal((8, 7))).astype(np.float64)
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(a.copy()).requires_grad_()
        lib.manual_seed(7)
        outputs = _sign_free(CASES[name](lib, x))
        sum(o.sum() * (i + 1) for i, o in enumerate(outputs)).backward()
        results.append((outputs, x.grad))
    for e, t in zip(results[0][0], results[1][0]):
        assert_same(e, t, 1e-8, 1e-8)
    assert_same(results[0][1], results[1][1], 1e-6, 1e-6)


def test_float32_and_batches():
    a = RNG.standard_normal((2, 6, 5)).astype(np.float32)
    ember.manual_seed(3)
    torch.manual_seed(3)
    e = _sign_free(ember.svd_lowrank(ember.from_numpy(a), q=4))
    t = _sign_free(torch.svd_lowrank(torch.from_numpy(a), q=4))
    for ei, ti in zip(e, t):
        assert_same(ei, ti, 1e-4, 1e-4)


@pytest.mark.parametrize("call", [lambda m, a: m.pca_lowrank(a, q=9),
                                  lambda m, a: m.pca_lowrank(a, q=-1),
                                  lambda m, a: m.pca_lowrank(a, niter=-1)])
def test_errors(call):
    assert_same_error(call, RNG.standard_normal((5, 4)))
