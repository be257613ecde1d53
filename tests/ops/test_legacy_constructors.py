"""The legacy constructors (ember/ops/legacy_constructors.py): `torch.Tensor(...)` against torch."""

import numpy as np
import torch

import ember
from tests.differential import assert_same, error_of


def test_legacy_tensor_constructor_forms():
    """torch.Tensor(): empty float; (2, 3) / Size: that shape; data: float; a tensor: its alias
    (a view, AliasBackward0); a float, a str or a dtype keyword: torch's TypeErrors."""
    assert_same(ember.Tensor(), torch.Tensor(), exact=True)
    assert repr(ember.Tensor()) == repr(torch.Tensor())
    assert tuple(ember.Tensor(ember.Size([2, 3])).shape) == (2, 3)
    assert_same(ember.Tensor(np.array([1, 2])), torch.Tensor(np.array([1, 2])), exact=True)
    for m in (ember, torch):
        x = m.tensor([1, 2])
        y = m.Tensor(x)
        y[0] = 5
        assert (x.tolist(), y._base is x, str(y.dtype)[-5:]) == ([5, 2], True, "int64")
        leaf = m.ones(2, requires_grad=True)
        assert m.Tensor(leaf).grad_fn.name() == "AliasBackward0"
    for args, kwargs in [((2.5,), {}), (("a",), {}), (([1],), {"dtype": "float64"})]:
        if "dtype" in kwargs:
            e, t = (error_of(lambda m=m: m.Tensor(*args, dtype=m.float64)) for m in (ember, torch))
        else:
            e, t = (error_of(lambda m=m: m.Tensor(*args)) for m in (ember, torch))
        assert (type(e), str(e)) == (type(t), str(t))


def test_legacy_constructors_refuse_what_is_not_a_sequence():
    """torch.Tensor(d) / x.new(d) of a dict, set, float, None or generator: 'data must be a
    sequence'; strings and None inside: the float store's TypeError."""
    cases = ["{1: 2}", "{1, 2}", "3.5", "None", "(x for x in [1])", "[1, 'a']", "[None]",
             "[[1], 'a']", "'ab'"]
    for data in cases:
        for make in (lambda m: m.Tensor(eval(data)), lambda m: m.ones(1).new(eval(data))):
            e, t = error_of(lambda: make(ember)), error_of(lambda: make(torch))
            assert (type(e), str(e)) == (type(t), str(t)), data
    assert_same(ember.Tensor(range(3)), torch.Tensor(range(3)), exact=True)
