"""`torch.testing.assert_close` (and the deprecated `assert_allclose`): walk both inputs,
pair up their leaves (None, booleans, numbers, tensor-likes) and compare each pair.

Ported from PyTorch's torch/testing/_comparison.py (BSD-3-Clause, (c) PyTorch contributors),
adapted to ember. torch's DTensor unwrapping is left out: ember has no DTensor.
"""

import collections.abc
import contextlib
import functools

from ember._warnings import warn as _warn
from collections.abc import Callable, Sequence
from typing import Any

from ember import _dtype
from ember._tensor import Tensor
from ember.ops.creation import tensor
# the message helpers live in _messages; they are importable from here, as from torch's module
from ember.testing._messages import (make_scalar_mismatch_msg,  # noqa: F401
                                     make_tensor_mismatch_msg)
from ember.testing._pairs import (BooleanPair, ErrorMeta, NonePair, NumberPair, ObjectPair, Pair,
                                  UnsupportedInputs, default_tolerances)
from ember.testing._pairs import get_tolerances  # noqa: F401 (torch's module holds it too)
from ember.testing._tensor_pair import TensorLikePair

__all__ = ["assert_allclose", "assert_close"]

_UNEXPECTED = ("If you are a user and see this message during normal operation "
               "please file an issue at https://github.com/pytorch/pytorch/issues. "
               "If you are a developer and working on the comparison functions, ")


def _items(id: tuple[Any, ...]) -> str:
    """An item id as torch writes it: [0]['key']..."""
    return "".join(str([item]) for item in id)


def _is_sequence(value, sequence_types) -> bool:
    """Whether value is walked as a sequence (never a str: "a"[0] is "a" again)."""
    return isinstance(value, sequence_types) and not isinstance(value, str)


def _originate_sequence_pairs(actual, expected, *, id, **options) -> list[Pair]:
    """The pairs of two sequences, which must have the same length."""
    actual_len, expected_len = len(actual), len(expected)
    if actual_len != expected_len:
        raise ErrorMeta(AssertionError,
                        f"The length of the sequences mismatch: {actual_len} != {expected_len}",
                        id=id)
    pairs = []
    for idx in range(actual_len):
        pairs.extend(originate_pairs(actual[idx], expected[idx], id=(*id, idx), **options))
    return pairs


def _originate_mapping_pairs(actual, expected, *, id, **options) -> list[Pair]:
    """The pairs of two mappings, which must have the same keys (visited sorted when they can
    be, so that the first failure is deterministic)."""
    actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
    if actual_keys != expected_keys:
        missing_keys = expected_keys - actual_keys
        additional_keys = actual_keys - expected_keys
        raise ErrorMeta(AssertionError,
                        f"The keys of the mappings do not match:\n"
                        f"Missing keys in the actual mapping: {sorted(missing_keys)}\n"
                        f"Additional keys in the actual mapping: {sorted(additional_keys)}",
                        id=id)
    keys = actual_keys
    with contextlib.suppress(Exception):
        keys = sorted(keys)
    pairs = []
    for key in keys:
        pairs.extend(originate_pairs(actual[key], expected[key], id=(*id, key), **options))
    return pairs


def _originate_leaf_pair(actual, expected, *, pair_types, id, **options) -> list[Pair]:
    """The pair of the first pair type that handles the two inputs."""
    for pair_type in pair_types:
        try:
            return [pair_type(actual, expected, id=id, **options)]
        except UnsupportedInputs:  # this pair type cannot handle them: try the next one
            continue
        except ErrorMeta:
            raise
        except Exception as error:
            raise RuntimeError(
                f"Originating a {pair_type.__name__}() at item {_items(id)} with\n\n"
                f"{type(actual).__name__}(): {actual}\n\n"
                f"and\n\n"
                f"{type(expected).__name__}(): {expected}\n\n"
                f"resulted in the unexpected exception above. " + _UNEXPECTED +
                "please except the previous error and raise an expressive `ErrorMeta` instead."
            ) from error
    raise ErrorMeta(TypeError, f"No comparison pair was able to handle inputs of type "
                               f"{type(actual)} and {type(expected)}.", id=id)


