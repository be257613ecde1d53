"""The autograd engine and its user-facing API, checked against torch where torch has an answer."""

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


# ---- grad modes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_context_managers(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.no_grad():
        assert not (x * 2).requires_grad
        assert not lib.is_grad_enabled()
        with lib.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    lib.set_grad_enabled(True)
    with lib.inference_mode():
        assert not (x * 2).requires_grad
    with lib.inference_mode(False):
        assert (x * 2).requires_grad
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_decorators(lib):
    x = lib.ones(2, requires_grad=True)

    @lib.no_grad()
    def without():
        return x * 2

    @lib.enable_grad()
    def with_grad():
        return x * 2

    @lib.set_grad_enabled(False)
    def disabled():
        return x * 2

    @lib.inference_mode()
    def inference():
        return x * 2

    assert lib.is_grad_enabled()  # set_grad_enabled used as a decorator changes nothing now
    assert not without().requires_grad
    assert not disabled().requires_grad
    assert not inference().requires_grad
    with lib.no_grad():
        assert with_grad().requires_grad
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_grad_mode_restored_after_exception(lib):
    with pytest.raises(ValueError), lib.no_grad():
        raise ValueError
    assert lib.is_grad_enabled()

    @lib.no_grad()
    def failing():
        raise KeyError

    with pytest.raises(KeyError):
        failing()
    assert lib.is_grad_enabled()


def test_no_grad_decorator_is_reentrant():
    @ember.no_grad()
    def recurse(n):
        if n:
            recurse(n - 1)
        return ember.is_grad_enabled()

    assert recurse(3) is False
    assert ember.is_grad_enabled()


# ---- detach, requires_grad, conversions ----------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_detach_shares_memory_and_cuts_graph(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 5
    assert y[0].item() == 5
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    assert x.data.data_ptr() == x.data_ptr() and not x.data.requires_grad


def test_requires_grad_errors():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        assert y.requires_grad_(True) is y  # setting True on a non-leaf that requires grad: ok
    ember_error = error_of(lambda: (ember.ones(2, requires_grad=True) * 2).requires_grad_(False))
    torch_error = error_of(lambda: (torch.ones(2, requires_grad=True) * 2).requires_grad_(False))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    ember_error = error_of(lambda: ember.ones(2, dtype=ember.int64).requires_grad_())
    torch_error = error_of(lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


def test_numpy_of_tensor_requiring_grad_raises():
    ember_error = error_of(lambda: ember.ones(2, requires_grad=True).numpy())
    torch_error = error_of(lambda: torch.ones(2, requires_grad=True).numpy())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]


def test_cuda_raises_assertion_error_like_cpu_only_torch():
    ember_error = error_of(lambda: ember.ones(2).cuda())
    torch_error = error_of(lambda: torch.ones(2).cuda())
    assert type(ember_error) is type(torch_error) is AssertionError
    assert type(error_of(lambda: ember.ones(2).to("cuda"))) is AssertionError
    assert ember.cuda.is_available() is torch.cuda.is_available() is False
    assert ember.ones(2).to("cpu").device == ember.device("cpu")


# ---- in-place checks -----------------------------------------------------------------------------
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
    assert_same(e.grad, t.grad, **TOL)
    assert_same(be.grad, bt.grad, **TOL)


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
def test_version_counter_error(case):
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


# ---- autograd.grad and higher order --------------------------------------------------------------
HIGHER = {
    "cube": lambda lib, x: x ** 3,
    "sin": lambda lib, x: lib.sin(x),
    "exp-times-x": lambda lib, x: lib.exp(x) * x,
    "tanh": lambda lib, x: lib.tanh(x),
    "sigmoid-of-square": lambda lib, x: lib.sigmoid(x * x),
    "log-of-cosh": lambda lib, x: lib.log(lib.cosh(x)),
}


@pytest.mark.parametrize("name", sorted(HIGHER))
def test_second_and_third_derivatives(name):
    e, t = both(RNG.uniform(-1, 1, 4), True)
    results = []
    for lib, x in ((ember, e), (torch, t)):
        (g1,) = lib.autograd.grad(HIGHER[name](lib, x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        results.append((g1, g2, g3))
    for ge, gt in zip(*results):
        assert_same(ge, gt, **TOL)


def test_second_derivative_closed_forms():
    x = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.5, 2.0]))
    (g,) = ember.autograd.grad(ember.sin(x).sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), -np.sin([0.5, 2.0]))


