"""Pooling (max, average, adaptive, unpool) over 1, 2 or 3 spatial dims, on strided windows.

NOTE [Pooling geometry]
Per spatial dim, with kernel k, stride s, padding p and dilation d, PyTorch's output size
is o = ⌊(L + 2p - d·(k-1) - 1) / s⌋ + 1, or ⌈·⌉ with ceil_mode, where ceil_mode drops a window
that would start in the right padding (it must start inside the input or the left padding).
A ceil_mode window may run past the padded input; we pad that far (with -inf for max, zeros for
average, whose divisor only counts the part inside the padded input, as PyTorch does).

Max pooling reads the windows through a strided view, reshapes them to (N, C, *O, ∏K), and takes
the first maximum (`argmax`; NaN counts as the maximum, as in PyTorch). Its indices are flat
positions in each (n, c) input plane (PyTorch's convention, the one max_unpool reads), and its
gradient is a scatter-add of gy at those indices: a gather/scatter pair of ops that are each
other's adjoint, so max pooling is differentiable any number of times.
"""

import math

import numpy as np

from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops.conv import AddBatch, DropBatch, _col2im, _named, _ntuple, _pad_zeros, _type_word

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]


# ---- geometry -------------------------------------------------------------------------------
def _out_size(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size for one dim (see NOTE [Pooling geometry])."""
    span = length + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= length + p:
        out -= 1
    return out


def _pads(spatial, kernel, stride, padding, dilation, out):
    """Padding before/after each dim so that every window fits (after may exceed p)."""
    hi = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - n - p) for n, k, s, p, d, o in
               zip(spatial, kernel, stride, padding, dilation, out))
    return tuple(padding), hi


def _lowest(dtype):
    return -np.inf if np.issubdtype(dtype, np.floating) else np.iinfo(dtype).min


# ---- gather / scatter by flat index ---------------------------------------------------------
class IndexGather(Op):
    """y[n, c, o] = x[n, c].flat[idx[n, c, o]];  gx = scatter-add of gy at idx."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.shape = idx, x._data.shape
        n, c = idx.shape[:2]
        flat = x._data.reshape(n, c, -1)
        return np.take_along_axis(flat, idx.reshape(n, c, -1), axis=2).reshape(idx.shape)

    @staticmethod
    def backward(ctx, gy):
        return IndexScatterAdd.apply(gy, ctx.idx, ctx.shape, False), None


class IndexScatterAdd(Op):
    """y = zeros(shape); y[n, c].flat[idx[n, c, o]] += x[n, c, o];  gx = gather of gy at idx."""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, x, idx, shape, unique):
        ctx.idx = idx
        n, c = shape[:2]
        plane = math.prod(shape[2:])
        values = x._data.reshape(n * c, -1)
        rows = idx.reshape(n * c, -1)
        if unique:  # windows do not overlap: each input position is hit at most once
            y = np.zeros((n * c, plane), dtype=x._data.dtype)
            np.put_along_axis(y, rows, values, axis=1)
        else:
            flat = rows + (np.arange(n * c) * plane)[:, None]
            y = np.bincount(flat.ravel(), weights=values.ravel(), minlength=n * c * plane)
            y = y.astype(x._data.dtype, copy=False)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return IndexGather.apply(gy, ctx.idx), None, None, None


