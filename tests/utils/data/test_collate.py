"""default_collate / default_convert against PyTorch, rule by rule."""

import collections

import numpy as np
import pytest
import torch

import ember
from ember.utils import data
from tests.differential import assert_same_error

Point = collections.namedtuple("Point", "x y")


def _plain(value):
    """Tensors of either library as ('tensor', dtype name, values); containers kept."""
    if isinstance(value, (torch.Tensor, ember.Tensor)):
        return ("tensor", str(value.dtype), value.shape == () and value.tolist()
                or np.asarray(value.detach().numpy() if isinstance(value, torch.Tensor)
                              else value.numpy()).tolist())
    if isinstance(value, dict):
        return (type(value).__name__, {k: _plain(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_plain(v) for v in value])
    return value


def _samples(lib):
    """Batches of samples (built for each library: tensors are that library's)."""
    return {
        "ints": [1, 2, 3],
        "floats": [1.0, 2.5],
        "int-then-float": [1, 2.5],
        "bools": [True, False],
        "strings": ["a", "b"],
        "bytes": [b"a", b"b"],
        "numpy-f32-scalars": [np.float32(1), np.float32(2)],
        "numpy-i32-scalars": [np.int32(1), np.int32(2)],
        "numpy-bool-scalars": [np.bool_(True), np.bool_(False)],
        "numpy-arrays": [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
        "numpy-0d": [np.array(1.5), np.array(2.5)],
        "tensors": [lib.ones(2, 3), lib.zeros(2, 3)],
        "int-tensors": [lib.tensor([1, 2]), lib.tensor([3, 4])],
        "tuples": [(1, "a", 2.0), (2, "b", 3.0)],
        "lists": [[1, 2], [3, 4]],
        "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
        "dicts": [{"a": 1, "b": [1.0, np.float64(2)]}, {"a": 2, "b": [3.0, np.float64(4)]}],
        "ordered-dicts": [collections.OrderedDict(a=lib.ones(1)),
                          collections.OrderedDict(a=lib.zeros(1))],
        "nested": [{"x": (lib.ones(2), {"y": 1})}, {"x": (lib.zeros(2), {"y": 2})}],
    }


@pytest.mark.parametrize("name", list(_samples(ember)))
def test_default_collate_matches_torch(name):
    expected = torch.utils.data.default_collate(_samples(torch)[name])
    actual = data.default_collate(_samples(ember)[name])
    assert _plain(actual) == _plain(expected)


@pytest.mark.parametrize("name", list(_samples(ember)))
def test_default_convert_matches_torch(name):
    for torch_sample, sample in zip(_samples(torch)[name], _samples(ember)[name]):
        expected = torch.utils.data.default_convert(torch_sample)
        assert _plain(data.default_convert(sample)) == _plain(expected)


@pytest.mark.parametrize("batch", [[object()], [np.array(["a"])], [[1, 2], [3]], [None],
                                   [ember.ones(2), ember.ones(3)]],
                         ids=["object", "string-array", "ragged", "none", "shapes"])
def test_default_collate_errors_match_torch(batch):
    torch_batch = [torch.ones(2), torch.ones(3)] if isinstance(batch[0], ember.Tensor) else batch
    assert_same_error((lambda: data.default_collate(batch),
                       lambda: torch.utils.data.default_collate(torch_batch)),
                      same_message=True, exact_type=True)
