"""grid_sample: read an image at arbitrary (x, y) points given in [-1, 1] coordinates, with
bilinear or nearest interpolation and zeros / border / reflection padding (matches
`torch.nn.functional.grid_sample` for 4-D inputs); gradients w.r.t. the input and the grid.

NOTE [Sampling a point bilinearly]
A grid value (x, y) becomes pixel coordinates ix = ((x + 1)·W − 1)/2 (or (x + 1)(W − 1)/2 with
align_corners), then padding maps ix into the image (border: clamp, reflection: mirror; zeros:
leave it, and let corners outside read 0). With x0 = ⌊ix⌋, t = ix − x0 and likewise y0, u:
    out = (1−t)(1−u)·v00 + t(1−u)·v01 + (1−t)u·v10 + t·u·v11
so ∂out/∂ix = (1−u)(v01 − v00) + u(v11 − v10), and the input gradient scatters gy times each
corner's weight back to that corner. ∂ix/∂x is the unnormalising scale times the padding's
derivative (0 where border clamps, ±1 where reflection mirrors).
"""

from ember._backend import get_array_module, xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable

_MODES = ("bilinear", "nearest")
_PADDINGS = ("zeros", "border", "reflection")


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


def _source_index(coord, size, padding_mode, align_corners):
    """Pixel coordinate for one axis after padding, and its derivative w.r.t. coord."""
    index, scale = _unnormalize(coord, size, align_corners)
    grad = xp.full_like(index, scale)
    if padding_mode == "border":
        inside = (index > 0) & (index < size - 1)
        index, grad = xp.clip(index, 0, size - 1), grad * inside
    elif padding_mode == "reflection":
        if align_corners:
            index, sign = _reflect(index, 0.0, float(size - 1))
        else:
            index, sign = _reflect(index, -0.5, size - 0.5)
        inside = (index > 0) & (index < size - 1)
        index, grad = xp.clip(index, 0, size - 1), grad * sign * inside
    return index, grad


def _gather(flat, ys, xs, height, width):
    """flat[n, c, y*W + x] for integer (N, P) coordinates, 0 where outside the image."""
    valid = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    index = xp.where(valid, ys * width + xs, 0)
    values = xp.take_along_axis(flat, index[:, None, :], axis=2)
    return values * valid[:, None, :].astype(flat.dtype), index, valid


def _scatter(shape, index, valid, values):
    """Sum `values` (N, C, P) into an (N, C, H·W) array at index (N, P) where valid."""
    n, c, hw = shape
    weights = values * valid[:, None, :]
    flat_index = (xp.arange(n * c).reshape(n, c, 1) * hw + index[:, None, :]).reshape(-1)
    summed = xp.bincount(flat_index, weights=weights.reshape(-1), minlength=n * c * hw)
    return summed.reshape(n, c, hw)


class GridSampler2d(Op):
    """out[n, c, i, j] = input[n, c] read at grid[n, i, j] (see NOTE [Sampling a point ...])."""

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        x, g = input._data, grid._data
        n, c, height, width = x.shape
        points = g.reshape(n, -1, 2).astype(x.dtype, copy=False)
        ix, gx = _source_index(points[..., 0], width, padding_mode, align_corners)
        iy, gy = _source_index(points[..., 1], height, padding_mode, align_corners)
        flat = x.reshape(n, c, height * width)
        ctx.geometry = (x.shape, g.shape, mode, height, width)
        if mode == "nearest":
            xs, ys = xp.rint(ix).astype(xp.int64), xp.rint(iy).astype(xp.int64)
            out, index, valid = _gather(flat, ys, xs, height, width)
            ctx.corners = [(index, valid, None)]
        else:
            x0, y0 = xp.floor(ix), xp.floor(iy)
            t, u = (ix - x0)[:, None, :], (iy - y0)[:, None, :]
            x0, y0 = x0.astype(xp.int64), y0.astype(xp.int64)
            v00, i00, m00 = _gather(flat, y0, x0, height, width)
            v01, i01, m01 = _gather(flat, y0, x0 + 1, height, width)
            v10, i10, m10 = _gather(flat, y0 + 1, x0, height, width)
            v11, i11, m11 = _gather(flat, y0 + 1, x0 + 1, height, width)
            out = (1 - t) * (1 - u) * v00 + t * (1 - u) * v01 + (1 - t) * u * v10 + t * u * v11
            ctx.corners = [(i00, m00, (1 - t) * (1 - u)), (i01, m01, t * (1 - u)),
                           (i10, m10, (1 - t) * u), (i11, m11, t * u)]
            # d out / d ix and d out / d iy, times the padding's derivative
            ctx.dx = ((1 - u) * (v01 - v00) + u * (v11 - v10)) * gx[:, None, :]
            ctx.dy = ((1 - t) * (v10 - v00) + t * (v11 - v01)) * gy[:, None, :]
        out_h, out_w = g.shape[1], g.shape[2]
        return out.reshape(n, c, out_h, out_w).astype(x.dtype, copy=False)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        shape, grid_shape, mode, height, width = ctx.geometry
        n, c = shape[0], shape[1]
        go = grad_output._data.reshape(n, c, -1)
        grad_input = grad_grid = None
        module = get_array_module(go)
        if ctx.needs_input_grad[0]:
            total = module.zeros((n, c, height * width))
            for index, valid, weight in ctx.corners:
                total += _scatter((n, c, height * width), index, valid,
                                  go if weight is None else go * weight)
            grad_input = total.reshape(shape).astype(go.dtype)
        if ctx.needs_input_grad[1]:
            if mode == "nearest":
                grad_grid = module.zeros(grid_shape, dtype=go.dtype)
            else:
                gx = (go * ctx.dx).sum(axis=1)
                gy = (go * ctx.dy).sum(axis=1)
                grad_grid = xp.stack([gx, gy], axis=-1).reshape(grid_shape).astype(go.dtype)
        return grad_input, grad_grid, None, None, None


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample input at grid's points (matches `torch.nn.functional.grid_sample`, 4-D input)."""
    if mode not in _MODES + ("bicubic",):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if input.dim() != 4:
        raise NotImplementedError(f"ember's grid_sample supports 4-D input (N, C, H, W); got "
                                  f"{input.dim()}-D input of shape {list(input.shape)}")
    if mode == "bicubic":
        raise NotImplementedError("ember's grid_sample supports mode 'bilinear' and 'nearest'; "
                                  "'bicubic' is not implemented")
    if grid.dim() != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid of shape [{input.shape[0]}, H, W, 2] "
                           f"for input of shape {list(input.shape)}, but got grid of shape "
                           f"{list(grid.shape)}")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {input.dtype} and grid has {grid.dtype}")
    return GridSampler2d.apply(input, grid, mode, padding_mode, bool(align_corners))


def affine_base_grid(theta, height, width, align_corners):
    """The (N, H, W, 3) homogeneous pixel-centre grid affine_grid multiplies by theta."""
    module = get_array_module(theta._data)

    def linspace(steps):
        if steps <= 1:
            return module.zeros(max(steps, 0))
        points = module.linspace(-1.0, 1.0, steps)
        return points if align_corners else points * (steps - 1) / steps

    base = module.ones((height, width, 3), dtype=theta._data.dtype)
    base[..., 0] = linspace(width)[None, :]
    base[..., 1] = linspace(height)[:, None]
    return Tensor._make(base)
