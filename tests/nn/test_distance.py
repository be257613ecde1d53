"""PairwiseDistance, CosineSimilarity and F.normalize/pdist against torch."""

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


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"dim": 0}, {"p": 3, "dim": -1}])
def test_normalize(kwargs):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    check_fn(lambda a: torch.nn.functional.normalize(a, **kwargs),
             lambda a: ember.nn.functional.normalize(a, **kwargs), x, atol=1e-5)


def test_pdist():
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    check_fn(torch.nn.functional.pdist, ember.nn.functional.pdist, x, atol=1e-5)
