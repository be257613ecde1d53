"""Shared pieces of the ember.linalg tests: well-posed random matrices and the generic checks
(values, gradients against torch, float64 finite differences) that each test file's table runs.

A case is `call(lib, *tensors)` on inputs made by `make(rng, kind, shape)`. Calls whose raw
outputs depend on a gauge (eigenvector signs, singular-vector signs) return invariants instead
(reconstructions, |v|, u·vh), so values and gradients are comparable with torch's.
"""

import numpy as np
import torch

import ember
from tests.differential import assert_same, gradcheck64, outputs, to_ember

TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-4}, np.float64: {"rtol": 1e-7, "atol": 1e-8},
       np.int64: {"exact": True}}
GRAD_TOL = {"rtol": 1e-6, "atol": 1e-7}


def make(rng, kind: str, shape, dtype=np.float64):
    """A random array of `kind`: gen (normal, shifted away from singular), spd (symmetric
    positive-definite), sym (symmetric), lower/upper (triangular, diagonal away from 0), pos
    (positive entries), randn (plain normal)."""
    x = rng.standard_normal(shape)
    n = shape[-1]
    if kind == "gen":
        x = x + 2.5 * np.sign(rng.standard_normal(shape[:-1]))[..., None] * np.eye(n)
    elif kind == "spd":
        x = x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    elif kind == "sym":
        x = (x + np.swapaxes(x, -1, -2)) / 2
    elif kind in ("lower", "upper"):
        diag = rng.uniform(1, 2, shape[:-1]) * rng.choice([-1, 1], shape[:-1])
        x = (np.tril if kind == "lower" else np.triu)(x, -1 if kind == "lower" else 1)
        x = x + diag[..., None] * np.eye(n)
    elif kind == "pos":
        x = rng.uniform(0.5, 2, shape)
    elif kind != "randn":
        raise ValueError(kind)
    return np.asarray(x, dtype=dtype)


def inputs(rng, spec, dtype=np.float64):
    """One array per (kind, shape) of the spec."""
    return [make(rng, kind, shape, dtype) for kind, shape in spec]


def float_outputs(result):
    """The floating tensors of a result (a tensor, a tuple, or a named tuple)."""
    return [o for o in outputs(result)
            if isinstance(o, (ember.Tensor, torch.Tensor)) and o.dtype.is_floating_point]


def check_forward(call, arrays, dtype):
    """ember's outputs equal torch's (dtype, shape, values) for inputs of dtype."""
    arrays = [a.astype(dtype) for a in arrays]
    ye = call(ember, *[ember.from_numpy(a.copy()) for a in arrays])
    yt = call(torch, *[torch.from_numpy(a.copy()) for a in arrays])
    assert type(ye).__name__ == type(yt).__name__ or not isinstance(yt, tuple)
    outs_e, outs_t = outputs(ye), outputs(yt)
    assert len(outs_e) == len(outs_t)
    for oe, ot in zip(outs_e, outs_t):
        assert_same(oe, ot, **TOL[dtype])


def check_backward(rng, call, arrays, grad_fn_names=True):
    """Gradients of Σ w·outputs (w random) w.r.t. every input equal torch's, in float64."""
    t_in = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    e_in = [to_ember(t) for t in t_in]
    outs_t, outs_e = float_outputs(call(torch, *t_in)), float_outputs(call(ember, *e_in))
    assert len(outs_t) == len(outs_e)
    if grad_fn_names:
        for oe, ot in zip(outs_e, outs_t):
            if ot.grad_fn is not None and ot.grad_fn.name().startswith("Linalg"):
                assert oe.grad_fn.name() == ot.grad_fn.name()
    weights = [rng.standard_normal(tuple(o.shape)) for o in outs_t]
    loss_t = sum((o * torch.from_numpy(w)).sum() for o, w in zip(outs_t, weights))
    loss_e = sum((o * ember.from_numpy(w)).sum() for o, w in zip(outs_e, weights))
    loss_t.backward()
    loss_e.backward()
    for e, t in zip(e_in, t_in):
        assert (e.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_same(e.grad, t.grad, **GRAD_TOL)


def check_gradcheck(call, arrays, second_order=False):
    """ember's gradients of call agree with finite differences (and second derivatives)."""
    def fn(*xs):
        return tuple(float_outputs(call(ember, *xs)))

    assert gradcheck64(fn, *arrays)
    if second_order:
        assert ember.autograd.gradgradcheck(
            fn, tuple(ember.from_numpy(a.copy()).requires_grad_() for a in arrays))


def assert_linalg_error(call, *arrays):
    """torch raises torch.linalg.LinAlgError and ember raises ember.linalg.LinAlgError (a
    RuntimeError), with the same message."""
    messages = []
    for lib, error_type in ((torch, torch.linalg.LinAlgError), (ember, ember.linalg.LinAlgError)):
        args = [lib.from_numpy(a.copy()) for a in arrays]
        try:
            call(lib, *args)
        except error_type as error:
            assert isinstance(error, RuntimeError)
            messages.append(str(error))
        else:
            raise AssertionError(f"{lib.__name__} raised no LinAlgError")
    assert messages[0] == messages[1], messages
