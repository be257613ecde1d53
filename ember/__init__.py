"""ember: PyTorch's API on NumPy. `import ember as torch` and your PyTorch program runs."""

# NOTE [No collection during import]
# Importing ember (and NumPy under it) makes some 10^5 objects, none of them garbage; Python's
# collector would walk them all twice on the way (two full collections, 25-30 ms, an eighth
# of the import). So collection is paused while the modules load and restored after, even when
# the import fails, as it was (a program that turned it off keeps it off).
import gc as _gc

_collecting = _gc.isenabled()
_gc.disable()
try:
    from ember import _blas_threads  # noqa: F401 (first: NOTE [BLAS's idle threads])
    from ember._version import __version__

    import importlib as _importlib
    import math as _math

    from ember import _allocator  # noqa: F401 (NOTE [Freed arrays stay with the process])
    from ember import _torch_function  # noqa: F401 (Tensor.__torch_function__, before subclasses)
    from ember import (_dtype, _registry, _tensor_str, autograd, backends, cuda, nn, ops, optim,
                       utils)
    from ember._device import Size, device
    from ember._device import device as _device_class
    from ember._dtype import (bool, double, dtype, float, float16, float32, float64,
                              get_default_dtype, half, int, int8, int16, int32, int64, long,
                              promote_types, set_default_dtype, short, uint8)
    from ember._dtype import cdouble, cfloat, complex64, complex128
    from ember._dtype import bfloat16, finfo, iinfo, uint16, uint32, uint64
    from ember._dtype import (float4_e2m1fn_x2, float8_e4m3fn, float8_e4m3fnuz, float8_e5m2,
                              float8_e5m2fnuz, float8_e8m0fnu)
    from ember._dtype import qint8, qint32, quint2x4, quint4x2, quint8
    from ember._quantized import (per_channel_affine, per_channel_affine_float_qparams,
                                  per_channel_symmetric, per_tensor_affine,
                                  per_tensor_symmetric, qscheme)
    from ember import linalg
    from ember import func
    from ember.func import vmap
    from ember import sparse
    from ember.sparse import sparse_coo, sparse_csc, sparse_csr
    from ember._tensor import Tensor
    from ember._tensor import (channels_last, channels_last_3d, contiguous_format, layout,
                               memory_format, preserve_format, strided)
    from ember._tensor_str import set_printoptions
    from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                          set_grad_enabled)
    from ember.autograd.grad_mode import is_inference_mode_enabled  # noqa: F401
    from ember.random import (Generator, default_generator, get_rng_state, initial_seed,
                              manual_seed, seed, set_rng_state)
    from ember.serialization import load, save
    from ember._threads import (get_num_interop_threads, get_num_threads, set_num_interop_threads,
                                set_num_threads)
    from ember.utils.deterministic import (are_deterministic_algorithms_enabled,
                                           get_deterministic_debug_mode,
                                           is_deterministic_algorithms_warn_only_enabled,
                                           set_deterministic_debug_mode,
                                           use_deterministic_algorithms)
    from ember import return_types, storage
    from ember import overrides
    from ember.overrides import DisableTorchFunction, DisableTorchFunctionSubclass
    from ember._sym import *  # noqa: F403 (torch.sym_int, torch.SymInt, ...)
    from ember._streams import Event, Stream
    from ember import _removed  # noqa: F401 (torch.eig, Tensor.reinforce, ...: torch's errors)
    from ember.storage import TypedStorage, UntypedStorage
    from ember import accelerator, amp
    from ember import cpu, mps, xpu  # the other device modules, as a CPU-only torch has them
    from ember._autocast import get_dtype as get_autocast_dtype
    from ember._autocast import is_enabled as is_autocast_enabled
    from ember._autocast import set_dtype as set_autocast_dtype
    from ember._autocast import set_enabled as set_autocast_enabled
    from ember._autocast_legacy import *  # noqa: F403 (torch's older autocast functions)
    from ember._device import get_default_device, set_default_device
    from ember.backends._precision import (get_float32_matmul_precision,
                                           set_float32_matmul_precision)
    from ember._tensor_types import LEGACY_TYPES as _LEGACY_TYPES
    from ember._tensor_types import is_storage, set_default_tensor_type, typename
    from ember.amp import autocast
    from ember import multiprocessing  # binds Tensor.share_memory_ and registers its pickler
    from ember import distributed  # torch.distributed over MPI; imports without mpi4py
    from ember.utils import data as _data  # ember.utils.data is loaded, as `import torch` does
    # torch.utils.checkpoint, .hooks and ._pytree are attributes after `import torch`, too
    from ember.utils import _pytree as _utils_pytree  # noqa: F401
    from ember.utils import checkpoint as _utils_checkpoint, hooks as _utils_hooks  # noqa: F401
    from ember.utils import dlpack as _utils_dlpack, weak as _utils_weak  # noqa: F401
    from ember import _higher_order_ops  # noqa: F401 (torch.cond, torch.while_loop)
    from ember.accelerator import AcceleratorError
    from ember.amp import GradScaler
    from ember.cuda import OutOfMemoryError
