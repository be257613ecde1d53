"""grid_sample: read an image (N, C, H, W) or a volume (N, C, D, H, W) at arbitrary points given
in [-1, 1] coordinates, with bilinear (trilinear on volumes), nearest or bicubic (images only)
interpolation and zeros / border / reflection padding (matches
`torch.nn.functional.grid_sample`); gradients w.r.t. the input and the grid.

NOTE [Sampling a point linearly]
A grid value x (one per spatial axis, x for W first, then y for H, then z for D) becomes the
pixel coordinate ix = ((x + 1)·W − 1)/2 (or (x + 1)(W − 1)/2 with align_corners), then padding
maps ix into the image (border: clamp, reflection: mirror; zeros: leave it, and let taps
outside read 0). With x0 = ⌊ix⌋ and t = ix − x0 per axis, the output is the sum over the 2^d
corners of the cell of v_corner·∏ (t or 1 − t), so ∂out/∂ix is the same sum with the factor of
that axis replaced by ±1; the input gradient scatters gy times each corner's weight back to
that corner. ∂ix/∂x is the unnormalising scale times the padding's derivative (0 where border
clamps, ±1 where reflection mirrors). 'nearest' reads the tap at round-half-even(ix), and its
grid gradient is 0.

NOTE [Sampling a point bicubically]
Bicubic reads the 4×4 taps around the unpadded coordinate (⌊ix⌋ − 1 … ⌊ix⌋ + 2), weighs them
with Keys' cubic (A = −0.75) of t = ix − ⌊ix⌋, and applies the padding to each integer tap
(a tap outside reads 0 with zeros padding), as PyTorch does; so the grid gradient is the
weights' derivative in t times the unnormalising scale, with no padding factor.

float16 and bfloat16 are sampled in their own dtype, each step rounded, in the order PyTorch's
kernel takes (for bicubic: a cubic along x in each row, then one along y); their gradients are
computed in float32 and rounded once. The backward runs on arrays; under create_graph it is
written with ember ops instead (`_backward_graph`), so second derivatives exist, as in PyTorch.
"""

import itertools

from ember._warnings import warn as _warn
from ember._backend import get_array_module, xp
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.autograd.grad_mode import _state as _grad_state
from ember.ops._opmath import widen
from ember.ops.joins import stack

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_A = -0.75  # Keys' cubic parameter PyTorch's bicubic sampling uses
_ALIGN_CORNERS_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details.")


# ---- coordinates ----------------------------------------------------------------------------
def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinates, and d(pixel)/d(coord)."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _reflect(coord, low, high):
    """Mirror coord into [low, high] (twice the bounds, as torch); the derivative's sign too."""
    span = high - low
    if span <= 0:
        return xp.zeros_like(coord), xp.zeros_like(coord)
    shifted = xp.abs(coord - low)
    periods = xp.floor(shifted / span)
    extra = shifted - periods * span
    flips = periods % 2 == 1
    reflected = xp.where(flips, high - extra, low + extra)
    sign = xp.where(coord < low, -1.0, 1.0) * xp.where(flips, -1.0, 1.0)
    return reflected, sign


def _pad_coordinate(index, size, padding_mode, align_corners):
    """PyTorch's compute_coordinates: the padded coordinate and its derivative's factor."""
    factor = xp.ones_like(index)
    if padding_mode == "border":
        inside = (index > 0) & (index < size - 1)
        return xp.clip(index, 0, size - 1), factor * inside
    if padding_mode == "reflection":
        if align_corners:
            index, sign = _reflect(index, 0.0, float(size - 1))
        else:
            index, sign = _reflect(index, -0.5, size - 0.5)
        inside = (index > 0) & (index < size - 1)
        return xp.clip(index, 0, size - 1), factor * sign * inside
    return index, factor


def _source_index(coord, size, padding_mode, align_corners):
    """Pixel coordinate for one axis after padding, and its derivative w.r.t. coord."""
    index, scale = _unnormalize(coord, size, align_corners)
    index, factor = _pad_coordinate(index, size, padding_mode, align_corners)
    return index, factor * scale


# ---- taps -----------------------------------------------------------------------------------
def _flat_index(taps, sizes):
    """(flat index into the spatial dims, inside-the-volume mask) of integer taps per axis
    (taps and sizes ordered W, H, D as the grid's last dim)."""
    valid = None
    index = None
    for tap, size in reversed(tuple(zip(taps, sizes))):  # D (or H) first: row-major
        inside = (tap >= 0) & (tap < size)
        valid = inside if valid is None else valid & inside
        index = tap if index is None else index * size + tap
    return xp.where(valid, index, 0), valid


