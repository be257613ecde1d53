"""Shared checks and conversions of torchvision's ops (matches `torchvision.ops._utils`)."""

import ember
from ember._tensor import Tensor


def _cat(tensors, dim: int = 0) -> Tensor:
    """cat, without a copy for a single tensor."""
    return tensors[0] if len(tensors) == 1 else ember.cat(tensors, dim)


def convert_boxes_to_roi_format(boxes) -> Tensor:
    """A list of (L_i, 4) boxes per image as one (K, 5) tensor [image index, x1, y1, x2, y2]."""
    concat_boxes = _cat(list(boxes), dim=0)
    ids = _cat([ember.full_like(b[:, :1], i) for i, b in enumerate(boxes)], dim=0)
    return ember.cat([ids, concat_boxes], dim=1)


def check_roi_boxes_shape(boxes) -> None:
    """torchvision's assertions on the boxes of the RoI ops."""
    if isinstance(boxes, (list, tuple)):
        for tensor in boxes:
            if tensor.size(1) != 4:
                raise AssertionError("The shape of the tensor in the boxes list is not correct "
                                     "as List[Tensor[L, 4]]")
    elif isinstance(boxes, Tensor):
        if boxes.size(1) != 5:
            raise AssertionError("The boxes tensor shape is not correct as Tensor[K, 5]")
    else:
        raise AssertionError("boxes is expected to be a Tensor[L, 5] or a List[Tensor[K, 4]]")


def check_same_type(input: Tensor, rois: Tensor, kernel: str) -> None:
    """The C++ kernels' `checkAllSameType` on input and rois."""
    if input.dtype != rois.dtype:
        raise RuntimeError(
            f"Expected tensor for argument #1 'input' to have the same type as tensor for "
            f"argument #2 'rois'; but type {input.type()} does not equal {rois.type()} "
            f"(while checking arguments for {kernel})")


def _upcast(t: Tensor) -> Tensor:
    """Floats below float32 as float32, integers below int32 as int32 (no overflow)."""
    if t.is_floating_point():
        return t if t.dtype in (ember.float32, ember.float64) else t.float()
    return t if t.dtype in (ember.int32, ember.int64) else t.int()


def _upcast_non_float(t: Tensor) -> Tensor:
    """Non-float32/64 tensors as float32 (the box losses' inputs)."""
    return t if t.dtype in (ember.float32, ember.float64) else t.float()


def _reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """The box losses' reduction (an empty mean is a 0 connected to the graph)."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean() if loss.numel() > 0 else 0.0 * loss.sum()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction "
                     "modes: 'none', 'mean', 'sum'")
