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


# ---- registration hooks --------------------------------------------------------------------
def _registrations(lib, module_lib):
    """Every (module class, name, value kind) a set of registration hooks sees, and replacements."""
    seen = []

    def on_buffer(module, name, buffer):
        seen.append(("buffer", type(module).__name__, name, tuple(buffer.shape)))
        return buffer * 0 + 7 if name == "count" else None

    def on_parameter(module, name, param):
        seen.append(("parameter", type(module).__name__, name, tuple(param.shape)))

    def on_module(module, name, submodule):
        seen.append(("module", type(module).__name__, name, type(submodule).__name__))
        return lib.nn.Tanh() if isinstance(submodule, lib.nn.ReLU) else None

    handles = [module_lib.register_module_buffer_registration_hook(on_buffer),
               module_lib.register_module_parameter_registration_hook(on_parameter),
               module_lib.register_module_module_registration_hook(on_module)]
    try:
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.BatchNorm1d(3))
        model.extra = lib.nn.ReLU()
        model[0].scale = lib.nn.Parameter(lib.ones(1))
        model[2].register_buffer("count", lib.zeros(2), persistent=False)
        model.add_module("head", lib.nn.Identity())
    finally:
        for handle in handles:
            handle.remove()
    model.after = lib.nn.ReLU()  # removed: no hook runs
    replaced = (type(model[1]).__name__, type(model.extra).__name__, type(model.after).__name__,
                model[2].count.tolist())
    return seen, replaced


def test_registration_hooks_see_and_replace_like_torch():
    ours = _registrations(ember, ember_module)
    assert ours == _registrations(torch, torch_module)
    assert ours[1] == ("Tanh", "Tanh", "ReLU", [7.0, 7.0])
