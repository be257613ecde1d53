"""The convolution layers, ember/nn/modules/conv.py (nn.Conv1d/2d/3d, nn.ConvTranspose1d/2d/3d),
against torch: reprs, parameter shapes, default init, padding modes, output_size, construction
errors. The functional ops are tested in tests/ops/test_conv.py and test_conv_transpose.py.
"""

import math

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same

RNG = np.random.default_rng(0)

LAYERS = [
    ("Conv2d", (3, 16, 3), {"padding": 1, "bias": False}),
    ("Conv2d", (3, 6, 3), {"stride": 1, "padding": 0}),
    ("Conv2d", (4, 4, (3, 2)), {"stride": (2, 1), "dilation": 2, "groups": 2}),
    ("Conv2d", (3, 3, 3), {"padding": "same", "padding_mode": "reflect", "groups": 3}),
    ("Conv2d", (2, 4, 4), {"padding": "same", "padding_mode": "circular"}),
    ("Conv2d", (2, 4, 3), {"padding": (1, 2), "padding_mode": "replicate"}),
    ("Conv2d", (2, 2, 3), {"padding": "valid"}),
    ("Conv1d", (2, 4, 3), {"stride": 2, "padding_mode": "reflect", "padding": 1}),
    ("Conv3d", (2, 4, (1, 2, 3)), {"stride": 2}),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 6, 3), {"groups": 2, "dilation": 2, "bias": False}),
    ("ConvTranspose1d", (4, 2, 3), {}),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2, "padding": 1}),
]


def _copy_params(e_module, t_module):
    for name, p in t_module.named_parameters():
        getattr(e_module, name)._data[...] = p.detach().numpy()


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_shapes_and_forward(name, args, kwargs):
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    assert [(n, tuple(p.shape)) for n, p in em.named_parameters()] == \
           [(n, tuple(p.shape)) for n, p in tm.named_parameters()]
    assert em.weight.dtype == ember.float32
    _copy_params(em, tm)
    nd = len(em.kernel_size)
    x = RNG.standard_normal((2, args[0]) + (7,) * nd).astype(np.float32)
    ye, yt = em(ember.tensor(x)), tm(torch.tensor(x))
    assert_same(ye, yt, 2e-5, 2e-5)


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_default_init_bounds(name, args, kwargs):
    """kaiming_uniform_(a=√5) gives U(±1/√fan_in) for the weight, and so for the bias."""
    em = getattr(nn, name)(*args, **kwargs)
    fan_in = em.weight.shape[1] * math.prod(em.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    w = em.weight.detach().numpy()
    assert np.abs(w).max() <= bound
    assert w.std() > bound / 4  # really random, not zeros
    if em.bias is not None:
        assert np.abs(em.bias.detach().numpy()).max() <= bound


def test_conv_layer_backward_matches_torch():
    em, tm = nn.Conv2d(3, 4, 3, stride=2, padding=1), torch.nn.Conv2d(3, 4, 3, stride=2,
                                                                      padding=1)
    _copy_params(em, tm)
    x = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)
    em(ember.tensor(x)).sum().backward()
    tm(torch.tensor(x)).sum().backward()
    assert_same(em.weight.grad, tm.weight.grad, 1e-4, 1e-4)
    assert_same(em.bias.grad, tm.bias.grad, 1e-4, 1e-4)
    assert em(ember.tensor(x)).grad_fn.name() == "ConvolutionBackward0"


def test_conv_transpose_output_size():
    em, tm = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.nn.ConvTranspose2d(
        3, 2, 3, stride=2, padding=1)
    _copy_params(em, tm)
    x = RNG.standard_normal((1, 3, 4, 4)).astype(np.float32)
    ye, yt = em(ember.tensor(x), output_size=[8, 8]), tm(torch.tensor(x), output_size=[8, 8])
    assert tuple(ye.shape) == (1, 2, 8, 8)
    assert_same(ye, yt, 1e-5, 1e-5)
    with pytest.raises(ValueError) as expected:
        tm(torch.tensor(x), output_size=[10, 10])
    with pytest.raises(ValueError) as got:
        em(ember.tensor(x), output_size=[10, 10])
    assert str(got.value) == str(expected.value)


def test_seed_001_transposed_size_formula():
    """(512-1)·2 - 0 + 1·(3-1) + 0 + 1 = 1025, as the seed prints."""
    layer = nn.ConvTranspose2d(3, 1, 3, stride=2)
    assert tuple(layer(ember.zeros(1, 3, 32, 32)).shape) == (1, 1, 65, 65)
    assert tuple(nn.Conv2d(3, 1, 3)(ember.zeros(1, 3, 20, 20)).shape) == (1, 1, 18, 18)


@pytest.mark.parametrize("kwargs, message", [
    ({"groups": 0}, "groups must be a positive integer"),
    ({"groups": 2}, "in_channels must be divisible by groups"),
    ({"padding": "full"}, None),
    ({"padding": "same", "stride": 2}, None),
    ({"padding_mode": "zero"}, None),
])
def test_layer_construction_errors(kwargs, message):
    with pytest.raises(ValueError) as expected:
        torch.nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(ValueError) as got:
        nn.Conv2d(3, 4, 3, **kwargs)
    # torch prints the valid padding strings from a set, in hash order: compare up to it
    assert str(got.value).split("{")[0] == str(expected.value).split("{")[0]
    if message:
        assert str(got.value) == message


def test_no_grad_builds_no_graph_and_top_level_names():
    """A layer under no_grad, and the functional twins' top-level names (ember.conv2d ...)."""
    layer = nn.Conv2d(3, 4, 3)
    with ember.no_grad():
        y = layer(ember.randn(1, 3, 5, 5))
    assert not y.requires_grad and y.grad_fn is None
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d"):
        assert getattr(ember, name) is getattr(EF, name)
