"""ember/_device.py: devices ember has no kernels for raise what torch raises for them."""

import pytest
import torch

import ember
from tests.differential import error_of


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


@pytest.mark.parametrize("kind", ["xpu", "xla", "hip", "lazy", "vulkan", "ipu"])
def test_every_torch_device_type_is_a_device_without_kernels(kind):
    """torch.device takes all of PyTorch's device types; a CPU-only build then refuses tensors
    there as torch does (AssertionError for XPU, the missing backend's NotImplementedError)."""
    assert repr(ember.device(kind)) == repr(torch.device(kind))
    assert str(ember.device(kind, 1)) == str(torch.device(kind, 1))
    with pytest.raises(Exception) as expected:
        torch.zeros(2, device=kind)
    with pytest.raises(expected.type) as raised:
        ember.zeros(2, device=kind)
    assert str(raised.value).split(" (ember")[0].split(". ")[0] == \
        str(expected.value).split(". ")[0]


def test_an_unknown_device_type_lists_torchs_types():
    with pytest.raises(RuntimeError) as expected:
        torch.device("foo")
    with pytest.raises(RuntimeError) as raised:
        ember.device("foo")
    assert str(raised.value) == str(expected.value)


def test_default_device_without_index_is_resolved_by_get_default_device():
    """set_default_device('cuda') is accepted; get_default_device makes a tensor there to learn
    the index, which a CPU-only build refuses. 'cuda:1' and 'meta' come back as they are."""
    try:
        for lib in (ember, torch):
            lib.set_default_device("cuda")
            with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
                lib.get_default_device()
            lib.set_default_device("cuda:1")
            assert str(lib.get_default_device()) == "cuda:1"
            lib.set_default_device("meta")
            assert str(lib.get_default_device()) == "meta"
    finally:
        ember.set_default_device(None)
        torch.set_default_device(None)


@pytest.mark.parametrize("value", [ember.int32, ember.complex64, "float"])
def test_set_default_dtype_refusals_as_torch(value):
    other = getattr(torch, str(value).rsplit(".", 1)[-1]) if not isinstance(value, str) else value
    with pytest.raises(TypeError) as expected:
        torch.set_default_dtype(other)
    with pytest.raises(TypeError) as raised:
        ember.set_default_dtype(value)
    assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize("args", [
    ("float32",), ("cuda:x",), ("cpu:-1",), ("CPU",), ("cpu0",), ("",), ("cuda:0:1",),
    ("foo:1",), ("cuda:01",), (" cpu",), ("cpu:",), (":0",), ("cpu", -1), ("cpu", "0"),
    ("cpu:0", 0), (-1,), (0,), (None,), (1.5,), (None, 0), ("cpu", True)])
def test_bad_device_arguments_raise_torchs_error(args):
    """c10's device-string grammar (type[:index], no leading zeros, no spaces), then the
    known types; an int is an accelerator index; other arguments: the binding's TypeError."""
    expected = error_of(lambda: torch.device(*args))
    raised = error_of(lambda: ember.device(*args))
    assert (type(raised), str(raised)) == (type(expected), str(expected))


@pytest.mark.parametrize("device", ["cuda", "cuda:1", "xpu"])
def test_accelerator_device_message_is_torchs(device):
    """A CPU-only torch's AssertionError, word for word."""
    for make in (lambda lib: lib.ones(1).to(device), lambda lib: lib.ones(1, device=device)):
        expected, raised = error_of(lambda: make(torch)), error_of(lambda: make(ember))
        assert (type(raised), str(raised)) == (type(expected), str(expected))
