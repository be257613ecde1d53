"""Unary ops (ember/ops/unary.py) against torch: a table of ops drives forward values, dtypes
and shapes, integer inputs, gradients, float64 finite differences, second derivatives and the
in-place forms; then PyTorch's gradient conventions at 0, and special values (log(0), sqrt(-1),
...) computed silently, without NumPy warnings."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_result_or_error, both, sample
from tests.ops import _tables

RNG = np.random.default_rng(0)


# ---- unary ops ----------------------------------------------------------------------------------
# name -> (domain, differentiable)
UNARY = {
    "exp": ("any", True), "expm1": ("any", True), "log": ("positive", True),
    "log2": ("positive", True), "log10": ("positive", True), "log1p": ("positive", True),
    "sqrt": ("positive", True), "rsqrt": ("positive", True), "reciprocal": ("nonzero", True),
    "sin": ("any", True), "cos": ("any", True), "tan": ("unit", True), "asin": ("unit", True),
    "acos": ("unit", True), "atan": ("any", True), "sinh": ("any", True), "cosh": ("any", True),
    "tanh": ("any", True), "sigmoid": ("any", True), "erf": ("any", True),
    "erfinv": ("unit", True), "relu": ("any", True), "abs": ("any", True), "neg": ("any", True),
    "square": ("any", True), "floor": ("any", True), "ceil": ("any", True),
    "trunc": ("any", True), "sign": ("any", True), "round": ("any", True), "frac": ("any", True),
    "arcsin": ("unit", True), "arccos": ("unit", True), "arctan": ("any", True),
    "absolute": ("any", True), "negative": ("any", True), "fix": ("any", True),
}


# Ops that keep integer dtypes (the others compute integers in the default float dtype).
INTEGER_PRESERVING = {"relu", "abs", "neg", "square", "floor", "ceil", "trunc", "sign", "round",
                      "absolute", "negative", "fix"}


SHAPES = [(), (0,), (5,), (2, 3), (2, 1, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward(name, dtype, shape):
    e, t = both(sample(RNG, UNARY[name][0], shape, dtype))
    assert_same(getattr(ember, name)(e), getattr(torch, name)(t))
    assert_same(getattr(e, name)(), getattr(t, name)())


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_integer_inputs(name, dtype):
    array = sample(RNG, "posint" if dtype in ("uint8",) else "int", (2, 3)).astype(
        np.bool_ if dtype == "bool" else dtype)
    if UNARY[name][0] in ("positive", "unit") and dtype != "bool":
        array = np.abs(array) % 2
    e, t = both(array)
    assert_same_result_or_error(lambda: getattr(ember, name)(e), lambda: getattr(torch, name)(t))


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_backward(name, shape):
    array = sample(RNG, UNARY[name][0], shape)
    gy = sample(RNG, "any", shape)
    e, t = both(array, requires_grad=True)
    ye, yt = getattr(ember, name)(e), getattr(torch, name)(t)
    assert ye.requires_grad and yt.requires_grad
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    assert_same(e.grad, t.grad)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in {
    "floor", "ceil", "trunc", "sign", "round", "frac", "fix"}))
def test_unary_gradcheck(name):
    x = ember.from_numpy(sample(RNG, UNARY[name][0], (2, 3))).requires_grad_()
    assert ember.autograd.gradcheck(getattr(ember, name), (x,))


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "sigmoid", "log", "sqrt", "erf",
                                  "reciprocal", "atan", "rsqrt"])
def test_unary_second_derivative(name):
    array = sample(RNG, UNARY[name][0], (3,))
    e, t = both(array, requires_grad=True)
    (ge,) = ember.autograd.grad(getattr(ember, name)(e), e, ember.ones(3, dtype=ember.float64),
                                create_graph=True)
    (gt,) = torch.autograd.grad(getattr(torch, name)(t), t, torch.ones(3, dtype=torch.float64),
                                create_graph=True)
    (gge,) = ember.autograd.grad(ge, e, ember.ones(3, dtype=ember.float64))
    (ggt,) = torch.autograd.grad(gt, t, torch.ones(3, dtype=torch.float64))
    assert_same(gge, ggt)


@pytest.mark.parametrize("name", ["exp", "sqrt", "abs", "neg", "relu", "sigmoid", "floor",
                                  "clamp_min"])
def test_unary_inplace(name):
    array = sample(RNG, "positive", (2, 3))
    e, t = both(array)
    args = (0.7,) if name == "clamp_min" else ()
    out_e = getattr(e, name + "_")(*args)
    assert getattr(t, name + "_")(*args) is t
    assert out_e is e
    assert_same(e, t)
    assert e._version.value == 1


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    e, t = both(np.array([0.5, 1.5, 2.5, -0.5, 12.345, 1234.5678]))
    assert_same(ember.round(e, decimals=decimals), torch.round(t, decimals=decimals))


def test_relu_and_abs_at_zero_have_zero_gradient():
    x = ember.zeros(1, requires_grad=True)
    ember.relu(x).backward(ember.ones(1))
    assert x.grad.tolist() == [0.0]
    x.grad = None
    ember.abs(x).backward(ember.ones(1))
    assert x.grad.tolist() == [0.0]


# ---- special values -----------------------------------------------------------------------------
# PyTorch computes log(0), sqrt(-1), 1/0, asin(2) silently; ember must not leak NumPy warnings.
SPECIAL_VALUES = {
    "log": lambda m, x: m.log(x),
    "log2": lambda m, x: m.log2(x),
    "log10": lambda m, x: m.log10(x),
    "log1p": lambda m, x: m.log1p(x - 1),
    "sqrt": lambda m, x: m.sqrt(x - 1),
    "rsqrt": lambda m, x: m.rsqrt(x),
    "reciprocal": lambda m, x: m.reciprocal(x),
    "asin": lambda m, x: m.asin(x + 1.5),
    "acos": lambda m, x: m.acos(x + 1.5),
}
test_special_values_match_torch_without_warnings = _tables.special_values_without_warnings(
    SPECIAL_VALUES)
