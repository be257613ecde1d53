"""Functional image transforms for PIL images and tensors (matches
`torchvision.transforms.functional`).

Each function checks its arguments the way torchvision does, then sends PIL images to
`_functional_pil` and tensors (..., C, H, W) to `_functional_tensor`.
"""

import math
import numbers
from enum import Enum

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.vision.transforms import _functional_pil as F_pil
from ember.vision.transforms import _geometry_tensor as F_g
from ember.vision.transforms import _functional_tensor as F_t


class InterpolationMode(Enum):
    """Interpolation modes (matches `torchvision.transforms.InterpolationMode`)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _pil_mode(mode: InterpolationMode) -> int:
    from PIL import Image

    return {InterpolationMode.NEAREST: Image.NEAREST,
            InterpolationMode.NEAREST_EXACT: Image.NEAREST,
            InterpolationMode.BILINEAR: Image.BILINEAR, InterpolationMode.BICUBIC: Image.BICUBIC,
            InterpolationMode.BOX: Image.BOX, InterpolationMode.HAMMING: Image.HAMMING,
            InterpolationMode.LANCZOS: Image.LANCZOS}[mode]


def _interpolation(mode) -> InterpolationMode:
    if isinstance(mode, int):  # a PIL constant, as older code passes
        from PIL import Image

        table = {Image.NEAREST: "nearest", Image.BILINEAR: "bilinear",
                 Image.BICUBIC: "bicubic", Image.BOX: "box", Image.HAMMING: "hamming",
                 Image.LANCZOS: "lanczos"}
        return InterpolationMode(table[mode])
    return InterpolationMode(mode)


def _is_pil(img) -> bool:
    return F_pil._is_pil_image(img)


def _check(img) -> None:
    if not isinstance(img, Tensor) and not _is_pil(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def get_dimensions(img) -> list:
    """[channels, height, width] of an image."""
    _check(img)
    return F_t.get_dimensions(img) if isinstance(img, Tensor) else F_pil.get_dimensions(img)


def get_image_size(img) -> list:
    """[width, height] of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


# ---- conversion -------------------------------------------------------------------------------
def to_tensor(pic) -> Tensor:
    """A PIL image or HxWxC ndarray as a CxHxW tensor; uint8 data scaled to float in [0, 1]."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        array = np.ascontiguousarray(array.transpose((2, 0, 1)))
    elif _is_pil(pic):
        dtypes = {"I": np.int32, "I;16": np.int16, "F": np.float32}
        array = np.array(pic, dtypes.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
        array = np.ascontiguousarray(array.transpose((2, 0, 1)))
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if array.dtype == np.uint8:
        default = _dtype.get_default_dtype().numpy
        return Tensor._make(array.astype(default) / default.type(255))
    return Tensor._make(array)


def pil_to_tensor(pic) -> Tensor:
    """A PIL image as a CxHxW tensor of its own dtype (no scaling)."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True)
    array = array.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return Tensor._make(np.ascontiguousarray(array.transpose((2, 0, 1))))


