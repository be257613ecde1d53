"""Max pooling and max unpooling over 1, 2 or 3 spatial dims, on strided windows.

NOTE [Pooling geometry]
Per spatial dim, with kernel k, stride s, padding p and dilation d, PyTorch's output size
is o = ⌊(L + 2p - d·(k-1) - 1) / s⌋ + 1, or ⌈·⌉ with ceil_mode, where ceil_mode drops a window
that would start in the right padding (it must start inside the input or the left padding).
A ceil_mode window may run past the padded input; we pad that far (with -inf for max, zeros for
average, whose divisor only counts the part inside the padded input, as PyTorch does).

Max pooling takes a running maximum over one strided view of the padded input per kernel
offset, or, when the windows tile the input (kernel == stride, no padding), over the tiles of
`ember/ops/pool_tiles.py`. Each window's first maximum (NaN counts as the maximum, as in
PyTorch) gives its index, a flat position in its (n, c) input plane (PyTorch's convention, the
one max_unpool reads), computed only when asked for or when the gradient needs it. The gradient
is a scatter-add of gy at those indices: a gather/scatter pair of ops that are each other's
adjoint, so max pooling is differentiable any number of times; a first-order backward over
tiles needs no indices (NOTE [Max pooling over tiles]).

The geometry helpers here serve all pooling: average and power-average pooling are in
`ember/ops/pool_avg.py`, adaptive pooling in `ember/ops/pool_adaptive.py`.
"""

import math

from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops._conv_kernels import _pad_zeros, offset_window
from ember.ops.conv import AddBatch, DropBatch, _named, _ntuple, _type_word
from ember.ops.conversion import in_suggested_format
from ember.ops.pool_phases import Phases, phased
from ember.ops.pool_tiles import tile_max, tile_max_backward, tiles_input
from ember.ops.relu_kernels import keep_where

_state = grad_mode._state


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
    """The padding value of max pooling: -inf for floats (bfloat16 too), else the minimum."""
    return xp.iinfo(dtype).min if dtype.kind in "iub" else -xp.inf


# ---- gather / scatter by flat index ---------------------------------------------------------
class IndexGather(Op):
    """y[n, c, o] = x[n, c].flat[idx[n, c, o]];  gx = scatter-add of gy at idx."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.idx, ctx.shape = idx, x._data.shape
        n, c = idx.shape[:2]
        flat = x._data.reshape(n, c, -1)
        return xp.take_along_axis(flat, idx.reshape(n, c, -1), axis=2).reshape(idx.shape)

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
            y = get_array_module(x._data).zeros((n * c, plane), dtype=x._data.dtype)
            xp.put_along_axis(y, rows, values, axis=1)
        else:
            flat = rows + (get_array_module(x._data).arange(n * c) * plane)[:, None]
            y = xp.bincount(flat.ravel(), weights=values.ravel(), minlength=n * c * plane)
            y = y.astype(x._data.dtype, copy=False)
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return IndexGather.apply(gy, ctx.idx), None, None, None


# ---- max pooling ----------------------------------------------------------------------------
class MaxPool(Op):
    """y = max over each window;  gx = gy scattered to the (first) argmax of each window.

    Indices are computed only when asked for (return_indices): the backward finds each window's
    maximum again from the saved input and output, which costs less than the indices and their
    scatter (see NOTE [Max pooling over tiles] for the common case)."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out, with_indices=True):
        a = x._data
        geometry = (kernel, stride, padding, dilation, out)
        tiles = tiles_input(a.shape, *geometry)
        best = tile_max(a, kernel, out) if tiles else _window_max(_windows(a, *geometry))
        best = in_suggested_format(best, a)  # (channels-last in, channels-last out)
        y = Tensor._make(best)
        ctx.geometry, ctx.tiles, ctx.idx, ctx.shape = geometry, tiles, None, a.shape
        ctx.unique = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x)  # with the output, unless it changes in place before then
            ctx.best, ctx.best_version = best, (y._version_counter, y._version_counter.value)
        if with_indices:
            ctx.idx = _max_indices(a, best, geometry)
            return y, ctx.idx
        return y

    @staticmethod
    def backward(ctx, gy, gidx=None):
        (x,) = ctx.saved_tensors
        a, geometry = x._data, ctx.geometry
        version, value = ctx.best_version
        best = ctx.best if version.value == value else (
            tile_max(a, geometry[0], geometry[4]) if ctx.tiles
            else _window_max(_windows(a, *geometry)))
        if not _state["enabled"]:  # a first-order backward: no graph, no indices
            gx = (tile_max_backward(a, best, gy._data, geometry[0], geometry[4])
                  if ctx.tiles else _window_max_backward(a, best, gy._data, geometry))
            return Tensor._make(gx), None, None, None, None, None, None
        idx = ctx.idx if ctx.idx is not None else _max_indices(a, best, geometry)
        gx = IndexScatterAdd.apply(gy, idx, ctx.shape, ctx.unique)
        return gx, None, None, None, None, None, None


