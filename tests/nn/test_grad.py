"""torch.nn.grad (conv{1,2,3}d_input / _weight, also F.grad) and torch.conv_tbc against torch:
values, differentiability, errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

CASES = [  # (dims, input shape, weight shape, options (stride, padding, dilation, groups))
    (1, (2, 4, 9), (6, 4, 3), (1, 0, 1, 1)),
    (1, (2, 4, 10), (6, 2, 3), (2, 1, 2, 2)),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), (1, 1, 1, 1)),
    (2, (1, 4, 8, 9), (4, 1, 3, 3), ((2, 1), (0, 2), (1, 2), 4)),
    (3, (1, 2, 5, 6, 5), (3, 2, 2, 3, 2), (1, (1, 0, 1), 1, 1)),
]


@pytest.mark.parametrize("dims, input_shape, weight_shape, options", CASES)
def test_conv_gradients_match_torch(dims, input_shape, weight_shape, options):
    rng = np.random.default_rng(dims)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in (input_shape, weight_shape))
    out_shape = getattr(torch.nn.functional, f"conv{dims}d")(
        torch.tensor(x), torch.tensor(w), None, *options).shape
    g = rng.standard_normal(tuple(out_shape)).astype(np.float32)
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        grad = lib.nn.functional.grad
        results.append((
            getattr(grad, f"conv{dims}d_input")(input_shape, convert(w), convert(g), *options),
            getattr(grad, f"conv{dims}d_weight")(convert(x), weight_shape, convert(g), *options)))
    (ie, we), (it, wt) = results
    assert_same(ie, it, rtol=1e-4, atol=1e-5)
    assert_same(we, wt, rtol=1e-4, atol=1e-5)


def test_conv_gradient_is_differentiable():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3))
    g = rng.standard_normal((1, 3, 4, 4))
    grads = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        wt, gt = convert(w, True), convert(g, True)
        (lib.nn.grad.conv2d_input((1, 2, 6, 6), wt, gt) ** 2).sum().backward()
        xt = convert(x, True)
        (lib.nn.grad.conv2d_weight(xt, (3, 2, 3, 3), gt) ** 2).sum().backward()
        grads.append((wt.grad, gt.grad, xt.grad))
    for e, t in zip(*grads):
        assert_same(e, t)


@pytest.mark.parametrize("pad", [0, 1, 2, -1])
@pytest.mark.parametrize("kernel", [1, 3])
def test_conv_tbc_matches_torch(pad, kernel):
    rng = np.random.default_rng(kernel)
    x, w = rng.standard_normal((7, 2, 3)), rng.standard_normal((kernel, 3, 4))
    b = rng.standard_normal(4)
    results = []
    for lib, convert in ((ember, to_ember), (torch, to_torch)):
        xt, wt, bt = convert(x, True), convert(w, True), convert(b, True)
        y = lib.conv_tbc(xt, wt, bt, pad)
        y.sin().sum().backward()
        results.append((y, xt.grad, wt.grad, bt.grad))
    for e, t in zip(*results):
        assert_same(e, t)
    assert ember.nn.functional.conv_tbc is ember.conv_tbc


@pytest.mark.parametrize("case", ["input_2d", "weight_2d", "bias_2d", "channels", "bias_size"])
def test_conv_tbc_errors_as_torch(case):
    def run(lib):
        x, w, b = lib.ones(5, 2, 3), lib.ones(3, 3, 4), lib.ones(4)
        args = {"input_2d": (x[0], w, b), "weight_2d": (x, w[0], b), "bias_2d": (x, w, b[None]),
                "channels": (x, w[:, :2], b), "bias_size": (x, w, b[:3])}[case]
        return lib.conv_tbc(*args, 0)
    assert_same_error(run)