def to_pil_image(pic, mode=None):
    """A CxHxW tensor or HxWxC ndarray as a PIL image (floats are scaled by 255)."""
    from PIL import Image

    if isinstance(pic, Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic._data[None] if pic.ndim == 2 else pic._data
        if array.shape[0] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[0]} channels.")
        if array.dtype.kind == "f" and mode != "F":
            with np.errstate(invalid="ignore", over="ignore"):
                array = (array * array.dtype.type(255)).astype(np.int64).astype(np.uint8)
        array = np.transpose(array, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        if array.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {array.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = array.shape[2]
    if channels == 1:
        array = array[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(array.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {array.dtype}. "
                             f"Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 4: ["RGBA", "CMYK", "RGBX"], 3: ["RGB", "YCbCr", "HSV"]}
        if mode is not None and mode not in permitted[channels]:
            raise ValueError(f"Only modes {permitted[channels]} are supported for "
                             f"{channels}D inputs")
        if mode is None and array.dtype == np.uint8:
            mode = permitted[channels][0]
    if mode is None:
        raise TypeError(f"Input type {array.dtype} is not supported")
    array = np.ascontiguousarray(array)
    if mode in ("L", "F", "I", "RGB", "RGBA", "LA"):
        return Image.fromarray(array.astype({"I": np.int32}.get(mode, array.dtype)))
    return Image.frombytes(mode, (array.shape[1], array.shape[0]), array.tobytes())


def convert_image_dtype(image: Tensor, dtype=None) -> Tensor:
    """Convert dtype rescaling values: ints span 0..max, floats 0..1."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    dtype = _dtype.float32 if dtype is None else _dtype.to_dtype(dtype)
    return F_t.convert_image_dtype(image, dtype.numpy)


def normalize(tensor: Tensor, mean, std, inplace: bool = False) -> Tensor:
    """(x − mean[c]) / std[c] per channel of a float (..., C, H, W) tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tensor.size()}")
    work = tensor._data.dtype
    mean = np.asarray(mean._data if isinstance(mean, Tensor) else mean, dtype=work)
    std = np.asarray(std._data if isinstance(std, Tensor) else std, dtype=work)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         f"to division by zero.")
    if mean.ndim == 1:
        mean = mean[:, None, None]
    if std.ndim == 1:
        std = std[:, None, None]
    out = (tensor._data - mean) / std
    if inplace:
        tensor._data[...] = out
        tensor._version_counter.value += 1
        return tensor
    return Tensor._make(out)


# ---- geometry -----------------------------------------------------------------------------------
def _output_size(height: int, width: int, size, max_size=None) -> list:
    """[h, w] after Resize(size): an int (or [int]) scales the shorter side to it."""
    if isinstance(size, int) or len(size) == 1:
        requested = size if isinstance(size, int) else size[0]
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        return [new_h, new_w]
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the "
                         "smaller edge, i.e. size should be an int or a sequence of length 1")
    return [size[0], size[1]]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to size ([h, w]) or scale the shorter side to size (an int)."""
    _check(img)
    _, height, width = get_dimensions(img)
    output = _output_size(height, width, size, max_size)
    if output == [height, width]:
        return img
    interpolation = _interpolation(interpolation)
    if isinstance(img, Tensor):
        return F_t.resize(img, output, interpolation.value, antialias)
    return F_pil.resize(img, output, _pil_mode(interpolation))


def _padding_ltrb(padding) -> list:
    if isinstance(padding, numbers.Number):
        if not isinstance(padding, int):
            raise TypeError("Got inappropriate padding arg")
        return [padding] * 4
    if not isinstance(padding, (list, tuple)) or len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return padding


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad an image on its four sides (left, top, right, bottom); modes constant, edge,
    reflect, symmetric."""
    _check(img)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    ltrb = _padding_ltrb(padding)
    if isinstance(img, Tensor):
        return F_t.pad(img, ltrb, fill, padding_mode)
    return F_pil.pad(img, ltrb, fill, padding_mode)


def crop(img, top: int, left: int, height: int, width: int):
    """The height x width window whose top-left corner is (top, left)."""
    _check(img)
    if isinstance(img, Tensor):
        return F_t.crop(img, top, left, height, width)
    return F_pil.crop(img, top, left, height, width)


def center_crop(img, output_size):
    """The central output_size window, zero-padding first if the image is smaller."""
    if isinstance(output_size, numbers.Number):
        output_size = (int(output_size), int(output_size))
    elif len(output_size) == 1:
        output_size = (output_size[0], output_size[0])
    _, height, width = get_dimensions(img)
    crop_h, crop_w = output_size
    if crop_w > width or crop_h > height:
        padding = [(crop_w - width) // 2 if crop_w > width else 0,
                   (crop_h - height) // 2 if crop_h > height else 0,
                   (crop_w - width + 1) // 2 if crop_w > width else 0,
                   (crop_h - height + 1) // 2 if crop_h > height else 0]
        img = pad(img, padding, fill=0)
        _, height, width = get_dimensions(img)
        if crop_w == width and crop_h == height:
            return img
    top = round((height - crop_h) / 2.0)
    left = round((width - crop_w) / 2.0)
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size,
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
    """crop then resize."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def hflip(img):
    """Mirror left-right."""
    _check(img)
    return F_t.hflip(img) if isinstance(img, Tensor) else F_pil.hflip(img)


def vflip(img):
    """Mirror top-bottom."""
    _check(img)
    return F_t.vflip(img) if isinstance(img, Tensor) else F_pil.vflip(img)


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False,
           center=None, fill=None):
    """Rotate counter-clockwise by angle degrees about center (the image centre by default)."""
    _check(img)
    interpolation = _interpolation(interpolation)
    if isinstance(img, Tensor):  # (a tensor rotates about the centre through grid_sample)
        _, height, width = get_dimensions(img)
        matrix = _inverse_affine_matrix(F_g.centred(center, width, height), -angle, [0.0, 0.0],
                                        1.0, [0.0, 0.0])
        return F_g.rotate(img, matrix, interpolation.value, expand, fill)
    return F_pil.rotate(img, angle, _pil_mode(interpolation), expand, center, fill)


def _inverse_affine_matrix(center, angle, translate, scale, shear) -> list:
    """The output->input map of rotation·shear·scale about center, then translation."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    return matrix


def affine(img, angle: float, translate, scale: float, shear,
           interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate, translate, scale and shear an image about its centre."""
    _check(img)
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    _, height, width = get_dimensions(img)
    interpolation = _interpolation(interpolation)
    if isinstance(img, Tensor):  # (centred coordinates, grid_sample: torchvision's tensor path)
        matrix = _inverse_affine_matrix(F_g.centred(center, width, height), angle,
                                        [1.0 * t for t in translate], scale, shear)
        return F_g.affine(img, matrix, interpolation.value, fill)
    center = [width * 0.5, height * 0.5] if center is None else center
    matrix = _inverse_affine_matrix(center, angle, translate, scale, shear)
    return F_pil.affine(img, matrix, _pil_mode(interpolation), fill)


# ---- colour ---------------------------------------------------------------------------------
def _factor(name: str, value: float) -> None:
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor: float):
    """Multiply intensities by brightness_factor (0 gives black)."""
    _check(img)
    _factor("brightness_factor", brightness_factor)
    if isinstance(img, Tensor):
        return F_t.adjust_brightness(img, brightness_factor)
    return F_pil.adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor: float):
    """Blend with the mean grey level (0 gives a uniform grey image)."""
    _check(img)
    _factor("contrast_factor", contrast_factor)
    if isinstance(img, Tensor):
        return F_t.adjust_contrast(img, contrast_factor)
    return F_pil.adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor: float):
    """Blend with the grayscale image (0 gives grey, 2 doubles the saturation)."""
    _check(img)
    _factor("saturation_factor", saturation_factor)
    if isinstance(img, Tensor):
        return F_t.adjust_saturation(img, saturation_factor)
    return F_pil.adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor: float):
    """Rotate the hue by hue_factor (in [-0.5, 0.5]) of a turn."""
    _check(img)
    if isinstance(img, Tensor):
        return F_t.adjust_hue(img, hue_factor)
    return F_pil.adjust_hue(img, hue_factor)


def rgb_to_grayscale(img, num_output_channels: int = 1):
    """Luma L = 0.2989 R + 0.587 G + 0.114 B, as 1 or 3 channels."""
    _check(img)
    if isinstance(img, Tensor):
        return F_t.rgb_to_grayscale(img, num_output_channels)
    return F_pil.to_grayscale(img, num_output_channels)


to_grayscale = rgb_to_grayscale


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (odd kernel_size, per-axis sigma); reflect padding."""
    _check(img)
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) == 1:
        kernel_size = [kernel_size[0], kernel_size[0]]
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got "
                         f"{kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if any(s <= 0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if isinstance(img, Tensor):
        return F_t.gaussian_blur(img, kernel_size, sigma)
    out = F_t.gaussian_blur(pil_to_tensor(img), kernel_size, sigma)
    return to_pil_image(out, mode=img.mode if img.mode in ("L", "RGB", "RGBA") else None)


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """Replace the h x w window at (i, j) of a tensor image by v."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace)
