"""linspace / logspace values computed as PyTorch's CPU kernels compute them, bit for bit, and
c10's checked conversion of a Python number to a dtype (`Scalar::to<T>`, `checked_convert`).

NOTE [linspace arithmetic]
torch's `linspace_kernel` (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp) converts start and
end to the result type T (checked: `Scalar::to<T>`), takes `step = (end - start) / (steps - 1)`
in T (in double for integer T), then fills element i with `start + step * i` below
`halfway = steps / 2` and with `end - step * (steps - 1 - i)` from there on. The kernel is
built per CPU capability with `-mfma`, and the compiler fuses the multiply-add: on an AVX2 or
AVX512 machine each float32/float64/complex/integer element is ONE rounding of the exact
`start + step * i` (an FMA). Half and BFloat16 round every operation (c10's operators compute
in float and convert back), so nothing is fused there. NumPy has no FMA, so `fma32_exact` and
`fma64` (ember/_rng/mathfun.py) emulate it exactly (rounding to odd, Boldo & Melquiond 2008).

NOTE [arange arithmetic]
torch's `arange_kernel` (same file) takes start and step in the accumulate type (double for
float32/float64, float for Half/BFloat16) and fills each intra-op thread's chunk
(`at::parallel_for`, grain 32768) with 32-byte vectors (its AVX2 kernel: arange has no AVX512
one), two at a time: the vector starting at index b holds T(start + step·b) + k·step for
k = 0, 1, ..., each rounded to T; the chunk's last elements, short of two whole vectors, are
T(start + step·i). The multiply-adds are fused (-mfma): one rounding each. So with a
fractional step, or beyond the dtype's exact integers, a value depends on its place in its
vector and on the number of threads.

NOTE [logspace arithmetic]
`logspace_out` (RangeFactories.cpp, built without FMA) uses the same halves but in double:
`pow(base, start + step * i)` with `step = double(end - start) / (steps - 1)` (end - start in T),
then converts the double to T. pow is the C library's, which NumPy's `power` is not (its SIMD
version differs by an ulp in ~5% of cases), so the values go through `math.pow`.
"""

import math
import numbers

from ember import _dtype
from ember._backend import quiet, xp
from ember._rng.mathfun import fma32_exact, fma64
from ember._tensor import Tensor
from ember._threads import get_num_threads

# c10's names for a type in "value cannot be converted to type ... without overflow"
C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "int64": "int64_t", "int32": "int", "int16": "int16_t",
           "int8": "int8_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
           "uint64": "uint64_t", "complex64": "c10::complex<float>",
           "complex128": "c10::complex<double>", "complex32": "c10::complex<c10::Half>"}

_HALVES = ("float16", "bfloat16")


def short_name(dtype) -> str:
    """c10's ScalarType name of a dtype: Float, Long, ComplexFloat, ..."""
    return _dtype._SHORT.get(dtype.name, dtype.name)


def _component(dtype):
    """The real dtype of a complex dtype's parts (dtype itself when real)."""
    return {"complex64": _dtype.float32, "complex128": _dtype.float64,
            "complex32": _dtype.float16}.get(dtype.name, dtype)


def overflows(value, dtype) -> bool:
    """c10's `overflows<T>(value)` for a Python number (non-strict: negative ints wrap into
    unsigned types, down to -max)."""
    if dtype is _dtype.bool or isinstance(value, bool):
        return False
    if isinstance(value, complex):
        if not dtype.is_complex and value.imag != 0:
            return True
        return overflows(value.real, dtype) or overflows(value.imag, dtype)
    dtype = _component(dtype)
    if dtype.is_floating_point:
        if isinstance(value, float) and not math.isfinite(value):
            return False  # inf and NaN fit any type that has them
        top = float(_dtype.finfo(dtype).max)
        return not -top <= value <= top
    if isinstance(value, float) and math.isnan(value):
        return True
    info = _dtype.iinfo(dtype)
    if isinstance(value, int) and value < 0 and info.min == 0:
        return -value > info.max  # NOTE: uint8 takes -255..-1 (two's complement wrap)
    return not info.min <= value <= info.max


