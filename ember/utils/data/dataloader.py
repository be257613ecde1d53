"""DataLoader: batches from a dataset, in the main process or in worker processes.

Matches `torch.utils.data.DataLoader`. A loader combines a dataset, a sampler of indices (or
an iterable dataset's stream), batching (`batch_size`/`batch_sampler`) and a `collate_fn`.
With `num_workers=0` batches are made in the calling process; with `num_workers > 0` worker
processes (forked on Linux) make them ahead of time, `prefetch_factor` batches per worker, and
the main process hands them out in sampler order.
"""

import itertools
import multiprocessing
import os
import sys
import time
from typing import Generic

from ember._warnings import warn as _warn
from multiprocessing.connection import Connection, wait

from ember import _dtype
from ember.ops.creation import empty
from ember.utils.data import _worker
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data.dataset import IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler, _T_co


class _InfiniteConstantSampler:
    """The 'sampler' of an iterable dataset: None forever (the dataset decides what comes)."""

    def __iter__(self):
        while True:
            yield None


_SHUTDOWN_GRACE_SECONDS = 1.0  # how long idle workers get to exit before being terminated
_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader(Generic[_T_co]):
    """Iterate over a dataset in batches (matches `torch.utils.data.DataLoader`)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        is_iterable = isinstance(dataset, IterableDataset)
        if is_iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if is_iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._is_iterable = is_iterable
        self._iterator = None
        self.__initialized = True
        self.check_worker_number_rationality()

    def __setattr__(self, name, value):
        if getattr(self, "_DataLoader__initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _context(self):
        context = self.multiprocessing_context
        if context is None:
            return multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        if isinstance(context, str):
            return multiprocessing.get_context(context)
        return context

    def __iter__(self):
        if self.num_workers == 0:
            self._warn_pin_memory()
            return _SingleProcessDataLoaderIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self.check_worker_number_rationality()
                self._warn_pin_memory()
                self._iterator = _MultiProcessingDataLoaderIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        self.check_worker_number_rationality()
        self._warn_pin_memory()
        return _MultiProcessingDataLoaderIter(self)

    def check_worker_number_rationality(self) -> None:
        """Warn when num_workers exceeds the CPUs this process may use (torch's check, made
        at construction and whenever worker processes are started)."""
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count())
        if not self.num_workers or (cpus is not None and self.num_workers <= cpus):
            return
        if cpus is None:
            suggestion = ("DataLoader is not able to compute a suggested max number of worker "
                          "in current system.")
        else:
            cpuset = "" if hasattr(os, "sched_getaffinity") else (
                " (`cpuset` is not taken into account)")
            suggestion = (f"Our suggested max number of worker in current system is {cpus}"
                          f"{cpuset}, which is smaller than what this DataLoader is going to "
                          "create.")
        _warn(f"This DataLoader will create {self.num_workers} worker processes in total. "
              f"{suggestion} Please be aware that excessive worker creation might get "
              "DataLoader running slow or even freeze, lower the worker number to avoid "
              "potential slowness/freeze if necessary.", stacklevel=2)

    def _warn_pin_memory(self):
        """torch's warnings when an iterator starts: pinned memory needs an accelerator. They
        name a line of the library, as torch's do (its iterator's base class warns with
        stacklevel=2, which is its subclass's `super().__init__` call)."""
        if self.pin_memory and self.pin_memory_device:
            _warn("pin_memory_device is deprecated, the current accelerator will be "
                          f"used as the device,ignore pin_memory_device="
                          f"'{self.pin_memory_device}'.", stacklevel=2)
        if self.pin_memory:  # ember has no accelerator
            _warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)

    def __len__(self):
        if self._is_iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return (length + self.batch_size - 1) // self.batch_size
            return length
        return len(self._index_sampler)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._is_iterable = loader._is_iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._collate_fn = loader.collate_fn
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        # torch draws the workers' base seed when the iterator is made, before the sampler's
        # first draw (RandomSampler draws its own seed at its first index)
        self._base_seed = int(empty((), dtype=_dtype.int64).random_(
            generator=loader.generator).item())
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return data


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetch and collate each batch in the calling process."""

    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _worker.make_fetcher(self._dataset, self._is_iterable,
                                             self._auto_collation, self._collate_fn,
                                             self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Hand out batches made by worker processes, in sampler order (see NOTE [Worker
    protocol] in _worker.py).

    Tasks are numbered as they are sent; `_task_worker[i]` says which worker has task i,
    `_reordered` holds batches that arrived before their turn.
    """

    def __init__(self, loader):
        super().__init__(loader)
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._in_order = loader.in_order
        context = loader._context()
        self._conns, self._workers = [], []
        for worker_id in range(self._num_workers):
            parent_end, child_end = context.Pipe(duplex=True)
            inherited = list(self._conns) + [parent_end]
            worker = context.Process(
                target=_worker.worker_loop, daemon=True,
                args=(child_end, inherited, self._dataset, self._is_iterable,
                      self._auto_collation, self._collate_fn, self._drop_last, self._base_seed,
                      loader.worker_init_fn, worker_id, self._num_workers))
            worker.start()
            child_end.close()
            self._conns.append(parent_end)
            self._workers.append(worker)
        self._shutdown = False
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        if not first_iter:
            self._sampler_iter = iter(self._index_sampler)
            self._num_yielded = 0
            self._drain()
            for worker_id in range(self._num_workers):
                self._send(worker_id, _worker.RESUME)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_worker = {}
        self._reordered = {}
        self._active = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _drain(self):
        """Receive (and drop) the answers to tasks of an epoch that was not finished."""
        while any(i not in self._reordered and self._active[w]
                  for i, w in self._task_worker.items() if i >= self._rcvd_idx):
            task, data = self._receive()
            self._task_worker.pop(task, None)
            if isinstance(data, _worker._IterationEnd):
                self._active[data.worker_id] = False

    def _try_put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._active[worker_id] and (self._in_order or self._has_room(worker_id)):
                break
        else:
            return  # every worker's iterable is exhausted
        self._send(worker_id, (self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._send_idx += 1

    def _receive(self):
        """The next (task, batch) any worker sends; RuntimeError if a worker died or timed
        out, never a hang.

        A worker closes its pipe only by exiting, so end-of-file on a pipe, or an exited
        process with nothing left in its pipe, means the worker died.
        """
        handles = {conn: i for i, conn in enumerate(self._conns)}
        handles.update({w.sentinel: i for i, w in enumerate(self._workers)})
        ready = wait(list(handles), self._timeout or None)
        if not ready:
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        pipes = [h for h in ready if isinstance(h, Connection)]
        if pipes:
            try:
                return pipes[0].recv()
            except (EOFError, OSError):
                self._raise_worker_died(handles[pipes[0]])
        # Only process sentinels are ready: a worker exited; take what it left, if anything.
        worker_id = handles[ready[0]]
        if self._conns[worker_id].poll():
            try:
                return self._conns[worker_id].recv()
            except (EOFError, OSError):
                pass
        self._raise_worker_died(worker_id)

    def _send(self, worker_id, message):
        """Send to a worker; a broken pipe means it died."""
        try:
            self._conns[worker_id].send(message)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._raise_worker_died(worker_id)

    def _raise_worker_died(self, worker_id):
        worker = self._workers[worker_id]
        worker.join(timeout=1)
        code = worker.exitcode
        self._shutdown_workers()
        reason = f"exit code {code}"
        if code is not None and code < 0:
            import signal

            reason = f"killed by signal: {signal.Signals(-code).name}"
        raise RuntimeError(f"DataLoader worker (pid(s) {worker.pid}) exited unexpectedly "
                           f"({reason})")

    def _next_data(self):
        while True:
            # Skip the tasks of workers whose iterable ran out before answering them.
            while self._rcvd_idx < self._send_idx:
                worker_id = self._task_worker.get(self._rcvd_idx)
                if self._rcvd_idx in self._reordered or (worker_id is not None
                                                         and self._active[worker_id]):
                    break
                self._task_worker.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._reordered:
                data = self._reordered.pop(self._rcvd_idx)
                self._task_worker.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
                return self._process(data)
            task, data = self._receive()
            if isinstance(data, _worker._IterationEnd):
                self._active[data.worker_id] = False
                self._task_worker.pop(task, None)
                self._try_put_index()
            elif task == self._rcvd_idx:
                self._task_worker.pop(task, None)
                self._rcvd_idx += 1
                return self._process(data)
            elif not self._in_order:  # in_order=False: hand out whatever arrives first
                self._task_worker.pop(task, None)
                return self._process(data)
            else:
                self._reordered[task] = data

    def _has_room(self, worker_id):
        """in_order=False gives a worker a task only while it holds fewer than its share of
        the prefetched tasks (torch's rule, so a slow worker does not hoard them)."""
        share = self._prefetch_factor * self._num_workers // sum(self._active)
        return sum(w == worker_id for w in self._task_worker.values()) < share

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self):
        """Tell the workers to stop, close the pipes (a worker blocked sending a batch nobody
        will read then gets a broken pipe and exits), and terminate any that linger."""
        if getattr(self, "_shutdown", True):
            return
        self._shutdown = True
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        deadline = time.monotonic() + _SHUTDOWN_GRACE_SECONDS
        for worker in self._workers:
            worker.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=1)

    def __del__(self):
        self._shutdown_workers()


__all__ = ["DataLoader"]
