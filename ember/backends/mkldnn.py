"""torch.backends.mkldnn: flags accepted and kept (ember's kernels are NumPy's)."""

import contextlib

enabled = True
deterministic = False
fp32_precision = "none"


def is_available() -> bool:
    """True, as on torch's CPU build (the flag changes nothing in ember)."""
    return True


@contextlib.contextmanager
def flags(enabled=False, deterministic=False, fp32_precision="none"):
    """Set the flags inside the block."""
    global_names = globals()
    before = {k: global_names[k] for k in ("enabled", "deterministic", "fp32_precision")}
    global_names.update(enabled=enabled, deterministic=deterministic,
                        fp32_precision=fp32_precision)
    try:
        yield
    finally:
        global_names.update(before)
