"""`torch.ops.aten` for ember: aten-level operators as overload packets, each overload calling
an ember op (with its autograd).

NOTE [The aten namespace]
PyTorch's `torch.ops.aten.<op>` is an OpOverloadPacket: callable (the dispatcher picks the
overload whose schema the arguments fit) and holding one OpOverload per schema, `.default`,
`.Tensor`, `.out`, ... Here each overload is a small function whose Python signature is the
schema, with its argument types as annotations (a type or a `|` union, checked with
isinstance), so a packet picks the first overload the call binds to and whose types fit; a
call no overload fits raises RuntimeError, as PyTorch's does. An `out` overload runs the
functional one and writes into the tensors given (`write_out`).

The ops declared below have semantics of their own. Every other aten op that ember has is made
on first access from torch's schemas (`__getattr__`, NOTE [Generic aten overloads] in
ember/ops/_aten_generic.py), the same packet on each access; a name neither declares raises
AttributeError naming it, like torch's namespace for an unknown op.

`ember.ops` stays ember's package of op families; this module is its last family, built on
the others (softmax, nn_native, pool, interpolate, indexing), and every module-level name here
that is not an aten op starts with an underscore followed by a name no aten op has.
"""

import inspect as _inspect

from ember import _dtype as _dtypes
from ember._registry import write_out as _write_out
from ember._tensor import Tensor as _Tensor
from ember._tensor import wrap_dim as _wrap_dim
from ember.ops import _aten_generic
from ember.ops import interpolate as _interpolate_ops
from ember.ops import nn_native as _nn_native_ops
from ember.ops import pool as _pool_ops
from ember.ops import softmax as _softmax_ops
from ember.ops.indexing import basic_view as _basic_view

_Float = float | int
_OptFloat = float | int | None
_Ints = list | tuple | int
_OptTensor = _Tensor | None
_py_slice = slice  # the name `slice` is aten.slice below


# torch's ScalarType codes, which torch.ops takes (as an int or a one-element tensor) for a dtype
_SCALAR_TYPE_CODES = {0: "uint8", 1: "int8", 2: "int16", 3: "int32", 4: "int64", 5: "float16",
                      6: "float32", 7: "float64", 9: "complex64", 10: "complex128", 11: "bool",
                      15: "bfloat16"}
_NOT_CONVERTIBLE = object()


def _scalar_type(code: int):
    """The dtype of a ScalarType code as torch reads it (an int8_t: its low byte), or the
    code itself when no dtype of ember's has it (an op decides what that does)."""
    code = (code + 128) % 256 - 128
    return getattr(_dtypes, _SCALAR_TYPE_CODES[code]) if code in _SCALAR_TYPE_CODES else code


def _converted(value, want):
    """value as torch.ops' schema matching converts it for an argument of type `want`: a
    one-element tensor where a number or a dtype goes is its value, an int where a dtype goes
    is that ScalarType code; _NOT_CONVERTIBLE when it does not fit."""
    accepts = set(getattr(want, "__args__", None) or (want,))
    from_tensor = isinstance(value, _Tensor)
    if from_tensor:
        if value.numel() != 1 or not accepts & {int, float, _dtypes.dtype}:
            return _NOT_CONVERTIBLE
        value = value.item()
        if type(value) is float and not -2.0 ** 63 <= value < 2.0 ** 63:
            return _NOT_CONVERTIBLE  # torch's schema matching refuses NaN, inf, no int64
    if _dtypes.dtype in accepts and (type(value) is bool or from_tensor and type(value) is float):
        value = int(value)  # (a bool is an int to torch's schema matching: True is int8's code)
    if _dtypes.dtype in accepts and type(value) is int:
        return _scalar_type(value)
    if int in accepts and (type(value) in (int, bool) or from_tensor and type(value) is float):
        return int(value)
    if float in accepts and type(value) in (int, float, bool):
        return float(value)
    return _NOT_CONVERTIBLE


