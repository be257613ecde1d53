"""Signal processing (matches `torch.signal`): the window functions in `ember.signal.windows`."""

from ember.signal import windows

__all__ = ["windows"]
