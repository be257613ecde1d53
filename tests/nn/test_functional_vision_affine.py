"""F.affine_grid as one AffineGridGeneratorBackward0 node that saves no tensor (NOTE
[affine_grid saves nothing]): backward twice, double backward, 2-D and 3-D, against torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same

SIZES = [(2, 1, 3, 4), (2, 3, 2, 3, 4)]


def _theta(lib, size, dtype="float64"):
    nd = len(size) - 2
    array = np.random.default_rng(len(size)).normal(size=(size[0], nd, nd + 1)).astype(dtype)
    return lib.tensor(array, requires_grad=True)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", SIZES)
def test_affine_grid_backward_twice(size, align_corners):
    results = []
    for lib in (ember, torch):
        theta = _theta(lib, size)
        grid = lib.nn.functional.affine_grid(theta, size, align_corners=align_corners)
        assert grid.grad_fn.name() == "AffineGridGeneratorBackward0"
        assert len(grid.grad_fn.next_functions) == 1
        grid.sum().backward()
        grid.square().sum().backward()  # torch saves nothing: a second backward works
        results.append((grid, theta.grad))
    assert_same(results[0][0], results[1][0], rtol=1e-12, atol=1e-12)
    assert_same(results[0][1], results[1][1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", SIZES)
def test_affine_grid_double_backward_through_grad(size, align_corners, dtype):
    results = []
    for lib in (ember, torch):
        theta = _theta(lib, size, dtype)
        grid = lib.nn.functional.affine_grid(theta, size, align_corners=align_corners)
        weight = lib.tensor(np.linspace(-1, 1, grid.numel()).reshape(grid.shape).astype(dtype),
                            requires_grad=True)
        (gtheta,) = lib.autograd.grad(grid, theta, weight, create_graph=True)
        gtheta.square().sum().backward()
        results.append((gtheta, weight.grad))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for ours, theirs in zip(*results):
        assert_same(ours, theirs, rtol=tol, atol=tol)


def test_affine_grid_generator_node_and_gradcheck():
    theta = _theta(ember, (2, 1, 3, 4))
    grid = ember.affine_grid_generator(theta, (2, 1, 3, 4), False)
    assert grid.grad_fn.name() == "AffineGridGeneratorBackward0"
    assert ember.autograd.gradcheck(
        lambda t: ember.affine_grid_generator(t, (2, 1, 3, 4), True), (theta,))
    assert ember.autograd.gradgradcheck(
        lambda t: ember.nn.functional.affine_grid(t, (2, 1, 2, 3, 4), align_corners=False),
        (_theta(ember, (2, 1, 2, 3, 4)),))


@pytest.mark.parametrize("size", [(2, 1, 5, 7), (1, 2, 3, 4, 5)])
def test_affine_grid_float32_values_bit_identical(size):
    # the base grid is torch's linspace(-1, 1) in theta's dtype, scaled by (n - 1) / n
    theta = np.random.default_rng(5).normal(size=(size[0], len(size) - 2, len(size) - 1))
    theta = theta.astype(np.float32)
    ident = np.zeros_like(theta)
    for i in range(theta.shape[1]):
        ident[:, i, i] = 1
    e = ember.nn.functional.affine_grid(ember.tensor(ident), size, align_corners=False)
    t = torch.nn.functional.affine_grid(torch.tensor(ident), size, align_corners=False)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
