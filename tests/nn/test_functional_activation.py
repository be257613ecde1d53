"""The activation functions of ember/nn/_functional_activation.py (F.relu, gelu, softmax ...;
most are fused ops of ember/ops/activation.py) against torch: values, gradients, in-place forms,
gradient conventions at the kinks, double backward, finite differences, errors. The layers
(nn.ReLU ...) are tested in tests/nn/modules/test_activation.py."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, check_fn

# (name, args, kwargs) of F.<name>; each is checked in float32 and float64.
FUNCTIONAL = [
    ("relu", (), {}),
    ("relu6", (), {}),
    ("leaky_relu", (), {}),
    ("leaky_relu", (0.2,), {}),
    ("elu", (), {}),
    ("elu", (), {"alpha": 0.5}),
    ("selu", (), {}),
    ("celu", (), {"alpha": 2.0}),
    ("gelu", (), {}),
    ("gelu", (), {"approximate": "tanh"}),
    ("silu", (), {}),
    ("mish", (), {}),
    ("hardtanh", (), {}),
    ("hardtanh", (-0.5, 2.0), {}),
    ("hardsigmoid", (), {}),
    ("hardswish", (), {}),
    ("softplus", (), {}),
    ("softplus", (), {"beta": 2.0, "threshold": 1.0}),
    ("softsign", (), {}),
    ("tanhshrink", (), {}),
    ("logsigmoid", (), {}),
    ("sigmoid", (), {}),
    ("tanh", (), {}),
    ("threshold", (0.1, 20.0), {}),
    ("hardshrink", (), {}),
    ("softshrink", (), {"lambd": 0.3}),
    ("softmax", (), {"dim": 1}),
    ("log_softmax", (), {"dim": -1}),
    ("softmin", (), {"dim": 0}),
    ("glu", (), {}),
    ("rrelu", (), {}),
]


def _input(dtype, shape=(3, 4, 6)):
    x = np.random.default_rng(0).uniform(-5, 5, size=shape).astype(dtype)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,args,kwargs", FUNCTIONAL)
def test_functional_matches_torch(name, args, kwargs, dtype):
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10,
                                                                     "atol": 1e-12}
    check_fn(lambda x: getattr(torch.nn.functional, name)(x, *args, **kwargs),
             lambda x: getattr(ember.nn.functional, name)(x, *args, **kwargs),
             _input(dtype), **tol)


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu",
                                  "mish", "hardtanh", "hardsigmoid", "hardswish", "threshold"])
def test_inplace_forms(name):
    args = (0.5, 2.0) if name == "threshold" else ()
    x = _input(np.float32, (4, 5))
    fe = getattr(ember.nn.functional, name)
    ft = getattr(torch.nn.functional, name)
    ex, tx = ember.tensor(x), torch.tensor(x)
    ey = fe(ex, *args, inplace=True)
    ty = ft(tx, *args, inplace=True)
    assert ey is ex
    assert_same(ex, tx)
    # in place on a non-leaf inside a graph: gradients still match
    ea = ember.tensor(x, requires_grad=True)
    ta = torch.tensor(x, requires_grad=True)
    fe(ea * 2, *args, inplace=True).sum().backward()
    ft(ta * 2, *args, inplace=True).sum().backward()
    assert_same(ea.grad, ta.grad)
    assert ty is tx


@pytest.mark.parametrize("name,args", [
    ("relu", ()), ("relu6", ()), ("leaky_relu", ()), ("hardtanh", ()), ("hardsigmoid", ()),
    ("hardswish", ()), ("elu", ()), ("threshold", (0.0, 0.0)), ("softplus", ()),
])
def test_gradient_at_kinks_matches_torch(name, args):
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 20.0], dtype=np.float64)
    check_fn(lambda t: getattr(torch.nn.functional, name)(t, *args),
             lambda t: getattr(ember.nn.functional, name)(t, *args), x)


@pytest.mark.parametrize("name,kwargs", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("elu", {}), ("selu", {}), ("celu", {"alpha": 0.7}), ("softplus", {}),
    ("logsigmoid", {}), ("hardswish", {}), ("softsign", {}),
])
def test_double_backward_matches_torch(name, kwargs):
    x = np.random.default_rng(3).uniform(-2.5, 2.5, size=(6,))
    results = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        y = getattr(lib.nn.functional, name)(xt, **kwargs)
        (g,) = lib.autograd.grad(y.sum(), xt, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), xt)
        results.append((g.detach().numpy().copy(), gg.numpy().copy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name,kwargs", [("gelu", {}), ("mish", {}), ("elu", {}),
                                         ("softplus", {"beta": 2.0})])
def test_gradcheck(name, kwargs):
    x = ember.tensor(np.random.default_rng(4).uniform(-2, 2, size=(5,)), requires_grad=True)
    fn = getattr(ember.nn.functional, name)
    assert ember.autograd.gradcheck(lambda t: fn(t, **kwargs), (x,))


def test_softmax_implicit_dim_warns_like_torch():
    x = _input(np.float32, (2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        e = ember.nn.functional.softmax(ember.tensor(x))
    with pytest.warns(UserWarning):
        t = torch.nn.functional.softmax(torch.tensor(x))
    assert_same(e, t)


def test_rrelu_training_slopes_in_range():
    x = ember.tensor(-np.ones((1000,), dtype=np.float32))
    y = ember.nn.functional.rrelu(x, 0.1, 0.3, training=True).numpy()
    assert np.all((y <= -0.1) & (y >= -0.3)) and y.std() > 0.01


def test_errors():
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        ember.nn.functional.hardtanh(ember.zeros(2), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        ember.nn.functional.glu(ember.zeros(3))
    with pytest.raises(RuntimeError, match="approximate argument must be either"):
        ember.nn.functional.gelu(ember.zeros(3), approximate="exact")