def test_hessian_vector_product():
    w = RNG.standard_normal(3)
    v = RNG.standard_normal(3)
    results = []
    for lib in (ember, torch):
        x = lib.from_numpy(w.copy()).requires_grad_()
        f = (x * x * x).sum() + x.sin().sum() * (x * x).sum()
        (g,) = lib.autograd.grad(f, x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=lib.from_numpy(v.copy()))
        results.append(hv)
    assert_same(*results, **TOL)


def test_grad_does_not_touch_dot_grad_and_respects_inputs():
    e, t = both(RNG.standard_normal(3), True)
    be, bt = both(RNG.standard_normal(3), True)
    ge = ember.autograd.grad((e * be).sum(), [e, be])
    gt = torch.autograd.grad((t * bt).sum(), [t, bt])
    assert e.grad is None and be.grad is None
    for a, b in zip(ge, gt):
        assert_same(a, b, **TOL)
        assert not a.requires_grad


def test_grad_unused_input():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        unused = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            lib.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
        gx, gu = lib.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
        assert gu is None and gx.tolist() == [2.0, 2.0]
        gx, gu = lib.autograd.grad((x * 2).sum(), [x, unused], materialize_grads=True)
        assert gu.tolist() == [0.0, 0.0]


def test_backward_inputs_argument():
    e, t = both(RNG.standard_normal(3), True)
    be, bt = both(RNG.standard_normal(3), True)
    (e * be).sum().backward(inputs=[e])
    (t * bt).sum().backward(inputs=[t])
    assert_same(e.grad, t.grad, **TOL)
    assert be.grad is None and bt.grad is None


def test_create_graph_backward_builds_differentiable_grad():
    e, t = both(RNG.standard_normal(3), True)
    (e ** 3).sum().backward(create_graph=True)
    (t ** 3).sum().backward(create_graph=True)
    assert e.grad.requires_grad and t.grad.requires_grad
    (ge,) = ember.autograd.grad(e.grad.sum(), e)
    (gt,) = torch.autograd.grad(t.grad.sum(), t)
    assert_same(ge, gt, **TOL)


# ---- custom Functions ----------------------------------------------------------------------------
def _custom_functions(lib):
    class ScaledExp(lib.autograd.Function):
        """y = exp(x)·s;  gx = gy·y,  gs = sum(gy·exp(x))."""

        @staticmethod
        def forward(ctx, x, s, note):
            y = x.exp() * s
            ctx.save_for_backward(x, y)
            ctx.note = note
            ctx.seen_needs = tuple(ctx.needs_input_grad)
            return y

        @staticmethod
        def backward(ctx, gy):
            x, y = ctx.saved_tensors
            gx = gy * y if ctx.needs_input_grad[0] else None
            gs = (gy * x.exp()).sum().reshape(1) if ctx.needs_input_grad[1] else None
            return gx, gs, None

    class SortWithIndex(lib.autograd.Function):
        """Two outputs, the second (an index tensor) marked non-differentiable."""

        @staticmethod
        def forward(ctx, x):
            y = x * 2
            index = (x > 0).long()
            mark = y.clone() * 0
            ctx.mark_non_differentiable(mark)
            return y, mark, index

        @staticmethod
        def backward(ctx, gy, gmark, gindex):
            return gy * 2

    return ScaledExp, SortWithIndex


def test_custom_function_matches_torch():
    (e_fn, _), (t_fn, _) = _custom_functions(ember), _custom_functions(torch)
    xe, xt = both(RNG.standard_normal(3), True)
    se, st = both(np.array([1.5]), True)
    ye, yt = e_fn.apply(xe, se, "note"), t_fn.apply(xt, st, "note")
    assert_same(ye, yt, **TOL)
    assert ye.grad_fn.name() == type(yt.grad_fn).__name__ == "ScaledExpBackward"
    assert ye.grad_fn.seen_needs == yt.grad_fn.seen_needs == (True, True, False)
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    assert_same(xe.grad, xt.grad, **TOL)
    assert_same(se.grad, st.grad, **TOL)


