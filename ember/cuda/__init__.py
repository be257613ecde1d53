"""ember.cuda: what PyTorch's CPU-only build answers (ember runs on the CPU).

NOTE [A CPU-only torch.cuda]
Scripts probe torch.cuda before they use it, and many call its statistics unconditionally.
ember answers call by call as PyTorch's CPU build does (tests/cuda/test_cuda.py compares each
with torch): questions that need no device get "nothing here" (`is_available()` False,
`device_count()` 0, memory statistics 0, `empty_cache()` and `manual_seed` accepted); calls
that need a device raise torch's exception class: `AssertionError("Torch not compiled with CUDA
enabled")` for most, `RuntimeError` for `device(...)` and `Stream()`, `AttributeError` for
`set_device` and the peak-statistics resets (torch's CPU build has no binding for them).
"""

from ember.cuda import amp, memory  # noqa: F401 - torch.cuda.amp, torch.cuda.memory
from ember.cuda.memory import (  # noqa: F401 - re-exported as torch.cuda.<name>
                               empty_cache, max_memory_allocated, max_memory_cached,
                               max_memory_reserved, mem_get_info, memory_allocated,
                               memory_cached, memory_reserved, memory_snapshot, memory_stats,
                               memory_stats_as_nested_dict, memory_summary,
                               reset_accumulated_memory_stats, reset_max_memory_allocated,
                               reset_max_memory_cached, reset_peak_memory_stats,
                               set_per_process_memory_fraction)
from ember.cuda.memory import _missing_binding

_NOT_COMPILED = "Torch not compiled with CUDA enabled"
default_generators = ()


class OutOfMemoryError(RuntimeError):
    """Raised by a CUDA allocation that fails (never, on ember)."""


class CudaError(RuntimeError):
    """A CUDA runtime error (never raised by ember)."""


def _not_compiled(*args, **kwargs):
    """Raise what PyTorch's CPU build raises for calls that need a CUDA device."""
    raise AssertionError(_NOT_COMPILED)


def is_available() -> bool:
    """False: ember has no CUDA device (matches a CPU-only `torch.cuda.is_available`)."""
    return False


def device_count() -> int:
    """0 CUDA devices."""
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def get_arch_list():
    return []


def get_gencode_flags() -> str:
    return ""


def manual_seed(seed) -> None:
    """Accepted and ignored: there is no CUDA generator (as on a CPU-only torch)."""


manual_seed_all = manual_seed


def seed() -> None:
    """Accepted and ignored: there is no CUDA generator."""


seed_all = seed


def get_rng_state_all():
    return []


def set_rng_state(new_state, device="cuda") -> None:
    """Accepted and ignored: there is no CUDA generator."""


def set_rng_state_all(new_states) -> None:
    """Accepted and ignored: there is no CUDA generator."""


init = current_device = synchronize = ipc_collect = _not_compiled
get_device_name = get_device_capability = get_device_properties = _not_compiled
get_rng_state = initial_seed = current_stream = default_stream = _not_compiled
set_device = _missing_binding("set_device")


class device:
    """Context manager selecting a CUDA device: constructing works, entering raises."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc):
        return False


class device_of(device):
    """Selects the device of a tensor: a no-op for ember's CPU tensors."""

    def __init__(self, obj):
        self.idx = -1

    def __enter__(self):
        return None


class StreamContext:
    """Selects a stream: with no CUDA stream (None), a no-op."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self.stream

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


class Stream:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class Event:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("Tried to instantiate dummy base class Event")


class _CudaTensorType(type):
    """torch.cuda.FloatTensor and friends: no CPU tensor is one, and none can be made."""

    def __instancecheck__(cls, obj):
        return False

    def __call__(cls, *args, **kwargs):
        raise TypeError(f"type torch.cuda.{cls.__name__} not available. {_NOT_COMPILED}.")


def _tensor_type(name):
    return _CudaTensorType(name, (), {"__module__": "torch.cuda"})


FloatTensor, DoubleTensor, HalfTensor = (_tensor_type(n) for n in
                                         ("FloatTensor", "DoubleTensor", "HalfTensor"))
BFloat16Tensor = _tensor_type("BFloat16Tensor")
LongTensor, IntTensor, ShortTensor = (_tensor_type(n) for n in
                                      ("LongTensor", "IntTensor", "ShortTensor"))
CharTensor, ByteTensor, BoolTensor = (_tensor_type(n) for n in
                                      ("CharTensor", "ByteTensor", "BoolTensor"))


def list_gpu_processes(device=None) -> str:
    return "pynvml module not found, please install nvidia-ml-py"

