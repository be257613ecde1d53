"""The one check every allocation of a size a caller chose goes through (issue #19):
NOTE [Sizes are checked before allocating]."""

import math
import os

try:
    import resource
except ImportError:  # not on Windows
    resource = None

# NOTE [Sizes are checked before allocating]
# NumPy answers an impossible size with MemoryError or ValueError ("array is too big"), or tries
# to allocate it; torch raises RuntimeError. Every shape a creation op makes goes through
# _shape, which refuses, with torch's exception class, an element count that overflows 64 bits
# or a size of more bytes (at 8 per element) than the machine's memory, or than the process may
# still map when its address space is capped (`ulimit -v`, resource.RLIMIT_AS: torch's
# allocator fails there too). A shape of more than 64 dims, which NumPy cannot hold (torch can,
# but refuses it in most ops), raises the RuntimeError torch's ops raise for one.
_MEMORY_BYTES = (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                 if hasattr(os, "sysconf") else 2**47)
_SMALL_BYTES = 2**28  # below this no cap is looked up (the common case stays a multiplication)


def _mappable_bytes():
    """The bytes this process may still map: the machine's memory, or less under RLIMIT_AS."""
    if resource is None:
        return _MEMORY_BYTES
    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    if cap == resource.RLIM_INFINITY:
        return _MEMORY_BYTES
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        used = 0
    return min(_MEMORY_BYTES, cap - used)


def check_allocation(shape, itemsize=8):
    """Raise RuntimeError for a shape no allocation could hold (see the NOTE above)."""
    if len(shape) > 64:
        raise RuntimeError("only tensors with up to 64 dims are supported")
    numel = math.prod(shape)
    if numel >= 2**63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    nbytes = numel * itemsize
    if nbytes > _SMALL_BYTES and nbytes > _mappable_bytes():
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           f"{nbytes} bytes.")
