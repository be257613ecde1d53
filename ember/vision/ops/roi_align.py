"""RoIAlign (He et al., Mask R-CNN): average of bilinear samples on a regular grid in each bin
of each box (matches `torchvision.ops.roi_align` and its CPU kernel), with its backward.

NOTE [RoIAlign as two interpolation matrices]
torchvision's kernel reads, for box k and bin (ph, pw), the samples y(ph, iy) x x(pw, ix) of
its grid, each a bilinear mix of 4 pixels. A sample's weights factor into a y part and an x
part (a sample outside [-1, H] x [-1, W] reads 0, also a product of a y and an x test), so the
output is Ay[k] · input[b_k] · Ax[k]ᵀ / count[k], with Ay[k][ph, h] the summed y-weights of row
h over the bin's samples (likewise Ax). The coordinates are computed in the input's dtype in the
kernel's order, so the same pixels are read; the backward is the transposed contraction.
Adaptive sampling (sampling_ratio <= 0) uses ceil(roi_size / pooled_size) samples per box:
grids of the largest size with the extra samples masked out.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable
from ember import nn
from ember.nn.modules.utils import _pair
from ember.vision.ops._utils import (check_roi_boxes_shape, check_same_type,
                                     convert_boxes_to_roi_format)


def _axis_weights(start, bin_size, grid, pooled: int, size: int, dtype):
    """(K, pooled, size) summed bilinear weights of one axis's samples, and (K, pooled, G)
    in-range flags of the samples (torchvision's `pre_calc` along one axis)."""
    k = start.shape[0]
    g_max = max(int(grid.max()) if k else 1, 1)
    p = xp.arange(pooled, dtype=dtype)[None, :, None]
    i = xp.arange(g_max)[None, None, :]
    step = (i + 0.5).astype(dtype)
    coord = (start[:, None, None] + p * bin_size[:, None, None]
             + step * bin_size[:, None, None] / grid[:, None, None].astype(dtype))
    used = xp.broadcast_to(i < grid[:, None, None], coord.shape)
    inside = (coord >= -1.0) & (coord <= size)
    coord = xp.maximum(coord, 0).astype(dtype)
    low = coord.astype(xp.int64)
    clamp = low >= size - 1
    low = xp.where(clamp, size - 1, low)
    high = xp.where(clamp, size - 1, low + 1)
    coord = xp.where(clamp, low.astype(dtype), coord)
    frac = (coord - low).astype(dtype)
    keep = (used & inside).astype(dtype)
    weights = xp.zeros((k, pooled, size), dtype=xp.float64)
    rows = xp.broadcast_to(xp.arange(k)[:, None, None], coord.shape)
    cols = xp.broadcast_to(xp.arange(pooled)[None, :, None], coord.shape)
    xp.add.at(weights, (rows, cols, low), (1 - frac) * keep)
    xp.add.at(weights, (rows, cols, high), frac * keep)
    return weights


def _matrices(rois, height, width, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned,
              position_sensitive=False):
    """The per-box y and x interpolation matrices, the y one divided by the sample count
    (NOTE [RoIAlign as two interpolation matrices]). The position-sensitive kernel always
    shifts by half a pixel and divides by the raw count (0 samples give NaN there)."""
    dtype = rois.dtype
    offset = dtype.type(0.5 if aligned or position_sensitive else 0.0)
    scale = dtype.type(spatial_scale)
    start_w, start_h = rois[:, 1] * scale - offset, rois[:, 2] * scale - offset
    roi_w = rois[:, 3] * scale - offset - start_w
    roi_h = rois[:, 4] * scale - offset - start_h
    if not aligned and not position_sensitive:  # the legacy kernel makes tiny boxes 1x1
        roi_w, roi_h = xp.maximum(roi_w, 1).astype(dtype), xp.maximum(roi_h, 1).astype(dtype)
    bin_h, bin_w = roi_h / dtype.type(pooled_h), roi_w / dtype.type(pooled_w)
    if sampling_ratio > 0:
        grid_h = grid_w = xp.full(rois.shape[0], sampling_ratio, dtype=xp.int64)
    else:
        grid_h = xp.ceil(roi_h / dtype.type(pooled_h)).astype(xp.int64)
        grid_w = xp.ceil(roi_w / dtype.type(pooled_w)).astype(xp.int64)
    ay = _axis_weights(start_h, bin_h, grid_h, pooled_h, height, dtype)
    ax = _axis_weights(start_w, bin_w, grid_w, pooled_w, width, dtype)
    count = (grid_h * grid_w).astype(xp.float64)
    if not position_sensitive:
        count = xp.maximum(count, 1)
    return ay / count[:, None, None], ax


class RoIAlignFunction(Op):
    """out[k, c] = Ay[k] · input[b_k, c] · Ax[k]ᵀ;  grad_input[b_k, c] += Ay[k]ᵀ · gy · Ax[k]."""

    node_name = "RoIAlignFunctionBackward"

    @staticmethod
    def forward(ctx, input, rois, spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned):
        x, r = input._data, rois._data
        ay, ax = _matrices(r, x.shape[2], x.shape[3], spatial_scale, pooled_h, pooled_w,
                           sampling_ratio, aligned)
        batch = r[:, 0].astype(xp.int64)
        out = xp.zeros((r.shape[0], x.shape[1], pooled_h, pooled_w), dtype=xp.float64)
        for b in xp.unique(batch):  # one contraction per image, not a copy per box
            sel = batch == b
            out[sel] = xp.einsum("kph,chw,kqw->kcpq", ay[sel], x[b], ax[sel], optimize=True)
        ctx.geometry = (x.shape, batch, ay, ax)
        return out.astype(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        shape, batch, ay, ax = ctx.geometry
        g = gy._data
        grad = xp.zeros(shape, dtype=xp.float64)
        for b in xp.unique(batch):
            sel = batch == b
            grad[b] = xp.einsum("kph,kcpq,kqw->chw", ay[sel], g[sel], ax[sel], optimize=True)
        return grad.astype(g.dtype), None, None, None, None, None, None


def roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
              sampling_ratio: int = -1, aligned: bool = False) -> Tensor:
    """RoI Align with average pooling (matches `torchvision.ops.roi_align`)."""
    check_roi_boxes_shape(boxes)
    rois = boxes if isinstance(boxes, Tensor) else convert_boxes_to_roi_format(boxes)
    out_h, out_w = _pair(output_size)
    check_same_type(input, rois, "roi_align_forward_kernel")
    return RoIAlignFunction.apply(input, rois, float(spatial_scale), int(out_h),
                                  int(out_w), int(sampling_ratio), bool(aligned))


class RoIAlign(nn.Module):
    """See `roi_align` (matches `torchvision.ops.RoIAlign`)."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int,
                 aligned: bool = False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_align(input, rois, self.output_size, self.spatial_scale,
                         self.sampling_ratio, self.aligned)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio}, "
                f"aligned={self.aligned})")
