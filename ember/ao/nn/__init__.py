"""Quantized neural-network modules (matches `torch.ao.nn`)."""

from ember.ao.nn import quantized

__all__ = ["quantized"]
