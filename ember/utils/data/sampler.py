"""Samplers: the order in which a map-style dataset's indices are visited, and batching of
those indices (matches `torch.utils.data.sampler`).

Random samplers make torch's calls in torch's order (RandomSampler seeds a fresh generator
from one int64 `random_()` of the default generator at each `iter()`, then `randperm` /
`randint` in chunks of 32), so after the same `manual_seed` they visit PyTorch's order.
"""

import numbers
from typing import Generic, TypeVar

import numpy as np

from ember import _dtype
from ember import random as _random
from ember._tensor import Tensor
from ember.ops.creation import empty, randint, randperm
from ember.ops.sampling import multinomial

_T_co = TypeVar("_T_co", covariant=True)  # (generic as torch's: `Sampler[int]`)


class Sampler(Generic[_T_co]):
    """Base class: an iterable of indices (matches `torch.utils.data.Sampler`)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """0, 1, ..., len(data_source) - 1 (matches `SequentialSampler`)."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _fresh_generator(generator):
    """The generator to draw one epoch from: the given one, else a new one seeded (as torch
    does) with `empty((), dtype=int64).random_()` drawn from the default generator."""
    if generator is not None:
        return generator
    seed = int(empty((), dtype=_dtype.int64).random_().item())
    return _random.Generator().manual_seed(seed)


class RandomSampler(Sampler[int]):
    """A random permutation, or num_samples draws with replacement (matches `RandomSampler`)."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = _fresh_generator(self.generator)
        if self.replacement:  # in chunks of 32, as torch draws them: num_samples may be huge
            for _ in range(self.num_samples // 32):
                yield from randint(high=n, size=(32,), generator=generator).tolist()
            yield from randint(high=n, size=(self.num_samples % 32,),
                               generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from randperm(n, generator=generator).tolist()
        yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given indices in random order (matches `SubsetRandomSampler`)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Indices drawn with probability proportional to weights (matches
    `WeightedRandomSampler`: `multinomial` of the float64 weights)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if (not isinstance(num_samples, numbers.Integral) or isinstance(num_samples, bool)
                or num_samples <= 0):
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(  # noqa: TRY004 (PyTorch's exception type)
                f"replacement should be a boolean value, but got replacement={replacement}")
        array = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
        array = array.astype(np.float64)
        if array.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given weights have shape "
                             f"{tuple(array.shape)}")
        self.weights = Tensor._make(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        draws = multinomial(self.weights, self.num_samples, self.replacement,
                            generator=self.generator)
        yield from draws.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Group another sampler's indices into lists of batch_size (matches `BatchSampler`)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                or batch_size <= 0):
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(  # noqa: TRY004 (PyTorch's exception type)
                f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]
