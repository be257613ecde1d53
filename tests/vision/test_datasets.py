"""ember.vision.datasets: file formats, layouts, downloads (served from 127.0.0.1), MD5 checks."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import time

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import datasets, transforms


def _md5(path) -> str:
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write_mnist(folder, n_train=12, n_test=5, seed=0):
    """The four gzip IDX files; returns {filename: md5} and the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test)}
    md5s = {}
    for name, array in arrays.items():
        path = os.path.join(folder, name + ".gz")
        with gzip.open(path, "wb") as f:
            f.write(_idx_bytes(array))
        md5s[name + ".gz"] = _md5(path)
    return md5s, arrays


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_mnist_download_layout_and_items(cls, http_dir, tmp_path, monkeypatch, closed_url):
    served, url = http_dir
    md5s, arrays = _write_mnist(served)
    monkeypatch.setattr(cls, "mirrors", [closed_url, url])  # first mirror is down
    monkeypatch.setattr(cls, "resources", [(name, md5s[name]) for name, _ in cls.resources])
    root = tmp_path / "data"
    train = cls(str(root), train=True, download=True)
    raw = root / cls.__name__ / "raw"
    assert (raw / "train-images-idx3-ubyte").is_file()
    assert (raw / "t10k-labels-idx1-ubyte.gz").is_file()
    assert len(train) == 12
    assert train.data.dtype == ember.uint8 and tuple(train.data.shape) == (12, 28, 28)
    assert train.targets.dtype == ember.int64
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    img, target = train[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), arrays["train-images-idx3-ubyte"][3])
    assert target == int(arrays["train-labels-idx1-ubyte"][3]) and isinstance(target, int)
    test = cls(str(root), train=False, transform=transforms.ToTensor())
    assert len(test) == 5
    x, _ = test[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ember.float32
    assert train.class_to_idx[cls.classes[4]] == 4


def test_mnist_bad_checksum_is_an_error(http_dir, tmp_path, monkeypatch):
    served, url = http_dir
    md5s, _ = _write_mnist(served)
    resources = [(name, md5s[name]) for name, _ in datasets.MNIST.resources]
    resources[0] = (resources[0][0], "0" * 32)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    with pytest.raises(RuntimeError, match="MD5"):
        datasets.MNIST(str(tmp_path / "data"), download=True)
    assert not (tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()


def test_offline_download_fails_fast_naming_url_and_folder(tmp_path, monkeypatch, closed_url):
    monkeypatch.setattr(datasets.MNIST, "mirrors", [closed_url])
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(str(tmp_path), download=True)
    message = str(info.value)
    assert closed_url + "train-images-idx3-ubyte.gz" in message
    assert os.path.join(str(tmp_path), "MNIST", "raw") in message
    assert time.perf_counter() - start < 5


def test_missing_dataset_without_download(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(str(tmp_path))
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.CIFAR10(str(tmp_path))


def test_mnist_repr_matches_torchvision(http_dir, tmp_path, monkeypatch):
    served, url = http_dir
    md5s, _ = _write_mnist(served)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    monkeypatch.setattr(datasets.MNIST, "resources",
                        [(n, md5s[n]) for n, _ in datasets.MNIST.resources])
    ds = datasets.MNIST(str(tmp_path), train=False, download=True,
                        transform=transforms.Compose([transforms.ToTensor()]))
    assert repr(ds) == (
        f"Dataset MNIST\n    Number of datapoints: 5\n    Root location: {tmp_path}\n"
        f"    Split: Test\n    StandardTransform\nTransform: Compose(\n"
        f"               ToTensor()\n           )")


def test_idx_parser_rejects_garbage(tmp_path):
    from ember.vision.datasets.mnist import read_idx

    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04junk")
    with pytest.raises(RuntimeError, match="IDX"):
        read_idx(str(bad))


# ---- CIFAR ------------------------------------------------------------------------------------
def _cifar_archive(served, cifar100=False, per_batch=4):
    """A cifar-10(0)-python.tar.gz with real-format pickles; returns (md5s, images, labels)."""
    rng = np.random.default_rng(1)
    folder = "cifar-100-python" if cifar100 else "cifar-10-batches-py"
    names = ["train", "test"] if cifar100 else [f"data_batch_{i}" for i in range(1, 6)] + [
        "test_batch"]
    label_key = "fine_labels" if cifar100 else "labels"
    n_classes = 100 if cifar100 else 10
    contents, md5s, images, labels = {}, {}, {}, {}
    for name in names:
        data = rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8)
        target = [int(v) for v in rng.integers(0, n_classes, per_batch)]
        images[name], labels[name] = data, target
        contents[name] = pickle.dumps({"data": data, label_key: target,
                                       "batch_label": name.encode()}, protocol=2)
    meta_name, meta_key = ("meta", "fine_label_names") if cifar100 else ("batches.meta",
                                                                         "label_names")
    classes = [f"class{i}" for i in range(n_classes)]
    contents[meta_name] = pickle.dumps({meta_key: classes}, protocol=2)
    for name, blob in contents.items():
        md5s[name] = hashlib.md5(blob).hexdigest()
    archive = os.path.join(served, "cifar-100-python.tar.gz" if cifar100 else
                           "cifar-10-python.tar.gz")
    with tarfile.open(archive, "w:gz") as tar:
        for name, blob in contents.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    md5s["archive"] = _md5(archive)
    return md5s, images, labels, classes


def _patch_cifar(monkeypatch, cls, url, md5s):
    monkeypatch.setattr(cls, "url", url + os.path.basename(cls.url))
    monkeypatch.setattr(cls, "tgz_md5", md5s["archive"])
    monkeypatch.setattr(cls, "train_list", [[n, md5s[n]] for n, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[n, md5s[n]] for n, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5s[cls.meta["filename"]]})


@pytest.mark.parametrize("cls", [datasets.CIFAR10, datasets.CIFAR100])
def test_cifar_download_extract_and_items(cls, http_dir, tmp_path, monkeypatch):
    served, url = http_dir
    is100 = cls is datasets.CIFAR100
    md5s, images, labels, classes = _cifar_archive(served, cifar100=is100)
    _patch_cifar(monkeypatch, cls, url, md5s)
    train = cls(str(tmp_path), train=True, download=True)
    assert (tmp_path / cls.base_folder).is_dir()
    n_batches = 1 if is100 else 5
    assert len(train) == 4 * n_batches
    assert train.data.shape == (4 * n_batches, 32, 32, 3) and train.data.dtype == np.uint8
    first = cls.train_list[0][0]
    expected = images[first].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(train.data[:4], expected)
    img, target = train[1]
    assert img.mode == "RGB" and img.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(img), expected[1])
    assert target == labels[first][1]
    assert train.classes == classes and train.class_to_idx["class3"] == 3
    test = cls(str(tmp_path), train=False)
    assert len(test) == 4 and test.targets == labels[cls.test_list[0][0]]


def test_cifar_archive_bad_checksum(http_dir, tmp_path, monkeypatch):
    served, url = http_dir
    md5s, *_ = _cifar_archive(served)
    md5s["archive"] = "f" * 32
    _patch_cifar(monkeypatch, datasets.CIFAR10, url, md5s)
    with pytest.raises(RuntimeError, match="MD5"):
        datasets.CIFAR10(str(tmp_path), download=True)


def test_cifar_corrupted_batch_is_detected(http_dir, tmp_path, monkeypatch):
    served, url = http_dir
    md5s, *_ = _cifar_archive(served)
    _patch_cifar(monkeypatch, datasets.CIFAR10, url, md5s)
    datasets.CIFAR10(str(tmp_path), download=True)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_2", "ab") as f:
        f.write(b"x")
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        datasets.CIFAR10(str(tmp_path))


# ---- SVHN -----------------------------------------------------------------------------------
def test_svhn_mat_files(http_dir, tmp_path, monkeypatch):
    import scipy.io

    served, url = http_dir
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, (32, 32, 3, 6)).astype(np.uint8)
    y = np.array([[10], [1], [2], [10], [5], [9]], dtype=np.uint8)
    scipy.io.savemat(str(served / "test_32x32.mat"), {"X": X, "y": y})
    md5 = _md5(served / "test_32x32.mat")
    monkeypatch.setitem(datasets.SVHN.split_list, "test",
                        [url + "test_32x32.mat", "test_32x32.mat", md5])
    ds = datasets.SVHN(str(tmp_path), split="test", download=True)
    assert len(ds) == 6
    np.testing.assert_array_equal(ds.labels, [0, 1, 2, 0, 5, 9])
    img, target = ds[4]
    assert img.mode == "RGB" and target == 5
    np.testing.assert_array_equal(np.asarray(img), X[:, :, :, 4])
    with pytest.raises(ValueError, match="split"):
        datasets.SVHN(str(tmp_path), split="valid")


