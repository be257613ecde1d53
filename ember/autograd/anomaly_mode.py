"""Anomaly detection switches (matches `torch.autograd.detect_anomaly` / `set_detect_anomaly`).

With it on (and check_nan), the engine raises as soon as a node's backward returns NaN, naming
the node (`check_gradients`, called by ember/autograd/engine.py). Each node made while it is on
keeps the traceback of the forward call that made it (`forward_trace`); when the node's backward
fails, the engine warns with that traceback before the error propagates (`warn_forward_trace`),
as PyTorch does.
"""

import os
import traceback

from ember._warnings import warn as _warn
from ember._backend import xp

_state = {"enabled": False, "check_nan": True}


def is_anomaly_enabled() -> bool:
    return _state["enabled"]


def is_anomaly_check_nan_enabled() -> bool:
    return _state["check_nan"]


class set_detect_anomaly:
    """Turn anomaly detection on or off; takes effect at once and works as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self._previous = dict(_state)
        _state.update(enabled=bool(mode), check_nan=bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _state.update(self._previous)
        return False


class detect_anomaly(set_detect_anomaly):
    """Context manager turning anomaly detection on inside the block."""

    def __init__(self, check_nan: bool = True):
        self._check_nan = check_nan
        _warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._previous = dict(_state)
        _state.update(enabled=True, check_nan=self._check_nan)


def check_gradients(node, gradients):
    """PyTorch's anomaly check of what a node's backward returned: no NaN anywhere."""
    for index, gradient in enumerate(gradients):
        if gradient is not None and xp.isnan(gradient._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {index}th "
                               "output.")


def forward_trace(python_function=False) -> str:
    """The traceback of the running forward call, as anomaly mode keeps it on the node: without
    the innermost frames of ember's op machinery, which are C++ in PyTorch (its trace ends in
    the caller's line, a Python layer of torch.nn, or a custom Function's Python `apply`)."""
    frames = traceback.extract_stack()[:-2]  # (without the recording frames)
    while frames and _in_op_machinery(frames[-1].filename):
        if python_function and frames[-1].name == "apply":
            break
        frames.pop()
    return "".join(traceback.format_list(frames))


_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _in_op_machinery(filename) -> bool:
    """A frame of ember outside its Python layers that torch has in Python too (torch.nn)."""
    return filename.startswith(_EMBER_DIR) and not filename.startswith(_EMBER_DIR + "nn" + os.sep)


def warn_forward_trace(node) -> None:
    """PyTorch's warning when the backward of a node made under anomaly mode fails."""
    trace = getattr(node, "_forward_trace", None)
    if trace is not None:
        _warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
              f"error:\n{trace} (Triggered internally at "
              "/__w/pytorch/pytorch/torch/csrc/autograd/python_anomaly_mode.cpp:122.)",
              stacklevel=4)