def originate_pairs(actual: Any, expected: Any, *, pair_types: Sequence[type[Pair]],
                    sequence_types: tuple[type, ...] = (collections.abc.Sequence,),
                    mapping_types: tuple[type, ...] = (collections.abc.Mapping,),
                    id: tuple[Any, ...] = (), **options: Any) -> list[Pair]:
    """The pairs of the inputs, recursing through (nested) sequences and mappings."""
    walk = dict(pair_types=pair_types, sequence_types=sequence_types,
                mapping_types=mapping_types, id=id, **options)
    if _is_sequence(actual, sequence_types) and _is_sequence(expected, sequence_types):
        return _originate_sequence_pairs(actual, expected, **walk)
    if isinstance(actual, mapping_types) and isinstance(expected, mapping_types):
        return _originate_mapping_pairs(actual, expected, **walk)
    return _originate_leaf_pair(actual, expected, pair_types=pair_types, id=id, **options)


def not_close_error_metas(actual: Any, expected: Any, *,
                          pair_types: Sequence[type[Pair]] = (ObjectPair,),
                          sequence_types: tuple[type, ...] = (collections.abc.Sequence,),
                          mapping_types: tuple[type, ...] = (collections.abc.Mapping,),
                          **options: Any) -> list[ErrorMeta]:
    """The ErrorMetas of the pairs that mismatch (an input pairing that fails raises now)."""
    __tracebackhide__ = True  # hide this function from pytest's traceback
    try:
        pairs = originate_pairs(actual, expected, pair_types=pair_types,
                                sequence_types=sequence_types, mapping_types=mapping_types,
                                **options)
    except ErrorMeta as error_meta:
        raise error_meta.to_error() from None  # hides the internal traceback
    error_metas: list[ErrorMeta] = []
    for pair in pairs:
        try:
            pair.compare()
        except ErrorMeta as error_meta:
            error_metas.append(error_meta)
        except Exception as error:
            raise RuntimeError(
                f"Comparing\n\n{pair}\n\nresulted in the unexpected exception above. "
                + _UNEXPECTED + "please except the previous error and raise an expressive "
                "`ErrorMeta` instead.") from error
    # the metas' tracebacks refer to this frame: hand the list out without keeping a reference
    # to it here, so that no cycle keeps the frames alive until the next collection
    error_metas = [error_metas]
    return error_metas.pop()


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None):
    r"""Assert that actual and expected are close (matches `torch.testing.assert_close`).

    Tensors (and tensor-likes: NumPy arrays) are close where
    ``|actual - expected| <= atol + rtol * |expected|`` (infinities only when equal, NaNs only
    with equal_nan=True), and their shape (always), device, dtype, layout and stride (as the
    check_* options say) match. Python scalars compare with the tolerances of int64, float64,
    complex128; sequences and mappings elementwise. rtol and atol are both given or both
    omitted; omitted, they come from the dtypes (torch's table: float16 1e-3/1e-5, bfloat16
    1.6e-2/1e-5, float32 and complex64 1.3e-6/1e-5, float64 and complex128 1e-7/1e-7, other
    dtypes 0/0). msg replaces the message, or (a callable) edits it.
    """
    __tracebackhide__ = True  # hide this function from pytest's traceback
    error_metas = not_close_error_metas(
        actual, expected, pair_types=(NonePair, BooleanPair, NumberPair, TensorLikePair),
        allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
        check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
        check_stride=check_stride, msg=msg)
    if error_metas:
        raise error_metas[0].to_error(msg)


_ALLCLOSE_DEPRECATION = (
    "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future "
    "release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade "
    "instructions in https://github.com/pytorch/pytorch/issues/61844.")
# assert_allclose's own defaults, looser than assert_close's
_ALLCLOSE_PRECISIONS = {_dtype.float16: (1e-3, 1e-3), _dtype.float32: (1e-4, 1e-5),
                        _dtype.float64: (1e-5, 1e-8)}


def _deprecated(message: str):
    """Decorator warning FutureWarning(message) on each call, as typing_extensions.deprecated
    does for torch (which ember does not depend on)."""

    def wrap(fn):
        @functools.wraps(fn)
        def warned(*args, **kwargs):
            _warn(message, category=FutureWarning, stacklevel=2)
            return fn(*args, **kwargs)

        warned.__deprecated__ = message
        return warned

    return wrap


@_deprecated(_ALLCLOSE_DEPRECATION)
def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated closeness check (matches `torch.testing.assert_allclose`): its own default
    tolerances, NaNs equal and dtypes unchecked; use assert_close."""
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions=_ALLCLOSE_PRECISIONS)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)
