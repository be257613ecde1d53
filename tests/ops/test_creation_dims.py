"""ember/ops/creation.py: a shape of more than 64 dims (NumPy's limit) raises torch's error."""

import pytest
import torch

import ember

MESSAGE = "only tensors with up to 64 dims are supported"


@pytest.mark.parametrize("make", [
    lambda lib, shape: lib.empty(shape),
    lambda lib, shape: lib.zeros(shape, dtype=lib.int64),
    lambda lib, shape: lib.ones(*shape),
    lambda lib, shape: lib.full(shape, 2.0),
])
def test_65_dims_raise_torchs_runtime_error(make):
    """torch holds 65 dims but its ops refuse them with this RuntimeError (amax here); ember
    cannot hold them and raises the same error when making one."""
    shape = [1] * 65
    with pytest.raises(RuntimeError) as expected:
        torch.amax(make(torch, shape), dim=-1)
    with pytest.raises(RuntimeError) as raised:
        make(ember, shape)
    assert str(raised.value) == str(expected.value) == MESSAGE


def test_64_dims_still_work():
    """The limit is NumPy's: 64 dims are fine in both libraries."""
    e, t = ember.ones([1] * 63 + [2]), torch.ones([1] * 63 + [2])
    assert tuple(e.shape) == tuple(t.shape)
    assert float(ember.amax(e, dim=-1).sum()) == float(torch.amax(t, dim=-1).sum())
