"""ember.vision.ops: detection and model-building operators (matches `torchvision.ops`)."""

from ember.vision.ops.boxes import (
    batched_nms,
    box_area,
    box_convert,
    box_iou,
    clip_boxes_to_image,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    masks_to_boxes,
    nms,
    remove_small_boxes,
)
from ember.vision.ops.drop_block import DropBlock2d, DropBlock3d, drop_block2d, drop_block3d
from ember.vision.ops.feature_pyramid_network import FeaturePyramidNetwork
from ember.vision.ops.focal_loss import sigmoid_focal_loss
from ember.vision.ops.giou_loss import (
    complete_box_iou_loss,
    distance_box_iou_loss,
    generalized_box_iou_loss,
)
from ember.vision.ops.misc import (
    MLP,
    Conv2dNormActivation,
    Conv3dNormActivation,
    FrozenBatchNorm2d,
    Permute,
    SqueezeExcitation,
)
from ember.vision.ops.ps_roi_align import PSRoIAlign, ps_roi_align
from ember.vision.ops.roi_align import RoIAlign, roi_align
from ember.vision.ops.roi_pool import RoIPool, roi_pool
from ember.vision.ops.stochastic_depth import StochasticDepth, stochastic_depth

__all__ = ["MLP", "Conv2dNormActivation", "Conv3dNormActivation", "DropBlock2d",
           "DropBlock3d", "FeaturePyramidNetwork", "FrozenBatchNorm2d", "PSRoIAlign",
           "Permute", "RoIAlign", "RoIPool", "SqueezeExcitation", "StochasticDepth",
           "batched_nms", "box_area", "box_convert", "box_iou", "clip_boxes_to_image",
           "complete_box_iou", "complete_box_iou_loss", "distance_box_iou",
           "distance_box_iou_loss", "drop_block2d", "drop_block3d",
           "generalized_box_iou", "generalized_box_iou_loss", "masks_to_boxes", "nms",
           "ps_roi_align", "remove_small_boxes", "roi_align", "roi_pool",
           "sigmoid_focal_loss", "stochastic_depth"]
