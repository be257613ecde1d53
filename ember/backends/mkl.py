"""torch.backends.mkl: PyTorch's x86 CPU wheels are built with MKL, and this module answers as
they do (ember's matmuls use NumPy's BLAS; the flag is informational)."""

import contextlib


def is_available() -> bool:
    """True, as torch's CPU build answers (matches `torch.backends.mkl.is_available`)."""
    return True


@contextlib.contextmanager
def verbose(enable):
    """MKL's verbose mode inside the block: nothing to print on ember."""
    yield