# ---- overloads and packets ------------------------------------------------------------------
class _OpOverload:
    """One schema of an aten op (torch's `OpOverload`): callable, e.g. `aten.slice.Tensor`."""

    def __init__(self, packet, overload, fn):
        self.overloadpacket, self._overloadname, self.op = packet, overload, fn
        self.__name__ = f"{packet.__name__}.{overload}"
        self._signature = _inspect.signature(fn)

    def name(self) -> str:
        """'aten::slice.Tensor' ('aten::_safe_softmax' for a default overload)."""
        suffix = "" if self._overloadname == "default" else "." + self._overloadname
        return self.overloadpacket._qualified_op_name + suffix

    @property
    def _schema(self):
        """torch's schema of the overload (ember/ops/_aten_schemas.txt), printing as torch's."""
        return _aten_generic.schema_of(self.overloadpacket.__name__, self._overloadname)

    def mismatch(self, args, kwargs):
        """Why (args, kwargs) do not fit this schema, in PyTorch's words (None: they fit)."""
        where = self.overloadpacket._qualified_op_name
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError as error:
            problem = self._binding_problem(args, kwargs, error)
            return f"{problem} Schema: {self.name()}{self._signature}"
        for key, value in bound.arguments.items():
            want = self._signature.parameters[key].annotation
            if want is not _inspect.Parameter.empty and not isinstance(value, want) and \
                    _converted(value, want) is _NOT_CONVERTIBLE:
                text = getattr(want, "__name__", None) or str(want)
                return (f"{where}() Expected a value of type '{text}' for argument '{key}' but "
                        f"instead found type '{type(value).__name__}'.")
        return None

    def _binding_problem(self, args, kwargs, error):
        """Why the arguments do not bind to the schema's parameters, in PyTorch's words."""
        where = self.overloadpacket._qualified_op_name
        params = list(self._signature.parameters.values())
        positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        if len(args) > len(positional):
            return (f"{where}() expected at most {len(positional)} argument(s) but received "
                    f"{len(args) + len(kwargs)} argument(s).")
        for key in kwargs:
            if key not in self._signature.parameters:
                return f"Unknown keyword argument '{key}' for operator '{where}'."
            if key in positional[:len(args)]:
                return (f"Argument '{key}' specified both as positional and keyword "
                        "argument.")
        given = set(positional[:len(args)]) | set(kwargs)
        for p in params:
            if p.default is p.empty and p.name not in given:
                return f"{where}() is missing value for argument '{p.name}'."
        return f"{where}() {error}."

    def __call__(self, /, *args, **kwargs):
        problem = self.mismatch(args, kwargs)
        if problem is not None:
            raise RuntimeError(problem)
        return self.call_fitting(args, kwargs)

    def call_fitting(self, args, kwargs):
        """Call the op with arguments that fit the schema, converted as torch.ops converts them
        (`_converted`)."""
        bound = self._signature.bind(*args, **kwargs)
        for key, value in bound.arguments.items():
            want = self._signature.parameters[key].annotation
            if want is not _inspect.Parameter.empty and not isinstance(value, want):
                bound.arguments[key] = _converted(value, want)
        return self.op(*bound.args, **bound.kwargs)

    def __repr__(self):
        return (f"<OpOverload(op='aten.{self.overloadpacket.__name__}', "
                f"overload='{self._overloadname}')>")

    def __str__(self):
        return f"aten.{self.__name__}"


class _OpOverloadPacket:
    """An aten op with all its schemas (torch's `OpOverloadPacket`): `aten.slice`."""

    def __init__(self, name, **overloads):
        self.__name__ = name
        self._qualified_op_name = f"aten::{name}"
        self._overload_names = ()
        for overload, fn in overloads.items():
            self._add(overload, _OpOverload(self, overload, fn))

    def _add(self, overload, made):
        """Hold the overload `made` (an _OpOverload, or a generic one) as attribute `overload`."""
        self._overload_names += (overload,)
        setattr(self, overload, made)

    def __getattr__(self, overload):
        raise AttributeError(
            f"The underlying op of 'aten.{self.__name__}' has no overload name '{overload}'")

    def overloads(self) -> list:
        """The names of the op's overloads."""
        return list(self._overload_names)

    def __call__(self, /, *args, **kwargs):
        problems = []
        for overload in self._overload_names:
            chosen = getattr(self, overload)
            problem = chosen.mismatch(args, kwargs)
            if problem is None:
                return chosen.call_fitting(args, kwargs)
            problems.append(problem)
        if len(problems) == 1:
            raise RuntimeError(problems[0])
        raise RuntimeError("Overloaded torch operator invoked from Python failed to match any "
                           "schema:\n" + "".join(p + "\n\n" for p in problems))

    def __repr__(self):
        return f"<OpOverloadPacket(op='aten.{self.__name__}')>"

    def __str__(self):
        return f"aten.{self.__name__}"


