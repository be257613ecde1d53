"""ember's dtypes and PyTorch's type-promotion rules, written down in this one place.

NOTE [Why not NumPy's promotion]
NumPy promotes `float32 array + 0-d float64 array` and `int / int` to float64 and
`int64 + float16` to float64; PyTorch keeps float32, gives the default float dtype and float16.
Every op that combines operands asks `result_type` here and casts before calling NumPy.
"""

import builtins
import importlib
import math

from ember._backend import xp

# NOTE [ml_dtypes loads on first use]
# bfloat16 and the float8 types are ml_dtypes' NumPy types, and importing ml_dtypes takes 1.7 s
# (0.7 with NumPy 2.4): eight times ember's whole import budget, paid by every program although
# most never make a 16-bit-brain or 8-bit float. So those dtypes are made with the *name* of
# their ml_dtypes type and `dtype.numpy` resolves on first access (`dtype.__getattr__`), which
# imports ml_dtypes and registers them in the NumPy-keyed tables below. Code that only asks
# whether an array *is* one of them compares `array.dtype.name` and loads nothing: no array can
# hold an ml_dtypes type before ml_dtypes is imported.
_LAZY = {}  # ember dtype name -> ml_dtypes attribute, until ml_dtypes is loaded


def ml_dtypes():
    """The ml_dtypes module, imported (and ember's dtypes on it registered) on first call."""
    module = importlib.import_module("ml_dtypes")
    if _LAZY:
        for name, attribute in list(_LAZY.items()):
            d = _BY_NAME[name]
            d.numpy = xp.dtype(getattr(module, attribute))
            _BY_NUMPY[d.numpy] = d
            if d in FLOAT8_DTYPES:
                _FLOAT8_NUMPY[d.numpy] = d.name
            del _LAZY[name]
    return module


class dtype:
    """A tensor element type; prints as PyTorch prints it (`torch.float32`)."""

    __slots__ = ("name", "numpy", "itemsize", "is_floating_point", "is_signed", "is_complex")

    def __init__(self, name, numpy_type, is_floating_point, is_signed, itemsize=None):
        self.name = name
        if isinstance(numpy_type, str) and numpy_type.startswith("ml_dtypes."):
            _LAZY[name] = numpy_type.removeprefix("ml_dtypes.")  # NOTE [ml_dtypes loads ...]
            self.itemsize = itemsize
        else:
            self.numpy = xp.dtype(numpy_type)
            self.itemsize = self.numpy.itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.is_complex = False

    def __getattr__(self, attribute):
        # Only reached for an unset slot: `numpy` of a dtype whose ml_dtypes type isn't loaded.
        if attribute == "numpy" and self.name in _LAZY:
            ml_dtypes()
            return self.numpy
        raise AttributeError(f"'torch.dtype' object has no attribute '{attribute}'")

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
bfloat16 = dtype("bfloat16", "ml_dtypes.bfloat16", True, True, itemsize=2)
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

# NOTE [float8]
# PyTorch's 8-bit floats, stored as ml_dtypes' types of the same names: e4m3fn (no inf, NaN is
# S.1111.111), e5m2 (IEEE-like, with inf), the AMD "fnuz" variants (no inf, no -0, one NaN
# 0x80) and e8m0fnu (an unsigned power of two, the scales of MX formats). PyTorch's CPU kernels
# store, copy, index, view and convert them and little else; promoting one with any other
# dtype is an error. Conversions round as PyTorch's do, which is not always ml_dtypes' way:
# NOTE [float8 casts] at `cast_array`.
float8_e4m3fn = dtype("float8_e4m3fn", "ml_dtypes.float8_e4m3fn", True, True, itemsize=1)
float8_e5m2 = dtype("float8_e5m2", "ml_dtypes.float8_e5m2", True, True, itemsize=1)
float8_e4m3fnuz = dtype("float8_e4m3fnuz", "ml_dtypes.float8_e4m3fnuz", True, True, itemsize=1)
float8_e5m2fnuz = dtype("float8_e5m2fnuz", "ml_dtypes.float8_e5m2fnuz", True, True, itemsize=1)
float8_e8m0fnu = dtype("float8_e8m0fnu", "ml_dtypes.float8_e8m0fnu", True, False, itemsize=1)
FLOAT8_DTYPES = (float8_e4m3fn, float8_e5m2, float8_e4m3fnuz, float8_e5m2fnuz, float8_e8m0fnu)
# Two packed 4-bit floats a byte: a name only (PyTorch's CPU can merely view and copy its
# bytes). Its storage is an opaque byte, so it is in none of the tables below.
float4_e2m1fn_x2 = dtype("float4_e2m1fn_x2", xp.dtype("V1"), True, True)
# The element types of quantized tensors (ember/_quantized.py), each named with the integer type
# its values are stored as; no dense tensor holds one, so they are in none of the tables below.
qint8 = dtype("qint8", xp.int8, False, True)
quint8 = dtype("quint8", xp.uint8, False, False)
qint32 = dtype("qint32", xp.int32, False, True)
quint4x2 = dtype("quint4x2", xp.uint8, False, False)
quint2x4 = dtype("quint2x4", xp.uint8, False, False)
QUANTIZED_DTYPES = (qint8, quint8, qint32, quint4x2, quint2x4)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128, uint16, uint32, uint64) + FLOAT8_DTYPES
_LIMITED = ("uint16", "uint32", "uint64")
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES if d.name not in _LAZY}
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NAME[float4_e2m1fn_x2.name] = float4_e2m1fn_x2  # unpickles; no array holds one
_BY_NAME.update((d.name, d) for d in QUANTIZED_DTYPES)
_default = {"float": float32}


