"""ember/ops/linalg_misc.py against torch: matrix_exp, matrix_power, multi_dot/chain_matmul,
householder_product, cross (linalg and top-level), vecdot, vander, diagonal, kron, cdist, addr,
addbmm: values in float32/float64 over batches, gradients, finite differences and second
derivatives, errors.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _warnings
from tests.differential import assert_same_error
from tests.linalg._helpers import check_backward, check_forward, check_gradcheck, inputs

RNG = np.random.default_rng(19)


def _householder(m, a, tau):
    return m.linalg.householder_product(a, tau)


# id -> (call(lib, *tensors), [(kind, shape), ...])
CASES = {
    "matrix_exp": (lambda m, a: m.linalg.matrix_exp(a), [("randn", (3, 3))]),
    "matrix_exp_batched": (lambda m, a: m.matrix_exp(a), [("randn", (2, 2, 4, 4))]),
    "matrix_exp_large_norm": (lambda m, a: a.matrix_exp(), [("randn", (2, 3, 3))]),
    "matrix_power_3": (lambda m, a: m.linalg.matrix_power(a, 3), [("randn", (2, 3, 3))]),
    "matrix_power_0": (lambda m, a: m.linalg.matrix_power(a, 0), [("randn", (2, 3, 3))]),
    "matrix_power_1": (lambda m, a: a.matrix_power(1), [("randn", (3, 3))]),
    "matrix_power_neg": (lambda m, a: m.matrix_power(a, -2), [("gen", (3, 3))]),
    "multi_dot": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                  [("randn", (2, 5)), ("randn", (5, 3)), ("randn", (3, 4))]),
    "multi_dot_vectors": (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
                          [("randn", (5,)), ("randn", (5, 3)), ("randn", (3,))]),
    "multi_dot_first_vector": (lambda m, a, b: m.linalg.multi_dot((a, b)),
                               [("randn", (5,)), ("randn", (5, 3))]),
    "multi_dot_long": (lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
                       [("randn", (6, 2)), ("randn", (2, 7)), ("randn", (7, 3)),
                        ("randn", (3, 1))]),
    "chain_matmul": (lambda m, a, b, c: m.chain_matmul(a, b, c),
                     [("randn", (2, 5)), ("randn", (5, 3)), ("randn", (3, 4))]),
    "householder": (_householder, [("randn", (4, 3)), ("randn", (2,))]),
    "householder_batched": (_householder, [("randn", (2, 5, 3)), ("randn", (2, 3))]),
    "cross": (lambda m, a, b: m.linalg.cross(a, b), [("randn", (4, 3)), ("randn", (4, 3))]),
    "cross_broadcast": (lambda m, a, b: m.linalg.cross(a, b, dim=0),
                        [("randn", (3, 1, 2)), ("randn", (3, 4, 1))]),
    "cross_top": (lambda m, a, b: m.cross(a, b, dim=1), [("randn", (2, 3)), ("randn", (2, 3))]),
    "cross_method": (lambda m, a, b: a.cross(b, -1), [("randn", (1, 3)), ("randn", (2, 3))]),
    "vecdot": (lambda m, a, b: m.linalg.vecdot(a, b), [("randn", (2, 4)), ("randn", (3, 1, 4))]),
    "vecdot_dim": (lambda m, a, b: m.linalg.vecdot(a, b, dim=0),
                   [("randn", (4, 2)), ("randn", (4, 2))]),
    "vander": (lambda m, x: m.linalg.vander(x), [("randn", (4,))]),
    "vander_batched_n": (lambda m, x: m.linalg.vander(x, N=5), [("randn", (2, 3))]),
    "diagonal": (lambda m, a: m.linalg.diagonal(a), [("randn", (2, 3, 4))]),
    "diagonal_offset": (lambda m, a: m.linalg.diagonal(a, offset=1, dim1=0, dim2=2),
                        [("randn", (3, 2, 4))]),
    "diagonal_negative": (lambda m, a: m.linalg.diagonal(a, offset=-1), [("randn", (4, 3))]),
    "kron": (lambda m, a, b: m.kron(a, b), [("randn", (2, 3)), ("randn", (3, 2))]),
    "kron_mixed_ndim": (lambda m, a, b: a.kron(b), [("randn", (2,)), ("randn", (2, 2, 3))]),
    "cdist": (lambda m, a, b: m.cdist(a, b), [("randn", (4, 3)), ("randn", (5, 3))]),
    "cdist_batched": (lambda m, a, b: m.cdist(a, b, p=1.0),
                      [("randn", (2, 4, 3)), ("randn", (2, 5, 3))]),
    "cdist_p3": (lambda m, a, b: m.cdist(a, b, p=3),
                 [("randn", (2, 4, 3)), ("randn", (1, 5, 3))]),
    "cdist_inf": (lambda m, a, b: m.cdist(a, b, p=float("inf")),
                  [("randn", (4, 3)), ("randn", (5, 3))]),
    "cdist_no_mm": (lambda m, a, b: m.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist"),
                    [("randn", (4, 3)), ("randn", (5, 3))]),
    # p = 2 past 25 rows (or asked for): PyTorch's one-GEMM EuclideanDist, viewed back
    "cdist_mm": (lambda m, a, b: m.cdist(a, b), [("randn", (30, 3)), ("randn", (7, 3))]),
    "cdist_mm_batched": (lambda m, a, b: m.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                         [("randn", (2, 1, 4, 3)), ("randn", (3, 5, 3))]),
    "addr": (lambda m, c, a, b: m.addr(c, a, b), [("randn", (3, 4)), ("randn", (3,)),
                                                   ("randn", (4,))]),
    "addr_scaled": (lambda m, c, a, b: c.addr(a, b, beta=0.5, alpha=2),
                    [("randn", (1, 4)), ("randn", (3,)), ("randn", (4,))]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b, alpha=0.5),
               [("randn", (3, 4)), ("randn", (2, 3, 5)), ("randn", (2, 5, 4))]),
}

NAMED_NODES = {"matrix_exp", "matrix_exp_batched", "matrix_exp_large_norm", "cross",
               "cross_broadcast", "cross_top", "cross_method", "cdist_mm", "cdist_mm_batched"}


def _inputs(case):
    arrays = inputs(RNG, CASES[case][1])
    if case == "matrix_exp_large_norm":
        arrays[0] = arrays[0] * 4
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case, dtype):
    check_forward(CASES[case][0], _inputs(case), dtype)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    check_backward(RNG, CASES[case][0], _inputs(case), grad_fn_names=case in NAMED_NODES)


@pytest.mark.parametrize("case", ["matrix_exp", "matrix_power_neg", "multi_dot_vectors",
                                  "householder", "cross_broadcast", "vander", "kron", "cdist",
                                  "cdist_p3", "addbmm", "cdist_mm", "cdist_mm_batched"])
def test_gradcheck(case):
    check_gradcheck(CASES[case][0], _inputs(case))


@pytest.mark.parametrize("case", ["matrix_exp", "cross", "householder", "cdist_mm"])
def test_second_order(case):
    check_gradcheck(CASES[case][0], _inputs(case), second_order=True)


def test_householder_of_geqrf_is_q():
    """householder_product of geqrf's reflectors is QR's Q (torch's geqrf supplies them)."""
    a = torch.from_numpy(RNG.standard_normal((5, 3)))
    reflectors, tau = torch.geqrf(a)
    q_e = ember.linalg.householder_product(ember.from_numpy(reflectors.numpy().copy()),
                                           ember.from_numpy(tau.numpy().copy()))
    np.testing.assert_allclose(q_e.numpy(), torch.linalg.qr(a).Q.numpy(), atol=1e-12)


def test_diagonal_is_a_view():
    a = np.arange(24.0).reshape(2, 3, 4)
    bases = []
    for lib in (ember, torch):
        x = lib.from_numpy(a.copy())
        lib.linalg.diagonal(x, offset=1).mul_(10)
        bases.append(x)
    np.testing.assert_array_equal(bases[0].numpy(), bases[1].numpy())


def test_integer_dtypes():
    ints = np.arange(1, 5).reshape(2, 2)
    for call in (lambda m, a: m.linalg.matrix_power(a, 3), lambda m, a: m.kron(a, a),
                 lambda m, a: m.linalg.vander(a[0]), lambda m, a: m.linalg.matrix_power(a, 0)):
        check_forward(call, [ints], np.int64)


def test_cross_default_dim_warns(monkeypatch):
    """torch's TORCH_WARN_ONCE, with its "(Triggered internally at ...)" suffix."""
    monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())  # as in a fresh process
    a, b = inputs(RNG, [("randn", (3, 2)), ("randn", (3, 2))])
    with pytest.warns(UserWarning, match="without specifying the dim") as caught:
        check_forward(lambda m, x, y: m.cross(x, y), [a, b], np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.cross(ember.ones(3), ember.ones(3))
    assert all(str(w.message).endswith("(Triggered internally at /__w/pytorch/pytorch/aten/src/"
                                       "ATen/native/Cross.cpp:63.)") for w in caught)


def test_addr_beta_zero_ignores_nan():
    c = np.full((2, 3), np.nan)
    a, b = inputs(RNG, [("randn", (2,)), ("randn", (3,))])
    check_forward(lambda m, x, y, z: m.addr(x, y, z, beta=0), [c, a, b], np.float64)


ERRORS = {
    "matrix_exp_rect": lambda m: m.linalg.matrix_exp(m.ones(2, 3)),
    "matrix_exp_int": lambda m: m.linalg.matrix_exp(m.ones(2, 2, dtype=m.long)),
    "matrix_power_rect": lambda m: m.linalg.matrix_power(m.ones(2, 3), 2),
    "matrix_power_int_negative": lambda m: m.linalg.matrix_power(m.ones(2, 2, dtype=m.long), -1),
    "multi_dot_one": lambda m: m.linalg.multi_dot([m.ones(2, 2)]),
    "multi_dot_3d_last": lambda m: m.linalg.multi_dot([m.ones(2, 2), m.ones(2, 2, 2)]),
    "multi_dot_3d_first": lambda m: m.linalg.multi_dot([m.ones(2, 2, 2), m.ones(2, 2)]),
    "multi_dot_shapes": lambda m: m.linalg.multi_dot([m.ones(2, 3), m.ones(2, 2)]),
    "multi_dot_dtypes": lambda m: m.linalg.multi_dot([m.ones(2, 2),
                                                     m.ones(2, 2, dtype=m.float64)]),
    "householder_wide": lambda m: m.linalg.householder_product(m.ones(2, 3), m.ones(2)),
    "householder_tau": lambda m: m.linalg.householder_product(m.ones(3, 2), m.ones(3)),
    "cross_length": lambda m: m.linalg.cross(m.ones(2), m.ones(2)),
    "cross_broadcast": lambda m: m.linalg.cross(m.ones(2, 3), m.ones(4, 3)),
    "cross_no_size_3": lambda m: m.cross(m.ones(2, 2), m.ones(2, 2)),
    "cross_ndim": lambda m: m.linalg.cross(m.ones(3), m.ones(2, 3)),
    # torch's order: the shapes, then a bool input (whatever other's dtype), then the dtypes
    "cross_bool_input": lambda m: m.linalg.cross(m.ones(1, 3, dtype=m.bool), m.ones(5, 3)),
    "cross_bool_other": lambda m: m.linalg.cross(m.ones(1, 3), m.ones(5, 3, dtype=m.bool)),
    "cross_bools": lambda m: m.cross(m.ones(2, 3, dtype=m.bool), m.ones(2, 3, dtype=m.bool),
                                     dim=1),
    "cross_length_before_broadcast": lambda m: m.linalg.cross(m.ones(4, 3), m.ones(2, 4)),
    "cross_length_before_dtypes": lambda m: m.linalg.cross(m.ones(2, 3),
                                                           m.ones(2, 4, dtype=m.int64)),
    "vecdot_int": lambda m: m.linalg.vecdot(m.ones(3, dtype=m.long), m.ones(3, dtype=m.long)),
    "vecdot_sizes": lambda m: m.linalg.vecdot(m.ones(3), m.ones(2)),
    "vander_n": lambda m: m.linalg.vander(m.ones(3), N=0),
    "vander_0d": lambda m: m.linalg.vander(m.tensor(1.0)),
    "cdist_columns": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 4)),
    "cdist_1d": lambda m: m.cdist(m.ones(3), m.ones(3)),
    "cdist_p": lambda m: m.cdist(m.ones(2, 3), m.ones(2, 3), p=-1),
    "cdist_int": lambda m: m.cdist(m.ones(2, 3, dtype=m.long), m.ones(2, 3, dtype=m.long)),
    "addr_2d": lambda m: m.addr(m.ones(2, 2), m.ones(2, 2), m.ones(2)),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(case):
    assert_same_error(ERRORS[case], same_message=True)


def test_cdist_matmul_route_at_zero_distance():
    """PyTorch's one-GEMM route clamps at 0: a point's distance to itself is 0 (exactly, with
    small integer coordinates, where the products are exact) and its gradient there the zero
    subgradient, as torch's (30 rows: past the 25 of that route)."""
    a = RNG.integers(-3, 4, (30, 3)).astype(np.float32)
    g = RNG.standard_normal((30, 30)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        d = lib.cdist(x, x)
        d.backward(lib.tensor(g))
        results.append((d.detach().numpy(), x.grad.numpy()))
    (d_e, g_e), (d_t, g_t) = results
    np.testing.assert_array_equal(np.diagonal(d_e), np.zeros(30, np.float32))
    np.testing.assert_allclose(d_e, d_t, rtol=1e-6)
    np.testing.assert_allclose(g_e, g_t, rtol=1e-5, atol=1e-5)
