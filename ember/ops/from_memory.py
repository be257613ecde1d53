"""Tensors over memory that already exists: `asarray`, `frombuffer` and `from_file` (matches
torch's).

Both alias what they are given when they can, as torch does: writes through the tensor show in
the NumPy array or bytearray, and back.
"""

import os

from ember import _dtype
from ember._backend import xp
from ember._device import check_device
from ember._registry import op
from ember._tensor import Tensor
from ember.ops.creation import _finish, tensor


def _alias_or_convert(tensor_, target, copy):
    """`tensor_` as `target` dtype: itself when it already is, else a converted copy."""
    if target is None or target == tensor_.dtype:
        return tensor_
    if copy is False:
        raise ValueError(f"can't alias tensor with dtype '{tensor_.dtype}' into dtype "
                         f"'{target}'.")
    return tensor_.to(target)


@op
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """A tensor of `obj`, sharing its memory unless a copy is asked for or needed (matches
    `torch.asarray`): tensors and arrays are aliased, buffers are read as raw `dtype` bytes."""
    check_device(device)
    target = _dtype.to_dtype(dtype) if dtype is not None else None
    if isinstance(obj, Tensor):
        result = _alias_or_convert(obj, target, copy)
    elif hasattr(obj, "__array__") and not isinstance(obj, (list, tuple)):
        array = xp.asarray(obj)
        result = _alias_or_convert(Tensor._make(array), target, copy)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        raw_dtype = target or _dtype.get_default_dtype()
        result = Tensor._make(xp.frombuffer(obj, dtype=raw_dtype.numpy))
    else:
        return tensor(obj, dtype=dtype, requires_grad=requires_grad)
    if copy and result is obj:
        result = result.clone()
    if requires_grad and not result.requires_grad:
        result = result.detach().requires_grad_(True) if result is obj else \
            result.requires_grad_(True)
    return result


def _buffer_range(length, itemsize, count, offset):
    """(count, offset) of the elements to read, with torch's checks and messages."""
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % itemsize:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({itemsize})")
        return (length - offset) // itemsize, offset
    if offset + count * itemsize > length:
        raise ValueError(f"requested buffer length ({count} * {itemsize} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({length} bytes)")
    return count, offset


@op
def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False) -> Tensor:
    """A 1-D tensor viewing a Python buffer's bytes as `dtype` (matches `torch.frombuffer`).

    A read-only buffer (bytes) is copied: torch would alias it and warn that writes through the
    tensor corrupt an immutable object; ember keeps the object intact instead.
    """
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    target = _dtype.to_dtype(dtype)
    count, offset = _buffer_range(view.nbytes, target.itemsize, int(count), int(offset))
    array = xp.frombuffer(view, dtype=target.numpy, count=count, offset=offset)
    if view.readonly:
        array = array.copy()
    return _finish(array, None, requires_grad, None)


@op
def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None,
              pin_memory=False, requires_grad=False) -> Tensor:
    """A 1-D tensor of `size` elements over a memory-mapped file (matches `torch.from_file`):
    shared=True writes through to the file (made, or grown, to fit), else writes stay in memory."""
    check_device(device)
    target = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    count = int(size)
    nbytes = count * target.itemsize
    if shared:
        with open(filename, "ab") as file:
            if os.path.getsize(filename) < nbytes:
                file.truncate(nbytes)
    elif os.path.getsize(filename) < nbytes:
        raise RuntimeError(f"file <{filename}> size <{os.path.getsize(filename)}> is smaller "
                           f"than the required mapping size <{nbytes}>")
    if not count:  # (NumPy maps no empty file)
        return _finish(xp.empty(0, dtype=target.numpy), None, requires_grad, None)
    array = xp.memmap(filename, dtype=target.numpy, mode="r+" if shared else "c", shape=(count,))
    return _finish(array, None, requires_grad, None)
