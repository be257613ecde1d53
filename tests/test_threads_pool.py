"""parallel_blocks (ember/_threads.py): blocks cover the range in order, results come back in
order, nesting and small work stay on one thread, and a forked child gets a working pool."""

import multiprocessing
import threading

import pytest

import ember
from ember._threads import parallel_blocks


@pytest.mark.parametrize("count", [1, 2, 3, 7, 64, 1001])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_blocks_cover_the_range_in_order(count, threads):
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        blocks = parallel_blocks(lambda start, stop: (start, stop), count)
    finally:
        ember.set_num_threads(old)
    assert blocks[0][0] == 0 and blocks[-1][1] == count
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert len(blocks) == min(threads, count)


def test_small_work_and_nested_calls_stay_on_the_calling_thread():
    caller = threading.get_ident()
    assert parallel_blocks(lambda s, e: threading.get_ident(), 10, min_block=8) == [caller]

    def outer(start, stop):
        inner = parallel_blocks(lambda s, e: (s, e, threading.get_ident()), 100)
        return len(inner), inner[0][2] == threading.get_ident()
    assert all(result == (1, True) for result in parallel_blocks(outer, 100))


def _child_runs_blocks(queue):
    queue.put(parallel_blocks(lambda start, stop: stop - start, 100))


def test_a_forked_child_gets_a_working_pool():
    parallel_blocks(lambda start, stop: None, 100)  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_runs_blocks, args=(queue,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert sum(queue.get(timeout=5)) == 100
