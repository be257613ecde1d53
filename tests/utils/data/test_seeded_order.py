"""Samplers, random_split, DistributedSampler and DataLoader make torch's random calls in
torch's order: after the same `manual_seed`, ember visits PyTorch's indices exactly, and the
default generator ends in the same state (a float64 `exponential_` probe checks it).

These rely on `randperm`, `randint` and int64 `random_()` being torch's (ember/ops/creation.py).
"""

import random
import time

import numpy as np
import pytest
import torch

import ember

SEEDS = (0, 42, 2026)
WEIGHTS = [0.5, 0.0, 2.0, 1.0, 0.25, 3.0, 0.0, 1.5, 1.0, 0.1]


def _probe(lib):
    return lib.empty(4, dtype=lib.float64).exponential_().tolist()


def _dataset(lib, n=23):
    return lib.utils.data.TensorDataset(lib.arange(n))


def _batches(loader):
    return [batch[0].tolist() for batch in loader]


# name -> fn(lib) returning plain Python lists
CALLS = {
    "dataloader_shuffle_two_epochs": lambda m: [
        _batches(loader) for loader in [m.utils.data.DataLoader(_dataset(m), 4, shuffle=True)]
        for _ in range(2)],
    "dataloader_shuffle_generator": lambda m: _batches(m.utils.data.DataLoader(
        _dataset(m), 5, shuffle=True, generator=m.Generator().manual_seed(9))),
    "random_sampler": lambda m: list(m.utils.data.RandomSampler(range(17))),
    "random_sampler_more_samples": lambda m: list(m.utils.data.RandomSampler(
        range(7), num_samples=19)),
    "random_sampler_replacement": lambda m: list(m.utils.data.RandomSampler(
        range(13), replacement=True, num_samples=70)),
    "random_sampler_replacement_32": lambda m: list(m.utils.data.RandomSampler(
        range(5), replacement=True, num_samples=64)),
    "random_sampler_generator": lambda m: list(m.utils.data.RandomSampler(
        range(11), generator=m.Generator().manual_seed(3))),
    "subset_random_sampler": lambda m: list(m.utils.data.SubsetRandomSampler(
        [3, 9, 12, 40, 41, 7])),
    "weighted_replacement": lambda m: list(m.utils.data.WeightedRandomSampler(WEIGHTS, 30)),
    "weighted_no_replacement": lambda m: list(m.utils.data.WeightedRandomSampler(
        WEIGHTS, 6, replacement=False)),
    "batch_sampler": lambda m: list(m.utils.data.BatchSampler(
        m.utils.data.RandomSampler(range(10)), 3, False)),
    "random_split_default": lambda m: [list(s.indices) for s in m.utils.data.random_split(
        range(20), [5, 7, 8])],
    "random_split_fractions": lambda m: [list(s.indices) for s in m.utils.data.random_split(
        range(10), [0.3, 0.7], generator=m.Generator().manual_seed(1))],
    "distributed_sampler": lambda m: [
        list(s) for s in _epochs(m.utils.data.distributed.DistributedSampler(
            range(11), num_replicas=3, rank=1, shuffle=True, seed=5))],
    "distributed_sampler_drop_last": lambda m: [
        list(s) for s in _epochs(m.utils.data.distributed.DistributedSampler(
            range(11), num_replicas=2, rank=0, seed=0, drop_last=True))],
}


def _epochs(sampler):
    for epoch in (0, 1):
        sampler.set_epoch(epoch)
        yield sampler


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_order_as_torch(name, seed):
    """The same indices in the same order, and the default generator in the same state."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        results.append((CALLS[name](lib), _probe(lib)))
    assert results[0] == results[1]


class _SeedReport:
    """Each item reports the seeds its worker sees (torch's, the info's, NumPy's, random's)."""

    def __init__(self, lib):
        self.lib = lib

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = self.lib.utils.data.get_worker_info()
        return [i, info.id, info.seed, self.lib.initial_seed(), int(np.random.randint(2 ** 31)),
                random.randint(0, 2 ** 31), self.lib.empty(2, dtype=self.lib.float64)
                .exponential_().tolist()]


def test_worker_seeds_match_torch():
    """Workers are seeded base_seed + worker_id (base_seed drawn from the main process's
    generator as torch draws it), so torch.initial_seed(), NumPy's and random's first draws and
    the worker's stream are torch's."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(7)
        loader = lib.utils.data.DataLoader(_SeedReport(lib), batch_size=None, num_workers=2)
        results.append(([item for item in loader], _probe(lib)))
    assert results[0] == results[1]


class _SlowFirst:
    """Item 0 takes a while, so with workers and in_order=False later batches overtake it."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 0:
            time.sleep(0.5)
        return i


def test_in_order_false_lets_later_batches_overtake():
    """in_order=False hands out batches as they arrive (all of them, once); without workers
    the order is the sampler's."""
    loader = ember.utils.data.DataLoader(_SlowFirst(), batch_size=None, num_workers=2,
                                         in_order=False)
    order = list(loader)
    assert sorted(order) == list(range(8)) and order[0] != 0
    single = ember.utils.data.DataLoader(_SlowFirst(), batch_size=None, in_order=False)
    assert list(single) == list(range(8))
