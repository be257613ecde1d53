"""ember.multiprocessing: Python's multiprocessing with tensors sent through shared memory,
and `spawn` (matches `torch.multiprocessing`; see ember/multiprocessing/reductions.py)."""

import multiprocessing
from multiprocessing import *  # noqa: F403 - torch.multiprocessing re-exports all of it

from ember.multiprocessing.reductions import init_reductions
from ember.multiprocessing.spawn import (ProcessContext, ProcessException, ProcessExitedException,
                                         ProcessRaisedException, spawn, start_processes)

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException",
           "ProcessRaisedException", "get_all_sharing_strategies", "get_sharing_strategy",
           "init_reductions", "set_sharing_strategy", "spawn", "start_processes"]
__all__ += multiprocessing.__all__

_SHARING_STRATEGIES = {"file_descriptor", "file_system"}
_sharing_strategy = ["file_descriptor"]


def set_sharing_strategy(new_strategy) -> None:
    """Choose how tensors are shared; ember always passes file descriptors."""
    if new_strategy not in _SHARING_STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}")
    _sharing_strategy[0] = new_strategy


def get_sharing_strategy():
    return _sharing_strategy[0]


def get_all_sharing_strategies():
    return set(_SHARING_STRATEGIES)


init_reductions()
