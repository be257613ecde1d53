"""Products (ember/ops/linalg.py) against torch: matmul's cases, mm/bmm/mv/dot/inner/outer,
addmm and friends, trace.

Tables of calls drive the generic tests (tests/ops/_tables.py: values, dtypes, shapes, grad_fn
names, gradients, float64 finite differences, second derivatives); then dtype rules, `out=`, and
the errors PyTorch raises for bad shapes and dtypes. einsum and tensordot: test_einsum.py.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error
from tests.ops import _tables

RNG = np.random.default_rng(1)
TOL = _tables.PRODUCT_TOL


def _arrays(shapes, dtype=np.float32):
    return _tables.product_arrays(RNG, shapes, dtype)


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
    "trace": (lambda m, a: m.trace(a), [(3, 3)]),
    "trace_rectangular": (lambda m, a: a.trace(), [(2, 4)]),
}
# grad_fn names ember and torch agree on.
NAMED = {"dot_1d_1d": "DotBackward0", "mm_2d_2d": "MmBackward0", "mv_2d_1d": "MvBackward0",
         "vecmat_1d_2d": "SqueezeBackward4", "batched_3d_3d": "UnsafeViewBackward0",
         "batched_3d_1d": "UnsafeViewBackward0", "batched_1d_3d": "UnsafeViewBackward0",
         "batched_2d_3d": "CloneBackward0", "trace": "TraceBackward0", "mm": "MmBackward0",
         "bmm": "BmmBackward0",
         "dot": "DotBackward0", "outer": "MulBackward0", "addmm": "AddmmBackward0",
         "addmv": "AddmvBackward0", "baddbmm": "BaddbmmBackward0"}

test_forward = _tables.product_forward(RNG, CASES)
test_backward = _tables.product_backward(RNG, CASES, NAMED)


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
             "bmm", "outer", "addmm_bias_col", "addmv", "baddbmm_bias", "trace_rectangular"]
SECOND_ORDER = ["mm_2d_2d", "dot_1d_1d", "mv_2d_1d", "vecmat_1d_2d", "batched_broadcast",
                "bmm", "addmm_scaled", "outer"]
test_gradcheck_float64 = _tables.product_gradcheck(RNG, CASES, GRADCHECK)
test_double_backward = _tables.product_double_backward(RNG, CASES, SECOND_ORDER)


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
# (call, input shapes, same message?)
test_errors_match_torch = _tables.product_errors(RNG, [
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
])


def test_ndarray_matmul_tensor_is_a_type_error_like_torch():
    a = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError):
        a @ torch.ones(3, 2)
    with pytest.raises(TypeError):
        a @ ember.ones(3, 2)


# ---- the β·c + α·(a·b) family in place and in 16 bits ------------------------------------------
ADD_PRODUCTS = {  # name -> (call(lib, c, a, b, **scales), shapes of c, a, b)
    "addmm": (lambda m, c, a, b, **k: m.addmm(c, a, b, **k), [(4, 5), (4, 3), (3, 5)]),
    "addmv": (lambda m, c, a, b, **k: m.addmv(c, a, b, **k), [(4,), (4, 3), (3,)]),
    "baddbmm": (lambda m, c, a, b, **k: m.baddbmm(c, a, b, **k), [(2, 4, 5), (2, 4, 3),
                                                                   (2, 3, 5)]),
    "addbmm": (lambda m, c, a, b, **k: m.addbmm(c, a, b, **k), [(4, 5), (6, 4, 3), (6, 3, 5)]),
    "addr": (lambda m, c, a, b, **k: m.addr(c, a, b, **k), [(4, 5), (4,), (5,)]),
}
SCALES = [{}, {"beta": 0.6, "alpha": 0.2}, {"beta": 0, "alpha": 1.5}]


@pytest.mark.parametrize("scales", SCALES)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ADD_PRODUCTS)
def test_add_products_16_bit(name, dtype, scales):
    """PyTorch rounds once after accumulating in float32 (addbmm: once per batch; addr: op by
    op with α and β in the dtype): the very same 16-bit numbers."""
    call, shapes = ADD_PRODUCTS[name]
    arrays = [RNG.standard_normal(s) * 3 for s in shapes]
    t = call(torch, *(torch.from_numpy(a).to(getattr(torch, dtype)) for a in arrays), **scales)
    e = call(ember, *(ember.from_numpy(a).to(getattr(ember, dtype)) for a in arrays), **scales)
    assert str(e.dtype) == str(t.dtype)
    assert_same(e.float(), t.float(), exact=True)


@pytest.mark.parametrize("name", ADD_PRODUCTS)
def test_add_products_in_place(name):
    """Tensor.addmv_ / baddbmm_ / ...: the result written into c, gradients through it."""
    call, shapes = ADD_PRODUCTS[name]
    arrays = [RNG.standard_normal(s) for s in shapes]
    results = []
    for lib in (ember, torch):
        leaves = [lib.from_numpy(a.copy()).requires_grad_() for a in arrays]
        c = leaves[0].clone()
        out = getattr(c, name + "_")(leaves[1], leaves[2], beta=0.5, alpha=2.0)
        assert out is c
        (c * lib.from_numpy(np.linspace(-1, 1, c.numel()).reshape(tuple(c.shape)))).sum(
            ).backward()
        results.append([c] + [leaf.grad for leaf in leaves])
    for e, t in zip(*results):
        assert_same(e, t, 1e-10, 1e-10)


@pytest.mark.parametrize("shapes", [[(3, 4), (2, 3, 5), (3, 5, 4)], [(3, 4), (2, 3, 5),
                                                                    (2, 6, 4)],
                                    [(3, 5), (2, 3, 5), (2, 5, 4)], [(3, 4), (2, 3), (2, 5, 4)]])
def test_addbmm_errors(shapes):
    assert_same_error(lambda m, c, a, b: m.addbmm(c, a, b),
                      *(RNG.standard_normal(s) for s in shapes))


@pytest.mark.parametrize("shapes", [((2, 2), (3, 4), (4,)), ((3,), (3, 4, 1), (4,)),
                                    ((), (3, 4), (5,)), ((5,), (3, 4), (4,)),
                                    ((2,), (3, 4), (4,)), ((3,), (3, 4), (5,))])
def test_addmv_shape_errors_as_torch(shapes):
    assert_same_error(lambda lib: lib.addmv(*(lib.ones(s) for s in shapes)))


@pytest.mark.parametrize("input_shape", [(1,), (), (3,)])
def test_addmv_broadcasts_input_as_torch(input_shape):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (input_shape, (3, 4), (4,))]
    assert_same(ember.addmv(*(ember.tensor(a) for a in arrays), beta=0.5),
                torch.addmv(*(torch.tensor(a) for a in arrays), beta=0.5))
