"""The backward engine (ember/autograd/engine.py): backward through graphs, hooks, retain_graph."""

import gc

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, error_of

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



# ---- backward basics -----------------------------------------------------------------------------
EXPRESSIONS = {
    "square-sum": lambda lib, x: (x * x).sum(),
    "mean-of-product": lambda lib, x: (x * 3 + 1).mean(),
    "reuse": lambda lib, x: (x * x * x + x.exp() * x).sum(),
    "diamond": lambda lib, x: ((x + 1) * (x - 1) + (x + 1) / 2).sum(),
    "seed-003": lambda lib, x: (x ** 2 * 4).mean(),
    "broadcast": lambda lib, x: (x + lib.ones(4, 1, 3, dtype=lib.float64)).sum(),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_scalar_backward(name):
    e, t = both(RNG.standard_normal((2, 3)), True)
    EXPRESSIONS[name](ember, e).backward()
    EXPRESSIONS[name](torch, t).backward()
    assert_same(e.grad, t.grad, **TOL)


@pytest.mark.parametrize("shape", [(3,), (2, 3), ()], ids=str)
def test_backward_with_gradient(shape):
    e, t = both(RNG.standard_normal(shape), True)
    gradient = RNG.standard_normal(shape)
    (e.sin() * 2).backward(ember.from_numpy(gradient.copy()))
    (t.sin() * 2).backward(torch.from_numpy(gradient.copy()))
    assert_same(e.grad, t.grad, **TOL)


def test_backward_seed_003_vector_jacobian_product():
    e = ember.eye(5, requires_grad=True)
    t = torch.eye(5, requires_grad=True)
    out_e, out_t = (e + 1).pow(2), (t + 1).pow(2)
    out_e.backward(ember.ones_like(e), retain_graph=True)
    out_t.backward(torch.ones_like(t), retain_graph=True)
    assert_same(e.grad, t.grad, **TOL)
    out_e.backward(ember.ones_like(e), retain_graph=True)
    out_t.backward(torch.ones_like(t), retain_graph=True)
    assert_same(e.grad, t.grad, **TOL)
    e.grad.zero_()
    t.grad.zero_()
    out_e.backward(ember.ones_like(e))
    out_t.backward(torch.ones_like(t))
    assert_same(e.grad, t.grad, **TOL)


def test_nonscalar_backward_without_gradient_raises():
    te, tt = (lib.ones(3, requires_grad=True) * 2 for lib in (ember, torch))
    assert str(error_of(te.backward)) == str(error_of(tt.backward))
    assert type(error_of(te.backward)) is type(error_of(tt.backward)) is RuntimeError


def test_backward_on_tensor_without_grad_raises():
    ember_error = error_of(lambda: ember.ones(2).sum().backward())
    torch_error = error_of(lambda: torch.ones(2).sum().backward())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


def test_gradient_shape_mismatch_raises():
    e = ember.ones(3, requires_grad=True) * 2
    t = torch.ones(3, requires_grad=True) * 2
    ember_error = error_of(lambda: e.backward(ember.ones(4)))
    torch_error = error_of(lambda: t.backward(torch.ones(4)))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


def test_gradients_accumulate_into_leaf():
    e, t = both(RNG.standard_normal(4), True)
    for _ in range(3):
        (e * e).sum().backward()
        (t * t).sum().backward()
    assert_same(e.grad, t.grad, **TOL)
    assert e.grad._data is not None and e.is_leaf


def test_grad_is_a_fresh_tensor_not_an_alias():
    x = ember.ones(3, requires_grad=True)
    y = ember.ones(3, requires_grad=True)
    (x + y).sum().backward()
    x.grad.add_(1)
    assert y.grad.tolist() == [1.0, 1.0, 1.0]


def test_non_leaf_grad_is_none_and_retain_grad():
    e, t = both(RNG.standard_normal(3), True)
    ye, yt = e * 2, t * 2
    ye.retain_grad()
    yt.retain_grad()
    assert ye.retains_grad and yt.retains_grad
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_same(ye.grad, yt.grad, **TOL)
    assert not ye.is_leaf
    ze = e * 3
    (ze * 2).sum().backward()
    assert ze.grad is None


# ---- hooks ---------------------------------------------------------------------------------------
def _hooked(lib, x, calls):
    y = x * 2
    y.register_hook(lambda g: calls.append(("y", g.detach().clone())) or g * 10)
    handle = x.register_hook(lambda g: calls.append(("x", g.detach().clone())))
    x.register_hook(lambda g: g + 1)
    z = (y * y).sum()
    return z, handle


def test_register_hook_on_leaf_and_non_leaf():
    e, t = both(RNG.standard_normal(3), True)
    calls_e, calls_t = [], []
    ze, _ = _hooked(ember, e, calls_e)
    zt, _ = _hooked(torch, t, calls_t)
    ze.backward()
    zt.backward()
    assert_same(e.grad, t.grad, **TOL)
    assert [name for name, _ in calls_e] == [name for name, _ in calls_t]
    for (_, ge), (_, gt) in zip(calls_e, calls_t):
        assert_same(ge, gt, **TOL)


def test_hook_handle_remove():
    e, t = both(RNG.standard_normal(3), True)
    calls_e, calls_t = [], []
    ze, handle_e = _hooked(ember, e, calls_e)
    zt, handle_t = _hooked(torch, t, calls_t)
    handle_e.remove()
    handle_t.remove()
    ze.backward()
    zt.backward()
    assert [n for n, _ in calls_e] == [n for n, _ in calls_t] == ["y"]
    assert_same(e.grad, t.grad, **TOL)


def test_hook_on_a_leaf_the_caller_dropped_still_runs():
    seen = {}
    for lib in (ember, torch):
        grads = seen.setdefault(lib.__name__, [])

        def build(lib=lib, grads=grads):
            x = lib.ones(2, requires_grad=True)
            x.register_hook(grads.append)
            return (x * 2).sum()

        build().backward()
    assert [g.tolist() for g in seen["ember"]] == [g.tolist() for g in seen["torch"]] == [
        [2.0, 2.0]]


def test_register_hook_requires_grad():
    ember_error = error_of(lambda: ember.ones(2).register_hook(lambda g: g))
    torch_error = error_of(lambda: torch.ones(2).register_hook(lambda g: g))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


# ---- retain_graph --------------------------------------------------------------------------------
def _seed_003(lib):
    x = lib.from_numpy(np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)).requires_grad_()
    z = x ** 2 * 4
    return x, z.mean(), z.sum()


