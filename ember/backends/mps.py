"""torch.backends.mps: there is no Metal device."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False


def is_macos13_or_newer(minor: int = 0) -> bool:
    """Raises without the MPS backend, as torch does."""
    raise RuntimeError("Cannot execute isOnMacOSorNewer() without MPS backend.")


def is_macos_or_newer(major: int, minor: int) -> bool:
    """Raises without the MPS backend, as torch does."""
    raise RuntimeError("Cannot execute isOnMacOSorNewer() without MPS backend.")
