"""The draws of torch's CPU streams behind rand, randn, randint, randperm (ember/ops/creation.py)
and the in-place fills uniform_, normal_ and random_ (ember/ops/sampling.py), with torch's checks.

Every draw takes the same words of the generator as torch's kernel, in the order torch visits
the output's memory, and transforms them with torch's arithmetic (NOTE [PyTorch's random
streams] in ember/random.py), so a seeded program gets torch's numbers bit for bit. Samples are
constants: they carry no gradient.
"""

import math

from ember._warnings import warn_at_caller
from ember import _dtype, random
from ember._backend import quiet, xp
from ember._registry import _RESIZED
from ember._tensor import Tensor
from ember.autograd import grad_mode

# C++ names torch prints for a dtype in its bound checks, and its ScalarType names
_CPP_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
              "int16": "short int", "int32": "int", "int64": "long int", "float16": "c10::Half",
              "uint16": "short unsigned int", "uint32": "unsigned int",
              "uint64": "long unsigned int",
              "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}
_SCALAR_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                 "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble",
                 **_dtype._SHORT}
_NO_FULL_RANGE = ("uint16", "uint32", "uint64")  # random_() of these: torch has no kernel
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
              "float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308}


def _not_implemented(kernel: str, dtype):
    return NotImplementedError(f'"{kernel}" not implemented for '
                               f"'{_SCALAR_NAMES.get(dtype.name, dtype.name)}'")


def _float_dtype(dtype, kernel: str):
    """The dtype of a float sampler (default dtype if None); torch's error for other dtypes."""
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if not (dtype.is_floating_point or dtype.is_complex):
        raise _not_implemented(kernel, dtype)
    return dtype


# ---- memory order ------------------------------------------------------------------------
def _memory_axes(array) -> list:
    """array's axes from slowest to fastest in memory: the order torch's TensorIterator visits."""
    return sorted(range(array.ndim), key=lambda d: -abs(array.strides[d]))


def in_memory_order(array, flat):
    """Lay out `flat`, values in the order torch visits array's memory, in array's shape."""
    axes = _memory_axes(array)
    permuted = flat.reshape([array.shape[d] for d in axes])
    return xp.transpose(permuted, xp.argsort(axes))


def _is_contiguous(array) -> bool:
    """Whether torch would call a tensor over this array contiguous (size-1 dims ignored)."""
    expected = array.itemsize
    for size, stride in reversed(list(zip(array.shape, array.strides))):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


# ---- the draws -----------------------------------------------------------------------------
def draw_uniform(array, low: float, high: float, generator=None):
    """Values for `array.uniform_(low, high)` (a complex array draws its real view)."""
    if array.dtype.kind == "c" and not array.size:  # torch's complex path returns first
        return array
    real = _real_view(array)
    _check_uniform(real.dtype, low, high)
    flat = random.uniform((real.size,), low, high, real.dtype, generator)
    return _from_real(array, in_memory_order(real, flat))


def draw_normal(array, mean: float, std: float, generator=None):
    """Values for `array.normal_(mean, std)`: the vectorised Box–Muller for 16 or more
    contiguous elements, the scalar sampler otherwise (torch's `normal_kernel`)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    if array.dtype.kind == "c":
        std = std / math.sqrt(2)  # real and imaginary parts each get half the variance
    if not array.size:  # torch's kernel, and its dtype check, run only on elements
        return array
    real = _real_view(array)
    if real.dtype.kind != "f" and real.dtype.name != "bfloat16":
        raise _not_implemented("normal_kernel_cpu", _dtype.from_numpy_dtype(real.dtype))
    if _is_contiguous(real):
        flat = random.normal((real.size,), mean, std, real.dtype, generator)
    else:
        flat = random.normal_strided((real.size,), mean, std, real.dtype, generator)
    return _from_real(array, in_memory_order(real, flat))


def draw_integers(array, low=0, high=None, generator=None, full_range=False):
    """Values for `array.random_(low, high)`; `high=None` means up to the dtype's maximum;
    `full_range` (low = -2^63, no high) takes whole 64-bit words."""
    dtype = _dtype.from_numpy_dtype(array.dtype)
    gen = random._generator(generator)
    if full_range:
        if not array.size:  # torch returns before its kernel's dispatch and checks
            return array
        if dtype.name in ("int8", "int16", "int32", "uint8"):  # dispatched, then refused
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, "
                               "double, float and bfloat16")
        if dtype.name not in ("int64", "float64", "float32", "bfloat16"):
            raise _not_implemented("random_full_64_bits_range_kernel_cpu", dtype)
        flat = random.random_full_range(gen, array.size)
    else:
        low, range_ = _integer_range(dtype, low, high)
        flat = random.random_from_to(gen, array.size, range_, low) if array.size else None
    if flat is None:
        return xp.empty(array.shape, dtype=array.dtype)
    return in_memory_order(array, _cast_integers(flat, array.dtype))


def draw_random_bits(array, generator=None):
    """Values for `array.random_()`: [0, max] of an integer dtype, [0, 2^digits] of a float."""
    if not array.size:  # torch's kernel, and its dtype check, run only on elements
        return array
    if array.dtype.name not in random.samplers._RANDOM_MODULUS:
        raise _not_implemented("random_kernel_cpu", _dtype.from_numpy_dtype(array.dtype))
    flat = random.random_bits(random._generator(generator), array.size, array.dtype)
    return in_memory_order(array, _cast_integers(flat, array.dtype))


def _cast_integers(values, dtype):
    """int64 values as torch's static_cast: nonzero -> True for bool, wrapped for small ints."""
    if dtype == xp.bool_:
        return values != 0
    if dtype.itemsize == 2 and dtype.kind not in "iu":  # c10::Half/BFloat16 from a float
        return values.astype(xp.float32).astype(dtype)
    return values.astype(dtype)


