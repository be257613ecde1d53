"""The differential check of one distribution method against torch (shared by
test_distributions.py and test_moments.py): values, then gradients w.r.t. the parameters and
the value."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, to_ember, to_torch
from tests.distributions._cases import CASES, inputs

CASE_DTYPES = [(name, dtype) for name, case in CASES.items() for dtype in case.dtypes]
TOL = {"float32": dict(rtol=3e-4, atol=3e-5), "float64": dict(rtol=1e-6, atol=1e-9)}
GRAD_TOL = {"float32": dict(rtol=2e-3, atol=2e-4), "float64": dict(rtol=1e-5, atol=1e-8)}


def _tensors(convert, case, params, values, probs):
    """The library's tensors: float parameters (and continuous values) require grad."""
    tensors = {}
    for key, value in params.items():
        wants_grad = isinstance(value, np.ndarray) and key not in case.no_grad
        tensors[key] = convert(value, requires_grad=wants_grad) if isinstance(
            value, np.ndarray) else value
    value_grad = not case.discrete and values.dtype.kind == "f"
    return tensors, convert(values, requires_grad=value_grad), convert(probs, requires_grad=True)


def _evaluate(dist, method, value, prob):
    if method in ("log_prob", "cdf"):
        return getattr(dist, method)(value)
    if method == "icdf":
        return dist.icdf(prob)
    if method in ("entropy", "perplexity"):
        return getattr(dist, method)()
    return getattr(dist, method)


def _leaves(tensors, value, prob):
    return [t for t in list(tensors.values()) + [value, prob]
            if hasattr(t, "requires_grad") and t.requires_grad]


def check_method_against_torch(name, dtype, method):
    """Values and gradients of one method; where torch raises, ember raises the same type."""
    case = CASES[name]
    params, values, probs = inputs(name, dtype)
    t_params, t_value, t_prob = _tensors(to_torch, case, params, values, probs)
    e_params, e_value, e_prob = _tensors(to_ember, case, params, values, probs)
    try:
        t_out = _evaluate(case.build(torch, t_params), method, t_value, t_prob)
    except (NotImplementedError, ValueError) as error:
        with pytest.raises(type(error)):
            _evaluate(case.build(ember, e_params), method, e_value, e_prob)
        return
    e_out = _evaluate(case.build(ember, e_params), method, e_value, e_prob)
    assert_same(e_out, t_out, **TOL[dtype])
    if not (t_out.requires_grad and t_out.dtype.is_floating_point):
        return
    t_finite = torch.isfinite(t_out.detach())
    e_finite = ember.from_numpy(t_finite.numpy().copy())
    t_leaves, e_leaves = _leaves(t_params, t_value, t_prob), _leaves(e_params, e_value, e_prob)
    try:
        t_grads = torch.autograd.grad(t_out[t_finite].sum(), t_leaves, allow_unused=True)
    except RuntimeError as error:  # torch has no derivative here (e.g. igamma in its shape)
        assert "not implemented" in str(error)
        return
    e_grads = ember.autograd.grad(e_out[e_finite].sum(), e_leaves, allow_unused=True)
    for e_grad, t_grad in zip(e_grads, t_grads):
        if t_grad is None:
            assert e_grad is None or not e_grad.detach().numpy().any()
        else:
            assert_same(e_grad, t_grad, **GRAD_TOL[dtype])
