"""make_grid and save_image (matches `torchvision.utils`)."""

import math

import numpy as np

from ember._tensor import Tensor


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range=None, scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images (B, C, H, W) into one (C, H', W') image, nrow images a row."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([t._data for t in tensor])
    elif isinstance(tensor, Tensor):
        array = tensor._data
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[None]
    if array.ndim == 4 and array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    if normalize:
        array = array.copy()
        items = array if scale_each else array[None]
        for item in items:  # one image (scale_each) or the whole batch; views into array
            low, high = value_range if value_range is not None else (item.min(), item.max())
            np.clip(item, low, high, out=item)
            item -= low
            item /= max(high - low, 1e-5)
    if array.shape[0] == 1:
        return Tensor._make(np.ascontiguousarray(array[0]))
    nmaps = array.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = math.ceil(nmaps / xmaps)
    height, width = array.shape[2] + padding, array.shape[3] + padding
    grid = np.full((array.shape[1], height * ymaps + padding, width * xmaps + padding),
                   pad_value, dtype=array.dtype)
    for k in range(nmaps):  # one copy per image: a few dozen images, not a hot path
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = \
            array[k]
    return Tensor._make(grid)


def save_image(tensor, fp, format=None, **kwargs) -> None:
    """Write a tensor (or a batch, tiled with make_grid) as an image file with Pillow."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs)._data
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    Image.fromarray(np.ascontiguousarray(ndarr)).save(fp, format=format)