def wrap_int(value: int, dtype) -> int:
    """An in-range-or-negative int as the integer dtype stores it (two's complement)."""
    bits = 8 * dtype.itemsize
    value &= (1 << bits) - 1
    signed = _dtype.iinfo(dtype).min < 0
    return value - (1 << bits) if signed and value >> (bits - 1) else value


def checked_scalar(value, dtype, names=C_NAMES):
    """value converted to dtype's kind of Python number as c10's `checked_convert` does:
    RuntimeError on overflow; ints truncated and wrapped; floats left for the array cast."""
    if overflows(value, dtype):
        raise RuntimeError(f"value cannot be converted to type {names.get(dtype.name, dtype.name)}"
                           " without overflow")
    if dtype is _dtype.bool:
        return bool(value)
    if dtype.is_complex:
        return complex(value)
    if isinstance(value, complex):
        value = value.real
    if dtype.is_floating_point:
        return float(value)
    return wrap_int(int(value), dtype)


def scalar_array(value, dtype, shape=()):
    """A checked Python number as an array of dtype; half types round via float32 as c10's
    `Half(float)` constructors do."""
    value = checked_scalar(value, dtype)
    source = xp.float32 if dtype.name in _HALVES else None
    with quiet():
        array = xp.full(shape, value, dtype=source) if source else xp.full(shape, value)
        return array.astype(dtype.numpy)


# ---- arguments ---------------------------------------------------------------------------------
def space_args(name, start, end, steps):
    """start, end as Python numbers and steps as an int, with PyTorch's argument errors."""
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({type(start).__name__}, {type(end).__name__}, "
                        f"{type(steps).__name__}), but expected (Number start, Number end, "
                        "int steps)")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    bounds = []
    for value, which in ((start, "start"), (end, "end")):
        if isinstance(value, Tensor):
            if value.dim() != 0:
                raise RuntimeError(
                    f"{name} only supports 0-dimensional start and end tensors, but got start "
                    f"with {_ndim(start)} dimension(s) and end with {_ndim(end)} dimension(s).")
            value = value.item()
        if not isinstance(value, numbers.Number):
            raise TypeError(f"{name}(): argument '{which}' must be Number, not "
                            f"{type(value).__name__}")
        bounds.append(value)
    return bounds[0], bounds[1], int(steps)


def _ndim(value):
    return value.dim() if isinstance(value, Tensor) else 0


def space_dtype(name, start, end, dtype):
    """The result dtype: given, or the default (its complex kind when start/end is complex);
    a complex start/end refuses a real dtype."""
    inferred = _dtype.get_default_dtype()
    if any(isinstance(v, complex) for v in (start, end)):
        inferred = _dtype.complex128 if inferred is _dtype.float64 else _dtype.complex64
    if dtype is None:
        return inferred
    dtype = _dtype.to_dtype(dtype)
    if inferred.is_complex and not dtype.is_complex:
        raise RuntimeError(f"torch.{name}(): inferred dtype {C_NAMES[inferred.name]} can't be "
                           f"safely cast to passed dtype {short_name(dtype)}")
    return dtype


# ---- linspace ----------------------------------------------------------------------------------
def _halves(steps):
    """(front, k): which elements count up from start, and each one's multiple of step."""
    i = xp.arange(steps, dtype=xp.int64)
    front = i < steps // 2
    return front, xp.where(front, i, steps - 1 - i)


def _linspace_fused(start, end, steps, real):
    """float32 / float64 linspace of one real part (NOTE [linspace arithmetic])."""
    f32 = real is _dtype.float32
    rnd = xp.float32 if f32 else xp.float64
    s, e = rnd(start), rnd(end)
    with quiet():
        step = float(rnd(e - s) / rnd(steps - 1))
    front, k = _halves(steps)
    mult = k.astype(rnd).astype(xp.float64)
    a = xp.where(front, step, -step)
    c = xp.where(front, float(s), float(e))
    return fma32_exact(a, mult, c) if f32 else fma64(a, mult, c)


