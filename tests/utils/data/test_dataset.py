"""Datasets and samplers: contents, lengths and errors as PyTorch's; randomness reproducible."""

import numpy as np
import pytest
import torch

import ember
from ember.utils import data


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(data.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_tensor_dataset():
    x = ember.tensor(np.arange(12.0).reshape(6, 2))
    y = ember.tensor(np.arange(6))
    ds = data.TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch"):
        data.TensorDataset(x, ember.zeros(5))


def test_concat_chain_subset_stack():
    concat = Squares(3) + Squares(2)
    assert isinstance(concat, data.ConcatDataset)
    assert [concat[i] for i in range(len(concat))] == [0, 1, 4, 0, 1]
    assert concat[-1] == 1 and concat.cumulative_sizes == [3, 5]
    with pytest.raises(ValueError, match="absolute value of index"):
        concat[-6]
    chain = Count(0, 3) + Count(10, 12)
    assert isinstance(chain, data.ChainDataset)
    assert list(chain) == [0, 1, 2, 10, 11] and len(chain) == 5
    subset = data.Subset(Squares(10), [9, 2, 5])
    assert [subset[i] for i in range(3)] == [81, 4, 25] and len(subset) == 3
    stack = data.StackDataset(a=Squares(3), b=Squares(3))
    assert stack[2] == {"a": 4, "b": 4}
    assert data.StackDataset(Squares(2), Squares(2))[1] == (1, 1)


def test_random_split_lengths_fractions_and_generator():
    ds = Squares(10)
    parts = data.random_split(ds, [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = data.random_split(ds, [3, 7], generator=ember.Generator().manual_seed(1))
    assert again[0].indices == parts[0].indices
    # Fractions: PyTorch spreads the remainder round-robin from the first split.
    expected = [len(p) for p in torch.utils.data.random_split(range(11), [0.3, 0.3, 0.4])]
    assert [len(p) for p in data.random_split(Squares(11), [0.3, 0.3, 0.4])] == expected
    with pytest.raises(ValueError, match="Sum of input lengths"):
        data.random_split(ds, [3, 3])


def test_sequential_and_batch_sampler_match_torch():
    for batch_size, drop_last in [(3, False), (3, True), (5, False), (20, True)]:
        expected = list(torch.utils.data.BatchSampler(range(10), batch_size, drop_last))
        sampler = data.BatchSampler(data.SequentialSampler(range(10)), batch_size, drop_last)
        assert list(sampler) == expected
        assert len(sampler) == len(expected)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        data.BatchSampler(range(3), 0, False)


def test_random_sampler_permutation_and_replacement():
    ember.manual_seed(3)
    first = list(data.RandomSampler(range(50)))
    assert sorted(first) == list(range(50)) and first != list(range(50))
    ember.manual_seed(3)
    assert list(data.RandomSampler(range(50))) == first
    many = list(data.RandomSampler(range(4), num_samples=10))
    assert len(many) == 10 and sorted(many[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    drawn = list(data.RandomSampler(range(3), replacement=True, num_samples=200))
    assert len(drawn) == 200 and set(drawn) == {0, 1, 2}
    g = ember.Generator().manual_seed(5)
    a = list(data.RandomSampler(range(20), generator=g))
    b = list(data.RandomSampler(range(20), generator=g))
    assert a != b  # a shared generator moves on
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        data.RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        data.RandomSampler(range(3), num_samples=0)


def test_subset_and_weighted_samplers():
    ember.manual_seed(0)
    order = list(data.SubsetRandomSampler([10, 20, 30, 40]))
    assert sorted(order) == [10, 20, 30, 40]
    weighted = list(data.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400))
    assert set(weighted) == {1, 3} and 0.6 < weighted.count(3) / 400 < 0.9
    unique = list(data.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(unique) == [0, 1, 2]
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        data.WeightedRandomSampler([1.0], 0)


def test_random_sampler_with_replacement_draws_lazily():
    """torch draws replacement samples 32 at a time; a huge num_samples must not allocate."""
    import itertools
    import tracemalloc

    sampler = data.RandomSampler(range(10), replacement=True, num_samples=10**10)
    tracemalloc.start()
    try:
        first = list(itertools.islice(iter(sampler), 100))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(sampler) == 10**10 and len(first) == 100 and set(first) <= set(range(10))
    assert peak < 1 << 20


def _stack_batches(lib):
    """A DataLoader over StackDataset(random samples, a dataset with __getitems__), seeded."""
    class Noisy(lib.utils.data.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return lib.rand(1) + i

    class Batched(Noisy):
        def __getitems__(self, indices):
            return [100 + i for i in indices]

    lib.manual_seed(0)
    stacks = [lib.utils.data.StackDataset(Noisy(), Noisy(), Batched()),
              lib.utils.data.StackDataset(a=Noisy(), b=Batched())]
    return [[b.tolist() if hasattr(b, "tolist") else {k: v.tolist() for k, v in b.items()}
             for b in (x if isinstance(x, list) else x.values())]
            for stack in stacks for x in lib.utils.data.DataLoader(stack, batch_size=4)]


def test_stack_dataset_fetches_a_batch_dataset_by_dataset():
    """A DataLoader fetches a StackDataset's batch with __getitems__, dataset by dataset (the
    random draws in PyTorch's order), using a dataset's own __getitems__."""
    assert _stack_batches(ember) == _stack_batches(torch)
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        data.StackDataset()


def test_datasets_samplers_and_loader_are_generic_as_torch():
    """`class MyData(Dataset[tuple[Tensor, int]])` works; Sampler[int], DataLoader[int] too;
    the concrete samplers and TensorDataset are not generic (TypeError), as in torch."""
    names = ["Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
             "ChainDataset", "Subset", "Sampler", "SequentialSampler", "RandomSampler",
             "BatchSampler", "DataLoader"]
    for name in names:
        outcomes = []
        for lib in (ember, torch):
            try:
                getattr(lib.utils.data, name)[int]
                outcomes.append("ok")
            except TypeError:
                outcomes.append("TypeError")
        assert outcomes[0] == outcomes[1], name

    class Pairs(ember.utils.data.Dataset[tuple[ember.Tensor, int]]):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return ember.ones(2) * i, i

    batch = next(iter(ember.utils.data.DataLoader(Pairs(), batch_size=2)))
    assert batch[0].tolist() == [[0.0, 0.0], [1.0, 1.0]] and batch[1].tolist() == [0, 1]


def test_iterable_dataset_without_iter_cannot_be_made():
    """IterableDataset's __iter__ is abstract: instantiating it (or a subclass without one)
    is torch's TypeError."""
    for lib in (ember, torch):
        class NoIter(lib.utils.data.IterableDataset):
            pass

        for cls in (lib.utils.data.IterableDataset, NoIter):
            with pytest.raises(TypeError, match="Can't instantiate abstract class"):
                cls()
