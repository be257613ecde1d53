"""Adaptive pooling (average and max) to a fixed output size over 1, 2 or 3 spatial dims.

Window i of a dim of length L pooled to o covers [⌊i·L/o⌋, ⌈(i+1)·L/o⌉), so windows may differ
in length and overlap. Average pooling weighs each dim independently: one small matrix per dim
(`SeparableLinear`, which interpolation in `ember/ops/interpolate.py` reuses). Max pooling gathers
the windows through index tables and returns flat indices like max pooling (`ember/ops/pool.py`).
float16 and bfloat16 are computed in float32 and rounded once (NOTE [opmath]), except
adaptive_avg_pool3d, whose PyTorch kernel sums in the input dtype (`_sequential_mean`).
"""

import contextlib
import math

from ember._backend import get_array_module, xp
from ember._registry import FUNCTIONS, op
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._opmath import holds_nan, is_half, opmath_dtype, widen
from ember.ops.conv import AddBatch, DropBatch, _named, _type_word
from ember.ops.conversion import in_suggested_format
from ember.ops._selection import select_into
from ember.ops.pool import IndexScatterAdd, _check_pool_input


# ---- adaptive pooling -----------------------------------------------------------------------
def _adaptive_bounds(length: int, out: int, module):
    """Window i covers [⌊i·L/o⌋, ⌈(i+1)·L/o⌉) (PyTorch's uneven split)."""
    i = module.arange(out)
    return (i * length) // out, -(-((i + 1) * length) // out)


def _apply_matrices(a, mats):
    """a with its trailing dim j contracted with mats[j] (o_j × n_j), one dim at a time, the
    last dim first (the association of PyTorch's interpolation kernels); None leaves a dim."""
    nd = len(mats)
    for j, m in reversed(tuple(enumerate(mats))):
        axis = a.ndim - nd + j
        if m is None:
            continue
        if axis == a.ndim - 1:
            a = xp.matmul(a, m.T)
        else:
            lead, n, rest = a.shape[:axis], a.shape[axis], a.shape[axis + 1:]
            a = xp.matmul(m, a.reshape(lead + (n, math.prod(rest))))
            a = a.reshape(lead + (m.shape[0],) + rest)
    return a


class SeparableLinear(Op):
    """y = x ×_1 M_1 ··· ×_k M_k along the trailing dims;  gx = gy ×_1 M_1ᵀ ··· ×_k M_kᵀ.

    Adaptive average pooling and (bi/tri)linear and bicubic interpolation all weigh each
    spatial dim independently, so each is one small matrix per dim applied with `matmul`
    (None: the dim is left as it is). 16-bit floats are computed in float32 and rounded once
    (NOTE [opmath]).
    """

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, mats):
        ctx.mats = mats
        a = x._data
        y = _apply_matrices(widen(a), tuple(None if m is None else widen(m) for m in mats))
        return y.astype(a.dtype) if y is a or y.dtype != a.dtype else y  # never x's own array

    @staticmethod
    def backward(ctx, gy):
        return SeparableLinear.apply(gy, _transposed(ctx.mats)), None


def _transposed(mats):
    """Each matrix transposed (contiguous), None kept."""
    return tuple(None if m is None else xp.asanyarray(m.T, order="C") for m in mats)


class AdaptiveAvg(Op):
    """y = (x ×_1 S_1 ··· ×_k S_k) / count: S_j the 0/1 window indicators (o_j × n_j) of dim j,
    count the window sizes' product, as PyTorch divides each window's sum;
    gx = (gy / count) ×_1 S_1ᵀ ··· ×_k S_kᵀ."""

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, mats, count, sequential):
        # (channels-last in, channels-last out)
        return in_suggested_format(AdaptiveAvg._average(ctx, x._data, mats, count, sequential),
                                   x._data)

    @staticmethod
    def _average(ctx, a, mats, count, sequential):
        """The windows' means of array a."""
        ctx.mats, ctx.count, ctx.shape = mats, count, a.shape
        if sequential and is_half(a.dtype):
            return _sequential_mean(a, mats)
        if _is_global(mats) and a.dtype.char in "fd":  # one window: a sum, not matrix products
            spatial = tuple(range(a.ndim - len(mats), a.ndim))
            return a.sum(axis=spatial, keepdims=True) / count.astype(a.dtype)
        with xp.errstate(invalid="ignore"):
            y = _apply_matrices(widen(a), mats) / count
        if xp.isnan(y).any():  # maybe an inf times a 0 of the indicators: sum windows instead
            y = _sequential_mean(widen(a), mats)
        return y.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        scaled = gy / Tensor._make(ctx.count.astype(gy._data.dtype))
        if _is_global(ctx.mats):  # every position gets its window's gy / count
            return scaled.expand(ctx.shape), None, None, None
        return SeparableLinear.apply(scaled, _transposed(ctx.mats)), None, None, None


