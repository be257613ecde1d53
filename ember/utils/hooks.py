"""`torch.utils.hooks`: the handle every `register_*_hook` returns, and its helpers."""


from ember._warnings import warn as _warn
from ember.autograd.function import _RemovableHandle as _NodeHandle
from ember.nn.modules import _hooks


class _AnyHandle(type):
    """isinstance(h, RemovableHandle) holds for every handle ember's register_*_hook returns
    (module, global-module, tensor and node hooks), as all of torch's are RemovableHandles."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, (_hooks.RemovableHandle, _hooks._GlobalHandle, _NodeHandle))


class RemovableHandle(_hooks.RemovableHandle, metaclass=_AnyHandle):
    """A handle that removes a hook from its dict (matches `torch.utils.hooks.RemovableHandle`)."""

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


def unserializable_hook(f):
    """Mark a tensor hook as not to be serialized (matches `torch.utils.hooks`)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    """Warn when a tensor being serialized has backward hooks that will be lost (matches
    `torch.utils.hooks.warn_if_has_hooks`)."""
    for hook in (getattr(tensor, "_backward_hooks", None) or {}).values():
        if not hasattr(hook, "__torch_unserializable__"):
            _warn(f"backward hook {repr(hook)} on tensor will not be serialized.  If "
                          "this is expected, you can decorate the function with "
                          "@torch.utils.hooks.unserializable_hook to suppress this warning",
                          stacklevel=2)
