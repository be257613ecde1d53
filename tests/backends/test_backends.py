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


PRECISION_STEPS = [
    ("allow_tf32", True), ("allow_tf32", False), ("precision", "high"),
    ("precision", "medium"), ("precision", "highest"), ("fp32", "ieee"), ("fp32", "none"),
    ("allow_tf32", True), ("precision", "highest"),
]


def test_fp32_precision_tracks_tf32_and_matmul_precision_step_by_step():
    def state(lib):
        return (lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.fp32_precision,
                lib.backends.cuda.matmul.allow_tf32)

    def step(lib, kind, value):
        if kind == "allow_tf32":
            lib.backends.cuda.matmul.allow_tf32 = value
        elif kind == "precision":
            lib.set_float32_matmul_precision(value)
        else:
            lib.backends.cuda.matmul.fp32_precision = value
        return state(lib)

    try:
        for kind, value in PRECISION_STEPS:
            assert step(ember, kind, value) == step(torch, kind, value), (kind, value)
    finally:
        for lib in (ember, torch):
            lib.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="Unknown precision"):
        ember.backends.cuda.matmul.fp32_precision = "bogus"


LIBRARY_CALLS = {
    "linalg default": lambda lib: lib.backends.cuda.preferred_linalg_library(),
    "linalg 'default'": lambda lib: lib.backends.cuda.preferred_linalg_library("default"),
    "linalg cusolver": lambda lib: lib.backends.cuda.preferred_linalg_library("cusolver"),
    "linalg magma": lambda lib: lib.backends.cuda.preferred_linalg_library("magma"),
    "linalg bogus": lambda lib: lib.backends.cuda.preferred_linalg_library("bogus"),
    "blas cublaslt": lambda lib: lib.backends.cuda.preferred_blas_library("cublaslt"),
    "blas bogus": lambda lib: lib.backends.cuda.preferred_blas_library("bogus"),
    "mkl": lambda lib: lib.backends.mkl.is_available(),
    "mps macos": lambda lib: lib.backends.mps.is_macos13_or_newer(),
}


@pytest.mark.parametrize("name", list(LIBRARY_CALLS))
def test_library_preferences_match_torch(name):
    def outcome(lib):
        try:
            return "value", str(LIBRARY_CALLS[name](lib))
        except Exception as error:  # noqa: BLE001 - class and message are compared
            return "raises", type(error), str(error)
    assert outcome(ember) == outcome(torch)
