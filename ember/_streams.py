"""`torch.Stream` and `torch.Event`, the device-generic stream and event (matches torch's on
CPU, the only device here): one stream, id 0, that runs everything in order; events the CPU
backend does not support, as torch says when one is recorded."""

from ember._device import device as _device_class

__all__ = ["Event", "Stream"]

_TYPES = {"cpu": 0, "cuda": 1, "meta": 9, "xpu": 12, "mps": 13}


def _device_of(device):
    """The device a stream or event is on: the CPU unless one is given (and available)."""
    found = _device_class("cpu" if device is None else device)
    if found.type == "cuda":
        raise RuntimeError("PyTorch is not linked with support for cuda devices")
    return found


class Stream:
    """An in-order queue of work on a device (matches `torch.Stream`); on the CPU every op runs
    at once, so waiting and synchronizing do nothing."""

    def __init__(self, device=None, *, priority=0):
        self.device = _device_of(device)
        # (torch's device_type is the DeviceType enum's number: 0 for the CPU)
        self.device_type, self.device_index, self.stream_id = _TYPES.get(
            self.device.type, 0), -1, 0

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        pass

    def wait_event(self, event) -> None:
        pass

    def wait_stream(self, stream) -> None:
        pass

    def record_event(self, event=None):
        raise RuntimeError(f"{self.device.type} backend doesn't support events.")

    def is_capturing(self) -> bool:
        return False

    @property
    def native_handle(self):
        raise RuntimeError("Backend doesn't support getting stream native handle.")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.device_type, self.stream_id) == (
            other.device_type, other.stream_id)

    def __hash__(self):
        return hash((self.device_type, self.device_index, self.stream_id))

    def __reduce__(self):
        raise TypeError("cannot pickle 'torch.Stream' object")

    def __repr__(self):
        return (f"torch.Stream device_type={self.device.type}, device_index="
                f"{self.device_index}, stream_id={self.stream_id}")


class Event:
    """A marker in a stream's work (matches `torch.Event`); the CPU backend records none."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        self.device = _device_of(device)
        self._flag, self.event_id = int(bool(enable_timing)), 0

    def record(self, stream=None):
        raise RuntimeError(f"{self.device.type} backend doesn't support events.")

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        pass

    def wait(self, stream=None) -> None:
        pass

    def elapsed_time(self, end_event):
        if not (self._flag and end_event._flag):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def __repr__(self):
        return (f"torch.Event device_type={self.device.type}, device_index=-1, "
                f"event_flag={self._flag}, event_id={self.event_id}")
