"""torch.backends.cudnn's flags: accepted and kept, with no effect (there is no cuDNN)."""

import contextlib

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None


fp32_precision = "none"


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none"):
    """Set the flags inside the block (matches `torch.backends.cudnn.flags`)."""
    names = ("enabled", "benchmark", "deterministic", "allow_tf32", "fp32_precision")
    module = globals()
    before = {k: module[k] for k in names}
    module.update(enabled=enabled, benchmark=benchmark, deterministic=deterministic,
                  allow_tf32=allow_tf32, fp32_precision=fp32_precision)
    try:
        yield
    finally:
        module.update(before)
