"""ember.nn.init against torch.nn.init: deterministic fills equal torch's; random fills have
the bounds and standard deviations of torch's formulas; errors match."""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same_error

init_e, init_t = ember.nn.init, torch.nn.init


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None),
    ("conv_transpose3d", None),
])
def test_calculate_gain(nonlinearity, param):
    assert init_e.calculate_gain(nonlinearity, param) == init_t.calculate_gain(nonlinearity,
                                                                                param)


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 4, 3, 3), (2, 3, 1, 2, 2)])
def test_fan_in_and_fan_out(shape):
    assert (init_e._calculate_fan_in_and_fan_out(ember.empty(*shape))
            == init_t._calculate_fan_in_and_fan_out(torch.empty(*shape)))


@pytest.mark.parametrize("fill,shape", [
    (lambda m, t: m.constant_(t, 0.3), (3, 4)), (lambda m, t: m.ones_(t), (2, 5)),
    (lambda m, t: m.zeros_(t), (4,)), (lambda m, t: m.eye_(t), (3, 5)),
    (lambda m, t: m.eye_(t), (4, 2)), (lambda m, t: m.dirac_(t), (4, 3, 3)),
    (lambda m, t: m.dirac_(t), (3, 4, 3, 3)), (lambda m, t: m.dirac_(t, groups=2), (4, 2, 3)),
    (lambda m, t: m.dirac_(t), (2, 2, 3, 3, 3)),
])
def test_deterministic_fills_equal_torch(fill, shape):
    e, t = ember.empty(*shape), torch.empty(*shape)
    assert fill(init_e, e) is e
    fill(init_t, t)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


