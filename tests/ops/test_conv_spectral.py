"""Spectral convolution, ember/ops/_conv_spectral.py (NOTE [Spectral convolution]), against torch.

The cases are convolutions that take the spectral route in the forward and in both gradients
(checked first, so that the comparisons below cannot quietly test im2col): values and every
gradient against torch in float64 and float32, second derivatives, one image per batch
block, and the float32 rounding error against a float64 reference, no worse than im2col's.
"""

import numpy as np
import pytest
import torch

import ember
import ember.ops._conv_kernels as kernels
import ember.ops._conv_spectral as spectral
from tests.ops import _nn_tables as tables

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def every_eligible_conv_takes_the_route(monkeypatch):
    """The cases are a few images, which the route's time model leaves to im2col (NOTE
    [Choosing the spectral route]; `test_route_choice` tests it): here every convolution the
    route can compute takes it."""
    monkeypatch.setattr(spectral, "_MIN_WORK", 0)
    monkeypatch.setattr(spectral, "_MIN_SPEEDUP", 0)
    monkeypatch.setattr(spectral, "_MIN_SPEEDUP_FORWARD_ONLY", 0)

# id -> (call(F, *tensors), shapes of x, weight, bias, conv2d kwargs)
SETUPS = {
    "k5_same_bias": ([(2, 32, 8, 8), (32, 32, 5, 5), (32,)], {"padding": 2}),
    # more outputs than inputs (the input gradient is a conv of the wider gy), asymmetric
    # padding, a kernel that is not square, an odd transform length on the last axis
    "k5x6_more_out": ([(2, 24, 9, 7), (40, 24, 5, 6)], {"padding": (1, 3)}),
    "k5_valid_fewer_out": ([(3, 40, 12, 12), (24, 40, 5, 5), (24,)], {}),
    "k7_string_same": ([(2, 16, 10, 11), (24, 16, 7, 7)], {"padding": "same"}),
    # an even kernel's "same" padding is one more after than before (lo < hi)
    "k4_string_same": ([(2, 16, 9, 8), (24, 16, 4, 4)], {"padding": "same"}),
    # padding past K - 1: more outputs than H + padding, the grid is as long as the output
    "k3_wide_padding": ([(2, 24, 6, 5), (32, 24, 3, 3)], {"padding": 4}),
}
CASES = {name: ((lambda kw: lambda F, *t: F.conv2d(*t, **kw))(kwargs), shapes)
         for name, (shapes, kwargs) in SETUPS.items()}
CASES["transpose_k5"] = (lambda F, x, w, b: F.conv_transpose2d(x, w, b, padding=1),
                         [(2, 32, 8, 8), (32, 24, 5, 5), (24,)])