def _windows(a, kernel, stride, padding, dilation, out, pads=True):
    """One output-sized view of the padded input (or of a, already padded) per kernel offset,
    in scan order: strided views, or for a strided pooling views of its phases."""
    padded = a
    if pads:
        lo, hi = _pads(a.shape[2:], kernel, stride, padding, dilation, out)
        padded = _pad_constant(a, lo, hi, _lowest(a.dtype))
    if phased(stride, padded):
        return Phases.of(padded, stride).windows(kernel, dilation, out)
    return [padded[(slice(None),) * 2 + offset_window(offset, dilation, out, stride)]
            for offset in xp.ndindex(*kernel)]


def _window_max(windows):
    """The running xp.maximum over the kernel offsets' views (NaN propagates, as in PyTorch)."""
    best = windows[0].copy()
    for window in windows[1:]:
        xp.maximum(best, window, out=best)
    return best


def _inside(a, geometry, best):
    """Per kernel offset, where its window position lies inside the input (not padding): None
    when no window's maximum is the padding value, so that padding can't be picked anyway.
    (PyTorch's scan starts at a window's first position inside the input and only moves on
    to larger values, so a window of padding-valued elements keeps that first position.)"""
    lo, hi = _pads(a.shape[2:], *geometry[:4], geometry[4])
    if (not any(lo) and not any(hi)) or not (best == _lowest(a.dtype)).any():
        return None
    inside = _pad_constant(get_array_module(a).ones((1, 1) + a.shape[2:], dtype=bool),
                           lo, hi, False)
    return _windows(inside, *geometry, pads=False)


def _first_max_masks(windows, best, inside=None):
    """Per kernel offset, where it holds its window's first maximum in scan order, or, in a
    window holding NaN, its last NaN (PyTorch's scan); each window has one offset set.
    `inside` (views like the windows') rules out padding positions."""
    masks, found = [], None
    for number, window in enumerate(windows):
        mask = window == best
        if inside is not None:
            xp.logical_and(mask, inside[number], out=mask)
        if found is None:
            found = mask.copy()
        else:
            xp.greater(mask, found, out=mask)  # mask and not found
            xp.logical_or(found, mask, out=found)
        masks.append(mask)
    if best.dtype.kind not in "iub" and xp.isnan(best).any():  # NaN equals nothing
        seen = None
        for mask, window in zip(reversed(masks), reversed(windows)):
            nan = xp.isnan(window)
            if seen is None:
                seen = nan.copy()
            else:
                xp.greater(nan, seen, out=nan)
                xp.logical_or(seen, nan, out=seen)
            xp.logical_or(mask, nan, out=mask)
    return masks


def _window_max_backward(a, best, gy, geometry):
    """gx = gy added at each window's maximum, one kernel offset at a time (no indices).

    NOTE [Max pooling's scatter order]: PyTorch adds gy into zeros output by output in
    row-major order. An input position gets gy from output o through offset k with
    o·s + k·d = position, so a later output reaches it through an earlier offset: adding the
    offsets' contributions in descending offset order sums overlapping windows in PyTorch's
    float order, bit for bit (+0 where nothing arrives, as zeros + -0 is +0)."""
    kernel, stride, padding, dilation, out = geometry
    lo, hi = _pads(a.shape[2:], kernel, stride, padding, dilation, out)
    padded = _pad_constant(a, lo, hi, _lowest(a.dtype))
    masks = _first_max_masks(_windows(padded, *geometry, pads=False), best,
                             _inside(a, geometry, best))
    if phased(stride, padded):  # NOTE [Pooling by phases]
        phases = Phases.zeros_like(padded, stride, gy.dtype)
        targets = phases.windows(kernel, dilation, out)
    else:
        gx = get_array_module(a).zeros(padded.shape, dtype=gy.dtype)
        targets = _windows(gx, *geometry, pads=False)
    arriving = get_array_module(a).empty(gy.shape, dtype=gy.dtype)
    for target, mask in zip(reversed(targets), reversed(masks)):
        keep_where(arriving, gy, mask)  # (gy's bits or +0: an inf or NaN gy lands only once)
        xp.add(target, arriving, out=target)
    if phased(stride, padded):
        gx = phases.assemble()
    if not any(lo) and not any(hi):
        return gx
    return xp.ascontiguousarray(gx[(slice(None),) * 2 + tuple(
        slice(p, p + n) for p, n in zip(lo, a.shape[2:]))])


