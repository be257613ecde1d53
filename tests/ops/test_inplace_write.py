"""`_inplace_update`'s write (ember/ops/inplace.py `_write`): a big write is shared out to the
threads in flat blocks, an overlapping or casting one is NumPy's single copy; either way the
tensor holds what PyTorch's in-place op leaves."""

import numpy as np
import pytest
import torch

import ember
from ember import _threads


@pytest.fixture(params=[1, 2])
def threads(request, monkeypatch):
    monkeypatch.setattr(_threads, "FLAT_BLOCK", 7)  # small blocks: many on each thread
    previous = ember.get_num_threads()
    ember.set_num_threads(request.param)
    yield request.param
    ember.set_num_threads(previous)


@pytest.mark.parametrize("op", ["relu_", "add_", "mul_", "sub_", "neg_", "abs_"])
def test_big_in_place_ops_match_torch(op, threads):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 11, 13)).astype(np.float32)
    results = []
    for lib in (ember, torch):
        x, y = lib.tensor(a.copy()), lib.tensor(b)
        out = getattr(x, op)(y) if op in ("add_", "mul_", "sub_") else getattr(x, op)()
        assert out is x
        results.append(x.numpy())
    np.testing.assert_array_equal(*results)


def test_overlapping_and_casting_writes(threads):
    base = ember.arange(40, dtype=ember.float32)
    base[:-1].copy_(base[1:])  # source and target overlap
    assert base.tolist() == list(range(1, 40)) + [39]
    ints = ember.zeros(30, dtype=ember.int64)
    ints.add_(ember.arange(30))  # the int64 result written as int64
    assert ints.tolist() == list(range(30))
    x = ember.ones(30, dtype=ember.float64)
    x.mul_(ember.full((30,), 2.5, dtype=ember.float32))  # a float32 operand, float64 result
    assert x.tolist() == [2.5] * 30


def test_gradients_through_a_big_relu_(threads):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 9, 8)).astype(np.float32)
    grads = []
    for lib in (ember, torch):
        leaf = lib.tensor(a, requires_grad=True)
        y = leaf * 2
        y.relu_()
        (y * y).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_array_equal(*grads)
