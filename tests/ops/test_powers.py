"""pow by a scalar exponent (ember/ops/_powers.py, NOTE [pow by a scalar]) against torch bit for
bit: the exponents PyTorch's CPU kernel computes by formula, with signed zeros, infinities and
NaN, float32 and float64, 0-d and n-d."""

import numpy as np
import pytest
import torch

import ember


def _values(dtype):
    a = np.random.default_rng(3).standard_normal(10_001) * 10
    a[:8] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e30, 1.0]
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [2, 3, -0.5, -1, -2, 1, 2.0, 3.0])
def test_scalar_power_matches_torch_bit_for_bit(exponent, dtype):
    x = _values(dtype)
    with np.errstate(all="ignore"):
        e = (ember.tensor(x) ** exponent).numpy()
    t = (torch.tensor(x) ** exponent).numpy()
    assert e.dtype == t.dtype
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    numbers = ~np.isnan(t)
    np.testing.assert_array_equal(e[numbers].view(f"u{e.itemsize}"),
                                  t[numbers].view(f"u{t.itemsize}"))


@pytest.mark.parametrize("exponent", [2, 3, -1, 1])
def test_zero_dim_power_and_its_gradient(exponent):
    a = ember.tensor(3.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    y, z = a ** exponent, b ** exponent
    y.backward()
    z.backward()
    assert y.shape == () and type(y.item()) is float
    assert y.item() == z.item() and a.grad.item() == b.grad.item()


def _node_walk(node, depth=2):
    """(node name, [walks of its next_functions]) down to `depth`."""
    if node is None or depth == 0:
        return None if node is None else node.name()
    return node.name(), [_node_walk(n, depth - 1) for n, _ in node.next_functions]


POW_FORMS = {
    "tensor ** number": lambda lib, x: x ** 3,
    "tensor ** 0.5": lambda lib, x: x ** 0.5,
    "tensor ** 0": lambda lib, x: x ** 0,
    "tensor ** tensor": lambda lib, x: x ** lib.tensor(3.0),
    "tensor ** itself": lambda lib, x: x ** x,
    "number ** tensor": lambda lib, x: 2 ** x,
    "lib.pow(number, tensor)": lambda lib, x: lib.pow(0.5, x),
    "0-d tensor ** tensor": lambda lib, x: lib.tensor(2.0) ** x,
    "zero ** tensor": lambda lib, x: 0 ** x,
    "in place": lambda lib, x: (x * 1).pow_(3),
}


@pytest.mark.parametrize("name", sorted(POW_FORMS))
def test_pow_nodes_and_double_backward_graph_as_torch(name):
    """PyTorch's three pow overloads (PowBackward0/1/2) each have their backward formula, seen
    in the grad_fn of a gradient taken with create_graph=True (NOTE [pow's nodes])."""
    seen = []
    for lib in (ember, torch):
        x = lib.tensor([2.0, 0.0, 1.5], requires_grad=True)
        y = POW_FORMS[name](lib, x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad(g.sum(), x, allow_unused=True) if g.requires_grad else (None,)
        seen.append((y.grad_fn.name(), _node_walk(g.grad_fn), g.detach().numpy(),
                     None if gg is None else gg.numpy()))
    (e_name, e_walk, e_g, e_gg), (t_name, t_walk, t_g, t_gg) = seen
    assert (e_name, e_walk) == (t_name, t_walk)
    np.testing.assert_allclose(e_g, t_g, rtol=1e-6)
    assert (e_gg is None) == (t_gg is None)
    if t_gg is not None:
        np.testing.assert_allclose(e_gg, t_gg, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("exponent", [2, 3, 3.0, -2, -1, 0.5, -0.5, 1.5, 4])
def test_half_tensor_to_a_scalar_power_as_torch(dtype, exponent):
    # PyTorch's bfloat16 kernel computes x**3 and x**-2 by bfloat16 operations, each rounded
    # (float16 and other exponents: pow in float32, rounded once); x**3 was off on 23%
    x0 = (np.random.default_rng(0).standard_normal(4096) * 3).astype(np.float32)
    out = [(lib.tensor(x0).to(getattr(lib, dtype)) ** exponent).float().numpy()
           for lib in (torch, ember)]
    np.testing.assert_array_equal(out[1], out[0])
