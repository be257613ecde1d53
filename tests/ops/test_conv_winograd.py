"""Winograd convolution, ember/ops/_conv_winograd.py (NOTE [Winograd convolution]), against torch.

Every case is first checked to take the route in the forward and in both gradients (the calls
are counted), so the comparisons cannot quietly test im2col: values and gradients against
torch (a float64 reference), float32 errors no worse than twice im2col's, a transposed
convolution, second derivatives, a two-step SGD run, and the route's documented choices.
"""

import numpy as np
import pytest
import torch

import ember
import ember.ops._conv_kernels as kernels
import ember.ops._conv_winograd as winograd

RNG = np.random.default_rng(29)

# id -> (x shape, weight shape, bias?, padding): odd and even outputs, paddings 0-2, both
# wider and narrower outputs, tiles that overhang the output
CASES = {
    "same_8x8": ((2, 128, 8, 8), (128, 128, 3, 3), True, 1),
    "wider_out_odd": ((3, 128, 7, 7), (136, 128, 3, 3), False, 1),
    "narrower_out_pad2": ((2, 144, 5, 6), (128, 144, 3, 3), True, 2),
    "valid_6x6": ((2, 128, 8, 8), (128, 128, 3, 3), False, 0),
}


@pytest.fixture(autouse=True)
def a_few_images_are_enough(monkeypatch):
    """The cases are two to four images, which the route leaves to im2col (`test_route_choice`
    tests that): here they take it."""
    monkeypatch.setattr(winograd, "_MIN_POSITIONS", 0)


@pytest.fixture
def route_calls(monkeypatch):
    """Counts of the route's forward and weight-gradient calls, through the conv kernels."""
    counts = {"forward": 0, "weight": 0}

    def counted(name, fn):
        def call(*args, **kwargs):
            counts[name] += 1
            return fn(*args, **kwargs)
        return call

    monkeypatch.setattr(kernels, "winograd_forward", counted("forward", kernels.winograd_forward))
    monkeypatch.setattr(kernels, "winograd_weight", counted("weight", kernels.winograd_weight))
    return counts


def _arrays(case):
    x_shape, w_shape, bias, _ = CASES[case]
    arrays = [RNG.standard_normal(x_shape), RNG.standard_normal(w_shape) / 30]
    if bias:
        arrays.append(RNG.standard_normal(w_shape[0]))
    return arrays


def _run(lib, arrays, dtype, padding, gy):
    """conv2d forward and backward in lib: (y, [grads of x, w, (b)])."""
    leaves = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    y = lib.nn.functional.conv2d(*leaves, padding=padding)
    y.backward(lib.tensor(gy.astype(dtype)))
    return y.detach().numpy(), [t.grad.numpy() for t in leaves]


def _worst_error(results, reference):
    """The largest error relative to the reference's largest magnitude, over y and grads."""
    (y, grads), (ry, rgrads) = results, reference
    return max(np.abs(a - r).max() / np.abs(r).max() for a, r in zip([y] + grads, [ry] + rgrads))


@pytest.mark.parametrize("case", list(CASES))
def test_float32_error_is_within_twice_im2cols(case, route_calls, monkeypatch):
    arrays, padding = _arrays(case), CASES[case][3]
    gy_shape = torch.nn.functional.conv2d(*[torch.tensor(a) for a in arrays],
                                          padding=padding).shape
    gy = RNG.standard_normal(tuple(gy_shape))
    reference = _run(torch, arrays, np.float64, padding, gy)
    fast = _run(ember, arrays, np.float32, padding, gy)
    assert route_calls == {"forward": 2, "weight": 1}  # forward, input gradient; weight
    monkeypatch.setattr(kernels, "fits_winograd", lambda *args: False)
    direct = _run(ember, arrays, np.float32, padding, gy)
    assert route_calls == {"forward": 2, "weight": 1}
    assert fast[0].dtype == np.float32
    assert _worst_error(fast, reference) <= 2 * _worst_error(direct, reference) + 1e-7
    assert _worst_error(fast, reference) < 2e-6


def _in_both(fn, x, w):
    """fn(lib, x, w) -> tensors, run in ember (float32) and torch (float64): both as arrays."""
    results = []
    for lib, dtype in ((ember, np.float32), (torch, np.float64)):
        tx, tw = (lib.tensor(a.astype(dtype), requires_grad=True) for a in (x, w))
        results.append([t.detach().numpy() for t in fn(lib, tx, tw)])
    return results


