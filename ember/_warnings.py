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

# files whose frames are faces, not callers (the registry's; autocast's float32_inputs)
_WRAPPERS = frozenset(os.path.join(os.path.dirname(__file__), name)
                      for name in ("_registry.py", "_autocast.py"))


def warn(message, category=None, stacklevel=1, source=None):
    """warnings.warn(message, category, stacklevel) with the faces' frames left out."""
    frame, depth, remaining = sys._getframe(1), 1, stacklevel - 1
    while remaining > 0 and frame.f_back is not None:
        frame, depth = frame.f_back, depth + 1
        if frame.f_code.co_filename not in _WRAPPERS:
            remaining -= 1
    warnings.warn(message, category, stacklevel=depth + 1, source=source)


_WARNED_ONCE = set()


def warn_once(message, category=None, stacklevel=1, *, at_caller=False):
    """`warn` (or `warn_at_caller`), the first time this message is given in the process only
    (PyTorch's TORCH_WARN_ONCE: no warnings filter brings it back)."""
    if message in _WARNED_ONCE:
        return
    _WARNED_ONCE.add(message)
    if at_caller:
        warn_at_caller(message, category)
    else:
        warn(message, category, stacklevel + 1)


_EMBER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message, category=None):
    """warnings.warn naming the first frame outside ember: where PyTorch's C++ warnings, raised
    deep inside an op, point (the Python line that called into torch)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_EMBER_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
