"""Thread counts: set_num_threads / get_num_threads and the inter-op pair (matches torch's).

ember's intra-op parallelism is NumPy's BLAS (matrix products, convolutions' GEMMs) and
`parallel_blocks`, which splits the non-BLAS work of a big op (im2col copies, pooling, batch
norm passes) into blocks on a small thread pool: NumPy releases the GIL inside large copies and
ufuncs, so two blocks really run on two cores. `set_num_threads` caps both, BLAS's pool through
threadpoolctl (the library scikit-learn and NumPy's own tests use for this). Without
threadpoolctl the count is recorded but BLAS keeps its own, and ember says so once. ember runs
no inter-op parallel work; the inter-op count is kept and checked as torch keeps and checks it.
"""

import os
import threading

from ember._warnings import warn as _warn

_state = {"threads": None, "interop": None, "pool": None, "pool_size": 0}
_pool_lock = threading.Lock()
_worker = threading.local()  # .active: this thread is running a block (no nested fan-out)


def _forget_pool_after_fork():
    """A forked child (DataLoader workers) has none of the parent's threads: start a new pool."""
    global _pool_lock
    _pool_lock = threading.Lock()
    _state["pool"], _state["pool_size"] = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


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
        _warn("ember.set_num_threads: threadpoolctl is not installed, so NumPy's BLAS "
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


def _executor(workers: int):
    """The shared pool with `workers` threads (made on first use, remade when the count grows)."""
    with _pool_lock:
        if _state["pool_size"] < workers:
            # imported on first use: concurrent.futures (with the logging it imports) would add
            # 3 ms to `import ember`, and a program whose ops stay small never needs the pool
            from concurrent.futures import ThreadPoolExecutor

            if _state["pool"] is not None:
                _state["pool"].shutdown(wait=False)
            _state["pool"] = ThreadPoolExecutor(workers, thread_name_prefix="ember-intraop")
            _state["pool_size"] = workers
        return _state["pool"]


def _run_block(fn, start, stop):
    """Run one block, marking this thread as busy so that fn's own ops don't fan out again."""
    _worker.active = True
    try:
        return fn(start, stop)
    finally:
        _worker.active = False


def parallel_blocks(fn, count: int, min_block: int = 1) -> list:
    """Call fn(start, stop) on disjoint blocks covering range(count), on get_num_threads() threads.

    Blocks are contiguous and in order; the results come back in block order. The calling
    thread runs the first block itself. Work smaller than two blocks of `min_block` items, or
    a call made from inside a block, runs as one fn(0, count) call on this thread. fn must only
    write to its own block's part of any output (blocks run at the same time) and should avoid
    BLAS calls, whose own threads would then compete with the pool's.
    """
    threads = min(get_num_threads(), count // max(min_block, 1))
    if threads <= 1 or getattr(_worker, "active", False):
        return [fn(0, count)]
    bounds = [count * i // threads for i in range(threads + 1)]
    pool = _executor(threads - 1)
    futures = [pool.submit(_run_block, fn, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    first = _run_block(fn, bounds[0], bounds[1])
    return [first] + [future.result() for future in futures]


# Elements per flat block, at least: elementwise work (ReLU, an in-place write) does little per
# element, so below a megabyte or so handing half of it to another thread saves less than the
# hand-off costs. (4 MB blocks were chosen while OpenBLAS's idle threads spun on the second
# core, NOTE [BLAS's idle threads]; with them asleep, 1 MB blocks made MyCNN's and the CIFAR
# ResNet's steps 1-3% faster.)
FLAT_BLOCK = 1 << 18


def flat_blocks(fn, out, *arrays):
    """fn(out, *arrays) for elementwise work on arrays of out's shape: on flat blocks of at
    least FLAT_BLOCK elements on the pool's threads when there are two or more and every array
    is contiguous, else in one call."""
    block = FLAT_BLOCK
    if out.size < 2 * block or not all(a.flags.c_contiguous for a in (out,) + arrays):
        fn(out, *arrays)
        return
    flat = [a.reshape(-1) for a in (out,) + arrays]
    parallel_blocks(lambda i, j: fn(*[a[i:j] for a in flat]), out.size, block)


_blas = {"controller": None, "checked": False}


def _blas_controller():
    """threadpoolctl's controller of the loaded BLAS (None without threadpoolctl)."""
    if not _blas["checked"]:
        _blas["checked"] = True
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _blas["controller"] = ThreadpoolController().select(user_api="blas")
    return _blas["controller"]


# NOTE [Lanes]: a big convolution walks the batch in cache-sized blocks, each a few copies
# around a GEMM (or a few GEMMs around elementwise passes). With BLAS's threads inside each
# GEMM only, the copies and passes run on one core. Lanes run the blocks instead: each thread
# takes an equal share of them and calls BLAS on its own thread, so the whole block pipeline
# uses every core. Measured on 2 cores (with NOTE [BLAS's idle threads]): a training pass
# (forward and both gradients) of the CIFAR ResNet's spectral 3x3 layers took 0.7-0.75x the
# time, of an im2col layer (16->32 channels on 16x16) 0.7x; training steps of the CIFAR
# ResNet 0.77x, VGG11-BN 0.86x, MyCNN 0.91x. BLAS's thread count is process-wide: two Python
# threads running big convolutions at once share one setting (as torch's set_num_threads).
_MIN_LANE_BYTES = 1 << 20  # work below this many bytes per lane stays on one thread


def lane_blocks(n: int, step: int, item_bytes: int) -> list:
    """range(n) cut into slices of at most `step` items, as equal as can be, their count a
    multiple of the thread count when each lane gets _MIN_LANE_BYTES (items of item_bytes)."""
    count = -(-n // max(step, 1))
    threads = min(get_num_threads(), n)
    if threads > 1 and n * item_bytes >= threads * _MIN_LANE_BYTES:
        count = -(-count // threads) * threads
    count = max(1, min(count, n))
    bounds = [n * i // count for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


def lanes_run(count: int, work_bytes=None) -> bool:
    """Whether parallel_lanes(fn, count, work_bytes) runs lanes, each calling BLAS on one
    thread (else one call, BLAS on its own threads)."""
    threads = min(get_num_threads(), count)
    if work_bytes is not None and work_bytes < threads * _MIN_LANE_BYTES:
        return False
    return threads > 1 and not getattr(_worker, "active", False) and \
        _blas_controller() is not None


def parallel_lanes(fn, count: int, work_bytes=None) -> list:
    """Like parallel_blocks(fn, count), for blocks that call BLAS (NOTE [Lanes]): each lane
    runs its blocks with BLAS on one thread, BLAS's own count restored after. One fn(0, count)
    call without threadpoolctl (BLAS's count then can't be changed), or when `work_bytes`
    (if given) is under _MIN_LANE_BYTES per lane."""
    if not lanes_run(count, work_bytes):
        return [fn(0, count)]
    with _blas_controller().limit(limits=1):
        return parallel_blocks(fn, count)
