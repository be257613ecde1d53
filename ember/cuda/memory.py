"""ember.cuda.memory: CUDA memory statistics as PyTorch's CPU-only build reports them (no
memory in use, nothing to free; see NOTE [A CPU-only torch.cuda] in ember/cuda/__init__.py)."""

import collections


def _zero(device=None) -> int:
    return 0


memory_allocated = max_memory_allocated = _zero
memory_reserved = max_memory_reserved = _zero
memory_cached = max_memory_cached = _zero


def empty_cache() -> None:
    """Nothing is cached on a CPU-only build."""


def memory_stats(device=None):
    """An empty OrderedDict: no allocator statistics exist."""
    return collections.OrderedDict()


def memory_stats_as_nested_dict(device=None):
    return {}


def memory_summary(device=None, abbreviated=False):
    """torch's CPU build fails here looking up a statistic that was never recorded."""
    raise KeyError("allocated_bytes.all.current")


def _missing_binding(name):
    def call(*args, **kwargs):
        raise AttributeError(f"torch.cuda.{name} is not available: ember, like PyTorch's "
                             "CPU-only build, has no CUDA")

    call.__name__ = name
    return call


memory_snapshot = _missing_binding("memory_snapshot")
reset_peak_memory_stats = _missing_binding("reset_peak_memory_stats")
reset_max_memory_allocated = _missing_binding("reset_max_memory_allocated")
reset_max_memory_cached = _missing_binding("reset_max_memory_cached")
reset_accumulated_memory_stats = _missing_binding("reset_accumulated_memory_stats")


def mem_get_info(device=None):
    raise AssertionError("Torch not compiled with CUDA enabled")


def set_per_process_memory_fraction(fraction, device=None):
    raise AssertionError("Torch not compiled with CUDA enabled")
