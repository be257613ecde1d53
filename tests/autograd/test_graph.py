"""torch.autograd.graph against torch: saved-tensor hooks on custom Functions (what is packed,
when, with grad mode off; unpacked values feeding backward; nesting; disabling), save_on_cpu,
GradientEdge / get_gradient_edge, increment_version, Node, register_multi_grad_hook."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error


def _square_function(lib):
    """A custom Function saving its input: y = x², gx = 2·x·gy."""

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 2 * x * gy

    return Square


def _hooked_run(lib, scale_on_unpack=1.0):
    """Square under hooks that log every pack/unpack; returns (log, x.grad)."""
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape), lib.is_grad_enabled(), t.requires_grad))
        return t.detach().clone()

    def unpack(packed):
        log.append(("unpack", tuple(packed.shape)))
        return packed * scale_on_unpack

    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = _square_function(lib).apply(x)
    y.sum().backward()
    return log, x.grad


@pytest.mark.parametrize("scale", [1.0, 3.0])
def test_saved_tensors_hooks_on_a_custom_function(scale):
    (log_e, grad_e), (log_t, grad_t) = (_hooked_run(lib, scale) for lib in (ember, torch))
    assert log_e == log_t
    assert_same(grad_e, grad_t)  # the unpacked value is what backward used


def test_innermost_hooks_apply_and_no_version_check():
    def run(lib):
        log = []
        outer = lib.autograd.graph.saved_tensors_hooks(lambda t: log.append("outer") or t,
                                                       lambda t: t)
        inner = lib.autograd.graph.saved_tensors_hooks(lambda t: log.append("inner") or t,
                                                       lambda t: t)
        b = lib.ones(3, requires_grad=True) * 1
        with outer, inner:
            y = _square_function(lib).apply(b)
        b.add_(1)  # in place after saving: with hooks, no version error
        y.sum().backward()
        return log
    assert run(ember) == run(torch)


@pytest.mark.parametrize("order", ["disable_then_hooks", "hooks_then_disable"])
def test_disable_saved_tensors_hooks(order):
    def run(lib):
        graph = lib.autograd.graph
        hooks = graph.saved_tensors_hooks(lambda t: t, lambda t: t)
        if order == "disable_then_hooks":
            with graph.disable_saved_tensors_hooks("no hooks here"):
                with hooks:
                    pass
        with hooks:
            with graph.disable_saved_tensors_hooks("not while hooks run"):
                pass
    assert_same_error(run)


def test_save_on_cpu_gives_the_same_gradients():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        with lib.autograd.graph.save_on_cpu():
            y = _square_function(lib).apply(x.sin()).exp().sum()
        y.backward()
        grads.append(x.grad)
    assert_same(*grads)


def test_gradient_edges_and_versions():
    for lib in (ember, torch):
        graph = lib.autograd.graph
        a = lib.ones(3, requires_grad=True)
        y = a * 2
        leaf_edge, op_edge = graph.get_gradient_edge(a), graph.get_gradient_edge(y)
        assert leaf_edge.node.name() == "torch::autograd::AccumulateGrad"
        assert leaf_edge.output_nr == 0 and op_edge.node is y.grad_fn
        assert isinstance(y.grad_fn, graph.Node) and isinstance(leaf_edge, tuple)
        t = lib.zeros(2)
        before = t._version
        graph.increment_version(t)
        graph.increment_version([t, t])
        assert t._version == before + 3
    assert_same_error(lambda lib: lib.autograd.graph.get_gradient_edge(lib.ones(2)))


@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("which", ["both", "first_only"])
def test_register_multi_grad_hook(mode, which):
    def run(lib):
        calls = []
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        graph = lib.autograd.graph
        fn = (lambda grads: calls.append([None if g is None else g.tolist() for g in grads])) \
            if mode == "all" else (lambda grad: calls.append(grad.tolist()))
        handle = graph.register_multi_grad_hook((a, b), fn, mode=mode)
        for step in range(2):
            loss = (a * (step + 2)).sum() + ((b * 3).sum() if which == "both" else 0)
            loss.backward()
        handle.remove()
        (a.sum() + b.sum()).backward()  # removed: no more calls
        return calls
    assert run(ember) == run(torch)
    assert_same_error(lambda lib: lib.autograd.graph.register_multi_grad_hook(
        (lib.ones(1, requires_grad=True),), print, mode="some"))


def test_hook_on_an_output_that_got_no_gradient_sees_none():
    """A tensor hook on an output of a node that runs but sent it no gradient is called with
    None, as in torch."""
    def run(lib):
        calls = []
        a, b = lib.ones(4, requires_grad=True).split(2)
        a.register_hook(lambda g: calls.append(("a", None if g is None else g.tolist())))
        b.register_hook(lambda g: calls.append(("b", None if g is None else g.tolist())))
        (a * 2).sum().backward()
        return calls
    assert run(ember) == run(torch)


def test_grad_with_respect_to_gradient_edges():
    """autograd.grad takes GradientEdges as inputs (one alone, or among tensors)."""
    results = []
    for lib in (ember, torch):
        graph = __import__(f"{lib.__name__}.autograd.graph", fromlist=["graph"])
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        u = t * 2
        v = u.exp()
        edge = graph.get_gradient_edge(u)
        one = lib.autograd.grad(v.sum(), edge, retain_graph=True)
        both = lib.autograd.grad(v.sum(), (t, edge), retain_graph=True)
        with pytest.raises(RuntimeError, match="materialize_grads cannot be used when the given "
                                               "input is a GradientEdge"):
            lib.autograd.grad(u.sum(), graph.get_gradient_edge(lib.ones(1, requires_grad=True)),
                              materialize_grads=True)
        results.append([value for g in one + both for value in g.tolist()])
    assert results[0] == pytest.approx(results[1])
