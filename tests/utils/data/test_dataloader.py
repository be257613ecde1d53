"""DataLoader: order, batching, collation, worker processes (including a failing and a killed
worker), persistent workers and reproducibility."""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.utils import data


class Squares(data.Dataset):
    def __init__(self, n, fail_at=None, kill_at=None):
        self.n, self.fail_at, self.kill_at = n, fail_at, kill_at

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad sample {i}")
        if i == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return {"index": i, "square": np.array([i * i], dtype=np.float32)}

    def __len__(self):
        return self.n


def _sharded(lib):
    class Sharded(lib.utils.data.IterableDataset):
        """Each worker yields its own share of range(n), found with get_worker_info()."""

        def __init__(self, n):
            self.n = n

        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.n))
            return iter(range(info.id, self.n, info.num_workers))

        def __len__(self):
            return self.n

    return Sharded


Sharded = _sharded(ember)


def _indices(loader):
    return [batch["index"].tolist() for batch in loader]


@pytest.mark.parametrize("num_workers", [0, 2])
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True)])
def test_order_and_batching_match_torch(num_workers, batch_size, drop_last):
    expected = [b["index"].tolist() for b in torch.utils.data.DataLoader(
        Squares(10), batch_size=batch_size, drop_last=drop_last)]
    loader = data.DataLoader(Squares(10), batch_size=batch_size, drop_last=drop_last,
                             num_workers=num_workers)
    assert _indices(loader) == expected
    assert len(loader) == len(expected)


def test_batches_are_collated_tensors():
    batch = next(iter(data.DataLoader(Squares(6), batch_size=3, num_workers=2)))
    assert batch["index"].dtype == ember.int64
    assert batch["square"].dtype == ember.float32 and batch["square"].shape == (3, 1)
    assert batch["square"][:, 0].tolist() == [0.0, 1.0, 4.0]


def test_tensor_dataset_through_workers():
    x = ember.tensor(np.arange(20, dtype=np.float32).reshape(10, 2))
    y = ember.tensor(np.arange(10))
    batches = list(data.DataLoader(data.TensorDataset(x, y), batch_size=4, num_workers=2))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[2][0].tolist() == [[16.0, 17.0], [18.0, 19.0]]


def test_no_auto_batching_and_custom_collate_and_batch_sampler():
    loader = data.DataLoader(Squares(3), batch_size=None)
    assert [item["index"] for item in loader] == [0, 1, 2]
    assert isinstance(next(iter(loader))["square"], ember.Tensor)  # default_convert
    loader = data.DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s["index"] for s in b],
                             num_workers=2)
    assert list(loader) == [[0, 1], [2, 3], [4]]
    loader = data.DataLoader(Squares(6), batch_sampler=[[5, 0], [3], [1, 2, 4]], num_workers=2)
    assert _indices(loader) == [[5, 0], [3], [1, 2, 4]]
    loader = data.DataLoader(Squares(6), sampler=[4, 3, 2, 1, 0], batch_size=2, drop_last=True)
    assert _indices(loader) == [[4, 3], [2, 1]] and len(loader) == 2


def test_shuffle_is_reproducible_under_manual_seed():
    def epoch(num_workers):
        ember.manual_seed(1234)
        return _indices(data.DataLoader(Squares(30), batch_size=5, shuffle=True,
                                        num_workers=num_workers))

    first = epoch(0)
    assert first == epoch(0) == epoch(2)
    flat = [i for batch in first for i in batch]
    assert sorted(flat) == list(range(30)) and flat != list(range(30))
    g = ember.Generator().manual_seed(7)
    a = _indices(data.DataLoader(Squares(30), batch_size=5, shuffle=True, generator=g))
    g.manual_seed(7)
    assert _indices(data.DataLoader(Squares(30), batch_size=5, shuffle=True, generator=g)) == a


def test_iterable_dataset_with_workers_is_sharded_and_complete():
    loader = data.DataLoader(Sharded(11), batch_size=2, num_workers=2)
    got = [b.tolist() for b in loader]
    # torch gives the same batches in the same (round-robin over workers) order
    expected = [b.tolist() for b in torch.utils.data.DataLoader(_sharded(torch)(11),
                                                                  batch_size=2, num_workers=2)]
    assert got == expected
    assert [b.tolist() for b in data.DataLoader(Sharded(5), batch_size=2)] == [[0, 1], [2, 3],
                                                                                [4]]


def _worker_seed(_):
    info = data.get_worker_info()
    return info.seed


class WorkerReport(data.Dataset):
    def __getitem__(self, i):
        info = data.get_worker_info()
        return np.array([info.id, info.num_workers, os.getpid(),
                         int(os.environ.get("EMBER_INIT", "-1"))])

    def __len__(self):
        return 4


def _init(worker_id):
    os.environ["EMBER_INIT"] = str(worker_id * 10)


def test_worker_info_and_init_fn():
    rows = [b.tolist()[0] for b in data.DataLoader(WorkerReport(), num_workers=2,
                                                     worker_init_fn=_init)]
    assert [r[0] for r in rows] == [0, 1, 0, 1] and {r[1] for r in rows} == {2}
    assert [r[3] for r in rows] == [0, 10, 0, 10]
    assert os.getpid() not in {r[2] for r in rows}
    assert data.get_worker_info() is None


def test_failing_worker_reraises_with_worker_traceback():
    loader = data.DataLoader(Squares(8, fail_at=5), batch_size=2, num_workers=2)
    iterator = iter(loader)
    assert next(iterator)["index"].tolist() == [0, 1]
    assert next(iterator)["index"].tolist() == [2, 3]
    with pytest.raises(ValueError) as error:
        next(iterator)
    message = str(error.value)
    assert "Caught ValueError in DataLoader worker process 0" in message
    assert "bad sample 5" in message and "Traceback" in message and "__getitem__" in message


