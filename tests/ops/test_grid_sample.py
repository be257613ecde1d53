"""grid_sample against torch: values, gradients w.r.t. input and grid,
every mode × padding × align_corners, float32 and float64, grids reaching outside the image,
finite-difference checks, and torch's errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

MODES = ["bilinear", "nearest"]
PADDINGS = ["zeros", "border", "reflection"]


def _inputs(dtype, seed=0):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(2, 3, 5, 6)).astype(dtype)
    grid = rng.uniform(-1.4, 1.4, size=(2, 4, 7, 2)).astype(dtype)  # some points outside
    weights = rng.normal(size=(2, 3, 4, 7)).astype(dtype)
    return image, grid, weights


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode", MODES)
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, dtype):
    image, grid, weights = _inputs(dtype)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(image, requires_grad=True)
        g = lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                            align_corners=align_corners)
        (out * lib.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), g.grad.numpy(), str(out.dtype)))
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for ours, theirs in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)
    assert results[0][3] == results[1][3]


@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_grid_sample_gradcheck(padding_mode):
    image, grid, _ = _inputs("float64", seed=1)
    grid = grid * 0.9 + 0.013  # keep points off the pixel lattice, where bilinear has kinks
    x = ember.tensor(image[:1, :1, :4, :4], requires_grad=True)
    g = ember.tensor(grid[:1, :2, :3], requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ember.nn.functional.grid_sample(a, b, padding_mode=padding_mode,
                                                     align_corners=False), (x, g))


def test_grid_sample_errors_match_torch():
    image, grid, _ = _inputs("float32")
    cases = [
        lambda lib: lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid),
                                                  mode="cubic"),
        lambda lib: lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid),
                                                  padding_mode="wrap"),
        lambda lib: lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid[..., :1])),
        lambda lib: lib.nn.functional.grid_sample(lib.tensor(image),
                                                  lib.tensor(grid.astype("float64"))),
    ]
    for case in cases:
        assert_same_error(case)


def test_spatial_transformer_identity_round_trip():
    image = ember.tensor(np.random.default_rng(3).normal(size=(1, 2, 5, 5)).astype("float32"))
    identity = ember.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = ember.nn.functional.affine_grid(identity, (1, 2, 5, 5), align_corners=False)
    out = ember.nn.functional.grid_sample(image, grid, align_corners=False)
    np.testing.assert_allclose(out.numpy(), image.numpy(), atol=1e-6)

