"""Strided views and their scatters (ember/ops/strided.py) against torch: diagonal,
as_strided, Tensor.unfold, diag_embed, diag, diagflat, diagonal/select/slice/as_strided_scatter,
storage_offset, as_strided_, resize_/resize_as_.

One table of cases drives the generic shape tests (tests/ops/_tables.py): values/dtypes/shapes,
grad_fn names, memory sharing (views share, copies do not), gradients, float64 finite
differences and double backward. Then writes through strided views, the storage-level methods
and the errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, version
from tests.ops import _tables

RNG = np.random.default_rng(0)
TOL = _tables.SHAPE_TOL


# id -> (expression on a module `m` and tensor `x`, input shape, view?)
CASES = {
    "diagonal": (lambda m, x: x.diagonal(), (3, 4), True),
    "diagonal_offset": (lambda m, x: m.diagonal(x, 1), (3, 4), True),
    "diagonal_neg_offset": (lambda m, x: x.diagonal(-1), (3, 4), True),
    "diagonal_dims": (lambda m, x: m.diagonal(x, 0, 2, 0), (3, 2, 4), True),
    "diagonal_neg_dims": (lambda m, x: x.diagonal(1, -1, -2), (2, 3, 4), True),
    "diagonal_past_end": (lambda m, x: x.diagonal(5), (3, 4), True),
    "as_strided": (lambda m, x: x.as_strided((2, 2), (1, 2)), (3, 4), True),
    "as_strided_offset": (lambda m, x: m.as_strided(x, (3,), (3,), 1), (3, 4), True),
    "as_strided_overlap": (lambda m, x: x.as_strided((3, 3), (1, 1)), (3, 4), True),
    "as_strided_of_view": (lambda m, x: x[1:].as_strided((2,), (2,)), (3, 4), True),
    "unfold": (lambda m, x: x.unfold(1, 2, 1), (3, 4), True),
    "unfold_step": (lambda m, x: x.unfold(0, 2, 2), (5, 2), True),
    "unfold_3d": (lambda m, x: x.unfold(-2, 3, 1), (2, 4, 3), True),
    "unfold_0d": (lambda m, x: x.unfold(0, 1, 1), (), True),
    "diag_embed": (lambda m, x: m.diag_embed(x), (2, 3), False),
    "diag_embed_offset_dims": (lambda m, x: x.diag_embed(-1, 0, 2), (2, 3), False),
    "diag_vector": (lambda m, x: m.diag(x, 1), (3,), False),
    "diag_matrix": (lambda m, x: x.diag(-1), (3, 4), False),
    "diagflat": (lambda m, x: m.diagflat(x), (2, 2), False),
    "diagflat_offset": (lambda m, x: x.diagflat(-2), (3,), False),
    "diagonal_scatter": (lambda m, x: m.diagonal_scatter(x, x[0, :3] * 2), (3, 4), False),
    "diagonal_scatter_offset": (lambda m, x: x.diagonal_scatter(x[1, :2] * 3, -1), (3, 4),
                                False),
    "select_scatter": (lambda m, x: m.select_scatter(x, x[0] * 2, 0, -1), (3, 4), False),
    "slice_scatter": (lambda m, x: x.slice_scatter(x[:, :2] * 2, 1, 1, 4, 2), (3, 4), False),
    "slice_scatter_defaults": (lambda m, x: m.slice_scatter(x, x * 3), (3, 4), False),
}

test_forward = _tables.shape_forward(RNG, CASES)
test_shares_memory_like_torch = _tables.shape_shares_memory(RNG, CASES)
test_grad_fn_name = _tables.shape_grad_fn_name(RNG, CASES)
test_backward = _tables.shape_backward(RNG, CASES)
test_gradcheck = _tables.shape_gradcheck(RNG, CASES)
test_double_backward = _tables.shape_double_backward(
    RNG, CASES, ["diagonal_offset", "as_strided_overlap", "unfold", "diag_embed", "diag_matrix",
                 "diagonal_scatter", "slice_scatter"])


def test_as_strided_scatter_values_and_src_grad():
    """torch's gradient for `input` is wrong (it fails torch's own gradcheck), so only the values
    and src's gradient are compared; ember's input gradient passes gradcheck."""
    array = RNG.standard_normal((3, 3))
    results = []
    for m in (ember, torch):
        x = m.from_numpy(array.copy()).requires_grad_()
        src = m.from_numpy(array[:2, :2].copy()).requires_grad_()
        y = m.as_strided_scatter(x, src * 2, (2, 2), (3, 1), 1)
        y.backward(m.from_numpy(np.arange(9.0).reshape(3, 3)))
        results.append((y, src.grad, y.grad_fn.name()))
    assert_same(results[0][0], results[1][0], **TOL)
    assert_same(results[0][1], results[1][1], **TOL)
    assert results[0][2] == results[1][2]
    x = ember.from_numpy(array.copy()).requires_grad_()
    src = ember.from_numpy(array[:2, :2].copy()).requires_grad_()
    f = lambda a, b: ember.as_strided_scatter(a, b, (2, 2), (3, 1), 1)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x, src))
    assert ember.autograd.gradcheck(lambda a, b: f(a.t(), b), (x, src))


@pytest.mark.parametrize("case", ["transposed", "0d", "offset"])
def test_as_strided_scatter_layouts(case):
    """The input's own (dense) strides decide which entries the storage positions are."""
    def call(m):
        if case == "transposed":
            return m.as_strided_scatter(m.arange(6.0).reshape(2, 3).t(),
                                        m.tensor([-1.0, -2.0]), (2,), (1,), 1)
        if case == "0d":
            return m.as_strided_scatter(m.tensor(1.0), m.tensor(5.0), (), ())
        return m.as_strided_scatter(m.arange(4.0), m.tensor([[9.0]]), (1, 1), (1, 1), 3)
    assert_same(call(ember), call(torch), exact=True)


