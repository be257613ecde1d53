"""Digits: the 1,797 8x8 handwritten digits that scikit-learn ships, as a MNIST-like dataset.

NOTE [Digits without a download]
scikit-learn bundles the UCI optical digits as `sklearn/datasets/data/digits.csv.gz` (64 pixel
values in 0..16 then the label, one image a line). ember reads that file with NumPy, without
importing scikit-learn (locating the package is enough), and falls back to
`sklearn.datasets.load_digits` when the file is not found. Pixels are scaled to 0..255 so the
images look like MNIST's ('L' mode PIL images, white digit on black). The split is fixed: a
permutation drawn from seed 0 puts 1,437 images in train and 360 in test.
"""

import functools
import gzip
import importlib.util
import os

import numpy as np

from ember._tensor import Tensor
from ember.vision.datasets.vision import VisionDataset

_N_TRAIN = 1437


@functools.lru_cache(maxsize=1)
def _load_digits_arrays():
    """(images uint8 (1797, 8, 8) in 0..16, labels int64 (1797,)) from scikit-learn's data."""
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = os.path.join(location, "datasets", "data", "digits.csv.gz")
            if os.path.isfile(path):
                with gzip.open(path, "rt") as f:
                    table = np.loadtxt(f, delimiter=",", dtype=np.int64)
                return table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise RuntimeError("Digits needs scikit-learn's bundled data: pip install scikit-learn "
                           "(or pip install 'ember[train]')") from None
    bunch = load_digits()
    return bunch.images.astype(np.int64), bunch.target.astype(np.int64)


class Digits(VisionDataset):
    """The scikit-learn 8x8 digits as PIL 'L' images in 0..255 (1,437 train / 360 test).

    `size` (8 by default) upscales the images with bilinear resampling, e.g. size=28 gives
    MNIST-sized inputs. `root` and `download` are accepted for symmetry with MNIST; nothing
    is downloaded.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False, size: int = 8):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        self.size = int(size)
        pixels, labels = _load_digits_arrays()  # cached: read-only, never modified
        order = np.random.default_rng(0).permutation(len(labels))
        chosen = order[:_N_TRAIN] if train else order[_N_TRAIN:]
        images = np.round(pixels[chosen] * (255.0 / 16.0)).astype(np.uint8)
        if self.size != 8:
            images = _resize_all(images, self.size)
        self.data = Tensor._make(images)
        self.targets = Tensor._make(labels[chosen].astype(np.int64))

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int):
        from PIL import Image

        img = Image.fromarray(self.data._data[index])
        return self._apply(img, int(self.targets._data[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}\nSize: {self.size}"


def _resize_all(images: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))
                     for img in images])