def _is_global(mats) -> bool:
    """Whether adaptive average pooling has one window per plane (output size 1 in every
    pooled dim): global average pooling, a network's head."""
    return all(m is not None and m.shape[0] == 1 for m in mats)


def _sequential_mean(a, mats):
    """Adaptive 3-d average of a 16-bit float array as PyTorch's kernel computes it: the window
    summed in scan order in the input dtype (each addition rounded), then divided by the
    window's depth, height and width in turn, each division rounded."""
    out = tuple(m.shape[0] for m in mats)
    nd = len(out)
    module = get_array_module(a)
    tables, masks, counts = [], [], []
    for axis, (n, o) in enumerate(zip(a.shape[2:], out)):
        start, end = _adaptive_bounds(n, o, module)
        kmax = int((end - start).max()) if o else 1
        table = start[:, None] + module.arange(kmax)
        shape = [1] * (2 * nd)
        shape[axis], shape[nd + axis] = o, kmax
        masks.append((table < end[:, None]).reshape(shape))
        tables.append(xp.minimum(table, n - 1).reshape(shape))
        count_shape = [1] * nd
        count_shape[axis] = o
        counts.append((end - start).reshape(count_shape).astype(a.dtype))
    windows = a[(Ellipsis,) + tuple(tables)]  # (N, C, *out, *kmax)
    valid = masks[0]
    for m in masks[1:]:
        valid = valid & m
    windows = xp.where(valid, windows, xp.zeros((), dtype=a.dtype))
    windows = windows.reshape(windows.shape[:2 + nd] + (math.prod(windows.shape[2 + nd:]),))
    total = module.zeros(windows.shape[:-1], dtype=a.dtype)
    for k in range(windows.shape[-1]):  # a loop over window offsets, not elements
        total = total + windows[..., k]
    for count in counts:
        total = total / count
    return total.astype(a.dtype, copy=False)


def _output_size(output_size, spatial, name):
    """output_size as one size per spatial dim (None keeps the input's), with PyTorch's
    checks: one entry per dim, none negative."""
    nd = len(spatial)
    size = _size_list(output_size, name)
    size = (size,) * nd if isinstance(size, int) else size
    if len(size) != nd:
        if nd == 1:
            raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got "
                               f"{len(size)})")
        if name.startswith("adaptive_avg"):
            raise RuntimeError(f"{name}: output_size must be {nd}")
        raise RuntimeError(f"{name}(): internal error: output_size.size() must be {nd}")
    if any(isinstance(o, Tensor) for o in size) and name.startswith("adaptive_avg"):
        # a bool tensor: the parser took it, the average pools' C++ does not (max pools do)
        raise RuntimeError("Expected scalar.isIntegral( false) to be true, but got false.")
    out = tuple(n if o is None else int(o) for o, n in zip(size, spatial))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{', '.join(map(str, out))}}}")
    return out


def _size_list(value, name):
    """output_size as torch's argument parser takes an int list: an int, or a list of ints,
    0-d integer tensors and Nones (NOTE [torch's argument parser] in ember/_schemas.py)."""
    where = f"{name}(): argument 'output_size'"
    if isinstance(value, Tensor) and value.ndim == 0 and not value.is_floating_point() \
            and not value.is_complex():
        return int(value.item())
    if type(value) is int or isinstance(value, xp.integer):
        return int(value)
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{where} (position 2) must be tuple of ints, not {_kind(value)}")
    items = []
    for index, item in enumerate(value):
        if item is None or (type(item) is int) or isinstance(item, xp.integer):
            items.append(item if item is None else int(item))
        elif isinstance(item, Tensor) and item.numel() == 1 and not (
                item.is_floating_point() or item.is_complex()):
            items.append(item if item.dtype.name == "bool" else int(item.item()))
        elif index == 0:
            raise TypeError(f"{where} (position 2) must be tuple of ints, but found element of "
                            f"type {_kind(item)} at pos 0")
        else:
            raise TypeError(f"{where} failed to unpack the object at pos {index + 1} with error "
                            f"\"type must be tuple of ints,but got {_kind(item)}\"")
    return tuple(items)


@contextlib.contextmanager
def allocation_errors():
    """NumPy's MemoryError for an array too big (an output size a caller chose) as the
    RuntimeError torch's allocator raises."""
    try:
        yield
    except MemoryError as error:
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: {error}") from None


