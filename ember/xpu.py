"""`torch.xpu` (Intel GPUs) as a CPU-only PyTorch build answers it: no device; the queries and
seeding calls that torch allows return their no-device values, the rest raise torch's error."""

_NOT_COMPILED = "Torch not compiled with XPU enabled"

__all__ = ["current_device", "device", "device_count", "empty_cache", "get_device_name",
           "init", "is_available", "is_bf16_supported", "is_initialized", "manual_seed",
           "manual_seed_all", "max_memory_allocated", "memory_allocated", "seed", "seed_all",
           "set_device", "synchronize"]


def is_available() -> bool:
    """False (matches `torch.xpu.is_available` on a build without XPU)."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def _no_xpu(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


init = current_device = set_device = synchronize = get_device_name = _no_xpu
get_device_properties = get_device_capability = current_stream = _no_xpu


def _nothing(*args, **kwargs) -> None:
    """Seeding and cache calls are no-ops without a device, as in torch."""


manual_seed = manual_seed_all = seed = seed_all = empty_cache = _nothing
reset_peak_memory_stats = _nothing


def memory_allocated(device=None) -> int:
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


class device:
    """`with torch.xpu.device(i):`, which raises on entry without XPU (as in torch)."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        _no_xpu()

    def __exit__(self, *exc):
        return False
