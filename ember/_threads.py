"""Thread counts: set_num_threads / get_num_threads and the inter-op pair (matches torch's).

ember's intra-op parallelism is NumPy's BLAS (matrix products, convolutions' GEMMs), so
`set_num_threads` caps BLAS's thread pool, through threadpoolctl (the library scikit-learn and
NumPy's own tests use for this). Without threadpoolctl the count is recorded but BLAS keeps its
own, and ember says so once. ember runs no inter-op parallel work; the inter-op count is kept
and checked as torch keeps and checks it.
"""

import os
import warnings

_state = {"threads": None, "interop": None}


def _default_threads() -> int:
    """The CPUs this process may run on (torch's default intra-op and inter-op count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuntimeError(f"{name} expects an int, but got {type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{name} expects a positive integer")


def set_num_threads(threads: int) -> None:
    """Use `threads` threads for intra-op parallelism: NumPy's BLAS (matches torch)."""
    _check_count("set_num_threads", threads)
    _state["threads"] = threads
    try:
        # lazy: optional; only this call needs it
        from threadpoolctl import threadpool_limits
    except ImportError:
        warnings.warn("ember.set_num_threads: threadpoolctl is not installed, so NumPy's BLAS "
                      "keeps its own thread count (pip install threadpoolctl)", stacklevel=2)
        return
    threadpool_limits(limits=threads, user_api="blas")


def get_num_threads() -> int:
    """The intra-op thread count (matches `torch.get_num_threads`)."""
    return _state["threads"] or _default_threads()


def set_num_interop_threads(threads: int) -> None:
    """Set the inter-op thread count, once, as torch allows (matches torch)."""
    _check_count("set_num_interop_threads", threads)
    if _state["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _state["interop"] = threads


def get_num_interop_threads() -> int:
    """The inter-op thread count (matches `torch.get_num_interop_threads`)."""
    return _state["interop"] or _default_threads()
