"""PyTorch's legacy layer names against torch: nn.CrossMapLRN2d (Lua Torch's cross-channel
LRN, quirks and own backward formula included), the deprecated nn.NLLLoss2d and nn.Container
(their warnings too), and nn.UninitializedParameter / UninitializedBuffer where torch.nn has
them."""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("channels", [1, 3, 6, 9])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_map_lrn2d_matches_torch(size, channels, dtype):
    rng = np.random.default_rng(size * 10 + channels)
    x = rng.standard_normal((2, channels, 3, 4)).astype(dtype)
    gy = rng.standard_normal(x.shape).astype(dtype)
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        layer = lib.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)
        y = layer(xt)
        y.backward(lib.tensor(gy))
        results.append((y, xt.grad, repr(layer)))
    (ye, ge, re), (yt, gt, rt) = results
    assert re == rt
    assert_same(ye, yt)
    assert_same(ge, gt)


@pytest.mark.parametrize("case", ["not_4d", "size_1_backward"])
def test_cross_map_lrn2d_errors_as_torch(case):
    def run(lib):
        if case == "not_4d":
            return lib.nn.CrossMapLRN2d(3)(lib.ones(2, 3, 4))
        x = lib.ones(1, 3, 2, 2, requires_grad=True)
        lib.nn.CrossMapLRN2d(1)(x).sum().backward()
    assert_same_error(run)


def _warned(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = make()
    return module, [(w.category, str(w.message)) for w in caught]


def test_nll_loss2d_is_nll_loss_with_torchs_warning():
    (le, we), (lt, wt) = (_warned(lambda: lib.nn.NLLLoss2d(ignore_index=1))
                          for lib in (ember, torch))
    assert we == wt and we
    assert isinstance(le, ember.nn.NLLLoss) and repr(le) == repr(lt)
    logits = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    target = np.random.default_rng(1).integers(0, 3, (2, 4, 4))
    assert_same(le(ember.tensor(logits).log_softmax(1), ember.tensor(target)),
                lt(torch.tensor(logits).log_softmax(1), torch.tensor(target)))


def test_container_registers_its_modules_with_torchs_warning():
    made = [_warned(lambda: lib.nn.Container(first=lib.nn.Linear(2, 3), second=lib.nn.ReLU()))
            for lib in (ember, torch)]
    (ce, we), (ct, wt) = made
    assert we == wt and we
    assert repr(ce) == repr(ct)
    assert list(ce.state_dict()) == list(ct.state_dict())


def test_uninitialized_names_in_nn():
    assert ember.nn.UninitializedParameter is ember.nn.parameter.UninitializedParameter
    assert ember.nn.UninitializedBuffer is ember.nn.parameter.UninitializedBuffer
    assert isinstance(ember.nn.LazyLinear(3).weight, ember.nn.UninitializedParameter)
