"""In-place semantics against torch: values written into the tensor's memory (views see them),
version counters, rewritten autograd history for non-leaf tensors and for views of them
(CopySlices), the leaf errors, and the error when a tensor saved for backward was modified.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, both, error_of, version

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-7}
X = RNG.standard_normal((3, 4))
G = RNG.standard_normal((3, 4))


def _leaf(m, array=X):
    return m.from_numpy(array.copy()).requires_grad_()


# id -> in-place step applied to y = w·2 (a non-leaf); w is the leaf
STEPS = {
    "add_": lambda m, y, w: y.add_(w),
    "add_alpha": lambda m, y, w: y.add_(w, alpha=-2),
    "iadd": lambda m, y, w: y.__iadd__(w * w),
    "sub_": lambda m, y, w: y.sub_(3.0),
    "mul_": lambda m, y, w: y.mul_(w),
    "imul_scalar": lambda m, y, w: y.__imul__(4),
    "div_": lambda m, y, w: y.div_(w * w + 1),
    "pow_": lambda m, y, w: y.pow_(2),
    "relu_": lambda m, y, w: y.relu_(),
    "clamp_": lambda m, y, w: y.clamp_(-0.5, 0.5),
    "clamp_min_": lambda m, y, w: y.clamp_min_(0.1),
    "masked_fill_": lambda m, y, w: y.masked_fill_(w > 0, 0.5),
    "tril_": lambda m, y, w: y.tril_(),
    "chain": lambda m, y, w: y.mul_(w).add_(1).relu_(),
    "copy_": lambda m, y, w: y.copy_(w * 3),
    "copy_broadcast": lambda m, y, w: y.copy_(w[0] * 3),
    "copy_float64": lambda m, y, w: y.copy_((w * 3).double()),
    "copy_constant": lambda m, y, w: y.copy_(m.ones(y.shape[-1])),
    "fill_tensor": lambda m, y, w: y.fill_((w * w).sum()),
    "zero_": lambda m, y, w: y.zero_(),
}


def _run_step(m, name, through_view=False):
    w = _leaf(m)
    y = w * 2
    before = version(y)
    if through_view:
        base = y
        v = y[1:, ::2]
        out = STEPS[name](m, v, w[1:, ::2])
        assert out is v
        result = base
    else:
        out = STEPS[name](m, y, w)
        assert out is y
        result = y
    assert version(result) > before
    (result * w).backward(m.from_numpy(G.copy()))
    return result, w.grad, result.grad_fn.name()


@pytest.mark.parametrize("name", sorted(STEPS))
def test_inplace_on_non_leaf(name):
    e, t = _run_step(ember, name), _run_step(torch, name)
    assert_same(e[0], t[0], **TOL)
    assert_same(e[1], t[1], **TOL)


@pytest.mark.parametrize("name", sorted(set(STEPS) - {"tril_"}))
def test_inplace_on_view_of_non_leaf(name):
    e, t = _run_step(ember, name, True), _run_step(torch, name, True)
    assert_same(e[0], t[0], **TOL)
    assert_same(e[1], t[1], **TOL)
    assert e[2] == t[2] == "torch::autograd::CopySlices"


def test_view_sees_inplace_and_view_history():
    results = []
    for m in (ember, torch):
        w = _leaf(m)
        y = w * 1
        v = y.view(12)[2:8].view(2, 3)
        v.mul_(w[:2, :3])
        assert v.grad_fn.name() == "AsStridedBackward0"
        assert y.grad_fn.name() == "torch::autograd::CopySlices"
        v.backward(m.full((2, 3), 3.0, dtype=m.float64))
        results.append((y, w.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_view_of_no_grad_base_written_with_grad_value():
    results = []
    for m in (ember, torch):
        w = _leaf(m)
        buffer = m.zeros(3, 4, dtype=m.float64)
        buffer[1].add_(w[0])
        assert buffer.requires_grad and buffer.grad_fn.name() == "torch::autograd::CopySlices"
        buffer.backward(m.from_numpy(G.copy()))
        results.append((buffer, w.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_nested_views_rebase():
    results = []
    for m in (ember, torch):
        w = _leaf(m)
        y = w * 2
        v = y.t()[1:3]
        v[0, 1:] = w[0, 2:] * 10
        v.add_(1)
        (y * y).backward(m.from_numpy(G.copy()))
        results.append((y, w.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_residual_iadd_like_resnet():
    # the same weights for both
    wa = RNG.standard_normal((4, 4))
    outs = []
    for m in (ember, torch):
        x = _leaf(m)
        w = _leaf(m, wa)
        out = (x * 2).relu()
        out = out * w[0]
        out += x
        out = out.relu()
        out.backward(m.from_numpy(G.copy()))
        outs.append((out, x.grad, w.grad))
    for a, b in zip(*outs):
        assert_same(a, b, **TOL)


def test_se_block_assignment_raises_version_error():
    """`out[:, i] = out[:, i] * s[0, i]`: Mul saved a view of out, which the write modifies."""
    for m in (ember, torch):
        x = m.from_numpy(RNG.standard_normal((2, 3, 2, 2))).requires_grad_()
        s = m.from_numpy(RNG.standard_normal((1, 3))).requires_grad_()
        out = x * 1
        for i in range(3):
            out[:, i, :, :] = out[:, i, :, :] * s[0, i]
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.backward(m.ones(2, 3, 2, 2, dtype=m.float64))


def test_se_block_with_clone_gives_torch_grads():
    xa, sa = RNG.standard_normal((2, 3, 2, 2)), RNG.standard_normal((1, 3))
    results = []
    for m in (ember, torch):
        x, s = _leaf(m, xa), _leaf(m, sa)
        out = x * 1
        for i in range(3):
            out[:, i, :, :] = out[:, i, :, :].clone() * s[0, i]
        out.backward(m.from_numpy(np.ones((2, 3, 2, 2))))
        results.append((out, x.grad, s.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


@pytest.mark.parametrize("step", [
    lambda m, x: x.add_(1),
    lambda m, x: x.mul_(2),
    lambda m, x: x.relu_(),
    lambda m, x: x[0].add_(1),
    lambda m, x: x.view(12).mul_(2),
    lambda m, x: x.__setitem__(0, 1.0),
    lambda m, x: x.__setitem__(m.tensor([0, 1]), 1.0),
])
def test_leaf_errors(step):
    with pytest.raises(RuntimeError) as expected:
        step(torch, _leaf(torch))
    with pytest.raises(RuntimeError) as got:
        step(ember, _leaf(ember))
    assert str(got.value) == str(expected.value)


def test_leaf_inplace_allowed_under_no_grad():
    for m in (ember, torch):
        w = _leaf(m)
        with m.no_grad():
            w.mul_(2)
            w[0] = 0.0
            w[1].add_(1)
        np.testing.assert_allclose(w.detach().numpy()[1], X[1] * 2 + 1)
        assert w.is_leaf and w.grad_fn is None


def test_multi_output_view_error():
    for m in (ember, torch):
        y = _leaf(m) * 1
        with pytest.raises(RuntimeError, match="output of a function that returns multiple"):
            y.split(1)[0].mul_(2)
        with pytest.raises(RuntimeError, match="output of a function that returns multiple"):
            y.unbind()[1].add_(1)


@pytest.mark.parametrize("make, modify", [
    (lambda y: y.exp(), lambda y, z: z.add_(1)),  # exp saves its output
    (lambda y: y * y, lambda y, z: y.add_(1)),  # mul saves its inputs
    (lambda y: y[0] * y[1], lambda y, z: y.mul_(2)),  # views of y are saved
    (lambda y: y.t() * y.t(), lambda y, z: y[0].zero_()),  # written through another view
    (lambda y: y.relu_(), lambda y, z: y.add_(1)),  # relu_ saves the tensor it wrote
    (lambda y: y[1].exp_() * 1, lambda y, z: y.mul_(2)),  # exp_ on a view saves the view
])
def test_version_counter_error(make, modify):
    for m in (ember, torch):
        y = _leaf(m) * 1
        z = make(y)
        modify(y, z)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward(m.ones(*z.shape, dtype=m.float64))


def test_version_counts_and_shared_with_views():
    for m in (ember, torch):
        x = m.zeros(3, 4)
        v = x[1]
        assert version(x) == 0
        x.add_(1)
        v.mul_(2)
        x[0] = 5.0
        assert version(x) == version(v) == 3
        assert x[1, 0].item() == 2.0 and v[0].item() == 2.0


def test_int_inplace_with_float_result_errors():
    for m in (ember, torch):
        x = m.zeros(3, dtype=m.int64)
        with pytest.raises(RuntimeError, match="can't be cast"):
            x.add_(1.5)


def test_fill_and_zero_rebase_history():
    """A constant written over (part of) a tensor in a graph cuts that part's gradient."""
    results = []
    for m in (ember, torch):
        w = _leaf(m)
        y = w * 2
        y[0].zero_()
        y[1, 1:].fill_(3.0)
        z = w * 3
        z.zero_()
        assert z.requires_grad and y.grad_fn.name() == "torch::autograd::CopySlices"
        (y * w + z).backward(m.from_numpy(G.copy()))
        results.append((y, w.grad))
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_double_backward_through_copy_slices():
    results = []
    for m in (ember, torch):
        w = _leaf(m)
        y = w * w
        y[1:, :2].mul_(w[:2, 2:])
        y[0] = w[2] * 3
        g = m.from_numpy(G.copy()).requires_grad_()
        (gw,) = m.autograd.grad([y], [w], [g], create_graph=True)
        results.append([gw, *m.autograd.grad([gw], [w, g], [m.from_numpy(X.copy())])])
    for a, b in zip(*results):
        assert_same(a, b, **TOL)


