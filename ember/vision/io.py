"""Reading and writing image files as uint8 tensors with Pillow (matches the image part of
`torchvision.io`: read_image, decode_image, write_png, write_jpeg, ImageReadMode)."""

from enum import Enum

import numpy as np

from ember._tensor import Tensor


class ImageReadMode(Enum):
    """The channels to read an image with."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
              ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def _to_tensor(img, mode: ImageReadMode) -> Tensor:
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if mode != ImageReadMode.UNCHANGED:
        img = img.convert(_PIL_MODES[mode])
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    array = np.asarray(img, dtype=np.uint8)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return Tensor._make(np.ascontiguousarray(array))


def read_image(path: str, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """The image file at path as a uint8 (C, H, W) tensor."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        if apply_exif_orientation:
            img = ImageOps.exif_transpose(img)
        return _to_tensor(img, mode)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation: bool = False):
    """Decode encoded image bytes (a uint8 tensor or bytes), or read a path."""
    import io

    from PIL import Image, ImageOps

    if isinstance(input, str):
        return read_image(input, mode, apply_exif_orientation)
    data = input._data.tobytes() if isinstance(input, Tensor) else bytes(input)
    with Image.open(io.BytesIO(data)) as img:
        if apply_exif_orientation:
            img = ImageOps.exif_transpose(img)
        return _to_tensor(img, mode)


def read_file(path: str) -> Tensor:
    """The bytes of a file as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return Tensor._make(np.frombuffer(f.read(), dtype=np.uint8).copy())


def _save(input: Tensor, filename: str, format: str, **options) -> None:
    from PIL import Image

    array = input._data
    if array.dtype != np.uint8 or array.ndim != 3:
        raise RuntimeError("The input tensor must be a uint8 tensor of shape (C, H, W)")
    array = array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(array)).save(filename, format=format, **options)


def write_png(input: Tensor, filename: str, compression_level: int = 6) -> None:
    """Write a uint8 (C, H, W) tensor as a PNG file."""
    _save(input, filename, "PNG", compress_level=compression_level)


def write_jpeg(input: Tensor, filename: str, quality: int = 75) -> None:
    """Write a uint8 (C, H, W) tensor as a JPEG file."""
    _save(input, filename, "JPEG", quality=quality)
