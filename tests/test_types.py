"""torch.types' aliases under ember: the names annotations use exist and mean the same."""

from typing import get_args

import torch

import ember


def test_type_aliases_as_torch():
    assert set(get_args(ember.types.Number)) == set(get_args(torch.types.Number))
    assert ember.types._Number == torch.types._Number
    for name in ("Device", "FileLike", "_size", "_dtype", "_device", "_layout", "Storage",
                 "SymInt", "SymFloat", "SymBool", "IntLikeType", "PySymType", "py_sym_types",
                 "_TensorOrTensors", "_int", "_float", "_bool"):
        assert hasattr(ember.types, name), name
    assert ember.types._dtype is type(ember.float32)
    assert isinstance(ember.Size([2]), ember.types._size.__args__[0])
