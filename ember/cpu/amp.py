"""`torch.cpu.amp`: PyTorch's deprecated CPU spellings of `torch.amp`."""


from ember._warnings import warn as _warn
from ember.amp import autocast_mode, grad_scaler
from ember._dtype import bfloat16


class autocast(autocast_mode.autocast):
    """`torch.cpu.amp.autocast(...)`: `torch.amp.autocast("cpu", ...)` (deprecated)."""

    def __init__(self, enabled=True, dtype=bfloat16, cache_enabled=True):
        _warn("`torch.cpu.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """`torch.cpu.amp.GradScaler(...)`: `torch.amp.GradScaler("cpu", ...)` (deprecated)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _warn("`torch.cpu.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cpu', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cpu", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
