"""ember/ops/linalg_norms.py against torch: vector_norm, matrix_norm (every ord), linalg.norm's
dispatch, cond, matrix_rank (tolerances, hermitian): values in float32/float64, gradients
(ties in the 1/inf norms split as amax does), finite differences, errors.
"""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error
from tests.linalg._helpers import check_backward, check_forward, check_gradcheck, inputs

RNG = np.random.default_rng(18)
INF = math.inf

# id -> (call(lib, *tensors), [(kind, shape), ...])
CASES = {
    "vector_norm": (lambda m, x: m.linalg.vector_norm(x), [("randn", (3, 4))]),
    "vector_norm_dim": (lambda m, x: m.linalg.vector_norm(x, 3, dim=(0, 2), keepdim=True),
                        [("randn", (2, 3, 4))]),
    "vector_norm_inf": (lambda m, x: m.linalg.vector_norm(x, INF, dim=-1), [("randn", (3, 4))]),
    "vector_norm_neg_inf": (lambda m, x: m.linalg.vector_norm(x, -INF), [("randn", (5,))]),
    "vector_norm_1": (lambda m, x: m.linalg.vector_norm(x, 1, 0), [("randn", (3, 4))]),
    "vector_norm_half": (lambda m, x: m.linalg.vector_norm(x, 0.5), [("pos", (3, 4))]),
    "vector_norm_0": (lambda m, x: m.linalg.vector_norm(x, 0), [("randn", (3, 4))]),
    "vector_norm_dtype": (lambda m, x: m.linalg.vector_norm(x.float(), dtype=m.float64),
                          [("randn", (4,))]),
    "matrix_norm_fro": (lambda m, x: m.linalg.matrix_norm(x), [("randn", (2, 3, 4))]),
    "matrix_norm_nuc": (lambda m, x: m.linalg.matrix_norm(x, "nuc"), [("randn", (2, 3, 4))]),
    "matrix_norm_2": (lambda m, x: m.linalg.matrix_norm(x, 2), [("randn", (2, 4, 3))]),
    "matrix_norm_neg2": (lambda m, x: m.linalg.matrix_norm(x, -2), [("randn", (3, 3))]),
    "matrix_norm_1": (lambda m, x: m.linalg.matrix_norm(x, 1), [("randn", (2, 3, 4))]),
    "matrix_norm_neg1": (lambda m, x: m.linalg.matrix_norm(x, -1), [("randn", (3, 4))]),
    "matrix_norm_inf": (lambda m, x: m.linalg.matrix_norm(x, INF), [("randn", (2, 3, 4))]),
    "matrix_norm_neg_inf": (lambda m, x: m.linalg.matrix_norm(x, -INF), [("randn", (3, 4))]),
    "matrix_norm_dims_keepdim": (
        lambda m, x: m.linalg.matrix_norm(x, 1, dim=(0, 2), keepdim=True),
        [("randn", (3, 2, 4))]),
    "matrix_norm_nuc_dims_keepdim": (
        lambda m, x: m.linalg.matrix_norm(x, "nuc", dim=(2, 0), keepdim=True),
        [("randn", (3, 2, 4))]),
    "norm_default": (lambda m, x: m.linalg.norm(x), [("randn", (2, 3, 4))]),
    "norm_vector_ord": (lambda m, x: m.linalg.norm(x, 3), [("randn", (5,))]),
    "norm_matrix_ord": (lambda m, x: m.linalg.norm(x, "nuc"), [("randn", (3, 4))]),
    "norm_matrix_inf": (lambda m, x: m.linalg.norm(x, INF), [("randn", (3, 4))]),
    "norm_dim_int": (lambda m, x: m.linalg.norm(x, dim=1), [("randn", (3, 4))]),
    "norm_dim_pair": (lambda m, x: m.linalg.norm(x, -2, dim=(1, 2)), [("randn", (2, 3, 4))]),
    "cond": (lambda m, x: m.linalg.cond(x), [("gen", (2, 3, 3))]),
    "cond_rect": (lambda m, x: m.linalg.cond(x), [("randn", (4, 2))]),
    "cond_neg2": (lambda m, x: m.linalg.cond(x, -2), [("gen", (3, 3))]),
    "cond_fro": (lambda m, x: m.linalg.cond(x, "fro"), [("gen", (2, 3, 3))]),
    "cond_nuc": (lambda m, x: m.linalg.cond(x, "nuc"), [("gen", (3, 3))]),
    "cond_1": (lambda m, x: m.linalg.cond(x, 1), [("gen", (3, 3))]),
    "cond_inf": (lambda m, x: m.linalg.cond(x, -INF), [("gen", (3, 3))]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case, dtype):
    call, spec = CASES[case]
    check_forward(call, inputs(RNG, spec), dtype)


# PyTorch's own backward fails for cond with p in (±1, ±inf, 'fro') (it modifies the inverse
# in place: "output 0 of LinalgInvEx ... modified by an inplace operation"); ember's gradients
# there are checked by finite differences instead.
TORCH_BACKWARD_FAILS = {"cond_1", "cond_fro", "cond_inf"}


@pytest.mark.parametrize("case", sorted(set(CASES) - {"vector_norm_0"} - TORCH_BACKWARD_FAILS))
def test_backward(case):
    call, spec = CASES[case]
    check_backward(RNG, call, inputs(RNG, spec))


@pytest.mark.parametrize("case", ["matrix_norm_nuc", "matrix_norm_2", "matrix_norm_inf", "cond",
                                  "cond_1", "cond_fro", "cond_inf", "norm_default"])
def test_gradcheck(case):
    call, spec = CASES[case]
    check_gradcheck(call, inputs(RNG, spec))


def test_ties_split_like_amax():
    """Equal column sums share the gradient of the 1-norm, as amax splits ties."""
    x = np.array([[1.0, -2.0], [2.0, 1.0]])
    check_backward(RNG, lambda m, a: m.linalg.matrix_norm(a, 1), [x])
    check_backward(RNG, lambda m, a: m.linalg.matrix_norm(a, INF), [x])


def test_singular_cond():
    x = np.array([[1.0, 2.0], [2.0, 4.0]])
    for p in (1, INF, "fro"):
        check_forward(lambda m, a: m.linalg.cond(a, p), [x], np.float64)
    # 'nuc' is σ_max / σ_min, and the SVD's σ_min of a singular matrix is rounding noise: the
    # value depends on the LAPACK (torch's MKL, NumPy's OpenBLAS) and the CPU, only its size
    # (about 1/eps) is meaningful
    for lib in (ember, torch):
        value = lib.linalg.cond(lib.tensor(x), "nuc").item()
        assert value > 1e14, (lib.__name__, value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_rank(dtype):
    low = RNG.standard_normal((3, 5, 2)) @ RNG.standard_normal((3, 2, 4))
    full = RNG.standard_normal((3, 5, 4))
    sym = low @ np.swapaxes(low, -1, -2)
    for x in (low, full):
        for kwargs in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.0}):
            check_forward(lambda m, a: m.linalg.matrix_rank(a, **kwargs), [x], dtype)
        check_forward(lambda m, a: m.linalg.matrix_rank(a, 0.5), [x], dtype)
    check_forward(lambda m, a: m.linalg.matrix_rank(a, hermitian=True), [sym], dtype)