def _linspace_half(start, end, steps, dtype):
    """float16 / bfloat16 linspace: every c10 Half operation computes in float32 and rounds."""
    half, f32 = dtype.numpy, xp.float32

    def rnd(x):
        return xp.asarray(x, dtype=f32).astype(half).astype(f32)

    with quiet():
        s, e = rnd(xp.float32(start)), rnd(xp.float32(end))
        step = rnd(rnd(e - s) / rnd(steps - 1))
        front, k = _halves(steps)
        prod = rnd(step * rnd(k.astype(f32)))
        return xp.where(front, s + prod, e - prod).astype(half)


def _linspace_int(start, end, steps, dtype):
    """Integer linspace: step in double, fused `start + step * i`, truncated toward zero."""
    step = (float(end) - float(start)) / float(steps - 1)
    front, k = _halves(steps)
    values = fma64(xp.where(front, step, -step), k.astype(xp.float64),
                    xp.where(front, float(start), float(end)))
    return xp.trunc(values).astype(xp.int64).astype(dtype.numpy)


def linspace_array(start, end, steps, dtype):
    """torch.linspace's values (start, end Python numbers, steps >= 0) as an array of dtype."""
    if dtype is _dtype.bool:
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    if steps == 0:
        return xp.empty(0, dtype=dtype.numpy)  # NOTE: no conversion, so no overflow check
    if steps == 1:
        return scalar_array(start, dtype, (1,))  # torch: fill_(start)
    start, end = checked_scalar(start, dtype), checked_scalar(end, dtype)
    if dtype.name in _HALVES:
        return _linspace_half(start, end, steps, dtype)
    if not dtype.is_floating_point and not dtype.is_complex:
        return _linspace_int(start, end, steps, dtype)
    real = _component(dtype)
    if not dtype.is_complex:
        return _linspace_fused(start, end, steps, real).astype(dtype.numpy)
    out = xp.empty(steps, dtype=dtype.numpy)
    out.real = _linspace_fused(start.real, end.real, steps, real)
    out.imag = _linspace_fused(start.imag, end.imag, steps, real)
    return out


# ---- logspace ----------------------------------------------------------------------------------
_ARANGE_GRAIN = 32768  # at::internal::GRAIN_SIZE
_VECTOR_BYTES = 32


