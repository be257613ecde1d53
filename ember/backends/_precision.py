"""The float32 matmul precision setting shared by `torch.set_float32_matmul_precision` and
`torch.backends.cuda.matmul.allow_tf32` (ember always computes float32 matmuls in float32)."""

_PRECISION = ["highest"]
CUDA_MATMUL_FP32 = ["none"]  # torch.backends.cuda.matmul.fp32_precision, which tracks it
_ALLOWED = ("highest", "high", "medium")


def get_float32_matmul_precision() -> str:
    """The current setting (matches `torch.get_float32_matmul_precision`)."""
    return _PRECISION[0]


def set_float32_matmul_precision(precision: str) -> None:
    """Record the setting; it changes nothing in ember's NumPy matmuls."""
    if precision not in _ALLOWED:
        raise RuntimeError(f"Invalid precision {precision!r}: expected one of {_ALLOWED}")
    _PRECISION[0] = precision
    CUDA_MATMUL_FP32[0] = "ieee" if precision == "highest" else "tf32"
