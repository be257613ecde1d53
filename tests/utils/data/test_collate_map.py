"""torch.utils.data._utils.collate: `collate(batch, collate_fn_map=...)` with torch's default
map and with a map a script extends, against torch."""

import collections

import numpy as np
import pytest
import torch
import torch.utils.data._utils.collate as theirs

import ember
import ember.utils.data._utils.collate as ours

Pair = collections.namedtuple("Pair", "a b")


class Box:
    def __init__(self, value):
        self.value = value


def _samples(lib):
    return {
        "tensors": [lib.ones(2), lib.zeros(2)],
        "nested": [{"x": lib.ones(1), "y": [1, 2.5], "s": "a"},
                   {"x": lib.zeros(1), "y": [3, 4.5], "s": "b"}],
        "namedtuple": [Pair(np.ones(2), 1), Pair(np.zeros(2), 2)],
        "numpy scalars": [np.float32(1.5), np.float32(2.0)],
        "bytes": [b"a", b"b"],
        "boxes": [Box(1.0), Box(2.0)],
    }


def _flat(value):
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return ("tensor", str(value.dtype), value.numpy().tolist())
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_flat(v) for v in value])
    return value


def _outcome(module, lib, name, extended):
    fn_map = module.default_collate_fn_map
    if extended:
        fn_map = {**fn_map, Box: lambda batch, *, collate_fn_map=None: lib.tensor(
            [b.value * 10 for b in batch])}
    try:
        return _flat(module.collate(_samples(lib)[name], collate_fn_map=fn_map))
    except Exception as error:  # noqa: BLE001 - the class is compared
        return type(error)


@pytest.mark.parametrize("extended", [False, True])
@pytest.mark.parametrize("name", ["tensors", "nested", "namedtuple", "numpy scalars", "bytes",
                                  "boxes"])
def test_collate_with_a_map_matches_torch(name, extended):
    assert _outcome(ours, ember, name, extended) == _outcome(theirs, torch, name, extended)


def test_module_names_match_torch():
    for name in ("collate", "collate_tensor_fn", "collate_numpy_array_fn", "collate_float_fn",
                 "collate_int_fn", "collate_str_fn", "default_collate", "default_convert",
                 "default_collate_fn_map", "default_collate_err_msg_format"):
        assert hasattr(ours, name), name
    assert ours.default_collate_err_msg_format == theirs.default_collate_err_msg_format
    assert ember.utils.data._utils.collate is ours

