"""Tensors over storages (ember/storage.py, `Tensor.set_` in ember/ops/inplace.py): set_ with
an UntypedStorage or TypedStorage views the storage's memory as torch's does."""

import warnings

import numpy as np
import pytest
import torch

import ember


@pytest.mark.parametrize("args", [(), (1, (2,), (1,)), (0, (2, 2)), (3, (1,)), (0, (2,), (2,))])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_set_to_an_untyped_storage_matches_torch(args, dtype):
    results = []
    for lib in (ember, torch):
        source = lib.arange(4.0)
        target = lib.empty(0, dtype=getattr(lib, dtype))
        target.set_(source.untyped_storage(), *args)
        results.append((target.tolist(), tuple(target.shape), target.stride()))
        target.view(-1)[0:1].fill_(7)  # the same memory as the source's
        results.append(source.view(getattr(lib, dtype)).tolist())
    assert results[:2] == results[2:]


def test_set_to_a_typed_storage_and_writes_through():
    for lib in (ember, torch):
        source = lib.arange(3.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage is deprecated in both
            typed = source.storage()
        target = lib.empty(0)
        target.set_(typed)
        target[1] = 10.0
        np.testing.assert_array_equal(source.numpy(), [0.0, 10.0, 2.0])


def test_layout_past_the_storage_end_is_refused():
    # torch grows the storage here; ember cannot grow memory other tensors view, so it refuses
    with pytest.raises(RuntimeError, match="cannot grow a storage"):
        ember.empty(0).set_(ember.arange(4.0).untyped_storage(), 3, (2,), (1,))
