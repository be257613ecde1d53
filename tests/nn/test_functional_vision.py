"""nn.functional's vision helpers against torch: affine_grid (values, gradients w.r.t. theta,
errors) and channel_shuffle / nn.ChannelShuffle."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 3, 4, 5, 6), (2, 1, 3, 1, 2)])
def test_affine_grid_matches_torch_with_gradients(size, align_corners, dtype):
    nd = len(size) - 2
    theta = np.random.default_rng(2).normal(size=(2, nd, nd + 1)).astype(dtype)
    results = []
    for lib in (ember, torch):
        t = lib.tensor(theta, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about unit-size grids
            grid = lib.nn.functional.affine_grid(t, size, align_corners=align_corners)
        grid.square().sum().backward()
        results.append((grid.detach().numpy(), t.grad.numpy(), str(grid.dtype)))
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for ours, theirs in zip(results[0][:2], results[1][:2]):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)
    assert results[0][2] == results[1][2]


def test_affine_grid_warnings_match_torch():
    theta = ember.zeros(1, 2, 3)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        ember.nn.functional.affine_grid(theta, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="unit-size grids"):
        ember.nn.functional.affine_grid(theta, (1, 1, 1, 2), align_corners=True)


@pytest.mark.filterwarnings("ignore:Default grid_sample and affine_grid behavior")
def test_affine_grid_errors_match_torch():
    theta = np.zeros((2, 2, 3))
    for case in (lambda lib: lib.nn.functional.affine_grid(lib.tensor(theta[:, :1]), (2, 1, 3, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.tensor(theta.astype("int64")),
                                                           (2, 1, 3, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.tensor(theta), (2, 1, 0, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.tensor(theta), (2, 1, 3, 3, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.zeros(2, 3, 4), (2, 1, 3, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.zeros(2, 3, 4), (2, 1, 3, 0, 3)),
                 lambda lib: lib.nn.functional.affine_grid(lib.tensor(theta), (2, 3))):
        assert_same_error(case, same_message=True)


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((1, 8, 1, 1, 2), 4)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.random.default_rng(4).normal(size=shape).astype(np.float32)
    for fn in (lambda lib, t: lib.nn.functional.channel_shuffle(t, groups),
               lambda lib, t: lib.nn.ChannelShuffle(groups)(t)):
        ours, theirs = fn(ember, ember.tensor(x)), fn(torch, torch.tensor(x))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert repr(ember.nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))
    for bad in (lambda lib: lib.nn.functional.channel_shuffle(lib.ones(1, 5, 2), 2),
                lambda lib: lib.nn.functional.channel_shuffle(lib.ones(2, 4), 2)):
        assert_same_error(bad)