def _gather(flat, taps, sizes):
    """flat[n, c, tap] for integer (N, P) taps per axis, 0 where outside; with index, mask."""
    index, valid = _flat_index(taps, sizes)
    values = xp.take_along_axis(flat, index[:, None, :], axis=2)
    return values * valid[:, None, :].astype(flat.dtype), index, valid


def _scatter(shape, index, valid, values):
    """Sum `values` (N, C, P) into an (N, C, S) array at index (N, P) where valid."""
    n, c, size = shape
    weights = values * valid[:, None, :]
    flat_index = (xp.arange(n * c).reshape(n, c, 1) * size + index[:, None, :]).reshape(-1)
    summed = xp.bincount(flat_index, weights=weights.reshape(-1), minlength=n * c * size)
    return summed.reshape(n, c, size)


def _cubic_weights(t):
    """Keys' cubic weights of the taps at −1, 0, 1, 2 around a point t ∈ [0, 1) past a tap."""
    def near(x):
        return ((_A + 2) * x - (_A + 3)) * x * x + 1

    def far(x):
        return ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A

    return (far(t + 1), near(t), near(1 - t), far(2 - t))


def _cubic_slopes(t):
    """d/dt of `_cubic_weights`."""
    def near(x):  # d/dx of near(x)
        return (3 * (_A + 2) * x - 2 * (_A + 3)) * x

    def far(x):  # d/dx of far(x)
        return (3 * _A * x - 10 * _A) * x + 8 * _A

    return (far(t + 1), near(t), -near(1 - t), -far(2 - t))


# ---- the three samplers, each on flat (N, C, S) arrays ------------------------------------
def _sample_linear(flat, points, sizes, padding_mode, align_corners):
    """(out, input-gradient taps [(index, valid, weight)], ∂out/∂grid per axis)."""
    indices = [_source_index(points[..., a], s, padding_mode, align_corners)
               for a, s in enumerate(sizes)]
    lows = [xp.floor(ix) for ix, _ in indices]
    fracs = [(ix - low)[:, None, :] for (ix, _), low in zip(indices, lows)]
    lows = [low.astype(xp.int64) for low in lows]
    out, taps = 0, []
    slopes = [0] * len(sizes)
    for corner in itertools.product((0, 1), repeat=len(sizes)):
        values, index, valid = _gather(flat, [low + k for low, k in zip(lows, corner)], sizes)
        factors = [t if k else 1 - t for t, k in zip(fracs, corner)]
        weight = _product(factors)
        out = out + weight * values
        taps.append((index, valid, weight))
        for a, k in enumerate(corner):
            rest = _product(factors[:a] + factors[a + 1:])
            slopes[a] = slopes[a] + (values if k else -values) * rest
    slopes = [s * g[:, None, :] for s, (_, g) in zip(slopes, indices)]
    return out, taps, slopes


def _sample_nearest(flat, points, sizes, padding_mode, align_corners):
    """(out, input-gradient taps, zero grid slopes)."""
    taps = [xp.rint(_source_index(points[..., a], s, padding_mode, align_corners)[0])
            .astype(xp.int64) for a, s in enumerate(sizes)]
    out, index, valid = _gather(flat, taps, sizes)
    return out, [(index, valid, None)], None


def _sample_bicubic(flat, points, sizes, padding_mode, align_corners):
    """(out, input-gradient taps, ∂out/∂grid per axis) of the 4×4 taps (2-D only)."""
    (ix, sx), (iy, sy) = (_unnormalize(points[..., a], s, align_corners)
                          for a, s in enumerate(sizes))
    x0, y0 = xp.floor(ix), xp.floor(iy)
    tx, ty = ix - x0, iy - y0
    wx, wy = _cubic_weights(tx), _cubic_weights(ty)
    dx, dy = _cubic_slopes(tx), _cubic_slopes(ty)
    out, taps, slope_x, slope_y = 0, [], 0, 0
    for j in range(4):  # a cubic along x in each of 4 rows, then one along y, as PyTorch
        row = 0
        py = _pad_coordinate(y0 - 1 + j, sizes[1], padding_mode, align_corners)[0]
        for i in range(4):
            px = _pad_coordinate(x0 - 1 + i, sizes[0], padding_mode, align_corners)[0]
            # PyTorch truncates the padded coordinate to an integer tap
            values, index, valid = _gather(flat, [px.astype(xp.int64), py.astype(xp.int64)],
                                           sizes)
            row = row + values * wx[i][:, None, :]
            taps.append((index, valid, (wx[i] * wy[j])[:, None, :]))
            slope_x = slope_x + values * (dx[i] * wy[j])[:, None, :]
            slope_y = slope_y + values * (wx[i] * dy[j])[:, None, :]
        out = out + row * wy[j][:, None, :]
    return out, taps, [slope_x * sx, slope_y * sy]