# ---- folders ------------------------------------------------------------------------------------
def _image_tree(root):
    rng = np.random.default_rng(3)
    files = {"cat": ["b.png", "a.jpg"], "dog": ["c.png", "sub/d.bmp"], "emu": ["e.png"]}
    for cls, names in files.items():
        for name in names:
            path = root / cls / name
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (6, 5, 3)).astype(np.uint8)).save(path)
    (root / "dog" / "notes.txt").write_text("not an image")
    return files


def test_image_folder(tmp_path):
    _image_tree(tmp_path)
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor(),
                              target_transform=lambda t: t * 10)
    assert ds.classes == ["cat", "dog", "emu"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1, "emu": 2}
    names = [os.path.relpath(p, tmp_path) for p, _ in ds.samples]
    assert names == ["cat/a.jpg", "cat/b.png", "dog/c.png", "dog/sub/d.bmp", "emu/e.png"]
    assert ds.targets == [0, 0, 1, 1, 2] and ds.imgs == ds.samples
    x, y = ds[3]
    assert tuple(x.shape) == (3, 6, 5) and y == 10
    raw = datasets.ImageFolder(str(tmp_path))[2][0]
    assert raw.mode == "RGB"
    expected = np.asarray(Image.open(tmp_path / "dog" / "c.png"))
    np.testing.assert_array_equal(np.asarray(raw), expected)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path))
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    Image.new("RGB", (2, 2)).save(tmp_path / "full" / "x.png")
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        datasets.ImageFolder(str(tmp_path))
    assert len(datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 1


def test_dataset_folder_custom_loader(tmp_path):
    for cls, value in (("a", 1.0), ("b", 2.0)):
        (tmp_path / cls).mkdir()
        np.save(tmp_path / cls / "x.npy", np.full(3, value))
        (tmp_path / cls / "skip.txt").write_text("-")
    ds = datasets.DatasetFolder(str(tmp_path), loader=np.load, extensions=(".npy",))
    assert len(ds) == 2 and ds[1][1] == 1 and float(ds[1][0][0]) == 2.0
    with pytest.raises(ValueError, match="Both extensions and is_valid_file"):
        datasets.DatasetFolder(str(tmp_path), loader=np.load)


def test_fake_data_is_deterministic():
    ds = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4)
    img, target = ds[2]
    assert img.mode == "RGB" and img.size == (6, 8) and 0 <= target < 4
    again, target2 = ds[2]
    np.testing.assert_array_equal(np.asarray(img), np.asarray(again))
    assert target == target2 and len(ds) == 5
    assert not np.array_equal(np.asarray(ds[1][0]), np.asarray(img))
    with pytest.raises(IndexError):
        ds[5]


