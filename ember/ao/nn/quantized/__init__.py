"""Quantized modules (matches `torch.ao.nn.quantized`) and their dynamic kind
(`torch.ao.nn.quantized.dynamic`)."""

from ember.ao.nn.quantized import dynamic
from ember.ao.nn.quantized.modules import Linear

__all__ = ["Linear", "dynamic"]
