"""Position-sensitive RoIAlign (Dai et al., R-FCN): bin (ph, pw) of output channel c averages
bilinear samples of input channel (c·PH + ph)·PW + pw (matches `torchvision.ops.ps_roi_align`
and its CPU kernel), with its backward; the interpolation matrices of roi_align."""

from ember._backend import xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable
from ember import nn
from ember.nn.modules.utils import _pair
from ember.vision.ops._utils import check_roi_boxes_shape, convert_boxes_to_roi_format
from ember.vision.ops.roi_align import _matrices


class PSRoIAlignFunction(Op):
    """out[k, c, p, q] = Ay[k, p] · input[b_k, c, p, q] · Ax[k, q]ᵀ on the channels grouped as
    (C_out, PH, PW); the gradient is the transposed contraction."""

    node_name = "PSRoIAlignFunctionBackward"

    @staticmethod
    def forward(ctx, input, rois, spatial_scale, pooled_h, pooled_w, sampling_ratio):
        x, r = input._data, rois._data
        n, c, height, width = x.shape
        ay, ax = _matrices(r, height, width, spatial_scale, pooled_h, pooled_w,
                           sampling_ratio, True, position_sensitive=True)
        grouped = x.reshape(n, c // (pooled_h * pooled_w), pooled_h, pooled_w, height, width)
        batch = r[:, 0].astype(xp.int64)
        out = xp.zeros((r.shape[0],) + grouped.shape[1:4], dtype=xp.float64)
        for b in xp.unique(batch):
            sel = batch == b
            out[sel] = xp.einsum("kph,cpqhw,kqw->kcpq", ay[sel], grouped[b], ax[sel],
                                 optimize=True)
        ctx.geometry = (grouped.shape, x.shape, batch, ay, ax)
        return out.astype(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        grouped_shape, shape, batch, ay, ax = ctx.geometry
        g = gy._data
        grad = xp.zeros(grouped_shape, dtype=xp.float64)
        for b in xp.unique(batch):
            sel = batch == b
            grad[b] = xp.einsum("kph,kcpq,kqw->cpqhw", ay[sel], g[sel], ax[sel], optimize=True)
        return grad.reshape(shape).astype(g.dtype), None, None, None, None, None


def ps_roi_align(input: Tensor, boxes, output_size, spatial_scale: float = 1.0,
                 sampling_ratio: int = -1) -> Tensor:
    """Position-sensitive RoI Align (matches `torchvision.ops.ps_roi_align`)."""
    check_roi_boxes_shape(boxes)
    rois = boxes if isinstance(boxes, Tensor) else convert_boxes_to_roi_format(boxes)
    out_h, out_w = _pair(output_size)
    if input.dtype != rois.dtype:
        raise RuntimeError("input should have the same type as rois")
    if input.size(1) % (out_h * out_w) != 0:
        raise RuntimeError("input channels must be a multiple of pooling height * pooling width")
    return PSRoIAlignFunction.apply(input, rois, float(spatial_scale), int(out_h), int(out_w),
                                    int(sampling_ratio))


class PSRoIAlign(nn.Module):
    """See `ps_roi_align` (matches `torchvision.ops.PSRoIAlign`)."""

    def __init__(self, output_size, spatial_scale: float, sampling_ratio: int):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, input: Tensor, rois) -> Tensor:
        return ps_roi_align(input, rois, self.output_size, self.spatial_scale,
                            self.sampling_ratio)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(output_size={self.output_size}, "
                f"spatial_scale={self.spatial_scale}, sampling_ratio={self.sampling_ratio})")
