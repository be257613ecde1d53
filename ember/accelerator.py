"""ember.accelerator: the device-agnostic accelerator API (matches `torch.accelerator` on a
CPU-only build): there is no accelerator, so queries say so and device calls raise."""

_NONE = "Cannot access accelerator device when none is available."


class AcceleratorError(RuntimeError):
    """An error reported by an accelerator's runtime (matches `torch.AcceleratorError`; never
    raised by ember, which has none)."""


def is_available() -> bool:
    """False: ember runs on the CPU only."""
    return False


def current_accelerator(check_available: bool = False):
    """None: no accelerator is present."""
    return None


def device_count() -> int:
    return 0


def _needs_device(*args, **kwargs):
    raise RuntimeError(_NONE)


class device_index:
    """`with torch.accelerator.device_index(i):` raises on entry when i is not None, as there
    is no accelerator; `device_index(None)` is a no-op (matches torch's CPU-only build)."""

    def __init__(self, device, /):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            _needs_device()
        return self

    def __exit__(self, *exc):
        return False


current_device_index = current_device_idx = set_device_index = set_device_idx = _needs_device
current_stream = set_stream = synchronize = empty_cache = _needs_device
memory_allocated = max_memory_allocated = memory_reserved = max_memory_reserved = _needs_device
memory_stats = reset_peak_memory_stats = reset_accumulated_memory_stats = _needs_device
get_memory_info = get_device_capability = _needs_device
