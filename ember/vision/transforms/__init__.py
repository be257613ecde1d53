"""ember.vision.transforms: image transforms (matches `torchvision.transforms`)."""

from ember.vision.transforms import functional, v2
from ember.vision.transforms._augment import (ColorJitter, GaussianBlur, RandomAffine,
                                              RandomApply, RandomChoice, RandomCrop,
                                              RandomErasing, RandomGrayscale,
                                              RandomHorizontalFlip, RandomOrder,
                                              RandomResizedCrop, RandomRotation,
                                              RandomVerticalFlip)
from ember.vision.transforms.functional import InterpolationMode
from ember.vision.transforms.transforms import (CenterCrop, Compose, ConvertImageDtype, Grayscale,
                                                Lambda, Normalize, Pad, PILToTensor, Resize,
                                                ToPILImage, ToTensor)

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "GaussianBlur",
           "Grayscale", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
           "RandomAffine", "RandomApply", "RandomChoice", "RandomCrop", "RandomErasing",
           "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop",
           "RandomRotation", "RandomVerticalFlip",
           "Resize", "ToPILImage", "ToTensor", "functional", "v2"]
