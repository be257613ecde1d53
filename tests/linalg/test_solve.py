"""ember/ops/linalg_solve.py against torch: det/slogdet/logdet, inv(_ex)/inverse, solve(_ex),
solve_triangular/triangular_solve, cholesky_solve/cholesky_inverse, pinv/pinverse, lstsq,
tensorinv/tensorsolve: values in float32 and float64 over batches, gradients (and grad_fn names)
in float64, finite differences, and the errors PyTorch raises (LinAlgError for singular inputs).
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.linalg._helpers import (assert_linalg_error, check_backward, check_forward,
                                   check_gradcheck, inputs, make)

RNG = np.random.default_rng(15)
pytestmark = pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")


def _spd_factor(lib, a, upper=False):
    """A Cholesky factor built from a (so gradients reach a) without calling cholesky."""
    factor = a.tril() if not upper else a.triu()
    return factor


# id -> (call(lib, *tensors), [(kind, shape), ...])
CASES = {
    "det": (lambda m, a: m.linalg.det(a), [("gen", (3, 3))]),
    "det_batched": (lambda m, a: m.linalg.det(a), [("gen", (2, 3, 4, 4))]),
    "det_top_method": (lambda m, a: a.det(), [("gen", (2, 2))]),
    "slogdet": (lambda m, a: m.linalg.slogdet(a), [("gen", (4, 3, 3))]),
    "slogdet_top": (lambda m, a: m.slogdet(a), [("gen", (3, 3))]),
    "logdet": (lambda m, a: m.logdet(a), [("spd", (2, 3, 3))]),
    "inv": (lambda m, a: m.linalg.inv(a), [("gen", (4, 4))]),
    "inv_batched": (lambda m, a: m.linalg.inv(a), [("gen", (2, 1, 3, 3))]),
    "inverse": (lambda m, a: a.inverse(), [("gen", (3, 3))]),
    "inv_ex": (lambda m, a: m.linalg.inv_ex(a), [("gen", (2, 3, 3))]),
    "solve": (lambda m, a, b: m.linalg.solve(a, b), [("gen", (3, 3)), ("randn", (3, 2))]),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), [("gen", (3, 3)), ("randn", (3,))]),
    "solve_batched_vector": (lambda m, a, b: m.linalg.solve(a, b),
                             [("gen", (2, 3, 3)), ("randn", (2, 3))]),
    "solve_broadcast": (lambda m, a, b: m.linalg.solve(a, b),
                        [("gen", (2, 1, 3, 3)), ("randn", (4, 3, 2))]),
    "solve_right": (lambda m, a, b: m.linalg.solve(a, b, left=False),
                    [("gen", (3, 3)), ("randn", (2, 3))]),
    "solve_ex": (lambda m, a, b: m.linalg.solve_ex(a, b), [("gen", (3, 3)), ("randn", (3, 1))]),
    "solve_triangular_upper": (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
                               [("upper", (4, 4)), ("randn", (4, 2))]),
    "solve_triangular_lower": (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False),
                               [("lower", (2, 3, 3)), ("randn", (3, 2))]),
    "solve_triangular_unit": (
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
        [("lower", (3, 3)), ("randn", (3, 1))]),
    "solve_triangular_right": (
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True, left=False),
        [("upper", (3, 3)), ("randn", (2, 3))]),
    "triangular_solve": (lambda m, b, a: m.triangular_solve(b, a),
                         [("randn", (3, 2)), ("upper", (3, 3))]),
    "triangular_solve_transpose": (
        lambda m, b, a: b.triangular_solve(a, upper=False, transpose=True),
        [("randn", (2, 3, 2)), ("lower", (2, 3, 3))]),
    "cholesky_solve": (lambda m, b, a: m.cholesky_solve(b, _spd_factor(m, a)),
                       [("randn", (3, 2)), ("lower", (3, 3))]),
    "cholesky_solve_upper": (lambda m, b, a: b.cholesky_solve(_spd_factor(m, a, True), True),
                             [("randn", (2, 3, 1)), ("upper", (2, 3, 3))]),
    "cholesky_inverse": (lambda m, a: m.cholesky_inverse(a.tril()), [("lower", (3, 3))]),
    "cholesky_inverse_upper": (lambda m, a: a.triu().cholesky_inverse(upper=True),
                               [("upper", (2, 3, 3))]),
    "pinv_square": (lambda m, a: m.linalg.pinv(a), [("gen", (3, 3))]),
    "pinv_tall": (lambda m, a: m.linalg.pinv(a), [("randn", (2, 5, 3))]),
    "pinv_wide": (lambda m, a: m.linalg.pinv(a), [("randn", (3, 5))]),
    "pinv_hermitian": (lambda m, a: m.linalg.pinv(a + a.mT, hermitian=True),
                       [("sym", (3, 3))]),
    "pinverse": (lambda m, a: a.pinverse(), [("randn", (4, 2))]),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b), [("randn", (5, 3)), ("randn", (5, 2))]),
    "lstsq_gelsd": (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"),
                    [("randn", (2, 5, 3)), ("randn", (2, 5, 2))]),
    "lstsq_vector": (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelss").solution,
                     [("randn", (5, 3)), ("randn", (5,))]),
    "lstsq_wide": (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"),
                   [("randn", (2, 4)), ("randn", (2, 3))]),
    "tensorinv": (lambda m, a: m.linalg.tensorinv(a.reshape(4, 2, 2), ind=1),
                  [("gen", (4, 4))]),
    "tensorsolve": (lambda m, a, b: m.linalg.tensorsolve(a.reshape(2, 3, 6), b),
                    [("gen", (6, 6)), ("randn", (2, 3))]),
}

# composites in ember whose grad_fn names differ from PyTorch's single node
COMPOSITE = {"lstsq", "lstsq_gelsd", "lstsq_vector", "lstsq_wide"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case, dtype):
    call, spec = CASES[case]
    check_forward(call, inputs(RNG, spec), dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    call, spec = CASES[case]
    check_backward(RNG, call, inputs(RNG, spec), grad_fn_names=case not in COMPOSITE)


GRADCHECK = ["det", "slogdet", "inv", "solve_broadcast", "solve_right", "solve_triangular_lower",
             "solve_triangular_unit", "cholesky_solve", "cholesky_inverse_upper", "pinv_tall",
             "lstsq", "tensorsolve"]


@pytest.mark.parametrize("case", GRADCHECK)
def test_gradcheck(case):
    call, spec = CASES[case]
    check_gradcheck(call, inputs(RNG, [(kind, shape[-2:]) for kind, shape in spec]))


@pytest.mark.parametrize("case", ["det", "inv", "solve", "solve_triangular_upper", "pinv_wide"])
def test_second_order(case):
    call, spec = CASES[case]
    check_gradcheck(call, inputs(RNG, spec), second_order=True)


# ---- singular inputs -------------------------------------------------------------------------
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
BATCH = np.stack([np.eye(2), SINGULAR])


@pytest.mark.parametrize("call", [
    lambda m, a: m.linalg.inv(a),
    lambda m, a: m.inverse(a),
    lambda m, a: m.linalg.inv_ex(a, check_errors=True),
    lambda m, a: m.linalg.solve(a, m.ones(a.shape[:-1], dtype=a.dtype)),
    lambda m, a: m.linalg.solve(a, m.ones(a.shape, dtype=a.dtype), left=False),
], ids=["inv", "inverse", "inv_ex_check", "solve", "solve_right"])
@pytest.mark.parametrize("array", [SINGULAR, BATCH], ids=["single", "batched"])
def test_singular_raises_linalg_error(call, array):
    assert_linalg_error(call, array)


def test_tensorinv_singular():
    assert_linalg_error(lambda m, a: m.linalg.tensorinv(a.reshape(2, 1, 2), ind=1), SINGULAR)


def test_inv_ex_reports_info():
    info_e = ember.linalg.inv_ex(ember.from_numpy(BATCH)).info
    assert_same(info_e, torch.linalg.inv_ex(torch.from_numpy(BATCH)).info, exact=True)
    info_e = ember.linalg.solve_ex(ember.from_numpy(BATCH), ember.ones(2, 2).double()).info
    info_t = torch.linalg.solve_ex(torch.from_numpy(BATCH), torch.ones(2, 2).double()).info
    assert_same(info_e, info_t, exact=True)


def test_singular_values():
    """det and slogdet of a singular matrix, logdet of a negative determinant, and det's
    gradient there (the cofactor matrix)."""
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    for call in (lambda m, x: m.linalg.det(x), lambda m, x: m.linalg.slogdet(x),
                 lambda m, x: m.logdet(x), lambda m, x: m.logdet(-x - 3 * m.eye(2).double())):
        check_forward(call, [a], np.float64)
    check_backward(RNG, lambda m, x: m.linalg.det(x), [a])
    check_backward(RNG, lambda m, x: m.linalg.det(x), [np.zeros((2, 3, 3))])


def test_solve_triangular_zero_diagonal_gives_inf():
    a = np.array([[0.0, 1.0], [0.0, 1.0]])
    check_forward(lambda m, x: m.linalg.solve_triangular(x, m.ones(2, 1).double(), upper=True),
                  [a], np.float64)


def test_det_of_infinite_entries_is_silent():
    """det of a matrix with inf entries is nan or inf, with no NumPy RuntimeWarning."""
    a = np.array([[[np.inf, np.inf], [np.inf, np.inf]], [[np.inf, 0.0], [0.0, 1.0]]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = ember.linalg.det(ember.from_numpy(a))
    assert_same(e, torch.linalg.det(torch.from_numpy(a)))


def test_pinv_tolerances():
    a = make(RNG, "randn", (3, 4, 3)) * np.array([1.0, 1e-3, 1e-9])
    for kwargs in ({}, {"atol": 1e-2}, {"rtol": 1e-2}, {"atol": 1e-12, "rtol": 0.0},
                   {"hermitian": False, "rtol": 0.5}):
        check_forward(lambda m, x: m.linalg.pinv(x, **kwargs), [a], np.float64)
    check_forward(lambda m, x: m.linalg.pinv(x, 1e-2), [a], np.float64)
    check_forward(lambda m, x: m.linalg.pinv(x, atol=m.tensor([0.5, 1e-5, 1e-3]).double()),
                  [a], np.float64)


# ---- errors ----------------------------------------------------------------------------------
ERRORS = {
    "inv_int": (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.long)), True),
    "inv_half": (lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.float16)), True),
    "inv_rect": (lambda m: m.linalg.inv(m.ones(2, 3)), True),
    "inv_1d": (lambda m: m.linalg.inv(m.ones(3)), True),
    "det_int": (lambda m: m.linalg.det(m.ones(2, 2, dtype=m.int32)), True),
    "det_rect": (lambda m: m.det(m.ones(2, 3)), True),
    "solve_shapes": (lambda m: m.linalg.solve(m.eye(2), m.ones(3)), True),
    "solve_shapes_matrix": (lambda m: m.linalg.solve(m.eye(2), m.ones(3, 1)), True),
    "solve_dtypes": (lambda m: m.linalg.solve(m.eye(2), m.ones(2, dtype=m.float64)), True),
    "solve_1d_a": (lambda m: m.linalg.solve(m.ones(2), m.ones(2)), True),
    "solve_0d_b": (lambda m: m.linalg.solve(m.eye(2), m.tensor(1.0)), True),
    "solve_triangular_no_upper": (lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(2, 1)),
                                  False),
    "solve_triangular_1d": (lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(2),
                                                                upper=True), True),
    "solve_triangular_shapes": (lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(3, 1),
                                                                    upper=True), True),
    "triangular_solve_1d": (lambda m: m.triangular_solve(m.ones(2), m.eye(2)), True),
    "cholesky_solve_1d": (lambda m: m.cholesky_solve(m.ones(2), m.eye(2)), True),
    "cholesky_solve_shapes": (lambda m: m.cholesky_solve(m.ones(3, 1), m.eye(2)), True),
    "cholesky_inverse_rect": (lambda m: m.cholesky_inverse(m.ones(2, 3)), True),
    "pinv_1d": (lambda m: m.linalg.pinv(m.ones(2)), True),
    "pinv_int": (lambda m: m.linalg.pinv(m.ones(2, 2, dtype=m.long)), True),
    "lstsq_driver": (lambda m: m.linalg.lstsq(m.ones(2, 2), m.ones(2, 1), driver="x"), True),
    "lstsq_shapes": (lambda m: m.linalg.lstsq(m.ones(3, 2), m.ones(2, 1)), True),
    "tensorinv_ind": (lambda m: m.linalg.tensorinv(m.ones(4, 2, 2), ind=0), True),
    "tensorinv_shape": (lambda m: m.linalg.tensorinv(m.ones(4, 2, 3), ind=1), True),
    "tensorsolve_shape": (lambda m: m.linalg.tensorsolve(m.ones(2, 3, 6), m.ones(3, 3)), True),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    call, same_message = ERRORS[case]
    assert_same_error(lambda m: call(m), same_message=same_message)


@pytest.mark.parametrize("shape", [(3, 5, 2), (2, 6, 4, 1)])
def test_pinv_of_low_rank_products(shape):
    """pinv(a·bᵀ) for orthonormal a (m x k) and b (n x k): rank k < min(m, n), and the
    gradient at constant rank (the case PyTorch's OpInfo uses for pinv's backward)."""
    *batch, m, n, k = shape
    a = np.linalg.qr(RNG.random((*batch, m, k)))[0]
    b = np.linalg.qr(RNG.random((*batch, n, k)))[0]
    check_forward(_pinv_of_product, [a, b], np.float64)
    check_backward(RNG, _pinv_of_product, [a, b])


def _pinv_of_product(lib, x, y):
    return lib.linalg.pinv(x @ y.mT)
