"""torch.cpu, torch.xpu, torch.mps and the deterministic-algorithm switches, call by call
against a CPU-only torch: the same values where torch returns, the same exception class (and
message) where it raises."""

import warnings

import pytest
import torch

import ember

CALLS = {
    "cpu": ["is_available()", "device_count()", "current_device()", "synchronize()",
            "is_initialized()", "set_device('cpu')",
            "current_stream().wait_stream(lib.cpu.Stream())", "Stream().record_event()",
            "Stream().query()", "_is_avx2_supported()", "_is_avx512_supported()",
            "_is_avx512_bf16_supported()", "_is_vnni_supported()", "_is_amx_tile_supported()",
            "_is_amx_fp16_supported()",
            "amp.autocast().fast_dtype", "amp.autocast(dtype=lib.float16).fast_dtype",
            "amp.GradScaler().is_enabled()", "amp.GradScaler(enabled=False).is_enabled()",
            "amp.GradScaler().get_scale()"],
    "xpu": ["is_available()", "device_count()", "is_initialized()", "current_device()",
            "synchronize()", "empty_cache()", "manual_seed(0)", "manual_seed_all(0)",
            "memory_allocated()", "max_memory_allocated()", "set_device(0)",
            "get_device_name()", "is_bf16_supported()", "seed()", "init()"],
    "mps": ["is_available()", "device_count()", "synchronize()", "empty_cache()",
            "manual_seed(0)", "seed()", "current_allocated_memory()",
            "driver_allocated_memory()", "set_per_process_memory_fraction(0.5)",
            "recommended_max_memory()", "get_rng_state()"],
}
CASES = [(module, call) for module, calls in CALLS.items() for call in calls]


def _outcome(lib, module, call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = eval(f"lib.{module}.{call}", {"lib": lib})
        except Exception as error:  # noqa: BLE001 - the class and message are compared
            return "raises", type(error), str(error).split(" (ember")[0], None
    categories = sorted(w.category.__name__ for w in caught)
    return "returns", str(value), None, categories


@pytest.mark.parametrize("module,call", CASES)
def test_device_module_calls_match_torch(module, call):
    ours, theirs = _outcome(ember, module, call), _outcome(torch, module, call)
    assert ours == theirs


def test_cpu_autocast_is_on_inside_the_block():
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.cpu.amp.autocast():
                out = lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 3))
        assert str(out.dtype).endswith("bfloat16")


DETERMINISTIC_STEPS = [
    ("use", (True,), {}), ("use", (True,), {"warn_only": True}), ("use", (False,), {}),
    ("use", (False,), {"warn_only": True}), ("debug", ("warn",), {}), ("debug", ("error",), {}),
    ("debug", ("default",), {}), ("debug", (1,), {}), ("debug", (True,), {}),
    ("debug", (2,), {}), ("debug", (0,), {}), ("debug", ("foo",), {}), ("debug", (3,), {}),
    ("debug", (1.0,), {}), ("debug", (None,), {}), ("use", ("yes",), {}),
]


def test_deterministic_switches_follow_torch_step_by_step():
    def step(lib, kind, args, kwargs):
        fn = lib.use_deterministic_algorithms if kind == "use" else \
            lib.set_deterministic_debug_mode
        try:
            fn(*args, **kwargs)
            error = None
        except Exception as e:  # noqa: BLE001 - the class and message are compared
            error = (type(e), str(e))
        return (error, lib.are_deterministic_algorithms_enabled(),
                lib.is_deterministic_algorithms_warn_only_enabled(),
                lib.get_deterministic_debug_mode())
    try:
        for kind, args, kwargs in DETERMINISTIC_STEPS:
            assert step(ember, kind, args, kwargs) == step(torch, kind, args, kwargs), (kind, args)
    finally:
        for lib in (ember, torch):
            lib.use_deterministic_algorithms(False)
    assert ember.utils.deterministic.fill_uninitialized_memory is \
        torch.utils.deterministic.fill_uninitialized_memory
