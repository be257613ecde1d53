"""Counting: histc, histogram, histogramdd, bincount, unique and unique_consecutive.

Their outputs are counts and positions, not functions of the input's values, so none of them
has a gradient (PyTorch's are not differentiable either).
"""

import builtins

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember.ops._out_rules import histogram_out
from ember._tensor import Tensor
from ember.ops.extrema import _return_type
from ember.ops.reduction import _axis, _type_word
from ember._tensor import short_name
from ember.ops._allocation import check_allocation
from ember.ops._wirtinger import refuse_complex

_HistogramResult = _return_type("histogram", ("hist", "bin_edges"))
_HistogramddResult = _return_type("histogramdd", ("hist", "bin_edges"))


def _make(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


# ---- bin edges -----------------------------------------------------------------------------
def _linspace(start, end, steps: int, dtype):
    """PyTorch's linspace in `dtype`: stepped from the start for the first half of the points
    and back from the end for the second, so both ends are exact."""
    module = get_array_module(xp.asarray(0))
    i = module.arange(steps)
    start, end = dtype.type(start), dtype.type(end)
    step = (end - start) / dtype.type(max(steps - 1, 1))
    front = start + i.astype(dtype) * step
    back = end - (steps - 1 - i).astype(dtype) * step
    return xp.where(i < steps // 2, front, back).astype(dtype)


def _outer_edges(data, low, high, widen: float):
    """The range of the bins: (low, high) if given, else the data's min and max, widened by
    `widen` on each side when they coincide (histc: 1, histogram: 0.5)."""
    if low is None or (low == high == 0 and widen == 1.0):
        if not data.size:  # histogram() of nothing has the bins of [0, 1]
            return (0.0, 1.0) if low is None else (-1.0, 1.0)
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - widen, high + widen
    return low, high


def _check_finite_range(low: float, high: float, name: str):
    if low > high:
        raise RuntimeError(f"{name}: max must be larger than min")
    if not (xp.isfinite(low) and xp.isfinite(high)):
        raise RuntimeError(f"{name}: range of [{low}, {high}] is not finite")


def _bin_positions(data, edges):
    """Bin index of each value (the last bin includes its right edge); -1 outside the range."""
    pos = xp.searchsorted(edges, data, side="right") - 1
    pos = xp.where(data == edges[-1], len(edges) - 2, pos)
    inside = (data >= edges[0]) & (data <= edges[-1])
    return xp.where(inside, pos, -1)


def _check_float_input(x: Tensor, name: str):
    if not x.dtype.is_floating_point or x.dtype is _dtype.float16:
        raise NotImplementedError(f'"{name}" not implemented for \'{_type_word(x.dtype)}\'')


# ---- histc, histogram, histogramdd -------------------------------------------------------------
@op(method=True, out=histogram_out)
def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts in `bins` equal bins over [min, max] (the data's range if both are 0); values
    outside are ignored (matches `torch.histc`)."""
    refuse_complex(input, NotImplementedError,
                   f'"aminmax_cpu" not implemented for \'{short_name(input.dtype)}\'')
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f'"histogram_cpu" not implemented for \'{_type_word(input.dtype)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    data = input._data.reshape(-1)
    out_dtype = data.dtype
    if data.dtype.itemsize == 2:  # float16/bfloat16 are binned in float32
        data = data.astype(xp.float32)
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    low, high = _outer_edges(data, min, max, 1.0)
    _check_finite_range(low, high, "torch.histc")
    dtype = data.dtype.type
    # NOTE [histc bins] PyTorch's histc places a value by linear interpolation in the input's
    # dtype, without checking the bin edges (histogram() checks them): the same here.
    inside = (data >= dtype(low)) & (data <= dtype(high))
    pos = ((data[inside] - dtype(low)) * dtype(bins) / (dtype(high) - dtype(low))).astype(int)
    pos = xp.minimum(pos, bins - 1)
    counts = xp.bincount(pos, minlength=bins)
    return _make(counts.astype(out_dtype))


# NOTE [histogram's checks]
# torch.histogram and torch.histogramdd run one C++ flow: the bins' count checked (> 0), the
# outer edges chosen (the range, or the points' span: NotImplementedError "histogramdd" for a
# non-floating input here), equal-width edges allocated, then histogramdd_check_inputs (points
# at least 2-D, one 1-D non-empty edges tensor of the input's dtype per dim, a weight of the
# input's dtype shaped like the points without their last dim), then the counting kernel
# (NotImplementedError "histogram_cpu" for a non-floating input). ember follows that order, so
# each bad call raises what torch raises first.
_CTYPES = {"float32": "float", "float64": "double", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
           "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
           "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _ctype(dtype) -> str:
    """A dtype as PyTorch's messages name it (its C++ type)."""
    return _CTYPES.get(dtype.name, dtype.name)


def _check_histogram_inputs(points: Tensor, edges, weight):
    """histogramdd_check_inputs: see NOTE [histogram's checks]."""
    if points.dim() < 2:
        raise RuntimeError(f"torch.histogramdd: input tensor should have at least 2 dimensions, "
                           f"but got {points.dim()}")
    n = points.shape[-1]
    if len(edges) != n:
        raise RuntimeError(f"torch.histogramdd: expected {n} sequences of bin edges for a {n}-"
                           f"dimensional histogram but got {len(edges)}")
    for d, e in enumerate(edges):
        if e.dtype is not points.dtype:
            raise RuntimeError(
                f"torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {_ctype(points.dtype)} and bins for dimension {d} "
                f"with dtype {_ctype(e.dtype)}")
        if e.dim() != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but "
                               f"got {e.dim()} dimensions in the bins tensor for dimension {d}")
        if e.numel() == 0:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have at least 1 element, "
                               f"but got 0 elements in the bins tensor for dimension {d}")
    if weight is None:
        return
    if weight.dtype is not points.dtype:
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided, input tensor and "
                           f"weight tensor should have the same dtype, but got input("
                           f"{_ctype(points.dtype)}), and weight({_ctype(weight.dtype)})")
    if tuple(points.shape[:-1]) != (tuple(weight.shape) or (1,)):
        raise RuntimeError(f"torch.histogramdd: if weight tensor is provided it should have the "
                           f"same shape as the input tensor excluding its innermost dimension, "
                           f"but got input with shape {list(points.shape)} and weight with "
                           f"shape {list(weight.shape)}")


