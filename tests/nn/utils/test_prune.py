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


def _tutorial_chain(lib):
    """The pruning tutorial's conv1: random, then l1 on the bias, then ln_structured: the norms
    are those of the already pruned weight."""
    lib.manual_seed(0)
    conv = lib.nn.Conv2d(1, 6, 3)
    prune = lib.nn.utils.prune
    prune.random_unstructured(conv, name="weight", amount=0.3)
    prune.l1_unstructured(conv, name="bias", amount=3)
    prune.ln_structured(conv, name="weight", amount=0.5, n=2, dim=0)
    return conv.weight_mask, conv.bias_mask, conv.weight


def _global_after_pruning(lib):
    """global_unstructured prunes among what earlier masks kept."""
    lib.manual_seed(2)
    a, b = lib.nn.Linear(5, 4), lib.nn.Linear(4, 3)
    prune = lib.nn.utils.prune
    prune.l1_unstructured(a, "weight", amount=6)
    prune.global_unstructured([(a, "weight"), (b, "weight")], pruning_method=prune.L1Unstructured,
                              amount=0.4)
    return a.weight_mask, b.weight_mask


@pytest.mark.parametrize("case", [_tutorial_chain, _global_after_pruning],
                         ids=lambda f: f.__name__)
def test_repeated_pruning_masks_match_torch(case):
    for ours, theirs in zip(case(ember), case(torch)):
        assert_same(ours, theirs, exact=True)


def test_container_is_a_sequence_and_remove_keeps_the_parameter():
    """The PruningContainer iterates/indexes its methods; remove() turns the very `_orig`
    Parameter back into the attribute (an optimizer holding it keeps working)."""
    for lib in (ember, torch):
        prune = lib.nn.utils.prune
        layer = lib.nn.Linear(3, 2)
        orig = layer.weight
        prune.l1_unstructured(layer, "weight", amount=2)
        prune.random_structured(layer, "weight", amount=1, dim=0)
        hook = next(iter(layer._forward_pre_hooks.values()))
        assert [type(m).__name__ for m in hook] == ["L1Unstructured", "RandomStructured"]
        assert len(hook) == 2 and type(hook[1]).__name__ == "RandomStructured"
        prune.remove(layer, "weight")
        assert layer.weight is orig and int((orig == 0).sum()) >= 2
        with pytest.raises(TypeError):
            type("NoMask", (prune.BasePruningMethod,), {})()  # compute_mask is abstract


@pytest.mark.parametrize("call", [
    lambda p, m: p.l1_unstructured(m, "weight", amount=-1),
    lambda p, m: p.l1_unstructured(m, "weight", amount="a"),
    lambda p, m: p.global_unstructured([(m, "weight")], pruning_method=p.RandomStructured,
                                       amount=1),
    lambda p, m: p.ln_structured(m, "weight", amount=1, n=2, dim=3),
])
def test_pruning_argument_errors_match_torch(call):
    errors = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            call(lib.nn.utils.prune, lib.nn.Linear(3, 2))
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]).replace("ember", "torch") == str(errors[1])