# ---- Digits ----------------------------------------------------------------------------------
def test_digits_split_and_values():
    from sklearn.datasets import load_digits

    train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    img, target = train[0]
    assert img.mode == "L" and img.size == (8, 8) and isinstance(target, int)
    assert train.data.dtype == ember.uint8 and int(train.data.numpy().max()) == 255
    reference = load_digits()
    scaled = np.round(reference.images * 255 / 16).astype(np.uint8)
    # every image of both splits is one of sklearn's, with its label, and none is used twice
    keys = {scaled[i].tobytes() + bytes([reference.target[i]]): i for i in range(1797)}
    both = np.concatenate([train.data.numpy(), test.data.numpy()])
    labels = np.concatenate([train.targets.numpy(), test.targets.numpy()])
    found = {keys[both[i].tobytes() + bytes([labels[i]])] for i in range(1797)}
    assert len(found) >= 1790  # a few digits appear twice in the UCI data
    again = datasets.Digits(train=True)
    np.testing.assert_array_equal(again.targets.numpy(), train.targets.numpy())


def test_digits_upscaled_like_mnist():
    ds = datasets.Digits(train=False, size=28, transform=transforms.ToTensor())
    x, _ = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and float(x.max()) <= 1.0
    assert "Split: Test" in repr(ds)


def test_digits_falls_back_to_load_digits(monkeypatch):
    import importlib.util

    from ember.vision.datasets import digits

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    digits._load_digits_arrays.cache_clear()
    try:
        via_sklearn = datasets.Digits(train=False)
    finally:
        digits._load_digits_arrays.cache_clear()
    np.testing.assert_array_equal(via_sklearn.data.numpy(),
                                  datasets.Digits(train=False).data.numpy())
