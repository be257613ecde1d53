"""Custom autograd Functions (ember/autograd/function.py): ctx, saved tensors, errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, error_of

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



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


def test_backward_returning_a_non_tensor_and_ctx_class():
    for lib in (ember, torch):
        class Returns5(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                assert isinstance(ctx, lib.autograd.function.FunctionCtx)
                ctx.save_for_forward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, 5

        with pytest.raises(RuntimeError, match=r"^expected Variable or None \(got int\)$"):
            Returns5.apply(lib.ones(2, requires_grad=True), lib.ones(2)).sum().backward()


def test_materialized_grads_require_grad_under_create_graph():
    for lib in (ember, torch):
        x, unused = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        _, g = lib.autograd.grad((x * 2).sum(), (x, unused), create_graph=True,
                                 materialize_grads=True)
        assert g.requires_grad and g.tolist() == [0.0, 0.0, 0.0]