def _outer_edges_nd(points: Tensor, ranges):
    """Each dim's (lowest, highest) edge: from `ranges` (2 per dim), else the points' min and
    max ([0, 1] for no points); a single value widened by 0.5 each way."""
    n = points.shape[-1]
    if ranges is not None:
        if len(ranges) != 2 * n:
            raise RuntimeError(f"torch.histogramdd: for a {n}-dimensional histogram range "
                               f"should have {2 * n} elements, but got {len(ranges)}")
        lows, highs = [float(v) for v in ranges[0::2]], [float(v) for v in ranges[1::2]]
    elif points.numel():
        _check_float_input(points, "histogramdd")
        data = points._data.reshape(-1, n)
        lows, highs = data.min(axis=0).tolist(), data.max(axis=0).tolist()
    else:
        lows, highs = [0.0] * n, [1.0] * n
    for d in builtins.range(n):
        low, high = lows[d], highs[d]
        if not (xp.isfinite(low) and xp.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{low:g}, {high:g}] "
                               f"is not finite")
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min "
                               f"{low:g} max {high:g} for dimension {d}")
        if low == high:
            lows[d], highs[d] = low - 0.5, high + 0.5
    return lows, highs


def _equal_width_edges(points: Tensor, counts, ranges):
    """counts[d] equal-width bins' edges per dim, in the points' dtype."""
    lows, highs = _outer_edges_nd(points, ranges)
    if len(counts) != points.shape[-1]:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    dtype = points._data.dtype
    edges = []
    for low, high, count in zip(lows, highs, counts):
        if count + 1 < 0:
            raise RuntimeError("number of steps must be non-negative")
        check_allocation((count + 1,), dtype.itemsize)
        steps_dtype = dtype if dtype.kind == "f" else xp.dtype(xp.float64)
        edges.append(_make(_linspace(low, high, count + 1, steps_dtype).astype(dtype)))
    return edges


