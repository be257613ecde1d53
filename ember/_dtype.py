"""ember's dtypes and PyTorch's type-promotion rules, written down in this one place.

NOTE [Why not NumPy's promotion]
NumPy promotes `float32 array + 0-d float64 array` and `int / int` to float64 and
`int64 + float16` to float64; PyTorch keeps float32, gives the default float dtype and float16.
Every op that combines operands asks `result_type` here and casts before calling NumPy.
"""

import builtins

from ember._backend import xp


class dtype:
    """A tensor element type; prints as PyTorch prints it (`torch.float32`)."""

    __slots__ = ("name", "numpy", "itemsize", "is_floating_point", "is_signed", "is_complex")

    def __init__(self, name, numpy_type, is_floating_point, is_signed):
        self.name = name
        self.numpy = xp.dtype(numpy_type)
        self.itemsize = self.numpy.itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.is_complex = False

    def __repr__(self):
        # ember is imported as `torch`; printed outputs must read as PyTorch's.
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise TypeError("ember has no complex dtypes")


float16 = half = dtype("float16", xp.float16, True, True)
float32 = float = dtype("float32", xp.float32, True, True)
float64 = double = dtype("float64", xp.float64, True, True)
uint8 = dtype("uint8", xp.uint8, False, False)
int8 = dtype("int8", xp.int8, False, True)
int16 = short = dtype("int16", xp.int16, False, True)
int32 = int = dtype("int32", xp.int32, False, True)
int64 = long = dtype("int64", xp.int64, False, True)
bool = dtype("bool", xp.bool_, False, False)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_default = {"float": float32}


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a NumPy dtype; TypeError for types ember does not support."""
    try:
        return _BY_NUMPY[xp.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{xp.dtype(np_dtype)}. The only supported "
            "types are: float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def get_default_dtype() -> dtype:
    """The dtype of Python floats turned into tensors (matches `torch.get_default_dtype`)."""
    return _default["float"]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (matches `torch.set_default_dtype`)."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default["float"] = d


def _category(d: dtype) -> int:
    """0 for bool, 1 for integers, 2 for floats."""
    if d is bool:
        return 0
    return 2 if d.is_floating_point else 1


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both fit in, by PyTorch's table (matches `torch.promote_types`)."""
    if a is b:
        return a
    if a.is_floating_point or b.is_floating_point:
        if a.is_floating_point and b.is_floating_point:
            return a if a.itemsize >= b.itemsize else b
        return a if a.is_floating_point else b  # int64 + float16 -> float16 in PyTorch
    return _BY_NUMPY[xp.promote_types(a.numpy, b.numpy)]


def _combine(higher, lower):
    """Fold the dtype of a lower-priority operand tier into a higher one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes when it meets a tensor: bool, int64 or the default float."""
    if isinstance(value, (xp.bool_, builtins.bool)):
        return bool
    if isinstance(value, (builtins.int, xp.integer)):
        return int64
    return get_default_dtype()


def result_type(*operands) -> dtype:
    """The dtype of an op on these operands (tensors and Python scalars), as PyTorch computes it.

    Operands fall in three tiers: tensors with dimensions, 0-d tensors, Python scalars. A lower
    tier only matters when it is of a higher category (bool < integer < float).
    """
    dim_result = zero_dim_result = scalar_result = None
    for x in operands:
        if isinstance(getattr(x, "dtype", None), dtype):  # a Tensor (this module sits below it)
            if x._data.ndim:
                dim_result = x.dtype if dim_result is None else promote_types(dim_result, x.dtype)
            else:
                zero_dim_result = (
                    x.dtype if zero_dim_result is None else promote_types(zero_dim_result, x.dtype)
                )
        else:
            d = scalar_dtype(x)
            scalar_result = d if scalar_result is None else promote_types(scalar_result, d)
    return _combine(dim_result, _combine(zero_dim_result, scalar_result))


def to_dtype(value) -> dtype:
    """Accept an ember dtype, a NumPy dtype or a Python type (float, int, bool) as a dtype."""
    if isinstance(value, dtype):
        return value
    python_types = {builtins.float: float64, builtins.int: int64, builtins.bool: bool}
    if value in python_types:
        return python_types[value]
    return from_numpy_dtype(value)
