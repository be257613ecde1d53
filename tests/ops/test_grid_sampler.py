"""torch.grid_sampler_2d / grid_sampler_3d (ember/ops/grid_sampler.py): grid_sample with aten's
integer modes, against torch: every interpolation (0 bilinear, 1 nearest) and padding mode
(0 zeros, 1 border, 2 reflection), align_corners, values and gradients, in 2-D and 3-D; the
errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("mode", [0, 1])
def test_grid_sampler_2d(mode, padding, align_corners):
    x = RNG.standard_normal((2, 3, 5, 6))
    grid = RNG.uniform(-1.2, 1.2, (2, 4, 3, 2))
    results = []
    for lib in (ember, torch):
        xt, gt = (lib.from_numpy(a.copy()).requires_grad_() for a in (x, grid))
        y = lib.grid_sampler_2d(xt, gt, mode, padding, align_corners)
        (y * lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))).sum(
            ).backward()
        results.append((y, xt.grad, gt.grad))
    for e, t in zip(*results):
        assert_same(e, t, 1e-10, 1e-10)


ERRORS = {
    "2d_of_5d": lambda m, x, g: m.grid_sampler_2d(x.unsqueeze(2), g, 0, 0, False),
    "3d_of_4d": lambda m, x, g: m.grid_sampler_3d(x, g, 0, 0, False),
    "2d_of_0d": lambda m, x, g: m.grid_sampler_2d(x.sum(), g, 0, 0, False),
    "3d_of_0d_grid": lambda m, x, g: m.grid_sampler_3d(x, g.sum(), 0, 0, False),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    assert_same_error(ERRORS[name], RNG.standard_normal((1, 2, 3, 3)),
                      RNG.uniform(-1, 1, (1, 2, 2, 2)))


@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("mode", [0, 1])
def test_grid_sampler_3d(mode, padding):
    x = RNG.standard_normal((2, 2, 3, 4, 5))
    grid = RNG.uniform(-1.2, 1.2, (2, 3, 2, 2, 3))
    results = []
    for lib in (ember, torch):
        xt, gt = (lib.from_numpy(a.copy()).requires_grad_() for a in (x, grid))
        y = lib.grid_sampler_3d(xt, gt, mode, padding, True)
        (y * lib.from_numpy(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))).sum(
            ).backward()
        results.append((y, xt.grad, gt.grad))
    for e, t in zip(*results):
        assert_same(e, t, 1e-10, 1e-10)
