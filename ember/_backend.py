"""The array-library seam: every op reaches NumPy through `xp`.

A GPU array library with NumPy's API (CuPy, for instance) could slot in here. Kernels that are
not in NumPy's common API (im2col windows, scatter-add) live in this module too, so that an
alternative backend only has to supply them once.
"""

import numpy as np

xp = np


def as_strided_windows(x, window_shape, axes):
    """Read-only sliding-window view over `axes` (no copy); used by conv and pooling."""
    return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=axes)


def scatter_add(target, index, values):
    """target[index] += values, accumulating repeated indices (np.add.at, unbuffered)."""
    np.add.at(target, index, values)
    return target


def quiet():
    """Silence NumPy's floating-point warnings: PyTorch returns inf/nan for log(0), 1/0, sqrt(-1)
    without a word, so ember's ops must too."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")