# ---- max pooling ----------------------------------------------------------------------------
class MaxPool(Op):
    """y = max over each window;  gx = gy scattered to the (first) argmax of each window."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out):
        a = x._data
        lo, hi = _pads(a.shape[2:], kernel, stride, padding, dilation, out)
        padded = _pad_constant(a, lo, hi, _lowest(a.dtype))
        # NOTE [Max pooling by kernel offsets]: each kernel offset is one output-sized strided
        # slice of the padded input (no window copy). The max is a running np.maximum over
        # them; the offset picked is the first one equal to it, as PyTorch's scan keeps the
        # first maximum. np.maximum propagates NaN like PyTorch; its scan then points at the
        # last NaN. Flat indices are linear in the offset: base(o) + table[offset].
        windows = [padded[(slice(None),) * 2 + tuple(
            slice(k * d, k * d + (o - 1) * s + 1, s)
            for k, d, o, s in zip(offset, dilation, out, stride))]
            for offset in np.ndindex(*kernel)]
        best = windows[0].copy()
        for window in windows[1:]:
            np.maximum(best, window, out=best)
        pick = np.full(best.shape, len(windows) - 1, dtype=np.int16)
        for number in range(len(windows) - 2, -1, -1):
            np.copyto(pick, number, where=windows[number] == best)
        if np.issubdtype(a.dtype, np.floating) and np.isnan(best).any():
            for number, window in enumerate(windows):
                np.copyto(pick, number, where=np.isnan(window))
        idx = _flat_index(pick, a.shape[2:], kernel, stride, padding, dilation)
        ctx.idx, ctx.shape = idx, a.shape
        ctx.unique = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        return best, idx

    @staticmethod
    def backward(ctx, gy, gidx=None):
        gx = IndexScatterAdd.apply(gy, ctx.idx, ctx.shape, ctx.unique)
        return gx, None, None, None, None, None


def _flat_index(pick, spatial, kernel, stride, padding, dilation):
    """Flat input position of kernel offset number `pick` at each output position (int64)."""
    nd = len(kernel)
    base = np.zeros(pick.shape[2:], dtype=np.int64)
    table = np.zeros(kernel, dtype=np.int64)
    for axis in range(nd):
        shape = [1] * nd
        shape[axis] = -1
        start = np.arange(pick.shape[2 + axis]) * stride[axis] - padding[axis]
        base = base * spatial[axis] + start.reshape(shape)
        table = table * spatial[axis] + (np.arange(kernel[axis]) * dilation[axis]).reshape(shape)
    return base + table.ravel()[pick]


def _pad_constant(a, lo, hi, value):
    return _pad_zeros(a, lo, hi, value)


def _check_pool_input(input, nd, name, style):
    """PyTorch's rank check for pooling inputs (its wording differs per op)."""
    sizes = input.shape[1:] if input.dim() == nd + 2 else input.shape
    if input.dim() in (nd + 1, nd + 2) and all(n > 0 for n in sizes):
        return
    if style == "max1d":
        raise RuntimeError(
            f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(input.shape)}")
    if style == "avg1d":
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument "
            "#1 'self' (while checking arguments for avg_pool1d)")
    if style == "adaptive":
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    if style == "avg2d":
        if input.dim() < nd + 1:  # PyTorch reads input.size(-3) first
            size = max(input.dim(), 1)
            raise IndexError(f"Dimension out of range (expected to be in range of [{-size}, "
                             f"{size - 1}], but got -3)")
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(input.shape)}")
    raise RuntimeError(
        f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")


def _pool_args(x, nd, kernel_size, stride, padding, dilation, ceil_mode, name):
    """Normalise kernel/stride/padding/dilation; the output size with PyTorch's checks."""
    kernel = _ntuple(kernel_size, nd)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and
                                          len(stride) == 0) else _ntuple(stride, nd)
    padding, dilation = _ntuple(padding, nd), _ntuple(dilation, nd)
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    for p, k, d in zip(padding, kernel, dilation):
        if dilation is not None and p > (d * (k - 1) + 1) // 2:
            if name.startswith("avg"):
                raise RuntimeError(
                    f"pad should be at most half of effective kernel size, but got pad={p}, "
                    f"kernel_size={k} and dilation={d}")
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}")
    spatial = x.shape[2:]
    out = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                zip(spatial, kernel, stride, padding, dilation))
    if any(o <= 0 for o in out):
        if name == "max_pool1d":
            raise RuntimeError(f"max_pool1d() Invalid computed output size: {out[0]}")
        c = x.shape[1]
        raise RuntimeError(
            f"Given input size: ({'x'.join(map(str, (c,) + tuple(spatial)))}). Calculated output "
            f"size: ({'x'.join(map(str, (c,) + out))}). Output size is too small")
    return kernel, stride, padding, dilation, out


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{nd}d"
    _check_pool_input(input, nd, name, "max1d" if nd == 1 else "max")
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    kernel, stride, padding, dilation, out = _pool_args(
        x, nd, kernel_size, stride, padding, dilation, ceil_mode, name)
    name = "SqueezeBackward1" if nd == 1 else f"MaxPool{nd}DWithIndicesBackward0"
    y, idx = _named(MaxPool, name).apply(x, kernel, stride, padding, dilation, out)
    if not batched:
        y, idx = DropBatch.apply(y), Tensor._make(idx._data[0])
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L) (matches `torch.nn.functional.max_pool1d`)."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W) (matches `torch.nn.functional.max_pool2d`)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W) (matches `torch.nn.functional.max_pool3d`)."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool2d returning (values, indices) (matches `F.max_pool2d_with_indices`)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- average pooling ------------------------------------------------------------------------
def _avg_divisor(spatial, kernel, stride, padding, out, count_include_pad, divisor_override):
    """The divisor of each output position, shaped (*out) (see NOTE [Pooling geometry])."""
    if divisor_override:
        return np.full(out, float(divisor_override))
    divisor = np.ones(out)
    for axis, (n, k, s, p, o) in enumerate(zip(spatial, kernel, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            end, start = np.minimum(end, n), np.maximum(start, 0)
        shape = [1] * len(out)
        shape[axis] = o
        divisor = divisor * (end - start).reshape(shape)
    return divisor


class AvgPool(Op):
    """y = Σ window / divisor;  gx = gy / divisor summed back over each window (col2im)."""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out, divisor):
        a = x._data
        lo, hi = _pads(a.shape[2:], kernel, stride, padding, (1,) * len(kernel), out)
        padded = _pad_zeros(a, lo, hi)
        total = None  # Σ over kernel offsets of output-sized strided slices (no window copy)
        for offset in np.ndindex(*kernel):
            window = padded[(slice(None),) * 2 + tuple(
                slice(k, k + (o - 1) * s + 1, s) for k, o, s in zip(offset, out, stride))]
            if total is None:
                total = window.astype(np.result_type(a.dtype, divisor.dtype))
            else:
                total += window
        ctx.args = (kernel, stride, padding, out, divisor)
        ctx.spatial = a.shape[2:]
        return (total / divisor).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, gy):
        return (AvgPoolBackward.apply(gy, ctx.spatial, *ctx.args),) + (None,) * 5


