"""The argument checks of gather, scatter, index_select, index_add/index_reduce, index_copy,
take and put (ember.ops.scatter, ember.ops.scatter_reduce), in PyTorch's order and words: index
dtypes, ranks, shapes against the input and the source, and bounds (NOTE [Empty indexes]).

NOTE [Empty indexes]
PyTorch checks nothing of an empty index for gather and the scatters (any dtype, any rank,
any shape passes). index_select, index_add, index_reduce and index_copy refuse negative
positions, which take, put and index_fill wrap.
"""

from ember._backend import xp
from ember._tensor import Tensor, short_name


def _index_array(index: Tensor, name: str) -> xp.ndarray:
    """index's array as int64: PyTorch takes int32 and int64 indexes (any dtype when empty)."""
    array = index._data
    if array.dtype != xp.int64:
        if array.dtype != xp.int32 and array.size:
            raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
        array = array.astype(xp.int64)
    return array


def _size(shape, d: int) -> int:
    """shape[d], a 0-d tensor's shape read as (1,) (PyTorch's ensure_nonempty_size)."""
    if not shape:
        return 1
    if d >= len(shape):  # PyTorch asks src.size(d) and fails
        raise IndexError(f"Dimension out of range (expected to be in range of [{-len(shape)}, "
                         f"{len(shape) - 1}], but got {d})")
    return shape[d]


def _check_bounds(x_shape, index, dim) -> None:
    """RuntimeError for an index outside [0, size) along dim (gather and the scatters take no
    negative positions)."""
    size = x_shape[dim] if x_shape else 1
    if index.max() >= size or index.min() < 0:
        bad = index.max() if index.max() >= size else index.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _check_dim_index(name, x_shape, index, dim):
    """gather's checks of index against the input (none for an empty index, as PyTorch)."""
    if not index.size:
        return
    if max(index.ndim, 1) != max(len(x_shape), 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.ndim):
        if d != dim and _size(index.shape, d) > _size(x_shape, d):
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(x_shape)} apart from dimension {dim}")
    _check_bounds(x_shape, index, dim)


def _check_scatter_index(x_shape, index, dim, src_shape=None):
    """scatter's checks of index against self and src (none for an empty index, as PyTorch):
    index no larger than self apart from dim, and no larger than src."""
    if not index.size:
        return
    dims = max(len(x_shape), 1)
    if max(index.ndim, 1) != dims:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    wrong = any(d != dim and _size(index.shape, d) > _size(x_shape, d) for d in range(dims))
    if src_shape is not None:
        wrong = wrong or any(_size(index.shape, d) > _size(src_shape, d) for d in range(dims))
        if max(len(src_shape), 1) != dims:
            raise RuntimeError(
                "Index tensor must have the same number of dimensions as src tensor")
    if wrong:
        tail = "" if src_shape is None else (
            f" and to be no larger size than src {list(src_shape)}")
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(x_shape)} apart from dimension {dim}{tail}")
    _check_bounds(x_shape, index, dim)


def _select_index(input: Tensor, dim: int, index: Tensor) -> xp.ndarray:
    """index_select's index as int64 positions along dim, checked as PyTorch does (no negative
    positions)."""
    array = index._data
    if array.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if array.dtype != xp.int64 and array.dtype != xp.int32:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if input._data.ndim == 0 and array.size != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                           f"{array.size} value(s)")
    array = array.reshape(-1).astype(xp.int64, copy=False)
    size = input._data.shape[dim] if input._data.ndim else 1
    if array.size and (array.max() >= size or array.min() < 0):
        # PyTorch's kernels for empty inputs and for dim 1 raise otherwise
        if input._data.ndim > 1 and not input._data.size and not size:
            raise RuntimeError("index_select(): self indexing axis dim should be positive")
        if input._data.ndim > 1 and (not input._data.size or dim == 1):
            bad = array[(array < 0) | (array >= size)][0]
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        raise IndexError("index out of range in self")
    return array


def _check_index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor):
    """index_copy's checks, in PyTorch's order: source's shape is input's but for `len(index)`
    at dim (a 0-d source or input stands for one slice)."""
    array, shape, source_shape = index._data, input._data.shape, source._data.shape
    if array.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {array.ndim})")
    if not source_shape and array.size != 1:
        raise IndexError("index_copy_(): When source is scalar, index should have one element "
                         f"(got {array.size})")
    if shape and source_shape and len(shape) != len(source_shape):
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality "
            f"must match. Source dimensionality ({len(source_shape)}), destination "
            f"dimensionality ({len(shape)})")
    if array.dtype != xp.int64:
        raise RuntimeError("index_copy_(): Expected a long tensor for index, but got "
                           f"{short_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{short_name(input.dtype)} and (source) {short_name(source.dtype)}")
    dest, src = (" ".join(str(n) for d, n in enumerate(s) if d != dim)
                 for s in (shape, source_shape))
    if dest != src:
        raise RuntimeError(
            "index_copy_(): Source/destination tensor must have same slice shapes. Destination "
            f"slice shape: {dest} at dimension {dim} and source slice shape: {src} at dimension "
            f"{dim}.")
    if source_shape and array.size != source_shape[dim]:
        raise IndexError(f"index_copy_(): Number of indices ({array.size}) should be equal to "
                         f"source.size(dim) ({source_shape[dim]})")


def _check_index_func(name: str, input: Tensor, dim: int, index: Tensor, source: Tensor):
    """index_add/index_reduce's checks of index and source, in PyTorch's order."""
    array, shape, source_shape = index._data, input._data.shape, source._data.shape
    if array.ndim > 1:
        raise IndexError(
            f"{name}(): Index is supposed to be a vector, but got dim: {array.ndim} with "
            f"type: {short_name(index.dtype)} and size: {list(array.shape)}")
    if array.dtype != xp.int64 and array.dtype != xp.int32:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: "
                           f"{short_name(index.dtype)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"{name}(): self ({short_name(input.dtype)}) and source "
            f"({short_name(source.dtype)}) must have the same scalar type")
    if dim and dim >= len(source_shape):
        raise RuntimeError(f"{name}(): Indexing dim {dim} is out of bounds of the source "
                           f"tensor with dim {len(source_shape)}")
    count = source_shape[dim] if source_shape else 1
    if array.size != count:
        if not source_shape:  # torch's message reads source.size(dim) of the 0-d source
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        raise RuntimeError(f"{name}(): Number of indices ({array.size}) should be equal "
                           f"to source.size(dim): ({count}), for dim: {dim}")
    kept = [list(s[:dim] + s[dim + 1:]) if shape and source_shape else list(s)
            for s in (shape, source_shape)]
    if kept[0] != kept[1]:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(shape)} source.shape = {list(source_shape)}")
    size = shape[dim] if shape else 1
    if array.size and (array.max() >= size or array.min() < 0):  # no negative indexes here
        raise IndexError("index out of range in self")


def _check_long_index(name: str, index: Tensor) -> None:
    if index._data.dtype != xp.int64:
        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{short_name(index.dtype)}")
