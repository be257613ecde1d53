"""ember: PyTorch's API on NumPy. `import ember as torch` and your PyTorch program runs."""

from ember._version import __version__

import importlib as _importlib

from ember import _dtype, _registry, _tensor_str, autograd, backends, cuda, nn, ops, optim, utils
from ember._device import Size, device
from ember._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,
                          half, int, int8, int16, int32, int64, long, promote_types,
                          set_default_dtype, short, uint8)
from ember._tensor import Tensor
from ember._tensor_str import set_printoptions
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)
from ember.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                          seed, set_rng_state)
from ember.serialization import load, save
from ember.utils import data as _data  # ember.utils.data is loaded, as `import torch` does

# NOTE [The ember namespace]
# Importing `ember.ops` imports every op family, and each op declares its `ember.<name>` face with
# `@op` (ember/_registry.py); this is the one place those faces enter the package namespace.
globals().update(_registry.FUNCTIONS)


def result_type(tensor1, tensor2):
    """The dtype an op on these operands gives (matches `torch.result_type`)."""
    return _dtype.result_type(tensor1, tensor2)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.dtype.is_floating_point


def numel(input):
    return input.numel()


def __getattr__(name):
    """`ember.hub` and `ember.vision` load on first use (as torch.hub does), keeping import fast."""
    if name in ("hub", "vision"):
        return _importlib.import_module(f"ember.{name}")
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