def _weighted_counts(positions, shape, weight, dtype):
    """Σ weight per bin (1 per value without weights) over the multi-dim bin positions."""
    keep = xp.all(positions >= 0, axis=0)
    flat = xp.ravel_multi_index(tuple(p[keep] for p in positions), shape)
    w = None if weight is None else weight[keep]
    counts = xp.bincount(flat, weights=w, minlength=int(xp.prod(shape)))
    return counts.astype(dtype).reshape(shape)


def _density(hist, edges_list):
    """hist / (Σ hist · bin volume): a density that integrates to 1."""
    total = hist.sum()
    volume = 1
    for d, edges in enumerate(edges_list):
        shape = [1] * len(edges_list)
        shape[d] = -1
        volume = volume * xp.diff(edges).reshape(shape)
    with xp.errstate(invalid="ignore", divide="ignore"):
        return (hist / (total * volume)).astype(hist.dtype)


def _histogram_nd(points: Tensor, edges, weight, density: bool):
    """(hist, edges) of the (M, N) points over the given edges (checked by the caller)."""
    for d, e in enumerate(edges):
        if e.numel() - 1 <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {e.numel() - 1} "
                               f"for dimension {d}")
    shape = tuple(e.numel() - 1 for e in edges)
    check_allocation(shape, points._data.dtype.itemsize)
    _check_float_input(points, "histogram_cpu")
    if not edges:  # points of no dims: PyTorch's 0-d count is 0 (its density 0/0)
        return _make(xp.asarray(xp.nan if density else 0, dtype=points._data.dtype)), edges
    data = points._data.reshape(-1, points.shape[-1])
    edge_arrays = [e._data for e in edges]
    positions = xp.stack([_bin_positions(data[:, d], edge_arrays[d])
                          for d in builtins.range(len(edges))])
    w = None if weight is None else weight._data.reshape(-1)
    hist = _weighted_counts(positions, shape, w, data.dtype)
    if density:
        hist = _density(hist, edge_arrays)
    return _make(hist), edges


@op(method=True, out=histogram_out)
def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges): counts (or Σ weight, or a density) in `bins` equal bins over range,
    or in the bins a tensor of edges defines (matches `torch.histogram`); NOTE [histogram's
    checks]."""
    points = input.reshape(-1, 1)
    if weight is not None:
        weight = weight.reshape(-1)
    if isinstance(bins, Tensor):
        edges = [bins]
    else:
        if bins <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                               f"dimension 0")
        check_allocation((bins + 1,), input._data.dtype.itemsize)  # torch sizes the outputs first
        check_allocation((bins,), input._data.dtype.itemsize)
        edges = _equal_width_edges(points, [bins], range)
    _check_histogram_inputs(points, edges, weight)
    hist, edges = _histogram_nd(points, edges, weight, density)
    # torch.histogram returns a copy of a bins tensor (histogramdd: the tensors themselves)
    return _HistogramResult(hist, _make(bins._data.copy()) if isinstance(bins, Tensor)
                            else edges[0])


@op
def histogramdd(input: Tensor, bins=10, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges) of points in the last dim (matches `torch.histogramdd`); NOTE
    [histogram's checks]."""
    if isinstance(bins, int) or isinstance(bins, Tensor) and bins.dim() == 0:
        if input.dim() == 0:
            raise IndexError("Dimension specified as -1 but tensor has no dimensions")
        bins = [int(bins)] * input.shape[-1]
    bins = list(bins)
    if input.dim() < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    if bins and isinstance(bins[0], Tensor):
        edges = bins
    else:
        edges = _equal_width_edges(input, [int(b) for b in bins], range)
    _check_histogram_inputs(input, edges, weight)
    hist, edges = _histogram_nd(input, edges, weight, density)
    return _HistogramddResult(hist, tuple(edges))


