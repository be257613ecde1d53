"""nn.functional's sampling functions for spatial transformers: affine_grid and grid_sample
(matches torch.nn.functional; the sampling op is in ember/ops/grid_sample.py)."""

from ember.ops.grid_sample import affine_base_grid, grid_sample


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps theta (N, 2, 3) for an output of size (N, C, H, W)
    (matches `torch.nn.functional.affine_grid`): grid[n, i, j] = theta[n] @ (x_j, y_i, 1)."""
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 5:
        raise NotImplementedError("ember's affine_grid supports 4-D sizes (N, C, H, W); "
                                  "volumetric (5-D) grids are not implemented")
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{size}. Got {list(theta.shape)}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n, _, height, width = size
    base = affine_base_grid(theta, height, width, bool(align_corners))
    grid = base.reshape(1, height * width, 3).matmul(theta.transpose(1, 2))
    return grid.reshape(n, height, width, 2)


__all__ = ["affine_grid", "grid_sample"]
