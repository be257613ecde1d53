"""Shape ops (ember/ops/shape.py) against torch: view/reshape/flatten/unflatten/permute/
transpose/t/T/mT/movedim/squeeze/unsqueeze/expand/broadcast_to/narrow.

One table of cases (an expression run on ember and on torch, an input shape) drives the generic
tests (tests/ops/_tables.py): forward values/dtypes/shapes, grad_fn names, whether the result
shares memory with its input (views do, copies do not), gradients, float64 finite differences
and double backward. Then views' write sharing and dtype views, and the errors for bad inputs.
Joining, splitting, flipping and rolling: test_joins.py.
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
    "view": (lambda m, x: x.view(4, 6), (2, 3, 4), True),
    "view_tuple_infer": (lambda m, x: x.view((-1, 4)), (2, 3, 4), True),
    "view_0d": (lambda m, x: x.view(1, 1), (), True),
    "view_empty": (lambda m, x: x.view(3, 0), (0, 3), True),
    "view_as": (lambda m, x: x.view_as(m.zeros(6, 4)), (2, 3, 4), True),
    "view_permuted_split": (lambda m, x: x.permute(1, 0, 2).view(3, 2, 2, 2), (2, 3, 4), True),
    "reshape": (lambda m, x: m.reshape(x, (3, -1)), (2, 3, 4), True),
    "reshape_copy": (lambda m, x: x.t().reshape(-1), (3, 4), False),
    "reshape_as": (lambda m, x: x.reshape_as(m.zeros(4, 3)), (3, 4), True),
    "flatten": (lambda m, x: m.flatten(x), (2, 3, 4), True),
    "flatten_mid": (lambda m, x: x.flatten(1, 2), (2, 3, 4, 1), True),
    "flatten_0d": (lambda m, x: x.flatten(), (), True),
    "unflatten": (lambda m, x: x.unflatten(1, (2, -1)), (3, 4), True),
    "permute": (lambda m, x: x.permute(2, 0, 1), (2, 3, 4), True),
    "permute_tuple": (lambda m, x: m.permute(x, (1, -1, 0)), (2, 3, 4), True),
    "transpose": (lambda m, x: x.transpose(0, -1), (2, 3, 4), True),
    "swapaxes": (lambda m, x: m.swapaxes(x, 0, 1), (2, 3), True),
    "t": (lambda m, x: x.t(), (2, 3), True),
    "t_1d": (lambda m, x: m.t(x), (3,), True),
    "T": (lambda m, x: x.T, (2, 3), True),
    "mT": (lambda m, x: x.mT, (2, 3, 4), True),
    "movedim": (lambda m, x: m.movedim(x, 0, -1), (2, 3, 4), True),
    "movedim_many": (lambda m, x: x.movedim((0, 1), (2, 0)), (2, 3, 4), True),
    "squeeze": (lambda m, x: x.squeeze(), (1, 3, 1, 2), True),
    "squeeze_dim": (lambda m, x: x.squeeze(2), (1, 3, 1, 2), True),
    "squeeze_dim_noop": (lambda m, x: x.squeeze(1), (1, 3, 1, 2), True),
    "squeeze_dims": (lambda m, x: m.squeeze(x, (0, -2)), (1, 3, 1, 2), True),
    "unsqueeze": (lambda m, x: x.unsqueeze(1), (2, 3), True),
    "unsqueeze_neg": (lambda m, x: m.unsqueeze(x, -1), (2, 3), True),
    "unsqueeze_0d": (lambda m, x: x.unsqueeze(0), (), True),
    "expand": (lambda m, x: x.expand(2, 3, 4), (3, 1), True),
    "expand_keep": (lambda m, x: x.expand(-1, 5), (3, 1), True),
    "expand_same": (lambda m, x: x.expand(3, 1), (3, 1), True),
    "expand_as": (lambda m, x: x.expand_as(m.zeros(2, 3, 4)), (1, 4), True),
    "broadcast_to": (lambda m, x: m.broadcast_to(x, (2, 3)), (3,), True),
    "narrow": (lambda m, x: x.narrow(1, 1, 2), (2, 4), True),
    "narrow_neg": (lambda m, x: m.narrow(x, 0, -2, 1), (3, 2), True),
    "ravel": (lambda m, x: m.ravel(x), (2, 3), True),
    "t_0d": (lambda m, x: x.t(), (), True),
    "transpose_0d": (lambda m, x: x.transpose(0, -1), (), True),
    "T_0d": (lambda m, x: x.T, (), True),
    "moveaxis": (lambda m, x: m.moveaxis(x, (0, 2), (1, 0)), (2, 3, 4), True),
    "swapdims": (lambda m, x: x.swapdims(0, 2), (2, 3, 4), True),
    "narrow_tensor_start": (lambda m, x: x.narrow(1, m.tensor(1), 2), (2, 4), True),
    "narrow_copy": (lambda m, x: m.narrow_copy(x, 1, -3, 2), (2, 4), False),
    "narrow_copy_method": (lambda m, x: x.narrow_copy(0, 0, 1), (2, 4), False),
    "sum_to_size": (lambda m, x: x.sum_to_size(1, 4), (3, 4), False),
    "sum_to_size_tuple": (lambda m, x: x.sum_to_size((2, 1, 1)), (2, 3, 4), False),
    "unflatten_neg_dim": (lambda m, x: m.unflatten(x, -1, (2, 2)), (3, 4), True),
    "ravel_copy": (lambda m, x: x.t().ravel(), (3, 4), False),
    "broadcast_tensors": (lambda m, x: m.broadcast_tensors(x, x[:1, None]), (2, 3), True),
}

test_forward = _tables.shape_forward(RNG, CASES)
test_shares_memory_like_torch = _tables.shape_shares_memory(RNG, CASES)
test_grad_fn_name = _tables.shape_grad_fn_name(RNG, CASES)
test_backward = _tables.shape_backward(RNG, CASES)
test_gradcheck = _tables.shape_gradcheck(RNG, CASES)
test_double_backward = _tables.shape_double_backward(
    RNG, CASES, ["view", "reshape_copy", "expand", "permute", "squeeze_dims", "narrow"])


def test_view_shares_writes_both_ways():
    x = ember.zeros(2, 3)
    v = x.view(3, 2)
    v._data[0, 0] = 5
    assert x[0, 0].item() == 5
    parts = x.split(1)
    parts[1]._data[...] = 7
    assert x._data[1].tolist() == [7, 7, 7]


def test_view_dtype():
    e, t = both(RNG.standard_normal((2, 4)).astype(np.float32))
    assert_same(e.view(ember.int32), t.view(torch.int32), **TOL)
    e.requires_grad_()
    assert not e.view(ember.int32).requires_grad
    assert np.shares_memory(e.view(ember.int32)._data, e._data)


def test_T_warns_above_2d():
    with pytest.warns(UserWarning, match="x.T"):
        _ = ember.zeros(2, 3, 4).T


# ---- errors -------------------------------------------------------------------------------------
# (call(lib), same message as torch?): all raise torch's type (view errors: its message too).
ERRORS = [
    (lambda m: m.zeros(3, 4).view(5, 3), True),
    (lambda m: m.zeros(3, 4).reshape(-1, -1), True),
    (lambda m: m.zeros(3, 4).view(-1, 5), True),
    (lambda m: m.zeros(3, 4).view(-2, 6), True),
    (lambda m: m.zeros(3, 4).reshape(2, -3), True),
    (lambda m: m.zeros(4, 0).view(-1, 0), False),
    (lambda m: m.zeros(3, 4).t().view(12), True),
    (lambda m: m.zeros(3, 4).flatten(1, 0), False),
    (lambda m: m.zeros(3, 4).unflatten(1, (3, 2)), False),
    (lambda m: m.zeros(3, 4).permute(0, 0), False),
    (lambda m: m.zeros(3, 4).permute(0), False),
    (lambda m: m.zeros(3, 4).transpose(0, 2), False),
    (lambda m: m.zeros(2, 3, 4).t(), False),
    (lambda m: m.zeros(3).mT, False),
    (lambda m: m.zeros(3, 4).squeeze(3), False),
    (lambda m: m.zeros(3, 4).unsqueeze(3), False),
    (lambda m: m.zeros(3, 4).expand(3, 5), True),
    (lambda m: m.zeros(3, 4).expand(4), True),
    (lambda m: m.zeros(3, 4).expand(-1, 3, 4), False),
    (lambda m: m.zeros(2, 3).narrow(0, 1, 5), True),
    (lambda m: m.zeros(2, 3).narrow(0, 5, 1), False),
    (lambda m: m.zeros(2, 3).movedim((0, 1), (0,)), True),
    (lambda m: m.zeros(2, 3).movedim((0, 1), (0, 0)), True),
    (lambda m: m.zeros(2, 3).movedim((1, 1), (0, 1)), True),
    (lambda m: m.zeros(2, 3).narrow(0, True, 1), False),
    (lambda m: m.zeros(2, 3).narrow(0, m.tensor([0]), 1), True),
    (lambda m: m.tensor(1.0).narrow(0, 0, 1), True),
    (lambda m: m.narrow_copy(m.zeros(2, 3), 2, 0, 1), False),
    (lambda m: m.zeros(3, 4).sum_to_size(2), True),
    (lambda m: m.zeros(3, 4).sum_to_size(1, 3, 4), True),
    (lambda m: m.broadcast_shapes((2, 3), (4, 3)), True),
    (lambda m: m.broadcast_shapes((2, 3), (2, 3, 2)), True),
    (lambda m: m.broadcast_shapes((-1,), (3,)), True),
    (lambda m: m.ones(2, 3, requires_grad=True).t_(), True),
    (lambda m: m.zeros(2, 3).squeeze_(2), False),
    (lambda m: m.broadcast_tensors(m.zeros(2), m.zeros(3)), True),
    (lambda m: m.broadcast_tensors(m.zeros(2, 1), m.zeros(3), m.zeros(4, 1, 1, 2)), True),
    (lambda m: m.zeros(2, 2, 3).H, True),
    (lambda m: m.zeros(3).H, True),
    (lambda m: m.tensor(1.0).unflatten(0, (1,)), False),  # torch appends a C++ trace
]
test_errors = _tables.shape_errors(ERRORS)
test_error_messages = _tables.shape_error_messages(ERRORS)


# ---- broadcast_shapes ---------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 1), (3,)), (2, (3, 1)), (), ((0,), (1,)),
                                    ((1, 4), (3, 1), (2, 1, 1)), ((5,),)], ids=str)
def test_broadcast_shapes(shapes):
    got = ember.broadcast_shapes(*shapes)
    assert type(got) is ember.Size and got == torch.broadcast_shapes(*shapes)


# ---- in-place view ops --------------------------------------------------------------------------
# id -> in-place call on a (1, 3, 1, 2) tensor
INPLACE_VIEWS = {
    "squeeze_": lambda x: x.squeeze_(),
    "squeeze__dim": lambda x: x.squeeze_(0),
    "squeeze__dims": lambda x: x.squeeze_((0, 2)),
    "unsqueeze_": lambda x: x.unsqueeze_(-1),
    "transpose_": lambda x: x.transpose_(1, 3),
    "swapdims_": lambda x: x.swapdims_(0, 1),
    "swapaxes_": lambda x: x.swapaxes_(0, -1),
    "t_": lambda x: x.squeeze_().t_(),
}


@pytest.mark.parametrize("name", sorted(INPLACE_VIEWS))
def test_inplace_view_ops(name):
    """Shape, strides, version, grad_fn name and gradients of the in-place view ops."""
    array = RNG.standard_normal((1, 3, 1, 2))
    results = []
    for m in (ember, torch):
        leaf = m.from_numpy(array.copy()).requires_grad_()
        y = leaf * 2
        before = version(y)
        out = INPLACE_VIEWS[name](y)
        assert out is y
        results.append((y, y.stride(), version(y) - before, y.grad_fn.name()))
        (y * m.from_numpy(np.arange(6.0).reshape(tuple(y.shape)))).sum().backward()
        results[-1] += (leaf.grad,)
    (ye, se, ve, ne, ge), (yt, st, vt, nt, gt) = results
    assert_same(ye, yt, **TOL)
    assert (se, ve, ne) == (st, vt, nt)
    assert_same(ge, gt, **TOL)


def test_inplace_view_op_on_a_view_writes_through():
    results = []
    for m in (ember, torch):
        base = m.zeros(3, 4)
        row = base[1]
        row.unsqueeze_(0)
        row.mul_(0).add_(m.arange(4.0))
        results.append((base, row, row._base is base))
    assert_same(results[0][0], results[1][0], **TOL)
    assert_same(results[0][1], results[1][1], **TOL)
    assert results[0][2] and results[1][2]


def test_is_same_size():
    for m in (ember, torch):
        assert m.zeros(2, 3).is_same_size(m.ones(2, 3))
        assert not m.is_same_size(m.zeros(2, 3), m.zeros(3, 2))


# Issue #19's fuzz: torch's result or its exception class.
test_bad_calls = _tables.result_or_error({
    "broadcast_shapes of a tensor": lambda m: m.broadcast_shapes(m.ones(3)),
    "broadcast_shapes of an empty tensor": lambda m: m.broadcast_shapes(m.ones(0)),
    "broadcast_shapes of a 0-d tensor": lambda m: m.broadcast_shapes(m.tensor(3)),
    "broadcast_shapes of a float": lambda m: m.broadcast_shapes((2, 3), 1.5),
    "broadcast_shapes with None": lambda m: m.broadcast_shapes((2, 3), None),
    "broadcast_shapes of a string": lambda m: m.broadcast_shapes((2, 3), "a"),
    "broadcast_shapes of an object": lambda m: m.broadcast_shapes(object()),
    "mT of a 0-d tensor": lambda m: m.tensor(2.0).mT,
    "mH of a 0-d tensor": lambda m: m.tensor(1 + 2j).mH.resolve_conj(),
    "H of a 1-D tensor": lambda m: m.ones(3).H,
})
