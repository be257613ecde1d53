"""Anomaly detection switches (matches `torch.autograd.detect_anomaly` / `set_detect_anomaly`).

ember accepts them so scripts run unchanged; it records the flag but adds no forward traces.
"""

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

    def __enter__(self):
        self._previous = dict(_state)
        _state.update(enabled=True, check_nan=self._check_nan)
        return self