def _product(factors):
    result = 1
    for f in factors:
        result = result * f
    return result


_SAMPLERS = {"bilinear": _sample_linear, "nearest": _sample_nearest, "bicubic": _sample_bicubic}


class GridSampler(Op):
    """out[n, c, *p] = input[n, c] read at grid[n, *p] (NOTE [Sampling a point linearly],
    NOTE [Sampling a point bicubically]);  gx scatters gy through the taps' weights,
    ggrid = Σ_c gy·∂out/∂grid."""

    node_name = "GridSampler2DBackward0"

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        x, g = input._data, grid._data
        n, c = x.shape[:2]
        spatial = x.shape[2:]
        sizes = tuple(reversed(spatial))  # W, H(, D): the order of the grid's last dim
        flat = x.reshape(n, c, -1)
        points = g.reshape(n, -1, len(spatial))
        out, taps, slopes = _SAMPLERS[mode](flat, points, sizes, padding_mode, align_corners)
        ctx.geometry = (x.shape, g.shape)
        ctx.taps, ctx.slopes = taps, slopes
        ctx.options = (mode, padding_mode, align_corners)
        ctx.save_for_backward(input, grid)
        return out.reshape((n, c) + g.shape[1:-1]).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_output):
        if _grad_state["enabled"]:  # create_graph: the backward as ember ops
            return _backward_graph(ctx, grad_output) + (None, None, None)
        return _backward_arrays(ctx, grad_output) + (None, None, None)


def _backward_arrays(ctx, grad_output):
    """GridSampler's first-order backward on arrays (in float32 for 16-bit floats)."""
    shape, grid_shape = ctx.geometry
    n, c = shape[:2]
    size = int(xp.prod(shape[2:]))
    dtype = grad_output._data.dtype
    go = widen(grad_output._data).reshape(n, c, -1)
    grad_input = grad_grid = None
    module = get_array_module(go)
    if ctx.needs_input_grad[0]:
        total = module.zeros((n, c, size))
        for index, valid, weight in ctx.taps:
            total += _scatter((n, c, size), index, valid, go if weight is None else go * weight)
        grad_input = Tensor._make(total.reshape(shape).astype(dtype))
    if ctx.needs_input_grad[1]:
        if ctx.slopes is None:  # nearest: piecewise constant
            grad_grid = Tensor._make(module.zeros(grid_shape, dtype=dtype))
        else:
            parts = [(go * s).sum(axis=1) for s in ctx.slopes]
            grad_grid = Tensor._make(
                xp.stack(parts, axis=-1).reshape(grid_shape).astype(dtype))
    return grad_input, grad_grid


def _backward_graph(ctx, gy):
    """GridSampler's backward written with ember ops, so that it has gradients itself: the
    taps are constants; their weights are recomputed from the grid as tensors (a padded
    coordinate is the grid value times its derivative plus a constant, piecewise)."""
    x, g = ctx.saved_tensors
    mode, padding_mode, align_corners = ctx.options
    shape, grid_shape = ctx.geometry
    n, c, nd = shape[0], shape[1], len(shape) - 2
    sizes = tuple(reversed(shape[2:]))
    flat = x.reshape(n, c, -1)
    go = gy.reshape(n, c, -1)
    points = g.reshape(n, -1, nd)
    arrays = points._data
    weights, slopes = _graph_weights(mode, points, arrays, sizes, padding_mode, align_corners)
    grad_input = grad_grid = None
    if ctx.needs_input_grad[0]:
        total = None
        for (index, valid, _), weight in zip(ctx.taps, weights):
            spread = go if weight is None else go * weight
            spread = spread * Tensor._make(valid[:, None, :].astype(flat._data.dtype))
            part = flat.new_zeros(flat.shape).scatter_add(2, _expand(index, n, c), spread)
            total = part if total is None else total + part
        grad_input = total.reshape(shape)
    if ctx.needs_input_grad[1]:
        if slopes is None:  # nearest: zero, still a function of the grid, as in PyTorch
            grad_grid = g * 0
        else:
            parts = []
            for axis_slopes, scale in slopes:
                slope = None
                for (index, valid, _), factor in zip(ctx.taps, axis_slopes):
                    value = flat.gather(2, _expand(index, n, c)) * Tensor._make(
                        valid[:, None, :].astype(flat._data.dtype))
                    term = value * factor
                    slope = term if slope is None else slope + term
                parts.append((go * slope).sum(1) * scale)
            grad_grid = stack(parts, -1).reshape(grid_shape)
    return grad_input, grad_grid


