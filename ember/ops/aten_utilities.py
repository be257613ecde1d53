"""Small torch.* functions that are Tensor methods or global switches elsewhere in ember:
`torch.detach`, `torch.fill_`, `torch.is_nonzero`, `torch.can_cast`, `torch.addmv_`, the anomaly
and warn-always switches, `torch.set_flush_denormal`, the deprecated `torch.range`, the
sparse-only `torch.native_norm`, `torch.norm_except_dim` and the build flags `torch.has_*`.

Where torch's function is C code without a signature in ember/_schemas.txt, its parser's errors
are made here from the signature it prints (`_parser`), or by hand for METH_NOARGS / METH_O
functions ("takes no arguments (1 given)").
"""

import functools
import math

from ember._warnings import warn as _warn
from ember import _dtype
from ember import _schemas
from ember._backend import xp
from ember._registry import FUNCTIONS, torch_function, write_out
from ember._tensor import Tensor, short_name
from ember.autograd import anomaly_mode
from ember.backends import mkl, openmp
from ember.ops._sparse_coo import sparse_coo
from ember.ops.aten_functional import aten_norm
from ember.ops.creation import _finish
from ember.ops.inplace import _can_cast


@functools.cache
def _parser(signature: str):
    """torch's argument parser for one of its signature strings ("get_device(Tensor input)")."""
    return _schemas.Parser((signature,))


def _parsed(signature: str, args, kwargs) -> tuple:
    """(args, kwargs) as torch's parser takes them, or its TypeError."""
    return _parser(signature).parse(args, kwargs)[0]


def _builtin_arguments(name: str, args, kwargs, count: int) -> None:
    """CPython's errors for a builtin of `count` arguments (0: METH_NOARGS, 1: METH_O)."""
    if kwargs:
        raise TypeError(f"torch.{name}() takes no keyword arguments")
    if len(args) != count:
        wanted = "no arguments" if count == 0 else "exactly one argument"
        raise TypeError(f"torch.{name}() takes {wanted} ({len(args)} given)")


# ---- Tensor methods as functions ------------------------------------------------------------
@torch_function()
def detach(input: Tensor) -> Tensor:
    """A new tensor sharing input's data, outside the graph (matches `torch.detach`)."""
    return input.detach()


@torch_function()
def detach_(input: Tensor) -> Tensor:
    """input itself taken out of the graph; a view is refused (matches `torch.detach_`)."""
    return input.detach_()


@torch_function()
def fill_(input: Tensor, value) -> Tensor:
    """Every element of input set to value, a number or a 0-d tensor (matches `torch.fill_`)."""
    return input.fill_(value)


@torch_function()
def is_nonzero(input: Tensor) -> bool:
    """The truth of a one-element tensor (matches `torch.is_nonzero`)."""
    return input.is_nonzero()


@torch_function()
def is_signed(input: Tensor) -> bool:
    """Whether input's dtype is signed (matches `torch.is_signed`)."""
    return input.is_signed()


@torch_function()
def is_inference(input: Tensor) -> bool:
    """Whether input was made in inference mode (matches `torch.is_inference`)."""
    return input.is_inference()


@torch_function()
def is_distributed(input: Tensor) -> bool:
    """False: no tensor is distributed (matches `torch.is_distributed`)."""
    return input.is_distributed()


@torch_function()
def conj_physical_(input: Tensor) -> Tensor:
    """input conjugated in place (matches `torch.conj_physical_`)."""
    return input.conj_physical_()


@torch_function()
def get_device(*args, **kwargs) -> int:
    """-1, the CPU's device index (matches `torch.get_device`)."""
    args, kwargs = _parsed("get_device(Tensor input)", args, kwargs)
    return (args or [kwargs.get("input")])[0].get_device()


@torch_function()
def can_cast(from_, to) -> bool:
    """Whether torch's in-place type rule lets a `from_` result be written into a `to` tensor:
    no complex to real, float to integer, or non-bool to bool (matches `torch.can_cast`)."""
    return _can_cast(_dtype.to_dtype(from_), _dtype.to_dtype(to))


