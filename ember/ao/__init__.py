"""torch.ao: quantization (matches `torch.ao.quantization` for eager dynamic quantization and
`torch.ao.nn.quantized(.dynamic)` for the modules it makes). Loaded on first use
(NOTE [Namespaces loaded on first use] in ember/__init__.py)."""

# quantization first: its mappings import the dynamic modules, which import its qconfig
from ember.ao import quantization
from ember.ao import nn

__all__ = ["nn", "quantization"]
