"""ember/ops/linalg_lstsq.py against torch: the gels driver (LAPACK's QR/LQ solution, no rank
cut-off; torch's LinAlgError on an exactly zero diagonal of R), and the gradient of every driver
(PyTorch's: that of pinv(A)·B at pinv's default tolerance, whatever rcond). The common cases of
lstsq (values, gradients, errors of each driver) are in test_solve.py's tables.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_grads, assert_same_outputs, run_both, to_ember, \
    to_torch
from tests.linalg._helpers import assert_linalg_error, make

RNG = np.random.default_rng(19)


def _gels(lib, a, b):
    return lib.linalg.lstsq(a, b, driver="gels")


# id -> (A, B): near rank-deficient (σ_min/σ_max below rcond, where the SVD drivers cut but gels
# does not), batched and broadcast, wide (minimum norm), complex, and A and B past LAPACK's
# scaling thresholds (tiny/eps and its inverse)
GELS = {
    "wide_graded": (np.array([[0.010411265306174755, 6.970038284189696e+16, 0.0],
                              [0.010411265306174755, -0.0, -0.0]], np.float32),
                    np.array([[5.1067, 1.1351, 4.9473], [5.7744, -3.9730, 3.2708]], np.float32)),
    "tall_graded": (np.array([[1.0, 0.0], [0.0, 1e-17], [0.0, 0.0]]),
                    np.array([[1.0], [2.0], [3.0]])),
    "tall_batched": (make(RNG, "randn", (3, 5, 2)), make(RNG, "randn", (1, 5, 3))),
    "wide_batched": (make(RNG, "randn", (2, 2, 4)), make(RNG, "randn", (2, 2, 1))),
    "complex": (make(RNG, "randn", (2, 5)) + 1j * make(RNG, "randn", (2, 5)),
                make(RNG, "randn", (2, 1)) + 0j),
    "tiny": (np.array([[1e-35, 2e-36], [3e-36, 1e-35], [0, 1e-36]], np.float32),
             np.ones((3, 1), np.float32)),
    "huge": (np.array([[1e36, 2e35], [3e35, 1e36], [0, 1e35]], np.float32),
             np.full((3, 1), 1e33, np.float32)),
    "zero": (np.zeros((2, 2)), np.ones((2, 2))),
}


@pytest.mark.parametrize("case", sorted(GELS))
def test_gels_values(case):
    a, b = GELS[case]
    e, t = run_both(_gels, a, b)
    tol = 1e-4 if a.dtype == np.float32 else 1e-7
    assert_same_outputs(e, t, rtol=tol, atol=tol)


# an exactly zero diagonal of R in any QR: a zero column (tall), a zero row (wide), in a batch
@pytest.mark.parametrize("a", [np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], np.float32),
                               np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
                               np.stack([np.eye(3)[:, :2], [[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]])])
def test_gels_rank_deficient_is_linalg_error(a):
    b = np.ones(a.shape[:-1] + (1,), a.dtype)
    assert_linalg_error(_gels, a, b)


# rank 2 (σ₃/σ₁ well below rcond, σ₂/σ₁ well above): gelsy's solution for its two leading
# pivoted columns is not A⁺·B at the SVD's rank 2 (which is off by 1.2 in 35 and 3.8 in 28).
# torch's gelsy (MKL's) is not deterministic on such an A: the same call returns one of two
# solutions (25.448 or 25.958 first in "a", single-threaded too), and in "b" at times rank 1
# though σ₂/σ₁ = 0.085 > 2.8·rcond; ember gives one of its rank-2 answers.
GELSY = {
    "a": (np.array([[0.0261, -0.1264, 0.5769], [0.0427, -0.0495, 0.3374],
                    [0.0244, -0.1314, 0.5874], [0.0265, -0.0818, 0.4041]]), 0.004),
    "b": (np.array([[0.3291, -0.3276, 0.2068], [-0.1843, 0.3006, -0.094],
                    [-0.0778, 0.1078, -0.0548], [-0.4787, 0.5224, -0.3051]]), 0.03),
}


@pytest.mark.parametrize("case", sorted(GELSY))
def test_gelsy_solution_is_one_of_torchs(case):
    a, rcond = GELSY[case]
    b = np.arange(8.0).reshape(4, 2)
    ours = ember.linalg.lstsq(ember.from_numpy(a), ember.from_numpy(b), rcond=rcond)
    theirs = [torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(b), rcond=rcond)
              for _ in range(20)]
    assert int(ours.rank) == 2 and 2 in {int(t.rank) for t in theirs}  # torch: 1 at times
    assert any(np.allclose(ours.solution.numpy(), t.solution.numpy(), rtol=1e-9, atol=1e-9)
               for t in theirs)


@pytest.mark.parametrize("driver, rcond", [("gels", None), ("gelsy", None), ("gelsd", 0.3),
                                           ("gelss", None)])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4)])
def test_gradient(driver, rcond, shape):
    """PyTorch differentiates pinv(A)·B at pinv's default tolerance for every driver and rcond
    (rcond=0.3 drops a singular value in the forward but not in the gradient)."""
    a = make(RNG, "randn", (2, *shape))
    b = make(RNG, "randn", (2, shape[0], 2))
    leaves = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        ta, tb = convert(a, requires_grad=True), convert(b, requires_grad=True)
        solution = lib.linalg.lstsq(ta, tb, rcond=rcond, driver=driver).solution
        (solution * solution).sum().backward()
        leaves.append((ta, tb))
    assert_same_grads(leaves[0], leaves[1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("driver", ["gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("vector", [False, True])
def test_residuals_are_an_output_of_the_node(driver, vector):
    """solution and residuals are the two outputs of one LinalgLstsqBackward0 (also for a batch
    of vectors B, whose residuals keep their column: shape (..., 1)); the residuals' gradient
    (2·R·gLᵀ·Xᴴ into A, −2·R·gL into B) is PyTorch's, and an empty residual gives no gradient."""
    a = make(RNG, "randn", (2, 6, 3))
    b = make(RNG, "randn", (2, 6) if vector else (2, 6, 2))
    seen = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        ta, tb = convert(a, requires_grad=True), convert(b, requires_grad=True)
        result = lib.linalg.lstsq(ta, tb, driver=driver)
        names = (result.solution.grad_fn.name(), result.residuals.grad_fn.name())
        loss = (result.residuals * 3).sum()
        grads = lib.autograd.grad(loss, (ta, tb), allow_unused=True)
        seen.append((names, tuple(result.solution.shape), tuple(result.residuals.shape),
                     result.residuals.detach().numpy(),
                     [None if g is None else g.numpy() for g in grads]))
    (e_names, *e_rest), (t_names, *t_rest) = seen
    assert e_names == t_names == ("LinalgLstsqBackward0", "LinalgLstsqBackward0")
    assert e_rest[:2] == t_rest[:2]
    np.testing.assert_allclose(e_rest[2], t_rest[2], rtol=1e-10)
    for ge, gt in zip(e_rest[3], t_rest[3]):
        assert (ge is None) == (gt is None)
        if gt is not None:
            np.testing.assert_allclose(ge, gt, rtol=1e-8, atol=1e-10)


def test_residuals_double_backward():
    """The residuals' and the solution's gradients are themselves differentiable."""
    a = ember.tensor(make(RNG, "randn", (5, 3)), requires_grad=True)
    b = ember.tensor(make(RNG, "randn", (5,)), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x, y: ember.linalg.lstsq(x, y, driver="gelsd")[:2],
                                        (a, b))
