"""Datasets: map-style (`__getitem__` + `__len__`) and iterable-style (`__iter__`), and the
ways to combine and split them (matches `torch.utils.data.dataset`)."""

import bisect
import itertools
import math
from typing import Generic, Iterable, TypeVar  # (typing's Iterable: torch's MRO)

from ember._warnings import warn as _warn
from ember._tensor import Tensor
from ember.ops.creation import randperm

# (generic as torch's, so that `class MyData(Dataset[tuple[Tensor, int]])` works)
_T_co = TypeVar("_T_co", covariant=True)
_T_stack = TypeVar("_T_stack", tuple[_T_co, ...], dict[str, _T_co])


class Dataset(Generic[_T_co]):
    """A map-style dataset: `dataset[i]` for i in range(len(dataset)) (matches `Dataset`)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co], Iterable[_T_co]):
    """A dataset that is a stream of samples (matches `torch.utils.data.IterableDataset`).

    With worker processes each worker iterates its own copy; use `get_worker_info()` inside
    `__iter__` to give each worker its share. `__iter__` is abstract (Iterable's): a subclass
    without one cannot be instantiated, as in torch.
    """

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Samples are the i-th rows of each tensor (matches `torch.utils.data.TensorDataset`)."""

    def __init__(self, *tensors):
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class StackDataset(Dataset[_T_stack]):
    """Samples are tuples or dicts of the i-th samples of several datasets (`StackDataset`)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = list(args) or list(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        self._length = len(datasets[0])
        if any(self._length != len(d) for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args or kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """A batch of samples, fetched dataset by dataset (as PyTorch's: a DataLoader draws a
        whole batch from the first dataset, then the next), by `__getitems__` where one has it."""
        keys = list(self.datasets) if isinstance(self.datasets, dict) else None
        columns = [_fetch_batch(d, indices) for d in
                   (self.datasets.values() if keys is not None else self.datasets)]
        if keys is not None:
            return [dict(zip(keys, sample)) for sample in zip(*columns)]
        return [tuple(sample) for sample in zip(*columns)]

    def __len__(self):
        return self._length


def _fetch_batch(dataset, indices) -> list:
    """dataset's samples at indices: its `__getitems__` (checked for size) or one by one."""
    if not callable(getattr(dataset, "__getitems__", None)):
        return [dataset[i] for i in indices]
    items = dataset.__getitems__(indices)
    if len(items) != len(indices):
        raise ValueError("Nested dataset's output size mismatch."
                         f" Expected {len(indices)}, got {len(items)}")
    return items


class ConcatDataset(Dataset[_T_co]):
    """The datasets one after the other (matches `torch.utils.data.ConcatDataset`)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError(  # noqa: TRY004 (PyTorch's exception type)
                    "ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index = len(self) + index
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after the other (matches `ChainDataset`)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError(  # noqa: TRY004 (PyTorch's exception type)
                    "ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset[_T_co]):
    """The samples of `dataset` at `indices` (matches `torch.utils.data.Subset`)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def _fraction_lengths(lengths, total):
    """Turn fractions summing to 1 into counts, spreading the remainder round-robin."""
    counts = [math.floor(total * frac) for frac in lengths]
    for i in range(total - sum(counts)):
        counts[i % len(counts)] += 1
    for i, count in enumerate(counts):
        if count == 0:
            _warn(f"Length of split at index {i} is 0. This might result in an empty "
                          "dataset.", stacklevel=3)
    return counts


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping random subsets of the given lengths or fractions.

    Matches `torch.utils.data.random_split`: one `randperm` of the whole length.
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fraction_lengths(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = randperm(sum(lengths), generator=generator).tolist()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, indices[end - length:end]) for end, length in zip(ends, lengths)]


__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]
