"""torch's older autocast functions: the per-device getters and setters that
`torch.is_autocast_enabled(device_type)` and friends replaced (each warns as torch does), and the
weight-cast cache and nesting counters that `torch.autocast` keeps.

ember's autocast casts each op's arguments afresh (ember/_autocast.py), so there is no cache of
cast weights to clear; the cache flag and the nesting depth are kept as torch keeps them, and
`ember.autocast` moves the depth as torch's context manager does.
"""

from ember import _autocast, _dtype
from ember._warnings import warn

# device types torch has these functions for, beyond ember's cpu and cuda: their defaults
_OTHER = {"ipu": [False, _dtype.float16], "xla": [False, _dtype.bfloat16]}
_STATE = {"cache": True, "nesting": 0}


def _deprecated(old, new):
    warn(f"torch.{old} is deprecated. Please use torch.{new} instead.", DeprecationWarning,
         stacklevel=3)


def _is_enabled(device_type):
    return _OTHER[device_type][0] if device_type in _OTHER else \
        _autocast.is_enabled(device_type)


def _get_dtype(device_type):
    return _OTHER[device_type][1] if device_type in _OTHER else _autocast.get_dtype(device_type)


def _set_enabled(device_type, enabled):
    if device_type in _OTHER:
        _OTHER[device_type][0] = bool(enabled)
    else:
        _autocast.set_enabled(device_type, enabled)


def _set_dtype(device_type, dtype):
    if device_type in _OTHER:
        _OTHER[device_type][1] = dtype
    else:
        _autocast.set_dtype(device_type, dtype)


def _getters_and_setters(name, device_type):
    """The four deprecated functions of one device type (cpu, gpu = cuda, ipu, xla)."""

    def is_enabled():
        _deprecated(f"is_autocast_{name}_enabled()", f"is_autocast_enabled('{device_type}')")
        return _is_enabled(device_type)

    def set_enabled(enabled):
        _deprecated(f"set_autocast_{name}_enabled(enabled)",
                    f"set_autocast_enabled('{device_type}', enabled)")
        _set_enabled(device_type, enabled)

    def get_dtype():
        _deprecated(f"get_autocast_{name}_dtype()", f"get_autocast_dtype('{device_type}')")
        return _get_dtype(device_type)

    def set_dtype(dtype):
        _deprecated(f"set_autocast_{name}_dtype(dtype)",
                    f"set_autocast_dtype('{device_type}', dtype)")
        _set_dtype(device_type, dtype)

    return is_enabled, set_enabled, get_dtype, set_dtype


(is_autocast_cpu_enabled, set_autocast_cpu_enabled, get_autocast_cpu_dtype,
 set_autocast_cpu_dtype) = _getters_and_setters("cpu", "cpu")
_, _, get_autocast_gpu_dtype, set_autocast_gpu_dtype = _getters_and_setters("gpu", "cuda")
(is_autocast_ipu_enabled, set_autocast_ipu_enabled, get_autocast_ipu_dtype,
 set_autocast_ipu_dtype) = _getters_and_setters("ipu", "ipu")
(is_autocast_xla_enabled, set_autocast_xla_enabled, get_autocast_xla_dtype,
 set_autocast_xla_dtype) = _getters_and_setters("xla", "xla")


def is_autocast_cache_enabled() -> bool:
    """Whether autocast caches the casts of weights (matches torch; default True)."""
    return _STATE["cache"]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turn autocast's cast cache on or off (matches torch)."""
    _STATE["cache"] = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop autocast's cached casts (matches torch; ember caches none)."""


def enter_autocast(cache_enabled) -> bool:
    """What `autocast.__enter__` does here: one level deeper, the cache flag set; returns the
    flag to restore."""
    previous, _STATE["cache"] = _STATE["cache"], bool(cache_enabled)
    _STATE["nesting"] += 1
    return previous


def exit_autocast(cache_enabled) -> None:
    """What `autocast.__exit__` does here: one level shallower, the cache flag restored."""
    _STATE["nesting"] -= 1
    _STATE["cache"] = cache_enabled


def autocast_increment_nesting() -> int:
    """One autocast context deeper; returns the new depth (matches torch)."""
    _STATE["nesting"] += 1
    return _STATE["nesting"]


def autocast_decrement_nesting() -> int:
    """One autocast context shallower; returns the new depth (matches torch)."""
    _STATE["nesting"] -= 1
    return _STATE["nesting"]


__all__ = ["autocast_decrement_nesting", "autocast_increment_nesting", "clear_autocast_cache",
           "get_autocast_cpu_dtype", "get_autocast_gpu_dtype", "get_autocast_ipu_dtype",
           "get_autocast_xla_dtype", "is_autocast_cache_enabled", "is_autocast_cpu_enabled",
           "is_autocast_ipu_enabled", "is_autocast_xla_enabled", "set_autocast_cache_enabled",
           "set_autocast_cpu_dtype", "set_autocast_cpu_enabled", "set_autocast_gpu_dtype",
           "set_autocast_ipu_dtype", "set_autocast_ipu_enabled", "set_autocast_xla_dtype",
           "set_autocast_xla_enabled"]
