"""Shape ops (ember/ops/shape.py) against torch.

One table of cases (an expression run on ember and on torch, an input shape) drives generic
tests: forward values/dtypes/shapes, grad_fn names, whether the result shares memory with its
input (views do, copies do not), gradients, float64 finite differences and double backward.
Then the joining ops' dtype and empty-tensor rules, and the errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from tests.differential import assert_same, both, outputs

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-7}


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
    "repeat": (lambda m, x: x.repeat(2, 3), (2, 3), False),
    "repeat_new_dims": (lambda m, x: x.repeat(2, 1, 2), (2, 3), False),
    "cat": (lambda m, x: m.cat([x, x * 2, x[:1]]), (2, 3), False),
    "cat_dim1": (lambda m, x: m.cat((x, x), dim=-1), (2, 3), False),
    "concat": (lambda m, x: m.concat([x, x], 1), (2, 3), False),
    "stack": (lambda m, x: m.stack([x, x * 3]), (2, 3), False),
    "stack_last": (lambda m, x: m.stack([x, x], dim=-1), (2, 3), False),
    "hstack": (lambda m, x: m.hstack([x, x]), (2, 3), False),
    "vstack": (lambda m, x: m.vstack([x, x]), (3,), False),
    "split_int": (lambda m, x: x.split(2), (5, 3), True),
    "split_sizes": (lambda m, x: m.split(x, [1, 2], dim=1), (2, 3), True),
    "chunk": (lambda m, x: x.chunk(3, 1), (2, 7), True),
    "unbind": (lambda m, x: x.unbind(1), (2, 3), True),
    "narrow": (lambda m, x: x.narrow(1, 1, 2), (2, 4), True),
    "narrow_neg": (lambda m, x: m.narrow(x, 0, -2, 1), (3, 2), True),
    "flip": (lambda m, x: x.flip(0, 2) if m is torch else x.flip((0, 2)), (2, 3, 4), False),
    "flip_list": (lambda m, x: m.flip(x, [1]), (2, 3), False),
    "fliplr": (lambda m, x: m.fliplr(x), (2, 3), False),
    "tril": (lambda m, x: x.tril(), (3, 4), False),
    "tril_diag": (lambda m, x: m.tril(x, -1), (2, 3, 3), False),
    "triu": (lambda m, x: m.triu(x, 1), (4, 3), False),
    "roll": (lambda m, x: x.roll(1), (2, 3), False),
    "roll_dims": (lambda m, x: m.roll(x, (1, -2), (0, 1)), (2, 3), False),
    "ravel": (lambda m, x: m.ravel(x), (2, 3), True),
    "chunk_uneven": (lambda m, x: x.chunk(4), (6,), True),
    "chunk_empty": (lambda m, x: x.chunk(3), (0, 2), True),
    "split_empty": (lambda m, x: x.split(0), (0, 2), True),
    "t_0d": (lambda m, x: x.t(), (), True),
    "transpose_0d": (lambda m, x: x.transpose(0, -1), (), True),
    "T_0d": (lambda m, x: x.T, (), True),
}


def _run(name, dtype=np.float32, requires_grad=False):
    fn, shape, _ = CASES[name]
    e, t = both(RNG.standard_normal(shape).astype(dtype), requires_grad)
    return e, t, fn(ember, e), fn(torch, t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_forward(name, dtype):
    _, _, ye, yt = _run(name, dtype)
    ye, yt = outputs(ye), outputs(yt)
    assert len(ye) == len(yt)
    for a, b in zip(ye, yt):
        assert_same(a, b, **TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_shares_memory_like_torch(name):
    e, t, ye, yt = _run(name)
    for a, b in zip(outputs(ye), outputs(yt)):
        torch_shares = b.numel() > 0 and np.shares_memory(b.detach().numpy(), t.numpy())
        assert np.shares_memory(a._data, e._data) == torch_shares
        assert CASES[name][2] == (a._base is e)  # views record their base


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_fn_name(name):
    _, _, ye, yt = _run(name, requires_grad=True)
    for a, b in zip(outputs(ye), outputs(yt)):
        assert a.grad_fn.name() == b.grad_fn.name()


@pytest.mark.parametrize("name", sorted(CASES))
def test_backward(name):
    e, t, ye, yt = _run(name, requires_grad=True)
    ye, yt = outputs(ye), outputs(yt)
    grads = [RNG.standard_normal(tuple(b.shape)).astype(np.float32) for b in yt]
    ember.autograd.backward(ye, [ember.from_numpy(g.copy()) for g in grads])
    torch.autograd.backward(yt, [torch.from_numpy(g.copy()) for g in grads])
    assert_same(e.grad, t.grad, **TOL)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, shape, _ = CASES[name]
    x = ember.from_numpy(RNG.standard_normal(shape)).requires_grad_()
    assert gradcheck(lambda v: fn(ember, v), (x,))


@pytest.mark.parametrize("name", ["view", "reshape_copy", "cat", "stack", "split_sizes",
                                  "unbind", "expand", "repeat", "permute", "flip", "roll",
                                  "squeeze_dims", "tril", "narrow"])
def test_double_backward(name):
    """f = op(x·x): d/dx and d/dg of <df/dx(g), v> match torch (backward is itself an op)."""
    fn, shape, _ = CASES[name]
    array = RNG.standard_normal(shape)
    results = []
    for m in (ember, torch):
        x = m.from_numpy(array.copy()).requires_grad_()
        ys = outputs(fn(m, x * x))
        seed = np.random.default_rng(1)
        gs = [m.from_numpy(seed.standard_normal(tuple(y.shape))).requires_grad_() for y in ys]
        (gx,) = m.autograd.grad(ys, [x], gs, create_graph=True)
        v = m.from_numpy(seed.standard_normal(shape))
        second = m.autograd.grad([gx], [x] + gs, [v])
        results.append([gx] + list(second))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


# ---- joining rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtypes", [("float32", "int64"), ("int32", "int64"), ("bool", "int8"),
                                    ("float16", "float64"), ("int64", "bool")])
def test_cat_stack_promote(dtypes):
    for fn in ("cat", "stack"):
        results = []
        for m in (ember, torch):
            tensors = [m.ones(2, 3, dtype=getattr(m, d)) for d in dtypes]
            results.append(getattr(m, fn)(tensors))
        assert_same(*results, **TOL)


def test_cat_skips_legacy_empty_and_keeps_grads():
    results = []
    for m in (ember, torch):
        x = m.ones(2, 3, requires_grad=True)
        y = m.cat([m.zeros(0), x * 2, m.zeros(2, 0).t().reshape(0), x], dim=1)
        y.backward(m.ones(2, 6))
        results += [y, x.grad]
    assert_same(results[0], results[2], **TOL)
    assert_same(results[1], results[3], **TOL)
    assert_same(ember.cat([ember.zeros(0), ember.zeros(0, dtype=ember.int64)]),
                 torch.cat([torch.zeros(0), torch.zeros(0, dtype=torch.int64)]), **TOL)


def test_cat_out():
    out_e, out_t = ember.zeros(3), torch.zeros(3)
    ember.cat([ember.ones(2), ember.zeros(1)], out=out_e)
    torch.cat([torch.ones(2), torch.zeros(1)], out=out_t)
    assert_same(out_e, out_t, **TOL)


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


def test_iteration_unbinds_dim0():
    e, t = both(RNG.standard_normal((3, 2)), requires_grad=True)
    rows_e, rows_t = list(e), list(t)
    assert len(rows_e) == len(rows_t) == 3
    for a, b in zip(rows_e, rows_t):
        assert_same(a, b, **TOL)
        assert a.grad_fn.name() == b.grad_fn.name()
    for m in (ember, torch):
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(m.tensor(1.0))


def test_T_warns_above_2d():
    with pytest.warns(UserWarning, match="x.T"):
        _ = ember.zeros(2, 3, 4).T


# ---- errors -------------------------------------------------------------------------------------
ERRORS = [
    lambda m: m.zeros(3, 4).view(5, 3),
    lambda m: m.zeros(3, 4).reshape(-1, -1),
    lambda m: m.zeros(3, 4).view(-1, 5),
    lambda m: m.zeros(3, 4).view(-2, 6),
    lambda m: m.zeros(4, 0).view(-1, 0),
    lambda m: m.zeros(3, 4).t().view(12),
    lambda m: m.zeros(3, 4).flatten(1, 0),
    lambda m: m.zeros(3, 4).unflatten(1, (3, 2)),
    lambda m: m.zeros(3, 4).permute(0, 0),
    lambda m: m.zeros(3, 4).permute(0),
    lambda m: m.zeros(3, 4).transpose(0, 2),
    lambda m: m.zeros(2, 3, 4).t(),
    lambda m: m.zeros(3).mT,
    lambda m: m.zeros(3, 4).squeeze(3),
    lambda m: m.zeros(3, 4).unsqueeze(3),
    lambda m: m.zeros(3, 4).expand(3, 5),
    lambda m: m.zeros(3, 4).expand(4),
    lambda m: m.zeros(3, 4).expand(-1, 3, 4),
    lambda m: m.zeros(3, 4).repeat(2),
    lambda m: m.cat([]),
    lambda m: m.cat([m.zeros(3, 4), m.zeros(3, 5)]),
    lambda m: m.cat([m.zeros(3, 4), m.zeros(3)]),
    lambda m: m.cat([m.zeros(3, 4), m.zeros(3, 4)], dim=2),
    lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]),
    lambda m: m.stack([]),
    lambda m: m.stack([m.zeros(3, 4), m.zeros(3, 5)]),
    lambda m: m.zeros(2, 3).split([1, 2]),
    lambda m: m.zeros(2, 3).chunk(0),
    lambda m: m.zeros(2, 3).narrow(0, 1, 5),
    lambda m: m.zeros(2, 3).narrow(0, 5, 1),
    lambda m: m.zeros(3).tril(),
    lambda m: m.zeros(3).triu(),
    lambda m: m.zeros(2, 3).flip(2),
    lambda m: m.zeros(2, 3).roll((1, 2), 0),
    lambda m: m.zeros(2, 3).movedim((0, 1), (0,)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    with pytest.raises(Exception) as expected:
        ERRORS[index](torch)
    with pytest.raises(expected.type) as got:
        ERRORS[index](ember)
    if expected.type is RuntimeError and "view" in str(expected.value):
        assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("index", [0, 1, 2, 5, 15, 16, 20, 21, 25, 26, 28, 34])
def test_error_messages(index):
    with pytest.raises(Exception) as expected:
        ERRORS[index](torch)
    with pytest.raises(expected.type) as got:
        ERRORS[index](ember)
    assert str(got.value) == str(expected.value)
