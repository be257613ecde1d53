"""`torch.cpu`: the CPU as a device module, with the same calls `torch.cuda` has (matches
`torch.cpu`): always available, one device, nothing to synchronize."""

from ember.cpu import amp  # noqa: F401
from ember._cpu_features import cpu_flags
from ember.backends.cpu import get_cpu_capability

__all__ = ["Stream", "StreamContext", "current_device", "current_stream", "device_count",
           "is_available", "is_initialized", "set_device", "stream",
           "synchronize"]


def is_available() -> bool:
    """True: the CPU is always there (matches `torch.cpu.is_available`)."""
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    """1 (matches `torch.cpu.device_count`)."""
    return 1


def current_device() -> str:
    """'cpu' (matches `torch.cpu.current_device`)."""
    return "cpu"


def set_device(device) -> None:
    """Nothing to switch: a no-op, as in torch."""


def synchronize(device=None) -> None:
    """CPU work is synchronous: a no-op, as in torch."""


class Stream:
    """A CPU stream: a placeholder with torch's no-op methods (matches `torch.cpu.Stream`)."""

    def __init__(self, priority: int = -1):
        self.priority = priority

    def wait_stream(self, stream) -> None:
        pass

    def wait_event(self, event) -> None:
        pass

    def record_event(self, event=None) -> None:
        pass


_CURRENT = Stream()


def current_stream(device=None) -> Stream:
    return _CURRENT


class StreamContext:
    """`with torch.cpu.stream(s):`, a no-op context (matches `torch.cpu.StreamContext`)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


def stream(stream) -> StreamContext:
    return StreamContext(stream)


def _is_avx2_supported() -> bool:
    return get_cpu_capability() in ("AVX2", "AVX512")


def _is_avx512_supported() -> bool:
    return get_cpu_capability() == "AVX512"


def _is_avx512_bf16_supported() -> bool:
    """Whether the CPU has AVX512-BF16 (PyTorch reads it through cpuinfo, ember from the
    CPU's flags: `ember/_cpu_features.py`)."""
    return "avx512_bf16" in cpu_flags()


def _is_vnni_supported() -> bool:
    """Whether the CPU has AVX512-VNNI."""
    return "avx512_vnni" in cpu_flags()


def _is_amx_tile_supported() -> bool:
    """Whether the CPU has AMX tiles."""
    return "amx_tile" in cpu_flags()


def _is_amx_fp16_supported() -> bool:
    """Whether the CPU has AMX-FP16."""
    return "amx_fp16" in cpu_flags()
