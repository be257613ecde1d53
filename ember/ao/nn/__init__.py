"""Quantized neural-network modules (matches `torch.ao.nn`)."""

from ember.ao.nn import intrinsic, quantized

__all__ = ["intrinsic", "quantized"]
