"""The dynamically quantized modules (matches `torch.ao.nn.quantized.dynamic.modules`)."""

from ember.ao.nn.quantized.dynamic.modules.linear import Linear
from ember.ao.nn.quantized.dynamic.modules.rnn import LSTM

__all__ = ["Linear", "LSTM"]
