"""Global module hooks (torch.nn.modules.module.register_module_*_hook): the same calls in the
same order as torch for a forward and a backward through nested modules, and removal."""

import pytest
import torch
import torch.nn.modules.module as torch_module

import ember
import ember.nn.modules.module as ember_module


def _trace(lib, module_namespace, with_kwargs):
    seen = []
    handles = [
        module_namespace.register_module_forward_pre_hook(
            lambda m, args: seen.append(("pre", type(m).__name__))),
        module_namespace.register_module_forward_hook(
            (lambda m, args, kwargs, out: seen.append(("forward+kw", type(m).__name__)))
            if with_kwargs else (lambda m, args, out: seen.append(("forward", type(m).__name__))),
            with_kwargs=with_kwargs),
        module_namespace.register_module_full_backward_pre_hook(
            lambda m, grad_output: seen.append(("backward_pre", type(m).__name__))),
        module_namespace.register_module_full_backward_hook(
            lambda m, grad_input, grad_output: seen.append(("backward", type(m).__name__))),
    ]
    try:
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.ReLU(), lib.nn.Linear(2, 1))
        model(lib.ones(3, 2, requires_grad=True)).sum().backward()
    finally:
        for handle in handles:
            handle.remove()
    model(lib.ones(1, 2))  # after removal: no more calls
    return seen


@pytest.mark.parametrize("with_kwargs", [False, True])
def test_global_hooks_fire_like_torch(with_kwargs):
    assert _trace(ember, ember_module, with_kwargs) == _trace(torch, torch_module, with_kwargs)


def test_global_forward_hook_can_replace_outputs_and_module_hooks_run_after():
    for lib, namespace in ((ember, ember_module), (torch, torch_module)):
        order = []
        layer = lib.nn.Linear(2, 2)
        layer.register_forward_hook(lambda m, a, out: order.append("module") or out * 0)
        handle = namespace.register_module_forward_hook(
            lambda m, a, out: order.append("global") or out + 1)
        try:
            out = layer(lib.ones(1, 2))
        finally:
            handle.remove()
        assert order == ["global", "module"] and out.abs().sum().item() == 0
