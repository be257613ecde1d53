"""The tensor-image kernels of ember.vision.transforms.functional, on the NumPy arrays.

Tensor images are (..., C, H, W). Transforms are not differentiated, so these kernels work on
`t._data` and wrap their result with `Tensor._make`; float32 stays float32 throughout.

NOTE [Resampling tensors through PIL]
Resize, rotate and affine on tensors resample each (H, W) plane as a PIL mode-'F' (float32)
image. PIL's resampling filters are what torchvision's antialiased tensor resize was modelled
on, so the results agree closely with torchvision without ember having its own kernels.
"""

import numpy as np

from ember._tensor import Tensor


def _wrap(array: np.ndarray) -> Tensor:
    return Tensor._make(np.ascontiguousarray(array))


def _max_value(dtype) -> float:
    if dtype.kind == "b":
        return 1
    if dtype.kind in "iu":
        return np.iinfo(dtype).max
    return 1.0


def get_dimensions(img: Tensor) -> list:
    shape = img._data.shape
    channels = 1 if len(shape) == 2 else shape[-3]
    return [channels, shape[-2], shape[-1]]


def _check_image(img: Tensor) -> None:
    if img._data.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def pad(img: Tensor, padding, fill=0, padding_mode: str = "constant") -> Tensor:
    """Pad the last two dims by (left, top, right, bottom); negative values crop."""
    array = img._data
    left, top, right, bottom = padding
    if min(padding) < 0:
        h, w = array.shape[-2:]
        array = array[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
        left, top, right, bottom = (max(p, 0) for p in padding)
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        out = np.pad(array, widths, constant_values=0 if fill is None else fill)
    else:
        out = np.pad(array, widths, mode=padding_mode)
    return _wrap(out)


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """The window [top, top+height) x [left, left+width); zero-padded outside the image."""
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        inside = img._data[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
        padding = [max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0)]
        return pad(_wrap(inside), padding)
    return _wrap(img._data[..., top:bottom, left:right].copy())


def hflip(img: Tensor) -> Tensor:
    return _wrap(img._data[..., ::-1].copy())


def vflip(img: Tensor) -> Tensor:
    return _wrap(img._data[..., ::-1, :].copy())


def resize(img: Tensor, size, interpolation: str, antialias=True) -> Tensor:
    """torchvision's tensor resize: `interpolate` in float32 (another float dtype as it is),
    integer images rounded back (bicubic uint8 clamped first); antialias only for bilinear
    and bicubic."""
    from ember.nn.functional import interpolate

    antialias = bool(antialias) and interpolation in ("bilinear", "bicubic")
    squeeze, out_dtype = img.ndim < 4, img.dtype
    x = img.unsqueeze(0) if squeeze else img
    cast = x.dtype.name not in ("float32", "float64")
    if cast:
        x = x.float()
    align_corners = False if interpolation in ("bilinear", "bicubic") else None
    x = interpolate(x, size=list(size), mode=interpolation, align_corners=align_corners,
                    antialias=antialias)
    if interpolation == "bicubic" and out_dtype.name == "uint8":
        x = x.clamp(min=0, max=255)
    if squeeze:
        x = x.squeeze(0)
    if cast:
        x = (x.round() if out_dtype.name in ("uint8", "int8", "int16", "int32", "int64")
             else x).to(out_dtype)
    return x


def _blend(x: np.ndarray, y, ratio: float) -> np.ndarray:
    """ratio·x + (1 − ratio)·y clamped to the image range, in x's dtype."""
    bound = 1.0 if x.dtype.kind == "f" else 255.0
    work = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    out = work.type(ratio) * x.astype(work) + work.type(1.0 - ratio) * np.asarray(y, dtype=work)
    return np.clip(out, 0, bound).astype(x.dtype)


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    """L = 0.2989 R + 0.587 G + 0.114 B (ITU-R 601-2 luma), in the input dtype."""
    array = img._data
    if array.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found "
                        f"{array.ndim}")
    channels = array.shape[-3]
    if channels not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{channels}")
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if channels == 3:
        work = array.dtype.type if array.dtype.kind == "f" else np.float32
        r, g, b = (array[..., i, :, :].astype(work) for i in range(3))
        gray = (work(0.2989) * r + work(0.587) * g + work(0.114) * b).astype(array.dtype)
        gray = gray[..., None, :, :]
    else:
        gray = array.copy()
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, array.shape[:-3] + (3,) + array.shape[-2:])
    return _wrap(gray)