def test_inplace_operators_keep_identity_and_dtype():
    e, t = both(np.arange(6, dtype=np.float32).reshape(2, 3))
    alias = e
    e += 1
    e *= 2.0
    e -= ember.ones(3)
    e /= 3
    e **= 2
    t += 1
    t *= 2.0
    t -= torch.ones(3)
    t /= 3
    t **= 2
    assert e is alias
    assert_same(e, t)


def test_inplace_float_result_into_integer_raises():
    with pytest.raises(RuntimeError):
        torch.ones(3, dtype=torch.int64).mul_(1.5)
    with pytest.raises(RuntimeError):
        ember.ones(3, dtype=ember.int64).mul_(1.5)


# ---- in-place checks of the autograd engine ------------------------------------------------------
def test_inplace_on_leaf_requiring_grad_raises():
    ember_error = error_of(lambda: ember.ones(2, requires_grad=True).add_(1))
    torch_error = error_of(lambda: torch.ones(2, requires_grad=True).add_(1))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


def test_inplace_on_leaf_allowed_under_no_grad():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            x.mul_(3)
        assert x.tolist() == [3.0, 3.0] and x.requires_grad and x.is_leaf


def test_inplace_on_non_leaf_is_differentiated():
    e, t = both(RNG.standard_normal(3), True)
    be, bt = both(RNG.standard_normal(3), True)
    ye, yt = e * 2, t * 2
    ye.mul_(be)
    yt.mul_(bt)
    ye.add_(1)
    yt.add_(1)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_same(e.grad, t.grad, rtol=1e-6, atol=1e-8)
    assert_same(be.grad, bt.grad, rtol=1e-6, atol=1e-8)


