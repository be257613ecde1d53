"""ember.vision.utils.make_grid and save_image against NumPy."""

import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import utils


def _batch(n=5, c=3, h=4, w=6, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w), dtype=np.float32)


def test_make_grid_layout():
    x = _batch()
    grid = utils.make_grid(ember.from_numpy(x), nrow=3, padding=2, pad_value=0.5).numpy()
    assert grid.shape == (3, 2 * (4 + 2) + 2, 3 * (6 + 2) + 2)
    for k in range(5):
        row, col = divmod(k, 3)
        top, left = 2 + row * 6, 2 + col * 8
        np.testing.assert_array_equal(grid[:, top:top + 4, left:left + 6], x[k])
    assert (grid[:, :2, :] == 0.5).all() and (grid[:, 8:, 18:] == 0.5).all()


def test_make_grid_gray_single_and_list():
    x = _batch(n=2, c=1)
    grid = utils.make_grid(ember.from_numpy(x), padding=0).numpy()
    assert grid.shape == (3, 4, 12)
    np.testing.assert_array_equal(grid[1, :, 6:], x[1, 0])
    single = utils.make_grid(ember.from_numpy(x[0])).numpy()
    assert single.shape == (3, 4, 6)
    listed = utils.make_grid([ember.from_numpy(a) for a in _batch(n=2)], nrow=1, padding=1)
    assert tuple(listed.shape) == (3, 11, 8)
    with pytest.raises(TypeError):
        utils.make_grid(np.zeros((2, 3, 4, 4)))


def test_make_grid_normalize():
    x = _batch(n=2) * 4 - 1
    grid = utils.make_grid(ember.from_numpy(x), normalize=True, padding=0).numpy()
    assert grid.min() == 0.0 and abs(grid.max() - 1.0) < 1e-6
    each = utils.make_grid(ember.from_numpy(x), normalize=True, scale_each=True, padding=0)
    right = each.numpy()[:, :, 6:]
    np.testing.assert_allclose(right, (x[1] - x[1].min()) / (x[1].max() - x[1].min()),
                               rtol=1e-6, atol=1e-6)
    ranged = utils.make_grid(ember.from_numpy(x), normalize=True, value_range=(0, 1))
    assert ranged.numpy().min() == 0.0 and ranged.numpy().max() == 1.0
    assert x.min() < 0  # the input was not modified


def test_save_image_roundtrip(tmp_path):
    x = _batch(n=4)
    path = tmp_path / "grid.png"
    utils.save_image(ember.from_numpy(x), str(path), nrow=2, padding=0)
    saved = np.asarray(Image.open(path))
    assert saved.shape == (8, 12, 3)
    expected = np.clip(x[3] * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(saved[4:, 6:], expected)
