"""The legacy API: torch.FloatTensor & co., autograd.Variable, the constants and helpers that
old scripts use, compared with torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import error_of

TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
         "CharTensor", "ByteTensor", "BoolTensor", "BFloat16Tensor"]
FORMS = {"sizes": (2, 3), "Size": None, "list": ([1, 0, 2],), "ndarray": (np.array([1.5, 2.0]),),
         "empty": ()}


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("form", list(FORMS))
def test_legacy_constructors_match_torch(name, form):
    args = FORMS[form]
    ours_args = (ember.Size([2]),) if form == "Size" else args
    theirs_args = (torch.Size([2]),) if form == "Size" else args
    ours, theirs = getattr(ember, name)(*ours_args), getattr(torch, name)(*theirs_args)
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if form in ("list", "ndarray"):
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("name", TYPES)
def test_isinstance_checks_the_dtype(name):
    dtype = getattr(torch, name).dtype
    for candidate in ("float32", "int64", "bool"):
        ours = isinstance(ember.zeros(1, dtype=getattr(ember, candidate)), getattr(ember, name))
        theirs = isinstance(torch.zeros(1, dtype=getattr(torch, candidate)), getattr(torch, name))
        assert ours == theirs
    assert repr(getattr(ember, name)) == repr(getattr(torch, name))
    assert str(getattr(ember, name).dtype) == str(dtype)


def test_typed_constructor_rejects_other_dtype_tensor():
    assert type(error_of(lambda: ember.FloatTensor(ember.ones(2, dtype=ember.int64)))) is \
        type(error_of(lambda: torch.FloatTensor(torch.ones(2, dtype=torch.int64)))) is TypeError


def test_variable_is_a_detached_alias():
    for lib in (ember, torch):
        t = lib.ones(2)
        v = lib.autograd.Variable(t, requires_grad=True)
        assert v is not t and v.requires_grad and isinstance(t, lib.autograd.Variable)
        u = lib.ones(2, requires_grad=True) * 2
        assert not lib.autograd.Variable(u).requires_grad
        assert lib.autograd.Variable(u).grad_fn is None
        v.data[0] = 5.0
        assert t[0].item() == 5.0  # shares the data
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            lib.autograd.Variable([1, 2])


def test_constants_and_helpers():
    for name in ("inf", "pi", "e"):
        assert getattr(ember, name) == getattr(torch, name)
    assert np.isnan(ember.nan) and ember.newaxis is torch.newaxis is None
    for obj in (1, ember.nn.Linear(1, 1)):
        theirs = torch.nn.Linear(1, 1) if isinstance(obj, ember.nn.Module) else obj
        assert ember.typename(obj).replace("ember", "torch") == torch.typename(theirs)
    assert ember.typename(ember.ones(1)) == torch.typename(torch.ones(1))
    assert ember.is_storage(ember.ones(1)) is torch.is_storage(torch.ones(1)) is False


def test_set_default_tensor_type():
    try:
        ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.ones(1).dtype == ember.float64
        ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.ones(1).dtype == ember.float32
        with pytest.raises(TypeError, match="floating-point"):
            ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)
