"""The distance functions of ember/nn/_functional_distance.py against torch: pdist (the layers
nn.PairwiseDistance / CosineSimilarity, which call pairwise_distance / cosine_similarity, are
tested in tests/nn/modules/test_distance.py; F.normalize in tests/nn/test_functional.py)."""

import numpy as np
import torch

import ember
from tests.differential import check_fn

RNG = np.random.default_rng(0)


def test_pdist():
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    check_fn(torch.nn.functional.pdist, ember.nn.functional.pdist, x, atol=1e-5)