# ---- writes through strided views ---------------------------------------------------------------
WRITES = {
    "diagonal_fill": lambda m, x: x.diagonal(1).fill_(7.0),
    "unfold_write": lambda m, x: x.unfold(1, 2, 2).mul_(2),
    "as_strided_write": lambda m, x: x.as_strided((2,), (5,), 1).add_(1.0),
    "diagonal_of_view": lambda m, x: x[1:].diagonal().zero_(),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_through_views(name):
    array = RNG.standard_normal((3, 4)).astype(np.float32)
    results = []
    for m in (ember, torch):
        x = m.from_numpy(array.copy())
        before = version(x)
        WRITES[name](m, x)
        results.append((x, version(x) - before))
    assert_same(results[0][0], results[1][0], **TOL)
    assert results[0][1] == results[1][1]


def test_inplace_on_diagonal_view_in_graph():
    array = RNG.standard_normal((3, 3))
    results = []
    for m in (ember, torch):
        leaf = m.from_numpy(array.copy()).requires_grad_()
        y = leaf * 1
        y.diagonal().mul_(3)
        y.backward(m.ones(3, 3))
        results.append((y, leaf.grad, y.grad_fn.name()))
    for a, b in zip(*results):
        if isinstance(a, str):
            assert a == b
        else:
            assert_same(a, b, **TOL)


@pytest.mark.parametrize("shape, wrap", [((7, 3), True), ((7, 3), False), ((3, 5), False),
                                         ((2, 2, 2), False), ((3, 2), True)], ids=str)
def test_fill_diagonal_(shape, wrap):
    array = RNG.standard_normal(shape)
    results = []
    for m in (ember, torch):
        leaf = m.from_numpy(array.copy()).requires_grad_()
        y = leaf * 2
        assert y.fill_diagonal_(-1.5, wrap=wrap) is y
        y.backward(m.from_numpy(np.arange(float(y.numel())).reshape(shape)))
        view = m.zeros(2, *shape)[1]
        view.fill_diagonal_(3.0, wrap=wrap)
        results.append((y, leaf.grad, view._base, y.grad_fn.name()))
    for a, b in zip(results[0][:3], results[1][:3]):
        assert_same(a, b, **TOL)
    assert results[0][3] == results[1][3]


# ---- storage-level methods ----------------------------------------------------------------------
@pytest.mark.parametrize("index", [(), (1,), (slice(1, None), slice(2, None)),
                                   (slice(None), 3)], ids=str)
def test_storage_offset(index):
    e, t = both(np.zeros((3, 4), np.float32))
    assert e[index].storage_offset() == t[index].storage_offset()


def test_as_strided_inplace():
    results = []
    for m in (ember, torch):
        leaf = m.from_numpy(np.arange(12.0).reshape(3, 4)).requires_grad_()
        y = leaf * 2
        out = m.as_strided_(y, (2, 3), (1, 2), 1)
        assert out is y
        y.backward(m.from_numpy(np.arange(6.0).reshape(2, 3)))
        results.append((y, leaf.grad, y.grad_fn.name(), y.stride()))
    assert_same(results[0][0], results[1][0], **TOL)
    assert_same(results[0][1], results[1][1], **TOL)
    assert results[0][2:] == results[1][2:]


@pytest.mark.parametrize("size", [(2, 3), (5,), (2, 2), (0,), (3, 3)], ids=str)
def test_resize_(size):
    """Kept elements and the new shape; grown memory is uninitialised in torch, so only the
    leading elements are compared."""
    results = []
    for m in (ember, torch):
        x = m.arange(6.0)
        before = version(x)
        y = x.resize_(*size)
        assert y is x
        results.append((x, version(x) - before))
    (e, ve), (t, vt) = results
    assert tuple(e.shape) == tuple(t.shape) and ve == vt
    n = min(6, e.numel())
    np.testing.assert_array_equal(e.numpy().reshape(-1)[:n], t.numpy().reshape(-1)[:n])


def test_resize_as_():
    for m in (ember, torch):
        x = m.arange(6.0)
        assert m.resize_as_(x, m.zeros(2, 2)) is x
        assert tuple(x.resize_as_(m.zeros(3, 1)).shape) == (3, 1)


# ---- errors -------------------------------------------------------------------------------------
# (call(lib), same message as torch?): all raise torch's type.
ERRORS = [
    (lambda m: m.zeros(3, 4).diagonal(0, 1, 1), True),
    (lambda m: m.zeros(3, 4).diagonal(0, 0, 2), True),
    (lambda m: m.diag_embed(m.zeros(3), 0, 1, 1), True),
    (lambda m: m.diag_embed(m.tensor(1.0)), True),
    (lambda m: m.diag(m.zeros(2, 2, 2)), True),
    (lambda m: m.diag(m.tensor(1.0)), True),
    (lambda m: m.zeros(3, 4).as_strided((2,), (-1,)), True),
    (lambda m: m.zeros(3, 4).as_strided((20,), (1,)), True),
    (lambda m: m.zeros(3, 4).as_strided((2, 2), (1,)), False),
    (lambda m: m.zeros(3, 4).unfold(1, 5, 1), True),
    (lambda m: m.zeros(3, 4).unfold(1, 2, 0), True),
    (lambda m: m.zeros(3, 4).unfold(2, 2, 1), True),
    (lambda m: m.select_scatter(m.zeros(3, 4), m.ones(3), 0, 0), True),
    (lambda m: m.select_scatter(m.zeros(3, 4), m.ones(4), 0, 5), True),
    (lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(2, 4), 0, 0, 1), True),
    (lambda m: m.diagonal_scatter(m.zeros(3, 4), m.ones(4)), True),
    (lambda m: m.as_strided_scatter(m.zeros(3, 4), m.ones(3), (2,), (1,)), True),
    (lambda m: m.as_strided_scatter(m.zeros(2, 2), m.ones(2, 2), (2, 2), (200, 200)), True),
    (lambda m: m.ones(2, requires_grad=True).resize_(3), True),
    (lambda m: m.zeros(2, 3, 4).fill_diagonal_(1.0), True),
    (lambda m: m.zeros(2).fill_diagonal_(1.0), True),
]
test_errors = _tables.shape_errors(ERRORS)
test_error_messages = _tables.shape_error_messages(ERRORS)


def test_select_scatter_of_a_0d_src_as_torch():
    """A 1-d input's selected slice is 0-d: written through a 0-d view."""
    assert_same(ember.select_scatter(ember.zeros(3), ember.tensor(1.0), 0, 1),
                torch.select_scatter(torch.zeros(3), torch.tensor(1.0), 0, 1))
