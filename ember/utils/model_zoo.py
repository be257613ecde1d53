"""ember.utils.model_zoo: the old name of the checkpoint loader (matches
`torch.utils.model_zoo`: `load_url` is the hub's `load_state_dict_from_url`, and `tqdm` is
there because torchvision imports it from here).

`tqdm` is the tqdm package's progress bar, or, without it, the small stand-in torch.hub
defines (ported from PyTorch's torch/hub.py, BSD-3-Clause license, Copyright (c) Facebook,
Inc. and its affiliates and the PyTorch contributors); ember.hub has no `tqdm` of its own.
"""

import sys

from ember.hub import load_state_dict_from_url as load_url  # noqa: F401

__all__ = ["load_url", "tqdm"]


class _Faketqdm:
    """A progress counter written to stderr, for when tqdm is not installed."""

    def __init__(self, total=None, disable=False, unit=None, *args, **kwargs):
        self.total = total
        self.disable = disable
        self.n = 0
        # Ignore all extra *args and **kwargs lest you want to reinvent tqdm

    def update(self, n):
        """Advance by n and show the count (or the percentage of total)."""
        if self.disable:
            return

        self.n += n
        if self.total is None:
            sys.stderr.write(f"\r{self.n:.1f} bytes")
        else:
            sys.stderr.write(f"\r{100 * self.n / float(self.total):.1f}%")
        sys.stderr.flush()

    def set_description(self, *args, **kwargs):
        """Ignored (use real tqdm for descriptions)."""

    def write(self, s):
        """Write a line to stderr."""
        sys.stderr.write(f"{s}\n")

    def close(self):
        """Stop showing progress."""
        self.disable = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        """End the progress line."""
        if self.disable:
            return

        sys.stderr.write("\n")


try:
    from tqdm import tqdm  # If tqdm is installed use it, otherwise use the fake wrapper
except ImportError:
    tqdm = _Faketqdm
