"""nn.functional's sampling functions for spatial transformers: affine_grid and grid_sample
(matches torch.nn.functional; the sampling op is in ember/ops/grid_sample.py)."""

import math

from ember._warnings import warn as _warn
from ember._backend import get_array_module
from ember._dtype import _BY_NUMPY
from ember._tensor import Tensor
from ember.autograd.function import Op
from ember.ops._creation_space import linspace_array
from ember.ops.grid_sample import _ALIGN_CORNERS_WARNING, grid_sample


def _unit_points(steps: int, align_corners: bool, dtype, module):
    """`steps` pixel centres spanning [-1, 1] (corner pixels' centres with align_corners, the
    corners themselves without), in dtype; a single point is 0. As aten's
    `linspace_from_neg_one`: linspace(-1, 1) in dtype, then `* (steps - 1) / steps`."""
    if steps <= 1:
        return module.zeros(max(steps, 0), dtype=dtype)
    points = module.asarray(linspace_array(-1, 1, steps, _BY_NUMPY[dtype]))
    if align_corners:
        return points
    return points * dtype.type(steps - 1) / dtype.type(steps)


def _base_array(like, spatial, align_corners: bool):
    """The (*spatial, d + 1) homogeneous grid (x, y[, z], 1) that affine_grid maps by theta,
    in the dtype and array module of the array `like`: x runs along the last spatial dim, y
    along the one before, z along the first of three."""
    module = get_array_module(like)
    dtype = like.dtype
    nd = len(spatial)
    base = module.ones(tuple(spatial) + (nd + 1,), dtype=dtype)
    for axis in range(nd):  # axis 0 is x, on the last spatial dim
        dim = nd - 1 - axis
        shape = [1] * nd
        shape[dim] = spatial[dim]
        base[..., axis] = _unit_points(spatial[dim], align_corners, dtype, module).reshape(shape)
    return base


def _base_grid(theta: Tensor, spatial, align_corners: bool) -> Tensor:
    """_base_array in theta's dtype, as a Tensor."""
    return Tensor._make(_base_array(theta._data, spatial, align_corners))


class AffineGridGenerator(Op):
    """grid[n, p] = theta[n] @ base[p];  gtheta[n] = Σ_p grad[n, p] ⊗ base[p].

    NOTE [affine_grid saves nothing]
    torch's AffineGridGeneratorBackward0 keeps only size and align_corners and rebuilds the
    base grid in backward, so the graph can be backwarded twice (no saved tensor is freed).
    The backward is ember ops, linear in grad: double backward works as in torch."""

    @staticmethod
    def forward(ctx, theta, size, align_corners):
        ctx.size, ctx.align_corners = size, align_corners
        spatial = list(size[2:])
        nd = len(spatial)
        base = _base_array(theta._data, spatial, align_corners).reshape(1, -1, nd + 1)
        grid = get_array_module(theta._data).matmul(base, theta._data.transpose(0, 2, 1))
        return grid.reshape([size[0]] + spatial + [nd])

    @staticmethod
    def backward(ctx, grad):
        spatial = list(ctx.size[2:])
        nd, count = len(spatial), math.prod(spatial)
        base = _base_grid(grad, spatial, ctx.align_corners).reshape(1, count, nd + 1)
        rows = grad.reshape(ctx.size[0], count, nd)
        return base.transpose(1, 2).matmul(rows).transpose(1, 2), None, None


def affine_grid_generator(theta: Tensor, size, align_corners: bool) -> Tensor:
    """theta's grid for an output of `size` (4-D or 5-D), one AffineGridGeneratorBackward0
    node (the aten op, no checks of theta)."""
    size = tuple(int(s) for s in size)
    nd = len(size) - 2
    if theta.dim() != 3 or tuple(theta.shape) != (size[0], nd, nd + 1):
        return _composite_grid(theta, size, align_corners)  # raises torch's bmm/view errors
    return AffineGridGenerator.apply(theta, size, bool(align_corners))


def _composite_grid(theta: Tensor, size, align_corners: bool) -> Tensor:
    """The grid as aten composes it (base grid, bmm by thetaᵀ, view): for theta of a shape
    that does not fit size, whose errors are those of these ops."""
    spatial, nd = list(size[2:]), len(size) - 2
    count = math.prod(spatial)
    base = _base_grid(theta, spatial, align_corners)
    base = base.reshape(1, count, nd + 1).expand(size[0], count, nd + 1)
    return base.bmm(theta.transpose(1, 2)).view(list(size[:1]) + spatial + [nd])


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps theta (N, 2, 3) or (N, 3, 4) for an output of size
    (N, C, H, W) or (N, C, D, H, W) (matches `torch.nn.functional.affine_grid`):
    grid[n, ..., i, j] = theta[n] @ (x_j, y_i, [z_k,] 1)."""
    if align_corners is None:
        _warn(_ALIGN_CORNERS_WARNING, stacklevel=2)
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
        _warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    return affine_grid_generator(theta, size, align_corners)


__all__ = ["affine_grid", "grid_sample"]
