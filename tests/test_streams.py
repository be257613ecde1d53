"""torch.Stream and torch.Event on the CPU, torch.get_device_module and the small top-level
helpers (compiled_with_cxx11_abi, init_num_threads, torch.Storage, torch.functional)."""

import pytest
import torch

import ember
from tests.differential import assert_same_error


def test_cpu_stream_matches_torch():
    e, t = ember.Stream(), torch.Stream()
    assert repr(e) == repr(t) and str(e.device) == str(t.device)
    assert (e.device_type, e.device_index, e.stream_id) == (t.device_type, t.device_index,
                                                            t.stream_id)
    assert e.query() is True and e.synchronize() is None and e == ember.Stream("cpu")
    with e as entered:
        assert entered is e


def test_cpu_event_matches_torch():
    e, t = ember.Event(enable_timing=True), torch.Event(enable_timing=True)
    assert repr(e) == repr(t) and e.query() is t.query() is True


@pytest.mark.parametrize("call", [
    lambda lib: lib.Event().record(), lambda lib: lib.Stream().record_event(),
    lambda lib: lib.Event(enable_timing=True).elapsed_time(lib.Event()),
    lambda lib: lib.Event(enable_timing=True).elapsed_time(lib.Event(enable_timing=True)),
    lambda lib: lib.Stream("cuda"),
])
def test_stream_and_event_errors(call):
    assert_same_error(call, same_message=True, exact_type=True)


@pytest.mark.parametrize("device", ["cpu", "cuda:0", None, "mps"])
def test_get_device_module(device):
    e = ember.get_device_module(device if device is None else ember.device(device))
    t = torch.get_device_module(device if device is None else torch.device(device))
    assert e.__name__.split(".")[-1] == t.__name__.split(".")[-1]


@pytest.mark.parametrize("device", ["meta", 3])
def test_get_device_module_errors(device):
    assert_same_error(lambda lib: lib.get_device_module(device), same_message=True)


def test_small_top_level_helpers():
    for lib in (ember, torch):
        assert lib.compiled_with_cxx11_abi() is True and lib.init_num_threads() is None
        assert lib.Storage is lib.FloatStorage
        assert lib.legacy_contiguous_format is lib.contiguous_format
        assert lib.is_vulkan_available() is False
        assert lib.functional.einsum is lib.einsum and lib.functional.split is lib.split
        assert lib.overrides.resolve_name(lib.einsum) == "torch.functional.einsum"