def _geometry(x_shape, w_shape, kwargs):
    """(lo, hi, out) of conv2d(x, w, **kwargs) with stride and dilation 1."""
    padding = kwargs.get("padding", 0)
    kernel, spatial = w_shape[2:], x_shape[2:]
    if padding == "same":
        lo = tuple((k - 1) // 2 for k in kernel)
        hi = tuple(k - 1 - a for k, a in zip(kernel, lo))
    else:
        lo = hi = tuple(np.broadcast_to(padding, 2).tolist())
    out = tuple(s + a + b - k + 1 for s, a, b, k in zip(spatial, lo, hi, kernel))
    return lo, hi, out


@pytest.mark.parametrize("case", list(SETUPS))
def test_the_cases_take_the_spectral_route(case):
    """The forward is spectral, and so is the input gradient (the transposed convolution of gy,
    which follows the forward's choice); the weight gradient asks the forward's question."""
    (x_shape, w_shape, *_), kwargs = SETUPS[case]
    lo, hi, out = _geometry(x_shape, w_shape, kwargs)
    kernel, cy = w_shape[2:], w_shape[0]
    geo = kernels._Geometry((1, 1), (1, 1), lo, hi, 1)
    assert spectral._fits_spectral(x_shape, np.dtype("float32"), kernel, geo, out, cy)
    gy = np.zeros((x_shape[0], cy) + out, np.float32)
    assert spectral._transpose_fits_spectral(gy, np.zeros(w_shape, np.float32), geo,
                                             x_shape[2:])


def _circular_correlation(x, w, lo, length, out):
    """Σ_k x_c[(o + k) mod L]·w[k] for o < out, x placed at lo in a period of `length`."""
    circle = np.zeros(length)
    circle[lo:lo + x.size] = x
    return np.array([sum(circle[(o + k) % length] * w[k] for k in range(w.size))
                     for o in range(out)])


@pytest.mark.parametrize("size", [1, 2, 5])
@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("lo,hi", [(0, 0), (1, 1), (2, 1), (0, 3), (4, 4)])
def test_the_grid_is_the_shortest_that_does_not_wrap(size, kernel, lo, hi):
    """NOTE [The smallest grid]: on a period of `_grid_length` the circular correlation equals
    the zero-padded one, and its input and weight gradients (correlations of the same
    positions) follow; one position less gives a wrong output or no room for x, w or y."""
    out = size + lo + hi - kernel + 1
    if out < 1:
        return
    rng = np.random.default_rng(size * 100 + kernel * 10 + lo)
    x, w = rng.standard_normal(size), rng.standard_normal(kernel)
    padded = np.concatenate([np.zeros(lo), x, np.zeros(hi)])
    direct = np.array([padded[o:o + kernel] @ w for o in range(out)])
    length = spectral._grid_length(size, kernel, lo, hi)
    np.testing.assert_allclose(_circular_correlation(x, w, lo, length, out), direct,
                               atol=1e-12)
    shorter = length - 1
    if shorter >= max(lo + size, out, kernel):  # room for everything: then it must wrap
        assert not np.allclose(_circular_correlation(x, w, lo, shorter, out), direct)


test_float64_values_and_grads = tables.forward_backward(RNG, CASES, np.float64, 1e-9)
test_float32_stays_float32 = tables.forward_backward(RNG, CASES, np.float32, 2e-4)
test_double_backward_matches_torch = tables.input_weight_double_backward(
    RNG, CASES, ["k5_same_bias", "k5x6_more_out", "transpose_k5"])


@pytest.mark.parametrize("case", list(CASES))
def test_inference_matches_torch(case):
    """Under no_grad (the forward alone, nothing kept), float64 values match torch's."""
    call, shapes = CASES[case]
    arrays = tables.randn(RNG, shapes)
    results = []
    for lib in (ember, torch):
        with lib.no_grad():
            results.append(tables.run(call, lib, arrays, requires_grad=False)[0].numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", ["k5_same_bias", "k5x6_more_out"])
def test_one_image_per_block(case, monkeypatch):
    """With a tiny block budget every image is its own block: torch's values and gradients."""
    monkeypatch.setattr(spectral, "_BLOCK_BYTES", 1)
    call, shapes = CASES[case]
    tables.check_against_torch(RNG, call, tables.randn(RNG, shapes), 1e-9)


@pytest.mark.parametrize("case", list(SETUPS))
def test_float32_error_is_no_worse_than_im2col(case, monkeypatch):
    """Against the float64 result, the spectral float32 forward and weight gradient are within
    twice im2col's largest error (their errors are of the same size, neither is exact)."""
    (x_shape, w_shape, *_), kwargs = SETUPS[case]
    lo, hi, out = _geometry(x_shape, w_shape, kwargs)
    x, w = (RNG.standard_normal(s) for s in (x_shape, w_shape))
    gy = RNG.standard_normal((x_shape[0], w_shape[0]) + out)
    geo = kernels._Geometry((1, 1), (1, 1), lo, hi, 1)
    exact = (spectral._spectral_forward(x, w, geo, out),
             spectral._spectral_weight(x, gy, w_shape[2:], geo))
    x32, w32, gy32 = (a.astype(np.float32) for a in (x, w, gy))
    mine = (spectral._spectral_forward(x32, w32, geo, out),
            spectral._spectral_weight(x32, gy32, w_shape[2:], geo))
    monkeypatch.setattr(kernels, "_fits_spectral", lambda *args: False)
    with_columns = (kernels._conv_forward(x32, w32, geo, out),
                    kernels._conv_weight(x32, gy32, w_shape[2:], geo))
    for reference, spectral_result, im2col_result in zip(exact, mine, with_columns):
        assert spectral_result.dtype == np.float32
        error = np.abs(spectral_result - reference).max()
        assert error <= 2 * np.abs(im2col_result - reference).max()


def test_module_training_step_matches_torch():
    """nn.Conv2d with a 5x5 kernel (the seed-000 net's middle layer, smaller): one SGD step."""
    weights = [RNG.standard_normal(s).astype(np.float32) * 0.05 for s in ((32, 32, 5, 5), (32,))]
    x = RNG.standard_normal((4, 32, 16, 16)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        conv = lib.nn.Conv2d(32, 32, 5, padding=2)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(weights[0]))
            conv.bias.copy_(lib.tensor(weights[1]))
        optimizer = lib.optim.SGD(conv.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            loss = (conv(lib.tensor(x)) ** 2).mean()
            loss.backward()
            optimizer.step()
        results.append((loss.item(), conv.weight.detach().numpy()))
    (loss_e, w_e), (loss_t, w_t) = results
    assert loss_e == pytest.approx(loss_t, rel=1e-5)
    np.testing.assert_allclose(w_e, w_t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("needs", [(True, False), (False, True), (True, True)])
@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_of_either_input_alone(needs, create_graph):
    """Only x (frozen weights), only w (a first layer) or both require grad, with and without
    create_graph (the kept spectra, NOTE [Spectra kept for the backward], or the gradient
    ops): torch's gradients."""
    call, shapes = CASES["k5x6_more_out"]
    arrays = tables.randn(RNG, shapes)
    g = RNG.standard_normal((2, 40, 7, 8))
    results = []
    for lib in (ember, torch):
        x, w = (lib.tensor(a, requires_grad=r) for a, r in zip(arrays, needs))
        y = call(tables.functional(lib), x, w)
        wanted = [t for t in (x, w) if t.requires_grad]
        results.append(lib.autograd.grad((y * lib.tensor(g)).sum(), wanted,
                                         create_graph=create_graph))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-9,
                                   atol=1e-9)


@pytest.mark.parametrize("shape, spectral_route", [
    ((64, 32, 16, 5, 2, 32), True),  # the seed-000 net's middle layers
    ((64, 32, 8, 5, 2, 64), True),
    ((100, 32, 16, 3, 1, 32), True),  # the CIFAR ResNet's 3x3 layers
    ((100, 16, 32, 3, 1, 16), True),
    ((100, 64, 8, 3, 1, 64), True),
    ((100, 48, 8, 3, 1, 48), True),  # small images: im2col's short rows (NOTE: a3)
    ((100, 16, 16, 3, 1, 32), True),  # MyCNN's second layer
    ((64, 3, 32, 5, 2, 32), False),  # 3-channel first layers
    ((100, 3, 32, 3, 1, 16), False),
    ((100, 256, 8, 3, 1, 256), False),  # many channels: the weight spectrum is too big
    ((100, 512, 4, 3, 1, 512), False),
    ((4, 6, 14, 5, 0, 16), False),  # under a millisecond of work
])
def test_route_choice(shape, spectral_route, monkeypatch):
    """The documented choices of NOTE [Choosing the spectral route], with its floor."""
    monkeypatch.undo()
    n, c, size, k, pad, cy = shape
    geo = kernels._Geometry((1, 1), (1, 1), (pad, pad), (pad, pad), 1)
    out = (size + 2 * pad - k + 1,) * 2
    shape = (n, c, size, size)
    assert spectral._fits_spectral(shape, np.dtype("float32"), (k, k), geo, out, cy) == (
        spectral_route)


def test_kept_spectra_serve_a_retained_graph_twice():
    """Two backwards through a retained graph use the kept spectra twice: the gradients
    accumulate to twice torch's one; and x modified in place after the forward is refused."""
    call, shapes = CASES["k5_same_bias"]
    arrays = tables.randn(RNG, shapes)
    grads = []
    for lib in (ember, torch):
        y, tensors = tables.run(call, lib, arrays)
        loss = (y * y).sum()
        loss.backward(retain_graph=True)
        if lib is ember:
            loss.backward()
            grads.append([t.grad.numpy() / 2 for t in tensors])
        else:
            grads.append([t.grad.numpy() for t in tensors])
    for mine, theirs in zip(*grads):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-9)
    x, w, b = (ember.tensor(a, requires_grad=True) for a in arrays)
    h = x * 1.0
    y = call(tables.functional(ember), h, w, b)
    with ember.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("shape, spectral_route", [
    ((64, 32, 16, 5, 2, 32), True),  # 5x5: the forward alone is 2.8x faster
    ((64, 32, 8, 5, 2, 64), True),
    # 3x3: on the smallest grid the forward alone is 1.05x on 16x16, 0.85x on 32x32
    ((100, 32, 16, 3, 1, 32), True),
    ((100, 16, 32, 3, 1, 16), False),
])
def test_forward_only_route_choice(shape, spectral_route, monkeypatch):
    """With no gradient to follow (inference) the route asks for more: the documented choices."""
    monkeypatch.undo()
    n, c, size, k, pad, cy = shape
    geo = kernels._Geometry((1, 1), (1, 1), (pad, pad), (pad, pad), 1)
    out = (size + 2 * pad - k + 1,) * 2
    assert spectral._fits_spectral((n, c, size, size), np.dtype("float32"), (k, k), geo, out,
                                   cy, forward_only=True) == spectral_route
