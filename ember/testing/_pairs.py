"""The comparison machinery of `torch.testing.assert_close` for non-tensor inputs: the error
carrier, the default tolerances and the pairs for None, booleans and numbers.

Ported from PyTorch's torch/testing/_comparison.py (BSD-3-Clause, (c) PyTorch contributors),
adapted to ember's dtypes; the messages are torch's, word for word.
"""

import abc
import cmath
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ember import _dtype
from ember._backend import xp
from ember._tensor import Tensor
from ember.testing._messages import make_scalar_mismatch_msg


class ErrorMeta(Exception):
    """Internal testing exception that carries error metadata (type, message, item id)."""

    def __init__(self, type: type[Exception], msg: str, *, id: tuple[Any, ...] = ()) -> None:
        super().__init__(
            "If you are a user and see this message during normal operation "
            "please file an issue at https://github.com/pytorch/pytorch/issues. "
            "If you are a developer and working on the comparison functions, please "
            "`raise ErrorMeta.to_error()` for user facing errors."
        )
        self.type = type
        self.msg = msg
        self.id = id

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        """The user-facing exception: a string msg replaces the message, a callable edits it."""
        if not isinstance(msg, str):
            generated_msg = self.msg
            if self.id:
                items = "".join(str([item]) for item in self.id)
                generated_msg += f"\n\nThe failure occurred for item {items}"
            msg = msg(generated_msg) if callable(msg) else generated_msg
        return self.type(msg)


# {dtype: (rtol, atol)}, torch's table (ember has no complex32 nor quantized dtypes)
_DTYPE_PRECISIONS = {
    _dtype.float16: (0.001, 1e-5),
    _dtype.bfloat16: (0.016, 1e-5),
    _dtype.float32: (1.3e-6, 1e-5),
    _dtype.float64: (1e-7, 1e-7),
    _dtype.complex64: (1.3e-6, 1e-5),
    _dtype.complex128: (1e-7, 1e-7),
}


def default_tolerances(*inputs, dtype_precisions=None) -> tuple[float, float]:
    """The loosest (rtol, atol) of the inputs' dtypes (tensors or dtypes), from torch's table."""
    dtypes = []
    for input in inputs:
        if isinstance(input, Tensor):
            dtypes.append(input.dtype)
        elif isinstance(input, _dtype.dtype):
            dtypes.append(input)
        else:
            raise TypeError(
                f"Expected a torch.Tensor or a torch.dtype, but got {type(input)} instead.")
    dtype_precisions = dtype_precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[dtype_precisions.get(dtype, (0.0, 0.0)) for dtype in dtypes],
                       strict=True)
    return max(rtols), max(atols)


def get_tolerances(*inputs, rtol, atol, id: tuple[Any, ...] = ()) -> tuple[float, float]:
    """The given (rtol, atol), or the dtype defaults when both are omitted; only one is an error,
    because atol=0.0 alone would still let rtol pass values."""
    if (rtol is None) ^ (atol is None):
        raise ErrorMeta(
            ValueError,
            f"Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}.",
            id=id,
        )
    if rtol is not None and atol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


class UnsupportedInputs(Exception):
    """Raised while building a Pair that cannot handle its inputs: the next pair type is tried."""


class Pair(abc.ABC):
    """A pair of inputs with the options that apply to them; `compare` raises an ErrorMeta on a
    mismatch. Each pair receives all options and keeps the ones it uses."""

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (),
                 **unknown_parameters: Any) -> None:
        self.actual = actual
        self.expected = expected
        self.id = id
        self._unknown_parameters = unknown_parameters

    @staticmethod
    def _inputs_not_supported() -> NoReturn:
        """Hand the inputs to the next pair type."""
        raise UnsupportedInputs

    @staticmethod
    def _check_inputs_isinstance(*inputs: Any, cls):
        """Refuse the inputs unless all are instances of cls."""
        if not all(isinstance(input, cls) for input in inputs):
            Pair._inputs_not_supported()

    def _fail(self, type: type[Exception], msg: str, *, id: tuple[Any, ...] = ()) -> NoReturn:
        """Raise an ErrorMeta of this type and message, for this pair's id."""
        raise ErrorMeta(type, msg, id=self.id if not id and hasattr(self, "id") else id)

    @abc.abstractmethod
    def compare(self) -> None:
        """Compare the inputs; raise an ErrorMeta when they mismatch."""

    def extra_repr(self) -> Sequence[str | tuple[str, Any]]:
        """Attribute names (or name, value pairs) shown in the repr, for unexpected errors."""
        return []

    def __repr__(self) -> str:
        """The pair and its options, one per line (shown when a comparison fails unexpectedly)."""
        extras = [(extra, getattr(self, extra)) if isinstance(extra, str) else extra
                  for extra in self.extra_repr()]
        body = [f"    {name}={value!s},"
                for name, value in [("id", self.id), ("actual", self.actual),
                                    ("expected", self.expected), *extras]]
        return "\n".join((f"{type(self).__name__}(", *body, ")"))


