"""The layers of ember/nn/modules/linear.py (nn.Linear, LazyLinear, Bilinear, Identity) against
torch: outputs, gradients, default initialization bounds, reprs, grad_fn names, errors, and the
seed's MLP. F.linear is tested in tests/ops/test_nn_ops.py."""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, compare_modules, copy_state


@pytest.mark.parametrize("args,shape", [
    ((4, 3), (5, 4)), ((4, 3, False), (5, 4)), ((4, 3), (2, 5, 4)), ((4, 3), (4,)),
    ((1, 1), (3, 1)), ((6, 2), (2, 3, 2, 6)),
])
def test_linear_matches_torch(args, shape):
    t, e = torch.nn.Linear(*args), ember.nn.Linear(*args)
    assert repr(e) == repr(t)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    compare_modules(t, e, x)


def test_linear_grad_fn_names():
    e = ember.nn.Linear(3, 2)
    assert e(ember.ones(4, 3)).grad_fn.name() == "AddmmBackward0"
    assert ember.nn.Linear(3, 2, bias=False)(ember.ones(4, 3)).grad_fn.name() == "MmBackward0"


def test_linear_default_init_bounds():
    e = ember.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = e.weight.detach().numpy(), e.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-a, a) has std a/√3
    assert w.dtype == np.float32 and e.weight.requires_grad


def test_linear_dtype_argument_and_errors():
    e = ember.nn.Linear(3, 2, dtype=ember.float64)
    assert e.weight.dtype is ember.float64 and e.bias.dtype is ember.float64
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            lib.nn.Linear(3, 2)(lib.ones(4, 5))
        with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
            lib.nn.Linear(3, 2)(lib.ones(4, 3, dtype=lib.float64))


def test_bilinear_matches_torch():
    t, e = torch.nn.Bilinear(3, 4, 2), ember.nn.Bilinear(3, 4, 2)
    assert repr(e) == repr(t)
    rng = np.random.default_rng(3)
    x1 = rng.standard_normal((5, 3)).astype(np.float32)
    x2 = rng.standard_normal((5, 4)).astype(np.float32)
    compare_modules(t, e, x1, x2, rtol=1e-5, atol=1e-5)
    bound = 1 / math.sqrt(3)
    assert np.abs(ember.nn.Bilinear(3, 4, 2).weight.detach().numpy()).max() <= bound


def test_identity():
    e = ember.nn.Identity(54, unused="x")
    x = ember.ones(2)
    assert e(x) is x and repr(e) == repr(torch.nn.Identity(54, unused="x"))


def test_seed_003_mlp_forward_and_training():
    """The FashionMNIST MLP of seed 003: same weights give the same logits; a few SGD steps
    with cross-entropy lower the loss exactly as torch's do."""
    def build(nn):
        return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(),
                             nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))

    t, e = build(torch.nn), build(ember.nn)
    copy_state(t, e)
    rng = np.random.default_rng(6)
    x = rng.random((16, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, size=16)
    for _ in range(3):
        losses = []
        for lib, model in ((torch, t), (ember, e)):
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
            losses.append(loss.item())
        assert abs(losses[0] - losses[1]) < 1e-5
    for (k, v), (_, tv) in zip(e.state_dict().items(), t.state_dict().items()):
        assert_same(v, tv, rtol=1e-4, atol=1e-5)
    probs = ember.nn.Softmax(dim=1)(e(ember.tensor(x)))
    assert probs.argmax(1).shape == (16,)


def test_lazy_linear_becomes_linear():
    e, t = ember.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    e(ember.ones(2, 5))
    t(torch.ones(2, 5))
    assert type(e) is ember.nn.Linear and repr(e) == repr(t)
    assert e.weight.shape == (3, 5) and float(e.weight.abs().max()) <= 1 / math.sqrt(5)
