"""glibc's log1p in NumPy (ember/_rng/log1p.py): equal to glibc's own (through Python's
`math`) bit for bit, on torch's arguments (-u for 53-bit uniforms u), across fdlibm's branches
and on its special inputs; the elements left to glibc one by one are few."""

import math

import numpy as np
import pytest

from ember._rng import log1p

RNG = np.random.default_rng(1717)


def _glibc(values):
    return np.array([math.log1p(v) for v in values.tolist()], dtype=np.float64)


def _same(a, b):
    return np.array_equal(np.asarray(a).view(np.int64), np.asarray(b).view(np.int64))


@pytest.mark.parametrize("family", ["minus_u", "k_zero", "reduced", "wide", "near_zero"])
def test_log1p_equals_glibc(family):
    u = RNG.integers(0, 2 ** 53, 200_000, dtype=np.uint64).astype(np.float64) * 2.0 ** -53
    x = {"minus_u": -u,
         "k_zero": RNG.uniform(-0.2929, 0.4142, 200_000),  # f = x
         "reduced": np.concatenate([RNG.uniform(-1, -0.2929, 100_000),
                                    RNG.uniform(0.4142, 3, 100_000)]),
         "wide": np.exp(RNG.uniform(-60, 60, 200_000)) - 0.75,
         "near_zero": RNG.uniform(-3e-6, 3e-6, 200_000)}[family]
    x = x[x > -1]
    assert _same(log1p.glibc_log1p(x), _glibc(x))


@pytest.mark.parametrize("per_element_below", [0, 1024])  # the array path, and glibc's own
def test_special_inputs_and_branch_edges(per_element_below, monkeypatch):
    """Small arrays go to glibc one value at a time; both paths give glibc's answers."""
    monkeypatch.setattr(log1p, "_PER_ELEMENT_BELOW", per_element_below)
    edges = [0.0, -0.0, 1e-300, -1e-20, 2.0 ** -29, -(2.0 ** -29), 2.0 ** -54, 0.41421356,
             0.41422, -0.29289, -0.2929, -0.29289321881345254, 1e16, 2.0 ** 53, 1e300,
             math.inf, -0.5, 0.5, 1.0, -1 + 2.0 ** -53, 2.0 ** -20, -(2.0 ** -20)]
    x = np.array(edges).reshape(2, 11)
    out = log1p.glibc_log1p(x)
    assert out.shape == x.shape
    assert _same(out.reshape(-1), _glibc(x.reshape(-1)))


@pytest.mark.parametrize("per_element_below", [0, 1024])
def test_minus_one_raises_as_math_does(per_element_below, monkeypatch):
    monkeypatch.setattr(log1p, "_PER_ELEMENT_BELOW", per_element_below)
    with pytest.raises(ValueError):
        log1p.glibc_log1p(np.array([0.5, -1.0]))


def test_most_of_torchs_arguments_are_certified():
    u = RNG.random(100_000)
    _, unsure = log1p._log1p_chunk(-u)
    assert unsure.mean() < 0.08
