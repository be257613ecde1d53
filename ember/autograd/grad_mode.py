"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode.

The state is one module-level flag read by every op, so checking it costs a global lookup.
Each switch works as a context manager and as a decorator (bare or called, on plain and on
generator functions), as in PyTorch.
"""

from ember._contextlib import _DecoratorContextManager, _NoParamDecoratorContextManager

_state = {"enabled": True}


def is_grad_enabled() -> bool:
    """Return whether ops currently record the autograd graph (matches `torch.is_grad_enabled`)."""
    return _state["enabled"]


class _GradModeSwitch:
    """Mixin: entering sets the flag to `self.mode`; leaving restores what it was."""

    mode = True

    def __enter__(self):
        self._previous = _state["enabled"]
        _state["enabled"] = self.mode

    def __exit__(self, *exc_info):
        _state["enabled"] = self._previous
        return False


class no_grad(_GradModeSwitch, _NoParamDecoratorContextManager):
    """Disable gradient recording inside the block (matches `torch.no_grad`)."""

    mode = False

    def __init__(self, orig_func=None):
        pass


class enable_grad(_GradModeSwitch, _NoParamDecoratorContextManager):
    """Enable gradient recording inside the block (matches `torch.enable_grad`)."""

    mode = True

    def __init__(self, orig_func=None):
        pass


class set_grad_enabled(_GradModeSwitch, _DecoratorContextManager):
    """Set gradient recording on or off; takes effect at once, like `torch.set_grad_enabled`."""

    def __init__(self, mode: bool):
        self._previous = _state["enabled"]
        self.mode = bool(mode)
        _state["enabled"] = self.mode

    def __enter__(self):
        pass

    def __call__(self, func):
        # Used as a decorator the call must not leave the mode changed.
        _state["enabled"] = self._previous
        return super().__call__(func)

    def clone(self):
        """A switch for one call of a decorated function: enters and restores like no_grad."""
        switch = _GradModeSwitch()
        switch.mode = self.mode
        return switch


class inference_mode(_GradModeSwitch, _DecoratorContextManager):
    """Like no_grad (ember has no separate inference tensors); matches `torch.inference_mode`."""

    def __new__(cls, mode_or_orig_func=True):
        # `@torch.inference_mode` bare passes the function as the mode.
        if mode_or_orig_func is None or isinstance(mode_or_orig_func, bool):
            return super().__new__(cls)
        return cls()(mode_or_orig_func)

    def __init__(self, mode: bool = True):
        self.mode = not mode

    def clone(self):
        return self.__class__(not self.mode)