# torch's warnAlways flag (TORCH_WARN_ONCE then warns each time), and whether the once-only
# warning of a deprecated signature was given
_WARN_ALWAYS = {"enabled": False, "deprecation_warned": False}
_DEPRECATED_ADDMV = (
    "This overload of addmv_ is deprecated:\n\taddmv_({})\nConsider using one of the following "
    "signatures instead:\n\taddmv_(Tensor input, Tensor mat, Tensor vec, *, Number beta = 1, "
    "Number alpha = 1)")


def _warn_deprecated(message: str) -> None:
    """torch's parser warns of a deprecated signature once per process (TORCH_WARN_ONCE: every
    time under set_warn_always(True))."""
    if _WARN_ALWAYS["enabled"] or not _WARN_ALWAYS["deprecation_warned"]:
        _WARN_ALWAYS["deprecation_warned"] = True
        _warn(message, UserWarning, stacklevel=3)


@torch_function("addmv_")
def _addmv_(*args, beta=1, alpha=1) -> Tensor:
    """β·input + α·(mat·vec) written into input (matches `torch.addmv_`, its deprecated
    `addmv_(beta, input[, alpha], mat, vec)` forms too, with their warning)."""
    if isinstance(args[0], Tensor):
        input, mat, vec = args
    else:  # the parser matched a deprecated signature: the scalars come first
        shown = "Number beta, Tensor input, Number alpha, Tensor mat, Tensor vec" \
            if len(args) == 5 else "Number beta, Tensor input, Tensor mat, Tensor vec"
        _warn_deprecated(_DEPRECATED_ADDMV.format(shown))
        beta, input, *rest = args
        alpha, mat, vec = rest if len(rest) == 3 else (alpha, *rest)
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


# ---- global switches ------------------------------------------------------------------------
@torch_function()
def is_anomaly_enabled(*args, **kwargs) -> bool:
    """Whether anomaly detection is on (matches `torch.is_anomaly_enabled`)."""
    _builtin_arguments("is_anomaly_enabled", args, kwargs, 0)
    return anomaly_mode.is_anomaly_enabled()


@torch_function()
def is_anomaly_check_nan_enabled(*args, **kwargs) -> bool:
    """Whether anomaly detection checks for NaN (matches
    `torch.is_anomaly_check_nan_enabled`)."""
    _builtin_arguments("is_anomaly_check_nan_enabled", args, kwargs, 0)
    return anomaly_mode.is_anomaly_check_nan_enabled()


@torch_function()
def set_anomaly_enabled(*args, **kwargs) -> None:
    """Turn anomaly detection on or off (matches `torch.set_anomaly_enabled`)."""
    args, kwargs = _parsed("set_anomaly_enabled(bool enabled, bool check_nan=True)", args,
                           kwargs)
    given = dict(zip(("enabled", "check_nan"), args), **kwargs)
    # (set_detect_anomaly sets the flags as it is made)
    anomaly_mode.set_detect_anomaly(given["enabled"], given.get("check_nan", True))


@torch_function()
def set_warn_always(b, /) -> None:
    """Set the warn-always flag (matches `torch.set_warn_always`; among ember's warn-once
    warnings only addmv_'s deprecated signatures read it)."""
    if type(b) is not bool:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {_schemas.type_name(b)}")
    _WARN_ALWAYS["enabled"] = b


@torch_function()
def is_warn_always_enabled() -> bool:
    """The warn-always flag (matches `torch.is_warn_always_enabled`)."""
    return _WARN_ALWAYS["enabled"]


@torch_function()
def set_flush_denormal(*args, **kwargs) -> bool:
    """False: NumPy cannot flush denormals to zero, so ember answers as torch does on a CPU
    without that mode (`torch.set_flush_denormal`'s arguments and errors)."""
    _builtin_arguments("set_flush_denormal", args, kwargs, 1)
    if type(args[0]) is not bool:
        raise RuntimeError("flush_denormal expects a bool, but got "
                           f"{_schemas.type_name(args[0])}")
    return False


# torch's build flags (plain bools; has_cuda/has_cudnn/has_mps/has_mkldnn warn, skipped here)
FUNCTIONS.update(has_lapack=True, has_spectral=True, has_mkl=mkl.is_available(),
                 has_openmp=openmp.is_available())


# ---- range ----------------------------------------------------------------------------------
_RANGE_WARNING = ("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).")


