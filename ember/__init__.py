"""ember: PyTorch's API on NumPy. `import ember as torch` and your PyTorch program runs."""

__version__ = "0.1.0"

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
from ember.ops import shape as _shape  # noqa: E402
from ember.ops import indexing as _indexing  # noqa: E402
from ember.ops.broadcast import expand_to as _expand_to  # noqa: E402,F401
from ember.ops.creation import *  # noqa: E402,F401,F403
from ember.ops.elementwise import *  # noqa: E402,F401,F403
from ember.ops.unary import *  # noqa: E402,F401,F403
from ember.ops.comparison import *  # noqa: E402,F401,F403
from ember.ops.reduction import *  # noqa: E402,F401,F403
from ember.ops.sort import *  # noqa: E402,F401,F403
from ember.ops.softmax import *  # noqa: E402,F401,F403
from ember.ops.linalg import *  # noqa: E402,F401,F403
from ember.ops.shape import *  # noqa: E402,F401,F403
from ember.ops.indexing import *  # noqa: E402,F401,F403
from ember.ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d,  # noqa: E402,F401
                            conv_transpose2d, conv_transpose3d)
from ember.ops.pool import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d,  # noqa: E402,F401
                            max_pool1d, max_pool1d_with_indices, max_pool2d, max_pool3d)
from ember.ops.padding import pixel_shuffle, pixel_unshuffle  # noqa: E402,F401
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