def _kind(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def _check_output_rank(input, nd, output_size):
    """torch.nn.functional's own output_size step for 2-d/3-d adaptive pools: anything but an
    int must have a len() shorter than the input's rank; its Nones become the input's sizes."""
    if nd == 1 or isinstance(output_size, int):
        return output_size
    if input.dim() <= len(output_size):  # len() raises TypeError for a float, a 0-d tensor
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    defaults = input.shape[input.dim() - len(output_size):]
    return [d if v is None else v for v, d in zip(output_size, defaults)]


def _adaptive_avg(input, nd, output_size):
    name = f"adaptive_avg_pool{nd}d"
    output_size = _check_output_rank(input, nd, output_size)
    # PyTorch's 1-d and 2-d kernels accept no channels (an empty result); only a batched
    # input's spatial sizes must be positive there
    no_channels = nd < 3 and input.dim() in (nd + 1, nd + 2) \
        and input.shape[-nd - 1] == 0 and all(n > 0 for n in input.shape[-nd:])
    if not no_channels:
        _check_pool_input(input, nd, name, "adaptive")
    if not input.is_floating_point():
        if input.numel() == 0:  # PyTorch only dispatches on the dtype to compute something
            spatial = input.shape[input.dim() - nd:]
            shape = tuple(input.shape[:input.dim() - nd]) + _output_size(output_size, spatial,
                                                                          name)
            return Tensor._make(get_array_module(input._data).zeros(shape, input._data.dtype))
        kernel = "adaptive_avg_pool3d_cpu" if nd == 3 else "adaptive_avg_pool2d"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(input)}\'')
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    spatial = x.shape[2:]
    out = _output_size(output_size, spatial, name)
    dtype = opmath_dtype(x._data.dtype)  # NOTE [opmath]
    module = get_array_module(x._data)
    mats, count = [], module.ones((1,) * nd, dtype=dtype)
    with allocation_errors():  # (count has the output's spatial shape)
        for axis, (n, o) in enumerate(zip(spatial, out)):
            start, end = _adaptive_bounds(n, o, module)
            cols = module.arange(n)
            mats.append(((cols >= start[:, None]) & (cols < end[:, None])).astype(dtype))
            shape = [1] * nd
            shape[axis] = o
            count = count * (end - start).reshape(shape).astype(dtype)
    name = "SqueezeBackward1" if nd == 1 else f"AdaptiveAvgPool{nd}DBackward0"
    global_pool = nd > 1 and all(o == 1 for o in out)
    if global_pool:
        name = "MeanBackward1"  # PyTorch computes a global average pool as a mean
    # PyTorch's adaptive_avg_pool3d kernel sums 16-bit floats in their own dtype (a global
    # pool is a mean, in float32 as every other case)
    sequential = nd == 3 and not global_pool
    with allocation_errors():
        y = _named(AdaptiveAvg, name).apply(x, tuple(mats), count, sequential)
    return y if batched else DropBatch.apply(y)


@op
def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Average pooling to a fixed output length (matches `F.adaptive_avg_pool1d`)."""
    return _adaptive_avg(input, 1, output_size)


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Average pooling to a fixed output size (matches `F.adaptive_avg_pool2d`)."""
    return _adaptive_avg(input, 2, output_size)


def adaptive_avg_pool3d(input, output_size) -> Tensor:
    """Average pooling to a fixed output size (matches `F.adaptive_avg_pool3d`)."""
    return _adaptive_avg(input, 3, output_size)


class AdaptiveMaxPool(Op):
    """y = max over each (uneven) window;  gx = gy scattered to the first argmax."""

    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out):
        a = x._data
        nd = len(out)
        spatial = a.shape[2:]
        module = get_array_module(a)
        if 0 in out or a.size == 0:  # an empty output (or input) has no windows
            ctx.idx, ctx.shape = module.zeros(a.shape[:2] + out, dtype=xp.int64), a.shape
            return module.zeros(a.shape[:2] + out, dtype=a.dtype), ctx.idx
        tables = [_window_table(n, o, module) for n, o in zip(spatial, out)]
        y, coords = _separable_max(a, tables)
        idx = module.zeros(y.shape, dtype=xp.int64)
        for axis in range(nd):
            idx = idx * spatial[axis] + coords[axis]
        ctx.idx, ctx.shape = idx, a.shape
        return y, idx

    @staticmethod
    def backward(ctx, gy, gidx=None):
        return IndexScatterAdd.apply(gy, ctx.idx, ctx.shape, False), None