# (fill, expected bound or None, expected std) for a (256, 128, 3) weight: fan_in 384, fan_out 768
FAN_IN, FAN_OUT = 128 * 3, 256 * 3
RANDOM = [
    (lambda t: init_e.uniform_(t, -0.5, 1.5), (-0.5, 1.5), 2 / math.sqrt(12)),
    (lambda t: init_e.normal_(t, 1.0, 0.2), None, 0.2),
    (lambda t: init_e.xavier_uniform_(t, gain=2.0),
     (-2 * math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
     2 * math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (lambda t: init_e.xavier_normal_(t), None, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (lambda t: init_e.kaiming_uniform_(t, a=math.sqrt(5)),
     (-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN)), 1 / math.sqrt(3 * FAN_IN)),
    (lambda t: init_e.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
     (-math.sqrt(6 / FAN_OUT), math.sqrt(6 / FAN_OUT)), math.sqrt(2 / FAN_OUT)),
    (lambda t: init_e.kaiming_normal_(t), None, math.sqrt(2 / FAN_IN)),
    (lambda t: init_e.kaiming_normal_(t, mode="fan_out", nonlinearity="tanh"), None,
     5 / 3 / math.sqrt(FAN_OUT)),
    (lambda t: init_e.trunc_normal_(t, 0.0, 1.0, -2.0, 2.0), (-2.0, 2.0), 0.8796),
    (lambda t: init_e.trunc_normal_(t, 0.5, 0.02, 0.45, 0.55), (0.45, 0.55), 0.02 * 0.9546),
]


@pytest.mark.parametrize("fill,bounds,std", RANDOM)
def test_random_fill_statistics(fill, bounds, std):
    ember.manual_seed(0)
    t = ember.empty(256, 128, 3)
    assert fill(t) is t
    values = t.numpy()
    assert values.dtype == np.float32
    if bounds is not None:
        assert values.min() >= bounds[0] and values.max() <= bounds[1]
        span = bounds[1] - bounds[0]
        assert values.min() < bounds[0] + 0.01 * span and values.max() > bounds[1] - 0.01 * span
    assert abs(values.std() - std) < 0.02 * std


def test_orthogonal():
    for shape in ((6, 4), (4, 6), (3, 2, 5)):
        t = init_e.orthogonal_(ember.empty(*shape), gain=2.0)
        flat = t.numpy().reshape(shape[0], -1).astype(np.float64)
        small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(small, 4 * np.eye(len(small)), atol=1e-5)


def test_sparse():
    t = init_e.sparse_(ember.empty(10, 6), sparsity=0.3)
    assert ((t.numpy() == 0).sum(0) >= 3).all()


def test_init_on_parameter_is_outside_graph():
    p = ember.nn.Parameter(ember.empty(3, 4))
    init_e.kaiming_uniform_(p)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize("call", [
    lambda m, lib: m.eye_(lib.empty(2, 2, 2)),
    lambda m, lib: m.dirac_(lib.empty(2, 2)),
    lambda m, lib: m.dirac_(lib.empty(3, 2, 2), groups=2),
    lambda m, lib: m.xavier_uniform_(lib.empty(3)),
    lambda m, lib: m.kaiming_normal_(lib.empty(3, 3), mode="fan_avg"),
    lambda m, lib: m.calculate_gain("softsign"),
    lambda m, lib: m.calculate_gain("leaky_relu", True),
    lambda m, lib: m.orthogonal_(lib.empty(3)),
])
def test_errors_match_torch(call):
    assert_same_error(lambda lib: call(lib.nn.init, lib), same_message=True, exact_type=True)


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init_e.kaiming_uniform_(ember.empty(0, 3))


# ---- torch's numbers ------------------------------------------------------------------------
# name -> (fn(init, tensor), shape, dtype): each fills torch's exact values after manual_seed
SEEDED = {
    "uniform_": (lambda m, t: m.uniform_(t, -0.3, 0.7), (7, 5), "float32"),
    "uniform_f64": (lambda m, t: m.uniform_(t, -2.0, 0.5), (33,), "float64"),
    "normal_small": (lambda m, t: m.normal_(t, 0.1, 0.3), (3, 5), "float32"),
    "normal_large": (lambda m, t: m.normal_(t, 0.1, 0.3), (7, 9), "float32"),
    "normal_f64": (lambda m, t: m.normal_(t, -1.0, 2.0), (5, 7), "float64"),
    "xavier_uniform_": (lambda m, t: m.xavier_uniform_(t, gain=1.5), (6, 4, 3), "float32"),
    "xavier_normal_": (lambda m, t: m.xavier_normal_(t), (8, 5), "float32"),
    "kaiming_uniform_": (lambda m, t: m.kaiming_uniform_(t, a=5 ** 0.5), (7, 20), "float32"),
    "kaiming_uniform_fan_out": (lambda m, t: m.kaiming_uniform_(
        t, mode="fan_out", nonlinearity="relu"), (4, 3, 3, 3), "float64"),
    "kaiming_normal_": (lambda m, t: m.kaiming_normal_(t), (9, 4), "float32"),
    "trunc_normal_redraws": (lambda m, t: m.trunc_normal_(t, 0.0, 1.0, -1.0, 1.0), (6, 7),
                             "float32"),
    "trunc_normal_uniforms": (lambda m, t: m.trunc_normal_(t, 0.5, 1.0, 2.0, 3.0), (40,),
                              "float32"),
    "trunc_normal_uniforms_f64": (lambda m, t: m.trunc_normal_(t, 0.0, 0.02, 0.03, 0.1),
                                  (5, 6), "float64"),
    "sparse_": (lambda m, t: m.sparse_(t, 0.3, 0.5), (7, 4), "float32"),
}


@pytest.mark.parametrize("seed", [0, 42, 2026])
@pytest.mark.parametrize("name", sorted(SEEDED))
def test_random_fills_equal_torch(name, seed):
    """After the same manual_seed, the fill is torch's bit for bit and both libraries'
    default generators end in the same state."""
    fill, shape, dtype = SEEDED[name]
    results = []
    for lib in (ember, torch):
        lib.manual_seed(seed)
        t = lib.empty(*shape, dtype=getattr(lib, dtype))
        assert fill(lib.nn.init, t) is t
        results.append((t.numpy(), lib.empty(3, dtype=lib.float64).exponential_().tolist()))
    (e, e_probe), (t, t_probe) = results
    np.testing.assert_array_equal(e, t)
    assert e_probe == t_probe


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 5)])
def test_orthogonal_close_to_torch(shape):
    """orthogonal_ draws torch's normal matrix; the QR (LAPACK's, NumPy's vs MKL's) agrees to
    rounding."""
    results = []
    for lib in (ember, torch):
        lib.manual_seed(1)
        results.append(lib.nn.init.orthogonal_(lib.empty(*shape), 0.5).numpy())
    np.testing.assert_allclose(results[0], results[1], atol=1e-5)
