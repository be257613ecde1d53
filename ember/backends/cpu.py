"""torch.backends.cpu: the CPU's vector capability as NumPy reports it."""

import numpy as np


def get_cpu_capability() -> str:
    """The best SIMD extension NumPy uses here ("AVX512", "AVX2", "NEON" or "DEFAULT")."""
    core = getattr(np, "_core", None) or getattr(np, "core", None)
    features = getattr(getattr(core, "_multiarray_umath", None), "__cpu_features__", {})
    for name, label in (("AVX512F", "AVX512"), ("AVX2", "AVX2"), ("ASIMD", "NEON")):
        if features.get(name):
            return label
    return "DEFAULT"
