"""BatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm against torch: outputs, gradients
(input and affine), running statistics over several steps, eval mode, reprs, errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, compare_modules, copy_state

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
    ("InstanceNorm1d", (3,), {}, (2, 3, 7)),
    ("InstanceNorm1d", (3,), {}, (3, 7)),
    ("InstanceNorm1d", (3,), {"affine": True, "track_running_stats": True}, (2, 3, 7)),
    ("InstanceNorm2d", (3,), {"affine": True}, (2, 3, 4, 5)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True}, (2, 3, 4, 5)),
    ("InstanceNorm3d", (2,), {}, (2, 2, 3, 3, 3)),
    ("LayerNorm", (6,), {}, (4, 6)),
    ("LayerNorm", ([3, 6],), {}, (2, 3, 6)),
    ("LayerNorm", (6,), {"elementwise_affine": False}, (2, 5, 6)),
    ("LayerNorm", (6,), {"bias": False, "eps": 1e-3}, (2, 6)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (1, 4), {"affine": False}, (3, 4, 2, 2)),
    ("GroupNorm", (4, 4), {"eps": 1e-3}, (2, 4, 3, 3)),
    ("RMSNorm", (6,), {}, (3, 6)),
    ("RMSNorm", ([2, 6],), {"eps": 1e-4}, (3, 2, 6)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 3, 3)),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "k": 2.0}, (2, 4, 6)),
]


def _randomize(module):
    """Non-trivial affine parameters, so their gradients and effect are tested."""
    rng = np.random.default_rng(7)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=p.shape).astype(np.float32)))


@pytest.mark.parametrize("name,args,kwargs,shape", LAYERS)
def test_train_mode_matches_torch(name, args, kwargs, shape):
    t = getattr(torch.nn, name)(*args, **kwargs)
    e = getattr(ember.nn, name)(*args, **kwargs)
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


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("BatchNorm2d", (3,), {}, (4, 3, 2, 2)), ("BatchNorm1d", (3,), {"affine": False}, (5, 3)),
    ("InstanceNorm2d", (3,), {"track_running_stats": True, "affine": True}, (2, 3, 3, 3)),
])
def test_eval_mode_gradients_match_torch(name, args, kwargs, shape):
    t = getattr(torch.nn, name)(*args, **kwargs)
    e = getattr(ember.nn, name)(*args, **kwargs)
    t(torch.randn(*shape) * 3 + 2)  # give the running statistics non-trivial values
    t.eval()
    e.eval()
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    compare_modules(t, e, x, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name,args,shape", [
    ("batch_norm", (None, None), (4, 3, 2)),
    ("layer_norm", ((2,),), (3, 4, 2)),
    ("group_norm", (2,), (3, 4, 2)),
    ("instance_norm", (), (2, 3, 5)),
])
def test_double_backward_matches_torch(name, args, shape):
    x = np.random.default_rng(2).standard_normal(shape)
    c = shape[1] if name != "layer_norm" else shape[-1]
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=(c,))
    results = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        fn = getattr(lib.nn.functional, name)
        if name == "batch_norm":
            y = fn(xt, *args, wt, None, True)
        elif name == "instance_norm":
            y = fn(xt, weight=wt)
        else:
            y = fn(xt, *args, wt)
        y = y * lib.tensor(np.linspace(-1, 1, y.numel()).reshape(shape))
        gx, gw = lib.autograd.grad(y.sum(), (xt, wt), create_graph=True)
        ggx, ggw = lib.autograd.grad((gx * gx).sum() + (gw * gx.sum()).sum(), (xt, wt))
        results.append([a.detach().numpy().copy() for a in (gx, gw, ggx, ggw)])
    for e_arr, t_arr in zip(results[1], results[0]):
        np.testing.assert_allclose(e_arr, t_arr, rtol=1e-7, atol=1e-9)


def test_gradcheck_batch_norm_float64():
    x = ember.tensor(np.random.default_rng(4).standard_normal((4, 2, 3)), requires_grad=True)
    w = ember.tensor([0.7, 1.3], dtype=ember.float64, requires_grad=True)
    b = ember.tensor([0.1, -0.2], dtype=ember.float64, requires_grad=True)
    F = ember.nn.functional
    assert ember.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
                                    (x, w, b))


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


def test_functional_batch_norm_running_stats_in_place():
    rm, rv = ember.zeros(3), ember.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    x = np.random.default_rng(6).standard_normal((5, 3)).astype(np.float32)
    ember.nn.functional.batch_norm(ember.tensor(x), rm, rv, training=True, momentum=0.3)
    torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
    assert_same(rm, trm)
    assert_same(rv, trv)


@pytest.mark.parametrize("build,shape,error", [
    (lambda nn: nn.BatchNorm1d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.BatchNorm2d(3), (2, 3, 4), ValueError),
    (lambda nn: nn.BatchNorm3d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.BatchNorm1d(3), (1, 3), ValueError),
    (lambda nn: nn.InstanceNorm1d(3), (2, 3, 4, 5), ValueError),
    (lambda nn: nn.InstanceNorm1d(3, affine=True), (2, 4, 5), ValueError),
    (lambda nn: nn.LayerNorm(4), (2, 5), RuntimeError),
    (lambda nn: nn.GroupNorm(3, 6), (2, 4, 5), RuntimeError),
])
def test_errors_match_torch(build, shape, error):
    messages = []
    for nn, lib in ((torch.nn, torch), (ember.nn, ember)):
        with pytest.raises(error) as info:
            build(nn)(lib.zeros(*shape))
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_batch_norm_eval_needs_running_stats():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation"):
            lib.nn.functional.batch_norm(lib.zeros(2, 3), None, None)


def test_group_norm_divisibility_error():
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        ember.nn.GroupNorm(3, 4)


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