def test_stopping_early_shuts_workers_down():
    x = ember.tensor(np.zeros((512, 64, 64), np.float32))
    iterator = iter(data.DataLoader(data.TensorDataset(x), batch_size=128, num_workers=2))
    assert next(iterator)[0].shape == (128, 64, 64)
    workers = list(iterator._workers)
    iterator._shutdown_workers()  # what dropping the iterator does
    assert all(not w.is_alive() for w in workers)
    assert all(w.exitcode == 0 for w in workers)  # they exited, no need to terminate them


def test_failing_sample_in_main_process_raises_directly():
    with pytest.raises(ValueError, match="bad sample 1"):
        list(data.DataLoader(Squares(3, fail_at=1)))


def test_killed_worker_raises_runtime_error_not_hang():
    loader = data.DataLoader(Squares(8, kill_at=3), batch_size=1, num_workers=2, timeout=30)
    with pytest.raises(RuntimeError, match="DataLoader worker .* exited unexpectedly"):
        list(loader)


class Blocking(data.Dataset):
    """Records the worker's pid, then blocks (until the test kills the worker)."""

    def __init__(self, pid_file):
        self.pid_file = pid_file

    def __getitem__(self, i):
        self.pid_file.write_text(str(os.getpid()))
        time.sleep(60)
        return i

    def __len__(self):
        return 2


def test_worker_killed_from_outside_while_main_waits(tmp_path):
    pid_file = tmp_path / "pid"

    def kill_worker():
        for _ in range(1000):
            if pid_file.exists() and pid_file.read_text():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_worker)
    killer.start()
    with pytest.raises(RuntimeError, match="exited unexpectedly .*SIGKILL"):
        list(data.DataLoader(Blocking(pid_file), num_workers=1))
    killer.join()


def test_timeout():
    class Slow(data.Dataset):
        def __getitem__(self, i):
            import time

            time.sleep(5)
            return i

        def __len__(self):
            return 2

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(data.DataLoader(Slow(), num_workers=1, timeout=0.2))


def test_persistent_workers_keep_processes_across_epochs():
    loader = data.DataLoader(WorkerReport(), num_workers=2, persistent_workers=True)
    first = [b.tolist()[0][2] for b in loader]
    second = [b.tolist()[0][2] for b in loader]
    assert first == second  # the same worker pids serve both epochs
    partial = iter(loader)
    next(partial)  # an unfinished epoch is drained when the next one starts
    assert [b.tolist()[0][0] for b in loader] == [0, 1, 0, 1]
    loader._iterator._shutdown_workers()
    sharded = data.DataLoader(Sharded(6), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(i for b in sharded for i in b.tolist()) == list(range(6))
    sharded._iterator._shutdown_workers()


@pytest.mark.parametrize("kwargs,message", [
    ({"num_workers": -1}, "num_workers option should be non-negative"),
    ({"timeout": -1}, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, "prefetch_factor option could only be specified"),
    ({"persistent_workers": True}, "persistent_workers option needs num_workers > 0"),
    ({"shuffle": True, "sampler": [0, 1]}, "sampler option is mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "batch_size=None option disables auto-batching"),
])
def test_argument_errors_match_torch(kwargs, message):
    with pytest.raises(ValueError, match=message):
        torch.utils.data.DataLoader(Squares(3), **kwargs)
    with pytest.raises(ValueError, match=message):
        data.DataLoader(Squares(3), **kwargs)


def test_iterable_dataset_rejects_shuffle_and_frozen_attributes():
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        data.DataLoader(Sharded(3), shuffle=True)
    loader = data.DataLoader(Squares(3), pin_memory=True)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3


@pytest.mark.parametrize("kwargs", [{"pin_memory": True}, {"pin_memory": False},
                                    {"pin_memory": True, "pin_memory_device": "cpu"}])
def test_pin_memory_warns_like_a_cpu_only_torch(kwargs):
    import warnings

    seen = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = [b.tolist() for b in lib.utils.data.DataLoader(list(range(4)),
                                                                      batch_size=2, **kwargs)]
        # (torch's warnings name its own dataloader.py, not the program's line)
        seen.append((batches, [(w.category, str(w.message), w.filename == __file__)
                               for w in caught]))
    assert seen[0] == seen[1]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterator_classes_have_torchs_names(num_workers):
    """iter(loader) is a _SingleProcessDataLoaderIter / _MultiProcessingDataLoaderIter, names
    torch.utils.data.dataloader exports and programs check for."""
    names = []
    for lib in (ember, torch):
        it = iter(lib.utils.data.DataLoader(list(range(6)), batch_size=2, num_workers=num_workers))
        names.append((type(it).__name__, [c.__name__ for c in type(it).__mro__[1:-1]], len(it)))
        assert isinstance(it, lib.utils.data.dataloader._BaseDataLoaderIter)
        del it
    assert names[0] == names[1]


def _worker_warnings(lib, workers):
    """The warnings a DataLoader with `workers` processes gives at construction."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.arange(4.0)),
                                  num_workers=workers)
    return [(w.category, str(w.message)) for w in caught]


def test_more_workers_than_cpus_warns_as_torch():
    """num_workers above the CPUs this process may use: torch's warning (none up to them)."""
    cpus = len(os.sched_getaffinity(0))
    assert _worker_warnings(ember, cpus + 1) == _worker_warnings(torch, cpus + 1) != []
    assert _worker_warnings(ember, cpus) == _worker_warnings(torch, cpus) == []
