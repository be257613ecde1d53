"""The random augmentation transforms (matches the random part of `torchvision.transforms`):
random crops, flips, rotations, affine maps, colour jitter, grayscale, blur, erasing,
RandomApply, RandomChoice and RandomOrder. The deterministic transforms are in
transforms.py, which re-exports these.

NOTE [Random transforms and the default generator]
Random decisions are drawn from ember's default generator with the same calls torchvision
makes on PyTorch's (`rand(1) < p`, `randint(0, n, (1,))`, `empty(1).uniform_(a, b)`,
`randperm(4)`, and Python's `random` for RandomChoice/RandomOrder), in the same order, so
after the same `manual_seed` a pipeline makes PyTorch's decisions. torchvision's float32
steps are kept too: the log of the aspect-ratio range and the exp of its draw are float32
(correctly rounded, as torch's are; NumPy's float32 exp/log are not always).
"""

import math
import numbers
import random
import warnings
from collections.abc import Sequence

import numpy as np

from ember._dtype import float32
from ember._tensor import Tensor
from ember.ops.creation import empty, rand, randint, randperm, tensor
from ember.vision.transforms import functional as F
from ember.vision.transforms._base import Transform, _Callable, _setup_size
from ember.vision.transforms.functional import InterpolationMode


def _uniform(low: float, high: float) -> float:
    return float(empty(1).uniform_(low, high).item())


def _randint(high: int) -> int:
    return int(randint(0, high, size=(1,)).item())


def _coin(p: float) -> bool:
    return bool(rand(1).item() < p)


def _log_ratio(ratio) -> tuple:
    """torchvision's `torch.log(torch.tensor(ratio))`: float32 logs of the float32 bounds."""
    return tuple(float(np.float32(math.log(np.float32(r)))) for r in ratio)


def _aspect_ratio(log_ratio) -> float:
    """`torch.exp(torch.empty(1).uniform_(*log_ratio)).item()`: the exp in float32."""
    return float(np.float32(math.exp(_uniform(log_ratio[0], log_ratio[1]))))


def _tensor_fill(img, fill):
    """A tensor image's fill as torchvision's RandomRotation/RandomAffine pass it: one float
    per channel (a fill of None fails there, as in torchvision); a PIL image's as given."""
    if not isinstance(img, Tensor):
        return fill
    if isinstance(fill, (int, float)):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


def _setup_angle(x, name: str, req_sizes=(2,)) -> list:
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    elif len(x) not in req_sizes:
        raise ValueError(f"If {name} is a sequence its length should be one of {req_sizes}.")
    return [float(d) for d in x]