def arange_values(start, step, count, dtype):
    """The `count` values of arange(start, step) in dtype, as torch's kernel computes them
    (NOTE [arange arithmetic]; integers exactly)."""
    if not dtype.is_floating_point:
        exact = xp.float64 if isinstance(start + step, float) else xp.int64
        return (start + step * xp.arange(count, dtype=exact)).astype(dtype.numpy)
    if _exact_in(start, step, count, _DIGITS[dtype.name]):  # any order of operations agrees
        return (start + step * xp.arange(count, dtype=xp.float64)).astype(dtype.numpy)
    tasks = min(get_num_threads(), -(-count // _ARANGE_GRAIN)) if count > _ARANGE_GRAIN else 1
    chunk = -(-count // tasks)
    width = _VECTOR_BYTES // dtype.itemsize
    acc, fma = _ARANGE_FMA[dtype.name]
    start, step = acc(start), acc(step)
    values = xp.empty(count, dtype=dtype.numpy)
    with quiet():  # (float16 overflows to inf, as torch's does)
        for begin in range(0, count, chunk):  # each thread's chunk
            stop = min(begin + chunk, count)
            vectors = (stop - begin) // (2 * width) * 2
            end = begin + vectors * width
            firsts = xp.arange(begin, end, width, dtype=acc)[:, None]
            heads = fma(step, firsts, start).astype(dtype.numpy).astype(acc)
            lanes = xp.arange(width, dtype=acc)[None, :]
            values[begin:end] = fma(lanes, step, heads).astype(dtype.numpy).reshape(-1)
            values[end:stop] = fma(step, xp.arange(end, stop, dtype=acc), start)
    return values


def _fma64_to_float32(a, b, c):
    """A float64 FMA whose result is rounded to float32: the unfused float64 a·b + c rounds
    to the same float32 but for a double rounding at a midpoint (~2^-29 of values, as
    NOTE [glibc's transcendental functions] in ember/ops/_streams.py accepts)."""
    return a * b + c


# dtype -> (torch's accumulate type, its fused multiply-add)
_ARANGE_FMA = {"float64": (xp.float64, fma64), "float32": (xp.float64, _fma64_to_float32),
               "float16": (xp.float32, fma32_exact), "bfloat16": (xp.float32, fma32_exact)}
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _exact_in(start, step, count, digits) -> bool:
    """Whether start + step·i, for every i < count and however computed, is exact in a float
    type of `digits` bits: start and step multiples of 2^-s with (|start| + |step|·count)·2^s
    at most 2^digits."""
    start, step = float(start), float(step)
    for shift in range(digits + 1):
        scale = 2.0 ** shift
        if (start * scale).is_integer() and (step * scale).is_integer():
            return (abs(start) + abs(step) * count) * scale <= 2.0 ** digits
    return False


def _pow(base, exponents):
    """base ** each exponent with the C library's pow (what torch calls)."""
    return xp.fromiter((math.pow(base, x) for x in exponents.tolist()), xp.float64,
                       count=exponents.size)


def _from_double(values, dtype):
    """Doubles as torch stores them in dtype: half types via float, integers truncated."""
    with quiet():
        if dtype.name in _HALVES:
            return values.astype(xp.float32).astype(dtype.numpy)
        if dtype.is_floating_point:
            return values.astype(dtype.numpy)
        return xp.trunc(values).astype(xp.int64).astype(dtype.numpy)


def _difference(start, end, dtype):
    """end - start computed in dtype (c10 Half/BFloat16 round it; integers are exact)."""
    if not dtype.is_floating_point:
        return float(end - start)
    narrow = xp.float32 if dtype.name in _HALVES else dtype.numpy.type
    with quiet():
        diff = narrow(narrow(end) - narrow(start))
        return float(xp.asarray(diff).astype(dtype.numpy).astype(xp.float64))


def _logspace_complex(start, end, steps, base, dtype):
    """Complex logspace: exponents as the kernel computes them; pow in complex128 (NOTE: torch
    uses complex<float> std::pow, so complex64 results may differ by an ulp)."""
    start, end = complex(start), complex(end)
    step = (end - start) / (steps - 1)
    front, k = _halves(steps)
    exps = xp.where(front, start + step * k, end - step * k)
    return (complex(base) ** exps).astype(dtype.numpy)


def logspace_array(start, end, steps, base, dtype):
    """torch.logspace's values (NOTE [logspace arithmetic]) as an array of dtype."""
    if dtype is _dtype.bool:
        raise NotImplementedError("\"logspace_cpu\" not implemented for 'Bool'")
    if steps == 0:
        return xp.empty(0, dtype=dtype.numpy)
    if steps == 1:  # torch: fill_(pow(base, start)), a checked conversion
        first = complex(base) ** complex(start) if dtype.is_complex else \
            math.pow(base, float(start.real if isinstance(start, complex) else start))
        return scalar_array(first, dtype, (1,))
    if dtype.is_complex:
        return _logspace_complex(start, end, steps, base, dtype)
    start, end = checked_scalar(start, dtype), checked_scalar(end, dtype)
    s = float(_from_double(xp.float64(start), dtype)) if dtype.is_floating_point else start
    e = float(_from_double(xp.float64(end), dtype)) if dtype.is_floating_point else end
    step = _difference(s, e, dtype) / float(steps - 1)
    front, k = _halves(steps)
    mult = k.astype(xp.float64)
    exps = xp.where(front, float(s) + step * mult, float(e) - step * mult)
    return _from_double(_pow(float(base), exps), dtype)


# ---- checked creation from Python numbers ----------------------------------------------------
def fill_scalar(value, dtype):
    """A fill value as torch's fill_ / full convert it (`Scalar::to<T>`, checked: uint8 takes
    -255..255, 300 or 1e300 as float overflow): a 0-d array of dtype. Arrays (float8 fills,
    made elsewhere) and non-numbers pass through."""
    if isinstance(value, xp.generic):
        value = value.item()
    top = _FLOAT_MAX.get(dtype)
    if type(value) in _PLAIN and (value == 0 or value == 1 or top is not None and
                                  not abs(value) > top):
        return value  # (zeros, ones, a float that fits: nothing to check or round)
    if not isinstance(value, (bool, int, float, complex)):
        return value
    return scalar_array(value, dtype)


_PLAIN = (int, float, bool)

_FLOAT_MAX = {_dtype.float32: float(_dtype.finfo(_dtype.float32).max), _dtype.float64: math.inf}


def _data_overflows(wide, dtype) -> bool:
    """Whether an int64 / float64 array holds a value torch.tensor refuses for integer dtype
    (c10 `overflows`: ints wrap into unsigned types down to -max; floats must be in range)."""
    info = _dtype.iinfo(dtype)
    if wide.dtype.kind == "f":
        return bool((xp.isnan(wide) | (wide < info.min) | (wide > info.max)).any())
    low = -info.max if info.min == 0 else info.min
    return bool(((wide < low) | (wide > info.max)).any())


def data_array(data, dtype):
    """Python numbers (nested lists) as torch.tensor stores them in a real dtype (torch's
    `store_scalar`): floats cast unchecked (1e300 is inf, silently; half types via float),
    integers checked, with PyTorch's messages; None for the dtypes NumPy's cast serves."""
    if dtype.is_complex:
        return None
    with quiet():
        wide = xp.array(data)
    if wide.dtype.kind == "O":  # (None, a dict, ...: torch's store_scalar refuses them)
        _check_numbers(wide, dtype)
    if dtype is _dtype.bool:
        return None
    if dtype is _dtype.uint64:
        return _uint64_array(data, wide)
    if wide.dtype.kind == "c":
        raise TypeError("must be real number, not complex" if dtype.is_floating_point else
                        "'complex' object cannot be interpreted as an integer")
    if dtype.is_floating_point:
        with quiet():
            wide = wide.astype(xp.float64)
            return (wide.astype(xp.float32) if dtype.name in _HALVES else wide).astype(
                dtype.numpy)
    if wide.dtype.kind == "O" or (wide.dtype.kind == "u" and wide.size and
                                  wide.max() > _dtype.iinfo(_dtype.int64).max):
        raise OverflowError("Overflow when unpacking long long")
    if _data_overflows(wide, dtype):
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    if wide.dtype.kind == "f":
        with quiet():
            wide = xp.asarray(xp.trunc(wide))  # (a ufunc gives a 0-d array back as a scalar)
    return wide.astype(xp.int64).astype(dtype.numpy)


def _uint64_array(data, wide):
    """Python ints stored as uint64 the way torch does, without an int64 detour: any int in
    [0, 2**64), bools; anything else is refused with CPython's unsigned-conversion errors
    (raised as they are: OverflowError, TypeError)."""
    if isinstance(data, xp.ndarray) or wide.dtype.kind in "ub":
        return wide.astype(xp.uint64)
    if wide.dtype.kind == "c":
        raise TypeError("an integer is required")
    if wide.dtype.kind == "i":
        if wide.size and wide.min() < 0:
            raise OverflowError("can't convert negative int to unsigned")
        return wide.astype(xp.uint64)
    objects = xp.array(data, dtype=object)  # (NumPy reads [2**63, 1] as float64: item by item)
    for item in objects.flat:
        if not isinstance(item, int):
            raise TypeError("an integer is required")
        if item < 0 or item >= 2 ** 64:
            raise OverflowError("can't convert negative int to unsigned" if item < 0 else
                                "int too big to convert")
    return objects.astype(xp.uint64)


def _check_numbers(objects, dtype) -> None:
    """torch's TypeError for an item of an object array that is not a number (CPython's
    float() or int() message, as the dtype is floating or not)."""
    numbers_ = (numbers.Number, xp.generic)
    name = next((type(x).__name__ for x in objects.flat if not isinstance(x, numbers_)), None)
    if name is None:
        return
    if dtype.is_floating_point:
        raise TypeError(f"must be real number, not {name}")
    raise TypeError(f"'{name}' object cannot be interpreted as an integer")