def _max_indices(a, best, geometry):
    """Flat input index of each window's maximum (see NOTE [Max pooling by kernel offsets])."""
    # NOTE [Max pooling by kernel offsets]: each kernel offset is one output-sized strided
    # slice of the padded input (no window copy). The offset picked is the first one equal to
    # the maximum, as PyTorch's scan keeps the first maximum. xp.maximum propagates NaN like
    # PyTorch; its scan then points at the last NaN. Flat indices are linear in the offset:
    # base(o) + table[offset].
    masks = _first_max_masks(_windows(a, *geometry), best, _inside(a, geometry, best))
    module = get_array_module(a)
    pick, term = module.zeros(best.shape, dtype=xp.int16), module.empty(best.shape, xp.int16)
    for number, mask in enumerate(masks[1:], 1):  # branch-free: faster than copyto's where=
        xp.add(pick, xp.multiply(mask, xp.int16(number), out=term), out=pick)
    kernel, stride, padding, dilation, _ = geometry
    return _flat_index(pick, a.shape[2:], kernel, stride, padding, dilation)


def _flat_index(pick, spatial, kernel, stride, padding, dilation):
    """Flat input position of kernel offset number `pick` at each output position (int64)."""
    nd = len(kernel)
    module = get_array_module(pick)
    base = module.zeros(pick.shape[2:], dtype=xp.int64)
    table = module.zeros(kernel, dtype=xp.int64)
    for axis in range(nd):
        shape = [1] * nd
        shape[axis] = -1
        start = module.arange(pick.shape[2 + axis]) * stride[axis] - padding[axis]
        base = base * spatial[axis] + start.reshape(shape)
        offsets = module.arange(kernel[axis]) * dilation[axis]
        table = table * spatial[axis] + offsets.reshape(shape)
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
    if name == "max_pool1d":  # PyTorch's max_pool1d checks its arguments in its own words
        _check_max_pool1d_args(kernel[0], stride[0], padding[0], dilation[0])
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        words = ("dilationT", "dilationH", "dilationW")[3 - nd:]
        got = " ".join(f"{w}: {d}" for w, d in zip(words, dilation))
        raise RuntimeError(f"dilation should be greater than zero, but got {got}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
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


def _check_max_pool1d_args(k, s, p, d):
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but "
                           f"got padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")


def _check_max_pool_dtype(x, nd, return_indices) -> None:
    """PyTorch's max pools take integers but not bools; max_pool1d without indices runs a
    kernel of its own that takes floats only."""
    if nd == 1 and not return_indices:
        kernel = "max_pool1d_impl"
    elif x.dtype.name == "bool":
        kernel = f"max_pool{max(nd, 2)}d"
    else:
        return
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_word(x)}\'')


def _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    name = f"max_pool{nd}d"
    _check_pool_input(input, nd, name, "max1d" if nd == 1 else "max")
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    kernel, stride, padding, dilation, out = _pool_args(
        x, nd, kernel_size, stride, padding, dilation, ceil_mode, name)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        _check_max_pool_dtype(x, nd, return_indices)
    name = "SqueezeBackward1" if nd == 1 else f"MaxPool{nd}DWithIndicesBackward0"
    pool = _named(MaxPool, name)
    if not return_indices:
        y = pool.apply(x, kernel, stride, padding, dilation, out, False)
        return y if batched else DropBatch.apply(y)
    y, idx = pool.apply(x, kernel, stride, padding, dilation, out, True)
    if not batched:
        y, idx = DropBatch.apply(y), Tensor._make(idx._data[0])
    return y, idx


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


def _declare_torch_max_pools():
    """NOTE [F's pools are not torch's]: `torch.max_poolNd` and `torch.max_pool1d_with_indices`
    take no return_indices (torch.nn.functional's Python functions add it), so the ops declared
    under torch's names are their own functions, checked against torch's signatures."""
    for nd, indices in ((1, False), (2, False), (3, False), (1, True)):
        def torch_op(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False,
                     nd=nd, indices=indices):
            return _max_pool(input, nd, kernel_size, stride, padding, dilation, ceil_mode,
                             indices)
        torch_op.__name__ = f"max_pool{nd}d" + ("_with_indices" if indices else "")
        torch_op.__doc__ = f"(matches `torch.{torch_op.__name__}`)"
        op(torch_op)


