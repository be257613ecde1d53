"""The Tensor core (ember/_tensor.py): detach, requires_grad and conversions, against torch."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import error_of

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-6, "atol": 1e-8}



# ---- detach, requires_grad, conversions ----------------------------------------------------------
@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_detach_shares_memory_and_cuts_graph(lib):
    x = lib.ones(3, requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[0] = 5
    assert y[0].item() == 5
    y.detach_()
    assert not y.requires_grad and y.grad_fn is None
    assert x.data.data_ptr() == x.data_ptr() and not x.data.requires_grad


def test_requires_grad_errors():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        assert y.requires_grad_(True) is y  # setting True on a non-leaf that requires grad: ok
    ember_error = error_of(lambda: (ember.ones(2, requires_grad=True) * 2).requires_grad_(False))
    torch_error = error_of(lambda: (torch.ones(2, requires_grad=True) * 2).requires_grad_(False))
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    ember_error = error_of(lambda: ember.ones(2, dtype=ember.int64).requires_grad_())
    torch_error = error_of(lambda: torch.ones(2, dtype=torch.int64).requires_grad_())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)


def test_numpy_of_tensor_requiring_grad_raises():
    ember_error = error_of(lambda: ember.ones(2, requires_grad=True).numpy())
    torch_error = error_of(lambda: torch.ones(2, requires_grad=True).numpy())
    assert type(ember_error) is type(torch_error)
    assert str(ember_error) == str(torch_error)
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]


def test_cuda_raises_assertion_error_like_cpu_only_torch():
    ember_error = error_of(lambda: ember.ones(2).cuda())
    torch_error = error_of(lambda: torch.ones(2).cuda())
    assert type(ember_error) is type(torch_error) is AssertionError
    assert type(error_of(lambda: ember.ones(2).to("cuda"))) is AssertionError
    assert ember.cuda.is_available() is torch.cuda.is_available() is False
    assert ember.ones(2).to("cpu").device == ember.device("cpu")
