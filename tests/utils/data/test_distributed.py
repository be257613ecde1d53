"""DistributedSampler: the indices of every rank equal torch's, for every padding case."""

import pytest
import torch
import torch.utils.data.distributed as torch_distributed

import ember
import ember.utils.data as data
from ember.utils.data.distributed import DistributedSampler

CASES = [(n, replicas, drop_last) for n in (1, 2, 5, 7, 10, 12, 13)
         for replicas in (1, 2, 3, 4, 8) for drop_last in (False, True)]


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_indices_equal_torchs_without_shuffle(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch_distributed.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                                      drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == ours.num_samples == theirs.num_samples
        assert ours.total_size == theirs.total_size


SHUFFLED = [(n, replicas, drop_last, seed) for n in (1, 2, 5, 7, 12, 13, 40)
            for replicas in (1, 2, 3, 5) for drop_last in (False, True) for seed in (0, 7)]


@pytest.mark.parametrize("n, replicas, drop_last, seed", SHUFFLED)
def test_shuffled_indices_equal_torchs_every_epoch(n, replicas, drop_last, seed):
    """shuffle=True: torch's randperm seeded seed + epoch, then its padding and striding."""
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, seed=seed, drop_last=drop_last)
        theirs = torch_distributed.DistributedSampler(range(n), replicas, rank, seed=seed,
                                                      drop_last=drop_last)
        for epoch in (0, 1, 5):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs), (rank, epoch)
        assert list(ours) == list(theirs)  # iterating again gives the same epoch's order


def test_shuffle_does_not_touch_the_global_generator():
    """The sampler seeds its own generator: the default one is left as it was, as in torch."""
    for lib, sampler_class in ((ember, DistributedSampler),
                               (torch, torch_distributed.DistributedSampler)):
        lib.manual_seed(3)
        list(sampler_class(range(9), 2, 1))
    assert ember.rand(4).tolist() == pytest.approx(torch.rand(4).tolist(), abs=0)


@pytest.mark.parametrize("rank", [-1, 3])
def test_invalid_rank_raises_like_torch(rank):
    with pytest.raises(ValueError) as ours:
        DistributedSampler(range(4), 3, rank)
    with pytest.raises(ValueError) as theirs:
        torch_distributed.DistributedSampler(range(4), 3, rank)
    assert str(ours.value) == str(theirs.value)


def test_defaults_need_a_process_group_like_torch():
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
    assert data.DistributedSampler is DistributedSampler
    assert torch.utils.data.DistributedSampler is torch_distributed.DistributedSampler
