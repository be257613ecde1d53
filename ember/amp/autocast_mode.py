"""`torch.autocast` / `torch.amp.autocast`: a context manager (and decorator) that turns
autocast on for one device type.

ember runs on the CPU: `autocast("cpu")` (bfloat16 by default, or float16) is on inside the
block, and ops that PyTorch's CPU autocast lists run in that dtype; `autocast("cuda")` warns and
stays off, as PyTorch's CPU build does.
"""

import functools

from ember._warnings import warn as _warn
from ember import _autocast, _dtype
from ember import _autocast_legacy as _legacy

_KNOWN_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep",
                       "hip", "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta",
                       "hpu", "mtia", "privateuseone")


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports this device type (matches `torch.amp.is_autocast_available`)."""
    return device_type in ("cpu", "cuda")


class autocast:
    """Run the block with autocast on for `device_type` (matches `torch.autocast`)."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _KNOWN_DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_DEVICE_TYPES)} device type "
                               f"at start of device string: {device_type}")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else _autocast.get_dtype(
            device_type if device_type in ("cpu", "cuda") else "cuda")
        self._enabled = bool(enabled)
        self._cache_enabled = _legacy.is_autocast_cache_enabled() if cache_enabled is None \
            else cache_enabled
        if device_type == "cuda" and enabled:
            _warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
            self._enabled = False
        elif device_type == "cpu" and enabled and self.fast_dtype not in _cpu_dtypes():
            _warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", stacklevel=2)
            self._enabled = False
        elif device_type not in ("cpu", "cuda"):
            self._enabled = False

    def __enter__(self):
        self._previous_cache = _legacy.enter_autocast(self._cache_enabled)
        if self.device in ("cpu", "cuda"):
            self._previous = (_autocast.is_enabled(self.device), _autocast.get_dtype(self.device))
            _autocast.set_enabled(self.device, self._enabled)
            _autocast.set_dtype(self.device, self.fast_dtype)  # torch sets it even when off
        return self

    def __exit__(self, *exc):
        _legacy.exit_autocast(self._previous_cache)
        if self.device in ("cpu", "cuda"):
            _autocast.set_enabled(self.device, self._previous[0])
            _autocast.set_dtype(self.device, self._previous[1])
        return False

    def __call__(self, fn):
        """Use as a decorator: run `fn` inside this autocast block."""

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return fn(*args, **kwargs)

        return run


def _cpu_dtypes():
    return (_dtype.bfloat16, _dtype.float16)


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """Decorator for a custom Function's forward under autocast (matches `torch.amp.custom_fwd`).

    With cast_inputs, floating-point tensor arguments are cast to it and autocast is off inside.
    """
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def forward(*args, **kwargs):
        if cast_inputs is None or not _autocast.is_enabled(device_type):
            return fwd(*args, **kwargs)
        args = [_cast(a, cast_inputs) for a in args]
        kwargs = {k: _cast(v, cast_inputs) for k, v in kwargs.items()}
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)

    return forward


def custom_bwd(bwd=None, *, device_type="cuda"):
    """Decorator for a custom Function's backward (matches `torch.amp.custom_bwd`)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


def _cast(value, dtype):
    if getattr(value, "is_floating_point", None) and value.is_floating_point():
        return value.to(dtype)
    return value