class AvgPoolBackward(Op):
    """gx = Σ over the windows containing each position of gy / divisor;  ggy = avg_pool(ggx)."""

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, spatial, kernel, stride, padding, out, divisor):
        g = gy._data
        nd = len(kernel)
        lo, hi = _pads(spatial, kernel, stride, padding, (1,) * nd, out)
        scaled = (g / divisor).astype(g.dtype, copy=False)
        cols = np.broadcast_to(scaled.reshape(g.shape[:2] + (1,) * nd + tuple(out)),
                               g.shape[:2] + tuple(kernel) + tuple(out))
        size = tuple(n + a + b for n, a, b in zip(spatial, lo, hi))
        full = _col2im(cols, size, stride, (1,) * nd)
        ctx.args = (kernel, stride, padding, out, divisor)
        return full[(slice(None),) * 2 + tuple(slice(a, a + n) for a, n in zip(lo, spatial))]

    @staticmethod
    def backward(ctx, ggx):
        return (AvgPool.apply(ggx, *ctx.args),) + (None,) * 6


def _avg_pool(input, nd, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    name = f"avg_pool{nd}d"
    _check_pool_input(input, nd, name, {1: "avg1d", 2: "avg2d", 3: "max"}[nd])
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    kernel, stride, padding, _, out = _pool_args(x, nd, kernel_size, stride, padding, 1,
                                                 ceil_mode, name)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    divisor = _avg_divisor(x.shape[2:], kernel, stride, padding, out, count_include_pad,
                           divisor_override).astype(x._data.dtype if x.is_floating_point()
                                                    else np.float64)
    op = _named(AvgPool, "SqueezeBackward1" if nd == 1 else f"AvgPool{nd}DBackward0")
    y = op.apply(x, kernel, stride, padding, out, divisor)
    return y if batched else DropBatch.apply(y)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True) -> Tensor:
    """Mean over sliding windows of (N, C, L) (matches `torch.nn.functional.avg_pool1d`)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over sliding windows of (N, C, H, W) (matches `torch.nn.functional.avg_pool2d`)."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Mean over sliding windows of (N, C, D, H, W) (matches `F.avg_pool3d`)."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


# ---- adaptive pooling -----------------------------------------------------------------------
def _adaptive_bounds(length: int, out: int):
    """Window i covers [⌊i·L/o⌋, ⌈(i+1)·L/o⌉) (PyTorch's uneven split)."""
    i = np.arange(out)
    return (i * length) // out, -(-((i + 1) * length) // out)


def _apply_matrices(a, mats):
    """a with its trailing dim j contracted with mats[j] (o_j × n_j), one dim at a time."""
    nd = len(mats)
    for j, m in enumerate(mats):
        axis = a.ndim - nd + j
        if axis == a.ndim - 1:
            a = np.matmul(a, m.T)
        else:
            lead, n, rest = a.shape[:axis], a.shape[axis], a.shape[axis + 1:]
            a = np.matmul(m, a.reshape(lead + (n, math.prod(rest))))
            a = a.reshape(lead + (m.shape[0],) + rest)
    return a


class SeparableLinear(Op):
    """y = x ×_1 M_1 ··· ×_k M_k along the trailing dims;  gx = gy ×_1 M_1ᵀ ··· ×_k M_kᵀ.

    Adaptive average pooling and (bi/tri)linear and bicubic interpolation all weigh each
    spatial dim independently, so each is one small matrix per dim applied with `matmul`.
    """

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, mats):
        ctx.mats = mats
        return _apply_matrices(x._data, mats)

    @staticmethod
    def backward(ctx, gy):
        return SeparableLinear.apply(gy, tuple(np.ascontiguousarray(m.T) for m in ctx.mats)), None


