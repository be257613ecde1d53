"""Parsing an index for `x[index]` and `x[index] = v` (ember.ops.indexing): ints, slices,
None, Ellipsis, bool masks, integer arrays and the sequences PyTorch reads as either, split into
a basic part and an advanced part (NOTE [Basic then advanced indexing] in ember.ops.indexing).
"""

from operator import itemgetter

from ember._warnings import warn as _warn
from ember._backend import xp
from ember._tensor import Tensor


# the view function of a basic index: _basic_fn(basic)(array) is array[basic] (a C callable:
# a third of the cost of making a lambda, on every x[i])
_basic_fn = itemgetter


def _index_error(obj):
    return IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        f"valid indices (got {type(obj).__name__})")


def _component(item):
    """One index component in NumPy terms: int, slice, None, Ellipsis or an ndarray."""
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, xp.bool_)):
        return xp.array(item)
    if isinstance(item, (int, xp.integer)):
        return int(item)
    if isinstance(item, slice):
        parts = [None if v is None else _as_int(v) for v in (item.start, item.stop, item.step)]
        if parts[2] is not None:
            if parts[2] == 0:
                raise ValueError("slice step cannot be zero")
            if parts[2] < 0:
                raise ValueError("step must be greater than zero")
        return slice(*parts)
    if isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, (list, tuple, range, xp.ndarray)):
        array = xp.asarray([_listed_int(v) if isinstance(v, Tensor) else v for v in item]
                           if isinstance(item, (list, tuple, range)) else item)
        if array.size == 0:
            array = array.astype(xp.int64)
        elif array.dtype.kind == "f" and not isinstance(item, xp.ndarray):
            array = _truncated(array)  # PyTorch reads a list of numbers as int64
    elif isinstance(item, str):
        raise TypeError(f"new(): invalid data type '{type(item).__name__}'")
    else:
        raise _index_error(item)
    if array.dtype == xp.uint8:
        array = array.astype(bool)
    if array.dtype != bool and not xp.issubdtype(array.dtype, xp.integer):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if array.ndim == 0 and array.dtype != bool and isinstance(item, Tensor):
        return int(array)  # a 0-d integer tensor indexes like an int (a select)
    return array


def _listed_int(value: Tensor) -> int:
    """A tensor inside a list index: an integer (or bool) number."""
    if value.dtype.is_floating_point or value.dtype.is_complex:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return _as_int(value)


def _truncated(array):
    """A float list index as int64, rounded toward zero (PyTorch's conversion)."""
    if not (xp.isfinite(array).all() and (abs(array) < 2.0 ** 63).all()):
        raise RuntimeError("value cannot be converted to type int64 without overflow")
    return array.astype(xp.int64)


def _as_int(value):
    if isinstance(value, Tensor):
        return value.__index__()
    return int(value)


def _dims_used(array) -> int:
    """The dims an array index consumes: a bool mask its own dims, an integer index one."""
    return array.ndim if array.dtype == bool else 1


def _reads_as_tuple(index: list) -> bool:
    """PyTorch reads a short list holding a tensor, a sequence, a slice, None or Ellipsis as
    a tuple of indices (NumPy's old rule), `x[[[0, 1], [1, 2]]]` as `x[[0, 1], [1, 2]]`."""
    return len(index) < 32 and any(
        isinstance(i, (Tensor, list, tuple, slice, range)) or i is None or i is Ellipsis
        for i in index)


def _whole(item: slice, length: int) -> bool:
    """Whether PyTorch's indexing skips this slice: from 0 (as written), step 1, to the end."""
    return (item.start in (None, 0) and item.step in (None, 1) and
            (item.stop is None or item.stop >= length))


def parse_index(shape, index, clip: bool = False, read: bool = True):
    """Split `index` into a basic part (a view) and an advanced part (or None), see NOTE, and
    name the views PyTorch takes for the basic part, in order ('Select', 'Slice', 'Unsqueeze',
    or 'Alias' alone). With clip, index arrays out of bounds read position 0 instead (for the
    region's shape). A read x[a:b] is a slice even over the whole dim, a write skips it."""
    if type(index) is list and _reads_as_tuple(index):
        _warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated and will be "
            "changed in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this "
            "will be interpreted as tensor index, x[torch.tensor(seq)], which will result either "
            "in an error or a different result", UserWarning, stacklevel=3)
        index = tuple(index)
    # PyTorch skips a slice over a whole dim (no view), except as the whole index of a read
    bare = read and isinstance(index, slice)
    items = [_component(i) for i in (index if isinstance(index, tuple) else (index,))]
    used = sum(1 if isinstance(i, (int, slice)) else _dims_used(i) if isinstance(i, xp.ndarray)
               else 0 for i in items)
    if used > len(shape):
        if len(shape) == 0:
            raise IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"too many indices for tensor of dimension {len(shape)}")
    basic, adv, kinds = [], [], []
    dim = 0
    for item in items:
        if item is Ellipsis:
            count = len(shape) - used
            basic += [slice(None)] * count
            adv += [slice(None)] * count
            dim += count
            used = len(shape)  # as in PyTorch, a second ellipsis stands for no dims
        elif item is None:
            basic.append(None)
            adv.append(slice(None))
            kinds.append("Unsqueeze")
        elif isinstance(item, int):
            if not -shape[dim] <= item < shape[dim]:
                raise IndexError(
                    f"index {item} is out of bounds for dimension {dim} with size {shape[dim]}")
            basic.append(item)
            kinds.append("Select")
            dim += 1
        elif isinstance(item, slice):
            basic.append(item)
            adv.append(slice(None))
            if bare or not _whole(item, shape[dim]):
                kinds.append("Slice")
            dim += 1
        elif item.dtype == bool and item.ndim == 0:
            basic.append(None)  # x[True] adds a dim (a copy, as in PyTorch); x[False] empties it
            kinds.append("Unsqueeze")
            adv.append(xp.zeros(1 if item else 0, dtype=xp.int64))
        elif item.dtype == bool:
            size = shape[dim:dim + item.ndim]
            for j, (a, b) in enumerate(zip(item.shape, size)):
                if a != b:
                    raise IndexError(
                        f"The shape of the mask {list(item.shape)} at index {j} does not match "
                        f"the shape of the indexed tensor {list(shape)} at index {dim + j}")
            basic += [slice(None)] * item.ndim
            adv += list(xp.nonzero(item))
            dim += item.ndim
        else:
            size = shape[dim]
            if item.size and (item.max() >= size or item.min() < -size):
                if size and (clip or 0 in shape):  # an empty result: PyTorch checks nothing
                    item = xp.zeros_like(item)
                else:
                    bad = item.max() if item.max() >= size else item.min()
                    raise IndexError(
                        f"index {bad} is out of bounds for dimension {dim} with size {size}")
            basic.append(slice(None))
            adv.append(item.astype(xp.int64, copy=False))
            dim += 1
    has_adv = any(isinstance(a, xp.ndarray) for a in adv)
    if not kinds:
        kinds.append("Alias")
    return tuple(basic) + (Ellipsis,), (tuple(adv) if has_adv else None), tuple(kinds)