# NOTE [Adaptive windows by gather]: windows differ in length, so each dim gets an index table
# (o, kmax) whose short rows repeat their last position. PyTorch scans a window in order and
# takes an element when `val > max || isnan(val)`: the first maximum, or the last NaN. That
# element lies in the first row holding the window's maximum (the last row holding a NaN),
# at that row's own pick, so the dims are reduced one at a time, the last first. Along one
# dim, offset k of every window is one gather (`take` of table column k) and a running pick
# over the kmax offsets applies PyTorch's test: whole-array passes, where NumPy's argmax over
# a short last axis costs ~20 ns a window. A repeated position only ever re-picks itself.
def _window_table(length: int, out: int, module):
    """The (out, kmax) input positions of each window along one dim (NOTE above)."""
    start, end = _adaptive_bounds(length, out, module)
    kmax = int((end - start).max())
    return xp.minimum(start[:, None] + module.arange(kmax), end[:, None] - 1)


def _separable_max(a, tables):
    """(max over each window, the input coordinate of its first maximum along each dim) for
    a of shape (N, C, *spatial) and one window table per spatial dim (NOTE above)."""
    nd = len(tables)
    values, coords = a, [None] * nd
    has_nan = holds_nan(a.dtype) and bool(xp.isnan(a).any())
    for axis in reversed(range(nd)):
        dim, table = 2 + axis, tables[axis]
        values, offset = _first_max_along(values, table, dim, has_nan)
        for inner in range(axis + 1, nd):  # the inner dims' coordinates, of the chosen rows
            coords[inner] = _at_offset(coords[inner], table, dim, offset)
        coords[axis] = _at_offset(None, table, dim, offset)
    return values, coords


def _first_max_along(array, table, dim, has_nan):
    """(each window's first maximum along dim, its offset in the window)."""
    best = xp.take(array, table[:, 0], axis=dim)
    offset = xp.zeros(best.shape, dtype=xp.int16)
    for k in range(1, table.shape[1]):
        candidate = xp.take(array, table[:, k], axis=dim)
        better = xp.greater(candidate, best)
        if has_nan:  # a NaN beats everything, an earlier NaN too (PyTorch's `val > max ||
            better |= xp.isnan(candidate)  # isnan(val)`)
        best = select_into(candidate, better, candidate, best)  # (the first maximum's bits)
        offset -= better * (offset - k)  # k where better
    return best, offset


def _at_offset(array, table, dim, offset):
    """The input position along dim of each window's element at offset, or array's value
    there (array: dim still the input's length, the other dims the windows')."""
    rows = xp.arange(table.shape[0]).reshape((-1,) + (1,) * (offset.ndim - dim - 1))
    positions = table[rows, offset]
    return positions if array is None else xp.take_along_axis(array, positions, axis=dim)

def _adaptive_max(input, nd, output_size, return_indices):
    name = f"adaptive_max_pool{nd}d"
    output_size = _check_output_rank(input, nd, output_size)
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    out = _output_size(output_size, x.shape[2:], name)
    _check_max_input(input, nd, name)
    op = _named(AdaptiveMaxPool, "SqueezeBackward1" if nd == 1
                else f"AdaptiveMaxPool{nd}DBackward0")
    with allocation_errors():
        y, idx = op.apply(x, out)
    if not batched:
        y, idx = DropBatch.apply(y), Tensor._make(idx._data[0])
    return (y, idx) if return_indices else y


def _check_max_input(input, nd, name):
    """PyTorch's adaptive max pools need every non-batch dim non-empty and a float dtype."""
    for dim in range(1, input.dim()):
        if input.shape[dim] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {dim} being empty")
    if not input.is_floating_point():
        kernel = "adaptive_max_pool3d_cpu" if nd == 3 else "adaptive_max_pool2d"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(input)}\'')


def _adaptive_max_pool1d_pair(input, output_size):
    """(values, indices) of max pooling to a fixed output length (matches
    `torch.adaptive_max_pool1d`, which always returns both)."""
    return _adaptive_max(input, 1, output_size, True)


_adaptive_max_pool1d_pair.__name__ = "adaptive_max_pool1d"  # torch's name for the pair op
op(_adaptive_max_pool1d_pair)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length (matches `F.adaptive_max_pool1d`): the pair op,
    its values only unless return_indices (read first, as torch's boolean dispatch does)."""
    pair = bool(return_indices)
    values, indices = FUNCTIONS["adaptive_max_pool1d"](input, output_size)
    return (values, indices) if pair else values


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (matches `F.adaptive_max_pool2d`)."""
    return _adaptive_max(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (matches `F.adaptive_max_pool3d`)."""
    return _adaptive_max(input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool1d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool2d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool3d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 3, output_size, True)
