"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode.

The state is one module-level flag read by every op, so checking it costs a global lookup.
Each switch works as a context manager and as a decorator (bare or called, on plain and on
generator functions), as in PyTorch.
"""

from ember._contextlib import _DecoratorContextManager, _NoParamDecoratorContextManager
from ember._grad_state import GRAD_STATE as _state


def is_grad_enabled() -> bool:
    """Return whether ops currently record the autograd graph (matches `torch.is_grad_enabled`)."""
    return _state["enabled"]


def is_inference_mode_enabled() -> bool:
    """Whether an inference_mode block is running (matches `torch.is_inference_mode_enabled`)."""
    return _state["inference"]


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
        if not isinstance(mode, bool):  # torch's argument check (1 and None are refused too)
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
                            f"not {type(mode).__name__}")
        self._previous = _state["enabled"]
        self.mode = mode
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

    def __new__(cls, mode=True):
        # `@torch.inference_mode` bare passes the function as the mode.
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True):
        self.inference = mode
        self.mode = not mode

    def __enter__(self):
        self._previous_inference = _state["inference"]
        _state["inference"] = self.inference
        _state["inference_seen"] = _state["inference_seen"] or self.inference
        super().__enter__()

    def __exit__(self, *exc_info):
        _state["inference"] = self._previous_inference
        return super().__exit__(*exc_info)

    def clone(self):
        return self.__class__(self.inference)
