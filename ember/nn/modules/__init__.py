"""All of ember.nn's layers (matches `torch.nn.modules`)."""

import importlib
import importlib.util

from ember.nn.modules.module import Module
from ember.nn.modules.container import (ModuleDict, ModuleList, ParameterDict, ParameterList,
                                        Sequential)

# NOTE [Layer files]: each file below defines `__all__`; a file written by another engineer may
# not exist yet in a work-in-progress checkout, so absent files are skipped (errors inside a
# present file still raise).
_LAYER_FILES = (
    "linear", "activation", "normalization", "batchnorm", "instancenorm", "dropout", "loss",
    "flatten", "sparse", "distance", "conv", "pooling", "padding", "upsampling", "pixelshuffle",
    "fold", "channelshuffle", "rnn", "transformer",
)
__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]
for _name in _LAYER_FILES:
    if importlib.util.find_spec(f"{__name__}.{_name}") is None:
        continue
    _module = importlib.import_module(f"{__name__}.{_name}")
    for _public in getattr(_module, "__all__", ()):
        globals()[_public] = getattr(_module, _public)
        __all__.append(_public)
del _name, _module
