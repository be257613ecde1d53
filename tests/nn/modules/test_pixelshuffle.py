"""The layers of ember/nn/modules/pixelshuffle.py (nn.PixelShuffle, nn.PixelUnshuffle) against
torch: reprs and forward. F.pixel_shuffle is tested in tests/ops/test_padding.py."""

import numpy as np
import pytest

from tests.nn.modules._layers import check_layer_forward

RNG = np.random.default_rng(3)

LAYERS = [
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layers_repr_and_forward(name, args, kwargs):
    x = RNG.standard_normal((2, 4, 4, 6)).astype(np.float32)
    check_layer_forward(name, args, kwargs, x, 2e-5)
