"""The deprecated upsampling functions of ember/ops/interpolate.py: torch's exact warnings
(category, message, the caller's file) and interpolate's values."""

import warnings

import numpy as np
import pytest
import torch

import ember


def _call(lib, name, kwargs):
    """(warnings as (category, message, filename), output) of F.<name>(x, **kwargs)."""
    x = lib.tensor(np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(lib.nn.functional, name)(x, **kwargs)
    return [(w.category, str(w.message), w.filename) for w in caught], out.numpy()


@pytest.mark.parametrize("name,kwargs", [
    ("upsample", {"scale_factor": 2}),
    ("upsample", {"size": (5, 7), "mode": "bilinear", "align_corners": True}),
    ("upsample_nearest", {"scale_factor": 2}),
    ("upsample_bilinear", {"size": (6, 9)}),
])
def test_deprecated_upsampling_warns_as_torch(name, kwargs):
    (got, out), (expected, expected_out) = _call(ember, name, kwargs), _call(torch, name, kwargs)
    assert got == expected
    assert got == [(UserWarning, f"`nn.functional.{name}` is deprecated. Use "
                    "`nn.functional.interpolate` instead.", __file__)]
    # (bilinear with align_corners=True is off by an ulp in places: not these functions' own)
    np.testing.assert_allclose(out, expected_out, rtol=1e-6)
