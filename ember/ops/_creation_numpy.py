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


def _is_sequence(data) -> bool:
    """A nesting level as torch's compute_sizes sees one (a tensor is a leaf there)."""
    return isinstance(data, (list, tuple)) or isinstance(data, xp.ndarray) and data.ndim > 0


def ragged_array(data, dtype, error):
    """Nested sequences NumPy refused (`error`) as torch.tensor reads them: the shape comes
    from the first item at each depth; with no elements it is an empty array of that shape,
    else the first mismatch, depth first, raises torch's error."""
    sizes, item = [], data
    while _is_sequence(item):
        sizes.append(len(item))
        if not len(item):
            break
        item = item[0]
    if 0 in sizes:  # (torch stores nothing, so never looks at the other items)
        return xp.empty(tuple(sizes), dtype=dtype.numpy)
    raise _misfit(data, sizes, dtype, 0) or error


def _misfit(data, sizes, dtype, dim):
    """torch's error for the first item of data (at depth dim) that does not fit sizes."""
    if dim == len(sizes):
        if not _is_sequence(data):
            return None
        if dtype.is_floating_point or dtype.is_complex:  # (CPython's float(), int() messages)
            return TypeError(f"must be real number, not {type(data).__name__}")
        return TypeError(f"'{type(data).__name__}' object cannot be interpreted as an integer")
    if not _is_sequence(data):
        return TypeError("not a sequence")
    if len(data) != sizes[dim]:
        return ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                          f"(got {len(data)})")
    return next(filter(None, (_misfit(item, sizes, dtype, dim + 1) for item in data)), None)


def string_error(data, dtype):
    """torch.tensor's error for data holding strings (None when it holds none): a string given
    alone is refused; a string first at every depth is a sequence whose shape never ends; any
    other is refused by the dtype inference or, with a dtype given, by storing it."""
    if isinstance(data, (str, bytes)):
        return TypeError(f"new(): invalid data type '{type(data).__name__}'")
    first = data
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    if isinstance(first, str) and first and first is not data:
        return ValueError("too many dimensions 'str'")
    string = _first_string(data, (str, bytes) if dtype is None else str)  # (bytes: ints)
    if string is None:
        return None
    name = type(string).__name__
    if dtype is None:
        return TypeError(f"new(): invalid data type '{name}'")
    if dtype.is_floating_point or dtype.is_complex:  # (CPython's float(), int() messages)
        return TypeError(f"must be real number, not {name}")
    return TypeError(f"'{name}' object cannot be interpreted as an integer")


def _first_string(data, kinds):
    """The first item of type kinds in nested lists/tuples (a prefix of each: cheap)."""
    if isinstance(data, kinds):
        return data
    if isinstance(data, (list, tuple)):
        found = (_first_string(item, kinds) for item in data[:64])
        return next(filter(lambda s: s is not None, found), None)
    return None
