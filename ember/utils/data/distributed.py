"""DistributedSampler: each rank's share of a dataset (matches `torch.utils.data.distributed`).

The indices (shuffled with a generator seeded `seed + epoch`, the same on every rank) are padded
by repeating from the start until they divide evenly by the number of replicas (or, with
drop_last, cut to the largest multiple), then rank r takes every num_replicas-th from position
r. The ranks' shares are disjoint and together cover the dataset, as torch assigns them, and
the shuffle is torch's `randperm` from a generator seeded `seed + epoch`.
"""

import math

from ember import distributed as dist
from ember import random as _random
from ember.ops.creation import randperm
from ember.utils.data.sampler import Sampler, _T_co


class DistributedSampler(Sampler[_T_co]):
    """The indices of rank `rank` out of `num_replicas` (matches `DistributedSampler`)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if num_replicas is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _all_indices(self) -> list:
        """Every rank's indices before striding: shuffled, then padded or cut to total_size."""
        n = len(self.dataset)
        if self.shuffle:
            generator = _random.Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            return indices[:self.total_size]
        padding = self.total_size - n
        if padding <= n:
            return indices + indices[:padding]
        return indices + (indices * math.ceil(padding / n))[:padding]

    def __iter__(self):
        return iter(self._all_indices()[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next shuffle that of `epoch` (call it before each epoch's iteration)."""
        self.epoch = epoch