def __getattr__(name):
    """An op not declared below: its packet made from torch's schemas, kept as a module
    attribute (so made once); one ember does not have: AttributeError, as torch.ops.aten's."""
    rows = _aten_generic.overloads_of(name)
    if rows is None:
        raise AttributeError(f"'_OpNamespace' 'aten' object has no attribute '{name}'")
    packet = _OpOverloadPacket(name)
    for overload, text, recipe in rows:
        packet._add(overload, _aten_generic.AtenOverload(packet, overload, text, recipe))
    return globals().setdefault(name, packet)  # (a packet another thread made first wins)


# ---- the schemas ----------------------------------------------------------------------------
def _softmax_backward_data_default(grad_output: _Tensor, output: _Tensor, dim: int,
                                   input_dtype: _dtypes.dtype):
    return _softmax_ops._softmax_backward_data(grad_output, output, dim, input_dtype)


def _softmax_backward_data_out(grad_output: _Tensor, output: _Tensor, dim: int,
                               input_dtype: _dtypes.dtype, *, grad_input: _Tensor):
    result = _softmax_ops._softmax_backward_data(grad_output, output, dim, input_dtype)
    return _write_out(result, grad_input)


def _safe_softmax_default(self: _Tensor, dim: int, dtype: _dtypes.dtype | None = None):
    if type(dtype) is int:  # a ScalarType code no dtype of ember's has (`_scalar_type`)
        if dtype == 8:
            raise NotImplementedError('"softmax_lastdim_kernel_impl" not implemented for '
                                      "'ComplexHalf'")
        raise RuntimeError(f"Unsupported ScalarType {dtype} in ATen")
    return _softmax_ops._safe_softmax(self, dim, dtype)


def _batch_norm_with_update_default(input: _Tensor, weight: _OptTensor, bias: _OptTensor,
                                    running_mean: _Tensor, running_var: _Tensor,
                                    momentum: _Float, eps: _Float):
    return _nn_native_ops._batch_norm_with_update(input, weight, bias, running_mean,
                                                  running_var, momentum, eps)


def _batch_norm_with_update_out(input: _Tensor, weight: _OptTensor, bias: _OptTensor,
                                running_mean: _Tensor, running_var: _Tensor, momentum: _Float,
                                eps: _Float, *, out: _Tensor, save_mean: _Tensor,
                                save_invstd: _Tensor, reserve: _Tensor):
    result = _nn_native_ops._batch_norm_with_update(input, weight, bias, running_mean,
                                                    running_var, momentum, eps)
    return _write_out(result, (out, save_mean, save_invstd, reserve))


def _upsample_bilinear2d_aa_default(self: _Tensor, output_size: list | tuple,
                                    align_corners: bool, scales_h: _OptFloat = None,
                                    scales_w: _OptFloat = None):
    return _interpolate_ops.upsample_antialiased(self, output_size, align_corners,
                                                 (scales_h, scales_w))


def _upsample_bilinear2d_aa_vec(input: _Tensor, output_size: list | tuple | None,
                                align_corners: bool, scale_factors: list | tuple | None):
    """The output size, or the scale factors it is computed from (⌊in·scale⌋), not both."""
    if (output_size is None) == (scale_factors is None):
        raise RuntimeError("Must specify exactly one of output_size and scale_factors")
    if scale_factors is not None:
        if len(scale_factors) != input.dim() - 2:
            raise RuntimeError("Expected static_cast<int64_t>(scale_factors->size()) == "
                               "spatial_dimensions to be true, but got false.")
        output_size = [int(n * f) for n, f in zip(input.shape[2:], scale_factors)]
    return _interpolate_ops.upsample_antialiased(input, output_size, align_corners,
                                                 scale_factors)


