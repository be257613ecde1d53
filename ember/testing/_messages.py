"""The mismatch messages of `torch.testing.assert_close`, word for word.

Ported from PyTorch's torch/testing/_comparison.py (BSD-3-Clause, (c) PyTorch contributors).
"""

from collections.abc import Callable

from ember import _dtype

Identifier = str | Callable[[str], str] | None


def magnitude(tensor):
    """|tensor|; for complex values hypot(real, imag), which is how torch's CPU kernel rounds
    them (NumPy's complex abs, behind ember's abs, can differ in the last bit), so that
    differences and verdicts come out as torch's."""
    if tensor.dtype.is_complex:
        return tensor.real.hypot(tensor.imag)
    return tensor.abs()


def _identify(default_identifier: str, identifier: Identifier) -> str:
    """The description of the compared values: the default, a given one, or one made from the
    default by a callable."""
    if identifier is None:
        return default_identifier
    if callable(identifier):
        return identifier(default_identifier)
    return identifier


def _make_bitwise_mismatch_msg(*, default_identifier: str, identifier: Identifier = None,
                               extra: str | None = None,
                               first_mismatch_idx: tuple[int, ...] | None = None) -> str:
    """The message for values compared bit for bit (the 1-byte floats)."""
    msg = f"{_identify(default_identifier, identifier)} are not 'equal'!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    if first_mismatch_idx is not None:
        msg += f"The first mismatched element is at index {first_mismatch_idx}.\n"
    return msg.strip()


def _make_diff_msg(*, type: str, diff: float, idx, tol: float, equality: bool) -> str:
    """One line of differences: the greatest one (at idx) and, unless testing equality, the
    tolerance."""
    if idx is None:
        msg = f"{type.title()} difference: {diff}"
    else:
        msg = f"Greatest {type} difference: {diff} at index {idx}"
    if not equality:
        msg += f" (up to {tol} allowed)"
    return msg + "\n"


def _make_mismatch_msg(*, default_identifier: str, identifier: Identifier = None,
                       extra: str | None = None, abs_diff: float, abs_diff_idx=None,
                       atol: float, rel_diff: float, rel_diff_idx=None, rtol: float) -> str:
    """The message for numeric values: header, extra lines, absolute and relative difference."""
    equality = rtol == 0 and atol == 0
    msg = (f"{_identify(default_identifier, identifier)} are not "
           f"{'equal' if equality else 'close'}!\n\n")
    if extra:
        msg += f"{extra.strip()}\n"
    msg += _make_diff_msg(type="absolute", diff=abs_diff, idx=abs_diff_idx, tol=atol,
                          equality=equality)
    msg += _make_diff_msg(type="relative", diff=rel_diff, idx=rel_diff_idx, tol=rtol,
                          equality=equality)
    return msg.strip()


def make_scalar_mismatch_msg(actual, expected, *, rtol: float, atol: float,
                             identifier: Identifier = None) -> str:
    """The message for two mismatching scalars (Python numbers or 0-d tensors' items)."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _make_mismatch_msg(default_identifier="Scalars", identifier=identifier,
                              extra=f"Expected {expected} but got {actual}.", abs_diff=abs_diff,
                              atol=atol, rel_diff=rel_diff, rtol=rtol)


def _unravel_flat_index(flat_index: int, shape) -> tuple[int, ...]:
    """The multi-index of a flat (row-major) index into shape."""
    if not shape:
        return ()
    inverse_index = []
    for size in shape[::-1]:
        flat_index, mod = divmod(flat_index, size)
        inverse_index.append(mod)
    return tuple(inverse_index[::-1])


def _greatest_mismatch(diff, matches_flat, shape):
    """(the greatest value of diff where the values mismatch, its multi-index); NaN wins, as
    torch.max lets it."""
    diff[matches_flat] = 0  # only the mismatches count
    value, flat_idx = diff.max(0)
    return value.item(), _unravel_flat_index(int(flat_idx), shape)


def make_tensor_mismatch_msg(actual, expected, matches, *, rtol: float, atol: float,
                             identifier: Identifier = None) -> str:
    """The message for two mismatching tensors: how many elements mismatch, and the greatest
    absolute and relative differences among them."""
    number_of_elements = matches.numel()
    total_mismatches = number_of_elements - int(matches.sum())
    extra = (f"Mismatched elements: {total_mismatches} / {number_of_elements} "
             f"({total_mismatches / number_of_elements:.1%})")
    if actual.dtype.is_floating_point and actual.dtype.itemsize == 1:
        # no differences for the float8-like values: they are compared bit for bit
        first_mismatch_idx = tuple((~matches).nonzero()[0].tolist())
        return _make_bitwise_mismatch_msg(default_identifier="Tensor-likes",
                                          identifier=identifier, extra=extra,
                                          first_mismatch_idx=first_mismatch_idx)
    actual_flat, expected_flat = actual.flatten(), expected.flatten()
    matches_flat = matches.flatten()
    if not actual.dtype.is_floating_point and not actual.dtype.is_complex:
        # integers are subtracted as int64 (torch's choice: it may still overflow)
        actual_flat, expected_flat = actual_flat.to(_dtype.int64), expected_flat.to(_dtype.int64)
    abs_diff = magnitude(actual_flat - expected_flat)
    max_abs_diff, abs_diff_idx = _greatest_mismatch(abs_diff, matches_flat, matches.shape)
    rel_diff = abs_diff / magnitude(expected_flat)
    max_rel_diff, rel_diff_idx = _greatest_mismatch(rel_diff, matches_flat, matches.shape)
    return _make_mismatch_msg(default_identifier="Tensor-likes", identifier=identifier,
                              extra=extra, abs_diff=max_abs_diff, abs_diff_idx=abs_diff_idx,
                              atol=atol, rel_diff=max_rel_diff, rel_diff_idx=rel_diff_idx,
                              rtol=rtol)