def _real_view(array):
    """A complex array's real view (…, 2) with its strides (torch's `view_as_real`: its
    kernels visit that view's memory order), or the array itself."""
    if array.dtype.kind != "c":
        return array
    part = array.real
    return xp.lib.stride_tricks.as_strided(part, array.shape + (2,),
                                           part.strides + (part.itemsize,), writeable=False)


def _from_real(array, values):
    """Undo `_real_view` on drawn values."""
    if array.dtype.kind != "c":
        return values
    return xp.ascontiguousarray(values).view(array.dtype).reshape(array.shape)


def _check_uniform(dtype, low, high):
    """torch's bound checks of uniform_ for a dtype."""
    name = xp.dtype(dtype).name
    if name not in _DIGITS:
        raise _not_implemented("check_uniform_bounds", _dtype.from_numpy_dtype(xp.dtype(dtype)))
    top = _FLOAT_MAX[name]
    cpp = _CPP_NAMES[name]
    if not -top <= low <= top:
        raise RuntimeError(f"from is out of bounds for {cpp}")
    if not -top <= high <= top:
        raise RuntimeError(f"to is out of bounds for {cpp}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={low:g} > to={high:g}")
    if high - low > top:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_SCALAR_NAMES[name]}"
                           f">::max(), but found to={high:g} and from={low:g} which result in "
                           f"to-from to exceed the limit")


def _integer_range(dtype, low: int, high):
    """(base, range) of torch's `random_from_to_impl`, with its checks and float adjustments."""
    name = dtype.name
    if high is not None:
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                               f"from={low} >= to={high}")
        if name in _DIGITS:
            low, high = _update_from(low, name), _update_to(high, name)
            if low >= high:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' "
                                   f"casted to dtype, but got from={low} >= to={high}")
        _check_in_range(dtype, low, high - 1)
        return low, (high - low) % 2 ** 64
    if name in _DIGITS:
        to_inc = 2 ** _DIGITS[name]
        low = _update_from(low, name)
        if low >= to_inc:
            raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal "
                               f"to 'to_inc' casted to dtype, but got from={low} > "
                               f"to_inc={to_inc}")
    elif name in _CPP_NAMES and name not in _NO_FULL_RANGE:
        to_inc = 1 if name == "bool" else int(xp.iinfo(dtype.numpy).max)
    else:
        raise _not_implemented("random_kernel_cpu", dtype)
    _check_in_range(dtype, low, to_inc)
    return low, (to_inc - low + 1) % 2 ** 64


def _check_in_range(dtype, low, to_inc):
    """torch's `check_from_to_in_range`."""
    name = dtype.name
    if name not in _CPP_NAMES:
        raise RuntimeError("check_random_bounds handles only integral, floating-point and "
                           "boolean types")
    if name in _DIGITS:
        lo, hi = -_FLOAT_MAX[name], _FLOAT_MAX[name]
    elif name == "bool":
        lo, hi = 0, 1
    else:
        info = xp.iinfo(dtype.numpy)
        lo, hi = int(info.min), int(info.max)
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {_CPP_NAMES[name]}")
    if not lo <= to_inc <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_CPP_NAMES[name]}")
    if name in _DIGITS:
        digits = _DIGITS[name]
        for value, what, line in ((low, "from", 110), (to_inc, "to - 1", 111)):
            if not -2 ** digits <= value <= 2 ** digits:  # (a C++ warning: at the caller)
                warn_at_caller(f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                               f"precision limitations {_CPP_NAMES[name]} can support discrete "
                               "uniform distribution only within this range. This warning will "
                               "become an error in version 1.7 release, please fix the code in "
                               "advance (Triggered internally at /__w/pytorch/pytorch/aten/src/"
                               f"ATen/native/DistributionTemplates.h:{line}.)", UserWarning)