def test_custom_function_needs_input_grad_partial():
    (e_fn, _), (t_fn, _) = _custom_functions(ember), _custom_functions(torch)
    xe, xt = both(RNG.standard_normal(3), True)
    se, st = both(np.array([1.5]), requires_grad=False)
    ye, yt = e_fn.apply(xe, se, None), t_fn.apply(xt, st, None)
    assert ye.grad_fn.seen_needs == yt.grad_fn.seen_needs == (True, False, False)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(xe.grad, xt.grad, **TOL)
    assert se.grad is None and st.grad is None


def test_custom_function_without_grad_inputs_builds_no_graph():
    (e_fn, _) = _custom_functions(ember)
    y = e_fn.apply(ember.ones(2), ember.ones(1), None)
    assert not y.requires_grad and y.grad_fn is None


def test_custom_function_mark_non_differentiable():
    (_, e_fn), (_, t_fn) = _custom_functions(ember), _custom_functions(torch)
    xe, xt = both(RNG.standard_normal(4), True)
    out_e, out_t = e_fn.apply(xe), t_fn.apply(xt)
    for oe, ot in zip(out_e, out_t):
        assert oe.requires_grad == ot.requires_grad
        assert_same(oe, ot, **TOL)
    out_e[0].sum().backward()
    out_t[0].sum().backward()
    assert_same(xe.grad, xt.grad, **TOL)


def _bad_shape_function(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gy):
            return gy[:2]

    return Bad


def test_custom_function_bad_gradient_shape():
    errors = []
    for lib in (ember, torch):
        x = lib.ones(3, requires_grad=True)
        loss = _bad_shape_function(lib).apply(x).sum()
        errors.append(error_of(loss.backward))
    assert type(errors[0]) is type(errors[1]) is RuntimeError
    assert str(errors[0]) == str(errors[1])


def test_custom_function_wrong_number_of_gradients():
    for lib in (ember, torch):
        class TooMany(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, gy):
                return gy, gy

        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            TooMany.apply(x).sum().backward()


def test_saved_tensors_freed_after_backward():
    class Keep(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x

    y = Keep.apply(ember.ones(2, requires_grad=True))
    node = y.grad_fn
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        _ = node.saved_tensors


# ---- deep graphs and gradcheck -------------------------------------------------------------------
def test_very_long_chain_has_no_recursion_error():
    x = ember.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_long_chain_higher_order():
    x = ember.tensor([0.3], dtype=ember.float64, requires_grad=True)
    y = x
    for _ in range(2000):
        y = y + x * x * 0.001  # y = x + 2x²
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert abs(g.item() - (1 + 4 * 0.3)) < 1e-9
    (h,) = ember.autograd.grad(g.sum(), x)  # the 2000-op gradient is itself a graph
    assert abs(h.item() - 4.0) < 1e-9


def _wrong_backward_function():
    class WrongSquare(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x  # should be 2·x

    return WrongSquare


def test_gradcheck_catches_a_wrong_backward():
    x = ember.from_numpy(RNG.standard_normal(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(_wrong_backward_function().apply, (x,))
    assert ember.autograd.gradcheck(_wrong_backward_function().apply, (x,),
                                    raise_exception=False) is False
    assert ember.autograd.gradcheck(lambda v: v * v, (x,))


def test_gradcheck_error_is_runtime_error_like_torch():
    class TorchWrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * x

    x = torch.from_numpy(RNG.standard_normal(3)).requires_grad_()
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(TorchWrong.apply, (x,))


def test_gradgradcheck():
    x = ember.from_numpy(RNG.standard_normal(3)).requires_grad_()
    assert ember.autograd.gradgradcheck(lambda v: (v * v).sin(), (x,))


def test_once_differentiable_double_backward_raises():
    class ArrayOnly(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ember.autograd.once_differentiable
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 2 * x._data * gy._data

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ArrayOnly.apply(x)
    (g,) = ember.autograd.grad((y * y).sum(), x, create_graph=True)  # gy = 2y needs grad
    assert g.tolist() == [4.0, 32.0]  # d(x⁴)/dx = 4x³
    with pytest.raises(RuntimeError, match="once_differentiable"):
        g.sum().backward()
    (g,) = ember.autograd.grad(ArrayOnly.apply(x).sum(), x, create_graph=True)
    assert not g.requires_grad  # a constant seed: nothing to differentiate, as in PyTorch
