"""F.pad and the padding layers (ember/ops/padding.py, ember/nn/modules/padding.py) vs torch.

Every mode (constant with negative pads, reflect, replicate, circular) over 1, 2 and 3 padded
dims: values, dtypes, gradients (float64 and float32), finite differences, second derivatives;
then PyTorch's errors and the layers' reprs.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from ember import nn
from tests.differential import assert_same, assert_same_error

RNG = np.random.default_rng(2)


def check_against_torch(shape, pad, mode, value, dtype, tol):
    array = RNG.standard_normal(shape).astype(dtype)
    kwargs = {} if value is None else {"value": value}
    xe, xt = ember.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    ye, yt = EF.pad(xe, pad, mode, **kwargs), TF.pad(xt, pad, mode, **kwargs)
    assert_same(ye, yt, tol, tol)
    g = RNG.standard_normal(tuple(yt.shape)).astype(dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    assert_same(xe.grad, xt.grad, tol, tol)


# (input shape, pad, mode, value)
CASES = [
    ((2, 3, 4, 5), (1, 2), "constant", None),
    ((2, 3, 4, 5), (1, 2, -1, 3), "constant", 2.5),
    ((2, 3, 4, 5), (0, 0, 2, 1, 1, 0, 1, 1), "constant", None),
    ((4,), (2, 3), "constant", -1.0),
    ((3, 5), (-2, -1), "constant", None),
    ((2, 3, 5), (4, 3), "reflect", None),
    ((3, 5), (2, 1), "reflect", None),
    ((2, 3, 4, 5), (1, 2, 3, 2), "reflect", None),
    ((3, 4, 5), (1, 0, 0, 3), "reflect", None),
    ((2, 3, 4, 5, 3), (1, 2, 3, 2, 1, 2), "reflect", None),
    ((2, 3, 5), (4, 6), "replicate", None),
    ((2, 3, 4, 5), (1, 2, 3, 2), "replicate", None),
    ((3, 4, 5, 3), (2, 1, 1, 0, 0, 2), "replicate", None),
    ((2, 3, 5), (5, 2), "circular", None),
    ((2, 3, 4, 5), (1, 2, 3, 4), "circular", None),
    ((2, 2, 3, 4, 5), (1, 2, 3, 2, 1, 2), "circular", None),
]


@pytest.mark.parametrize("shape, pad, mode, value", CASES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-6)])
def test_pad_matches_torch(shape, pad, mode, value, dtype, tol):
    check_against_torch(shape, pad, mode, value, dtype, tol)


@pytest.mark.parametrize("shape, pad, mode, value", CASES[1:3] + CASES[7:8] + CASES[11:12] +
                         CASES[14:15])
def test_gradcheck_and_double_backward(shape, pad, mode, value):
    x = ember.tensor(RNG.standard_normal(shape), requires_grad=True)
    kwargs = {} if value is None else {"value": value}
    assert ember.autograd.gradcheck(lambda t: EF.pad(t, pad, mode, **kwargs), [x])
    array = RNG.standard_normal(shape)
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        t = lib.tensor(array, requires_grad=True)
        (g,) = lib.autograd.grad((F.pad(t, pad, mode, **kwargs) ** 3).sum(), [t],
                                 create_graph=True)
        results.append(lib.autograd.grad(g.sum(), [t])[0])
    assert_same(results[0], results[1], 1e-10, 1e-10)


def test_integer_constant_pad():
    x = np.arange(6).reshape(2, 3)
    assert EF.pad(ember.tensor(x), (1, 1), value=7).tolist() == \
        TF.pad(torch.tensor(x), (1, 1), value=7).tolist()


ERRORS = {
    "odd": lambda F, lib: F.pad(lib.ones(1, 4, 5), (1, 1, 1)),
    "too_long": lambda F, lib: F.pad(lib.ones(4, 5), (1, 1, 1, 1, 1, 1)),
    "too_long_reflect": lambda F, lib: F.pad(lib.ones(4, 5), (1, 1, 1, 1, 1, 1), mode="reflect"),
    "reflect_too_big": lambda F, lib: F.pad(lib.ones(1, 4, 5), (6, 6), mode="reflect"),
    "reflect_1d_input": lambda F, lib: F.pad(lib.ones(4), (1, 1), mode="reflect"),
    "reflect_4d_pad2": lambda F, lib: F.pad(lib.ones(1, 1, 4, 4), (1, 1), mode="reflect"),
    "circular_wrap": lambda F, lib: F.pad(lib.ones(1, 2, 4), (5, 1), mode="circular"),
    "bad_mode": lambda F, lib: F.pad(lib.ones(1, 2, 4), (1, 1), mode="zeros"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    assert_same_error((lambda: ERRORS[case](EF, ember), lambda: ERRORS[case](TF, torch)),
                      same_message=True)


LAYERS = [
    ("ZeroPad2d", (2,), 2), ("ZeroPad2d", ((1, 2, 0, 3),), 2), ("ZeroPad1d", ((1, 2),), 1),
    ("ConstantPad1d", (2, 3.5), 1), ("ConstantPad2d", ((1, 2, 3, 4), 1), 2),
    ("ConstantPad3d", (1, 0.0), 3), ("ReflectionPad1d", (2,), 1),
    ("ReflectionPad2d", ((1, 2, 3, 0),), 2), ("ReplicationPad1d", (1,), 1),
    ("ReplicationPad2d", (2,), 2), ("ReplicationPad3d", (1,), 3), ("CircularPad1d", (2,), 1),
    ("CircularPad2d", ((1, 0, 2, 1),), 2),
]


@pytest.mark.parametrize("name, args, nd", LAYERS)
def test_layers_repr_and_forward(name, args, nd):
    em, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(em) == repr(tm)
    x = RNG.standard_normal((2, 3) + (4,) * nd).astype(np.float32)
    assert_same(em(ember.tensor(x)), tm(torch.tensor(x)), 0, 0)


@pytest.mark.parametrize("shape, pad, mode, value", [c for c in CASES if c[2] != "circular"])
def test_grad_fn_names_match_torch(shape, pad, mode, value):
    kwargs = {} if value is None else {"value": value}
    array = RNG.standard_normal(shape)
    ye = EF.pad(ember.tensor(array, requires_grad=True), pad, mode, **kwargs)
    yt = TF.pad(torch.tensor(array, requires_grad=True), pad, mode, **kwargs)
    assert ye.grad_fn.name() == yt.grad_fn.name()
