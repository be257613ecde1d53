"""TORCH_DISTRIBUTED_DEBUG: the debug level of the distributed package and its setters."""

import enum
import os


class DebugLevel(enum.Enum):
    """OFF, INFO or DETAIL (matches `torch.distributed.DebugLevel`, a pybind enum: comparing
    with an int is False, int() gives the value)."""

    OFF = 0
    INFO = 1
    DETAIL = 2

    def __int__(self):
        return self.value

    __index__ = __int__


_level = [DebugLevel.OFF]


def get_debug_level() -> DebugLevel:
    """The current debug level."""
    return _level[0]


def set_debug_level(level: DebugLevel) -> None:
    """Set the debug level; TypeError for anything but a DebugLevel, as torch's binding."""
    if not isinstance(level, DebugLevel):
        raise TypeError("set_debug_level(): incompatible function arguments. The following "
                        "argument types are supported:\n    1. (arg0: "
                        "torch._C._distributed_c10d.DebugLevel) -> None\n\nInvoked with: "
                        f"{level!r}")
    _level[0] = level


def set_debug_level_from_env() -> None:
    """Set the level from TORCH_DISTRIBUTED_DEBUG (OFF when unset; any case)."""
    value = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "OFF").upper()
    if value not in DebugLevel.__members__:
        raise ValueError("The value of TORCH_DISTRIBUTED_DEBUG must be OFF, INFO, or DETAIL.")
    _level[0] = DebugLevel[value]


set_debug_level_from_env()  # torch reads the variable when the package loads
