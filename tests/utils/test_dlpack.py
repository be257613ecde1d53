"""DLPack exchange (torch.from_dlpack, torch.utils.dlpack, Tensor.__dlpack__) between ember,
NumPy and torch itself: shared memory both ways, dtypes, capsules, refusals as torch's."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool", "complex64"])
def test_round_trips_share_memory(dtype):
    data = (np.arange(6) % 2 == 0) if dtype == "bool" else np.arange(6).astype(dtype)
    e = ember.tensor(data).reshape(2, 3)
    t = torch.from_dlpack(e)  # torch reads ember's memory
    assert str(t.dtype) == str(e.dtype) and tuple(t.shape) == (2, 3)
    assert (t.numpy() == e.numpy()).all()
    back = ember.from_dlpack(torch.tensor(data))  # ember reads torch's
    assert str(back.dtype) == str(e.dtype)
    a = np.from_dlpack(e)
    assert a.dtype == e.numpy().dtype and (a == e.numpy()).all()
    if dtype == "float32":
        t[0, 0] = 42.0
        assert float(e[0, 0]) == 42.0  # one memory
        source = torch.zeros(3)
        ember.from_dlpack(source)[1] = 5.0
        assert source.tolist() == [0.0, 5.0, 0.0]


def test_capsules_and_device():
    e = ember.arange(4.0)
    capsule = ember.utils.dlpack.to_dlpack(e)
    assert ember.utils.dlpack.from_dlpack(capsule).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ember.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(3.0))).tolist() == [
        0.0, 1.0, 2.0]
    assert e.__dlpack_device__() == (ember.utils.dlpack.DLDeviceType.kDLCPU, 0)
    assert tuple(e.__dlpack_device__()) == tuple(torch.arange(1.0).__dlpack_device__())


@pytest.mark.parametrize("case", ["requires_grad", "not_a_capsule", "capsule_twice"])
def test_refusals_as_torch(case):
    def run(lib):
        if case == "requires_grad":
            return lib.ones(2, requires_grad=True).__dlpack__()
        if case == "not_a_capsule":
            return lib.from_dlpack([1, 2])
        capsule = lib.utils.dlpack.to_dlpack(lib.ones(2))
        lib.from_dlpack(capsule)
        return lib.from_dlpack(capsule)
    assert_same_error(run)


def test_top_level_to_dlpack_hands_memory_to_torch():
    x = ember.arange(6.0).reshape(2, 3)
    shared = torch.from_dlpack(ember.to_dlpack(x))
    np.testing.assert_array_equal(shared.numpy(), x.numpy())
    shared[0, 0] = 7.0  # the same memory, not a copy
    assert x[0, 0].item() == 7.0
    assert ember.to_dlpack is ember.utils.dlpack.to_dlpack
