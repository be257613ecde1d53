"""ember/_device.py: devices ember has no kernels for raise what torch raises for them."""

import pytest
import torch

import ember


def test_mps_raises_torchs_missing_backend_error():
    """torch on Linux has no MPS kernels: NotImplementedError (a RuntimeError); ember too."""
    with pytest.raises(NotImplementedError) as expected:
        torch.zeros(3, device="mps")
    with pytest.raises(expected.type, match="'MPS' backend"):
        ember.zeros(3, device="mps")


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(3, device="meta"),
    lambda lib: lib.empty((2, 2), dtype=lib.int64, device="meta"),
    lambda lib: lib.tensor([1.0, 2.0], device="meta"),
])
def test_meta_raises_like_a_build_without_meta_kernels(make):
    """torch makes meta tensors; ember has no storage-free tensors and answers as a torch build
    without that backend's kernels does (as for MPS above): NotImplementedError, which torch's
    ops refusing a meta argument (RuntimeError) cover."""
    with pytest.raises(NotImplementedError, match="'Meta' backend") as raised:
        make(ember)
    assert isinstance(raised.value, RuntimeError)


def test_cuda_still_raises_assertion_error():
    """An unavailable CUDA device keeps torch's AssertionError."""
    with pytest.raises(AssertionError):
        torch.zeros(2, device="cuda")
    with pytest.raises(AssertionError):
        ember.zeros(2, device="cuda")