def _upsample_bilinear2d_aa_out(self: _Tensor, output_size: list | tuple, align_corners: bool,
                                scales_h: _OptFloat = None, scales_w: _OptFloat = None, *,
                                out: _Tensor):
    result = _upsample_bilinear2d_aa_default(self, output_size, align_corners, scales_h,
                                             scales_w)
    return _write_out(result, out)


def _max_pool2d_with_indices_backward_default(grad_output: _Tensor, self: _Tensor,
                                              kernel_size: _Ints, stride: _Ints,
                                              padding: _Ints, dilation: _Ints, ceil_mode: bool,
                                              indices: _Tensor):
    return _pool_ops.max_pool2d_with_indices_backward(grad_output, self, kernel_size, stride,
                                                      padding, dilation, ceil_mode, indices)


def _max_pool2d_with_indices_backward_grad_input(grad_output: _Tensor, self: _Tensor,
                                                 kernel_size: _Ints, stride: _Ints,
                                                 padding: _Ints, dilation: _Ints,
                                                 ceil_mode: bool, indices: _Tensor, *,
                                                 grad_input: _Tensor):
    result = _pool_ops.max_pool2d_with_indices_backward(grad_output, self, kernel_size, stride,
                                                        padding, dilation, ceil_mode, indices)
    return _write_out(result, grad_input)


def _native_dropout_backward_default(grad_output: _Tensor, mask: _Tensor, scale: _Float):
    return _nn_native_ops.native_dropout_backward(grad_output, mask, scale)


def _native_dropout_backward_out(grad_output: _Tensor, mask: _Tensor, scale: _Float, *,
                                 out: _Tensor):
    return _write_out(_nn_native_ops.native_dropout_backward(grad_output, mask, scale), out)


def _slice_tensor(self: _Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1):
    """The view self[..., start:end:step] along dim, start and end clamped to the size."""
    if self.dim() == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    dim = _wrap_dim(dim, self.dim())
    return _basic_view(self, (_py_slice(None),) * dim + (_py_slice(start, end, step),))


class _GenericList:
    """The schema type `t[]`, which PyTorch converts no Python value to: like torch's,
    `aten.slice.t` cannot be called from Python (a RuntimeError)."""


_GenericList.__name__ = "List[t]"


def _slice_list(l: _GenericList, start: int | None = None,  # noqa: E741
                end: int | None = None, step: int = 1):
    return l[start:end:step]


def _slice_str(string: str, start: int | None = None, end: int | None = None, step: int = 1):
    return string[start:end:step]


# ---- the ops --------------------------------------------------------------------------------
_softmax_backward_data = _OpOverloadPacket(
    "_softmax_backward_data", default=_softmax_backward_data_default,
    out=_softmax_backward_data_out)
_safe_softmax = _OpOverloadPacket("_safe_softmax", default=_safe_softmax_default)
_batch_norm_with_update = _OpOverloadPacket(
    "_batch_norm_with_update", out=_batch_norm_with_update_out,
    default=_batch_norm_with_update_default)
_upsample_bilinear2d_aa = _OpOverloadPacket(
    "_upsample_bilinear2d_aa", default=_upsample_bilinear2d_aa_default,
    vec=_upsample_bilinear2d_aa_vec, out=_upsample_bilinear2d_aa_out)
max_pool2d_with_indices_backward = _OpOverloadPacket(
    "max_pool2d_with_indices_backward", default=_max_pool2d_with_indices_backward_default,
    grad_input=_max_pool2d_with_indices_backward_grad_input)
native_dropout_backward = _OpOverloadPacket(
    "native_dropout_backward", default=_native_dropout_backward_default,
    out=_native_dropout_backward_out)
slice = _OpOverloadPacket("slice", Tensor=_slice_tensor, t=_slice_list, str=_slice_str)
