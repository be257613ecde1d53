"""What runs inside a DataLoader worker process, and the small types it shares with the main
process: WorkerInfo, get_worker_info, ExceptionWrapper, and the fetchers.

NOTE [Worker protocol]
Each worker owns one duplex pipe to the main process. The main process sends
`(task_index, batch_indices)` (or RESUME to start a new epoch, or None to stop); the worker
answers `(task_index, batch)` where batch may be an ExceptionWrapper (the sample raised) or
an _IterationEnd (an iterable dataset ran out in this worker, which then stays silent until
RESUME). Per-worker pipes mean a killed worker cannot leave a shared queue's lock held, and
the main process can wait on the pipes and the process sentinels together, so a dead worker is
noticed at once instead of by polling.
"""

import os
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ember.random import manual_seed

RESUME = "resume"
_POLL_SECONDS = 1.0  # how often a waiting worker checks that its parent is still alive


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself (matches `torch.utils.data.get_worker_info()`)."""

    id: int
    num_workers: int
    seed: int
    dataset: object

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


_worker_info = None


def get_worker_info():
    """This worker's WorkerInfo inside a DataLoader worker, None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the exception again, its message holding the worker's original traceback."""
        message = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            exception = self.exc_type(message)
        except Exception:  # noqa: BLE001 (the type cannot take one message argument)
            raise RuntimeError(message) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError shows repr() of its argument; this keeps the traceback text readable."""

    def __repr__(self):
        return self


@dataclass(frozen=True)
class _IterationEnd:
    """Sent by a worker whose copy of an iterable dataset is exhausted."""

    worker_id: int


class _MapFetcher:
    """Fetch samples of a map-style dataset by index (a batch of indices when collating)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation = dataset, auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems is not None else [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    """Take the next sample(s) from an iterable dataset; StopIteration when it has no more."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn, self.drop_last = collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def make_fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last):
    kind = _IterableFetcher if is_iterable else _MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


def numpy_seed(base_seed: int, worker_id: int) -> list:
    """A worker's NumPy global seed, as torch's `_generate_state`: SeedSequence's hash of the
    entropy words [worker_id, base_seed's low and high 32 bits, 0], four uint32 words."""
    entropy = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(entropy).generate_state(4).tolist()


def worker_loop(conn, inherited, dataset, is_iterable, auto_collation, collate_fn, drop_last,
                base_seed, init_fn, worker_id, num_workers):
    """The body of a worker process: seed, run worker_init_fn, then answer tasks until told
    to stop or until the main process disappears."""
    global _worker_info
    for other in inherited:  # the main process's pipe ends copied into this process by fork
        other.close()
    parent = os.getppid()
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = make_fetcher(dataset, is_iterable, auto_collation, collate_fn, drop_last)
    except Exception:  # noqa: BLE001 (any error is carried to the main process)
        init_error = ExceptionWrapper(where=where)
    ended = False
    while True:
        try:
            if not conn.poll(_POLL_SECONDS):
                if os.getppid() != parent:
                    break  # the main process died: nobody will ever read our answers
                continue
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break
        if message is None:
            break
        if message == RESUME:
            ended = False
            if init_error is None:
                fetcher = make_fetcher(dataset, is_iterable, auto_collation, collate_fn,
                                       drop_last)
            continue
        if ended:
            continue  # this worker's iterable is exhausted; the main process skips its tasks
        task, index = message
        if init_error is not None:
            data, init_error = init_error, None
            ended = is_iterable
        else:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                data = _IterationEnd(worker_id)
                ended = True
            except Exception:  # noqa: BLE001 (any error is carried to the main process)
                data = ExceptionWrapper(where=where)
        try:
            conn.send((task, data))
        except (BrokenPipeError, EOFError, ConnectionResetError):
            break
        except Exception:  # noqa: BLE001 (the batch could not be pickled)
            conn.send((task, ExceptionWrapper(where=where)))
        del data
    conn.close()
