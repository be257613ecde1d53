"""The PIL-image kernels of ember.vision.transforms.functional."""

import numbers

import numpy as np


def _is_pil_image(img) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def get_dimensions(img) -> list:
    width, height = img.size
    return [len(img.getbands()), height, width]


def _parse_fill(fill, img, name: str = "fillcolor") -> dict:
    """PIL's fill argument: one int per band (a float for mode F), as torchvision builds it."""
    channels = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number) and channels > 1:
        fill = tuple([fill] * channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * channels
        elif len(fill) != channels:
            raise ValueError(f"The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def _from_array(array: np.ndarray, like):
    """A PIL image of like's mode (and palette) holding array."""
    from PIL import Image

    if like.mode == "P":
        out = Image.fromarray(array.astype(np.uint8))
        out = out.convert("P") if out.mode != "P" else out
        out.putpalette(like.getpalette())
        return out
    if like.mode in ("L", "RGB", "RGBA", "LA", "F", "I"):
        return Image.fromarray(np.ascontiguousarray(array))
    return Image.frombytes(like.mode, (array.shape[1], array.shape[0]),
                           np.ascontiguousarray(array).tobytes())


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad by (left, top, right, bottom); negative padding crops."""
    left, top, right, bottom = padding
    array = np.asarray(img)
    if min(padding) < 0:
        h, w = array.shape[:2]
        array = array[max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in padding)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    if padding_mode == "constant":
        value = _parse_fill(fill, img, "fill")["fill"]
        if isinstance(value, tuple):
            planes = [np.pad(array[..., c], widths[:2], constant_values=v)
                      for c, v in enumerate(value)]
            out = np.stack(planes, axis=-1)
        else:
            out = np.pad(array, widths, constant_values=value)
    else:
        out = np.pad(array, widths, mode=padding_mode)
    return _from_array(out, img)


def crop(img, top: int, left: int, height: int, width: int):
    return img.crop((left, top, left + width, top + height))


def hflip(img):
    from PIL import Image

    return img.transpose(Image.FLIP_LEFT_RIGHT)


def vflip(img):
    from PIL import Image

    return img.transpose(Image.FLIP_TOP_BOTTOM)


def resize(img, size, interpolation):
    """size is [h, w]."""
    return img.resize((size[1], size[0]), interpolation)


def rotate(img, angle, interpolation, expand=False, center=None, fill=None):
    return img.rotate(angle, interpolation, expand, center, **_parse_fill(fill, img))


def affine(img, matrix, interpolation, fill=None):
    from PIL import Image

    return img.transform(img.size, Image.AFFINE, matrix, interpolation, **_parse_fill(fill, img))


def adjust_brightness(img, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Brightness(img).enhance(factor)


def adjust_contrast(img, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Contrast(img).enhance(factor)


def adjust_saturation(img, factor: float):
    from PIL import ImageEnhance

    return ImageEnhance.Color(img).enhance(factor)


def adjust_hue(img, hue_factor: float):
    """Shift the hue channel by hue_factor of a turn (uint8 wrap-around, as torchvision)."""
    from PIL import Image

    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    shift = np.array(np.int8(np.float32(hue_factor * 255))).astype(np.uint8)
    with np.errstate(over="ignore"):
        hue += shift
    return Image.merge("HSV", (Image.fromarray(hue), s, v)).convert(mode)


def to_grayscale(img, num_output_channels: int = 1):
    from PIL import Image

    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = np.asarray(img.convert("L"))
        return Image.fromarray(np.dstack([gray, gray, gray]))
    raise ValueError("num_output_channels should be either 1 or 3")
