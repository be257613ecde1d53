"""The pooling layers, ember/nn/modules/pooling.py (nn.MaxPool*, AvgPool*, AdaptiveAvgPool*,
AdaptiveMaxPool*, MaxUnpool*, LPPool*), against torch: reprs, forward, the seed's examples.
The functional ops are tested in tests/ops/test_pool.py, test_pool_avg.py, test_pool_adaptive.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same

RNG = np.random.default_rng(1)

LAYERS = [
    ("MaxPool2d", (3,), {"ceil_mode": True}),
    ("MaxPool2d", (2,), {"stride": 2}),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "padding": 1, "dilation": (1, 2)}),
    ("MaxPool1d", (2,), {}),
    ("MaxPool3d", ((1, 2, 2),), {"return_indices": True}),
    ("AvgPool2d", (8,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool2d", (2,), {"ceil_mode": True, "divisor_override": 3}),
    ("AvgPool1d", (3,), {}),
    ("AvgPool1d", (4,), {"stride": 2, "padding": 1}),
    ("AvgPool3d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}),
    ("AdaptiveAvgPool2d", (3,), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
    ("AdaptiveMaxPool2d", (2,), {"return_indices": True}),
    ("AdaptiveMaxPool1d", (3,), {}),
    ("MaxUnpool2d", (2,), {}),
    ("MaxUnpool1d", (2,), {"stride": 1}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_and_forward(name, args, kwargs):
    em, tm = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(em) == repr(tm)
    if name.startswith("MaxUnpool"):
        return
    nd = 1 if name.endswith("1d") else 3 if name.endswith("3d") else 2
    x = RNG.standard_normal((2, 3) + (9,) * nd).astype(np.float32)
    ye, yt = em(ember.tensor(x)), tm(torch.tensor(x))
    if isinstance(yt, tuple):
        assert ye[1].tolist() == yt[1].tolist()
        ye, yt = ye[0], yt[0]
    assert_same(ye, yt, 1e-5, 1e-5)


@pytest.mark.parametrize("args", [(2, 3), (1.5, (2, 3), 1, True)])
def test_lp_pool_layers(args):
    em, tm = nn.LPPool2d(*args), torch.nn.LPPool2d(*args)
    assert repr(em) == repr(tm)
    x = np.abs(RNG.standard_normal((2, 3, 7, 6))).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 1e-5, 1e-5)


def test_max_unpool_layer_and_invalid_index():
    """nn.MaxPool2d + nn.MaxUnpool2d, and F.max_unpool2d's error for an index out of range."""
    pool, unpool = nn.MaxPool2d(2, stride=2, return_indices=True), nn.MaxUnpool2d(2, stride=2)
    x = ember.tensor([[[[1.0, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]]])
    y, idx = pool(x)
    assert unpool(y, idx).tolist() == [[[[0.0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0],
                                         [0, 14, 0, 16]]]]
    with pytest.raises(RuntimeError) as expected:
        TF.max_unpool2d(torch.ones(1, 1, 2, 2), torch.tensor([[[[0, 1], [2, 30]]]]), 2)
    with pytest.raises(RuntimeError) as got:
        EF.max_unpool2d(ember.ones(1, 1, 2, 2), ember.tensor([[[[0, 1], [2, 30]]]]), 2)
    assert str(got.value) == str(expected.value)


# ---- the seed's examples ----------------------------------------------------------------------
def test_seed_000_maxpool_ceil_mode():
    data = [[1, 2, 0, 3, 1], [0, 1, 2, 3, 1], [1, 2, 1, 0, 0], [5, 2, 3, 1, 1], [2, 1, 0, 1, 1]]
    x = ember.reshape(ember.tensor(data, dtype=ember.float32), (-1, 1, 5, 5))
    y = nn.MaxPool2d(kernel_size=3, ceil_mode=True)(x)
    assert y.tolist() == [[[[2.0, 3.0], [5.0, 1.0]]]]
    assert repr(y) == "tensor([[[[2., 3.],\n          [5., 1.]]]])"
    y = nn.MaxPool2d(kernel_size=3, ceil_mode=False)(x)
    assert y.tolist() == [[[[2.0]]]]


def test_seed_002_pool_shapes():
    x = ember.randn(1, 1, 4, 4)
    assert tuple(nn.MaxPool2d(kernel_size=2, stride=2)(x).shape) == (1, 1, 2, 2)
    assert tuple(nn.AvgPool2d(kernel_size=2, stride=2)(x).shape) == (1, 1, 2, 2)
    assert tuple(nn.AdaptiveAvgPool2d((1, 1))(ember.randn(2, 16, 8, 8)).shape) == (2, 16, 1, 1)
