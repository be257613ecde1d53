"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode.

The state is one module-level flag read by every op, so checking it costs a global lookup.
Each switch works as a context manager and as a decorator, as in PyTorch.
"""

import functools

_state = {"enabled": True}


def is_grad_enabled() -> bool:
    """Return whether ops currently record the autograd graph (matches `torch.is_grad_enabled`)."""
    return _state["enabled"]


class _GradModeSwitch:
    """Base for the switches: a context manager that is also usable as a decorator."""

    mode = True

    def __enter__(self):
        self._previous = _state["enabled"]
        _state["enabled"] = self.mode

    def __exit__(self, *exc_info):
        _state["enabled"] = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper

    def _fresh(self):
        """A new switch with the same mode, so a decorated function is re-entrant."""
        clone = self.__class__.__new__(self.__class__)
        clone.mode = self.mode
        return clone


class no_grad(_GradModeSwitch):
    """Disable gradient recording inside the block (matches `torch.no_grad`)."""

    mode = False

    def __init__(self):
        pass


class enable_grad(_GradModeSwitch):
    """Enable gradient recording inside the block (matches `torch.enable_grad`)."""

    mode = True

    def __init__(self):
        pass


class set_grad_enabled(_GradModeSwitch):
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

    def _fresh(self):
        clone = _GradModeSwitch.__new__(_GradModeSwitch)
        clone.mode = self.mode
        return clone


class inference_mode(_GradModeSwitch):
    """Like no_grad (ember has no separate inference tensors); matches `torch.inference_mode`."""

    def __init__(self, mode: bool = True):
        self.mode = not mode
