"""Products (ember/ops/linalg.py) against torch: matmul's cases, mm/bmm/mv/dot/outer, addmm and
friends, einsum and tensordot.

Tables of calls drive the generic tests (values, dtypes, shapes, grad_fn names, gradients, float64
finite differences, second derivatives); then the errors PyTorch raises for bad shapes and dtypes.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both

RNG = np.random.default_rng(1)
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _arrays(shapes, dtype=np.float32):
    return [np.asarray(RNG.standard_normal(s), dtype=dtype) for s in shapes]


# ---- the table ---------------------------------------------------------------------------------
# id -> (call(lib, *tensors), input shapes)
CASES = {
    "dot_1d_1d": (lambda m, a, b: m.matmul(a, b), [(3,), (3,)]),
    "mm_2d_2d": (lambda m, a, b: a @ b, [(2, 3), (3, 4)]),
    "mv_2d_1d": (lambda m, a, b: m.matmul(a, b), [(2, 3), (3,)]),
    "vecmat_1d_2d": (lambda m, a, b: a.matmul(b), [(3,), (3, 4)]),
    "batched_3d_3d": (lambda m, a, b: a @ b, [(2, 2, 3), (2, 3, 4)]),
    "batched_3d_2d": (lambda m, a, b: a @ b, [(2, 2, 3), (3, 4)]),
    "batched_2d_3d": (lambda m, a, b: a @ b, [(2, 3), (5, 3, 4)]),
    "batched_1d_3d": (lambda m, a, b: m.matmul(a, b), [(3,), (2, 3, 4)]),
    "batched_3d_1d": (lambda m, a, b: m.matmul(a, b), [(2, 4, 3), (3,)]),
    "batched_broadcast": (lambda m, a, b: a @ b, [(2, 1, 2, 3), (4, 3, 5)]),
    "batched_broadcast_ones": (lambda m, a, b: a @ b, [(1, 2, 3), (5, 3, 2)]),
    "batched_4d_1d": (lambda m, a, b: a @ b, [(2, 3, 4, 5), (5,)]),
    "empty_rows": (lambda m, a, b: a @ b, [(0, 3), (3, 4)]),
    "empty_inner": (lambda m, a, b: a @ b, [(2, 0), (0, 4)]),
    "empty_batch": (lambda m, a, b: a @ b, [(0, 2, 3), (3, 4)]),
    "mm": (lambda m, a, b: m.mm(a, b), [(4, 3), (3, 5)]),
    "mm_method": (lambda m, a, b: a.mm(b), [(1, 3), (3, 1)]),
    "mv": (lambda m, a, b: m.mv(a, b), [(4, 3), (3,)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [(2, 4, 3), (2, 3, 5)]),
    "bmm_method": (lambda m, a, b: a.bmm(b), [(3, 1, 2), (3, 2, 2)]),
    "dot": (lambda m, a, b: m.dot(a, b), [(5,), (5,)]),
    "dot_method": (lambda m, a, b: a.dot(b), [(2,), (2,)]),
    "inner": (lambda m, a, b: m.inner(a, b), [(2, 4), (3, 4)]),
    "outer": (lambda m, a, b: m.outer(a, b), [(3,), (4,)]),
    "ger": (lambda m, a, b: a.ger(b), [(2,), (3,)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b), [(2, 4), (2, 3), (3, 4)]),
    "addmm_scaled": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=-2.0),
                     [(2, 4), (2, 3), (3, 4)]),
    "addmm_bias_row": (lambda m, c, a, b: m.addmm(c, a, b), [(4,), (2, 3), (3, 4)]),
    "addmm_bias_col": (lambda m, c, a, b: c.addmm(a, b, alpha=3), [(2, 1), (2, 3), (3, 4)]),
    "addmv": (lambda m, c, a, b: m.addmv(c, a, b, beta=2.0), [(2,), (2, 3), (3,)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b, alpha=0.5), [(2, 3, 5), (2, 3, 4),
                                                                     (2, 4, 5)]),
    "baddbmm_bias": (lambda m, c, a, b: m.baddbmm(c, a, b), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    "einsum_mm": (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum_implicit": (lambda m, a, b: m.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    "einsum_list": (lambda m, a, b: m.einsum("bij,bjk->bik", [a, b]), [(2, 2, 3), (2, 3, 4)]),
    "einsum_ellipsis": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                        [(2, 2, 3), (3, 4)]),
    "einsum_ellipsis_broadcast": (lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
                                  [(1, 2, 3), (4, 3, 2)]),
    "einsum_dot": (lambda m, a, b: m.einsum("i,i->", a, b), [(3,), (3,)]),
    "einsum_outer": (lambda m, a, b: m.einsum("i,j->ij", a, b), [(3,), (4,)]),
    "einsum_batch_dot": (lambda m, a, b: m.einsum("bn,bn->b", a, b), [(3, 4), (3, 4)]),
    "einsum_sum_all": (lambda m, a: m.einsum("ij->", a), [(3, 4)]),
    "einsum_sum_row": (lambda m, a: m.einsum("ij->j", a), [(3, 4)]),
    "einsum_permute": (lambda m, a: m.einsum("ijk->kji", a), [(2, 3, 4)]),
    "einsum_diagonal": (lambda m, a: m.einsum("ii->i", a), [(3, 3)]),
    "einsum_trace": (lambda m, a: m.einsum("ii", a), [(3, 3)]),
    "einsum_size1_broadcast": (lambda m, a, b: m.einsum("ij,j->i", a, b), [(3, 1), (4,)]),
    "einsum_partial_diagonal": (lambda m, a: m.einsum("iij->j", a), [(2, 2, 3)]),
    "einsum_ellipsis_summed": (lambda m, a: m.einsum("i...->...", a), [(3, 2, 2)]),
    "einsum_attention": (lambda m, q, k: m.einsum("bhqd,bhkd->bhqk", q, k),
                         [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "einsum_three": (lambda m, a, b, c: m.einsum("ij,jk,kl->il", a, b, c),
                     [(2, 3), (3, 4), (4, 2)]),
    "einsum_spaces": (lambda m, a, b: m.einsum("b i d, b j d -> b i j", a, b),
                      [(2, 3, 4), (2, 5, 4)]),
    "trace": (lambda m, a: m.trace(a), [(3, 3)]),
    "trace_rectangular": (lambda m, a: a.trace(), [(2, 4)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b, dims=1), [(2, 3), (3, 4)]),
    "tensordot_default": (lambda m, a, b: m.tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
    "tensordot_lists": (lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [2, 0])),
                        [(3, 2, 4), (4, 5, 3)]),
    "tensordot_zero": (lambda m, a, b: m.tensordot(a, b, dims=0), [(2,), (3,)]),
}
# grad_fn names ember and torch agree on (composites like einsum and tensordot differ).
NAMED = {"dot_1d_1d": "DotBackward0", "mm_2d_2d": "MmBackward0", "mv_2d_1d": "MvBackward0",
         "vecmat_1d_2d": "SqueezeBackward4", "batched_3d_3d": "UnsafeViewBackward0",
         "batched_3d_1d": "UnsafeViewBackward0", "batched_1d_3d": "UnsafeViewBackward0",
         "batched_2d_3d": "CloneBackward0", "trace": "TraceBackward0", "mm": "MmBackward0",
         "bmm": "BmmBackward0",
         "dot": "DotBackward0", "outer": "MulBackward0", "addmm": "AddmmBackward0",
         "addmv": "AddmvBackward0", "baddbmm": "BaddbmmBackward0"}


def _run(case, dtype=np.float32, requires_grad=False):
    call, shapes = CASES[case]
    pairs = [both(a, requires_grad) for a in _arrays(shapes, dtype)]
    inputs_e, inputs_t = [p[0] for p in pairs], [p[1] for p in pairs]
    return inputs_e, inputs_t, call(ember, *inputs_e), call(torch, *inputs_t)


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward(case):
    _, _, ye, yt = _run(case)
    assert_same(ye, yt, **TOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward(case):
    inputs_e, inputs_t, ye, yt = _run(case, requires_grad=True)
    if case in NAMED:
        assert ye.grad_fn.name() == yt.grad_fn.name() == NAMED[case]
    seed = RNG.standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.from_numpy(seed))
    yt.backward(torch.from_numpy(seed))
    for xe, xt in zip(inputs_e, inputs_t):
        assert_same(xe.grad, xt.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", ["mm_2d_2d", "vecmat_1d_2d", "batched_broadcast"])
def test_float64_and_int64(case):
    for dtype in (np.float64, np.int64):
        call, shapes = CASES[case]
        arrays = [RNG.integers(-5, 5, s).astype(dtype) for s in shapes]
        ye = call(ember, *[ember.from_numpy(a) for a in arrays])
        yt = call(torch, *[torch.from_numpy(a) for a in arrays])
        assert_same(ye, yt, **TOL)


def test_trace_of_integers_is_int64():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert_same(ember.trace(ember.from_numpy(a)), torch.trace(torch.from_numpy(a)), **TOL)


GRADCHECK = ["dot_1d_1d", "mv_2d_1d", "vecmat_1d_2d", "batched_broadcast", "batched_3d_1d",
             "bmm", "outer", "addmm_bias_col", "addmv", "baddbmm_bias", "einsum_ellipsis",
             "einsum_diagonal", "einsum_trace", "einsum_sum_row", "einsum_three",
             "einsum_size1_broadcast", "trace_rectangular", "einsum_partial_diagonal",
             "einsum_ellipsis_summed",
             "tensordot_lists"]


@pytest.mark.parametrize("case", GRADCHECK)
def test_gradcheck_float64(case):
    call, shapes = CASES[case]
    inputs = [ember.from_numpy(a).requires_grad_() for a in _arrays(shapes, np.float64)]
    assert ember.autograd.gradcheck(lambda *xs: call(ember, *xs), inputs)


SECOND_ORDER = ["mm_2d_2d", "dot_1d_1d", "mv_2d_1d", "vecmat_1d_2d", "batched_broadcast",
                "bmm", "addmm_scaled", "einsum_mm", "einsum_diagonal", "einsum_attention",
                "einsum_dot", "outer"]


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_double_backward(case):
    """Second derivatives of L = Σ w·f(x)² through create_graph, against torch's."""
    call, shapes = CASES[case]
    arrays = _arrays(shapes, np.float64)
    results = []
    for lib in (ember, torch):
        xs = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
        y = call(lib, *xs)
        w = lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))
        grads = lib.autograd.grad((y * y * w).sum(), xs, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        results.append((grads, lib.autograd.grad(total, xs)))
    for first_e, first_t in zip(results[0][0], results[1][0]):
        assert_same(first_e, first_t, rtol=1e-6, atol=1e-8)
    for second_e, second_t in zip(results[0][1], results[1][1]):
        assert_same(second_e, second_t, rtol=1e-6, atol=1e-8)


def test_addmm_beta_zero_ignores_nan_input():
    c = np.full((2, 2), np.nan, dtype=np.float32)
    a, b = _arrays([(2, 3), (3, 2)])
    ye = ember.addmm(ember.from_numpy(c), ember.from_numpy(a), ember.from_numpy(b), beta=0)
    yt = torch.addmm(torch.from_numpy(c), torch.from_numpy(a), torch.from_numpy(b), beta=0)
    assert not np.isnan(ye.numpy()).any()
    assert_same(ye, yt, **TOL)


def test_outer_promotes_dtypes():
    a, b = np.arange(3), RNG.standard_normal(4).astype(np.float32)
    assert_same(ember.outer(ember.from_numpy(a), ember.from_numpy(b)),
                  torch.outer(torch.from_numpy(a), torch.from_numpy(b)), **TOL)


@pytest.mark.parametrize("call", [
    lambda m, a, b, out: m.matmul(a, b, out=out), lambda m, a, b, out: m.mm(a, b, out=out),
    lambda m, a, b, out: m.addmm(out.clone(), a, b, out=out),
])
def test_out_argument(call):
    a, b = _arrays([(2, 3), (3, 4)])
    results = []
    for lib in (ember, torch):
        out = lib.zeros(2, 4)
        returned = call(lib, lib.from_numpy(a.copy()), lib.from_numpy(b.copy()), out)
        assert returned is out
        results.append(out)
    assert_same(*results, **TOL)


def test_matmul_does_not_promote_float32():
    a, b = _arrays([(64, 32), (32, 16)])
    y = ember.from_numpy(a) @ ember.from_numpy(b)
    assert y.dtype is ember.float32


# ---- errors ------------------------------------------------------------------------------------
ERRORS = [
    (lambda m, a, b: m.mm(a, b), [(2, 3), (4, 5)], True),
    (lambda m, a, b: m.mm(a, b), [(2, 3), (3,)], True),
    (lambda m, a, b: m.mm(a, b.double()), [(2, 3), (3, 4)], True),
    (lambda m, a, b: m.matmul(a, b.double()), [(2, 3), (3, 4)], True),
    (lambda m, a, b: m.matmul(a, b), [(3,), (4,)], True),
    (lambda m, a, b: m.matmul(a, b), [(2, 3), (4,)], True),
    (lambda m, a, b: m.matmul(a, b), [(3,), (4, 2)], True),
    (lambda m, a, b: m.matmul(a, b), [(2, 2, 3), (3, 3, 2)], True),
    (lambda m, a, b: m.matmul(a, b), [(2, 3, 2), (3, 2)], True),
    (lambda m, a, b: m.matmul(a, b), [(2, 3, 2), (3,)], True),
    # PyTorch's message here depends on requires_grad (it folds differently): type only.
    (lambda m, a, b: m.matmul(a, b), [(3,), (2, 2, 3)], False),
    (lambda m, a, b: m.matmul(a, b), [(2, 3), (2, 2, 3)], False),
    (lambda m, a, b: m.matmul(a, b), [(2, 2, 3), (2, 2, 3)], True),
    (lambda m, a, b: m.matmul(a, b), [(), (3,)], True),
    (lambda m, a, b: m.dot(a, b), [(2, 3), (3,)], True),
    (lambda m, a, b: m.dot(a, b), [(3,), (4,)], True),
    (lambda m, a, b: m.dot(a, b.double()), [(3,), (3,)], True),
    (lambda m, a, b: m.bmm(a, b), [(2, 3), (3, 4)], True),
    (lambda m, a, b: m.bmm(a, b), [(2, 2, 3), (2, 4, 5)], True),
    (lambda m, a, b: m.bmm(a, b), [(2, 2, 3), (3, 3, 5)], True),
    (lambda m, a, b: m.outer(a, b), [(2, 3), (3,)], True),
    (lambda m, a, b: m.trace(a), [(2, 3, 4), (1,)], True),
    (lambda m, a, b: m.addmm(a, b, b), [(3, 3), (2, 2)], False),
    (lambda m, a, b: m.einsum("ij,jk->ik", a), [(2, 3), (3,)], True),
    (lambda m, a, b: m.einsum("ij,jk->ik", a, b), [(2, 3), (4, 4)], False),
    (lambda m, a, b: m.tensordot(a, b, dims=([0], [0])), [(2, 3), (3, 4)], False),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    call, shapes, same_message = ERRORS[index]
    arrays = _arrays(shapes)
    with pytest.raises(Exception) as expected:
        call(torch, *[torch.from_numpy(a) for a in arrays])
    with pytest.raises(expected.type) as raised:
        call(ember, *[ember.from_numpy(a) for a in arrays])
    if same_message:
        assert str(raised.value) == str(expected.value)


def test_ndarray_matmul_tensor_is_a_type_error_like_torch():
    a = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError):
        a @ torch.ones(3, 2)
    with pytest.raises(TypeError):
        a @ ember.ones(3, 2)
