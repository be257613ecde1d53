"""torch.cond and torch.while_loop (eager: a branch and a loop) against torch, and the
top-level aliases torch.GradScaler, torch.OutOfMemoryError, torch.AcceleratorError."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

X = np.array([0.5, -1.5, 2.0], dtype=np.float32)


@pytest.mark.parametrize("pred", [True, False, "tensor_true", "tensor_false", "one_element", 0])
def test_cond_picks_torchs_branch(pred):
    results = []
    for lib in (ember, torch):
        x = lib.tensor(X)
        p = {"tensor_true": x.sum() > 0, "tensor_false": x.sum() < 0,
             "one_element": lib.tensor([True])}.get(pred, pred)
        results.append(lib.cond(p, lambda x, y: (x.sin() * y, x.clone()),
                                lambda x, y: (x.cos(), x * y), [x, lib.tensor(2.0)]))
    for e, t in zip(*results):
        assert_same(e, t)


def test_cond_refuses_a_many_element_pred():
    assert_same_error(lambda lib: lib.cond(lib.tensor(X) > 0, lambda x: x, lambda x: x,
                                           (lib.tensor(X),)))


@pytest.mark.parametrize("form", ["tuple", "single", "mixed"])
def test_while_loop_as_torch(form):
    results = []
    for lib in (ember, torch):
        if form == "tuple":
            out = lib.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i),
                                 (lib.tensor(0), lib.tensor(0.0)))
        elif form == "single":
            out = (lib.while_loop(lambda i: i < 4, lambda i: i * 2, (lib.tensor(1),)),)
        else:
            out = lib.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2),
                                 (0, lib.tensor(X)))
        results.append(out)
    e, t = results
    assert type(e) is tuple and len(e) == len(t)
    for a, b in zip(e, t):
        if isinstance(b, torch.Tensor):
            assert_same(a, b)
        else:
            assert a == b


def test_top_level_aliases():
    assert ember.GradScaler is ember.amp.GradScaler
    assert ember.OutOfMemoryError is ember.cuda.OutOfMemoryError
    assert issubclass(ember.OutOfMemoryError, RuntimeError)
    assert issubclass(ember.AcceleratorError, RuntimeError)
    assert torch.GradScaler is torch.amp.GradScaler and issubclass(torch.AcceleratorError,
                                                                   RuntimeError)
