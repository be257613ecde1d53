"""`warnings.warn` for ember's own warnings, counting `stacklevel` as PyTorch's would.

NOTE [Warnings point at the caller]
PyTorch's warnings name the line of the program that called the op (its C++ warnings the
calling Python frame; its Python ones `stacklevel=2`). Between a program and many of ember's
ops sits one more frame: the face that checks their arguments (`tensor_arguments`,
`op`/`torch_function` in ember/_registry.py), which PyTorch does not have. `warn` here walks
`stacklevel` frames up without counting those, so a `stacklevel=2` warning names the program's
line whether or not a face came between.
"""

import os
import sys
import warnings

# files whose frames are faces, not callers
_WRAPPERS = frozenset((os.path.join(os.path.dirname(__file__), "_registry.py"),))


def warn(message, category=None, stacklevel=1, source=None):
    """warnings.warn(message, category, stacklevel) with the faces' frames left out."""
    frame, depth, remaining = sys._getframe(1), 1, stacklevel - 1
    while remaining > 0 and frame.f_back is not None:
        frame, depth = frame.f_back, depth + 1
        if frame.f_code.co_filename not in _WRAPPERS:
            remaining -= 1
    warnings.warn(message, category, stacklevel=depth + 1, source=source)


_EMBER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message, category=None):
    """warnings.warn naming the first frame outside ember: where PyTorch's C++ warnings, raised
    deep inside an op, point (the Python line that called into torch)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
