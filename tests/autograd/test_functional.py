"""ember.autograd.functional against torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp,
vhp on single and tuple inputs/outputs, create_graph, strict mode, strategies and errors."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal(3)
Y = RNG.standard_normal((2, 3))
V3, V23, V2 = RNG.standard_normal(3), RNG.standard_normal((2, 3)), RNG.standard_normal(2)


def _scalar(lib, a):
    return (a.sin() * a).sum() + a.prod()


def _pair_scalar(lib, a, b):
    return ((a * b).sum() ** 2) + (b.exp() * a).sum()


def _vector(lib, a):
    return a.sin() * a.exp()


def _two_outputs(lib, a, b):
    return (a.exp() * b).sum(0), (a * a).sum()


def _compare(e, t, tol=1e-10):
    if isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            _compare(a, b, tol)
        return
    assert_same(e, t, rtol=tol, atol=tol)


def _run(call, *arrays):
    """call(lib, F, *inputs) with float64 inputs in both libraries."""
    results = []
    for lib in (ember, torch):
        convert = to_ember if lib is ember else to_torch
        inputs = [convert(np.array(a)) for a in arrays]
        results.append(call(lib, lib.autograd.functional, *inputs))
    return results


CASES = {
    "jacobian_vector": (lambda lib, F, a: F.jacobian(lambda t: _vector(lib, t), a), (X,)),
    "jacobian_tuple": (lambda lib, F, a, b: F.jacobian(
        lambda s, t: _two_outputs(lib, s, t), (a, b)), (X, Y)),
    "jacobian_single_in_tuple_out": (lambda lib, F, a: F.jacobian(
        lambda t: (t * 2, t.sum()), a), (X,)),
    "jacobian_unused_input": (lambda lib, F, a, b: F.jacobian(lambda s, t: s * 2, (a, b)),
                              (X, Y)),
    "jacobian_forward_mode": (lambda lib, F, a, b: F.jacobian(
        lambda s, t: _two_outputs(lib, s, t), (a, b), vectorize=True,
        strategy="forward-mode"), (X, Y)),
    "jacobian_vectorize": (lambda lib, F, a: F.jacobian(lambda t: _vector(lib, t), a,
                                                        vectorize=True), (X,)),
    "hessian": (lambda lib, F, a: F.hessian(lambda t: _scalar(lib, t), a), (X,)),
    "hessian_tuple": (lambda lib, F, a, b: F.hessian(lambda s, t: _pair_scalar(lib, s, t),
                                                     (a, b[0])), (X, Y)),
    "hessian_forward": (lambda lib, F, a: F.hessian(
        lambda t: _scalar(lib, t), a, vectorize=True, outer_jacobian_strategy="forward-mode"),
        (X,)),
    "vjp": (lambda lib, F, a, v: F.vjp(lambda t: _vector(lib, t), a, v), (X, V3)),
    "vjp_scalar": (lambda lib, F, a: F.vjp(lambda t: _scalar(lib, t), a), (X,)),
    "vjp_tuple": (lambda lib, F, a, b, v: F.vjp(
        lambda s, t: _two_outputs(lib, s, t), (a, b), (v[:3], v[0].clone())), (X, Y, V3)),
    "jvp": (lambda lib, F, a, v: F.jvp(lambda t: _vector(lib, t), a, v), (X, V3)),
    "jvp_tuple": (lambda lib, F, a, b, v, w: F.jvp(
        lambda s, t: _two_outputs(lib, s, t), (a, b), (v, w)), (X, Y, V3, V23)),
    "hvp": (lambda lib, F, a, v: F.hvp(lambda t: _scalar(lib, t), a, v), (X, V3)),
    "vhp": (lambda lib, F, a, v: F.vhp(lambda t: _scalar(lib, t), a, v), (X, V3)),
    "hvp_tuple": (lambda lib, F, a, b, v, w: F.hvp(
        lambda s, t: _pair_scalar(lib, s, t), (a, b[0]), (v, w[0])), (X, Y, V3, V23)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    call, arrays = CASES[name]
    e, t = _run(call, *arrays)
    _compare(e, t)


def _leaf(lib, array):
    convert = to_ember if lib is ember else to_torch
    return convert(np.array(array), requires_grad=True)


@pytest.mark.parametrize("fn", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_create_graph(fn, create_graph):
    results = []
    for lib in (ember, torch):
        a = _leaf(lib, X)
        F = lib.autograd.functional
        if fn == "jacobian":
            out = F.jacobian(lambda t: _vector(lib, t), a, create_graph=create_graph)
        elif fn == "hessian":
            out = F.hessian(lambda t: _scalar(lib, t), a, create_graph=create_graph)
        elif fn in ("vjp", "jvp"):
            out = getattr(F, fn)(lambda t: _vector(lib, t), a, lib.ones(3, dtype=lib.float64),
                                 create_graph=create_graph)[1]
        else:
            out = getattr(F, fn)(lambda t: _scalar(lib, t), a, lib.ones(3, dtype=lib.float64),
                                 create_graph=create_graph)[1]
        assert out.requires_grad == create_graph
        if create_graph:
            (out ** 2).sum().backward()
        results.append((out, a.grad))
    (e, eg), (t, tg) = results
    assert_same(e, t, rtol=1e-10, atol=1e-10)
    if create_graph:
        assert_same(eg, tg, rtol=1e-10, atol=1e-10)
    else:
        assert eg is None and tg is None


def test_inputs_left_untouched():
    a = ember.from_numpy(X.copy())
    ember.autograd.functional.jacobian(lambda t: t * 2, a)
    assert not a.requires_grad and a.grad is None


ERRORS = {
    "strict_unused": lambda lib, F, a, b: F.jacobian(lambda s, t: s * 2, (a, b), strict=True),
    "strict_constant_output": lambda lib, F, a, b: F.vjp(
        lambda s: s.detach() * 2, a, a, strict=True),
    "strict_vectorize": lambda lib, F, a, b: F.jacobian(lambda s: s, a, strict=True,
                                                        vectorize=True),
    "forward_mode_needs_vectorize": lambda lib, F, a, b: F.jacobian(
        lambda s: s, a, strategy="forward-mode"),
    "forward_mode_create_graph": lambda lib, F, a, b: F.jacobian(
        lambda s: s, a, strategy="forward-mode", vectorize=True, create_graph=True),
    "bad_strategy": lambda lib, F, a, b: F.jacobian(lambda s: s, a, strategy="sideways"),
    "vjp_needs_v": lambda lib, F, a, b: F.vjp(lambda s: s * 2, a),
    "jvp_needs_v": lambda lib, F, a, b: F.jvp(lambda s: s * 2, a),
    "v_shape": lambda lib, F, a, b: F.vjp(lambda s: s * 2, a, b),
    "v_count": lambda lib, F, a, b: F.jvp(lambda s, t: s * t[0], (a, b), (a,)),
    "hessian_vector_output": lambda lib, F, a, b: F.hessian(lambda s: s * 2, a),
    "hessian_tuple_output": lambda lib, F, a, b: F.hessian(lambda s: (s.sum(), s.sum()), a),
    "not_a_tensor": lambda lib, F, a, b: F.jacobian(lambda s: s, [a]),
    "output_not_a_tensor": lambda lib, F, a, b: F.jacobian(lambda s: 2.0, a),
    "hvp_vector_output": lambda lib, F, a, b: F.hvp(lambda s: s * 2, a, a),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    def call(lib, a, b):
        return ERRORS[name](lib, lib.autograd.functional, a, b)

    ember_error, torch_error = assert_same_error(call, X, Y, exact_type=True)
    if name.startswith("strict_") or name in ("vjp_needs_v", "v_shape", "v_count"):
        assert str(ember_error) == str(torch_error)
