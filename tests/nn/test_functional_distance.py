"""The distance functions of ember/nn/_functional_distance.py against torch: pdist,
cosine_similarity over broadcast inputs, the `torch.*` names and the errors (the layers
nn.PairwiseDistance / CosineSimilarity, which call pairwise_distance / cosine_similarity, are
tested in tests/nn/modules/test_distance.py; F.normalize in tests/nn/test_functional.py)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error, check_fn

RNG = np.random.default_rng(0)


def test_pdist():
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    check_fn(torch.nn.functional.pdist, ember.nn.functional.pdist, x, atol=1e-5)


@pytest.mark.parametrize("shapes, dim", [
    (((3, 1), (3, 4)), 1),          # the broadcast dim is the one reduced: its size counts
    (((2, 1, 3), (4, 3)), -1),
    (((4, 3), (1, 3)), 0),
    (((5,), (1, 5)), -1),
])
def test_cosine_similarity_broadcasts_before_the_norms(shapes, dim):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    check_fn(lambda a, b: torch.nn.functional.cosine_similarity(a, b, dim),
             lambda a, b: ember.nn.functional.cosine_similarity(a, b, dim), *arrays, atol=1e-5)
    arrays = [RNG.standard_normal(s) for s in shapes]
    leaves = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(lambda a, b: ember.cosine_similarity(a, b, dim), leaves)


def test_distance_functions_in_the_torch_namespace():
    """torch.cosine_similarity, torch.pairwise_distance and torch.pdist exist too."""
    a, b = (RNG.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    check_fn(torch.cosine_similarity, ember.cosine_similarity, a, b, atol=1e-5)
    check_fn(torch.pairwise_distance, ember.pairwise_distance, a, b, atol=1e-5)
    check_fn(torch.pdist, ember.pdist, a, atol=1e-5)


def test_cosine_similarity_errors_match_torch():
    assert_same_error(lambda m: m.nn.functional.cosine_similarity(m.tensor([1, 2]),
                                                                  m.tensor([1, 3]), dim=0),
                      same_message=True)
    assert_same_error(lambda m: m.nn.functional.cosine_similarity(m.ones(2, 3), m.ones(3, 3)))
