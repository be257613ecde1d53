"""The layers of ember/nn/modules/fold.py (nn.Fold, nn.Unfold) against torch: reprs and
outputs. The functional ops are tested in tests/ops/test_fold.py."""

import numpy as np
import pytest
import torch

import ember
from ember import nn
from tests.differential import assert_same

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name, args", [("Fold", ((4, 5), 2)), ("Unfold", (2,)),
                                        ("Unfold", ((2, 3),))])
def test_fold_layers(name, args):
    em, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(em) == repr(tm)
    shape = (2, 12, 12) if name == "Fold" else (2, 3, 5, 6)
    x = RNG.standard_normal(shape).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 1e-5, 1e-5)
