"""ember's Future (what get_future() and DDP communication hooks return) against
torch.futures.Future, in one process."""

import pytest
import torch

import ember
from ember.futures import Future, collect_all, wait_all

LIBRARIES = [torch.futures.Future, Future]


def lifecycle(future_class):
    """done/value/wait/then on futures completed before and after chaining."""
    done_first = future_class()
    before = done_first.done()
    done_first.set_result(3)
    chained_late = future_class()
    child = chained_late.then(lambda f: f.value() * 2)
    pending = child.done()
    chained_late.set_result(5)
    seen = []
    chained_late.add_done_callback(lambda f: seen.append(f.value()))
    return (before, done_first.done(), done_first.wait(), done_first.value(),
            done_first.then(lambda f: f.value() + 1).wait(), pending, child.done(),
            child.value(), seen)


def errors(future_class):
    """The error a callback meets, completing twice, a non-exception."""
    outcomes = []
    failed = future_class()
    child = failed.then(lambda f: f.value())
    failed.set_exception(ValueError("boom"))
    for call in (child.wait, failed.wait, lambda: failed.set_result(1),
                 lambda: failed.set_exception(3)):
        try:
            call()
            outcomes.append("returned")
        except Exception as error:  # the error is the outcome
            outcomes.append((type(error).__name__, str(error).split("\n")[0]))
    return outcomes


@pytest.mark.parametrize("case", [lifecycle, errors])
def test_future_behaves_as_torchs(case):
    assert case(Future) == case(torch.futures.Future)


def test_collect_all_and_wait_all_as_torchs():
    results = []
    for future_class, library in ((torch.futures.Future, torch.futures),
                                  (Future, None)):
        futures = [future_class() for _ in range(2)]
        together = (library.collect_all if library else collect_all)(futures)
        first = together.done()
        for i, future in enumerate(futures):
            future.set_result(i * 10)
        waited = (library.wait_all if library else wait_all)(futures)
        results.append((first, together.done(), [f.value() for f in together.wait()], waited))
    assert results[0] == results[1]


def test_future_annotations_compare_equal():
    """DDP checks a hook's return annotation against Future[Tensor], as torch's DDP does."""
    assert Future[ember.Tensor] == Future[ember.Tensor]
