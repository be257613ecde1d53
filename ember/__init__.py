"""ember: PyTorch's API on NumPy. `import ember as torch` and your PyTorch program runs."""

from ember._version import __version__  # noqa: F401

from ember import _dtype
from ember._device import Size, device
from ember._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,
                          half, int, int8, int16, int32, int64, long, promote_types,
                          set_default_dtype, short, uint8)
from ember._tensor import Tensor
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)
from ember.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                          seed, set_rng_state)

# Op families: importing each attaches its Tensor methods.
from ember.ops import conversion as _conversion  # noqa: E402
from ember.ops import inplace as _inplace  # noqa: E402
from ember.ops import elementwise as _elementwise  # noqa: E402
from ember.ops import unary as _unary  # noqa: E402
from ember.ops import comparison as _comparison  # noqa: E402
from ember.ops import creation as _creation  # noqa: E402
from ember.ops import reduction as _reduction  # noqa: E402
from ember.ops import sort as _sort  # noqa: E402
from ember.ops import softmax as _softmax  # noqa: E402
from ember.ops import linalg as _linalg  # noqa: E402
from ember.ops import extrema as _extrema  # noqa: E402
from ember.ops import einsum as _einsum  # noqa: E402
from ember.ops import shape as _shape  # noqa: E402
from ember.ops import indexing as _indexing  # noqa: E402
from ember.ops import scatter as _scatter  # noqa: E402
from ember.ops import joins as _joins  # noqa: E402
from ember.ops.broadcast import expand_to as _expand_to  # noqa: E402,F401
from ember.ops import conv as _conv  # noqa: E402
from ember.ops import conv_transpose as _conv_transpose  # noqa: E402
from ember.ops import fold as _fold  # noqa: E402
from ember.ops import pool as _pool  # noqa: E402
from ember.ops import pool_avg as _pool_avg  # noqa: E402
from ember.ops import pool_adaptive as _pool_adaptive  # noqa: E402
from ember.ops import padding as _padding  # noqa: E402
from ember._tensor_str import set_printoptions  # noqa: E402,F401
from ember import autograd  # noqa: E402
from ember import backends, cuda  # noqa: E402,F401
from ember.serialization import load, save  # noqa: E402
from ember import nn, optim, utils  # noqa: E402
import ember.utils.data  # noqa: E402,F401
from ember import _registry  # noqa: E402

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
        import importlib

        return importlib.import_module(f"ember.{name}")
    raise AttributeError(f"module 'ember' has no attribute '{name}'")
