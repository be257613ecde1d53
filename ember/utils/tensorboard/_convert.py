"""Turning what users log (ember/torch Tensors, arrays, numbers, figures) into NumPy images."""

import numpy as np


def make_np(x) -> np.ndarray:
    """An ndarray of x: an ember Tensor's array, a torch tensor's, an array, or a number."""
    data = getattr(x, "_data", None)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch.Tensor
        return x.detach().cpu().numpy()
    if isinstance(x, str):
        raise NotImplementedError("logging a Caffe2 blob name is not supported; pass a tensor")
    return np.asarray(x)


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile N images (N, 1 or 3, H, W) into one (C, rows*H, cols*W) image, row by row."""
    # NOTE [AssertionError] torch reports malformed images (and scalars, embeddings) with
    # AssertionError; ember raises the same type, explicitly so that `python -O` keeps it.
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise AssertionError(f"expected an (N, C, H, W) batch with C 1 or 3, got shape "
                             f"{images.shape}")
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    n, c, h, w = images.shape
    cols = max(1, min(n, ncols))
    rows = -(-n // cols)
    padded = np.zeros((rows * cols, c, h, w), dtype=images.dtype)
    padded[:n] = images
    # (rows, cols, C, H, W) -> (C, rows, H, cols, W) -> (C, rows*H, cols*W)
    grid = padded.reshape(rows, cols, c, h, w).transpose(2, 0, 3, 1, 4)
    return grid.reshape(c, rows * h, cols * w)


def convert_to_hwc(image: np.ndarray, dataformats: str) -> np.ndarray:
    """Reorder an image or batch described by `dataformats` (NCHW, CHW, HWC, HW, ...) to HWC.

    A batch becomes one grid image (8 per row); one channel is repeated to three (RGB).
    """
    dataformats = dataformats.upper()
    if len(set(dataformats)) != len(dataformats) or not set(dataformats) <= set("NCHW"):
        raise AssertionError(f"dataformats must use each of N, C, H, W at most once, "
                             f"got {dataformats!r}")
    if image.ndim != len(dataformats):
        raise AssertionError(f"an image of shape {tuple(image.shape)} does not match "
                             f"dataformats {dataformats!r}")
    if len(dataformats) == 4:
        nchw = image.transpose([dataformats.index(d) for d in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(dataformats) == 3:
        hwc = image.transpose([dataformats.index(d) for d in "HWC"])
        return np.repeat(hwc, 3, axis=2) if hwc.shape[2] == 1 else hwc
    if len(dataformats) == 2:
        hw = image.transpose([dataformats.index(d) for d in "HW"])
        return np.stack([hw, hw, hw], axis=2)
    raise AssertionError(f"dataformats must have 2, 3 or 4 letters, got {dataformats!r}")


def to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 images as they are; anything else is taken to be in [0, 1] and scaled to [0, 255].

    Matches torch: values are multiplied by 255, clipped, and truncated (not rounded).
    """
    if image.dtype == np.uint8:
        return image
    return (image.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure (CHW uint8) or a list of them (NCHW), as torch does."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(figure):
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        if close:
            plt.close(figure)
        return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)
