"""DistributedSampler: the indices of every rank equal torch's, for every padding case."""

import pytest
import torch
import torch.utils.data.distributed as torch_distributed

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


@pytest.mark.parametrize("n, replicas, drop_last", [(10, 3, False), (10, 3, True), (8, 2, False),
                                                    (2, 5, False)])
def test_shuffle_splits_one_permutation_per_epoch(n, replicas, drop_last):
    """The ranks' shuffled shares are disjoint slices of one seeded permutation, as in torch."""
    def shares(epoch, seed=0):
        samplers = [DistributedSampler(range(n), replicas, r, seed=seed, drop_last=drop_last)
                    for r in range(replicas)]
        for s in samplers:
            s.set_epoch(epoch)
        return [list(s) for s in samplers]

    first = shares(0)
    assert first == shares(0)
    merged = [i for share in first for i in share]
    unpadded = DistributedSampler(range(n), replicas, 0, drop_last=drop_last).total_size
    assert len(merged) == unpadded
    if drop_last or unpadded == n:
        assert len(set(merged)) == len(merged)
    else:
        assert set(merged) == set(range(n))
    assert shares(1) != first or n <= 2
    assert shares(0, seed=5) != first or n <= 2


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