def test_second_backward_without_retain_graph_raises_torch_message():
    _, loss1_e, loss2_e = _seed_003(ember)
    _, loss1_t, loss2_t = _seed_003(torch)
    assert repr(loss1_e) == repr(loss1_t) and repr(loss2_e) == repr(loss2_t)
    loss1_e.backward()
    loss1_t.backward()
    assert repr(loss1_e) == repr(loss1_t)
    ember_error = error_of(loss2_e.backward)
    torch_error = error_of(loss2_t.backward)
    assert type(ember_error) is type(torch_error) is RuntimeError
    assert str(ember_error) == str(torch_error)


def test_same_output_twice_without_retain_graph_raises():
    x = ember.ones(3, requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()


def test_retain_graph_allows_second_backward():
    xe, loss1_e, loss2_e = _seed_003(ember)
    xt, loss1_t, loss2_t = _seed_003(torch)
    loss1_e.backward(retain_graph=True)
    loss1_t.backward(retain_graph=True)
    loss2_e.backward()
    loss2_t.backward()
    assert_same(xe.grad, xt.grad, **TOL)


def _post_accumulate_run(lib):
    """What post-accumulate hooks see over three backwards (removed before the third), and
    the errors of the calls torch refuses."""
    p = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    seen = []
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t is p))
    (p * 2).sum().backward()
    (p * p).sum().backward()
    handle.remove()
    (p * 1).sum().backward()
    errors = []
    for call in (lambda: (p * 2).register_post_accumulate_grad_hook(print),
                 lambda: lib.ones(2).register_post_accumulate_grad_hook(print),
                 lambda: lib.ones(2).pin_memory()):
        try:
            call()
            errors.append(None)
        except RuntimeError as error:
            errors.append(str(error))
    return [s if isinstance(s, bool) else s.tolist() for s in seen], p.grad.tolist(), errors


def test_post_accumulate_grad_hooks_match_torch():
    """register_post_accumulate_grad_hook: called with the leaf after each backward added into
    its .grad, removable, refused on non-leaves and on tensors without grad (as in torch);
    a CPU-only build refuses pin_memory."""
    assert _post_accumulate_run(ember) == _post_accumulate_run(torch)


def test_post_accumulate_hooks_die_with_their_leaf():
    from ember.autograd._tensor_hooks import POST_ACCUMULATE_HOOKS
    before = len(POST_ACCUMULATE_HOOKS)
    p = ember.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: None)
    assert len(POST_ACCUMULATE_HOOKS) == before + 1
    del p
    gc.collect()
    assert len(POST_ACCUMULATE_HOOKS) == before


def test_accumulate_grad_prints_as_torch_does():
    """A leaf's node: name() is torch's C++ name, repr its class name (PyTorch prints both so)."""
    names = []
    for lib in (ember, torch):
        node = lib.ones(2, requires_grad=True).sum().grad_fn.next_functions[0][0]
        names.append((node.name(), repr(node).split(" object at 0x")[0]))
    assert names[0] == names[1] == ("torch::autograd::AccumulateGrad", "<AccumulateGrad")