def _as_int64(value) -> int:
    """`static_cast<int64_t>` of a float as x86-64 computes it: a value outside int64's range
    (or inf, NaN) becomes INT64_MIN (cvttsd2si's "integer indefinite")."""
    value = float(value)
    return int(value) if -2.0 ** 63 <= value < 2.0 ** 63 else -2 ** 63


def _dtype_round(value: int, name: str) -> int:
    """`static_cast<int64_t>(static_cast<scalar_t>(value))`: the int64 rounded to the float
    dtype `name` (to float first for c10::Half and c10::BFloat16, made from a float), then
    cast back."""
    wide = xp.float64 if name == "float64" else xp.float32
    with quiet():
        return _as_int64(xp.asarray(value, dtype=xp.int64).astype(wide).astype(
            _dtype._dtype_by_name(name).numpy))


def _update_from(low: int, name: str) -> int:
    """torch's `update_from`: move `from` up when casting from + 1 to the dtype rounds down."""
    cast = _dtype_round(low + 1, name)
    if cast < low:
        n = abs(low + 1).bit_length() - 1
        low = cast + (1 << (n - _DIGITS[name] + 1))
    return low


def _update_to(high: int, name: str) -> int:
    """torch's `update_to`: move `to` down when casting to - 1 to the dtype rounds up."""
    cast = _dtype_round(high - 1, name)
    if cast >= high:
        n = abs(high - 1).bit_length() - 1
        high = cast - (1 << (n - _DIGITS[name] + 1))
    return high


def check_randperm_dtype(n: int, dtype):
    """torch's `check_supported_max_int_with_precision` and randperm's dtypes."""
    if dtype.name == "bool" or dtype.is_complex:
        raise _not_implemented("randperm", dtype)
    limits = {"float16": "2049", "float32": "2^24+1", "float64": "2^53+1"}
    if dtype.name in limits:
        if n > 2 ** _DIGITS[dtype.name] + 1:
            raise RuntimeError(f"n cannot be greater than {limits[dtype.name]} for "
                               f"{_SCALAR_NAMES[dtype.name]} type.")
    elif not dtype.is_floating_point and n - 1 > int(xp.iinfo(dtype.numpy).max):
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")


# ---- out= ----------------------------------------------------------------------------------
def out_dtype(out, dtype, name=None):
    """The dtype a random factory `name` draws in: `dtype`, or out's (torch's binding refuses
    a `dtype=` that differs from out's, and `check_out_grad` an out that requires grad)."""
    dtype = None if dtype is None else _dtype.to_dtype(dtype)
    if out is None:
        return dtype
    check_out_grad(name, out)
    if dtype is not None and dtype != out.dtype:
        raise RuntimeError(f"dtype {_SCALAR_NAMES[dtype.name]} does not match dtype of out "
                           f"parameter ({_SCALAR_NAMES[out.dtype.name]})")
    return out.dtype


def draw_target(out, shape, dtype):
    """The array a random factory draws into: a new one, or out's, resized first (torch then
    fills out in place, in out's memory order)."""
    return xp.empty(shape, dtype=dtype.numpy) if out is None else resize_out(out, shape)._data


def check_out_grad(name, out, *tensors):
    """torch's refusal of `out=` while gradients are recorded and out or an argument requires
    grad (before anything is drawn); randn's out= is refused by its resize_."""
    if out is not None and out.requires_grad and name == "aten::randn":
        raise RuntimeError("cannot resize variables that require grad")  # (with grad off too)
    if out is None or not grad_mode.is_grad_enabled():
        return
    if any(isinstance(t, Tensor) and t.requires_grad for t in (out, *tensors)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")


def resize_output(out, shape):
    """out resized to shape as torch's `resize_output` does it: with its deprecation warning
    when out had elements."""
    if out._data.shape != tuple(shape) and out._data.size:
        warn_at_caller(_RESIZED.format(list(out._data.shape), list(shape)))
    return resize_out(out, shape)


def resize_out(out, shape):
    """out, resized to shape as torch's `resize_` does it: silently, to a new contiguous
    array where the shape differs."""
    if out._data.shape != tuple(shape):
        out._data = xp.empty(shape, dtype=out._data.dtype)
    return out


def check_internal_overlap(array):
    """torch's `assert_no_internal_overlap` of an in-place fill's target: an expanded tensor
    (a stride 0 over more than one element) is refused before anything is drawn."""
    if array.size and any(stride == 0 and size > 1
                          for size, stride in zip(array.shape, array.strides)):
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")
