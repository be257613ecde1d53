"""`torch.mps` (Apple GPUs) as a PyTorch build without MPS answers it: no device; calls that
need the backend raise torch's RuntimeError."""

__all__ = ["current_allocated_memory", "device_count", "driver_allocated_memory",
           "empty_cache", "get_rng_state", "is_available", "manual_seed",
           "recommended_max_memory", "seed", "set_per_process_memory_fraction",
           "set_rng_state", "synchronize"]


def is_available() -> bool:
    """False (matches `torch.mps.is_available` without MPS)."""
    return False


def device_count() -> int:
    return 0


def manual_seed(seed) -> None:
    """A no-op without MPS, as in torch."""


def _needs_mps(name):
    def call(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {name}() without MPS backend.")
    call.__name__ = name
    return call


synchronize = _needs_mps("deviceSynchronize")
empty_cache = _needs_mps("emptyCache")
seed = get_rng_state = set_rng_state = _needs_mps("getDefaultGenerator")
current_allocated_memory = _needs_mps("getCurrentAllocatedMemory")
driver_allocated_memory = _needs_mps("getDriverAllocatedMemory")
recommended_max_memory = _needs_mps("getRecommendedMaxMemory")
set_per_process_memory_fraction = _needs_mps("setMemoryFraction")
