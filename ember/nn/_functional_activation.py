"""The activation functions of ember.nn.functional (matches the activations of
`torch.nn.functional`).

Most are fused ops from `ember.ops.activation` or Tensor methods; `inplace=True` computes
out of place and writes the result into the input (`Tensor._inplace_update`). All are
re-exported from `ember.nn.functional`.
"""

import functools

from ember._warnings import warn as _warn
from ember._backend import xp
from ember._out_dtypes import OutDtype
from ember._registry import FUNCTIONS, tensor_method, write_out
from ember._schemas import type_name
from ember._tensor import Tensor, short_name, wrap_dim
from ember.ops import activation as _act
from ember.ops.glu import glu as _glu
from ember.ops.softmax import log_softmax as _log_softmax, softmax as _softmax


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._inplace_update(result) if inplace else result


# ---- activations --------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) (matches `torch.nn.functional.relu`)."""
    return input.relu_() if inplace else input.relu()  # (relu_ writes in place itself)


def relu_(input: Tensor) -> Tensor:
    """In-place relu (matches `torch.nn.functional.relu_`)."""
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6) (matches `torch.nn.functional.relu6`)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else slope·x (matches `torch.nn.functional.leaky_relu`)."""
    return _maybe_inplace(input, _act.LeakyRelu.apply(input, negative_slope), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu (matches `torch.nn.functional.leaky_relu_`)."""
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else α(eˣ - 1) (matches `torch.nn.functional.elu`)."""
    return _maybe_inplace(input, _act.Elu.apply(input, alpha, 1.0, 1.0), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu (matches `torch.nn.functional.elu_`)."""
    return elu(input, alpha, True)


_SELU_ALPHA = _act.SELU_ALPHA
_SELU_SCALE = _act.SELU_SCALE


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, α) with SELU's constants (matches `torch.nn.functional.selu`)."""
    return _maybe_inplace(input, _act.Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1)) (matches `torch.nn.functional.celu`)."""
    return _maybe_inplace(input, _act.celu(input, alpha), inplace)


def gelu(input: Tensor, approximate: str = "none", *, out=None) -> Tensor:
    """x·Φ(x), or its tanh approximation (matches `torch.nn.functional.gelu`)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    result = _act.Gelu.apply(input, approximate)
    return result if out is None else write_out(result, out, "gelu", "same")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (matches `torch.nn.functional.silu`)."""
    return _maybe_inplace(input, _act.Silu.apply(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)) (matches `torch.nn.functional.mish`)."""
    return _maybe_inplace(input, _act.Mish.apply(input), inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val) (matches `torch.nn.functional.hardtanh`)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, _act.Hardtanh.apply(input, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh (matches `torch.nn.functional.hardtanh_`)."""
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clamp(x/6 + 1/2, 0, 1) (matches `torch.nn.functional.hardsigmoid`)."""
    return _maybe_inplace(input, _act.Hardsigmoid.apply(input), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·hardsigmoid(x) (matches `torch.nn.functional.hardswish`)."""
    return _maybe_inplace(input, _act.Hardswish.apply(input), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0, *, out=None) -> Tensor:
    """log(1 + e^(βx))/β (matches `torch.nn.functional.softplus`)."""
    result = _act.Softplus.apply(input, beta, threshold)
    return result if out is None else write_out(result, out, "softplus", "same")


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) (matches `torch.nn.functional.softsign`)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x) (matches `torch.nn.functional.tanhshrink`)."""
    return input - input.tanh()


def logsigmoid(input: Tensor, *, out=None) -> Tensor:
    """log σ(x), computed stably (matches `torch.nn.functional.logsigmoid`)."""
    result = _act.LogSigmoid.apply(input)
    if out is None:
        return result
    return write_out(result, out, "log_sigmoid_forward", _LOG_SIGMOID_OUT)


_LOG_SIGMOID_OUT = OutDtype("exact", "expected scalar type {result} but found {out}")


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) (matches `torch.nn.functional.sigmoid`)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x) (matches `torch.nn.functional.tanh`)."""
    return input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value (matches `torch.nn.functional.threshold`)."""
    return _maybe_inplace(input, _act.threshold(input, threshold, value), inplace)


_threshold = threshold  # the name torch.nn.functional.threshold is defined under


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold (matches `torch.nn.functional.threshold_`)."""
    return _maybe_inplace(input, _act.threshold(input, threshold, value), True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else w·x, w per channel (matches `torch.nn.functional.prelu`)."""
    return _act.prelu(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky relu with a random slope in [lower, upper] when training, their mean otherwise
    (matches `torch.nn.functional.rrelu`)."""
    return _maybe_inplace(input, _act.rrelu(input, lower, upper, training), inplace)


def hardshrink(input: Tensor, lambd: float = 0.5, *, out=None) -> Tensor:
    """x where |x| > λ, else 0 (matches `torch.nn.functional.hardshrink`)."""
    result = _act.hardshrink(input, lambd)
    return result if out is None else write_out(result, out, "hardshrink", "same")


def softshrink(input: Tensor, lambd: float = 0.5, *, out=None) -> Tensor:
    """x - λ·sign(x) where |x| > λ, else 0; λ ≥ 0 (matches `torch.nn.functional.softshrink`)."""
    result = _act.softshrink(input, lambd)
    return result if out is None else write_out(result, out, "softshrink", "same")


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·σ(b) for the two halves a, b of input along dim (matches `torch.nn.functional.glu`)."""
    dim = _int_argument("glu", "dim", 2, dim)
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input.ndim)
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim} is size {input.shape[dim]}")
    if not input.dtype.is_floating_point:  # checked last, as torch
        raise NotImplementedError(f'"glu_cpu" not implemented for \'{short_name(input.dtype)}\'')
    return _glu(input, dim)