def _output_size(output_size, spatial):
    size = _ntuple(output_size, len(spatial)) if not isinstance(output_size, (list, tuple)) \
        else tuple(output_size)
    return tuple(n if o is None else int(o) for o, n in zip(size, spatial))


def _adaptive_avg(input, nd, output_size):
    name = f"adaptive_avg_pool{nd}d"
    _check_pool_input(input, nd, name, "adaptive")
    if not input.is_floating_point():
        raise NotImplementedError(f'"{name}" not implemented for \'{_type_word(input)}\'')
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    spatial = x.shape[2:]
    out = _output_size(output_size, spatial)
    dtype = x._data.dtype
    mats = []
    for n, o in zip(spatial, out):
        start, end = _adaptive_bounds(n, o)
        cols = np.arange(n)
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        mats.append((inside / (end - start)[:, None]).astype(dtype))
    name = "SqueezeBackward1" if nd == 1 else f"AdaptiveAvgPool{nd}DBackward0"
    if nd == 2 and out == (1, 1):
        name = "MeanBackward1"  # PyTorch computes a global average pool as a mean
    y = _named(SeparableLinear, name).apply(x, tuple(mats))
    return y if batched else DropBatch.apply(y)


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
        # NOTE [Adaptive windows by gather]: windows differ in length, so each dim gets an index
        # table (o, kmax) whose short rows repeat their last element; a repeat comes after the
        # original in scan order, so argmax (first maximum) still picks PyTorch's index.
        grids = []
        for axis, (n, o) in enumerate(zip(spatial, out)):
            start, end = _adaptive_bounds(n, o)
            kmax = int((end - start).max())
            table = np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1)
            shape = [1] * (2 * nd)
            shape[axis], shape[nd + axis] = o, kmax
            grids.append(table.reshape(shape))
        windows = a[(Ellipsis,) + tuple(grids)]  # (N, C, *O, *Kmax)
        windows = windows.reshape(windows.shape[:2 + nd] + (-1,))
        pick = windows.argmax(axis=-1)
        y = np.take_along_axis(windows, pick[..., None], axis=-1)[..., 0]
        coords = np.unravel_index(pick, tuple(g.shape[nd + i] for i, g in enumerate(grids)))
        idx = np.zeros(pick.shape, dtype=np.int64)
        for axis in range(nd):
            table = grids[axis].reshape(out[axis], -1)
            shape = [1] * pick.ndim
            shape[2 + axis] = out[axis]
            rows = np.arange(out[axis]).reshape(shape)
            idx = idx * spatial[axis] + table[rows, coords[axis]]
        ctx.idx, ctx.shape = idx, a.shape
        return y, idx

    @staticmethod
    def backward(ctx, gy, gidx=None):
        return IndexScatterAdd.apply(gy, ctx.idx, ctx.shape, False), None


