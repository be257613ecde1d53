"""Random pruning (ember/nn/utils/prune.py) against torch: with the same seed the masks must be
the same bits, first pruning, pruning again (PruningContainer) and global pruning."""

import pytest
import torch
import torch.nn.utils.prune  # noqa: F401 - torch.nn.utils does not import it

import ember
from tests.differential import assert_same


def _random_unstructured_twice(lib):
    lib.manual_seed(0)
    layer = lib.nn.Linear(4, 3)
    lib.nn.utils.prune.random_unstructured(layer, "weight", 0.5)
    first = layer.weight_mask.clone()
    lib.nn.utils.prune.random_unstructured(layer, "weight", 2)
    return first, layer.weight_mask, layer.weight


def _random_structured_then_unstructured(lib):
    lib.manual_seed(3)
    conv = lib.nn.Conv2d(3, 4, 2)
    lib.nn.utils.prune.random_structured(conv, "weight", 2, dim=1)
    first = conv.weight_mask.clone()
    lib.nn.utils.prune.random_unstructured(conv, "weight", 0.3)
    lib.nn.utils.prune.random_structured(conv, "weight", 0.5, dim=0)
    return first, conv.weight_mask, conv.weight


def _global_random(lib):
    lib.manual_seed(1)
    layer, conv = lib.nn.Linear(4, 3), lib.nn.Conv1d(2, 5, 2)
    lib.nn.utils.prune.global_unstructured(
        [(layer, "weight"), (conv, "weight")], lib.nn.utils.prune.RandomUnstructured, amount=9)
    return layer.weight_mask, conv.weight_mask


@pytest.mark.parametrize("case", [_random_unstructured_twice,
                                  _random_structured_then_unstructured, _global_random],
                         ids=lambda f: f.__name__)
def test_random_pruning_masks_match_torch(case):
    for ours, theirs in zip(case(ember), case(torch)):
        assert_same(ours, theirs, exact=True)


def test_random_unstructured_documented_mask():
    torch.manual_seed(0)
    ember.manual_seed(0)
    ours, theirs = ember.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    ember.nn.utils.prune.random_unstructured(ours, "weight", 0.5)
    torch.nn.utils.prune.random_unstructured(theirs, "weight", 0.5)
    assert theirs.weight_mask.tolist() == [[1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]]
    assert ours.weight_mask.tolist() == theirs.weight_mask.tolist()
