"""ember.vision.transforms.v2: the v1 transforms under torchvision's v2 names, plus ToImage and
ToDtype (matches the commonly used part of `torchvision.transforms.v2`)."""

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.vision.transforms import functional
from ember.vision.transforms._augment import (ColorJitter, GaussianBlur,  # noqa: F401
                                              RandomAffine, RandomApply, RandomChoice,
                                              RandomCrop, RandomErasing, RandomGrayscale,
                                              RandomHorizontalFlip, RandomOrder,
                                              RandomResizedCrop, RandomRotation,
                                              RandomVerticalFlip)
from ember.vision.transforms._base import Transform
from ember.vision.transforms.functional import InterpolationMode  # noqa: F401
from ember.vision.transforms.transforms import (CenterCrop, Compose,  # noqa: F401
                                                ConvertImageDtype, Grayscale, Lambda,
                                                Normalize, Pad, PILToTensor, Resize,
                                                ToPILImage, ToTensor)


class ToImage(PILToTensor):
    """PIL image or ndarray -> CxHxW tensor of the same dtype; tensors pass through."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            return pic
        if isinstance(pic, np.ndarray):
            array = pic[:, :, None] if pic.ndim == 2 else pic
            return Tensor._make(np.ascontiguousarray(array.transpose(2, 0, 1)))
        return functional.pil_to_tensor(pic)


class ToDtype(Transform):
    """Convert a tensor image's dtype; with scale=True also rescale its values."""

    def __init__(self, dtype, scale: bool = False):
        super().__init__()
        self.dtype = dtype
        self.scale = scale

    def forward(self, image):
        if self.scale:
            return functional.convert_image_dtype(image, self.dtype)
        return image.to(_dtype.to_dtype(self.dtype))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dtype={self.dtype}, scale={self.scale})"