class RandomCrop(Transform):
    """Crop a random (h, w) window, after optional padding."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant"):
        super().__init__()
        self.size = tuple(_setup_size(size, "Please provide only two dimensions (h, w) for "
                                            "size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size) -> tuple:
        """(top, left, h, w) of a random window of output_size."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        return _randint(h - th + 1), _randint(w - tw + 1), th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirror left-right with probability p."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = p

    def forward(self, img):
        return F.hflip(img) if _coin(self.p) else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p."""

    def forward(self, img):
        return F.vflip(img) if _coin(self.p) else img


class RandomResizedCrop(Transform):
    """Crop a random area (scale) and aspect ratio (ratio), then resize to size."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.interpolation = F._interpolation(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio) -> tuple:
        """(top, left, h, w): ten tries at a random area/ratio, else a central crop."""
        return resized_crop_params(img, scale, ratio, _aspect_ratio)

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation,
                              antialias=self.antialias)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def resized_crop_params(img, scale, ratio, aspect_ratio_of) -> tuple:
    """RandomResizedCrop's (top, left, h, w), the aspect ratio drawn by aspect_ratio_of(log
    ratio bounds) (v1 takes its exp in float32, v2 in float64)."""
    _, height, width = F.get_dimensions(img)
    area = height * width
    log_ratio = _log_ratio(ratio)
    for _ in range(10):
        target_area = area * _uniform(scale[0], scale[1])
        aspect_ratio = aspect_ratio_of(log_ratio)
        w = round(math.sqrt(target_area * aspect_ratio))
        h = round(math.sqrt(target_area / aspect_ratio))
        if 0 < w <= width and 0 < h <= height:
            return _randint(height - h + 1), _randint(width - w + 1), h, w
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round(height * max(ratio))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class RandomRotation(Transform):
    """Rotate by an angle drawn uniformly from degrees."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand: bool = False,
                 center=None, fill=0):
        super().__init__()
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        self.interpolation = F._interpolation(interpolation)
        self.expand = expand
        self.center = center
        self.fill = fill

    @staticmethod
    def get_params(degrees) -> float:
        return _uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img):
        fill = _tensor_fill(img, self.fill)
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        text = (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            text += f", center={self.center}"
        if self.fill is not None:
            text += f", fill={self.fill}"
        return text + ")"


class RandomAffine(Transform):
    """A random affine map: rotation, translation, scale and shear drawn from the ranges."""

    def __init__(self, degrees, translate=None, scale=None, shear=None,
                 interpolation=InterpolationMode.NEAREST, fill=0, center=None):
        super().__init__()
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("scale values should be positive")
        self.translate = translate
        self.scale = scale
        self.shear = None if shear is None else _setup_angle(shear, "shear", (2, 4))
        self.interpolation = F._interpolation(interpolation)
        self.fill = fill
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size) -> tuple:
        """(angle, (tx, ty), scale, (shear_x, shear_y)); img_size is [width, height]."""
        angle = _uniform(float(degrees[0]), float(degrees[1]))
        if translate is not None:
            max_dx = float(translate[0] * img_size[0])
            max_dy = float(translate[1] * img_size[1])
            translations = (round(_uniform(-max_dx, max_dx)),
                            round(_uniform(-max_dy, max_dy)))
        else:
            translations = (0, 0)
        scale = 1.0 if scale_ranges is None else _uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                 F.get_image_size(img))
        return F.affine(img, *params, interpolation=self.interpolation,
                        fill=_tensor_fill(img, self.fill), center=self.center)

    def __repr__(self) -> str:
        text = f"{type(self).__name__}(degrees={self.degrees}"
        text += f", translate={self.translate}" if self.translate is not None else ""
        text += f", scale={self.scale}" if self.scale is not None else ""
        text += f", shear={self.shear}" if self.shear is not None else ""
        if self.interpolation != InterpolationMode.NEAREST:
            text += f", interpolation={self.interpolation.value}"
        text += f", fill={self.fill}" if self.fill != 0 else ""
        text += f", center={self.center}" if self.center is not None else ""
        return text + ")"


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, applied in random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5),
                                     clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")),
                     clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue) -> tuple:
        """(order of the four adjustments, b, c, s, h); None for a disabled one."""
        order = randperm(4)
        values = [None if r is None else _uniform(r[0], r[1])
                  for r in (brightness, contrast, saturation, hue)]
        return (order, *values)

    def forward(self, img):
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation,
                                            self.hue)
        adjust = [(F.adjust_brightness, b), (F.adjust_contrast, c),
                  (F.adjust_saturation, s), (F.adjust_hue, h)]
        for index in order.tolist():
            fn, factor = adjust[index]
            if factor is not None:
                img = fn(img, factor)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast="
                f"{self.contrast}, saturation={self.saturation}, hue={self.hue})")


class RandomGrayscale(Transform):
    """Convert to grayscale (keeping the channel count) with probability p."""

    def __init__(self, p: float = 0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        channels, _, _ = F.get_dimensions(img)
        return F.rgb_to_grayscale(img, channels) if _coin(self.p) else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class GaussianBlur(Transform):
    """Blur with a Gaussian whose sigma is drawn uniformly from sigma=(min, max)."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two "
                                                    "integers")
        if any(k <= 0 or k % 2 == 0 for k in self.kernel_size):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        return _uniform(sigma_min, sigma_max)

    def forward(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomErasing(Transform):
    """With probability p, erase a random rectangle of a tensor image (Zhong et al. 2017)."""

    def __init__(self, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0,
                 inplace: bool = False):
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None) -> tuple:
        """(i, j, h, w, v): a window and its fill (normal noise when value is None)."""
        channels, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = _log_ratio(ratio)
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = _aspect_ratio(log_ratio)
            h = round(math.sqrt(erase_area * aspect_ratio))
            w = round(math.sqrt(erase_area / aspect_ratio))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = empty([channels, h, w], dtype=float32).normal_()
            else:
                v = Tensor._make(tensor(value)._data[:, None, None])
            return _randint(img_h - h + 1), _randint(img_w - w + 1), h, w, v
        return 0, 0, img_h, img_w, img

    def forward(self, img):
        if not _coin(self.p):
            return img
        if isinstance(self.value, (int, float)):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{img.shape[-3]} (number of input channels)")
        i, j, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return F.erase(img, i, j, h, w, v, self.inplace)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")


class RandomApply(Transform):
    """Apply a list of transforms with probability p."""

    def __init__(self, transforms, p: float = 0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < rand(1).item():  # torchvision's test: applied when the draw is <= p
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class _RandomTransforms(_Callable):
    """Base of RandomChoice and RandomOrder: plain callables over a sequence of transforms."""

    def __init__(self, transforms):
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class RandomChoice(_RandomTransforms):
    """Apply one of the transforms, picked with Python's `random.choices` and weights p."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args):
        return random.choices(self.transforms, weights=self.p)[0](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class RandomOrder(_RandomTransforms):
    """Apply the transforms in an order shuffled by Python's `random.shuffle`."""

    def __call__(self, img):
        order = list(range(len(self.transforms)))
        random.shuffle(order)
        for i in order:
            img = self.transforms[i](img)
        return img