def adjust_brightness(img: Tensor, factor: float) -> Tensor:
    return _wrap(_blend(img._data, 0, factor))


def adjust_contrast(img: Tensor, factor: float) -> Tensor:
    array = img._data
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    source = rgb_to_grayscale(img)._data if array.shape[-3] == 3 else array
    mean = source.astype(work).mean(axis=(-3, -2, -1), keepdims=True, dtype=work)
    return _wrap(_blend(array, mean, factor))


def adjust_saturation(img: Tensor, factor: float) -> Tensor:
    if img._data.shape[-3] == 1:
        return img
    return _wrap(_blend(img._data, rgb_to_grayscale(img)._data, factor))


def _rgb2hsv(rgb: np.ndarray) -> np.ndarray:
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    equal = maxc == minc
    chroma = maxc - minc
    one = np.ones_like(maxc)
    s = chroma / np.where(equal, one, maxc)
    divisor = np.where(equal, one, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return np.stack((h, s, maxc), axis=-3).astype(rgb.dtype)


def _hsv2rgb(hsv: np.ndarray) -> np.ndarray:
    h, s, v = hsv[..., 0, :, :], hsv[..., 1, :, :], hsv[..., 2, :, :]
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    channels = [np.select([i == k for k in range(6)], [c[ch] for c in choices])
                for ch in range(3)]
    return np.stack(channels, axis=-3).astype(hsv.dtype)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    """Rotate the hue by hue_factor of a turn through HSV (float images in [0, 1])."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    array = img._data
    if array.shape[-3] == 1:
        return img
    work = convert_image_dtype(img, np.dtype(np.float32))._data
    hsv = _rgb2hsv(work)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + np.float32(hue_factor), np.float32(1.0))
    out = _wrap(_hsv2rgb(hsv))
    return convert_image_dtype(out, array.dtype)


def convert_image_dtype(img: Tensor, dtype: np.dtype) -> Tensor:
    """Convert between image dtypes rescaling values (ints span 0..max, floats 0..1)."""
    array = img._data
    dtype = np.dtype(dtype)
    if array.dtype == dtype:
        return img
    if array.dtype.kind == "f":
        if dtype.kind == "f":
            return _wrap(array.astype(dtype))
        if (array.dtype == np.float32 and dtype in (np.int32, np.int64)) or \
                (array.dtype == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {img.dtype} to "
                               f"torch.{dtype.name} cannot be performed safely.")
        scale = array.dtype.type(float(_max_value(dtype)) + 1.0 - 1e-3)
        return _wrap((array * scale).astype(dtype))
    input_max = float(_max_value(array.dtype))
    if dtype.kind == "f":
        return _wrap(array.astype(dtype) / dtype.type(input_max))
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        factor = int((input_max + 1) // (output_max + 1))
        return _wrap((array // factor).astype(dtype))
    factor = int((output_max + 1) // (input_max + 1))
    return _wrap(array.astype(dtype) * dtype.type(factor))


def _gaussian_kernel1d(size: int, sigma: float) -> np.ndarray:
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size).astype(np.float32)
    pdf = np.exp(np.float32(-0.5) * (x / np.float32(sigma)) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img: Tensor, kernel_size, sigma) -> Tensor:
    """Convolve each channel with a normalised Gaussian; reflect padding; ints rounded.

    kernel_size and sigma are (x, y) pairs, as in torchvision.
    """
    array = img._data
    work = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0]).astype(work)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1]).astype(work)
    kernel = np.outer(ky, kx)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    widths = [(0, 0)] * (array.ndim - 2) + [(py, py), (px, px)]
    padded = np.pad(array.astype(work), widths, mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, kernel.shape, axis=(-2, -1))
    out = np.tensordot(windows, kernel, axes=([-2, -1], [0, 1])).astype(work)
    if array.dtype.kind != "f":
        out = np.round(out)
    return _wrap(out.astype(array.dtype))


def erase(img: Tensor, i: int, j: int, h: int, w: int, v, inplace: bool = False) -> Tensor:
    """Overwrite the window [i, i+h) x [j, j+w) with v."""
    out = img if inplace else _wrap(img._data.copy())
    value = v._data if isinstance(v, Tensor) else np.asarray(v)
    out._data[..., i:i + h, j:j + w] = value
    if inplace:
        out._version_counter.value += 1
    return out
