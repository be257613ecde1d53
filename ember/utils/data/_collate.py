"""default_collate and default_convert: turn a list of samples into a batch.

Matches `torch.utils.data.default_collate`, rule by rule on the first sample's type:
  Tensor            -> stacked along a new dim 0 (all the same shape)
  NumPy array       -> as tensors, then stacked (string/object arrays are an error)
  NumPy scalar      -> a 1-d tensor of its dtype
  float             -> float64 tensor (PyTorch's choice: Python floats are doubles)
  int / bool        -> tensor(batch) (int64, or bool for bools)
  str / bytes       -> the list unchanged
  Mapping           -> same mapping type, each key collated
  namedtuple        -> same namedtuple, each field collated
  Sequence          -> transposed and each position collated; a list (tuples give lists too)
"""

import collections.abc
import re

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops import creation

_STRING_ARRAY = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _stack(batch) -> Tensor:
    """Stack same-shaped tensors along a new first dim, with PyTorch's error for a mismatch."""
    first = batch[0]._data.shape
    for i, t in enumerate(batch):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}")
    dtype = _dtype.result_type(*batch) if any(t.dtype is not batch[0].dtype for t in batch) \
        else batch[0].dtype
    return Tensor._make(np.stack([t._data for t in batch]).astype(dtype.numpy, copy=False))


def _rebuild_mapping(template, items: dict):
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = template.copy()  # keeps extra attributes of dict subclasses
            clone.update(items)
            return clone
        return type(template)(items)
    except TypeError:
        return items  # the mapping type cannot be built from a dict


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def default_collate(batch):
    """Collate a list of samples into a batch (matches `torch.utils.data.default_collate`)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if type(elem).__module__ == "numpy" and not isinstance(elem, (np.str_, np.bytes_)):
        if isinstance(elem, np.ndarray) or type(elem).__name__ == "memmap":
            if _STRING_ARRAY.search(elem.dtype.str) is not None:
                raise TypeError(_ERROR.format(elem.dtype))
            return default_collate([creation.as_tensor(np.asarray(b)) for b in batch])
        if elem.shape == ():  # NumPy scalar
            return creation.as_tensor(np.array(batch))
    if isinstance(elem, float):
        return creation.tensor(batch, dtype=_dtype.float64)
    if isinstance(elem, int):
        return creation.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: default_collate([d[key] for d in batch])
                                       for key in elem})
    if _is_namedtuple(elem):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(sample) == size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            return type(elem)(transposed)
        except TypeError:
            return transposed
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays (inside any nesting) into tensors, without batching (matches
    `torch.utils.data.default_convert`)."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray):
            if _STRING_ARRAY.search(data.dtype.str) is not None:
                return data
            return creation.as_tensor(data)
        if data.shape == ():
            return creation.as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            return type(data)(converted)
        except TypeError:
            return converted
    return data


__all__ = ["default_collate", "default_convert"]
