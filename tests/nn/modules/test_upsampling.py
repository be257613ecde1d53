"""The resampling layers, ember/nn/modules/upsampling.py (nn.Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d), against torch: reprs and forward. F.interpolate is tested in
tests/ops/test_padding.py."""

import numpy as np
import pytest

from tests.nn.modules._layers import check_layer_forward

RNG = np.random.default_rng(3)

LAYERS = [
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"size": (3, 4), "mode": "bilinear", "align_corners": True}),
    ("Upsample", (), {"scale_factor": (2, 1.5), "mode": "bicubic"}),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}),
    ("UpsamplingBilinear2d", (), {"size": 5}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layers_repr_and_forward(name, args, kwargs):
    x = RNG.standard_normal((2, 4, 4, 6)).astype(np.float32)
    check_layer_forward(name, args, kwargs, x, 2e-5)
