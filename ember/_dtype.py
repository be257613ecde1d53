"""ember's dtypes and PyTorch's type-promotion rules, written down in this one place.

NOTE [Why not NumPy's promotion]
NumPy promotes `float32 array + 0-d float64 array` and `int / int` to float64 and
`int64 + float16` to float64; PyTorch keeps float32, gives the default float dtype and float16.
Every op that combines operands asks `result_type` here and casts before calling NumPy.
"""

import builtins

import ml_dtypes

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
        """The real dtype of a complex dtype, else itself (matches `dtype.to_real`)."""
        return _REAL_OF.get(self.name, self)

    def to_complex(self):
        """The complex dtype of a floating dtype (matches `dtype.to_complex`)."""
        if self.is_complex:
            return self
        if self.name not in _COMPLEX_OF:
            raise RuntimeError(f"to_complex is only defined for floating types, got {self}")
        return _BY_NAME[_COMPLEX_OF[self.name]]


float16 = half = dtype("float16", xp.float16, True, True)
# NOTE [bfloat16]
# NumPy has no bfloat16; ml_dtypes gives it as a NumPy dtype whose ufuncs compute in float32
# and round the result to bfloat16, which is what PyTorch's CPU kernels do.
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, True, True)
float32 = float = dtype("float32", xp.float32, True, True)
float64 = double = dtype("float64", xp.float64, True, True)
uint8 = dtype("uint8", xp.uint8, False, False)
int8 = dtype("int8", xp.int8, False, True)
int16 = short = dtype("int16", xp.int16, False, True)
int32 = int = dtype("int32", xp.int32, False, True)
int64 = long = dtype("int64", xp.int64, False, True)
# PyTorch's "limited support" unsigned types: storage, casts, comparisons; no promotion with
# other integer types.
uint16 = dtype("uint16", xp.uint16, False, False)
uint32 = dtype("uint32", xp.uint32, False, False)
uint64 = dtype("uint64", xp.uint64, False, False)
bool = dtype("bool", xp.bool_, False, False)
# Complex dtypes: not floating point (as in PyTorch), `is_complex` set after construction.
complex64 = cfloat = dtype("complex64", xp.complex64, False, True)
complex128 = cdouble = dtype("complex128", xp.complex128, False, True)
complex64.is_complex = complex128.is_complex = True
_REAL_OF = {"complex64": float32, "complex128": float64}
# float16 has no complex partner in ember (PyTorch's complex32 is experimental): complex64.
_COMPLEX_OF = {"float16": "complex64", "float32": "complex64", "float64": "complex128"}

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128, uint16, uint32, uint64)
_LIMITED = ("uint16", "uint32", "uint64")
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
            "types are: float64, float32, float16, complex64, complex128, int64, int32, int16, "
            "int8, uint64, uint32, uint16, uint8, and bool."
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
    """0 for bool, 1 for integers, 2 for floats, 3 for complex."""
    if d is bool:
        return 0
    if d.is_complex:
        return 3
    return 2 if d.is_floating_point else 1


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both fit in, by PyTorch's table (matches `torch.promote_types`)."""
    if a is b:
        return a
    if a.is_complex or b.is_complex:  # complex64 + float64 -> complex128
        return promote_types(a.to_real(), b.to_real()).to_complex()
    if a.is_floating_point or b.is_floating_point:
        if a.is_floating_point and b.is_floating_point:
            if a.itemsize == b.itemsize == 2:
                return float32  # float16 + bfloat16: neither holds the other
            return a if a.itemsize >= b.itemsize else b
        return a if a.is_floating_point else b  # int64 + float16 -> float16 in PyTorch
    if a.name in _LIMITED or b.name in _LIMITED:
        raise RuntimeError(
            "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
            f"{_SHORT.get(a.name, a.name)} and {_SHORT.get(b.name, b.name)}")
    return _BY_NUMPY[xp.promote_types(a.numpy, b.numpy)]


_SHORT = {"uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "bool": "Bool",
          "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long"}


def _combine(higher, lower):
    """Fold the dtype of a lower-priority operand tier into a higher one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is not None and lower.is_complex and not higher.is_complex:
        # float32 tensor + complex128 scalar -> complex64; int tensor + complex -> the complex
        return higher.to_complex() if higher.is_floating_point else lower
    if lower is None or higher.is_floating_point or higher.is_complex:
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
    if isinstance(value, (builtins.complex, xp.complexfloating)):
        return get_default_dtype().to_complex()
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
    if isinstance(value, str):  # torch refuses names: dtype="float32" is a TypeError
        raise TypeError(f"argument 'dtype' must be torch.dtype, not str ('{value}')")
    python_types = {builtins.float: float64, builtins.int: int64, builtins.bool: bool,
                    builtins.complex: complex128}
    if value in python_types:
        return python_types[value]
    return from_numpy_dtype(value)


def _real(d) -> dtype:
    """The dtype a finfo / iinfo describes: dtype objects, or the default float for None."""
    d = get_default_dtype() if d is None else to_dtype(d)
    return d.to_real()


class finfo:
    """Machine limits of a floating dtype (matches `torch.finfo`): bits, eps, max, min, tiny,
    smallest_normal, resolution and dtype (its name)."""

    def __init__(self, type=None):
        d = _real(type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        info = xp.finfo(d.numpy)
        self.bits = builtins.int(d.itemsize * 8)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (matches `torch.iinfo`): bits, max, min and dtype (its name)."""

    def __init__(self, type):
        d = to_dtype(type)
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.is_floating_point or d.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = xp.iinfo(d.numpy)
        self.bits = builtins.int(info.bits)
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)
        self.dtype = d.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
