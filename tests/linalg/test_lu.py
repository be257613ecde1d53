"""ember/ops/linalg_lu.py against torch: lu_factor(_ex), lu, lu_unpack, lu_solve (and the legacy
torch.lu / torch.lu_solve), ldl_factor(_ex) / ldl_solve: LAPACK's packed factors and pivots
exactly, values over batches and square/tall/wide shapes, gradients, finite differences.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.linalg._helpers import check_backward, check_forward, check_gradcheck, inputs

RNG = np.random.default_rng(17)


def _lu_solve(m, a, b, **kwargs):
    LU, pivots = m.linalg.lu_factor(a)
    return m.linalg.lu_solve(LU, pivots, b, **kwargs)


# id -> (call(lib, *tensors), [(kind, shape), ...])
CASES = {
    "lu_factor": (lambda m, a: m.linalg.lu_factor(a), [("randn", (4, 4))]),
    "lu_factor_batched": (lambda m, a: m.linalg.lu_factor(a), [("randn", (2, 3, 3, 3))]),
    "lu_factor_tall": (lambda m, a: m.linalg.lu_factor(a), [("randn", (2, 5, 3))]),
    "lu_factor_wide": (lambda m, a: m.linalg.lu_factor(a), [("randn", (3, 5))]),
    "lu_factor_ex": (lambda m, a: m.linalg.lu_factor_ex(a), [("randn", (2, 3, 3))]),
    # past one 32-column panel of the blocked kernel: square, tall and wide
    "lu_factor_blocked": (lambda m, a: m.linalg.lu_factor(a), [("randn", (2, 70, 70))]),
    "lu_factor_blocked_tall": (lambda m, a: m.linalg.lu_factor(a), [("randn", (80, 40))]),
    "lu_factor_blocked_wide": (lambda m, a: m.linalg.lu_factor(a), [("randn", (40, 80))]),
    "lu": (lambda m, a: m.linalg.lu(a), [("randn", (2, 4, 4))]),
    "lu_tall": (lambda m, a: m.linalg.lu(a), [("randn", (5, 3))]),
    "lu_wide": (lambda m, a: m.linalg.lu(a), [("randn", (2, 3, 4))]),
    "lu_top": (lambda m, a: m.lu(a), [("randn", (3, 3))]),
    "lu_top_infos": (lambda m, a: a.lu(get_infos=True), [("randn", (2, 3, 3))]),
    "lu_unpack": (lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a)), [("randn", (2, 4, 3))]),
    "lu_solve": (_lu_solve, [("gen", (3, 3)), ("randn", (3, 2))]),
    "lu_solve_batched": (_lu_solve, [("gen", (2, 3, 3)), ("randn", (2, 3, 1))]),
    "lu_solve_adjoint": (lambda m, a, b: _lu_solve(m, a, b, adjoint=True),
                         [("gen", (3, 3)), ("randn", (3, 2))]),
    "lu_solve_right": (lambda m, a, b: _lu_solve(m, a, b, left=False),
                       [("gen", (3, 3)), ("randn", (2, 3))]),
    "lu_solve_top": (lambda m, a, b: m.lu_solve(b, *m.linalg.lu_factor(a)),
                     [("gen", (2, 3, 3)), ("randn", (2, 3, 2))]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case, dtype):
    call, spec = CASES[case]
    check_forward(call, inputs(RNG, spec), dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    call, spec = CASES[case]
    check_backward(RNG, call, inputs(RNG, spec), grad_fn_names=case.startswith("lu_factor"))


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 4)])
def test_gradcheck(shape):
    check_gradcheck(lambda m, a: m.linalg.lu_factor(a).LU, inputs(RNG, [("randn", shape)]))


def test_gradcheck_lu_solve():
    check_gradcheck(_lu_solve, inputs(RNG, [("gen", (3, 3)), ("randn", (3, 2))]),
                    second_order=True)


def test_pivots_exact():
    """Ties and zero columns pivot as LAPACK does (first maximum, zero pivot reported)."""
    a = np.array([[[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0], [1.0, 2.0, 3.0]],
                  [[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 5.0, 6.0]]])
    pe, pt = ember.linalg.lu_factor_ex(ember.from_numpy(a)), torch.linalg.lu_factor_ex(
        torch.from_numpy(a))
    for e, t in zip(pe, pt):
        assert_same(e, t, exact=e.dtype is not ember.float64)
    assert_same(pe.LU, pt.LU, rtol=1e-12, atol=1e-12)


def test_rows_right_of_the_panel_with_inf():
    """getrf solves the rows right of a panel by forward substitution (trsm): U's first row is
    the pivot row as it was, never 0·inf = NaN from a back substitution (issue #19's fuzz)."""
    a = np.array([[-0.0, 0.0, -np.inf],
                  [-2.1948138924540064e+30, -np.inf, -1.1754943508222875e-38]])
    e, t = ember.linalg.lu_factor(ember.from_numpy(a)), torch.linalg.lu_factor(torch.from_numpy(a))
    np.testing.assert_array_equal(e.LU.numpy(), t.LU.numpy())
    assert_same(e.pivots, t.pivots, exact=True)


def test_lu_factor_singular_error():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert_same_error(lambda m, x: m.linalg.lu_factor(x), a, same_message=True)
    assert_same_error(lambda m, x: m.linalg.lu_factor_ex(x, check_errors=True), a,
                      same_message=True)


def test_lu_unpack_flags():
    a = inputs(RNG, [("randn", (3, 4))])[0]
    for flags in ((True, False), (False, True)):
        check_forward(lambda m, x: m.lu_unpack(*m.linalg.lu_factor(x), *flags), [a], np.float64)


# ---- LDLᵀ ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sym", "spd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ldl_factor_and_solve(kind, dtype):
    a, b = inputs(RNG, [(kind, (2, 4, 4)), ("randn", (2, 4, 2))])
    check_forward(lambda m, x: m.linalg.ldl_factor(x), [a], dtype)
    check_forward(lambda m, x: m.linalg.ldl_factor_ex(x), [a], dtype)
    check_forward(lambda m, x, y: m.linalg.ldl_solve(*m.linalg.ldl_factor(x), y), [a, b], dtype)


def test_ldl_factor_not_differentiable():
    assert_same_error(lambda m, x: m.linalg.ldl_factor(x).LD.sum().backward(),
                      torch.eye(2, dtype=torch.float64, requires_grad=True), same_message=True)


ERRORS = {
    "lu_factor_1d": lambda m: m.linalg.lu_factor(m.ones(3)),
    "lu_factor_int": lambda m: m.linalg.lu_factor(m.ones(2, 2, dtype=m.long)),
    "lu_solve_rect": lambda m: m.linalg.lu_solve(m.ones(2, 3), m.ones(2, dtype=m.int32),
                                                 m.ones(2, 1)),
    "ldl_rect": lambda m: m.linalg.ldl_factor(m.ones(2, 3)),
    "lu_factor_no_pivot": lambda m: m.linalg.lu_factor(m.eye(2), pivot=False),
    "lu_no_pivot": lambda m: m.linalg.lu(m.eye(2), pivot=False),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    assert_same_error(ERRORS[case])
