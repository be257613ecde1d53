"""ember.cuda: ember runs on the CPU, so CUDA is never available (matches a CPU-only torch)."""


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored: there is no CUDA generator."""


def synchronize(device=None) -> None:
    """Nothing to wait for on the CPU."""
