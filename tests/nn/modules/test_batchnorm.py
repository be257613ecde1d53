"""The batch-norm layers, ember/nn/modules/batchnorm.py (nn.BatchNorm1d/2d/3d), against torch:
outputs, gradients (input and affine), running statistics over several steps, eval mode, reprs,
errors (checks in tests/nn/modules/_layers.py). F.batch_norm is tested in
tests/nn/test_functional.py."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, compare_modules, copy_state
from tests.nn.modules._layers import check_norm_error, check_norm_eval_grads, check_norm_train

# (class name, constructor args, kwargs, input shape)
LAYERS = [
    ("BatchNorm1d", (4,), {}, (8, 4)),
    ("BatchNorm1d", (4,), {}, (5, 4, 3)),
    ("BatchNorm1d", (4,), {"affine": False}, (6, 4)),
    ("BatchNorm1d", (4,), {"bias": False}, (6, 4)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), {"momentum": None}, (4, 3, 2, 5)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), {"eps": 1e-3, "momentum": 0.5}, (2, 3, 4, 4)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_train_mode_matches_torch(name, args, kwargs, shape):
    check_norm_train(name, args, kwargs, shape)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 2)), ("BatchNorm1d", (3,), {"affine": False}, (5, 3)),
])
def test_eval_mode_gradients_match_torch(name, args, kwargs, shape):
    check_norm_eval_grads(name, args, kwargs, shape)


@pytest.mark.parametrize("build,shape,error", [
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4), ValueError),
    (lambda nn: nn.BatchNorm3d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.BatchNorm1d(3), (1, 3), ValueError),
])
def test_errors_match_torch(build, shape, error):
    check_norm_error(build, shape, error)


def test_momentum_none_is_cumulative_average():
    t, e = torch.nn.BatchNorm1d(2, momentum=None), ember.nn.BatchNorm1d(2, momentum=None)
    rng = np.random.default_rng(5)
    for _ in range(4):
        x = rng.standard_normal((6, 2)).astype(np.float32) * 3
        t(torch.tensor(x))
        e(ember.tensor(x))
    assert int(e.num_batches_tracked) == 4
    assert_same(e.running_mean, t.running_mean)
    assert_same(e.running_var, t.running_var)


def test_float64_module():
    t, e = torch.nn.BatchNorm2d(3).double(), ember.nn.BatchNorm2d(3).double()
    x = np.random.default_rng(8).standard_normal((2, 3, 2, 2))
    compare_modules(t, e, x, rtol=1e-10, atol=1e-12)
    assert e.running_mean.dtype is ember.float64


def test_seed_cnn_block_with_batchnorm_trains():
    """A BatchNorm2d + ReLU(inplace=True) block as in the seeds: loss decreases with SGD."""
    nn = ember.nn
    model = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(inplace=True), nn.Flatten(),
                          nn.Linear(3 * 4 * 4, 5))
    t_model = torch.nn.Sequential(torch.nn.BatchNorm2d(3), torch.nn.ReLU(inplace=True),
                                  torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 5))
    assert repr(model) == repr(t_model)
    copy_state(t_model, model)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 3, 4, 4)).astype(np.float32)
    y = rng.integers(0, 5, size=8)
    losses = []
    for _ in range(5):
        loss = nn.functional.cross_entropy(model(ember.tensor(x)), ember.tensor(y))
        model.zero_grad()
        loss.backward()
        with ember.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        losses.append(float(loss))
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (0, 4)), ("BatchNorm1d", (0, 4, 3)),
                                         ("BatchNorm2d", (0, 4, 2, 2))])
def test_empty_batch_gives_an_empty_output(name, shape):
    """PyTorch returns an empty output in the graph; the running statistics stay, the batch
    counter still counts."""
    results = []
    for lib in (ember, torch):
        layer = getattr(lib.nn, name)(4)
        x = lib.zeros(*shape, requires_grad=True)
        y = layer(x)
        y.sum().backward()
        results.append((y, x.grad, layer.running_mean, layer.running_var,
                        layer.num_batches_tracked, layer.weight.grad))
    for e, t in zip(*results):
        assert_same(e, t)
