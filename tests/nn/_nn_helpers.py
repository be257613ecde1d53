"""Shared helpers for the differential tests of ember.nn against torch.nn."""

import numpy as np
import torch

import ember


def to_ember(t: torch.Tensor, requires_grad=None) -> ember.Tensor:
    """A torch tensor's values as an ember tensor (same dtype, requires_grad copied)."""
    e = ember.from_numpy(t.detach().numpy().copy())
    rg = t.requires_grad if requires_grad is None else requires_grad
    if rg:
        e.requires_grad_(True)
    return e


def copy_state(torch_module, ember_module):
    """Load torch_module's state_dict into ember_module, values converted through NumPy."""
    state = {k: ember.from_numpy(v.detach().numpy().copy())
             for k, v in torch_module.state_dict().items()}
    return ember_module.load_state_dict(state)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    a = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    e = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert a.shape == e.shape, (a.shape, e.shape)
    assert a.dtype == e.dtype, (a.dtype, e.dtype)
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def run_both(torch_fn, ember_fn, *arrays, grad=True, rtol=1e-5, atol=1e-6, seed=0):
    """Call both functions on the same inputs; compare outputs and input gradients."""
    t_in = [torch.tensor(a, requires_grad=grad and np.issubdtype(a.dtype, np.floating))
            for a in arrays]
    e_in = [to_ember(t) for t in t_in]
    t_out, e_out = torch_fn(*t_in), ember_fn(*e_in)
    assert_close(e_out, t_out, rtol, atol)
    if grad and t_out.requires_grad:
        gy = np.random.default_rng(seed).standard_normal(tuple(t_out.shape)).astype(
            arrays[0].dtype)
        t_out.backward(torch.tensor(gy))
        e_out.backward(ember.tensor(gy))
        for t, e in zip(t_in, e_in):
            if t.grad is not None:
                assert_close(e.grad, t.grad, rtol, atol)
    return t_out, e_out


def compare_modules(torch_module, ember_module, *arrays, rtol=1e-5, atol=1e-6, seed=0):
    """Same weights, same inputs: compare outputs, input grads and parameter grads."""
    copy_state(torch_module, ember_module)
    run_both(torch_module, ember_module, *arrays, rtol=rtol, atol=atol, seed=seed)
    t_params = dict(torch_module.named_parameters())
    for name, p in ember_module.named_parameters():
        if t_params[name].grad is not None:
            assert_close(p.grad, t_params[name].grad, rtol, atol)