def _dtype_by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a NumPy dtype; TypeError for types ember does not support."""
    try:
        return _BY_NUMPY[xp.dtype(np_dtype)]
    except KeyError:
        if xp.dtype(np_dtype).type.__module__.startswith("ml_dtypes") and _LAZY:
            ml_dtypes()  # an ml_dtypes array: register ember's types on it, then look again
            return from_numpy_dtype(np_dtype)
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{xp.dtype(np_dtype).type.__name__}. The "
            "only supported types are: float64, float32, float16, complex64, complex128, int64, "
            "int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
        ) from None


# NOTE [float8 casts]
# PyTorch converts to a float8 type through float32 (a float64 is rounded to float32 first) and
# back to float32 exactly; its CPU copy kernel then differs from ml_dtypes' casts in four places:
# - float8_e4m3fn saturates: a finite value past 448, and ±inf, become ±448 (ml_dtypes: NaN);
# - a NaN becomes float8_e5m2's S.11111.11 (ml_dtypes: S.11111.10);
# - float8_e8m0fnu keeps only the exponent of |x|, rounded to nearest-even on the mantissa
#   (0 and negatives are not NaN: 0 -> 2^-127, -3 -> 4; NaN and ±inf -> NaN);
# - NaNs widen to float32 with PyTorch's bit patterns (e4m3fn: S|0x7ff00000, e5m2: its mantissa
#   bits kept and quieted, fnuz / e8m0fnu: 0x7f800001).
# Only these are fixed up here; each step keeps the array's memory order, as astype('K') does.
_FLOAT8_NUMPY = {d.numpy: d.name for d in FLOAT8_DTYPES if d.name not in _LAZY}


def is_float8_cast(from_np_dtype, to_np_dtype) -> builtins.bool:
    """Whether converting between these NumPy dtypes needs `cast_array` (a float8 type on
    one side only, or a double narrowed to a 16-bit float)."""
    return from_np_dtype != to_np_dtype and (from_np_dtype in _FLOAT8_NUMPY
                                             or to_np_dtype in _FLOAT8_NUMPY
                                             or _is_double_to_half(from_np_dtype, to_np_dtype))


def _is_double_to_half(from_np_dtype, to_np_dtype) -> builtins.bool:
    """A float64 -> float16/bfloat16 cast: PyTorch's goes through float32 (`c10::Half(float)`),
    two roundings where NumPy's (and ml_dtypes') cast rounds once."""
    return from_np_dtype == xp.float64 and xp.dtype(to_np_dtype).name in ("float16", "bfloat16")


def cast_array(array, np_dtype):
    """array converted to np_dtype as PyTorch converts (NOTE [float8 casts]); NumPy's astype
    for casts that involve no float8 type."""
    np_dtype = xp.dtype(np_dtype)
    if not is_float8_cast(array.dtype, np_dtype):
        return array.astype(np_dtype, order="K")
    if _is_double_to_half(array.dtype, np_dtype):
        with xp.errstate(over="ignore"):
            return array.astype(xp.float32, order="K").astype(np_dtype, order="K")
    source = _FLOAT8_NUMPY.get(array.dtype)
    target = _FLOAT8_NUMPY.get(np_dtype)
    if source is not None:
        array = _float8_to_float32(array, source)
    if target is None:
        with xp.errstate(invalid="ignore", over="ignore"):
            return _narrow_nans(array, array.astype(np_dtype, order="K"), source)
    with xp.errstate(over="ignore"):  # a double past float32's range is ±inf, then saturates
        narrowed = array.astype(xp.float32, order="K")
    return _float32_to_float8(narrowed, np_dtype, target)


def _float8_to_float32(array, name):
    """A float8 array widened exactly to float32, its NaNs carrying PyTorch's bit patterns."""
    wide = array.astype(xp.float32, order="K")
    nan = xp.isnan(wide)
    if not nan.any():
        return wide
    byte = array.view(xp.uint8).astype(xp.uint32, order="K")
    sign = (byte & 0x80) << 24
    if name == "float8_e4m3fn":
        bits = sign | 0x7FF00000
    elif name == "float8_e5m2":
        bits = sign | 0x7FC00000 | ((byte & 0x3) << 21)
    else:
        bits = xp.full_like(byte, 0x7F800001)
    xp.copyto(wide.view(xp.uint32), bits, where=nan)
    return wide


