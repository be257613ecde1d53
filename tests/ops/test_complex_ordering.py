"""Ordering ops on complex tensors: PyTorch refuses them (complex numbers have no order) with
the exception type and message of each kernel; ember must raise the same type. The ops that
still compute a value (NumPy orders complex numbers lexicographically) are strict xfails, with
the module to fix; a fix turns its case XPASS."""

import numpy as np
import pytest

from tests.differential import assert_same_error

Z = np.array([1 + 1j, 2 - 1j, -0.5 + 2j], dtype=np.complex64)

CASES = {
    "clamp": lambda lib, z: lib.clamp(z, 0, 1),
    "clamp_min": lambda lib, z: z.clamp_min(0),
    "clamp_max": lambda lib, z: z.clamp_max(0),
    "maximum": lambda lib, z: lib.maximum(z, z),
    "minimum": lambda lib, z: lib.minimum(z, z),
    "fmax": lambda lib, z: lib.fmax(z, z),
    "lt": lambda lib, z: z < z,
    "le": lambda lib, z: z <= z,
    "gt": lambda lib, z: z > 1,
    "ge": lambda lib, z: z >= z,
    "max": lambda lib, z: z.max(),
    "max_dim": lambda lib, z: z.max(0),
    "min": lambda lib, z: z.min(),
    "amax": lambda lib, z: z.amax(),
    "aminmax": lambda lib, z: z.aminmax(),
    "sort": lambda lib, z: lib.sort(z),
    "argsort": lambda lib, z: lib.argsort(z),
    "msort": lambda lib, z: lib.msort(z),
    "argmax": lambda lib, z: z.argmax(),
    "argmin": lambda lib, z: z.argmin(),
    "cummax": lambda lib, z: z.cummax(0),
    "cummin": lambda lib, z: z.cummin(0),
    "topk": lambda lib, z: z.topk(1),
    "kthvalue": lambda lib, z: z.kthvalue(1),
    "median": lambda lib, z: z.median(),
    "nanmedian": lambda lib, z: z.nanmedian(),
    "mode": lambda lib, z: z.mode(),
    "histc": lambda lib, z: lib.histc(z),
    "unique": lambda lib, z: lib.unique(z),
    "searchsorted": lambda lib, z: lib.searchsorted(z, z),
}

@pytest.mark.parametrize("name", list(CASES))
def test_complex_ordering_raises_like_torch(name):
    assert_same_error(lambda lib, z: CASES[name](lib, z), Z)
