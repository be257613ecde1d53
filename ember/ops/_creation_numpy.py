"""Creation's NumPy-side helpers: read-only NumPy arrays given to from_numpy / as_tensor
(PyTorch's once-per-process warning, then a tensor that writes to the array's memory anyway),
and long lists of Python numbers read at NumPy's speed (`_plain_numbers`).

NOTE [Non-writable NumPy arrays]
torch.from_numpy of a read-only array warns (TORCH_WARN_ONCE, so once per process) and then
shares the memory as if it were writable: `t.add_(1)` changes the array. ember does the same
by re-exporting the array's memory with the read-only bit cleared (`__array_interface__`), the
new array keeping the old one alive. Memory the OS maps read-only (an `mmap` opened with
ACCESS_READ, a `np.memmap` of mode 'r') would crash the process on the first write, where
torch's "undefined behavior" is that crash: such arrays stay read-only, so a write raises.
"""

import mmap

from ember._warnings import warn as _warn
from ember import _dtype
from ember._backend import quiet, xp
from ember._tensor import Tensor

_WARNING = (
    "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
    "This means writing to this tensor will result in undefined behavior. You may want to copy "
    "the array to protect its data or make it writable before converting it to a tensor. This "
    "type of warning will be suppressed for the rest of this program. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/utils/tensor_numpy.cpp:213.)")
_WARNED = [False]  # PyTorch warns once per process


class _Exported:
    """An array's memory re-exported writable; holds the array so the memory stays alive."""

    def __init__(self, array):
        self.array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface


def _mapped_read_only(array) -> bool:
    """Whether the memory is a read-only OS mapping (writing to it would crash)."""
    while array is not None:
        if isinstance(array, xp.memmap) and array.mode == "r":
            return True
        if isinstance(array, mmap.mmap):
            return True  # (a writable mmap's arrays are writable: this one was read-only)
        array = getattr(array, "base", None) if not isinstance(array, memoryview) else array.obj
    return False


def shared_writable(array, stacklevel=2):
    """array itself if writable; else (after torch's warning, at `stacklevel` as if the caller
    warned) a writable view of its memory."""
    if array.flags.writeable or array.size == 0:
        return array
    if not _WARNED[0]:
        _WARNED[0] = True
        _warn(_WARNING, UserWarning, stacklevel=stacklevel + 1)
    if _mapped_read_only(array):
        return array
    view = xp.asarray(_Exported(array))
    return view if view.dtype == array.dtype else view.view(array.dtype)


_PYTHON_NUMBERS = frozenset((int, float, bool, complex))


def _plain_numbers(data):
    """Nested lists of Python numbers only, as the array torch.tensor makes of them, read at
    NumPy's speed; None for anything else (tensors, NumPy values, strings, ragged lists), which
    the element-by-element path handles with torch's dtypes and errors."""
    try:
        objects = xp.array(data, dtype=object)
    except (ValueError, TypeError):
        return None
    kinds = set(map(type, objects.ravel().tolist()))
    if not objects.size or not kinds <= _PYTHON_NUMBERS:
        return None
    default = _dtype.get_default_dtype()
    dtype = (default.to_complex() if complex in kinds else default if float in kinds else
             _dtype.int64 if int in kinds else _dtype.bool)
    try:
        with quiet():  # (1e300 as float32 is inf, silently)
            return objects.astype(dtype.numpy)
    except OverflowError:  # (an int beyond int64)
        raise ValueError("Overflow when unpacking long long") from None


def other_sequence(data) -> bool:
    """Whether data is a sequence torch.tensor reads item by item though it is not a list or
    tuple (a deque, an array.array, a memoryview, a class with __len__ and __getitem__): torch's
    PySequence_Check, a type with __getitem__ that is not a dict (strings are refused before)."""
    return (not isinstance(data, (list, tuple, dict, xp.ndarray, xp.generic, Tensor)) and
            hasattr(type(data), "__getitem__"))


def sequences_as_lists(data):
    """data with every such sequence (also nested in lists and tuples) made a list, read as
    torch reads it: len(), then data[i] (an object without __len__ raises TypeError)."""
    if isinstance(data, (list, tuple)) or other_sequence(data):
        return [sequences_as_lists(data[i]) for i in range(len(data))]
    return data
