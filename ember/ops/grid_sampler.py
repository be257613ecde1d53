"""The aten-level grid samplers `torch.grid_sampler_2d` / `torch.grid_sampler_3d`: grid_sample
with its modes given as integers, as F.grid_sample passes them down."""

from ember._registry import op
from ember._tensor import Tensor
from ember.ops.grid_sample import check_not_0d, grid_sample

# aten's enum orders: GridSamplerInterpolation and GridSamplerPadding
_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")


def _names(interpolation_mode: int, padding_mode: int):
    """The string modes of aten's integer ones.

    NOTE [grid_sampler's unknown modes]: aten reads each code as a 32-bit int (2**32 + 1 is
    mode 1); a code that is then none of its enum's leaves torch's output unwritten (it returns
    uninitialised memory), so ember refuses it instead of inventing values."""
    interpolation_mode, padding_mode = _int32(interpolation_mode), _int32(padding_mode)
    if not 0 <= interpolation_mode < len(_MODES):
        raise RuntimeError(f"grid_sampler(): unknown interpolation mode {interpolation_mode}")
    if not 0 <= padding_mode < len(_PADDINGS):
        raise RuntimeError(f"grid_sampler(): unknown padding mode {padding_mode}")
    return _MODES[interpolation_mode], _PADDINGS[padding_mode]


def _int32(code: int) -> int:
    """code's low 32 bits as a signed int, as a C++ int parameter receives an int64."""
    return (code + 2**31) % 2**32 - 2**31


@op
def grid_sampler_2d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    """grid_sample of a 4-D input, modes as aten's integers (matches `torch.grid_sampler_2d`)."""
    check_not_0d(input, grid)
    if input.dim() != 4:
        raise RuntimeError(f"grid_sampler_2d(): expected 4D input, but got input with sizes "
                           f"{list(input.shape)}")
    mode, padding = _names(interpolation_mode, padding_mode)
    return grid_sample(input, grid, mode, padding, align_corners)


@op
def grid_sampler_3d(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                    align_corners: bool) -> Tensor:
    """grid_sample of a 5-D input, modes as aten's integers (matches `torch.grid_sampler_3d`)."""
    check_not_0d(input, grid)
    if input.dim() != 5:
        raise RuntimeError(f"grid_sampler_3d(): expected 5D input, but got input with sizes "
                           f"{list(input.shape)}")
    mode, padding = _names(interpolation_mode, padding_mode)
    return grid_sample(input, grid, mode, padding, align_corners)
