"""The normalisation kernels in the torch namespace (ember/ops/nn_native.py) against torch:
native_batch_norm, _native_batch_norm_legit, native_layer_norm, native_group_norm: the output,
the statistics they return, the running statistics they update, gradients and errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(0)
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _run(lib, call, x, params):
    """call(lib, x, weight, bias, running_mean, running_var) with fresh leaves."""
    xt = lib.tensor(x, requires_grad=True)
    w, b = (lib.tensor(p, requires_grad=True) for p in params)
    mean = lib.zeros(w.shape[0], dtype=lib.float64)
    var = lib.ones(w.shape[0], dtype=lib.float64)
    outputs = call(lib, xt, w, b, mean, var)
    seeds = [lib.tensor(np.linspace(-1, 1, o.numel()).reshape(tuple(o.shape)), dtype=o.dtype)
             for o in outputs]
    grads = lib.autograd.grad([o for o in outputs if o.requires_grad],
                              [xt, w, b], [s for o, s in zip(outputs, seeds) if o.requires_grad],
                              allow_unused=True)
    return list(outputs) + [mean, var] + list(grads)


CALLS = {
    "batch_train": (lambda m, x, w, b, rm, rv: m.native_batch_norm(x, w, b, rm, rv, True, 0.1,
                                                                   1e-5), (4, 3, 5)),
    "batch_eval": (lambda m, x, w, b, rm, rv: m.native_batch_norm(x, w, b, rm, rv, False, 0.1,
                                                                  1e-5), (4, 3)),
    "legit": (lambda m, x, w, b, rm, rv: m._native_batch_norm_legit(x, w, b, rm, rv, True, 0.2,
                                                                    1e-3), (2, 3, 2, 2)),
    "legit_no_stats": (lambda m, x, w, b, rm, rv: m._native_batch_norm_legit(x, w, b, True, 0.1,
                                                                             1e-5), (5, 3)),
    "layer": (lambda m, x, w, b, rm, rv: m.native_layer_norm(x.reshape(4, 5, 3), (3,), w, b,
                                                             1e-5), (4, 3, 5)),
    "group": (lambda m, x, w, b, rm, rv: m.native_group_norm(x, w, b, 2, 3, 4, 3, 1e-5),
              (2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_native_norms_match_torch(name):
    call, shape = CALLS[name]
    x = RNG.standard_normal(shape)
    params = [RNG.standard_normal(3), RNG.standard_normal(3)]
    results_e = _run(ember, call, x, params)
    results_t = _run(torch, call, x, params)
    assert len(results_e) == len(results_t)
    for e, t in zip(results_e, results_t):
        if t is None:
            assert e is None
        else:
            assert_same(e, t, **TOL)


def test_native_batch_norm_gradcheck():
    x = ember.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    w = ember.tensor(RNG.standard_normal(3), requires_grad=True)
    assert ember.autograd.gradcheck(
        lambda a, b: ember.native_batch_norm(a, b, None, None, None, True, 0.1, 1e-5)[0], (x, w))


@pytest.mark.parametrize("call", [
    lambda m: m.native_layer_norm(m.ones(1, 2, 3), (), None, None, 1e-5),
    lambda m: m.native_layer_norm(m.ones(1, 2, 3), (1, 2, 3), m.ones(1, 2), None, 1e-5),
    lambda m: m.native_layer_norm(m.ones(1, 2, 3), (1, 2, 3), None, m.ones(1, 2), 1e-5),
    lambda m: m.native_layer_norm(m.ones(2, 2, 3), (2, 2), None, None, 1e-5),
])
def test_native_layer_norm_errors_match_torch(call):
    assert_same_error(call)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_native_group_norm_16_bit(dtype, affine):
    """PyTorch normalises and applies the affine map in float32, rounding once: the same 16-bit
    output, statistics in the input's dtype, gradients through the casts."""
    x = RNG.standard_normal((2, 6, 5)) * 4 + 1
    w, b = RNG.standard_normal(6), RNG.standard_normal(6)
    results = []
    for lib in (ember, torch):
        dt = getattr(lib, dtype)
        leaves = [lib.from_numpy(a.copy()).to(dt).requires_grad_() for a in (x, w, b)]
        params = leaves[1:] if affine else [None, None]
        y, mean, rstd = lib.native_group_norm(leaves[0], *params, 2, 6, 5, 3, 1e-5)
        y.float().sum().backward()
        results.append([y, mean, rstd, leaves[0].grad])
    for e, t in zip(*results):
        assert str(e.dtype) == str(t.dtype)
        assert_same(e.float(), t.float(), rtol=1e-2, atol=1e-2)
    assert_same(results[0][0].float(), results[1][0].float(), rtol=0, atol=0)


def test_native_batch_norm_one_value_per_channel_running_var_is_nan():
    """The unbiased variance of one value is 0/0: torch's running_var becomes NaN."""
    results = []
    for lib in (ember, torch):
        running_mean, running_var = lib.zeros(2), lib.ones(2)
        lib.native_batch_norm(lib.tensor([[1.0, 2.0]]), None, None, running_mean, running_var,
                              True, 0.1, 1e-5)
        results.append((running_mean, running_var))
    for e, t in zip(*results):
        assert_same(e, t)
