"""Counting: histc, histogram, histogramdd, bincount, unique and unique_consecutive.

Their outputs are counts and positions, not functions of the input's values, so none of them
has a gradient (PyTorch's are not differentiable either).
"""

import builtins

from ember import _dtype
from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.ops.extrema import _return_type
from ember.ops.reduction import _axis, _type_word
from ember._tensor import short_name
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
@op(method=True, out=True)
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


def _edges_for(data_column, bins, low_high, dtype, name):
    """One dim's bin edges: given as a tensor, or `bins` equal bins over the range."""
    if isinstance(bins, Tensor):
        if bins.dim() != 1:
            raise RuntimeError(f"{name}: bins tensor should have one dimension, but got "
                               f"{bins.dim()} dimensions")
        return bins._data.astype(dtype)
    if bins <= 0:
        raise RuntimeError(f"{name}(): bins must be > 0, but got {bins} for dimension 0")
    low, high = (None, None) if low_high is None else low_high
    low, high = _outer_edges(data_column, low, high, 0.5)
    _check_finite_range(low, high, name)
    return _linspace(low, high, bins + 1, xp.dtype(dtype))


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


def _histogram_nd(input, bins_list, ranges, weight, density, name):
    data = input._data.reshape(-1, input.shape[-1])
    dims = data.shape[1]
    edges_list = [_edges_for(data[:, d], bins_list[d], ranges[d], data.dtype, name)
                  for d in range(dims)]
    positions = xp.stack([_bin_positions(data[:, d], edges_list[d]) for d in range(dims)])
    shape = tuple(len(e) - 1 for e in edges_list)
    w = None if weight is None else weight._data.reshape(-1)
    hist = _weighted_counts(positions, shape, w, data.dtype)
    if density:
        hist = _density(hist, edges_list)
    return _make(hist), [_make(e) for e in edges_list]


@op(method=True, out=True)
def histogram(input: Tensor, bins=100, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges): counts (or Σ weight, or a density) in `bins` equal bins over range,
    or in the bins a tensor of edges defines (matches `torch.histogram`)."""
    _check_float_input(input, "histogram_cpu")
    ranges = [None if range is None else (float(range[0]), float(range[1]))]
    hist, edges = _histogram_nd(input.reshape(-1, 1), [bins], ranges, weight, density,
                                "torch.histogram")
    return _HistogramResult(hist, edges[0])


@op
def histogramdd(input: Tensor, bins=10, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges) of points in the last dim (matches `torch.histogramdd`)."""
    _check_float_input(input, "histogramdd")
    dims = input.shape[-1]
    if isinstance(bins, int) or isinstance(bins, Tensor) and bins.dim() == 0:
        bins = [int(bins)] * dims  # (the range argument shadows the builtin, hence builtins.)
    if len(bins) != dims:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost "
                           "dimension of the input.")
    ranges = [None] * dims
    if range is not None:
        ranges = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtins.range(dims)]
    hist, edges = _histogram_nd(input, list(bins), ranges, weight, density, "torch.histogramdd")
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
                                            return_counts=True)
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

