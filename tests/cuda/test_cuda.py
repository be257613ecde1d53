"""ember.cuda answers as PyTorch's CPU-only build: the same values where torch returns, the
same exception class where torch raises (NOTE [A CPU-only torch.cuda])."""

import warnings

import pytest
import torch

import ember
from tests.differential import error_of

CALLS = {
    "is_available": (), "device_count": (), "is_initialized": (), "is_bf16_supported": (),
    "is_tf32_supported": (), "get_arch_list": (), "get_gencode_flags": (), "empty_cache": (),
    "manual_seed": (1,), "manual_seed_all": (1,), "seed": (), "seed_all": (),
    "get_rng_state_all": (), "memory_allocated": (), "max_memory_allocated": (),
    "memory_reserved": (), "max_memory_reserved": (), "memory_cached": (),
    "max_memory_cached": (), "memory_stats": (), "memory_stats_as_nested_dict": (),
    "list_gpu_processes": (),
    # calls that need a device: torch's CPU build raises
    "current_device": (), "get_device_name": (), "get_device_capability": (),
    "get_device_properties": (0,), "get_rng_state": (), "initial_seed": (), "init": (),
    "ipc_collect": (), "synchronize": (), "current_stream": (), "default_stream": (),
    "mem_get_info": (), "set_per_process_memory_fraction": (0.5,), "set_device": (0,),
    "memory_summary": (), "memory_snapshot": (), "reset_peak_memory_stats": (),
    "reset_max_memory_allocated": (), "reset_max_memory_cached": (),
    "reset_accumulated_memory_stats": (),
}


def _outcome(module, name, args):
    try:
        return ("value", getattr(module, name)(*args))
    except Exception as error:  # noqa: BLE001 - the class is compared
        return ("error", type(error))


@pytest.mark.parametrize("name", list(CALLS))
def test_cuda_call_matches_cpu_only_torch(name):
    ours, theirs = _outcome(ember.cuda, name, CALLS[name]), _outcome(torch.cuda, name, CALLS[name])
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "value":
        assert ours[1] == theirs[1]
    else:
        assert ours[1] is theirs[1]


def test_device_objects_and_tensor_types():
    device = ember.cuda.device(0)  # constructing works; entering raises, as in torch
    with pytest.raises(RuntimeError, match="compiled without CUDA"):
        with device:
            pass
    with ember.cuda.device_of(ember.ones(1)):
        pass
    with ember.cuda.stream(None):
        pass
    for name in ("Stream", "Event"):
        assert type(error_of(getattr(ember.cuda, name))) is \
            type(error_of(getattr(torch.cuda, name)))
    assert not isinstance(ember.ones(2), ember.cuda.FloatTensor)
    assert type(error_of(lambda: ember.cuda.FloatTensor(2))) is \
        type(error_of(lambda: torch.cuda.FloatTensor(2))) is TypeError
    assert issubclass(ember.cuda.OutOfMemoryError, RuntimeError)


def test_moving_tensors_to_cuda_raises_like_torch():
    for fn in (lambda lib: lib.ones(2).cuda(), lambda lib: lib.ones(2).to("cuda"),
               lambda lib: lib.zeros(2, device="cuda")):
        assert type(error_of(lambda: fn(ember))) is type(error_of(lambda: fn(torch))) is \
            AssertionError


def test_deprecated_cuda_amp_warns_and_disables():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = ember.cuda.amp.GradScaler()
        with ember.cuda.amp.autocast():
            assert not ember.is_autocast_enabled("cuda")
    assert not scaler.is_enabled()
    messages = " ".join(str(w.message) for w in caught)
    assert "deprecated" in messages and "CUDA is not available" in messages


@pytest.mark.parametrize("name", ["is_available", "current_accelerator", "device_count",
                                  "current_device_index", "synchronize", "empty_cache",
                                  "memory_allocated", "max_memory_allocated"])
def test_accelerator_matches_cpu_only_torch(name):
    ours, theirs = _outcome(ember.accelerator, name, ()), _outcome(torch.accelerator, name, ())
    assert ours[0] == theirs[0] and (ours[1] == theirs[1] if ours[0] == "value"
                                     else ours[1] is theirs[1])


def test_default_device_and_device_context():
    assert str(ember.get_default_device()) == str(torch.get_default_device()) == "cpu"
    with ember.device("cpu"):
        assert ember.ones(1).device.type == "cpu"
    ember.set_default_device("cuda")
    try:
        with pytest.raises(AssertionError):
            ember.ones(1)
    finally:
        ember.set_default_device(None)
    assert ember.ones(1).device.type == "cpu"


def test_accelerator_device_index_context_like_torch():
    for lib in (ember, torch):
        with lib.accelerator.device_index(None):
            pass
        context = lib.accelerator.device_index(0)  # constructing works; entering raises
        with pytest.raises(RuntimeError, match="none is available"):
            with context:
                pass


DEVICE_COMPARISONS = ['lib.device("cpu") == "cpu"', 'lib.device("cpu") != "cpu"',
                      'lib.device("cpu") == lib.device("cpu")', 'lib.ones(1).device == "cpu"',
                      'lib.device("cuda", 0) == lib.device("cuda:0")',
                      'lib.device("cpu") == lib.device("cpu", 0)',
                      'lib.ones(1).device == lib.device("cpu")', 'lib.device("cpu") == None',
                      'len({lib.device("cpu"), lib.device("cpu")})']


@pytest.mark.parametrize("expression", DEVICE_COMPARISONS)
def test_device_comparisons_match_torch(expression):
    assert eval(expression, {"lib": ember}) == eval(expression, {"lib": torch})


MOVES = {"to mps": lambda lib: lib.ones(2).to("mps"),
         "to mps device": lambda lib: lib.ones(2).to(lib.device("mps")),
         "factory mps": lambda lib: lib.ones(2, device="mps"),
         "to cuda:1": lambda lib: lib.ones(2).to("cuda:1"),
         "to cpu": lambda lib: lib.ones(2).to("cpu").device.type}


@pytest.mark.parametrize("name", list(MOVES))
def test_moving_to_absent_devices_raises_like_torch(name):
    def outcome(lib):
        try:
            return MOVES[name](lib)
        except Exception as error:  # noqa: BLE001 - the class is compared
            return type(error)
    assert outcome(ember) == outcome(torch)
