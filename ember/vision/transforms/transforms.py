"""Image transforms as callable objects (matches `torchvision.transforms.transforms`).

The deterministic transforms are defined here; the random augmentation transforms are defined
in _augment.py and re-exported, so `transforms.transforms.RandomCrop` works as in torchvision.
"""

import numbers
from collections.abc import Sequence

from ember.vision.transforms import functional as F
from ember.vision.transforms._augment import (ColorJitter, GaussianBlur,  # noqa: F401 re-export
                                              RandomAffine, RandomApply, RandomChoice,
                                              RandomCrop, RandomErasing, RandomGrayscale,
                                              RandomHorizontalFlip, RandomOrder,
                                              RandomResizedCrop, RandomRotation,
                                              RandomVerticalFlip)
from ember.vision.transforms._base import Transform, _Callable, _setup_size
from ember.vision.transforms.functional import InterpolationMode


class Compose(_Callable):
    """Apply transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor(_Callable):
    """PIL image / HxWxC ndarray -> CxHxW float tensor in [0, 1] (uint8 data divided by 255)."""

    def __call__(self, pic):
        return F.to_tensor(pic)


class PILToTensor(_Callable):
    """PIL image -> CxHxW tensor of the same dtype."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)


class ToPILImage(_Callable):
    """CxHxW tensor or HxWxC ndarray -> PIL image."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        inner = f"mode={self.mode}" if self.mode is not None else ""
        return f"{type(self).__name__}({inner})"


class ConvertImageDtype(Transform):
    """Convert a tensor image's dtype, rescaling its values."""

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(Transform):
    """(x − mean[c]) / std[c] for each channel c of a float tensor image."""

    def __init__(self, mean, std, inplace: bool = False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Resize(Transform):
    """Resize to (h, w), or scale the shorter side to size when size is an int."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = F._interpolation(interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class CenterCrop(Transform):
    """Crop the centre (h, w) window."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad(Transform):
    """Pad the four sides with a constant or by edge/reflect/symmetric extension."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class Grayscale(Transform):
    """Convert to grayscale with 1 or 3 output channels."""

    def __init__(self, num_output_channels: int = 1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class Lambda(_Callable):
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)
