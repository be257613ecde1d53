"""The quantized modules (matches `torch.ao.nn.quantized.modules`): ember has the quantized
Linear's weight packing, which its dynamic Linear runs on."""

from ember.ao.nn.quantized.modules.linear import Linear, LinearPackedParams

__all__ = ["Linear", "LinearPackedParams"]
