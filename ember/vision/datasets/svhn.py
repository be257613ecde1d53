"""SVHN (Street View House Numbers) from the .mat files (needs SciPy)."""

import os

import numpy as np

from ember.vision.datasets.utils import check_integrity, download_url
from ember.vision.datasets.vision import VisionDataset


class SVHN(VisionDataset):
    """The cropped-digits SVHN dataset; label 10 becomes 0 (matches `torchvision.datasets.SVHN`)."""

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b81c8f0f6b"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split: str = "train", transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        if split not in self.split_list:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are "
                             f"{{{', '.join(repr(s) for s in self.split_list)}}}.")
        self.split = split
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(
                f"Dataset not found or corrupted. You can use download=True to download it, "
                f"or put {self.filename} (from {self.url}) in {self.root}")
        try:
            import scipy.io as sio
        except ImportError:
            raise ImportError("SVHN needs SciPy to read .mat files: pip install scipy") from None
        loaded = sio.loadmat(os.path.join(self.root, self.filename))
        self.data = np.transpose(loaded["X"], (3, 2, 0, 1))
        self.labels = loaded["y"].astype(np.int64).squeeze()
        np.place(self.labels, self.labels == 10, 0)

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self) -> None:
        download_url(self.url, self.root, self.filename, self.file_md5)

    def __getitem__(self, index: int):
        from PIL import Image

        img = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        return self._apply(img, int(self.labels[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
