"""searchsorted, bucketize, isin and unravel_index (ember/ops/search.py) against torch: values and
dtypes over 1-D and batched boundaries, both sides, sorters, NaN, Python-number inputs, out=,
and the errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, both

RNG = np.random.default_rng(0)
NAN = float("nan")

SEQ = [1.0, 2.0, 2.0, 3.0, NAN]
ROWS = [[1.0, 2.0, 5.0], [0.0, 0.0, NAN]]
# id -> call(lib): every result compared exactly (values and dtype)
CALLS = {
    "left": lambda m: m.searchsorted(m.tensor(SEQ), m.tensor([[2.0, 0.0], [9.0, NAN]])),
    "right": lambda m: m.searchsorted(m.tensor(SEQ), m.tensor([2.0, 3.0, NAN]), right=True),
    "side_right": lambda m: m.searchsorted(m.tensor(SEQ), m.tensor([2.0]), side="right"),
    "side_left_right_false": lambda m: m.searchsorted(m.tensor(SEQ), m.tensor([2.0]),
                                                      side="left", right=False),
    "batched": lambda m: m.searchsorted(m.tensor(ROWS), m.tensor([[2.0, 5.0, 6.0],
                                                                  [0.0, NAN, -1.0]])),
    "batched_right": lambda m: m.searchsorted(m.tensor(ROWS), m.tensor([[2.0, 5.0],
                                                                        [0.0, NAN]]), right=True),
    "scalar": lambda m: m.searchsorted(m.tensor(SEQ), 2.5),
    "int32": lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(2.5), out_int32=True),
    "sorter": lambda m: m.searchsorted(m.tensor([3.0, 1.0, 2.0]), m.tensor([2.5, 0.0]),
                                       sorter=m.tensor([1, 2, 0])),
    "int_boundaries": lambda m: m.searchsorted(m.tensor([1, 2, 3]), m.tensor([2.5, 2.0])),
    "empty": lambda m: m.searchsorted(m.tensor([1.0, 2.0]), m.zeros(0)),
    "bucketize": lambda m: m.bucketize(m.tensor([[1, 5], [0, 3]]), m.tensor([1, 3, 5])),
    "bucketize_right": lambda m: m.bucketize(m.tensor([1.0, 5.0, 6.0]), m.tensor([1.0, 3.0, 5.0]),
                                             right=True, out_int32=True),
    "bucketize_scalar": lambda m: m.bucketize(3, m.tensor([1, 3, 5])),
    "isin": lambda m: m.isin(m.tensor([[1, 2], [3, 9]]), m.tensor([2, 9])),
    "isin_invert": lambda m: m.isin(m.tensor([1, 2, 3]), m.tensor([2, 9]), invert=True),
    "isin_scalar_elements": lambda m: m.isin(2, m.tensor([2, 9])),
    "isin_scalar_test": lambda m: m.isin(m.tensor([2.0, 9.0]), 2),
    "isin_mixed_dtypes": lambda m: m.isin(m.tensor([2.0, 9.5]), m.tensor([2, 9])),
    "isin_unique": lambda m: m.isin(m.tensor([1, 2]), m.tensor([2, 3]), assume_unique=True),
    "unravel": lambda m: m.unravel_index(m.tensor([4, 1, 5]), (2, 3)),
    "unravel_int_shape": lambda m: m.unravel_index(m.tensor(4), 6),
    "unravel_2d": lambda m: m.unravel_index(m.tensor([[22], [41]]), (3, 4, 5)),
    "unravel_negative": lambda m: m.unravel_index(m.tensor(-1), (2, 3)),
    "unravel_past_end": lambda m: m.unravel_index(m.tensor(6), (2, 3)),
    "unravel_empty_shape": lambda m: m.unravel_index(m.tensor(0), ()),
    "unravel_int32": lambda m: m.unravel_index(m.tensor([5], dtype=m.int32), m.Size([2, 3])),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_dtypes(name):
    got, expected = CALLS[name](ember), CALLS[name](torch)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for a, b in zip(got, expected):
            assert_same(a, b, exact=True)
    else:
        assert_same(got, expected, exact=True)


@pytest.mark.parametrize("right", [False, True])
def test_batched_matches_torch_on_random_rows(right):
    seq = np.sort(RNG.integers(-3, 4, (2, 3, 6)).astype(np.float32), axis=-1)
    values = RNG.integers(-4, 5, (2, 3, 5)).astype(np.float32)
    (se, st), (ve, vt) = both(seq), both(values)
    assert_same(ember.searchsorted(se, ve, right=right), torch.searchsorted(st, vt, right=right),
                exact=True)


def test_out():
    results = []
    for m in (ember, torch):
        out = m.zeros(0, dtype=m.int64)
        m.searchsorted(m.tensor([1.0, 2.0]), m.tensor([1.5, 3.0]), out=out)
        flags = m.zeros(0, dtype=m.bool)
        m.isin(m.tensor([1, 2]), m.tensor([2]), out=flags)
        results.append((out, flags))
    for a, b in zip(*results):
        assert_same(a, b, exact=True)


ERRORS = [
    lambda m: m.searchsorted(m.tensor([1.0]), m.tensor([2.0]), side="left", right=True),
    lambda m: m.searchsorted(m.tensor([[1.0, 2, 3]]), m.tensor([[2.0, 5], [1, 1]])),
    lambda m: m.searchsorted(m.tensor(1.0), m.tensor([2.5])),
    lambda m: m.searchsorted(m.tensor([1.0]), m.tensor([2.5]), side="middle"),
    lambda m: m.searchsorted(m.tensor([1.0, 2, 3]), m.tensor([2.0]), sorter=m.tensor([0, 1])),
    lambda m: m.searchsorted(m.tensor([1.0, 2, 3]), m.tensor([2.0]), sorter=m.tensor([0, 1, 5])),
    lambda m: m.searchsorted(m.tensor([1.0, 2, 3]), m.tensor([2.0]),
                             sorter=m.tensor([0.0, 1, 2])),
    lambda m: m.bucketize(m.tensor([3]), m.tensor([[1, 3, 5]])),
    lambda m: m.isin(2, 2),
    lambda m: m.unravel_index(m.tensor(1.0), (2, 3)),
    lambda m: m.unravel_index(m.tensor(1), (-2, 3)),
    lambda m: m.unravel_index(m.tensor(True), (2, 3)),
    lambda m: m.searchsorted(m.tensor([False, True]), m.tensor([True])),
    lambda m: m.isin(m.tensor([True]), m.tensor([1])),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    assert_same_error(ERRORS[index], same_message=index != 8)


@pytest.mark.parametrize("name, call", [
    ("bool boundaries, float values", lambda m: m.bucketize(m.tensor([0.5, 2.0]),
                                                             m.tensor([False, True]))),
    ("bool boundaries, int values, right", lambda m: m.bucketize(
        m.tensor([1, 2]), m.tensor([True]), right=True)),
    ("bool values and boundaries", lambda m: m.bucketize(m.tensor([True]), m.tensor([True]))),
    ("a number among bool boundaries", lambda m: m.bucketize(1.5, m.tensor([False, True]))),
])
def test_searches_in_the_common_dtype(name, call):
    """PyTorch promotes values and boundaries to one dtype; only all-bool has no kernel."""
    try:
        expected = call(torch)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            call(ember)
        return
    assert_same(call(ember), expected)
