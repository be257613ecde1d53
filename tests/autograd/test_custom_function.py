"""The custom-Function protocol against torch: setup_context, mark_dirty and the number of
gradients a backward must return (ember/autograd/_custom_function.py, engine `_validate`)."""

import pytest
import torch

import ember
from tests.differential import assert_same, error_of


def _scale_function(lib):
    """A Function in the setup_context style: forward(x, k) without ctx."""

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.k = k
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.k + x * 0, None

    return Scale


def _doubling_function(lib):
    """A Function that doubles its input in place and marks it dirty."""

    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double


def test_setup_context_values_grads_and_node_name():
    results = {}
    for lib in (ember, torch):
        scale = _scale_function(lib)
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = scale.apply(x, 3.0)
        y.sum().backward()
        with lib.no_grad():
            plain = scale.apply(x, 2.0)
        results[lib] = y, x.grad, plain, type(y.grad_fn).__name__
    for ours, theirs in zip(results[ember][:3], results[torch][:3]):
        assert_same(ours.detach(), theirs.detach())
    assert results[ember][3] == results[torch][3] == "ScaleBackward"


def test_setup_context_under_func_grad():
    got = ember.func.grad(lambda t: _scale_function(ember).apply(t, 2.5).sum())(
        ember.tensor([1.0, 5.0]))
    expected = torch.func.grad(lambda t: _scale_function(torch).apply(t, 2.5).sum())(
        torch.tensor([1.0, 5.0]))
    assert_same(got, expected)


def test_mark_dirty_returns_the_input_rebased_onto_the_function():
    seen = {}
    for lib in (ember, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.clone()
        result = _doubling_function(lib).apply(b)
        assert result is b
        seen[lib] = type(b.grad_fn).__name__, b._version
        b.sum().backward()
        seen[lib] += (a.grad.tolist(), b.detach().tolist())
    assert seen[ember] == seen[torch]


def test_mark_dirty_without_grad_returns_the_input():
    for lib in (ember, torch):
        c = lib.tensor([1.0, 2.0])
        assert _doubling_function(lib).apply(c) is c
        assert c._version == 2 and c.tolist() == [2.0, 4.0]


def test_mark_dirty_on_a_leaf_that_requires_grad_raises_as_torch():
    errors = [error_of(lambda: _doubling_function(lib).apply(
        lib.tensor([1.0], requires_grad=True))) for lib in (ember, torch)]
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])


def _few_gradients(lib):
    class Few(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g * 2  # one gradient for two forward arguments

    return Few


def test_too_few_gradients_raise_as_torch():
    errors = [error_of(lambda: _few_gradients(lib).apply(
        lib.ones(2, requires_grad=True), 2.0).sum().backward()) for lib in (ember, torch)]
    assert type(errors[0]) is type(errors[1]) is RuntimeError
    assert str(errors[0]) == str(errors[1])


@pytest.mark.parametrize("extra", [(None,), (None, None)])
def test_extra_trailing_none_gradients_are_accepted(extra):
    class Padded(ember.autograd.Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return (g * 2, None) + extra

    x = ember.ones(2, requires_grad=True)
    Padded.apply(x, 2.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
