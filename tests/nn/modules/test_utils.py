"""torch.nn.modules.utils' helpers under ember, against torch's."""

import collections

import pytest
import torch.nn.modules.utils as torch_utils

import ember.nn.modules.utils as ember_utils


@pytest.mark.parametrize("name", ["_single", "_pair", "_triple", "_quadruple"])
@pytest.mark.parametrize("value", [3, (1, 2), [4, 5, 6], "ab"])
def test_ntuples_as_torch(name, value):
    ours, theirs = getattr(ember_utils, name), getattr(torch_utils, name)
    assert ours(value) == theirs(value) and ours.__name__ == theirs.__name__


def test_repeat_and_defaults_as_torch():
    assert ember_utils._reverse_repeat_tuple((1, 2, 3), 2) == \
        torch_utils._reverse_repeat_tuple((1, 2, 3), 2)
    for size, defaults in (([None, 3], [5, 6, 7]), (4, [1]), ([2, None], [8, 9, 10])):
        assert ember_utils._list_with_default(size, defaults) == \
            torch_utils._list_with_default(size, defaults)
    for module in (ember_utils, torch_utils):
        with pytest.raises(ValueError, match="Input dimension should be at least 3"):
            module._list_with_default([None, 3], [5, 6])


def test_consume_prefix_as_torch():
    results = []
    for module in (ember_utils, torch_utils):
        state = collections.OrderedDict([("module.a", 1), ("module.b.c", 2), ("x", 3)])
        state._metadata = collections.OrderedDict(
            [("", {"version": 0}), ("module", {"version": 1}), ("module.b", {"version": 2})])
        module.consume_prefix_in_state_dict_if_present(state, "module.")
        results.append((list(state.items()), list(state._metadata.items())))
    assert results[0] == results[1]