class ObjectPair(Pair):
    """Any inputs, compared with `==` (only a fallback after every other pair)."""

    def compare(self) -> None:
        """Fail unless actual == expected."""
        try:
            equal = self.actual == self.expected
        except Exception as error:
            raise ErrorMeta(ValueError, f"{self.actual} == {self.expected} failed with:\n{error}.",
                            id=self.id) from error
        if not equal:
            self._fail(AssertionError, f"{self.actual} != {self.expected}")


class NonePair(Pair):
    """Inputs of which at least one is None: both must be."""

    def __init__(self, actual: Any, expected: Any, **other_parameters: Any) -> None:
        if not (actual is None or expected is None):
            self._inputs_not_supported()
        super().__init__(actual, expected, **other_parameters)

    def compare(self) -> None:
        """Fail unless both are None."""
        if not (self.actual is None and self.expected is None):
            self._fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class BooleanPair(Pair):
    """Python (and NumPy) booleans, compared for identity."""

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...],
                 **other_parameters: Any) -> None:
        self._check_inputs_isinstance(actual, expected, cls=(bool, xp.bool_))
        actual, expected = (self._to_bool(value, id=id) for value in (actual, expected))
        super().__init__(actual, expected, **other_parameters)

    @staticmethod
    def _to_bool(bool_like: Any, *, id: tuple[Any, ...]) -> bool:
        """A Python bool from a bool or a NumPy bool."""
        if isinstance(bool_like, bool):
            return bool_like
        if isinstance(bool_like, xp.bool_):
            return bool_like.item()
        raise ErrorMeta(TypeError, f"Unknown boolean type {type(bool_like)}.", id=id)

    def compare(self) -> None:
        """Fail unless both are the same boolean."""
        if self.actual is not self.expected:
            self._fail(AssertionError,
                       f"Booleans mismatch: {self.actual} is not {self.expected}")


class NumberPair(Pair):
    """Python (and NumPy) numbers, compared with the tolerances of their dtype: int as int64,
    float as float64, complex as complex128."""

    _TYPE_TO_DTYPE = {int: _dtype.int64, float: _dtype.float64, complex: _dtype.complex128}
    _NUMBER_TYPES = tuple(_TYPE_TO_DTYPE.keys())

    def __init__(self, actual: Any, expected: Any, *, id: tuple[Any, ...] = (),
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_dtype: bool = False, **other_parameters: Any) -> None:
        self._check_inputs_isinstance(actual, expected, cls=(*self._NUMBER_TYPES, xp.number))
        actual, expected = (self._to_number(value, id=id) for value in (actual, expected))
        super().__init__(actual, expected, id=id, **other_parameters)
        self.rtol, self.atol = get_tolerances(
            *[self._TYPE_TO_DTYPE[type(input)] for input in (actual, expected)],
            rtol=rtol, atol=atol, id=id)
        self.equal_nan = equal_nan
        self.check_dtype = check_dtype

    def _to_number(self, number_like: Any, *, id: tuple[Any, ...]):
        """A Python number from a number or a NumPy scalar."""
        if isinstance(number_like, xp.number):
            return number_like.item()
        if isinstance(number_like, self._NUMBER_TYPES):
            return number_like
        raise ErrorMeta(TypeError, f"Unknown number type {type(number_like)}.", id=id)

    def compare(self) -> None:
        """Fail unless |actual - expected| <= atol + rtol * |expected| (and types, if checked)."""
        if self.check_dtype and type(self.actual) is not type(self.expected):
            self._fail(AssertionError, f"The (d)types do not match: {type(self.actual)} != "
                                       f"{type(self.expected)}.")
        if self.actual == self.expected:
            return
        if self.equal_nan and cmath.isnan(self.actual) and cmath.isnan(self.expected):
            return
        abs_diff = abs(self.actual - self.expected)
        tolerance = self.atol + self.rtol * abs(self.expected)
        if cmath.isfinite(abs_diff) and abs_diff <= tolerance:
            return
        self._fail(AssertionError, make_scalar_mismatch_msg(
            self.actual, self.expected, rtol=self.rtol, atol=self.atol))

    def extra_repr(self) -> Sequence[str]:
        """The options shown in the repr."""
        return ("rtol", "atol", "equal_nan", "check_dtype")
