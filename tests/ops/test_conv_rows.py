"""ember/ops/_conv_rows.py: columns read as whole rows of the input's phases (NOTE [Columns of
whole padded rows], NOTE [Phases of a strided convolution]) equal the short-row columns, and
col2im on whole rows gives `_col2im`'s bits, for every stride, dilation, padding and group."""

import numpy as np
import pytest

from ember.ops import _conv_kernels as kernels
from ember.ops import _conv_rows as rows
from ember.ops._conv_kernels import _Geometry

# (input H, W, kernel, stride, dilation, padding lo, padding hi, groups)
_CASES = [
    ((32, 32), (3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 1),
    ((32, 32), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1),
    ((17, 19), (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2),
    ((16, 24), (2, 3), (2, 3), (1, 1), (0, 1), (1, 0), 1),
    ((20, 20), (3, 3), (3, 3), (2, 2), (2, 2), (2, 2), 1),
    ((15, 16), (5, 1), (1, 2), (1, 1), (2, 0), (2, 0), 1),
    ((12, 18), (3, 3), (2, 1), (2, 1), (2, 1), (1, 0), 2),
]


def _out(size, kernel, stride, dilation, lo, hi):
    return tuple((s + a + b - d * (k - 1) - 1) // st + 1
                 for s, k, st, d, a, b in zip(size, kernel, stride, dilation, lo, hi))


@pytest.mark.parametrize("case", _CASES, ids=str)
def test_row_columns_are_the_columns_with_extra_ones(case):
    size, kernel, stride, dilation, lo, hi, groups = case
    geo = _Geometry(stride, dilation, lo, hi, groups)
    out = _out(size, kernel, stride, dilation, lo, hi)
    x = np.random.default_rng(0).standard_normal((3, 4) + size)
    cols, width = rows.row_columns(x, kernel, geo, out)
    assert width >= out[1]
    extended = cols.reshape(cols.shape[:2] + (3, out[0], width))
    expected = kernels._columns(x, kernel, geo, out).reshape(cols.shape[:2] + (3,) + out)
    np.testing.assert_array_equal(extended[..., :out[1]], expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", _CASES, ids=str)
def test_col2im_on_rows_gives_the_same_bits(case, dtype, monkeypatch):
    size, kernel, stride, dilation, lo, hi, groups = case
    geo = _Geometry(stride, dilation, lo, hi, groups)
    out = _out(size, kernel, stride, dilation, lo, hi)
    rng = np.random.default_rng(1)
    # convT from 6 channels into 4: more input channels than output ones, so that with stride
    # 1 it is not computed as the convolution it equals (nor spectrally: switched off)
    gy = rng.standard_normal((5, 6) + out).astype(dtype)
    w = rng.standard_normal((6, 4 // groups) + kernel).astype(dtype)
    monkeypatch.setattr(kernels, "_transpose_fits_spectral", lambda *a: False)
    calls = []
    monkeypatch.setattr(kernels, "row_col2im", lambda *a: calls.append(a) or rows.row_col2im(*a))
    by_rows = kernels._conv_transpose_forward(gy, w, geo, size)
    padded = tuple(max(a + s, (o - 1) * st + d * (k - 1) + 1) for a, s, o, st, d, k in
                   zip(lo, size, out, stride, dilation, kernel))
    assert bool(calls) == rows.fits_rows(padded, kernel, geo, out)
    monkeypatch.setattr(kernels, "fits_rows", lambda *a: False)
    np.testing.assert_array_equal(by_rows, kernels._conv_transpose_forward(gy, w, geo, size))


@pytest.mark.parametrize("where", ["weight", "input"])
def test_an_inf_gives_torchs_nans(where):
    torch = pytest.importorskip("torch")
    import ember

    gy = np.zeros((2, 6, 8, 8), dtype=np.float32)
    gy[:, :, 0, 0] = 1.0
    w = np.ones((6, 4, 3, 3), dtype=np.float32)
    (w if where == "weight" else gy)[0, 0, 1, 1] = np.inf
    with np.errstate(invalid="ignore"):
        mine = ember.nn.functional.conv_transpose2d(ember.tensor(gy), ember.tensor(w), stride=2,
                                                    padding=1).numpy()
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(gy), torch.tensor(w), stride=2,
                                                  padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(theirs))
    np.testing.assert_allclose(mine, theirs, rtol=1e-6)