def _modified_saved_output(lib):
    x = lib.ones(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    return y.sum()


def _modified_saved_input(lib):
    a = lib.ones(3, requires_grad=True)
    b = a * 2
    z = b * b.exp()
    b.add_(1)
    return z.sum()


def _modified_twice(lib):
    x = lib.ones(2, 2, requires_grad=True)
    y = x.sigmoid()
    q = y * 1
    y.add_(1).mul_(2)
    return q.sum()


def _modified_constant(lib):
    w = lib.ones(3, requires_grad=True)
    v = lib.ones(3, dtype=lib.float64).to(lib.float32)
    z = w * v
    v.add_(1)
    return z.sum()


def _modified_leaf_under_no_grad(lib):
    w = lib.ones(3, requires_grad=True)
    z = w * w
    with lib.no_grad():
        w.add_(1)
    return z.sum()


@pytest.mark.parametrize("case", [_modified_saved_output, _modified_saved_input,
                                  _modified_twice, _modified_constant,
                                  _modified_leaf_under_no_grad], ids=lambda f: f.__name__)
def test_version_counter_error_against_torch(case):
    messages = []
    for lib in (ember, torch):
        loss = case(lib)
        error = error_of(loss.backward)
        assert type(error) is RuntimeError
        messages.append(str(error))
    ember_message, torch_message = messages
    assert ember_message.split("Hint")[0] == torch_message.split("Hint")[0]


def test_version_counter_shared_with_detached_alias():
    x = ember.ones(3, requires_grad=True)
    y = x.sigmoid()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---- copy_ ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dst, src", [
    ("float32", "float64"), ("int64", "float32"), ("float64", "int32"), ("bool", "float32"),
    ("float16", "float32"), ("bfloat16", "float32"), ("uint8", "int64")])