@torch_function("range")
def _range(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to and including end, in the default float dtype unless
    dtype (or out) says otherwise (matches the deprecated `torch.range`, with its warning)."""
    _warn(_RANGE_WARNING, UserWarning, stacklevel=2)
    if dtype is None:
        dtype = out.dtype if out is not None else _dtype.get_default_dtype()
    dtype = _dtype.to_dtype(dtype)
    if out is not None and out.dtype is not dtype:
        raise RuntimeError(f"dtype {short_name(dtype)} does not match dtype of out parameter "
                           f"({short_name(out.dtype)})")
    values = _range_values(*(v.item() if isinstance(v, Tensor) else v
                             for v in (start, end, step)), dtype)
    result = _finish(values, None, requires_grad, device)
    return result if out is None else write_out(result, out)


def _range_values(start, end, step, dtype):
    """aten's range_out: bounds and step in the accumulate type (double for float32, float for
    16-bit floats, int64 for integers), size ⌊(end - start)/step⌋ + 1, values start + i·step."""
    if dtype.name not in _RANGE_ACCUMULATE:
        raise NotImplementedError(f"\"range_cpu\" not implemented for '{short_name(dtype)}'")
    acc = xp.dtype(_RANGE_ACCUMULATE[dtype.name])
    if acc.kind == "i":
        if not all(math.isfinite(v) for v in (start, end, step)):
            raise RuntimeError("value cannot be converted to type int64_t without overflow")
        start, end, step = int(start), int(end), int(step)  # (C++ casts truncate)
    else:
        start, end, step = (acc.type(v) for v in (start, end, step))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    size = (end - start) // step + 1 if acc.kind == "i" else int((end - start) / step + 1)
    return (start + xp.arange(size, dtype=acc) * step).astype(dtype.numpy)


_RANGE_ACCUMULATE = {"float64": xp.float64, "float32": xp.float64, "float16": xp.float32,
                     "bfloat16": xp.float32, "int64": xp.int64, "int32": xp.int64,
                     "int16": xp.int64, "int8": xp.int64, "uint8": xp.int64}


# ---- norms ----------------------------------------------------------------------------------
_FULL = object()  # native_norm's first overload: no dim


@torch_function()
def native_norm(input: Tensor, p=2, dim=_FULL, keepdim: bool = False, dtype=None) -> Tensor:
    """The p-norm of a sparse COO tensor's values, a dense 0-d tensor (matches
    `torch.native_norm`, which has no dense kernel and reduces over all dims only)."""
    overload = "native_norm" if dim is _FULL else "native_norm.ScalarOpt_dim_dtype"
    if input.layout is not sparse_coo:
        raise NotImplementedError(
            f"Could not run 'aten::{overload}' with arguments from the 'CPU' backend. This could "
            "be because the operator doesn't exist for this backend, or was omitted during the "
            "selective/custom build process (if using custom build).")
    if dim is not _FULL:
        _check_full_reduction(input, dim, keepdim, dtype)
    return aten_norm(input, 2 if p is None else p)


def _check_full_reduction(input: Tensor, dim, keepdim: bool, dtype) -> None:
    """native_norm of a sparse tensor reduces every dim, keeps none, casts to no dtype."""
    if sorted(d % max(input.ndim, 1) for d in dim) not in ([], list(range(input.ndim))):
        raise RuntimeError("norm_sparse currently only supports full reductions, so 'dim' must "
                           "either be empty or contain all dimensions of the input")
    if keepdim:
        raise RuntimeError("norm_sparse currently does not support keepdim=True")
    if dtype is not None:
        raise RuntimeError("norm_sparse currently does not support 'dtype' argument")


@torch_function()
def norm_except_dim(v: Tensor, pow: int = 2, dim: int = 0) -> Tensor:
    """The pow-norm of each slice of v along dim, kept as a size-1 dim elsewhere (all of v for
    dim -1) (matches `torch.norm_except_dim`, weight norm's helper)."""
    if dim == -1:
        return aten_norm(v, pow)
    if dim == 0:
        return aten_norm(v.contiguous().view(v.size(0), -1), pow, 1).view(
            [v.size(0)] + [1] * (v.ndim - 1))
    if dim == v.ndim - 1:
        return aten_norm(v.contiguous().view(-1, v.size(dim)), pow, 0).view(
            [1] * (v.ndim - 1) + [v.size(dim)])
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)