# ---- what hooks return, held to torch's rules ---------------------------------------------------
HOOK_RESULTS = {
    "wrong_size": lambda lib, g: lib.ones(5),
    "wrong_dtype": lambda lib, g: g.double(),
    "not_a_tensor": lambda lib, g: 3,
}
HOOK_SITES = ["leaf", "non_leaf", "node_prehook", "node_hook", "module_pre", "module_full"]


def _hooked_backward(lib, site, replace):
    """One backward whose hook at `site` returns replace(gradient)."""
    def bad(g):  # (torch names the hook by its __name__)
        return replace(lib, g)

    w = lib.ones(2, requires_grad=True)
    if site == "leaf":
        w.register_hook(bad)
        return (w * 2).sum().backward()
    if site == "non_leaf":
        u = w * 2
        u.register_hook(bad)
        return u.sum().backward()
    n = w * 3
    if site == "node_prehook":
        n.grad_fn.register_prehook(lambda go: (bad(go[0]),))
        return n.sum().backward()
    if site == "node_hook":  # one value for the two inputs of Mul
        n.grad_fn.register_hook(lambda gi, go: (bad(gi[0]),))
        return n.sum().backward()
    linear = lib.nn.Linear(2, 2)
    if site == "module_pre":
        linear.register_full_backward_pre_hook(lambda m, go: (bad(go[0]),))
    else:
        linear.register_full_backward_hook(lambda m, gi, go: (bad(gi[0]),))
    return linear(lib.ones(1, 2, requires_grad=True)).sum().backward()


@pytest.mark.parametrize("site", HOOK_SITES)
@pytest.mark.parametrize("result", sorted(HOOK_RESULTS))
def test_hook_results_are_checked_as_torch_does(site, result):
    errors = []
    for lib in (ember, torch):
        with pytest.raises((RuntimeError, TypeError)) as info:
            _hooked_backward(lib, site, HOOK_RESULTS[result])
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


def _repr_cases(lib):
    """grad_fns of built-in ops, C++ nodes with a namespaced name() and Python Functions."""
    class Twice(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = lib.ones(3, requires_grad=True)
    sliced = lib.zeros(4)
    sliced[:3] = x
    copied = lib.empty(3)
    copied.copy_(x)
    hooked = lib.nn.Linear(3, 3)
    hooked.register_full_backward_hook(lambda *args: None)
    return [x * 2, sliced, copied, lib.floor_divide(x, 2), Twice.apply(x), hooked(x)]


def test_grad_fn_reprs_as_torch():
    """repr(grad_fn): a C++ node's type name without name()'s namespace (`<CopySlices object`),
    a Python Function's node under torch.autograd.function (the tensor repr prints name())."""
    reprs = []
    for lib in (ember, torch):
        reprs.append([(repr(t.grad_fn).split(" object at 0x")[0], t.grad_fn.name())
                      for t in _repr_cases(lib)])
    assert reprs[0] == reprs[1]
    assert reprs[0][1][0] == "<CopySlices"
    assert reprs[0][4][0] == "<torch.autograd.function.TwiceBackward"


@pytest.mark.parametrize("layout", ["channels_last", "permuted", "contiguous"])
def test_first_gradient_obeys_the_leafs_layout(layout):
    """A dense leaf's .grad gets the leaf's strides (PyTorch's gradient layout contract): a
    channels_last conv weight or input has a channels_last gradient, accumulated in place."""
    def run(lib):
        x = lib.from_numpy(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) / 100)
        if layout == "channels_last":
            x = x.contiguous(memory_format=lib.channels_last)
        elif layout == "permuted":
            x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
        x.requires_grad_()
        w = lib.ones(4, 3, 3, 3).to(memory_format=lib.channels_last).requires_grad_()
        for _ in range(2):
            (lib.nn.functional.conv2d(x, w) ** 2).sum().backward()
        return x.grad, w.grad
    for ours, theirs in zip(run(ember), run(torch)):
        assert ours.stride() == theirs.stride()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


@pytest.mark.parametrize("materialize", [True, False])
def test_a_python_function_no_gradient_reaches_still_runs(materialize):
    """PyTorch's engine runs every node reached: a Python Function behind one whose backward
    returns None gets zeros (None without materialized grads), and its result reaches the leaf;
    a built-in op's node there passes nothing on."""
    def run(lib):
        calls = []

        class A(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                calls.append(None if g is None else g.tolist())
                return None if g is None else g * 2

        class Blocked(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def backward(ctx, g):
                return None

        x = lib.ones(2, requires_grad=True)
        Blocked.apply(A.apply(x)).sum().backward()
        y = lib.ones(2, requires_grad=True)
        Blocked.apply(y.exp()).sum().backward()
        return calls, None if x.grad is None else x.grad.tolist(), y.grad
    assert run(ember) == run(torch)
