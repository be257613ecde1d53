"""pow by a scalar exponent (ember/ops/_powers.py, NOTE [pow by a scalar]) against torch bit for
bit: the exponents PyTorch's CPU kernel computes by formula, with signed zeros, infinities and
NaN, float32 and float64, 0-d and n-d."""

import numpy as np
import pytest
import torch

import ember


def _values(dtype):
    a = np.random.default_rng(3).standard_normal(10_001) * 10
    a[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e30, 1.0]
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [2, 3, -0.5, -1, -2, 1, 2.0, 3.0])
def test_scalar_power_matches_torch_bit_for_bit(exponent, dtype):
    x = _values(dtype)
    with np.errstate(all="ignore"):
        e = (ember.tensor(x) ** exponent).numpy()
    t = (torch.tensor(x) ** exponent).numpy()
    assert e.dtype == t.dtype
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    numbers = ~np.isnan(t)
    np.testing.assert_array_equal(e[numbers].view(f"u{e.itemsize}"),
                                  t[numbers].view(f"u{t.itemsize}"))


@pytest.mark.parametrize("exponent", [2, 3, -1, 1])
def test_zero_dim_power_and_its_gradient(exponent):
    a = ember.tensor(3.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    y, z = a ** exponent, b ** exponent
    y.backward()
    z.backward()
    assert y.shape == () and type(y.item()) is float
    assert y.item() == z.item() and a.grad.item() == b.grad.item()
