"""Small stand-in datasets in the real on-disk formats, for running the seeds' programs offline.

CIFAR-10 as torchvision lays it out (`cifar-10-batches-py/` with pickled batches), and CIFAR-like
PNG images in ImageFolder's `root/<class>/<file>.png` layout. The pixels are random but the
labels are learnable: each class has its own mean colour, so a few epochs must lower the loss.
"""

import hashlib
import pickle
from pathlib import Path

import numpy as np
from PIL import Image

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck"]


def class_images(count, seed, size=32):
    """`count` HWC uint8 images and their labels; class k is tinted by a fixed colour."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % len(CIFAR_CLASSES)
    palette = np.random.default_rng(1234).integers(30, 225, size=(len(CIFAR_CLASSES), 3))
    noise = rng.normal(0, 25, size=(count, size, size, 3))
    images = np.clip(palette[labels][:, None, None, :] + noise, 0, 255).astype(np.uint8)
    return images, labels


def write_cifar10(root, train_count=100, test_count=128):
    """root/cifar-10-batches-py with data_batch_1..5, test_batch and batches.meta."""
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    per_batch = max(1, train_count // 5)
    for index in range(1, 6):
        _write_batch(folder / f"data_batch_{index}", per_batch, seed=index,
                     name=f"training batch {index} of 5")
    _write_batch(folder / "test_batch", test_count, seed=99, name="testing batch 1 of 1")
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": CIFAR_CLASSES, "num_cases_per_batch": per_batch,
                     "num_vis": 3072}, f, protocol=2)
    return folder


def file_md5s(folder):
    """{file name: md5} of the files in folder (the checksums a dataset class verifies)."""
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).iterdir()) if path.is_file()}


def _write_batch(path, count, seed, name):
    images, labels = class_images(count, seed)
    # The real batches were pickled by Python 2; unpickled with encoding="latin1" (as
    # torchvision does) their keys and names come back as str.
    batch = {"batch_label": name, "labels": labels.tolist(),
             "data": images.transpose(0, 3, 1, 2).reshape(count, -1),
             "filenames": [f"img_{i}.png" for i in range(count)]}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_image_folder(root, count, seed):
    """root/<class>/<n>.png with `count` CIFAR-like RGB images spread over the 10 classes."""
    images, labels = class_images(count, seed)
    for n, (image, label) in enumerate(zip(images, labels)):
        folder = Path(root) / CIFAR_CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{n:05d}.png")
    return Path(root)
