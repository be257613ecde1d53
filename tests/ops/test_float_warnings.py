"""PyTorch computes log(0), 1/0, sqrt(-1), 0**-1 silently; ember must not leak NumPy warnings."""

import warnings

import numpy as np
import pytest
import torch

import ember

CASES = {
    "log": lambda m, x: m.log(x),
    "log2": lambda m, x: m.log2(x),
    "log10": lambda m, x: m.log10(x),
    "log1p": lambda m, x: m.log1p(x - 1),
    "sqrt": lambda m, x: m.sqrt(x - 1),
    "rsqrt": lambda m, x: m.rsqrt(x),
    "reciprocal": lambda m, x: m.reciprocal(x),
    "asin": lambda m, x: m.asin(x + 1.5),
    "acos": lambda m, x: m.acos(x + 1.5),
    "div": lambda m, x: x / (x * 0),
    "remainder": lambda m, x: x % (x * 0),
    "pow": lambda m, x: x ** -1.0,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_special_values_match_torch_without_warnings(name):
    values = np.array([0.0, -1.0, 2.0], dtype=np.float32)
    expected = CASES[name](torch, torch.tensor(values)).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        actual = CASES[name](ember, ember.tensor(values)).numpy()
    np.testing.assert_allclose(actual, expected, equal_nan=True)
