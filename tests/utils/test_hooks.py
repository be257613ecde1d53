"""torch.utils.hooks: the handle class every register_*_hook returns, compared with torch."""

import pytest
import torch

import ember


def _handles(lib):
    lin = lib.nn.Linear(2, 2)
    return {
        "forward": lin.register_forward_hook(lambda *a: None),
        "forward_pre": lin.register_forward_pre_hook(lambda *a: None),
        "full_backward": lin.register_full_backward_hook(lambda *a: None),
        "global forward": lib.nn.modules.module.register_module_forward_hook(lambda *a: None),
        "tensor": lib.ones(1, requires_grad=True).register_hook(lambda g: g),
        "node": (lib.ones(1, requires_grad=True) * 2).grad_fn.register_hook(lambda *a: None),
    }


@pytest.mark.parametrize("kind", ["forward", "forward_pre", "full_backward", "global forward",
                                  "tensor", "node"])
def test_module_hook_handles_are_removable_handles(kind):
    ours, theirs = _handles(ember)[kind], _handles(torch)[kind]
    assert isinstance(theirs, torch.utils.hooks.RemovableHandle)
    assert isinstance(ours, ember.utils.hooks.RemovableHandle)
    ours.remove()
    theirs.remove()


def test_handle_as_context_manager_removes_the_hook():
    for lib in (ember, torch):
        lin, seen = lib.nn.Linear(2, 2), []
        with lin.register_forward_hook(lambda *a: seen.append(1)):
            lin(lib.ones(1, 2))
        lin(lib.ones(1, 2))
        assert seen == [1]


def test_unserializable_hook_marks_the_function():
    for lib in (ember, torch):
        hook = lib.utils.hooks.unserializable_hook(lambda grad: grad)
        assert hook.__torch_unserializable__ is True


def test_handle_class_builds_working_handles():
    from collections import OrderedDict

    for lib in (ember, torch):
        hooks = OrderedDict()  # torch keeps a weak reference to it
        handle = lib.utils.hooks.RemovableHandle(hooks)
        hooks[handle.id] = "hook"
        assert isinstance(handle, lib.utils.hooks.RemovableHandle)
        handle.remove()
        assert hooks == {}
        assert not isinstance(object(), lib.utils.hooks.RemovableHandle)
