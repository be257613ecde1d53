"""Casts and clone (ember/ops/conversion.py) against torch: values, dtypes, gradients, memory."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, both, sample

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "float16"])
def test_cast_backward(dtype):
    e, t = both(sample(RNG, "any", (3,)), requires_grad=True)
    ye, yt = e.to(getattr(ember, dtype)), t.to(getattr(torch, dtype))
    assert_same(ye, yt)
    assert ye.requires_grad == yt.requires_grad
    if yt.requires_grad:
        ye.backward(ember.ones(3, dtype=getattr(ember, dtype)))
        yt.backward(torch.ones(3, dtype=getattr(torch, dtype)))
        assert_same(e.grad, t.grad)


def test_clone_backward_and_memory():
    e, t = both(sample(RNG, "any", (3,)), requires_grad=True)
    ce, ct = e.clone(), t.clone()
    assert ce.grad_fn.name() == ct.grad_fn.name()
    assert ce.data_ptr() != e.data_ptr()
    ce.backward(ember.ones(3, dtype=ember.float64))
    ct.backward(torch.ones(3, dtype=torch.float64))
    assert_same(e.grad, t.grad)
