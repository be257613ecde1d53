"""The layers of ember/nn/modules/distance.py (nn.PairwiseDistance, nn.CosineSimilarity) against
torch: values, gradients, reprs."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import check_fn

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("kwargs,shapes", [
    ({}, ((4, 3), (4, 3))), ({"p": 1.0}, ((4, 3), (4, 3))), ({"keepdim": True}, ((4, 3),
                                                                              (1, 3))),
    ({"p": 3.0, "eps": 0.0}, ((2, 4, 3), (2, 4, 3))), ({}, ((3,), (3,))),
])
def test_pairwise_distance(kwargs, shapes):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    check_fn(lambda a, b: torch.nn.PairwiseDistance(**kwargs)(a, b),
             lambda a, b: ember.nn.PairwiseDistance(**kwargs)(a, b), *arrays, atol=1e-5)
    assert repr(ember.nn.PairwiseDistance(**kwargs)) == repr(torch.nn.PairwiseDistance(**kwargs))


@pytest.mark.parametrize("kwargs,shapes", [
    ({}, ((4, 3), (4, 3))), ({"dim": 0}, ((4, 3), (4, 3))), ({"dim": -1}, ((2, 4, 3),
                                                                       (1, 4, 3))),
    ({"eps": 0.5}, ((4, 3), (4, 3))),
])
def test_cosine_similarity(kwargs, shapes):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    arrays[0][0] *= 1e-3
    check_fn(lambda a, b: torch.nn.CosineSimilarity(**kwargs)(a, b),
             lambda a, b: ember.nn.CosineSimilarity(**kwargs)(a, b), *arrays, atol=1e-5)
    assert repr(ember.nn.CosineSimilarity(**kwargs)) == repr(torch.nn.CosineSimilarity(**kwargs))
