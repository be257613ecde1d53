"""nn.functional's sampling functions for spatial transformers: affine_grid and grid_sample
(matches torch.nn.functional; the sampling op is in ember/ops/grid_sample.py)."""

import warnings

from ember._backend import get_array_module
from ember._tensor import Tensor
from ember.ops.grid_sample import _ALIGN_CORNERS_WARNING, grid_sample


def _unit_points(steps: int, align_corners: bool, dtype, module):
    """`steps` pixel centres spanning [-1, 1] (corner pixels' centres with align_corners, the
    corners themselves without), in dtype; a single point is 0."""
    if steps <= 1:
        return module.zeros(max(steps, 0), dtype=dtype)
    points = module.linspace(-1.0, 1.0, steps).astype(dtype)
    if align_corners:
        return points
    return points * dtype.type(steps - 1) / dtype.type(steps)


def _base_grid(theta: Tensor, spatial, align_corners: bool) -> Tensor:
    """The (*spatial, d + 1) homogeneous grid (x, y[, z], 1) that affine_grid maps by theta:
    x runs along the last spatial dim, y along the one before, z along the first of three."""
    module = get_array_module(theta._data)
    dtype = theta._data.dtype
    nd = len(spatial)
    base = module.ones(tuple(spatial) + (nd + 1,), dtype=dtype)
    for axis in range(nd):  # axis 0 is x, on the last spatial dim
        dim = nd - 1 - axis
        shape = [1] * nd
        shape[dim] = spatial[dim]
        base[..., axis] = _unit_points(spatial[dim], align_corners, dtype, module).reshape(shape)
    return Tensor._make(base)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps theta (N, 2, 3) or (N, 3, 4) for an output of size
    (N, C, H, W) or (N, C, D, H, W) (matches `torch.nn.functional.affine_grid`):
    grid[n, ..., i, j] = theta[n] @ (x_j, y_i, [z_k,] 1)."""
    if align_corners is None:
        warnings.warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown, size = size, list(size)  # messages show size as given
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {shown}.")
    nd = len(size) - 2
    if theta.dim() != 3 or theta.shape[-2] != nd or theta.shape[-1] != nd + 1:
        shape = "Nx2x3" if nd == 2 else "Nx3x4"
        raise ValueError(f"Expected a batch of {nd}D affine matrices of shape {shape} for size "
                         f"{shown}. Got {theta.shape}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    count = 1
    for s in spatial:
        count *= s
    base = _base_grid(theta, spatial, bool(align_corners)).reshape(1, count, nd + 1)
    grid = base.matmul(theta.transpose(1, 2))
    return grid.reshape([size[0]] + spatial + [nd])


__all__ = ["affine_grid", "grid_sample"]
