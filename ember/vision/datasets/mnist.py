"""MNIST, FashionMNIST and KMNIST in torchvision's layout: root/<ClassName>/raw/*-ubyte(.gz)."""

import gzip
import os

import numpy as np

from ember._tensor import Tensor
from ember.vision.datasets.utils import download_and_extract_archive
from ember.vision.datasets.vision import VisionDataset

# IDX type codes (the third byte of the magic number) -> big-endian NumPy dtypes.
_IDX_TYPES = {8: np.dtype(">u1"), 9: np.dtype(">i1"), 11: np.dtype(">i2"), 12: np.dtype(">i4"),
              13: np.dtype(">f4"), 14: np.dtype(">f8")}


def read_idx(path: str) -> np.ndarray:
    """Parse an IDX file (plain or .gz): magic 0x0000TTNN, NN big-endian int32 dims, data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path} is not an IDX file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(np.int64)
    dtype = _IDX_TYPES[raw[2]]
    values = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if values.size != int(np.prod(dims)):
        raise RuntimeError(f"{path}: expected {int(np.prod(dims))} values, found {values.size}")
    return values.astype(dtype.newbyteorder("="), copy=True).reshape(tuple(dims))


def read_image_file(path: str):
    """The images of an IDX file as a uint8 tensor (N, H, W)."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 3:
        raise RuntimeError(f"{path}: expected uint8 images of rank 3, got {array.dtype} "
                           f"of rank {array.ndim}")
    return Tensor._make(array)


def read_label_file(path: str):
    """The labels of an IDX file as an int64 tensor (N,)."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise RuntimeError(f"{path}: expected uint8 labels of rank 1")
    return Tensor._make(array.astype(np.int64))


class MNIST(VisionDataset):
    """The MNIST handwritten digits (matches `torchvision.datasets.MNIST`)."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(
                f"Dataset not found. You can use download=True to download it, or put the "
                f"files {', '.join(name for name, _ in self.resources)} in {self.raw_folder}")
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "processed")

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, name: str):
        """The raw file, extracted or still gzipped; None if neither is there."""
        base = os.path.join(self.raw_folder, os.path.splitext(name)[0])
        for path in (base, base + ".gz"):
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._find(name) is not None for name, _ in self.resources)

    def _load_data(self):
        prefix = "train" if self.train else "t10k"
        data = read_image_file(self._find(f"{prefix}-images-idx3-ubyte.gz"))
        targets = read_label_file(self._find(f"{prefix}-labels-idx1-ubyte.gz"))
        return data, targets

    def download(self) -> None:
        """Fetch the four gzip files (trying each mirror), check MD5s and extract them."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            urls = [mirror + filename for mirror in self.mirrors]
            download_and_extract_archive(urls, self.raw_folder, filename=filename, md5=md5)

    def __getitem__(self, index: int):
        from PIL import Image

        img = Image.fromarray(self.data._data[index])
        return self._apply(img, int(self.targets._data[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (matches `torchvision.datasets.FashionMNIST`)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST (matches `torchvision.datasets.KMNIST`)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