def _adaptive_max(input, nd, output_size, return_indices):
    name = f"adaptive_max_pool{nd}d"
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input.shape)}")
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    op = _named(AdaptiveMaxPool, "SqueezeBackward1" if nd == 1
                else f"AdaptiveMaxPool{nd}DBackward0")
    y, idx = op.apply(x, _output_size(output_size, x.shape[2:]))
    if not batched:
        y, idx = DropBatch.apply(y), Tensor._make(idx._data[0])
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length (matches `F.adaptive_max_pool1d`)."""
    return _adaptive_max(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (matches `F.adaptive_max_pool2d`)."""
    return _adaptive_max(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (matches `F.adaptive_max_pool3d`)."""
    return _adaptive_max(input, 3, output_size, return_indices)


# ---- max unpooling --------------------------------------------------------------------------
class MaxUnpool(Op):
    """y = zeros; y[n, c].flat[idx] = x (last write wins);  gx = gy gathered at idx."""

    node_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, idx, size):
        a = x._data
        n, c = a.shape[:2]
        plane = math.prod(size)
        rows = idx.reshape(n * c, -1)
        if rows.size and (rows.min() < 0 or rows.max() >= plane):
            bad = rows[(rows < 0) | (rows >= plane)][0]
            raise RuntimeError(
                f"Found an invalid max index: {bad} (output volumes are of size "
                f"{'x'.join(map(str, size))})")
        y = np.zeros((n * c, plane), dtype=a.dtype)
        np.put_along_axis(y, rows, a.reshape(n * c, -1), axis=1)
        ctx.idx = idx
        return y.reshape((n, c) + tuple(size))

    @staticmethod
    def backward(ctx, gy):
        return IndexGather.apply(gy, ctx.idx), None, None


def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size):
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    kernel = _ntuple(kernel_size, nd)
    stride = kernel if stride is None else _ntuple(stride, nd)
    padding = _ntuple(padding, nd)
    if output_size is None:
        size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                     zip(x.shape[2:], stride, padding, kernel))
    else:
        size = tuple(int(o) for o in tuple(output_size)[-nd:])
    idx = indices._data if batched else indices._data[None]
    y = MaxUnpool.apply(x, idx.astype(np.int64, copy=False), size)
    return y if batched else DropBatch.apply(y)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put values back at their max_pool1d indices (matches `F.max_unpool1d`)."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put values back at their max_pool2d indices (matches `F.max_unpool2d`)."""
    return _max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put values back at their max_pool3d indices (matches `F.max_unpool3d`)."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


# ---- aliases and power-average pooling ------------------------------------------------------
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool1d returning (values, indices) (matches `F.max_pool1d_with_indices`)."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool3d returning (values, indices) (matches `F.max_pool3d_with_indices`)."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool1d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool2d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool3d returning (values, indices) (matches its torch namesake)."""
    return _adaptive_max(input, 3, output_size, True)


def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode):
    """(Σ window x^p)^(1/p) = (∏K · avg_pool(x^p))^(1/p), sign-safe as PyTorch writes it."""
    from ember.ops.unary import abs, relu, sign

    kernel = _ntuple(kernel_size, nd)
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    return (sign(out) * relu(abs(out))).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, L) (matches `torch.nn.functional.lp_pool1d`)."""
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, H, W) (matches `torch.nn.functional.lp_pool2d`)."""
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False) -> Tensor:
    """Power-average pooling over (N, C, D, H, W) (matches `F.lp_pool3d`)."""
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)
