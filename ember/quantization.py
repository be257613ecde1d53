"""`torch.quantization`, PyTorch's legacy name for `torch.ao.quantization` (the same functions
and classes: `torch.quantization.quantize_dynamic`, `default_dynamic_qconfig`, ...)."""

from ember.ao.quantization import *  # noqa: F403 (the whole namespace, as torch's alias)
from ember.ao.quantization import __all__  # noqa: F401
