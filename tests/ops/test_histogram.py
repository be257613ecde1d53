"""Counting (ember/ops/histogram.py) against torch: histc, histogram, histogramdd, bincount,
unique and unique_consecutive.

Exact comparisons (counts, edges, inverse indices) over bins given as a count or as edges,
ranges, weights, densities, values on the edges and outside the range, empty and constant
inputs, dims; then dtypes and PyTorch's errors.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, assert_same_outputs, both
from tests.ops import _tables

RNG = np.random.default_rng(0)
EXACT = {"rtol": 1e-6, "atol": 1e-6}
EDGES = np.array([-2.0, -0.5, 0.0, 1.0, 2.5], dtype=np.float32)


def _points(shape, dtype=np.float32):
    """Normal samples with some values exactly on bin edges and repeated."""
    values = RNG.standard_normal(shape).astype(dtype)
    flat = values.reshape(-1)
    flat[: min(3, flat.size)] = np.array([0.0, 1.0, -0.5], dtype=dtype)[: min(3, flat.size)]
    return values


# ---- histc, histogram, histogramdd -------------------------------------------------------------
HISTOGRAMS = {
    "histc": lambda m, x: m.histc(x),
    "histc_bins": lambda m, x: x.histc(7),
    "histc_range": lambda m, x: m.histc(x, bins=4, min=-1, max=1),
    "histogram": lambda m, x: m.histogram(x, 5),
    "histogram_range": lambda m, x: x.histogram(4, range=(-1.0, 1.0)),
    "histogram_edges": lambda m, x: m.histogram(x, m.from_numpy(EDGES.copy())),
    "histogram_weight": lambda m, x: m.histogram(x, 3, weight=x.abs()),
    "histogram_density": lambda m, x: m.histogram(x, 6, density=True),
    "histogram_edges_density": lambda m, x: m.histogram(x, m.from_numpy(EDGES.copy()),
                                                        density=True, weight=x * x),
}
HISTOGRAMS_DD = {
    "histogramdd": lambda m, x: m.histogramdd(x, 3),
    "histogramdd_bins": lambda m, x: m.histogramdd(x, [2, 4]),
    "histogramdd_range": lambda m, x: m.histogramdd(x, [2, 3], range=[-1.0, 1.0, 0.0, 2.0]),
    "histogramdd_edges": lambda m, x: m.histogramdd(
        x, [m.from_numpy(EDGES.copy()), m.tensor([-1.0, 0.0, 3.0])]),
    "histogramdd_weight_density": lambda m, x: m.histogramdd(
        x, [3, 2], weight=x[..., 0].abs(), density=True),
}


def _compare(call, array):
    e, t = both(array)
    ye, yt = call(ember, e), call(torch, t)
    if isinstance(yt, tuple) and isinstance(yt[1], (tuple, list)):  # histogramdd
        assert_same(ye[0], yt[0], **EXACT)
        assert len(ye[1]) == len(yt[1])
        for a, b in zip(ye[1], yt[1]):
            assert_same(a, b, **EXACT)
        return
    assert_same_outputs(ye, yt, **EXACT)


@pytest.mark.parametrize("case", sorted(HISTOGRAMS))
@pytest.mark.parametrize("shape", [(50,), (4, 6)])
def test_histograms_match_torch(case, shape):
    _compare(HISTOGRAMS[case], _points(shape))


@pytest.mark.parametrize("case", sorted(HISTOGRAMS_DD))
@pytest.mark.parametrize("shape", [(30, 2), (3, 5, 2)])
def test_histogramdd_matches_torch(case, shape):
    _compare(HISTOGRAMS_DD[case], _points(shape))


@pytest.mark.parametrize("case", ["histc", "histogram", "histogram_density", "histc_range"])
@pytest.mark.parametrize("array", [np.zeros((0,), np.float32), np.full((5,), 2.5, np.float32),
                                   np.array([3.0, -4.0], np.float64)])
def test_empty_constant_and_float64_inputs(case, array):
    _compare(HISTOGRAMS[case], array)


def test_histogramdd_empty_and_three_dims():
    _compare(HISTOGRAMS_DD["histogramdd"], np.zeros((0, 3), np.float32))
    _compare(lambda m, x: m.histogramdd(x, [2, 3, 2]), _points((40, 3)))


def test_histogram_out():
    e, t = both(_points((20,)))
    hist, edges = ember.empty(0), ember.empty(0)
    ember.histogram(e, 4, out=(hist, edges))
    expected = torch.histogram(t, 4)
    assert_same(hist, expected.hist, **EXACT)
    assert_same(edges, expected.bin_edges, **EXACT)
    assert repr(ember.histogram(e, 2)).startswith("torch.return_types.histogram(")


# ---- bincount ------------------------------------------------------------------------------------
@pytest.mark.parametrize("weights", [None, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("minlength", [0, 12])
def test_bincount(weights, minlength):
    values = RNG.integers(0, 8, 30)
    e, t = both(values)
    w = None if weights is None else (RNG.standard_normal(30) * 3).astype(weights)
    we, wt = (None, None) if w is None else both(w)
    assert_same(ember.bincount(e, we, minlength), torch.bincount(t, wt, minlength), **EXACT)
    assert_same(e.bincount(minlength=minlength), t.bincount(minlength=minlength), **EXACT)


def test_bincount_empty_and_uint8():
    for array in (np.zeros((0,), np.int64), np.array([3, 0, 3], np.uint8)):
        e, t = both(array)
        assert_same(ember.bincount(e), torch.bincount(t), **EXACT)


# ---- unique, unique_consecutive ------------------------------------------------------------------
UNIQUES = {
    "unique": lambda m, x: m.unique(x),
    "unique_all": lambda m, x: m.unique(x, return_inverse=True, return_counts=True),
    "unique_inverse": lambda m, x: x.unique(return_inverse=True),
    "unique_counts": lambda m, x: m.unique(x, sorted=True, return_counts=True),
    "unique_dim0": lambda m, x: m.unique(x, dim=0, return_inverse=True, return_counts=True),
    "unique_dim1": lambda m, x: x.unique(dim=1, return_counts=True),
    "unique_consecutive": lambda m, x: m.unique_consecutive(x),
    "unique_consecutive_all": lambda m, x: x.unique_consecutive(return_inverse=True,
                                                                return_counts=True),
    "unique_consecutive_dim": lambda m, x: m.unique_consecutive(x, return_inverse=True,
                                                                return_counts=True, dim=0),
}


def _repeated_rows(dtype):
    rows = RNG.integers(0, 3, (3, 4))
    return rows[RNG.integers(0, 3, 7)].astype(dtype)  # (7, 4) with repeated rows


@pytest.mark.parametrize("case", sorted(UNIQUES))
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_unique_matches_torch(case, dtype):
    e, t = both(_repeated_rows(dtype))
    assert_same_outputs(UNIQUES[case](ember, e), UNIQUES[case](torch, t), **EXACT)


@pytest.mark.parametrize("case", ["unique_all", "unique_consecutive_all"])
def test_unique_of_0d_and_empty(case):
    for array in (np.array(2.5, np.float32), np.zeros((0,), np.float32)):
        e, t = both(array)
        assert_same_outputs(UNIQUES[case](ember, e), UNIQUES[case](torch, t), **EXACT)


# ---- errors --------------------------------------------------------------------------------------
ERRORS = [
    (lambda m, x: m.histc(x), np.arange(4)),
    (lambda m, x: m.histc(x, 0), np.ones(4, np.float32)),
    (lambda m, x: m.histc(x, 3, 2, 1), np.ones(4, np.float32)),
    (lambda m, x: m.histogram(x, 0), np.ones(4, np.float32)),
    (lambda m, x: m.histogram(x), np.arange(4)),
    (lambda m, x: m.histogramdd(x, [1, 1, 1]), np.ones((4, 2), np.float32)),
    (lambda m, x: m.bincount(x), np.array([-1, 2])),
    (lambda m, x: m.bincount(x), np.ones((2, 2), np.int64)),
    (lambda m, x: m.bincount(x), np.ones(3, np.float32)),
    (lambda m, x: m.bincount(x, minlength=-1), np.ones(3, np.int64)),
    (lambda m, x: m.bincount(x, m.ones(2)), np.ones(3, np.int64)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    call, array = ERRORS[index]
    assert_same_error(call, array)


# ---- issue #19's fuzz: histogram/histogramdd check in PyTorch's order (NOTE [histogram's checks])
def _first(result):
    """hist of a histogram, or the hist and the first edges of a histogramdd."""
    return result.hist if not isinstance(result.bin_edges, tuple) else \
        (result.hist, *result.bin_edges[:1])


CHECKS = {
    "bins of another dtype": lambda m: m.histogram(m.ones(5), m.tensor([0, 1, 2])),
    "bins 0-d int tensor": lambda m: m.histogram(m.ones(5), m.tensor(3)),
    "bins of no edges": lambda m: m.histogram(m.ones(5), m.ones(0)),
    "bins of one edge": lambda m: m.histogram(m.ones(5), m.ones(1)),
    "bins 2-d": lambda m: m.histogram(m.ones(5), m.ones(1, 3)),
    "weight of another dtype": lambda m: m.histogram(m.ones(5), 3,
                                                     weight=m.ones(5, dtype=m.float64)),
    "weight of another size": lambda m: m.histogram(m.ones(5), 3, weight=m.ones(4)),
    "0-d weight": lambda m: _first(m.histogram(m.tensor(2.0), 3, weight=m.tensor(1.0))),
    "int input, bins 0": lambda m: m.histogram(m.ones(2, dtype=m.int64), 0),
    "int input, float bins": lambda m: m.histogram(m.ones(2, dtype=m.int64), m.ones(2)),
    "bins too many to allocate": lambda m: m.histogram(m.ones(2), 2**60),
    "range reversed": lambda m: m.histogram(m.ones(2), 3, range=(2.0, 1.0)),
    "dd of a 0-d input": lambda m: m.histogramdd(m.tensor(2.0), [1]),
    "dd of a 0-d input, int bins": lambda m: m.histogramdd(m.tensor(2.0), 2),
    "dd of a 1-d input": lambda m: m.histogramdd(m.ones(3), 2),
    "dd bins too many to allocate": lambda m: m.histogramdd(m.ones(5, 2), 10**7),
    "dd bins -1": lambda m: m.histogramdd(m.ones(2, 3), -1),
    "dd range of another length": lambda m: m.histogramdd(m.ones(2, 3), [1, 2], range=[0.0, 1.0]),
    "dd edges of another dtype": lambda m: m.histogramdd(m.ones(5, 2),
                                                         [m.ones(2), m.ones(2, dtype=m.int64)]),
    "dd too few edges": lambda m: m.histogramdd(m.ones(5, 2), [m.ones(2)]),
    "dd weight of another shape": lambda m: m.histogramdd(m.ones(2, 2), 3, weight=m.ones(2, 1)),
    "dd points of no dims": lambda m: _first(m.histogramdd(m.ones(2, 0), 2)),
    "dd empty int points": lambda m: m.histogramdd(m.ones(0, 2, dtype=m.int64), 3),
}

test_histogram_checks = _tables.result_or_error(CHECKS)
