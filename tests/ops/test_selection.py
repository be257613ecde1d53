"""where_array (NOTE [Selecting by bits]): np.where's bits, without its branch per element."""

import numpy as np
import pytest

from ember.ops._selection import _MIN_ELEMENTS, where_array

RNG = np.random.default_rng(0)


def _values(shape, dtype):
    if np.dtype(dtype).kind == "b":
        return RNG.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(0, 100, shape).astype(dtype)
    values = RNG.standard_normal(shape).astype(dtype)
    flat = values.reshape(-1)
    flat[::7] = -0.0
    flat[::11] = np.nan
    flat.view(np.dtype(f"u{flat.itemsize}"))[::13] |= 1  # NaN payloads and odd bits
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int8, np.int64,
                                   np.uint16, np.bool_])
@pytest.mark.parametrize("shapes", [((70, 90), (70, 90), (70, 90)),  # past _MIN_ELEMENTS
                                    ((70, 90), (90,), ()),  # broadcast operands
                                    ((70, 1), (70, 90), (1, 90)),
                                    ((10, 9), (10, 9), (10, 9))])  # small: np.where itself
def test_where_array_gives_np_where_bits(dtype, shapes):
    mask_shape, a_shape, b_shape = shapes
    mask = RNG.random(mask_shape) < 0.5
    a, b = _values(a_shape, dtype), _values(b_shape, dtype)
    got, want = where_array(mask, a, b), np.where(mask, a, b)
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = np.dtype(f"u{got.dtype.itemsize}")
    np.testing.assert_array_equal(got.view(bits), want.view(bits))


def test_where_array_falls_back_for_mixed_dtypes_and_complex():
    mask = RNG.random(_MIN_ELEMENTS * 2) < 0.5
    a = RNG.standard_normal(mask.shape).astype(np.float32)
    for b in (a.astype(np.float64), a.astype(np.complex64)):
        np.testing.assert_array_equal(where_array(mask, b if b.dtype.kind == "c" else a, b),
                                      np.where(mask, b if b.dtype.kind == "c" else a, b))