def _narrow_nans(wide, out, source):
    """out (wide, a widened float8 array, cast on) with the NaNs PyTorch's kernels give: float16
    and bfloat16 NaNs as its hardware / c10 casts make them, 0 in integers from fnuz / e8m0fnu."""
    nan = xp.isnan(wide)
    if not nan.any():
        return out
    bits = wide.view(xp.uint32)
    if out.dtype == xp.float16:  # quieted, the payload's top bits kept (F16C's vcvtps2ph)
        half = ((bits >> 16) & 0x8000) | 0x7E00 | ((bits >> 13) & 0x3FF)
        xp.copyto(out.view(xp.uint16), half.astype(xp.uint16), where=nan)
    elif out.dtype.name == "bfloat16":  # c10's round-to-nearest-even: one canonical NaN
        xp.copyto(out.view(xp.uint16), xp.uint16(0x7FC0), where=nan)
    elif out.dtype.kind in "iu" and source in ("float8_e4m3fnuz", "float8_e5m2fnuz",
                                               "float8_e8m0fnu"):
        xp.copyto(out, 0, where=nan)
    return out


def _float32_to_float8(x, np_dtype, name):
    """A float32 array rounded to a float8 type as PyTorch's CPU kernels round."""
    if name == "float8_e8m0fnu":
        return _float32_to_e8m0(x).view(np_dtype)
    with xp.errstate(invalid="ignore", over="ignore"):
        y = x.astype(np_dtype, order="K")
        if name == "float8_e4m3fn":
            big = xp.abs(x) > 448.0  # NaN compares False and stays NaN
            xp.copyto(y, xp.copysign(xp.float32(448.0), x).astype(np_dtype), where=big)
    if name == "float8_e5m2":
        sign = (x.view(xp.uint32) >> 24).astype(xp.uint8) & 0x80
        xp.copyto(y.view(xp.uint8), sign | 0x7F, where=xp.isnan(x))
    return y


def _float32_to_e8m0(x):
    """The biased exponent of |x| rounded to nearest-even on the mantissa, as uint8 (255: NaN)."""
    bits = x.view(xp.uint32)
    exponent = (bits >> 23) & 0xFF
    guard = (bits >> 22) & 1
    rest = (bits & 0x3FFFFF) != 0  # the round and sticky bits
    lsb = exponent > 0  # the implicit leading 1 of a normal float32
    up = (guard == 1) & (rest | lsb) & (exponent != 255)
    return (exponent + up).astype(xp.uint8)


def get_default_dtype() -> dtype:
    """The dtype of Python floats turned into tensors (matches `torch.get_default_dtype`)."""
    return _default["float"]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (matches `torch.set_default_dtype`)."""
    if not isinstance(d, dtype):
        raise TypeError("invalid dtype object: only floating-point types are supported as the "
                        "default type")
    if not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
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
    promoted = _PROMOTED.get((a, b))  # every mixed-dtype op asks: remember the answers
    if promoted is None:
        promoted = _PROMOTED[(a, b)] = _promote_pair(a, b)
    return promoted


_PROMOTED = {}


def _promote_pair(a: dtype, b: dtype) -> dtype:
    """promote_types' table, worked out (or PyTorch's error raised) for one pair of dtypes."""
    if a in _LOW_BIT or b in _LOW_BIT:
        raise RuntimeError("Promotion for Float8 Types is not supported, attempted to promote "
                           f"{_SHORT[a.name]} and {_SHORT[b.name]}")
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
_SHORT.update({"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble",
               "float4_e2m1fn_x2": "Float4_e2m1fn_x2"})
_SHORT.update({d.name: "F" + d.name[1:] for d in FLOAT8_DTYPES})  # Float8_e4m3fn, ...
_LOW_BIT = FLOAT8_DTYPES + (float4_e2m1fn_x2,)


def _combine(higher, lower):
    """Fold the dtype of a lower-priority operand tier into a higher one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is not None and lower.is_complex and not higher.is_complex:
        # float32 tensor + complex128 scalar -> complex64; int tensor + complex -> the complex;
        # bfloat16 has no complex form: complex64, as PyTorch's promote_types gives
        if higher.is_floating_point:
            return complex64 if higher.name == "bfloat16" else higher.to_complex()
        return lower
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