def _transposed(lib, x, w):
    """conv_transpose2d with stride 1: the convolution with the flipped weight."""
    y = lib.nn.functional.conv_transpose2d(x, w, padding=1)
    y.square().sum().backward()
    return y, x.grad, w.grad


def _twice(lib, x, w):
    """Gradients of gradients (create_graph): through the same kernels."""
    y = lib.nn.functional.conv2d(x, w, padding=1)
    gx, gw = lib.autograd.grad(y.square().sum(), (x, w), create_graph=True)
    (gx.square().sum() + gw.square().sum()).backward()
    return gx, gw, x.grad, w.grad


# fn, x shape, weight shape, least (forward, weight) route calls, rtol
MORE_CALLS = {"transposed": (_transposed, (2, 128, 6, 6), (128, 160, 3, 3), (1, 1), 2e-4),
              "double_backward": (_twice, (2, 128, 5, 5), (128, 128, 3, 3), (3, 2), 1e-3)}


@pytest.mark.parametrize("case", list(MORE_CALLS))
def test_more_calls_match_torch(case, route_calls):
    fn, x_shape, w_shape, least, rtol = MORE_CALLS[case]
    x, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape) / 30
    fast, reference = _in_both(fn, x, w)
    assert route_calls["forward"] >= least[0] and route_calls["weight"] >= least[1]
    for e, t in zip(fast, reference):
        np.testing.assert_allclose(e, t, rtol=rtol, atol=rtol * np.abs(t).max())


def test_two_sgd_steps_of_a_conv_layer_match_torch(route_calls):
    x = RNG.standard_normal((4, 128, 8, 8)).astype(np.float32)
    start = (RNG.standard_normal((128, 128, 3, 3)) / 30).astype(np.float32)
    weights = []
    for lib in (ember, torch):
        layer = lib.nn.Conv2d(128, 128, 3, padding=1)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor(start))
            layer.bias.zero_()
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        for _ in range(2):
            optimizer.zero_grad()
            layer(lib.tensor(x)).tanh().sum().backward()
            optimizer.step()
        weights.append((layer.weight.detach().numpy(), layer.bias.detach().numpy()))
    assert route_calls["weight"] == 2
    for e, t in zip(*weights):  # (gradients of about 2 summed over 256 images' positions)
        np.testing.assert_allclose(e, t, rtol=1e-3, atol=1e-4)


# (x shape, weight shape, stride, dtype) -> takes the route (NOTE [Winograd convolution])
ROUTE_CHOICES = [
    ((100, 256, 8, 8), (256, 256, 3, 3), 1, "float32", True),  # VGG's 8x8 and 4x4 layers
    ((100, 128, 8, 8), (256, 128, 3, 3), 1, "float32", True),
    ((100, 512, 4, 4), (512, 512, 3, 3), 1, "float32", True),
    ((8, 256, 28, 28), (256, 256, 3, 3), 1, "float32", True),
    ((100, 64, 8, 8), (64, 64, 3, 3), 1, "float32", False),  # the CIFAR ResNet's: spectral
    ((100, 512, 2, 2), (512, 512, 3, 3), 1, "float32", False),  # one tile per image
    ((2, 128, 8, 8), (128, 128, 3, 3), 1, "float32", False),  # two images
    ((100, 64, 16, 16), (128, 64, 3, 3), 1, "float32", False),  # too narrow for 16x16
    ((16, 128, 32, 32), (128, 128, 3, 3), 1, "float32", False),  # 128 wide, big images
    ((100, 256, 8, 8), (256, 256, 3, 3), 2, "float32", False),  # strided
    ((100, 256, 8, 8), (256, 256, 3, 3), 1, "float64", False),  # float32 only
    ((100, 256, 8, 8), (256, 256, 5, 5), 1, "float32", False),  # 3x3 only
]


@pytest.mark.parametrize("x_shape, w_shape, stride, dtype, taken", ROUTE_CHOICES)
def test_route_choice(x_shape, w_shape, stride, dtype, taken, monkeypatch):
    monkeypatch.undo()
    kernel = w_shape[2:]
    out = tuple((s + 2 - k) // stride + 1 for s, k in zip(x_shape[2:], kernel))
    geo = kernels._Geometry((stride, stride), (1, 1), (1, 1), (1, 1), 1)
    assert winograd.fits_winograd(x_shape, np.dtype(dtype), kernel, geo, out,
                                  w_shape[0]) is taken