finally:
    if _collecting:
        _gc.enable()
    del _collecting

# NOTE [The ember namespace]
# Importing `ember.ops` imports every op family, and each op declares its `ember.<name>` face with
# `@op` (ember/_registry.py); this is the one place those faces enter the package namespace.
globals().update(_registry.FUNCTIONS)
_torch_function.install_early_subclasses()  # (subclasses made before every op was registered)
globals().update(_LEGACY_TYPES)  # torch.FloatTensor, torch.LongTensor, ... (legacy names)

inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e
newaxis = None


def result_type(tensor1, tensor2):
    """The dtype an op on these operands gives (matches `torch.result_type`)."""
    return _dtype.result_type(tensor1, tensor2)


Storage = _LEGACY_TYPES["FloatStorage"]  # (torch.Storage is the legacy torch.FloatStorage)


def get_device_module(device=None):
    """The module of a device's calls (`torch.cuda` for 'cuda:0'; the CPU's without one)
    (matches `torch.get_device_module`)."""
    if isinstance(device, (str, _device_class)):
        name = _device_class(device).type
    elif device is None:
        name = "cpu"  # (no accelerator)
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    module = globals().get(name) or (__getattr__(name) if name in _LAZY_MODULES else None)
    if module is None:
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as "
                           f"'torch.{name}'.")
    return module


legacy_contiguous_format = contiguous_format  # (torch's old name for it)


def is_vulkan_available() -> bool:
    """False: no Vulkan backend (matches `torch.is_vulkan_available` on CPU builds)."""
    return False


def compiled_with_cxx11_abi() -> bool:
    """True, as torch's wheels are built (matches `torch.compiled_with_cxx11_abi`)."""
    return True


def init_num_threads() -> None:
    """Threads are set up per process here: nothing to do (matches `torch.init_num_threads`)."""


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.dtype.is_floating_point


def numel(input):
    return input.numel()


# NOTE [Namespaces loaded on first use]
# `import ember` should take at most 0.2 s (issue #21). These namespaces (a tenth of the
# import's time, mostly `distributions`) load on first use through the module
# `__getattr__` below (PEP 562): `ember.distributions.Normal`, `import ember.fft`, `from ember
# import fx` and `torch.special` under `ember run` all import them then. `dir(ember)` lists them
# as before. None of them binds a Tensor method or an `ember.<name>` face on import (checked in
# tests/test_lazy_namespaces.py); `multiprocessing` does, so it stays eager.
_LAZY_MODULES = ("_C", "_dynamo", "compiler", "distributions", "fft", "functional", "fx", "jit",
                 "masked", "nested", "onnx",
                 "library", "profiler", "quasirandom", "signal", "special", "testing",
                 "types", "_inductor", "ao", "quantization", "export")
_LAZY_NAMES = {"compile": ("ember._dynamo.eval_frame", "compile_model"),
               "jagged": ("ember.nested", "jagged")}  # name -> (module, attr)


def __getattr__(name):
    """Import a namespace of NOTE [Namespaces loaded on first use] (or `ember.hub`,
    `ember.vision`, which are never loaded by `import ember`) the first time it is asked for."""
    if name in _LAZY_MODULES or name in ("hub", "vision"):
        return _importlib.import_module(f"ember.{name}")  # the import binds ember.<name>
    if name in _LAZY_NAMES:
        module, attribute = _LAZY_NAMES[name]
        value = globals()[name] = getattr(_importlib.import_module(module), attribute)
        return value
    raise AttributeError(f"module 'ember' has no attribute '{name}'")


def __dir__():
    """The namespace, with the names of NOTE [Namespaces loaded on first use] not loaded yet."""
    shown = set(globals()) - {"_LAZY_MODULES", "_LAZY_NAMES", "__dir__"}  # dir() as before
    return sorted(shown | set(_LAZY_MODULES) | set(_LAZY_NAMES))