# ---- bincount ----------------------------------------------------------------------------------
@op(method=True)
def bincount(input: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """Occurrences of each non-negative integer (or Σ weights per value) (matches
    `torch.bincount`)."""
    if input.dtype.is_floating_point or input.dtype is _dtype.bool:
        raise NotImplementedError(
            f'"bincount_cpu" not implemented for \'{_type_word(input.dtype)}\'')
    data = input._data
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _make(xp.bincount(data, minlength=minlength).astype(xp.int64))
    if weights.dim() != 1 or weights.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # PyTorch keeps a floating weight dtype and counts other weights in float64
    dtype = weights._data.dtype if weights.dtype.is_floating_point else xp.float64
    counts = xp.bincount(data, weights=weights._data.astype(xp.float64), minlength=minlength)
    return _make(counts.astype(dtype))


# ---- unique, unique_consecutive ----------------------------------------------------------------
def _finish_unique(values, inverse, counts, return_inverse, return_counts, inverse_shape):
    outputs = [_make(values)]
    if return_inverse:
        outputs.append(_make(inverse.reshape(inverse_shape).astype(xp.int64)))
    if return_counts:
        outputs.append(_make(counts.astype(xp.int64)))
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _unique_slices(data, axis, consecutive):
    """Unique slices along axis: (values, inverse, counts), sorted unless consecutive."""
    moved = xp.moveaxis(data, axis, 0)
    rows = moved.reshape(moved.shape[0], int(xp.prod(moved.shape[1:])))
    n = rows.shape[0]
    module = get_array_module(data)
    if consecutive:
        order = module.arange(n)
    else:
        order = xp.lexsort(rows.T[::-1]) if rows.shape[1] else module.arange(n)
    ordered = rows[order]
    starts = module.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
    group = xp.cumsum(starts) - 1
    inverse = module.empty(n, dtype=xp.int64)
    inverse[order] = group
    counts = xp.diff(xp.append(xp.flatnonzero(starts), n))
    values = moved[order][starts]
    return xp.moveaxis(values, 0, axis), inverse, counts


@op(method=True)
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct values (or slices along dim), in ascending order, with the inverse
    positions and counts on request (matches `torch.unique`; ember always sorts)."""
    refuse_complex(input, NotImplementedError,
                   f'"unique" not implemented for \'{short_name(input.dtype)}\'')
    data = input._data
    if dim is None:
        values, inverse, counts = xp.unique(data.reshape(-1), return_inverse=True,
                                            return_counts=True, equal_nan=False)
        # (each NaN is its own value, as in PyTorch, where NaN != NaN)
        return _finish_unique(values, inverse, counts, return_inverse, return_counts, data.shape)
    axis = _axis(dim, data.ndim)
    values, inverse, counts = _unique_slices(data, axis, consecutive=False)
    return _finish_unique(values, inverse, counts, return_inverse, return_counts, (-1,))


@op(method=True)
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim=None):
    """Collapse runs of equal consecutive values (or slices along dim) (matches
    `torch.unique_consecutive`)."""
    data = input._data
    if dim is None:
        flat = data.reshape(-1, 1)
        values, inverse, counts = _unique_slices(flat, 0, consecutive=True)
        return _finish_unique(values.reshape(-1), inverse, counts, return_inverse,
                              return_counts, data.shape)
    axis = _axis(dim, data.ndim)
    values, inverse, counts = _unique_slices(data, axis, consecutive=True)
    return _finish_unique(values, inverse, counts, return_inverse, return_counts, (-1,))

