"""torch.sym_int, sym_float, sym_max, ... on plain numbers, and the SymInt classes."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

CALLS = [
    ("sym_int", (3.7,)), ("sym_int", (-3.7,)), ("sym_int", (True,)), ("sym_float", (3,)),
    ("sym_max", (2, 3.0)), ("sym_max", (2, 3)), ("sym_min", (2.0, 3)),
    ("sym_min", (np.int64(2), 3)), ("sym_not", (True,)), ("sym_ite", (False, 1.0, 2.0)),
    ("sym_sqrt", (4,)), ("sym_sum", ([1, 2, 3.0],)), ("sym_sum", (1, 2)), ("sym_sum", ([],)),
    ("sym_fresh_size", (4,)), ("sym_constrain_range", (3,)),
    ("sym_constrain_range_for_size", (3,)),
]


@pytest.mark.parametrize("name, args", CALLS, ids=[f"{n}{a}" for n, a in CALLS])
def test_sym_function_on_numbers(name, args):
    e, t = getattr(ember, name)(*args), getattr(torch, name)(*args)
    assert e == t and type(e) is type(t)


@pytest.mark.parametrize("name, args, kwargs", [
    ("sym_int", ("a",), {}), ("sym_ite", (1, 2, 3), {}), ("sym_ite", (True, 2, 3.0), {}),
    ("sym_max", ("a", 2), {}), ("sym_constrain_range", (3,), dict(min=5)),
    ("sym_constrain_range", (5,), dict(min=1, max=3)),
    ("sym_constrain_range_for_size", (-1,), {}),
    ("sym_constrain_range_for_size", (1,), dict(max=2)),
])
def test_sym_function_errors(name, args, kwargs):
    e, t = assert_same_error(lambda lib: getattr(lib, name)(*args, **kwargs), exact_type=True)
    assert str(e).replace("ember._tensor", "torch") == str(t)


def test_sym_classes_hold_no_plain_number():
    for lib in (ember, torch):
        assert not isinstance(3, lib.SymInt) and not isinstance(3.0, lib.SymFloat)
        assert not isinstance(True, lib.SymBool)
        assert repr(lib.SymInt) == "<class 'torch.SymInt'>"
