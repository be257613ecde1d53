"""torch.cuda.amp: PyTorch's deprecated CUDA spellings of `torch.amp` (on ember, as on a
CPU-only torch, CUDA autocast and CUDA grad scaling warn and stay disabled)."""


from ember._warnings import warn as _warn
from ember.amp import autocast_mode, grad_scaler
from ember.amp.autocast_mode import custom_bwd, custom_fwd  # noqa: F401


class autocast(autocast_mode.autocast):
    """`torch.cuda.amp.autocast(...)`: `torch.amp.autocast("cuda", ...)` (deprecated)."""

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        _warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(grad_scaler.GradScaler):
    """`torch.cuda.amp.GradScaler(...)`: `torch.amp.GradScaler("cuda", ...)` (deprecated)."""

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        _warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
