"""Grids of coordinates and index sets: meshgrid, cartesian_prod, combinations, tril_indices and
triu_indices.

meshgrid's outputs are views of its inputs (a reshape, then an expand), as in PyTorch, so they
carry gradients back to them; cartesian_prod and combinations stack picked entries (stack's
backward), so theirs are PyTorch's node names too.
"""

import itertools

from ember._warnings import warn_once as _warn_once
from ember import _dtype
from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor
from ember.ops.creation import check_allocation
from ember.ops.joins import stack
from ember.ops.shape import expand, reshape


def _tensor_list(tensors) -> list:
    """The tensors given one by one or as one list; TypeError for anything else in it."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
    return list(tensors)


@op
def meshgrid(*tensors, indexing=None) -> tuple:
    """Coordinate grids from 0-d/1-D tensors: 'ij' (matrix) or 'xy' (Cartesian) indexing
    (matches `torch.meshgrid`)."""
    tensors = _tensor_list(tensors)
    if indexing is None:
        _warn_once("torch.meshgrid: in an upcoming release, it will be required to pass the "
                   "indexing argument. (Triggered internally at /__w/pytorch/pytorch/aten/src/"
                   "ATen/native/TensorShape.cpp:4215.)", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"{t}")
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    dims = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        dims[0], dims[1] = 1, 0  # the first two inputs vary along the other one's dim
    shape = [0] * len(tensors)
    for t, d in zip(tensors, dims):
        shape[d] = t._data.size
    grids = []
    for t, d in zip(tensors, dims):
        view_shape = [1] * len(tensors)
        view_shape[d] = t._data.size
        grids.append(expand(reshape(t, view_shape), shape))
    return tuple(grids)


def _vector(t: Tensor) -> None:
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


@op
def cartesian_prod(*tensors) -> Tensor:
    """All tuples taking one entry from each 1-D tensor, as rows (matches
    `torch.cartesian_prod`)."""
    tensors = _tensor_list(tensors)
    for t in tensors:
        _vector(t)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


@op
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's entries, as rows (matches
    `torch.combinations`)."""
    _vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._make(xp.empty(0, dtype=input._data.dtype))
    choose = itertools.combinations_with_replacement if with_replacement else (
        itertools.combinations)
    rows = list(choose(range(input._data.shape[0]), r))
    index = xp.asarray(rows, dtype=xp.int64).reshape(len(rows), r)
    return stack([input[index[:, k]] for k in range(r)], 1)


def _tril_count(row: int, col: int, offset: int) -> int:
    """How many (i, j) of a row × col matrix have j <= i + offset."""
    first = min(max(-offset, 0), row)  # the rows before hold none
    full = min(max(col - offset - 1, first), row)  # the rows from here on hold all col
    return (full - first) * (first + full - 1) // 2 + (offset + 1) * (full - first) + \
        col * (row - full)


def _triangle_indices(triangle, row: int, col: int, offset: int, dtype) -> Tensor:
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    count = _tril_count(row, col, offset) if triangle is xp.tril_indices else (
        row * col - _tril_count(row, col, offset - 1))
    check_allocation((2, count))  # torch's RuntimeError for a size beyond memory
    rows, cols = triangle(row, offset, col)
    np_dtype = _dtype.to_dtype(dtype).numpy if dtype is not None else xp.int64
    return Tensor._make(xp.stack([rows, cols]).astype(np_dtype).reshape(2, -1))


@op
def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row × col matrix (matches
    `torch.tril_indices`)."""
    return _triangle_indices(xp.tril_indices, row, col, offset, dtype)


@op
def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None,
                 layout=None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row × col matrix (matches
    `torch.triu_indices`)."""
    return _triangle_indices(xp.triu_indices, row, col, offset, dtype)
