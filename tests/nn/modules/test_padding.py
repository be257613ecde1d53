"""The padding layers, ember/nn/modules/padding.py (nn.ZeroPad*, ConstantPad*, ReflectionPad*,
ReplicationPad*, CircularPad*), against torch: reprs and forward. F.pad is tested in
tests/ops/test_padding.py."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests.differential import assert_same

RNG = np.random.default_rng(2)

LAYERS = [
    ("ZeroPad2d", (2,), 2), ("ZeroPad2d", ((1, 2, 0, 3),), 2), ("ZeroPad1d", ((1, 2),), 1),
    ("ConstantPad1d", (2, 3.5), 1), ("ConstantPad2d", ((1, 2, 3, 4), 1), 2),
    ("ConstantPad3d", (1, 0.0), 3), ("ReflectionPad1d", (2,), 1),
    ("ReflectionPad2d", ((1, 2, 3, 0),), 2), ("ReplicationPad1d", (1,), 1),
    ("ReplicationPad2d", (2,), 2), ("ReplicationPad3d", (1,), 3), ("CircularPad1d", (2,), 1),
    ("CircularPad2d", ((1, 0, 2, 1),), 2),
]


@pytest.mark.parametrize("name, args, nd", LAYERS)
def test_layers_repr_and_forward(name, args, nd):
    em, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(em) == repr(tm)
    x = RNG.standard_normal((2, 3) + (4,) * nd).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 0, 0)
