"""The activation functions of ember/nn/_functional_activation.py (F.relu, gelu, softmax ...;
most are fused ops of ember/ops/activation.py) against torch: values, gradients, in-place forms,
gradient conventions at the kinks, double backward, finite differences, errors. The layers
(nn.ReLU ...) are tested in tests/nn/modules/test_activation.py."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, check_fn

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


ERRORS = [
    lambda lib, x: lib.nn.functional.softshrink(x, -0.5),
    lambda lib, x: lib.nn.functional.rrelu(x, 0.5, 0.1),
    lambda lib, x: lib.nn.functional.rrelu(x, 0.5, 0.1, training=True),
    lambda lib, x: lib.nn.functional.prelu(x, lib.ones(2)),
    lambda lib, x: lib.nn.functional.prelu(x, lib.ones(3, 1)),
    lambda lib, x: lib.nn.functional.celu(x, 0.0),
    lambda lib, x: lib.rrelu(x, 0.5, 0.1),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    assert_same_error(ERRORS[index], _input(np.float32, (2, 3)))


def test_softshrink_error_message():
    assert_same_error(lambda lib, x: lib.nn.functional.softshrink(x, -1.0),
                      _input(np.float32, (3,)), same_message=True)


# prelu: a 0-d or 1-element weight is shared; 0-d, 1-d and n-d inputs
PRELU_CASES = [((), ()), ((), (1,)), ((3,), ()), ((3,), (1,)), ((2, 3), (3,)), ((2, 3, 4), (3,)),
               ((2, 3, 4), ()), ((2, 3), (1,))]


@pytest.mark.parametrize("shapes", PRELU_CASES, ids=str)
def test_prelu_shapes(shapes):
    x = np.random.default_rng(1).uniform(-2, 2, shapes[0])
    w = np.random.default_rng(2).uniform(0.1, 0.5, shapes[1])
    results = []
    for lib in (ember, torch):
        xs, ws = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.prelu(xs, ws)
        y.backward(lib.ones_like(y))
        results.append((y, xs.grad, ws.grad, lib.prelu(xs, ws), xs.prelu(ws)))
    for e, t in zip(*results):
        assert_same(e, t)


# Weights of every kind the kernels tell apart (all in (0, 1], all above 1, negative, zero,
# NaN, mixed per channel), on inputs with ±inf, ±0 and NaN: the same bits as torch, float32
# and float64, big enough for the array kernels (0·inf is NaN where x = +inf stays inf).
PRELU_WEIGHTS = [[0.25], [0.0], [float("nan")], [-0.5], [2.0], [0.25, 0.5, 0.1], [2.0, 3.0, 1.5],
                 [0.25, -0.5, 0.0], [2.0, 0.5, 1.0]]
SPECIAL_VALUES = [np.inf, -np.inf, 0.0, -0.0, np.nan, 1.0, -1.0, 3.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weights", PRELU_WEIGHTS, ids=str)
def test_prelu_and_leaky_relu_bits_on_special_values(weights, dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, len(weights) if len(weights) > 1 else 3, 40, 40))
    x.reshape(-1)[:8] = SPECIAL_VALUES
    g = rng.standard_normal(x.shape)
    results = []
    for lib in (ember, torch):
        xs = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        ws = lib.tensor(weights, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.nn.functional.prelu(xs, ws)
        y.backward(lib.tensor(g, dtype=getattr(lib, dtype)))
        leaky = lib.nn.functional.leaky_relu(xs.detach(), weights[0])
        results.append([t.detach().numpy() for t in (y, xs.grad, leaky)] + [ws.grad.numpy()])
    for e, t in zip(results[0][:3], results[1][:3]):
        assert e.dtype == t.dtype and np.array_equal(e.view(np.uint8), t.view(np.uint8))
    np.testing.assert_allclose(results[0][3], results[1][3], rtol=1e-5, atol=1e-6)


# Piecewise functions at NaN, ±inf and ±0, with inf and NaN gradients: PyTorch's `cond ? grad
# : 0` backwards keep an inf or NaN gradient out of the zeros (a product with a mask would
# not), and its vectorised kernels (tensors of more than a vector) decide NaN inputs. The
# same values and zero signs as torch; NaNs only as NaNs.
PIECEWISE = {
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 0.5),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5),
    "clamp_tensor": lambda lib, x: x.clamp(lib.full_like(x, -0.5), lib.full_like(x, 0.5)),
    "sign": lambda lib, x: x.sign(),
    "floor": lambda lib, x: x.floor(),
    "remainder": lambda lib, x: lib.remainder(x, 0.7),
    "fmod": lambda lib, x: lib.fmod(x, 0.7),
}
KINK_VALUES = [np.nan, np.inf, -np.inf, 0.3, -0.7, 0.0, -0.0, 2.0, 0.5, -0.5, 1.4, -2.1]
KINK_GRADS = [1.0, np.inf, 2.0, np.nan, 1.0, -1.0, 1.0, np.inf, -np.inf, 3.0, 1.0, -2.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_piecewise_functions_at_nan_inf_and_zeros(name, dtype):
    results = []
    for lib in (ember, torch):
        x = lib.tensor(KINK_VALUES * 64, dtype=getattr(lib, dtype), requires_grad=True)
        y = PIECEWISE[name](lib, x)
        y.backward(lib.tensor(KINK_GRADS * 64, dtype=getattr(lib, dtype)))
        results.append((y.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*results):
        assert e.dtype == t.dtype
        np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
        number = ~np.isnan(t)
        np.testing.assert_array_equal(e[number], t[number])
        np.testing.assert_array_equal(np.signbit(e[number]), np.signbit(t[number]))


# The torch.* faces of the activations (and their Tensor methods).
TORCH_LEVEL = {
    "prelu": lambda lib, x: lib.prelu(x, lib.tensor([0.25, 0.5, 0.1], dtype=x.dtype)),
    "hardshrink": lambda lib, x: lib.hardshrink(x, 2.0),
    "method_hardshrink": lambda lib, x: x.hardshrink(),
    "selu": lambda lib, x: lib.selu(x),
    "celu": lambda lib, x: lib.celu(x, 0.5),
    "threshold": lambda lib, x: lib.threshold(x, 0.5, -1.0),
    "rrelu_eval": lambda lib, x: lib.rrelu(x, 0.1, 0.3),
}


@pytest.mark.parametrize("name", sorted(TORCH_LEVEL))
def test_torch_level_activations(name):
    x = _input(np.float64, (2, 3, 4))
    check_fn(lambda t: TORCH_LEVEL[name](torch, t), lambda e: TORCH_LEVEL[name](ember, e), x,
             rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,args", [("selu_", ()), ("celu_", (0.5,)),
                                       ("threshold_", (0.5, -1.0)), ("rrelu_", (0.2, 0.2)),
                                       ("relu_", ())])
def test_torch_level_inplace_activations(name, args):
    x = _input(np.float32, (2, 3))
    ex, tx = ember.tensor(x), torch.tensor(x)
    assert getattr(ember, name)(ex, *args) is ex
    getattr(torch, name)(tx, *args)
    assert_same(ex, tx)


def test_rrelu_training_gradient_is_its_slope():
    x = ember.tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    y = ember.rrelu(x, 0.1, 0.3, training=True)
    y.sum().backward()
    slopes = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), slopes)
    assert y.grad_fn.name() == "RreluWithNoiseBackward0"


@pytest.mark.parametrize("name", ["softshrink", "hardshrink"])
@pytest.mark.parametrize("value", [0.7, -0.7, 0.2])  # (at NaN a 0-d tensor takes torch's
def test_shrinks_of_0d_tensors_as_torch(name, value):  # scalar path, ember the vectorised one)
    results = []
    for lib in (ember, torch):
        x = lib.tensor(value, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, 0.5)
        y.backward()
        results.append((y.detach(), x.grad))
    for e, t in zip(*results):
        assert_same(e, t)


@pytest.mark.parametrize("call", [
    lambda F, x: F.softmax(x, dim="a"), lambda F, x: F.log_softmax(x, dim=1.5),
    lambda F, x: F.softmax(x, 1, dtype="float"), lambda F, x: F.log_softmax(x, 1, dtype=3)])
def test_softmax_argument_errors_name_the_method(call):
    """F.softmax calls input.softmax(dim): a bad dim or dtype is the method's TypeError."""
    messages = []
    for lib in (ember, torch):
        with pytest.raises(TypeError) as info:
            call(lib.nn.functional, lib.ones(2, 3))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
