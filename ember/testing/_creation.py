"""`torch.testing.make_tensor`: a tensor of random values drawn as torch draws them, so that
after the same seed ember's and torch's tensors are equal bit for bit.

Ported from PyTorch's torch/testing/_creation.py (BSD-3-Clause, (c) PyTorch contributors),
adapted to ember's dtypes (ember has no complex32).
"""

import collections.abc
import math

from ember._warnings import warn as _warn
from ember import _dtype
from ember.ops.complex import view_as_real
from ember.ops.creation import empty, randint

_INTEGRAL_TYPES = [_dtype.uint8, _dtype.int8, _dtype.int16, _dtype.int32, _dtype.int64,
                   _dtype.uint16, _dtype.uint32, _dtype.uint64]
_FLOATING_TYPES = [_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64]
_FLOATING_8BIT_TYPES = [_dtype.float8_e4m3fn, _dtype.float8_e5m2, _dtype.float8_e4m3fnuz,
                        _dtype.float8_e5m2fnuz]
_COMPLEX_TYPES = [_dtype.complex64, _dtype.complex128]
_BOOLEAN_OR_INTEGRAL_TYPES = [_dtype.bool, *_INTEGRAL_TYPES]
_FLOATING_OR_COMPLEX_TYPES = [*_FLOATING_TYPES, *_COMPLEX_TYPES]
_UNSIGNED_WIDE = (_dtype.uint16, _dtype.uint32, _dtype.uint64)
_INT64_RANGE = range(-2 ** 63, 2 ** 63)


def _unsupported(dtype) -> TypeError:
    """torch's error for a dtype make_tensor cannot fill."""
    return TypeError(f"The requested dtype '{dtype}' is not supported by "
                     "torch.testing.make_tensor(). To request support, file an issue at: "
                     "https://github.com/pytorch/pytorch/issues")


def _limits(dtype) -> tuple:
    """(lowest inclusive, highest exclusive, default low, default high) of dtype's values."""
    if dtype is _dtype.bool:
        return 0, 2, 0, 2
    if dtype in _INTEGRAL_TYPES:
        info = _dtype.iinfo(dtype)
        # torch.randint cannot sample int64's maximum (its bounds are int64s): no + 1 there;
        # the default low -9 is clamped to 0 for the unsigned types
        return info.min, info.max + (1 if dtype is not _dtype.int64 else 0), -9, 10
    if dtype in _FLOATING_OR_COMPLEX_TYPES or dtype in _FLOATING_8BIT_TYPES:
        info = _dtype.finfo(dtype)
        return info.min, info.max, -9, 9
    raise _unsupported(dtype)


def _modify_low_high(low, high, dtype, lowest_inclusive, highest_exclusive, default_low,
                     default_high) -> tuple:
    """The bounds to draw within: the defaults for None, checked, clamped to dtype's range,
    and ceiled for the integral dtypes."""
    low = low if low is not None else default_low
    high = high if high is not None else default_high
    if any(isinstance(value, float) and math.isnan(value) for value in [low, high]):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    elif low == high and dtype in _FLOATING_OR_COMPLEX_TYPES:
        _warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                      "complex types is deprecated since 2.1 and will be removed in 2.3. "
                      "Use `torch.full(...)` instead.", FutureWarning,
                      stacklevel=3)  # names make_tensor's caller
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), "
                         f"but {dtype} only supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        # low is ceiled to stay in the interval; high too, as randint's bound is exclusive
        return math.ceil(low), math.ceil(high)
    return low, high


def _uniform_random_(t, low: float, high: float):
    """t.uniform_(low, high), halving the range and doubling the draws when high - low would
    exceed the dtype's maximum (which uniform_ refuses)."""
    if high - low >= _dtype.finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def _randint(low: int, high: int, shape, device, dtype):
    """torch.randint(low, high, shape, dtype=dtype); uint16/32/64 are drawn as int64 and cast,
    which draws the same numbers as torch (ember's randint does not take those dtypes)."""
    if dtype not in _UNSIGNED_WIDE:
        return randint(low, high, shape, device=device, dtype=dtype)
    if low not in _INT64_RANGE or high not in _INT64_RANGE:
        raise ValueError("Overflow when unpacking long long")  # randint's bounds are int64s
    return randint(low, high, shape, device=device, dtype=_dtype.int64).to(dtype)


def _draw(shape, device, dtype, low, high):
    """A tensor of shape filled as torch fills it: randint for the integral types, uniform_
    for the floating ones (on the real view for complex, in float32 for the 1-byte floats)."""
    if dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        return _randint(low, high, shape, device, dtype)
    if dtype in _FLOATING_8BIT_TYPES:
        result = empty(shape, device=device, dtype=_dtype.float32)
        _uniform_random_(result, low, high)
        return result.to(dtype)
    result = empty(shape, device=device, dtype=dtype)
    _uniform_random_(view_as_real(result) if dtype in _COMPLEX_TYPES else result, low, high)
    return result


def _check_options(noncontiguous, memory_format, requires_grad, dtype) -> None:
    """torch's errors for options that exclude each other or do not fit the dtype."""
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually "
                         f"exclusive, but got {noncontiguous=} and {memory_format=}")
    if requires_grad and dtype in _BOOLEAN_OR_INTEGRAL_TYPES:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got {dtype=}")


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad: bool = False,
                noncontiguous: bool = False, exclude_zero: bool = False, memory_format=None):
    r"""A tensor of shape, dtype and device with values drawn uniformly from [low, high)
    (matches `torch.testing.make_tensor`).

    low and high default by dtype (bool [0, 2), unsigned [0, 10), signed [-9, 10), floating and
    complex [-9, 9)) and are clamped to the dtype's finite range. noncontiguous makes every
    other element of a twice-as-wide last dimension (when there are two elements or more);
    exclude_zero replaces zeros with 1 (bool, integral) or finfo(dtype).tiny; memory_format
    clones into that format. Raises ValueError for low >= high, a NaN bound, requires_grad
    with an integral dtype, or noncontiguous with memory_format; TypeError for another dtype.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    _check_options(noncontiguous, memory_format, requires_grad, dtype)
    noncontiguous = noncontiguous and math.prod(shape, start=1) > 1
    if noncontiguous:
        # a twice-as-wide last dimension, so that the kept elements are not all the same
        shape = (*shape[:-1], 2 * shape[-1])
    limits = _limits(dtype)
    low, high = _modify_low_high(low, high, dtype, *limits)
    result = _draw(shape, device, dtype, low, high)
    if noncontiguous:
        result = result[..., 1::2]  # offset by 1 to also catch offsetting issues
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = (1 if dtype in _BOOLEAN_OR_INTEGRAL_TYPES
                               else _dtype.finfo(dtype).tiny)
    if dtype in _FLOATING_OR_COMPLEX_TYPES:
        result.requires_grad = requires_grad
    return result
