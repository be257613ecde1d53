"""Checks shared by the layer tables of tests/nn/modules whose rows live in several files.

- `check_layer_forward`: a layer's repr and forward against torch's (test_upsampling.py,
  test_pixelshuffle.py).
- normalization layers (test_batchnorm.py, test_instancenorm.py, test_normalization.py): rows
  `(class name, constructor args, kwargs, input shape)` checked in training mode over several
  steps (`check_norm_train`), in eval mode with gradients (`check_norm_eval_grads`), and rows
  `(build(nn), input shape, error type)` for the errors (`check_norm_error`).
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, compare_modules


def layer_pair(name, args=(), kwargs=None):
    """(ember.nn.<name>, torch.nn.<name>) built with the same arguments."""
    kwargs = kwargs or {}
    return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def check_layer_forward(name, args, kwargs, x, tol):
    """The same repr, and the same output on the array x (deprecation warnings ignored)."""
    em, tm = layer_pair(name, args, kwargs)
    assert repr(em) == repr(tm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), tol, tol)


# ---- normalization layers -------------------------------------------------------------------
def _randomize(module):
    """Non-trivial affine parameters, so their gradients and effect are tested."""
    rng = np.random.default_rng(7)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=p.shape).astype(np.float32)))


def check_norm_train(name, args, kwargs, shape):
    """repr and state_dict keys; three training steps (outputs, input and parameter gradients,
    running statistics); then eval mode."""
    e, t = layer_pair(name, args, kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    _randomize(t)
    rng = np.random.default_rng(0)
    for step in range(3):  # running statistics accumulate over steps
        x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        compare_modules(t, e, x, rtol=1e-4, atol=1e-5, seed=step) if step == 0 else None
        if step:
            out_t, out_e = t(torch.tensor(x)), e(ember.tensor(x))
            assert_same(out_e, out_t, rtol=1e-4, atol=1e-5)
    for (k, v), (tk, tv) in zip(e.state_dict().items(), t.state_dict().items()):
        assert k == tk
        assert_same(v, tv, rtol=1e-5, atol=1e-6)
    t.eval()
    e.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)), rtol=1e-4, atol=1e-5)


def check_norm_eval_grads(name, args, kwargs, shape):
    """Eval mode with non-trivial running statistics: outputs and every gradient."""
    e, t = layer_pair(name, args, kwargs)
    t(torch.randn(*shape) * 3 + 2)  # give the running statistics non-trivial values
    t.eval()
    e.eval()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    compare_modules(t, e, x, rtol=1e-4, atol=1e-5)


def check_norm_error(build, shape, error):
    """build(nn)(zeros(shape)) raises error with torch's message."""
    messages = []
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        with pytest.raises(error) as info:
            build(nn)(lib.zeros(*shape))
        messages.append(str(info.value))
    assert messages[1] == messages[0]
