"""Printing tensors as PyTorch prints them (placeholder: replaced by the full formatter)."""

import numpy as np


def tensor_repr(t) -> str:
    body = np.array2string(t._data, precision=4, separator=", ", prefix="tensor(")
    suffix = ""
    if t.dtype.name not in ("float32", "int64", "bool"):
        suffix += f", dtype={t.dtype}"
    if t.grad_fn is not None:
        suffix += f", grad_fn=<{t.grad_fn.name()}>"
    elif t.requires_grad:
        suffix += ", requires_grad=True"
    return f"tensor({body}{suffix})"


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Placeholder: replaced by the full formatter."""
