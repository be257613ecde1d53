"""Searching and membership: searchsorted, bucketize, isin and unravel_index. Their results are
integer or bool tensors, so none of them has a gradient.

NOTE [searchsorted's binary search]
ember runs PyTorch's own binary search (go right while not `boundary >= value`, or not
`boundary > value` for right=True) for all values at once, one halving step per pass: the
results then agree with PyTorch's even where NumPy's would not, as with NaN values or NaN
boundaries (every comparison with NaN is false, so a NaN value goes to the end of its row).
"""

import collections.abc

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._registry import op
from ember.ops._out_rules import search_out
from ember._tensor import Tensor, short_name
from ember.ops._wirtinger import refuse_complex
from ember.ops._opmath import holds_nan


def _as_array(value, like) -> xp.ndarray:
    """A tensor's array, or a Python number as a 0-d array (scalar overloads)."""
    if isinstance(value, Tensor):
        return value._data
    return get_array_module(like).asarray(value)


def _binary_search(seq, values, right: bool):
    """For every value at once, PyTorch's binary search over its row of seq (NOTE)."""
    if seq.ndim == 1 and not (holds_nan(seq.dtype) and xp.isnan(seq).any()):
        return xp.searchsorted(seq, values, side="right" if right else "left")  # the same here
    module = get_array_module(seq)
    n = seq.shape[-1]
    flat = values.reshape(-1)
    rows = seq.reshape(-1, n)
    per_row = values.shape[-1] if seq.ndim > 1 and values.ndim else flat.size
    row = module.arange(rows.shape[0]).repeat(per_row) if seq.ndim > 1 else 0
    start = module.zeros(flat.shape, dtype=xp.int64)
    end = module.full(flat.shape, n, dtype=xp.int64)
    for _ in range(max(n, 1).bit_length()):
        active = start < end
        mid = (start + end) // 2
        mid_val = rows[row, module.minimum(mid, n - 1)]
        go_right = ~(mid_val > flat) if right else ~(mid_val >= flat)
        start = xp.where(active & go_right, mid + 1, start)
        end = xp.where(active & ~go_right, mid, end)
    return start.reshape(values.shape)


def _check_sorter(seq: Tensor, sorter: Tensor) -> None:
    if sorter.dtype.name != "int64":
        raise RuntimeError(
            "torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
            f"{short_name(sorter.dtype)}")
    if sorter._data.shape != seq._data.shape:
        raise RuntimeError(
            "torch.searchsorted(): boundary and sorter must have the same size, but got "
            f"boundary tensor {list(seq._data.shape)}and got sorter tensor "
            f"{list(sorter._data.shape)}")
    n = seq._data.shape[-1]
    if sorter._data.size and (sorter._data.min() < 0 or sorter._data.max() >= n):
        raise RuntimeError("torch.searchsorted(): sorter index out of range")


@op(out=search_out)
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False, right: bool = False,
                 side=None, sorter=None) -> Tensor:
    """Where each value would go in the sorted innermost rows to keep them sorted (matches
    `torch.searchsorted`)."""
    refuse_complex(sorted_sequence, NotImplementedError,
                   '"searchsorted_out_cpu" not implemented for '
                   f"'{short_name(sorted_sequence.dtype)}'")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True")
        right = side == "right"
    common = _dtype.result_type(sorted_sequence, input)  # PyTorch searches in a common dtype
    if common is _dtype.bool:
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    seq = sorted_sequence._data.astype(common.numpy, copy=False)
    values = _as_array(input, seq).astype(common.numpy, copy=False)
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension")
    if seq.ndim > 1 and seq.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
    if sorter is not None:
        _check_sorter(sorted_sequence, sorter)
        seq = xp.take_along_axis(seq, sorter._data, -1)
    dtype = xp.int32 if out_int32 else xp.int64
    return Tensor._make(xp.asarray(_binary_search(seq, values, right), dtype=dtype))


@op(out=search_out)
def bucketize(input, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value among sorted 1-D boundaries (matches `torch.bucketize`)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


@op(out="exact")
def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element is among test_elements (matches `torch.isin`)."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            "isin() received an invalid combination of arguments - got "
            f"({type(elements).__name__}, {type(test_elements).__name__}), but expected one of: "
            "(Tensor elements, Tensor test_elements), (Number element, Tensor test_elements), "
            "(Tensor elements, Number test_element)")
    like = (elements if isinstance(elements, Tensor) else test_elements)._data
    a, b = _as_array(elements, like), _as_array(test_elements, like)
    if a.dtype == xp.bool_ or b.dtype == xp.bool_:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    return Tensor._make(xp.asarray(xp.isin(a, b, invert=invert)))


@op
def unravel_index(indices: Tensor, shape) -> tuple:
    """The coordinates, one tensor per dim of `shape`, of flat indices (matches
    `torch.unravel_index`)."""
    dtype = indices.dtype
    if dtype.is_floating_point or dtype is _dtype.bool or dtype.is_complex:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {dtype}")
    if not isinstance(shape, (int, collections.abc.Sequence)):  # a tensor is not a shape
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    if isinstance(shape, int):
        shape = (shape,)
    shape = tuple(shape)
    for size in shape:
        if not isinstance(size, int):
            raise TypeError(
                f"expected 'shape' sequence to only contain ints, but got {type(size)}")
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    module = get_array_module(indices._data)
    flat = indices._data.astype(xp.int64)[..., None]
    strides = module.ones(len(shape), dtype=xp.int64)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    sizes = module.asarray(shape, dtype=xp.int64)
    with quiet():
        coords = (flat // strides) % sizes
    return tuple(Tensor._make(xp.array(coords[..., d])) for d in range(len(shape)))
