"""The activation layers, ember/nn/modules/activation.py (nn.ReLU, PReLU, Softmax ...), against
torch: reprs, forward, PReLU's weight gradient, in-place on a leaf. The table also holds
nn.Identity (ember/nn/modules/linear.py). The functional forms are tested in
tests/nn/test_functional_activation.py."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same


def _input(dtype, shape):
    return np.random.default_rng(0).uniform(-5, 5, size=shape).astype(dtype)


def test_prelu_matches_torch():
    for channels, shape in ((1, (2, 3, 4)), (3, (2, 3, 4)), (3, (2, 3)), (1, (5,))):
        t = torch.nn.PReLU(channels, init=0.1)
        e = ember.nn.PReLU(channels, init=0.1)
        x = _input(np.float32, shape)
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        t_out, e_out = t(tx), e(ex)
        assert_same(e_out, t_out)
        gy = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
        t_out.backward(torch.tensor(gy))
        e_out.backward(ember.tensor(gy))
        assert_same(ex.grad, tx.grad)
        assert_same(e.weight.grad, t.weight.grad, rtol=1e-5, atol=1e-5)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers"):
        ember.nn.PReLU(4)(ember.zeros(2, 3))


# (class name, args, kwargs) of nn.<name> layers
MODULES = [
    ("ReLU", (), {}), ("ReLU", (), {"inplace": True}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("LeakyReLU", (), {}), ("LeakyReLU", (0.2, True), {}),
    ("PReLU", (), {}), ("PReLU", (4,), {"init": 0.5}), ("RReLU", (), {}),
    ("RReLU", (0.1, 0.3), {}), ("ELU", (), {}), ("ELU", (0.5, True), {}),
    ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (), {}), ("CELU", (2.0,), {}),
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SiLU", (), {}), ("SiLU", (True,), {}),
    ("Mish", (), {}), ("Sigmoid", (), {}), ("Tanh", (), {}), ("Hardtanh", (), {}),
    ("Hardtanh", (-2.0, 3.0), {}), ("Hardtanh", (-2, 3, True), {}), ("Hardsigmoid", (), {}),
    ("Hardswish", (True,), {}), ("Softplus", (), {}), ("Softplus", (2, 10), {}),
    ("Softsign", (), {}), ("Tanhshrink", (), {}), ("Threshold", (0.1, 20.0), {}),
    ("Threshold", (0.1, 20, True), {}), ("LogSigmoid", (), {}), ("Softmax", (), {}),
    ("Softmax", (1,), {}), ("LogSoftmax", (), {"dim": -1}), ("Softmin", (0,), {}),
    ("Softmax2d", (), {}), ("Hardshrink", (), {}), ("Softshrink", (0.2,), {}),
    ("GLU", (), {}), ("GLU", (1,), {}), ("Identity", (3,), {"x": 1}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES)
def test_module_repr_and_forward(name, args, kwargs):
    t = getattr(torch.nn, name)(*args, **kwargs)
    e = getattr(ember.nn, name)(*args, **kwargs)
    assert repr(e) == repr(t)
    t.eval()
    e.eval()
    if name == "PReLU":
        e.load_state_dict({"weight": ember.from_numpy(t.weight.detach().numpy().copy())})
    x = _input(np.float32, (2, 4, 3, 2))
    t_out, e_out = t(torch.tensor(x)), e(ember.tensor(x))
    assert_same(e_out, t_out)


def test_inplace_on_leaf_requiring_grad_raises():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        ember.nn.ReLU(inplace=True)(ember.ones(2, requires_grad=True))


@pytest.mark.parametrize("make", [lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(),
                                  lambda nn: nn.Dropout(), lambda nn: nn.GELU()])
@pytest.mark.parametrize("value", [np.ones((2, 3), dtype=np.float32), [[1.0, 2.0]], 3.0])
def test_activation_module_of_what_is_not_a_tensor(make, value):
    """nn.Sigmoid()(ndarray) is torch.sigmoid's TypeError ('must be Tensor, not
    numpy.ndarray'), not an AttributeError of the array."""
    messages = []
    for lib in (ember, torch):
        with pytest.raises(Exception) as info:
            make(lib.nn)(value)
        messages.append((info.type, str(info.value)))
    assert messages[0] == messages[1]
