"""The C allocator's policy for array memory: keep freed blocks for reuse (glibc only).

NOTE [Freed arrays stay with the process]
A training step makes and frees the same few-megabyte temporaries every step (gate buffers,
logits, their gradients). glibc's malloc serves blocks of that size with a fresh mmap and gives
them back to the kernel when freed, or trims the top of its heap once more than a few MB are
free there; either way the next step's arrays start on pages the kernel must fault in and
zero: about 6,000 page faults per step of the LSTM language model, 15% of its time. PyTorch
keeps such blocks in its own CPU allocator. ember sets glibc's thresholds once, at import, to
the values glibc's own adaptive rule reaches after it has seen a 32 MB block freed: blocks under
32 MB come from the heap, and up to 64 MB of free heap is kept. Nothing changes when the user
set MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ (or EMBER_KEEP_MALLOC=1), or on a C
library other than glibc.
"""

import ctypes
import os
import sys

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


def _libc():
    """The C library: glibc by its soname, else whatever `ctypes.util.find_library` finds."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        # find_library runs `ldconfig -p` in a subprocess (milliseconds at every `import ember`),
        # so it is only asked, and its module only imported, off glibc
        from ctypes.util import find_library

        return ctypes.CDLL(find_library("c") or "libc.so.6")


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds (NOTE above); return whether they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("EMBER_KEEP_MALLOC") == "1":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        libc = _libc()
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it; musl raises AttributeError)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


ACTIVE = keep_freed_memory()
