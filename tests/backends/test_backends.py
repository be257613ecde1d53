"""torch.backends flags: the same defaults and the same answers as a CPU-only torch, settable
and readable (and tied together where torch ties them)."""

import pytest
import torch

import ember

READ = ["cuda.matmul.allow_tf32", "cuda.matmul.allow_fp16_reduced_precision_reduction",
        "cuda.matmul.allow_bf16_reduced_precision_reduction", "cuda.matmul.fp32_precision",
        "cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic", "cudnn.allow_tf32",
        "cudnn.fp32_precision", "mkldnn.enabled", "mkldnn.fp32_precision",
        "opt_einsum.enabled", "opt_einsum.strategy", "fp32_precision"]
CALLS = ["cuda.is_built", "cudnn.is_available", "cudnn.version", "mps.is_available",
         "mps.is_built", "mkldnn.is_available", "openmp.is_available", "opt_einsum.is_available",
         "mha.get_fastpath_enabled", "cuda.flash_sdp_enabled", "cuda.math_sdp_enabled",
         "cuda.mem_efficient_sdp_enabled"]


def _resolve(lib, path):
    value = lib.backends
    for part in path.split("."):
        value = getattr(value, part)
    return value


@pytest.mark.parametrize("path", READ)
def test_flag_defaults_match_torch(path):
    assert _resolve(ember, path) == _resolve(torch, path)


@pytest.mark.parametrize("path", CALLS)
def test_queries_match_torch(path):
    assert _resolve(ember, path)() == _resolve(torch, path)()


def test_tf32_flag_follows_matmul_precision_as_in_torch():
    for lib in (ember, torch):
        try:
            lib.backends.cuda.matmul.allow_tf32 = True
            assert lib.get_float32_matmul_precision() == "high"
            lib.set_float32_matmul_precision("highest")
            assert lib.backends.cuda.matmul.allow_tf32 is False
            with pytest.raises(AttributeError, match="Unknown attribute"):
                lib.backends.cuda.matmul.no_such_flag = 1
        finally:
            lib.set_float32_matmul_precision("highest")


def test_flag_context_managers_restore():
    for lib in (ember, torch):
        with lib.backends.cudnn.flags(enabled=False, deterministic=True):
            assert not lib.backends.cudnn.enabled and lib.backends.cudnn.deterministic
        assert lib.backends.cudnn.enabled and not lib.backends.cudnn.deterministic
    assert ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "NEON", "DEFAULT")