ERRORS = {
    "vector_norm_int": lambda m: m.linalg.vector_norm(m.ones(2, dtype=m.long)),
    "matrix_norm_ord": lambda m: m.linalg.matrix_norm(m.ones(2, 2), ord=3),
    "matrix_norm_1d": lambda m: m.linalg.matrix_norm(m.ones(2)),
    "matrix_norm_int": lambda m: m.linalg.matrix_norm(m.ones(2, 2, dtype=m.long)),
    "norm_3d_ord": lambda m: m.linalg.norm(m.ones(2, 2, 2), 2),
    "cond_ord": lambda m: m.linalg.cond(m.eye(2), 3),
    "cond_rect_1": lambda m: m.linalg.cond(m.ones(2, 3), 1),
    "matrix_rank_int": lambda m: m.linalg.matrix_rank(m.ones(2, 2, dtype=m.long)),
    # dtype=: floating or complex, of the input's kind, no narrowing; an integer input even so
    "vector_norm_narrowing": lambda m: m.linalg.vector_norm(m.ones(2).double(), dtype=m.float),
    "vector_norm_half": lambda m: m.linalg.vector_norm(m.ones(2).half(), dtype=m.bfloat16),
    "vector_norm_complex_narrowing": lambda m: m.linalg.vector_norm(
        m.ones(2, dtype=m.complex128), dtype=m.complex64),
    "vector_norm_int_dtype": lambda m: m.linalg.vector_norm(m.ones(2).double(), dtype=m.int32),
    "vector_norm_int_input_dtype": lambda m: m.linalg.vector_norm(
        m.arange(3), dtype=m.float32),
    "matrix_norm_narrowing": lambda m: m.linalg.matrix_norm(m.ones(2, 2).double(), "nuc",
                                                            dtype=m.float),
    "norm_narrowing": lambda m: m.linalg.norm(m.ones(2, 2).double(), dtype=m.float),
    "torch_norm_narrowing": lambda m: m.norm(m.ones(2, 2).double(), p="nuc", dtype=m.float),
    # linalg.norm: a string ord is a matrix norm (order checked first), dim of length 1 or 2
    "norm_fro_1d": lambda m: m.linalg.norm(m.ones(3), "fro"),
    "norm_bad_order_1d": lambda m: m.linalg.norm(m.ones(3), "bad"),
    "norm_fro_one_dim": lambda m: m.linalg.norm(m.ones(2, 3), "fro", dim=0),
    "norm_three_dims": lambda m: m.linalg.norm(m.ones(2, 3, 4), dim=(0, 1, 2)),
    "norm_three_dims_ord": lambda m: m.linalg.norm(m.ones(2, 3, 4), 2, dim=(0, 1, 2)),
    "matrix_norm_order_before_dims": lambda m: m.linalg.matrix_norm(m.ones(3), 3),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    assert_same_error(ERRORS[case], same_message=True)


def test_norm_without_ord_over_two_dims_is_a_vector_norm():
    """linalg.norm with ord=None is the vector 2-norm, also over two dims (PyTorch's graph)."""
    names = []
    for m in (ember, torch):
        x = m.ones(3, 4, dtype=m.float64, requires_grad=True)
        names.append((m.linalg.norm(x, dim=(0, 1)).grad_fn.name(),
                      m.linalg.norm(x, 2, dim=(0, 1)).grad_fn.name()))
    assert names[0] == names[1]


@pytest.mark.parametrize("zero_row", [False, True])
def test_two_norm_gradient_in_torchs_order(zero_row):
    """The 2-norm's gradient is g·(x/‖x‖), computed in that order as PyTorch does (its bits
    where the norms agree), and 0 on a zero row."""
    x = RNG.standard_normal((6, 50)).astype(np.float32)
    if zero_row:
        x[2] = 0
    g = RNG.standard_normal(6).astype(np.float32)
    t = ember.tensor(x, requires_grad=True)
    y = ember.linalg.vector_norm(t, dim=-1)
    y.backward(ember.tensor(g))
    norms = y.detach().numpy()[:, None]
    with np.errstate(invalid="ignore"):
        expected = g[:, None] * np.where(norms == 0, 0, x / norms)
    np.testing.assert_array_equal(t.grad.numpy(), expected)
