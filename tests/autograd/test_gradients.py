"""autograd.grad, backward(inputs=...) and higher-order gradients (ember/autograd/gradients.py)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



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
        with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to "
                                               "not have been used"):
            lib.autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
        with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
            lib.autograd.grad((x * 2).sum(), [x, unused], allow_unused=False,
                              materialize_grads=True, retain_graph=True)
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


# ---- is_grads_batched and which nodes run ------------------------------------------------------
def _batched_grads(lib, **kwargs):
    lib.manual_seed(0)
    x = lib.randn(3, requires_grad=True)
    w = lib.randn(4, 3, requires_grad=True)
    unused = lib.ones(2, requires_grad=True)
    y = (w @ x).sin() * x.sum()
    return lib.autograd.grad(y, (x, w, unused), lib.eye(4), is_grads_batched=True,
                             **kwargs)


def test_grad_is_grads_batched():
    """One vector-Jacobian product per row of the seeds (torch vmaps the backward)."""
    for kwargs in ({"allow_unused": True}, {"materialize_grads": True},
                   {"create_graph": True, "allow_unused": True}):
        results = [_batched_grads(lib, **kwargs) for lib in (ember, torch)]
        for e, t in zip(*results):
            if t is None:
                assert e is None
                continue
            assert_same(e, t, rtol=1e-5, atol=1e-6)
            assert e.requires_grad == t.requires_grad


def test_grad_is_grads_batched_errors():
    def mismatched(lib, x):
        return lib.autograd.grad(x * 3, x, lib.ones(3, 2), is_grads_batched=True)

    e = ember.ones(3, requires_grad=True)
    t = torch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError) as ember_error:
        mismatched(ember, e)
    with pytest.raises(RuntimeError) as torch_error:
        mismatched(torch, t)
    assert str(ember_error.value) == str(torch_error.value)
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="index 2 appears to not have been used"):
            _batched_grads(lib)


def test_vmap_over_grad_of_an_outer_graph():
    """vmap(lambda v: autograd.grad(y, x, v)) over seeds for a graph built outside the vmap
    (torch's Jacobian-by-vmap idiom)."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        x = lib.randn(3, requires_grad=True)
        y = (lib.randn(4, 3) @ x).tanh() * x.sum()
        results.append(lib.func.vmap(
            lambda v: lib.autograd.grad(y, x, v, retain_graph=True)[0])(lib.eye(4)))
    assert_same(*results, rtol=1e-4, atol=1e-6)


def test_grad_runs_only_nodes_leading_to_inputs():
    """A node no input is reached through is not run (torch's exec_info): here the node of a
    once_differentiable backward's results, which raises when run."""
    for lib in (ember, torch):
        class Sin(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.sin()

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x.cos()

        x = lib.tensor([0.5, 1.0], requires_grad=True)
        seed = lib.ones(2, requires_grad=True)
        (g,) = lib.autograd.grad(Sin.apply(x), x, seed, create_graph=True)
        assert type(g.grad_fn).__name__ == "Error"
        assert lib.autograd.grad(g.sum(), x, allow_unused=True) == (None,)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function"):
            g.sum().backward()


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("call", [
    lambda lib, x, y: lib.autograd.grad((x * y).sum(), []),
    lambda lib, x, y: lib.autograd.grad(x * y, ()),  # (before the non-scalar error)
    lambda lib, x, y: (x * y).sum().backward(inputs=[]),
    lambda lib, x, y: lib.autograd.backward((x * y).sum(), inputs=()),
    lambda lib, x, y: lib.autograd.grad((x * y).sum(), __import__("types").MappingProxyType(
        {"a": x}))])
def test_empty_or_mapping_inputs_raise_torchs_error(call):
    """`inputs` may not be empty, and a mapping other than a dict is refused."""
    (x, tx), (y, ty) = both(RNG.standard_normal(2), True), both(RNG.standard_normal(2), True)
    assert _error(lambda: call(ember, x, y)) == _error(lambda: call(torch, tx, ty))


def test_grad_of_a_dict_of_inputs_is_a_dict():
    """autograd.grad({'a': x, 'b': y}) returns the gradients keyed as the inputs; backward's
    inputs may be a dict too."""
    (x, tx), (y, ty) = both(RNG.standard_normal(3), True), both(RNG.standard_normal(3), True)
    e = ember.autograd.grad((x * y).sum(), {"a": x, "b": y})
    t = torch.autograd.grad((tx * ty).sum(), {"a": tx, "b": ty})
    assert list(e) == list(t) == ["a", "b"]
    for key in t:
        assert_same(e[key], t[key], **TOL)
    (x * y).sum().backward(inputs={"a": x})
    (tx * ty).sum().backward(inputs={"a": tx})
    assert_same(x.grad, tx.grad, **TOL)
    assert y.grad is None and ty.grad is None
