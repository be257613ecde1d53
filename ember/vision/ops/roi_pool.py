"""RoIPool (Girshick, Fast R-CNN): the max of each bin of each box, the box rounded to whole
pixels (matches `torchvision.ops.roi_pool` and its CPU kernel), with its backward.

A box's bins along one axis are [floor(p·bin), ceil((p + 1)·bin)) offset by the rounded start and
clamped to the image, so a bin's max separates: the max over the bin's columns of each row, then
over the bin's rows. Taking the first maximal column of each row, then the first row reaching
the max, picks the pixel the kernel picks (the first maximum in raster order). Empty bins give 0.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable
from ember import nn
from ember.nn.modules.utils import _pair
from ember.vision.ops._utils import (check_roi_boxes_shape, check_same_type,
                                     convert_boxes_to_roi_format)


def _round(a):
    """C's round: halves away from zero."""
    return (xp.sign(a) * xp.floor(xp.abs(a) + 0.5)).astype(xp.int64)


def _bin_masks(start, end, pooled: int, size: int, dtype):
    """(pooled, size) membership of the pixels of one axis in each bin of one box."""
    length = max(end - start + 1, 1)
    bin_size = dtype.type(length) / dtype.type(pooled)
    p = xp.arange(pooled, dtype=dtype)
    lo = xp.clip(xp.floor(p * bin_size).astype(xp.int64) + start, 0, size)
    hi = xp.clip(xp.ceil((p + 1) * bin_size).astype(xp.int64) + start, 0, size)
    pixels = xp.arange(size)
    return (pixels >= lo[:, None]) & (pixels < hi[:, None])


def _pool_box(image, my, mx):
    """Max and raster argmax (-1 when empty) of image (C, H, W) over bins my x mx."""
    c, height, width = image.shape
    rows = xp.where(mx[None, None], image[:, :, None, :], -xp.inf)  # C, H, pw, W
    col = rows.argmax(-1)
    row_max = xp.take_along_axis(rows, col[..., None], -1)[..., 0]  # C, H, pw
    grid = xp.where(my[None, :, :, None], row_max[:, None], -xp.inf)  # C, ph, H, pw
    row = grid.argmax(2)
    value = xp.take_along_axis(grid, row[:, :, None], 2)[:, :, 0]  # C, ph, pw
    col = xp.take_along_axis(col[:, None], row[:, :, None], 2)[:, :, 0]
    empty = ~(my.any(1)[:, None] & mx.any(1)[None, :])
    index = xp.where(empty, -1, row * width + col)
    return xp.where(empty, 0, value), index


class RoIPoolFunction(Op):
    """out[k, c, ph, pw] = max of the bin;  the gradient flows to the bin's argmax pixel."""

    node_name = "RoIPoolFunctionBackward"

    @staticmethod
    def forward(ctx, input, rois, spatial_scale, pooled_h, pooled_w):
        x, r = input._data, rois._data
        _, c, height, width = x.shape
        corners = _round(r[:, 1:] * r.dtype.type(spatial_scale))
        out = xp.zeros((r.shape[0], c, pooled_h, pooled_w), dtype=x.dtype)
        argmax = xp.full(out.shape, -1, dtype=xp.int64)
        batch = r[:, 0].astype(xp.int64)
        for k, (x1, y1, x2, y2) in enumerate(corners.tolist()):  # boxes differ in bin layout
            my = _bin_masks(y1, y2, pooled_h, height, r.dtype)
            mx = _bin_masks(x1, x2, pooled_w, width, r.dtype)
            out[k], argmax[k] = _pool_box(x[batch[k]], my, mx)
        ctx.geometry = (x.shape, batch, argmax)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        shape, batch, argmax = ctx.geometry
        g = gy._data
        grad = xp.zeros((shape[0], shape[1], shape[2] * shape[3]), dtype=g.dtype)
        k, c, p, q = xp.nonzero(argmax >= 0)
        xp.add.at(grad, (batch[k], c, argmax[k, c, p, q]), g[k, c, p, q])
        return grad.reshape(shape), None, None, None, None


def roi_pool(input: Tensor, boxes, output_size, spatial_scale: float = 1.0) -> Tensor:
    """RoI max pooling (matches `torchvision.ops.roi_pool`)."""
    check_roi_boxes_shape(boxes)
    rois = boxes if isinstance(boxes, Tensor) else convert_boxes_to_roi_format(boxes)
    out_h, out_w = _pair(output_size)
    check_same_type(input, rois, "roi_pool_forward_kernel")
    return RoIPoolFunction.apply(input, rois, float(spatial_scale), int(out_h), int(out_w))


class RoIPool(nn.Module):
    """See `roi_pool` (matches `torchvision.ops.RoIPool`)."""

    def __init__(self, output_size, spatial_scale: float):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input: Tensor, rois) -> Tensor:
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale})")