_declare_torch_max_pools()


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool1d returning (values, indices) (matches `F.max_pool1d_with_indices`)."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool2d returning (values, indices) (matches `F.max_pool2d_with_indices`)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool3d returning (values, indices) (matches `F.max_pool3d_with_indices`)."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---- max pooling's backward as an op --------------------------------------------------------
class MaxPoolBackward(Op):
    """y = zeros like x with gy added at the window maxima idx;  ggy = gather of g at idx,
    gx = 0 (the result does not depend on x's values)."""

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, x, idx, unique):
        ctx.zeros = (x._data.shape, x._data.dtype)
        return IndexScatterAdd.forward(ctx, gy, idx, x._data.shape, unique)

    @staticmethod
    def backward(ctx, g):
        shape, dtype = ctx.zeros
        gx = Tensor._make(get_array_module(g._data).zeros(shape, dtype=dtype))
        return IndexGather.apply(g, ctx.idx), gx, None, None


def max_pool2d_with_indices_backward(grad_output, input, kernel_size, stride, padding,
                                     dilation, ceil_mode, indices):
    """max_pool2d's input gradient: grad_output added at the flat `indices` of each input plane
    (matches `aten.max_pool2d_with_indices_backward`)."""
    _check_pool_input(input, 2, "max_pool2d", "max")
    batched = input.dim() == 4
    x, gy = (input, grad_output) if batched else (AddBatch.apply(input),
                                                  AddBatch.apply(grad_output))
    kernel, stride, padding, dilation, out = _pool_args(
        x, 2, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    expected = tuple(input.shape[:-2]) + out
    for d, (want, got) in enumerate(zip(expected, grad_output.shape)):
        if want != got or grad_output.dim() != input.dim():
            raise RuntimeError(f"Expected a tensor of dimension {input.dim()} and tensor.size[{d}]"
                               f" == {want} but got: dimension {grad_output.dim()} and "
                               f"tensor.size[{d}] = {got}")
    idx = indices._data if batched else indices._data[None]
    unique = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
    gx = MaxPoolBackward.apply(gy, x, idx, unique)
    return gx if batched else DropBatch.apply(gx)


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
        y = get_array_module(a).zeros((n * c, plane), dtype=a.dtype)
        xp.put_along_axis(y, rows, a.reshape(n * c, -1), axis=1)
        ctx.idx = idx
        return y.reshape((n, c) + tuple(size))

    @staticmethod
    def backward(ctx, gy):
        return IndexGather.apply(gy, ctx.idx), None, None


def _unpool_output_size(input, kernel, stride, padding, output_size):
    """torch.nn.functional's output size of an unpooling: the pooled input's pre-image by
    default; a given one (optionally with N and C first) must be within a stride of it."""
    nd = len(kernel)
    default = [(input.shape[-nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(nd)]  # (an IndexError on a tensor of fewer dims, as PyTorch's)
    if output_size is None:
        size = default
    else:
        if len(output_size) == nd + 2:
            output_size = output_size[2:]
        if len(output_size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                             f"elements, but it has a length of '{len(output_size)}'")
        for d in range(nd):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < output_size[d] < high:
                raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be '
                                 f'between {low} and {high})')
        size = [int(o) for o in output_size]
    for d, o in enumerate(size):
        if o < 0:
            raise ValueError("max_unpooling: output_size must contain non-negative spatial "
                             f"dimensions, but got output_size[{d}]={o}")
    return tuple(size)


def _max_unpool(input, indices, nd, kernel_size, stride, padding, output_size):
    kernel = _ntuple(kernel_size, nd)
    stride = kernel if stride is None else _ntuple(stride, nd)
    padding = _ntuple(padding, nd)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    if tuple(indices.shape) != tuple(input.shape):
        unit = (1,) if nd == 1 else ()  # PyTorch reports 1-d shapes as 2-d ones
        raise RuntimeError(
            "Expected shape of indices to be same as that of the input tensor "
            f"({list(tuple(input.shape) + unit)}) but got indices tensor with shape: "
            f"{list(tuple(indices.shape) + unit)}")
    x, batched = (input, True) if input.dim() == nd + 2 else (AddBatch.apply(input), False)
    idx = indices._data if batched else indices._data[None]
    y = MaxUnpool.apply(x, idx.astype(xp.int64, copy=False), size)
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
