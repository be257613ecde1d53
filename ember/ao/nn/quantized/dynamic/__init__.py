"""Dynamically quantized modules: float in, float out, qint8 weights, activations quantized per
call (matches `torch.ao.nn.quantized.dynamic`)."""

from ember.ao.nn.quantized.dynamic.modules import LSTM, Linear

__all__ = ["Linear", "LSTM"]
