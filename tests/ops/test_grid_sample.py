"""grid_sample against torch: values, gradients w.r.t. input and grid, and second derivatives,
every mode × padding × align_corners on images (bilinear, nearest, bicubic) and volumes
(bilinear = trilinear, nearest), float32 and float64, grids reaching outside the input, 16-bit
inputs, finite-difference checks, node names, the align_corners warning and torch's errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_16_bit, assert_same_error

PADDINGS = ["zeros", "border", "reflection"]
# (mode, rank of the input)
CASES = [("bilinear", 4), ("nearest", 4), ("bicubic", 4), ("bilinear", 5), ("nearest", 5)]
SHAPES = {4: ((2, 3, 5, 6), (2, 4, 7, 2)), 5: ((2, 2, 4, 5, 3), (2, 3, 2, 4, 3))}


def _inputs(dtype, rank=4, seed=0):
    rng = np.random.default_rng(seed)
    image_shape, grid_shape = SHAPES[rank]
    image = rng.normal(size=image_shape).astype(dtype)
    grid = rng.uniform(-1.4, 1.4, size=grid_shape).astype(dtype)  # some points outside
    weights = rng.normal(size=image_shape[:2] + grid_shape[1:-1]).astype(dtype)
    return image, grid, weights


def _run(lib, image, grid, weights, **kwargs):
    x = lib.tensor(image, requires_grad=True)
    g = lib.tensor(grid, requires_grad=True)
    out = lib.nn.functional.grid_sample(x, g, **kwargs)
    (out * lib.tensor(weights)).sum().backward()
    return out, x.grad, g.grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode,rank", CASES)
def test_grid_sample_matches_torch(mode, rank, padding_mode, align_corners, dtype):
    image, grid, weights = _inputs(dtype, rank)
    kwargs = {"mode": mode, "padding_mode": padding_mode, "align_corners": align_corners}
    ours, theirs = _run(ember, image, grid, weights, **kwargs), _run(torch, image, grid,
                                                                    weights, **kwargs)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for e, t in zip(ours, theirs):
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tolerance,
                                   atol=tolerance)
    assert type(ours[0].grad_fn).__name__ == type(theirs[0].grad_fn).__name__


def test_grid_sample_on_lattice_points_matches_torch():
    """Grid points exactly on pixel centres and borders, where floor and rounding tie."""
    image, _, weights = _inputs("float64")
    xs = np.linspace(-1.2, 1.2, 13)
    grid = np.stack(np.meshgrid(xs[:7], xs[3:7], indexing="xy"), axis=-1)[None].repeat(2, 0)
    for mode in ("bilinear", "nearest", "bicubic"):
        for padding_mode in PADDINGS:
            kwargs = {"mode": mode, "padding_mode": padding_mode, "align_corners": True}
            ours = _run(ember, image, grid, weights, **kwargs)
            theirs = _run(torch, image, grid, weights, **kwargs)
            for e, t in zip(ours, theirs):
                np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("mode,rank", CASES)
def test_grid_sample_16_bit_matches_torch(mode, rank, dtype):
    image, grid, _ = _inputs("float32", rank)

    def call(lib):
        t = getattr(lib, dtype)
        return lib.nn.functional.grid_sample(lib.tensor(image).to(t), lib.tensor(grid).to(t),
                                             mode=mode, align_corners=False)

    assert_same_16_bit(lambda: call(ember), lambda: call(torch))


@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode,rank", [("bilinear", 4), ("bicubic", 4), ("bilinear", 5)])
def test_grid_sample_gradcheck(mode, rank, padding_mode):
    image, grid, _ = _inputs("float64", rank, seed=1)
    grid = grid * 0.9 + 0.013  # keep points off the pixel lattice, where the samplers kink
    x = ember.tensor(image[:1, :1], requires_grad=True)
    g = ember.tensor(grid[:1, :2], requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ember.nn.functional.grid_sample(a, b, mode=mode, padding_mode=padding_mode,
                                                     align_corners=False), (x, g))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("mode,rank", CASES)
def test_grid_sample_second_derivatives_match_torch(mode, rank, padding_mode, align_corners):
    image, grid, weights = _inputs("float64", rank, seed=2)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(image, requires_grad=True)
        g = lib.tensor(grid, requires_grad=True)
        out = lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                            align_corners=align_corners)
        gx, gg = lib.autograd.grad((out * lib.tensor(weights)).sum(), (x, g), create_graph=True)
        ((gx * gx).sum() + (gg * gg).sum() + (gx * x).sum()).backward()
        results.append((gx, gg, x.grad, g.grad))
    for e, t in zip(*results):
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-10,
                                   atol=1e-10)


@pytest.mark.parametrize("mode,rank", [("bilinear", 4), ("bicubic", 4), ("bilinear", 5)])
def test_grid_sample_gradgradcheck(mode, rank):
    image, grid, _ = _inputs("float64", rank, seed=3)
    x = ember.tensor(image[:1, :1], requires_grad=True)
    g = ember.tensor(grid[:1, :2] * 0.9 + 0.013, requires_grad=True)
    assert ember.autograd.gradgradcheck(
        lambda a, b: ember.nn.functional.grid_sample(a, b, mode=mode, padding_mode="border",
                                                     align_corners=True), (x, g))


def test_grid_sample_warns_without_align_corners():
    image, grid, _ = _inputs("float32")
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        ember.nn.functional.grid_sample(ember.tensor(image), ember.tensor(grid))


def _sample(image_shape, grid_shape, grid_dtype="float32", **kwargs):
    image = np.zeros(image_shape, dtype="float32")
    grid = np.zeros(grid_shape, dtype=grid_dtype)
    kwargs.setdefault("align_corners", False)
    return lambda lib: lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid),
                                                     **kwargs)


@pytest.mark.parametrize("case", [
    _sample((1, 1, 3, 3), (1, 2, 2, 2), mode="cubic"),
    _sample((1, 1, 3, 3), (1, 2, 2, 2), padding_mode="wrap"),
    _sample((1, 1, 3, 3), (1, 2, 2, 1)),
    _sample((1, 1, 3, 3), (1, 2, 2, 2), grid_dtype="float64"),
    _sample((2, 1, 3, 3), (1, 2, 2, 2)),
    _sample((1, 1, 3, 0), (1, 2, 2, 2)),
    _sample((1, 1, 3, 3), (1, 2, 2, 2, 2)),
    _sample((1, 1, 3, 3, 3), (1, 2, 2, 2)),
    _sample((1, 1, 3, 3, 3), (1, 2, 2, 2, 3), mode="bicubic"),
    _sample((1, 1, 3), (1, 2, 1)),
    _sample((), (1, 2, 2, 2)),  # a 0-d input or grid: IndexError before any other check
    _sample((1, 1, 3, 3), ()),
    _sample((), (1, 2, 2, 2), grid_dtype="float64"),
])
def test_grid_sample_errors_match_torch(case):
    assert_same_error(case)


def test_spatial_transformer_identity_round_trip():
    for shape in ((1, 2, 5, 5), (1, 2, 3, 4, 5)):
        image = ember.tensor(np.random.default_rng(3).normal(size=shape).astype("float32"))
        identity = ember.eye(len(shape) - 2, len(shape) - 1)[None]
        grid = ember.nn.functional.affine_grid(identity, shape, align_corners=False)
        for mode in ("bilinear", "nearest"):
            out = ember.nn.functional.grid_sample(image, grid, mode=mode, align_corners=False)
            np.testing.assert_allclose(out.numpy(), image.numpy(), atol=1e-6)
