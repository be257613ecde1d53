"""Helpers shared by the op families: operand promotion and PyTorch's broadcasting errors."""

from ember import _dtype
from ember._backend import get_array_module, quiet, xp
from ember._tensor import Tensor, type_name, wrap_dim
from ember.ops._creation_space import fill_scalar
from ember.ops.conversion import cast


def as_operand(x, dtype) -> Tensor:
    """x as a Tensor of `dtype`: scalars become 0-d constants, tensors are cast if needed."""
    if isinstance(x, Tensor):
        if x._data.dtype == dtype.numpy:
            return x
        return cast(x, dtype)
    if isinstance(x, xp.ndarray):
        return Tensor._make(x.astype(dtype.numpy, copy=False))
    return Tensor._make(_scalar_array(x, dtype))


def alpha_check(value, dtype, name: str = "alpha") -> None:
    """PyTorch's alpha_check of a scalar factor against the result dtype: a bool only for a
    bool result, a float (or complex) only for a floating or complex one."""
    if isinstance(value, bool) and dtype is not _dtype.bool:
        raise RuntimeError(f"Boolean {name} only supported for Boolean results.")
    if not (dtype.is_floating_point or dtype.is_complex) and \
            not isinstance(value, (bool, int)) and not hasattr(value, "__index__"):
        raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating "
                           f"point number.")


def _scalar_array(value, dtype) -> xp.ndarray:
    """A Python number as a 0-d array of `dtype`, wrapping out-of-range integers as PyTorch does
    (`uint8 tensor + 300` adds 300 mod 256); NumPy would raise OverflowError."""
    try:
        return xp.array(value, dtype=dtype.numpy)
    except OverflowError:
        return xp.array(value).astype(dtype.numpy)


def binary_operands(a, b):
    """Both operands of a binary op, promoted to their PyTorch result dtype."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype == b._data.dtype:
                return a, b
        elif type(b) is float or type(b) is int:
            dtype = _with_python_scalar(a.dtype, b)
            return as_operand(a, dtype), Tensor._make(_scalar_array(b, dtype))
    elif isinstance(b, Tensor) and (type(a) is float or type(a) is int):
        dtype = _with_python_scalar(b.dtype, a)
        return Tensor._make(_scalar_array(a, dtype)), as_operand(b, dtype)
    if isinstance(a, xp.ndarray):
        a = Tensor._make(a)
    if isinstance(b, xp.ndarray):
        b = Tensor._make(b)
    for value in (a, b):  # `t + None`, `t * "a"`: TypeError, as Python says for torch tensors
        if not isinstance(value, (Tensor, bool, int, float, complex)) and \
                not hasattr(value, "__index__") and not hasattr(value, "__float__"):
            raise TypeError(f"unsupported operand type(s) for a tensor op: "
                            f"'{type(a).__name__}' and '{type(b).__name__}'")
    dtype = _dtype.result_type(a, b)
    return as_operand(a, dtype), as_operand(b, dtype)


def _with_python_scalar(tensor_dtype, value):
    """The result dtype of a tensor and a Python float or int (a fast path of result_type).

    A Python scalar only counts when it is of a higher category than the tensor: a float
    makes integer and bool tensors the default float dtype, an int makes bool tensors int64.
    """
    if type(value) is float:
        if tensor_dtype.is_floating_point or tensor_dtype.is_complex:
            return tensor_dtype
        return _dtype.get_default_dtype()
    return _dtype.int64 if tensor_dtype is _dtype.bool else tensor_dtype


def float_operand(x: Tensor) -> Tensor:
    """Integer and bool tensors become the default float dtype (exp, log, sqrt, ... of ints)."""
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return as_operand(x, _dtype.get_default_dtype())


def check_broadcast(a_shape, b_shape) -> None:
    """Raise PyTorch's RuntimeError unless the two shapes broadcast together."""
    for sa, sb in zip(reversed(a_shape), reversed(b_shape)):
        if sa != sb and sa != 1 and sb != 1:
            raise broadcast_error(a_shape, b_shape)


def broadcast_error(a_shape, b_shape) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast."""
    ndim = max(len(a_shape), len(b_shape))
    for i in range(1, ndim + 1):
        sa = a_shape[-i] if i <= len(a_shape) else 1
        sb = b_shape[-i] if i <= len(b_shape) else 1
        if sa != sb and sa != 1 and sb != 1:
            return RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at "
                f"non-singleton dimension {ndim - i}")
    return RuntimeError(f"shapes {list(a_shape)} and {list(b_shape)} cannot be broadcast")


def normalize_dims(dim, ndim):
    """dim (None, int or sequence) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, xp.integer)):
        return (wrap_dim(int(dim), ndim),)
    return tuple(sorted(wrap_dim(int(d), ndim) for d in dim))


# C++ type names, as matmul's messages print a dtype
C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
           "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
           "bool": "bool", "bfloat16": "c10::BFloat16", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>"}


def c_type(t) -> str:
    """t's dtype as a C++ type name (matmul's messages)."""
    return C_TYPES.get(t.dtype.name, t.dtype.name)


def broadcast_shape(a_shape, b_shape) -> tuple:
    """The shape two shapes broadcast to; PyTorch's error (naming a, then b) if they do not."""
    try:
        return xp.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        raise broadcast_error(a_shape, b_shape) from None


def assigned_array(value, tensor: Tensor):
    """The value of `tensor[i] = value` for a value that is not a tensor, as torch's setitem
    reads it: a Python int, float or complex (or a NumPy integer, float64, complex128) converted
    with fill_'s checks, except that a float overflows a half type to inf silently."""
    if not isinstance(value, (int, float, complex, xp.integer)):
        cls = type(value)
        name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
        raise TypeError(f"can't assign a {name} to a {type_name(tensor)}")
    if isinstance(value, (int, xp.integer)) and not -2 ** 63 <= int(value) < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    dtype, module = tensor.dtype, get_array_module(tensor._data)
    if dtype.name in ("float16", "bfloat16") and isinstance(value, float):
        with quiet():
            return module.asarray(xp.array(value, dtype=xp.float32).astype(dtype.numpy))
    return module.asarray(fill_scalar(value, dtype), dtype=dtype.numpy)
