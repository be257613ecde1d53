"""parallel_blocks (ember/_threads.py): blocks cover the range in order, results come back in
order, nesting and small work stay on one thread, and a forked child gets a working pool.
run_wavefront: every (stage, block) runs once, after (stage, block-1) and (stage-1, block), on
more than one thread when there are threads, and an error in a stage reaches the caller."""

import multiprocessing
import threading

import pytest

import ember
import time

from ember._threads import parallel_blocks, run_wavefront


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


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("stages,blocks", [(1, 4), (2, 7), (3, 5), (5, 2)])
def test_wavefront_runs_every_block_after_its_predecessors(stages, blocks, threads):
    old = ember.get_num_threads()
    ember.set_num_threads(threads)
    done, lock, log = set(), threading.Lock(), []

    def fn(stage, block):
        with lock:
            assert (stage, block) not in done
            assert block == 0 or (stage, block - 1) in done
            assert stage == 0 or (stage - 1, block) in done
        time.sleep(0.001)  # give the other threads a chance to run out of order
        with lock:
            done.add((stage, block))
            log.append(threading.get_ident())
    try:
        run_wavefront(fn, stages, blocks)
    finally:
        ember.set_num_threads(old)
    assert done == {(s, b) for s in range(stages) for b in range(blocks)}
    if threads == 1 or stages == 1:
        assert set(log) == {threading.get_ident()}


def test_wavefront_uses_a_second_thread_and_nested_calls_stay_put():
    old = ember.get_num_threads()
    ember.set_num_threads(2)
    seen, inner = {}, []

    def fn(stage, block):
        seen.setdefault(stage, set()).add(threading.get_ident())
        time.sleep(0.002)
        if stage == 1 and block == 0:
            inner.append(parallel_blocks(lambda s, e: threading.get_ident(), 100))
    try:
        run_wavefront(fn, 2, 3)
    finally:
        ember.set_num_threads(old)
    assert seen[0] != seen[1]
    assert inner[0] == list(seen[1])  # a block's own parallel work runs on its thread


def test_wavefront_error_reaches_the_caller_and_the_pool_survives():
    old = ember.get_num_threads()
    ember.set_num_threads(2)

    def fn(stage, block):
        if (stage, block) == (1, 1):
            raise KeyError("stage 1 failed")
        time.sleep(0.001)
    try:
        with pytest.raises(KeyError, match="stage 1 failed"):
            run_wavefront(fn, 3, 4)
        ran = []
        run_wavefront(lambda s, b: ran.append((s, b)), 2, 2)
    finally:
        ember.set_num_threads(old)
    assert sorted(ran) == [(0, 0), (0, 1), (1, 0), (1, 1)]
