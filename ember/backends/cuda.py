"""torch.backends.cuda's switches: settable and readable as on a CPU-only torch, no effect."""

import contextlib
import enum

from ember.backends import _precision


def is_built() -> bool:
    """False: ember has no CUDA build."""
    return False


class _MatmulFlags:
    """`torch.backends.cuda.matmul`: TF32 and reduced-precision switches (no effect on CPU).

    allow_tf32 mirrors `torch.set_float32_matmul_precision` ("highest" is False), as in torch.
    """

    _NAMES = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction", "fp32_precision")

    def __init__(self):
        object.__setattr__(self, "_values", {"allow_fp16_reduced_precision_reduction": True,
                                             "allow_bf16_reduced_precision_reduction": True})

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _precision.get_float32_matmul_precision() != "highest"
        if name == "fp32_precision":  # "none" until a precision is chosen, then tf32/ieee
            return _precision.CUDA_MATMUL_FP32[0]
        if name in self._values:
            return self._values[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name == "allow_tf32":
            _precision.set_float32_matmul_precision("high" if value else "highest")
        elif name == "fp32_precision":
            if value not in ("ieee", "tf32", "none"):
                raise RuntimeError(f"Unknown precision: {value}")
            if value != "none":
                _precision.set_float32_matmul_precision("high" if value == "tf32" else
                                                        "highest")
            _precision.CUDA_MATMUL_FP32[0] = value
        elif name in self._values:
            self._values[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


matmul = _MatmulFlags()
_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def flash_sdp_enabled() -> bool:
    return _SDP["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _SDP["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _SDP["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _SDP["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _SDP["math"]


def enable_math_sdp(enabled: bool) -> None:
    _SDP["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _SDP["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _SDP["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """Select attention kernels inside the block (deprecated in torch; no effect here)."""
    before = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(before)


class _LinalgBackend(enum.Enum):
    """torch._C._LinalgBackend: which library torch.linalg would use on CUDA."""

    Default = 0
    Cusolver = 1
    Magma = 2


class _BlasBackend(enum.Enum):
    """torch._C._BlasBackend: which BLAS torch would use on CUDA."""

    Default = 0
    Cublas = 1
    Cublaslt = 2
    Ck = 3


_PREFERRED = {"linalg": _LinalgBackend.Default, "blas": _BlasBackend.Cublas}
_LIBRARY_NAMES = {"cusolver": "cuSOLVER", "magma": "MAGMA", "cublaslt": "cuBLASLt",
                  "hipblas": "hipBLAS", "hipblaslt": "hipBLASLt"}


def _prefer(kind, enum_type, choices, backend):
    if backend is None:
        return _PREFERRED[kind]
    if isinstance(backend, enum_type):
        backend = backend.name.lower()
    if not isinstance(backend, str) or backend not in choices:
        raise RuntimeError(f"Unknown input value. Choose from: {', '.join(choices)}.")
    if backend in _LIBRARY_NAMES:  # what a CPU-only build says for a library it lacks
        raise RuntimeError(f"Cannot set preferred backend to {_LIBRARY_NAMES[backend]} if "
                           f"PyTorch has not been compiled with {_LIBRARY_NAMES[backend]}.")
    _PREFERRED[kind] = enum_type[backend.capitalize()]
    return _PREFERRED[kind]


def preferred_linalg_library(backend=None):
    """The (CUDA) linalg library preference: Default, and nothing else without CUDA (matches
    `torch.backends.cuda.preferred_linalg_library` on a CPU-only build)."""
    return _prefer("linalg", _LinalgBackend, ("default", "cusolver", "magma"), backend)


def preferred_blas_library(backend=None):
    """The (CUDA) BLAS preference (matches `torch.backends.cuda.preferred_blas_library`)."""
    if backend == "default":
        backend = "cublas"
    return _prefer("blas", _BlasBackend, ("default", "cublas", "hipblas", "cublaslt",
                                          "hipblaslt", "ck"), backend)
