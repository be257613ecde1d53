"""ember.vision.io: image files <-> uint8 (C, H, W) tensors."""

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import io


def test_read_image_modes_and_write_png(tmp_path):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (5, 7, 3)).astype(np.uint8)
    path = str(tmp_path / "x.png")
    Image.fromarray(array).save(path)
    img = io.read_image(path)
    assert img.dtype == ember.uint8 and tuple(img.shape) == (3, 5, 7)
    np.testing.assert_array_equal(img.numpy(), array.transpose(2, 0, 1))
    gray = io.read_image(path, io.ImageReadMode.GRAY)
    np.testing.assert_array_equal(gray.numpy()[0], np.asarray(Image.open(path).convert("L")))
    out = str(tmp_path / "y.png")
    io.write_png(img, out)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), array)
    decoded = io.decode_image(io.read_file(path))
    np.testing.assert_array_equal(decoded.numpy(), img.numpy())
    assert tuple(io.read_image(path, io.ImageReadMode.RGB_ALPHA).shape) == (4, 5, 7)
    with pytest.raises(RuntimeError, match="uint8"):
        io.write_png(ember.zeros(3, 2, 2), out)
