"""Deterministic-algorithm switches (`torch.use_deterministic_algorithms` and friends) and
`torch.utils.deterministic.fill_uninitialized_memory`.

ember's CPU kernels are deterministic already (no atomics, fixed reduction orders), so these
switches only record the mode and answer for it, as a CPU-only PyTorch does for the ops it
has: scripts that seed everything call them and read them back.
"""

__all__ = ["are_deterministic_algorithms_enabled", "fill_uninitialized_memory",
           "get_deterministic_debug_mode", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "use_deterministic_algorithms"]

fill_uninitialized_memory = True
_STATE = {"enabled": False, "warn_only": False}
_MODES = {"default": 0, "warn": 1, "error": 2}


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """Turn deterministic algorithms on or off (matches `torch.use_deterministic_algorithms`)."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must "
                        f"be bool, not {type(mode).__name__}")
    _STATE["enabled"], _STATE["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """Whether deterministic algorithms are on (matches
    `torch.are_deterministic_algorithms_enabled`)."""
    return _STATE["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether they only warn (matches `torch.is_deterministic_algorithms_warn_only_enabled`)."""
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/'default' off, 1/'warn' warn only, 2/'error' on (matches
    `torch.set_deterministic_debug_mode`)."""
    if not isinstance(debug_mode, (int, str)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(bool(debug_mode > 0), warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0, 1 or 2 as `set_deterministic_debug_mode` takes it (matches
    `torch.get_deterministic_debug_mode`)."""
    if not _STATE["enabled"]:
        return 0
    return 1 if _STATE["warn_only"] else 2