def _int_argument(fn: str, name: str, position: int, value) -> int:
    """value as torch's argument parser takes an int: an int (never a bool), a NumPy integer,
    or a 0-d integer tensor; anything else is its TypeError."""
    if type(value) is int:
        return value
    if isinstance(value, xp.integer) or isinstance(value, Tensor) and value.ndim == 0 and \
            value._data.dtype.kind in "iu":
        return int(value)
    raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be int, not "
                    f"{type_name(value)}")


def _softmax_dim(name: str, ndim: int) -> int:
    _warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x)/Σexp(x) along dim (matches `torch.nn.functional.softmax`)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    if type(dim) is not int or dtype is not None:  # (as torch, the method checks them)
        return input.softmax(dim, dtype=dtype)
    return _softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along dim (matches `torch.nn.functional.softmin`)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    # the method, as PyTorch calls it: its argument checks name `softmax(): argument 'dim'`
    return (-input).softmax(dim, dtype=dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along dim, computed stably (matches `torch.nn.functional.log_softmax`)."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    if type(dim) is not int or dtype is not None:  # (as torch, the method checks them)
        return input.log_softmax(dim, dtype=dtype)
    return _log_softmax(input, dim, dtype=dtype)


def selu_(input: Tensor) -> Tensor:
    """In-place selu (matches `torch.nn.functional.selu_`)."""
    return selu(input, True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu (matches `torch.nn.functional.celu_`)."""
    return celu(input, alpha, True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place rrelu (matches `torch.nn.functional.rrelu_`)."""
    return rrelu(input, lower, upper, training, True)


# NOTE [Activations refuse integer inputs as torch's kernels do]
# torch's activation kernels are compiled for floating types only: `F.elu` of an int64 tensor
# raises NotImplementedError ('"elu_cpu" not implemented for 'Long''), and a few that accept
# integers refuse bool (relu6 and hardtanh clamp with RuntimeError). NumPy would happily compute
# them, so the functions below check the dtype first: (kernel name, exception for integers,
# exception for bool), None where torch computes.
_DTYPE_RULES = {
    "elu": ("elu_cpu", NotImplementedError, NotImplementedError),
    "celu": ("elu_cpu", NotImplementedError, NotImplementedError),
    "selu": ("elu_cpu", NotImplementedError, NotImplementedError),
    "silu": ("silu_cpu", NotImplementedError, NotImplementedError),
    "mish": ("mish_cpu", NotImplementedError, NotImplementedError),
    "softshrink": ("softshrink_check", NotImplementedError, NotImplementedError),
    "hardshrink": ("hardshrink_cpu", NotImplementedError, NotImplementedError),
    "gelu": ("GeluKernelImpl", NotImplementedError, NotImplementedError),
    "softplus": ("softplus_cpu", NotImplementedError, NotImplementedError),
    "logsigmoid": ("log_sigmoid_cpu", NotImplementedError, NotImplementedError),
    "hardswish": ("hardswish_cpu", NotImplementedError, NotImplementedError),
    "hardsigmoid": ("hardsigmoid_cpu", NotImplementedError, NotImplementedError),
    "leaky_relu": ("leaky_relu_cpu", NotImplementedError, NotImplementedError),
    "prelu": ("prelu_cpu", NotImplementedError, RuntimeError),
    "threshold": ("threshold_cpu", None, NotImplementedError),
    "relu6": ("clamp", None, RuntimeError),
    "hardtanh": ("clamp", None, RuntimeError),
    "tanhshrink": ("sub", None, RuntimeError),
}


def _dtype_checked(fn, kernel, integer_error, bool_error):
    """fn, first refusing the input dtypes torch's kernel refuses (see the NOTE above)."""

    @functools.wraps(fn)
    def checked(input, *args, **kwargs):
        dtype = getattr(input, "dtype", None)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            error = bool_error if dtype.name == "bool" else integer_error
            if error is not None:
                raise error(f'"{kernel}" not implemented for \'{short_name(dtype)}\'')
        return fn(input, *args, **kwargs)

    return checked


for _name, (_kernel, _integer_error, _bool_error) in _DTYPE_RULES.items():
    globals()[_name] = _dtype_checked(globals()[_name], _kernel, _integer_error, _bool_error)
    # torch.hardshrink, Tensor.prelu, ... run the same kernels, so they refuse the same dtypes
    if _name in FUNCTIONS:
        FUNCTIONS[_name] = _dtype_checked(FUNCTIONS[_name], _kernel, _integer_error, _bool_error)
    if _name in vars(Tensor):
        tensor_method(_name)(_dtype_checked(vars(Tensor)[_name], _kernel, _integer_error,
                                            _bool_error))
del _name, _kernel, _integer_error, _bool_error
