"""What the CPU can do, where PyTorch's CPU build picks its kernels by it.

A few PyTorch results depend on the machine: with the right instructions its CPU build hands
an op to oneDNN, which rounds differently from its own fallback kernel (and raises different
errors). ember reads the same CPU flags and follows the same path, so it gives what PyTorch
gives on the machine it runs on.
"""

import functools
import sys


@functools.lru_cache(maxsize=None)
def cpu_flags() -> frozenset:
    """The CPU's feature flags (Linux's /proc/cpuinfo; none elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def mkldnn_enabled() -> bool:
    """`torch.backends.mkldnn.enabled`, read from the loaded module (backends sits above ops)."""
    return getattr(sys.modules.get("ember.backends.mkldnn"), "enabled", True)


# The flags behind oneDNN's `has_data_type_support` for its 16-bit types on x86 (any one):
# float16 needs native float16 arithmetic (AVX512-FP16, or AVX-NE-CONVERT on newer AVX2
# cores); bfloat16 the AVX-512 core set (BW, VL and DQ together) or the same newer AVX2 cores.
_ONEDNN_16_BIT = {"float16": ({"avx512_fp16"}, {"avx_ne_convert"}),
                  "bfloat16": ({"avx512bw", "avx512vl", "avx512dq"}, {"avx_ne_convert"})}


def onednn_takes(dtype_name: str) -> bool:
    """Whether PyTorch's CPU build runs a convolution of this dtype through oneDNN here (with
    mkldnn enabled; float16 and bfloat16 only on CPUs that have the instructions for them)."""
    if not mkldnn_enabled():
        return False
    if dtype_name not in _ONEDNN_16_BIT:
        return True
    flags = cpu_flags()
    return any(needed <= flags for needed in _ONEDNN_16_BIT[dtype_name])