def _expand(index, n, c):
    """An (N, P) tap index as the (N, C, P) index tensor gather/scatter_add take."""
    return Tensor._make(xp.broadcast_to(index[:, None, :], (n, c, index.shape[-1])))


def _fraction(coord, arrays, index, derivative, low):
    """t = index − ⌊index⌋ as a tensor of the grid coordinate: index is linear in it with slope
    `derivative` near each point (arrays: the coordinate's values), ⌊index⌋ a constant."""
    constant = index - derivative * arrays - low
    return (coord * Tensor._make(derivative) + Tensor._make(constant)).unsqueeze(1)


def _graph_weights(mode, points, arrays, sizes, padding_mode, align_corners):
    """Per tap (in the order the sampler made them) its weight as a tensor of the grid (None for
    nearest), and per grid axis (the taps' slope factors, the axis scale) for ∂out/∂grid."""
    nd = len(sizes)
    if mode == "nearest":
        return [None], None
    if mode == "bicubic":
        fracs, scales = [], []
        for a, size in enumerate(sizes):
            index, scale = _unnormalize(arrays[..., a], size, align_corners)
            fracs.append(_fraction(points[..., a], arrays[..., a], index,
                                   xp.full_like(index, scale), xp.floor(index)))
            scales.append(scale)
        wx, wy = _cubic_weights(fracs[0]), _cubic_weights(fracs[1])
        dx, dy = _cubic_slopes(fracs[0]), _cubic_slopes(fracs[1])
        order = [(i, j) for j in range(4) for i in range(4)]  # as _sample_bicubic
        weights = [wx[i] * wy[j] for i, j in order]
        slopes = [([dx[i] * wy[j] for i, j in order], scales[0]),
                  ([wx[i] * dy[j] for i, j in order], scales[1])]
        return weights, slopes
    fracs, derivatives = [], []
    for a, size in enumerate(sizes):
        index, derivative = _source_index(arrays[..., a], size, padding_mode, align_corners)
        fracs.append(_fraction(points[..., a], arrays[..., a], index, derivative,
                               xp.floor(index)))
        derivatives.append(Tensor._make(derivative))
    weights, axis_factors = [], [[] for _ in range(nd)]
    for corner in itertools.product((0, 1), repeat=nd):
        factors = [t if k else 1 - t for t, k in zip(fracs, corner)]
        weights.append(_product(factors))
        for a, k in enumerate(corner):
            rest = _product(factors[:a] + factors[a + 1:])
            axis_factors[a].append(rest if k else -rest)
    return weights, list(zip(axis_factors, derivatives))


class GridSampler3d(GridSampler):
    """GridSampler on volumes, named as PyTorch names its node."""

    node_name = "GridSampler3DBackward0"


def check_not_0d(input, grid):
    """A 0-d input or grid: the IndexError of torch reading its batch size before any check."""
    if input.dim() == 0 or grid.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")


def _check(input, grid, mode):
    """grid_sampler's checks, in PyTorch's order and with its messages."""
    check_not_0d(input, grid)
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    if input.dim() < 1 or grid.dim() < 1 or input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    for i in range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(
                f"grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {list(input.shape)} with dimension {i} being empty")
    rank = 4 if input.dim() == 4 else 5
    if input.dim() != rank or grid.dim() != rank:
        raise RuntimeError(f"grid_sampler(): expected {rank}D input and grid with same number "
                           f"of dimensions, but got {sizes}")
    if rank == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input at grid's points (matches `torch.nn.functional.grid_sample`)."""
    if mode not in _MODES:
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        _warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
    _check(input, grid, mode)
    op = GridSampler if input.dim() == 4 else GridSampler3d
    return op.apply(input, grid, mode, padding_mode, bool(align_corners))