# (eps, max, min, smallest normal) of the float8 types as PyTorch's numeric_limits give them.
# PyTorch's e5m2fnuz epsilon is 2^-3, not the 2^-2 of its 2 mantissa bits: matched as it is.
_FLOAT8_LIMITS = {
    "float8_e4m3fn": (2.0 ** -3, 448.0, -448.0, 2.0 ** -6),
    "float8_e5m2": (2.0 ** -2, 57344.0, -57344.0, 2.0 ** -14),
    "float8_e4m3fnuz": (2.0 ** -3, 240.0, -240.0, 2.0 ** -7),
    "float8_e5m2fnuz": (2.0 ** -3, 57344.0, -57344.0, 2.0 ** -15),
    "float8_e8m0fnu": (1.0, 2.0 ** 127, 2.0 ** -127, 2.0 ** -127),  # min: the least, > 0
}


class finfo:
    """Machine limits of a floating dtype (matches `torch.finfo`): bits, eps, max, min, tiny,
    smallest_normal, resolution and dtype (its name)."""

    def __init__(self, type=None):
        d = _real(type)
        if not d.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        if d is float4_e2m1fn_x2:
            raise TypeError("bad argument type for built-in operation")
        self.bits = builtins.int(d.itemsize * 8)
        self.dtype = d.name
        if d.name in _FLOAT8_LIMITS:
            self.eps, self.max, self.min, self.tiny = _FLOAT8_LIMITS[d.name]
            self.smallest_normal = self.tiny
            self.resolution = 1.0  # 10^-digits10, and no float8 keeps one decimal digit
            return
        # ml_dtypes' bfloat16 has its own finfo (NumPy's refuses it); NumPy's has the rest
        info = (ml_dtypes().finfo if d is bfloat16 else xp.finfo)(d.numpy)
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)

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


# torch's C++ names of the float8 types, as its overflow error prints them
_FLOAT8_C_NAMES = {"float8_e4m3fn": "Float8_e4m3fn", "float8_e5m2": "Float8_e5m2",
                   "float8_e4m3fnuz": "Float8_e4m3fnuz", "float8_e5m2fnuz": "Float8_e5m2fnuz",
                   "float8_e8m0fnu": "Float8_e8m0fnu"}


_C_SCALAR_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
                   "bfloat16": "c10::BFloat16", "int64": "int64_t", "int32": "int",
                   "int16": "int16_t", "int8": "int8_t", "uint8": "uint8_t"}


def check_complex_fits(value, dtype):
    """value as a number of dtype takes it: torch refuses a complex number with an imaginary
    part for a real (or integer) dtype (c10's `overflows`; bool takes any number), and takes
    one without as its real part. Never a silently real answer."""
    if not isinstance(value, (builtins.complex, xp.complexfloating)) or dtype.is_complex or \
            dtype is bool:
        return value
    if value.imag != 0:
        raise RuntimeError(f"value cannot be converted to type "
                           f"{_C_SCALAR_NAMES.get(dtype.name, dtype.name)} without overflow")
    return value.real


def float8_fill(value, dtype, numel: int):
    """A number as torch fills a float8 tensor with it: converted as torch converts (NOTE
    [float8 casts]); in a fill of two or more elements, refused when the type can't hold it
    (c10's `overflows`: NaN fits, ±inf only in e5m2, else finfo.min <= value <= finfo.max).
    torch's single-element fill converts without the check (so it saturates)."""
    number = builtins.float(value.real if isinstance(value, builtins.complex) else value)
    if numel >= 2 and not math.isnan(number):
        info = finfo(dtype)
        overflows = (dtype is not float8_e5m2 if math.isinf(number)
                     else not info.min <= number <= info.max)
        if overflows:
            raise RuntimeError(f"value cannot be converted to type c10::"
                               f"{_FLOAT8_C_NAMES[dtype.name]} without overflow")
    return cast_array(xp.full((1,), number, dtype=xp.float64), dtype.numpy).reshape(())
