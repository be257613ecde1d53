"""Tensors of an op_db sample that need care on their way to ember (used by _opinfo.convert):
tensors viewing one storage, and tensors ember cannot hold.

NOTE [Tensors sharing memory]
An error input may pass out= as a view of another argument's memory (gather(..., out=ind[:1])
with index ind[1:]): torch refuses the overlap. Converting each tensor on its own would lose the
sharing, so the tensors of such a storage become views of one NumPy copy of it, with torch's
sizes, strides and offset, and ember sees the same overlap.

NOTE [Tensors ember cannot hold]
torch holds tensors of more than 64 dims (NumPy's limit) and meta tensors (no storage); only
some ops refuse them (amax over 65 dims raises RuntimeError "only tensors with up to 64 dims are
supported"; torch.gradient given a meta spacing, RuntimeError "expected each tensor to be on the
same device"). ember cannot make such a tensor, so no ember op can be called with one. The
honest comparison asks ember's own constructor for it: `empty` raises torch's RuntimeError for
more than 64 dims, and for device='meta' the NotImplementedError (a RuntimeError) that a torch
build without that backend's kernels raises. That refusal (`Refused`) stands for ember's answer
in the `errors` check only, compared with the type torch raises for the call; in any other check
the sample fails as unsupported.
"""

import functools

import numpy as np
import torch

import ember
from tests.differential import dtype_name


class Refused(Exception):
    """ember's constructor refused a tensor of the sample (its error is the __cause__)."""


def unholdable(t) -> bool:
    """A tensor ember cannot hold: on the meta device or of more than 64 dims."""
    return t.device.type == "meta" or t.dim() > 64


def refuse(t):
    """Ask ember's constructor for t's kind of tensor; raise Refused from its error."""
    try:
        ember.empty(tuple(t.shape), dtype=getattr(ember, dtype_name(t.dtype)),
                    device=str(t.device))
    except Exception as error:  # noqa: BLE001 - the type is compared by the caller
        raise Refused(f"ember cannot hold a {t.device} tensor of {t.dim()} dims") from error
    raise AssertionError(f"ember made a {t.device} tensor of {t.dim()} dims")


@functools.lru_cache(maxsize=None)
def numpy_dtype(dtype):
    """NumPy's dtype for a torch dtype; None where NumPy has none (bfloat16, float8, ...)."""
    try:
        return torch.empty(0, dtype=dtype).numpy().dtype
    except (TypeError, RuntimeError):
        return None


def _shareable(t) -> bool:
    return (t.layout is torch.strided and t.device.type == "cpu" and not unholdable(t)
            and numpy_dtype(t.dtype) is not None and not (t.is_conj() or t.is_neg()))


def _storage_key(t):
    return "storage", t.untyped_storage().data_ptr()


def tensors_in(value):
    """The (torch or ember) tensors in nested lists, tuples and dicts."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in tensors_in(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in tensors_in(v)]
    return []


def share_storages(values, memo) -> None:
    """Put in memo a NumPy copy of each storage that two distinct tensors in values view."""
    viewers = {}
    for t in tensors_in(values):
        if _shareable(t) and t.untyped_storage().nbytes():
            viewers.setdefault(_storage_key(t), {})[id(t)] = t
    for key, tensors in viewers.items():
        if len(tensors) > 1:
            t = next(iter(tensors.values()))
            raw = torch.empty(0, dtype=torch.uint8).set_(t.untyped_storage())
            memo[key] = raw.numpy().copy()


def shared_view(t, memo):
    """t as an ember view of the copy of its storage in memo (None: its storage is its own)."""
    storage = memo.get(_storage_key(t)) if _shareable(t) else None
    if storage is None:
        return None
    itemsize = t.element_size()
    array = np.ndarray(tuple(t.shape), dtype=numpy_dtype(t.dtype), buffer=storage,
                       offset=t.storage_offset() * itemsize,
                       strides=tuple(st * itemsize for st in t.stride()))
    e = ember.from_numpy(array)
    return e.requires_grad_(True) if t.requires_grad else e