def test_copy_casts_and_broadcasts(dst, src):
    """copy_ casts src to self's dtype (truncating floats into integers) and broadcasts it."""
    values = RNG.uniform(-3, 3, (4,))
    outs = []
    for m in (ember, torch):
        target = m.zeros(3, 4, dtype=getattr(m, dst))
        out = target.copy_(m.from_numpy(values.copy()).to(getattr(m, src)))
        assert out is target
        outs.append(target.float())
    assert_same(*outs, **TOL)


def test_copy_gradients_to_src_and_overwritten_history():
    """The overwritten values get zero gradient; src gets gy summed over broadcast dims, in its
    own dtype."""
    outs = []
    for m in (ember, torch):
        a = _leaf(m)
        src = m.from_numpy(X[0].copy()).double().requires_grad_()
        b = a * 1
        b.copy_(src)
        (b * m.from_numpy(G.copy()).float()).sum().backward()
        outs.append((a.grad, src.grad, b.grad_fn.name()))
    assert_same(outs[0][0], outs[1][0], **TOL)
    assert_same(outs[0][1], outs[1][1], **TOL)
    assert outs[0][2] == outs[1][2] == "torch::autograd::CopyBackwards"


def test_copy_into_parameters_and_data():
    """param.copy_ under no_grad and param.data.copy_ write without recording; a leaf that
    requires grad refuses copy_ outside no_grad."""
    for m in (ember, torch):
        p = m.nn.Parameter(m.zeros(3))
        with m.no_grad():
            p.copy_(m.ones(3))
        assert p.tolist() == [1.0, 1.0, 1.0] and p.grad_fn is None
        p.data.copy_(m.full((3,), 2.0))
        assert p.tolist() == [2.0, 2.0, 2.0] and p.requires_grad and p.is_leaf
        assert type(error_of(lambda: p.copy_(m.ones(3)))) is RuntimeError


def test_copy_errors():
    """A src that does not broadcast to self raises RuntimeError; a Python number fills."""
    for m in (ember, torch):
        assert type(error_of(lambda: m.zeros(2, 3).copy_(m.zeros(4)))) is RuntimeError
        assert type(error_of(lambda: m.zeros(3).copy_(m.zeros(2, 3)))) is RuntimeError
        assert m.zeros(2).copy_(1.5).tolist() == [1.5, 1.5]


def test_fill_with_tensor_value():
    """fill_ takes a 0-d tensor (its gradient is the sum of gy), refuses other shapes;
    torch.fill / torch.zero_ are functions too."""
    grads = []
    for m in (ember, torch):
        v = m.tensor(3.0, requires_grad=True)
        y = m.zeros(2, 2).requires_grad_() * 1
        y.fill_(v)
        (y * m.from_numpy(G[:2, :2].copy()).float()).sum().backward()
        grads.append(v.grad)
        assert type(error_of(lambda: m.zeros(3).fill_(m.ones(2)))) is RuntimeError
        assert m.fill(m.ones(2), 4.0).tolist() == [4.0, 4.0]
        assert m.zero_(m.ones(2)).tolist() == [0.0, 0.0]
    assert_same(*grads, **TOL)


@pytest.mark.parametrize("write", [
    lambda m, t: t.add_(1), lambda m, t: t.exp_(), lambda m, t: t.mul_(m.ones(3, 3)),
    lambda m, t: t.clamp_(0, 1), lambda m, t: t.copy_(m.ones(3, 3)), lambda m, t: t.neg_()])
def test_inplace_on_an_expanded_tensor_is_refused(write):
    """An in-place op writing into an expanded tensor (stride 0) raises torch's overlap error."""
    assert_same_error(lambda m: write(m, m.zeros(3, 1).expand(3, 3)), same_message=True)


@pytest.mark.parametrize("write", [lambda t: t.fill_(2.5), lambda t: t.zero_()])
def test_fill_and_zero_write_an_expanded_tensor(write):
    """fill_ and zero_ write one value, so torch lets them write an expanded tensor (its base
    sees the value)."""
    results = []
    for m in (ember, torch):
        base = m.ones(3, 1)
        expanded = write(base.expand(3, 3))
        results.append((expanded, base))
    assert_same(results[0][0], results[1][0])
    assert_same(results[0][1], results[1][1])
