"""Tensors in shared memory, and sending them between processes (matches
`torch.multiprocessing.reductions` with the "file_descriptor" sharing strategy).

NOTE [Sharing a tensor through a file descriptor]
`t.share_memory_()` copies t's data into an anonymous shared file (Linux `memfd_create`),
maps it, and makes the mapping t's array. Sending t through a multiprocessing Queue or Pipe
(which pickle with `ForkingPickler`) then sends the file descriptor, not the bytes: the
receiver maps the same memory, so writes on either side are seen by both, as in PyTorch. A
tensor that is not shared yet is moved to shared memory when it is first sent, as torch does.
The memory is freed when the last process unmaps it: there are no names to leak. Limitation:
other tensors that were views of t's old array keep the old (private) memory.
"""

import mmap
import multiprocessing.reduction
import os
import weakref

import numpy as np

from ember._registry import tensor_method
from ember._tensor import Tensor


def _shared_array(nbytes):
    """A writable mapping of `nbytes` of fresh shared memory, and its file descriptor."""
    fd = os.memfd_create("ember-tensor", os.MFD_CLOEXEC)
    os.ftruncate(fd, max(nbytes, 1))
    return mmap.mmap(fd, max(nbytes, 1)), fd


@tensor_method("share_memory_")
def share_memory_(self):
    """Move this tensor's data to shared memory, in place (matches `Tensor.share_memory_`)."""
    if is_shared(self):
        return self
    source = np.ascontiguousarray(self._data)
    buffer, fd = _shared_array(source.nbytes)
    array = np.ndarray(source.shape, dtype=source.dtype, buffer=buffer)
    array[...] = source
    self._data = array
    _remember(buffer, fd, array)
    return self


@tensor_method("is_shared")
def is_shared(self) -> bool:
    """Whether the data lives in shared memory (matches `Tensor.is_shared`)."""
    base = _root_mapping(self._data)
    return isinstance(base, mmap.mmap) and id(base) in _SHARED_FDS


_SHARED_FDS = {}  # id of a shared mapping -> its file descriptor, while an array maps it


def _remember(mapping, fd, array):
    """Keep fd (to send the memory again) for as long as `array`, the root array over the
    mapping, lives; then close it, as torch frees a storage's descriptor with the storage."""
    key = id(mapping)
    _SHARED_FDS[key] = fd
    weakref.finalize(array, _forget, key, fd)


def _forget(key, fd):
    if _SHARED_FDS.get(key) == fd:
        del _SHARED_FDS[key]
    os.close(fd)


def _root_mapping(array):
    """The object that owns array's memory (an mmap for shared tensors)."""
    base = array
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base.obj if isinstance(base, memoryview) else base


def reduce_tensor(t):
    """Pickle a tensor for another process: its shared memory's descriptor and its layout."""
    share_memory_(t)
    array = t._data
    mapping = _root_mapping(array)
    offset = (array.__array_interface__["data"][0]
              - np.frombuffer(mapping, dtype=np.uint8).__array_interface__["data"][0])
    handle = multiprocessing.reduction.DupFd(_SHARED_FDS[id(mapping)])
    return (rebuild_tensor, (type(t), handle, len(mapping), array.dtype.str, array.shape,
                             array.strides, offset, t.requires_grad))


def rebuild_tensor(cls, handle, nbytes, dtype, shape, strides, offset, requires_grad):
    """The receiving side of `reduce_tensor`: map the same memory."""
    fd = handle.detach()
    mapping = mmap.mmap(fd, nbytes)
    root = np.frombuffer(mapping, dtype=np.uint8)
    _remember(mapping, fd, root)
    array = np.ndarray(shape, dtype=np.dtype(dtype), buffer=root, offset=offset,
                       strides=strides)
    t = cls._make(array)
    t._requires_grad = requires_grad
    return t


def init_reductions() -> None:
    """Register the tensor reducer with multiprocessing's pickler (done on import)."""
    multiprocessing.reduction.ForkingPickler.register(Tensor, reduce_tensor)
