"""ember.func's grad, grad_and_value, vjp, jvp, jacrev, jacfwd and hessian against torch.func:
values, pytree structures, nesting, has_aux, and errors."""

import numpy as np
import pytest
import torch
import torch.func

import ember
import ember.func
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

DATA = np.random.default_rng(0)
X = DATA.standard_normal(3)
Y = DATA.standard_normal((2, 3))
V = DATA.standard_normal(3)


def _same(e, t, tol=1e-10):
    """Pytrees of tensors (tuples, lists, dicts) compared leaf by leaf."""
    if isinstance(t, dict):
        assert isinstance(e, dict) and e.keys() == t.keys()
        for key in t:
            _same(e[key], t[key], tol)
    elif isinstance(t, (tuple, list)):
        assert type(e) is type(t) and len(e) == len(t), (type(e), type(t))
        for a, b in zip(e, t):
            _same(a, b, tol)
    else:
        assert_same(e, t, rtol=tol, atol=tol)


def _both(call, *arrays):
    return (call(ember, ember.func, *to_ember(arrays)),
            call(torch, torch.func, *to_torch(arrays)))


CASES = {
    "grad": (lambda lib, F, a: F.grad(lambda t: (t.sin() * t).sum())(a), (X,)),
    "grad_argnums": (lambda lib, F, a, b: F.grad(lambda s, t: ((s * t) ** 2).sum(),
                                                 argnums=(0, 1))(a, b), (X, Y)),
    "grad_argnum_1": (lambda lib, F, a, b: F.grad(lambda s, t: (s * t.exp()).sum(),
                                                  argnums=1)(a, b), (X, Y)),
    "grad_negative_argnum": (lambda lib, F, a, b: F.grad(lambda s, t: (s * t).sum(),
                                                         argnums=-1)(a, b), (X, Y)),
    "grad_has_aux": (lambda lib, F, a: F.grad(lambda t: ((t ** 2).sum(), t.cos()),
                                              has_aux=True)(a), (X,)),
    "grad_dict": (lambda lib, F, a, b: F.grad(lambda d: (d["w"] * d["b"][0]).sum())(
        {"w": a, "b": b}), (X, Y)),
    "grad_unused": (lambda lib, F, a, b: F.grad(lambda s, t: s.sum() * 2, argnums=(0, 1))(
        a, b), (X, Y)),
    "grad_of_grad": (lambda lib, F, a: F.grad(lambda s: F.grad(
        lambda t: (t ** 3).sum())(s).sum())(a), (X,)),
    "grad_and_value": (lambda lib, F, a: F.grad_and_value(lambda t: (t.exp() * t).sum())(a),
                       (X,)),
    "grad_and_value_aux": (lambda lib, F, a: F.grad_and_value(
        lambda t: ((t ** 2).sum(), {"double": t * 2}), has_aux=True)(a), (X,)),
    "jvp": (lambda lib, F, a, v: F.jvp(lambda t: (t.exp(), t * 2), (a,), (v,)), (X, V)),
    "jvp_two_primals": (lambda lib, F, a, b, v: F.jvp(
        lambda s, t: s * t, (a, b), (v, b * 0 + 1)), (X, Y, V)),
    "jvp_aux": (lambda lib, F, a, v: F.jvp(lambda t: (t.sin(), t.sum()), (a,), (v,),
                                           has_aux=True), (X, V)),
    "jacrev": (lambda lib, F, a: F.jacrev(lambda t: t.sin() * t)(a), (X,)),
    "jacrev_argnums": (lambda lib, F, a, b: F.jacrev(lambda s, t: s.sin() * t,
                                                     argnums=(0, 1))(a, b), (X, Y)),
    "jacrev_tuple_output": (lambda lib, F, a: F.jacrev(lambda t: (t.exp(), t.sum()))(a),
                            (X,)),
    "jacrev_aux": (lambda lib, F, a: F.jacrev(lambda t: (t * 3, t.sum()), has_aux=True)(a),
                   (X,)),
    "jacrev_of_jacrev": (lambda lib, F, a: F.jacrev(F.jacrev(lambda t: t ** 3))(a), (X,)),
    "jacfwd": (lambda lib, F, a, b: F.jacfwd(lambda s, t: s.exp() * t, argnums=1)(a, b),
               (X, Y)),
    "hessian": (lambda lib, F, a: F.hessian(lambda t: (t.sin() * t).sum())(a), (X,)),
    "hessian_argnums": (lambda lib, F, a, b: F.hessian(lambda s, t: (s * t[0]).sum() ** 2,
                                                       argnums=(0, 1))(a, b), (X, Y)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    call, arrays = CASES[name]
    e, t = _both(call, *arrays)
    _same(e, t)


def test_vjp():
    results = []
    for lib in (ember, torch):
        a, b = to_ember((X, Y)) if lib is ember else to_torch((X, Y))
        out, vjp_fn = lib.func.vjp(lambda s, t: (s * t, (s ** 2).sum()), a, b)
        cotangents = (lib.ones(2, 3, dtype=lib.float64), lib.tensor(2.0, dtype=lib.float64))
        results.append((out, vjp_fn(cotangents), vjp_fn(cotangents)))
        assert not out[0].requires_grad
    _same(results[0], results[1])


def test_vjp_aux_and_outer_graph():
    results = []
    for lib in (ember, torch):
        a = (to_ember if lib is ember else to_torch)(X, requires_grad=True)
        out, vjp_fn, aux = lib.func.vjp(lambda t: (t.exp(), t * 5), a, has_aux=True)
        (g,) = vjp_fn(lib.ones(3, dtype=lib.float64))
        assert out.requires_grad and g.requires_grad  # a requires grad: results stay in graph
        (g * 2).sum().backward()
        results.append((out, aux, g, a.grad))
    _same(results[0], results[1])


def test_transforms_compose_with_backward():
    """A grad computed on arguments that require grad can be differentiated again."""
    results = []
    for lib in (ember, torch):
        a = (to_ember if lib is ember else to_torch)(X, requires_grad=True)
        g = lib.func.grad(lambda t: (t.sin() * t ** 2).sum())(a)
        g.sum().backward()
        results.append((g, a.grad))
    _same(results[0], results[1])


ERRORS = {
    "non_scalar": lambda lib, F, a: F.grad(lambda t: t * 2)(a),
    "not_a_tensor": lambda lib, F, a: F.grad(lambda t: 2.0)(a),
    "argnum_range": lambda lib, F, a: F.grad(lambda t: t.sum(), argnums=3)(a),
    "aux_not_tuple": lambda lib, F, a: F.grad(lambda t: t.sum(), has_aux=True)(a),
    "jvp_primals_not_tuple": lambda lib, F, a: F.jvp(lambda t: t, a, (a,)),
    "argnums_list": lambda lib, F, a: F.grad(lambda t: t.sum(), argnums=[0])(a),
    "argnums_repeated": lambda lib, F, a: F.grad(lambda t: t.sum(), argnums=(0, 0))(a),
    "argnums_empty": lambda lib, F, a: F.jacrev(lambda t: t, argnums=())(a),
    "argnum_not_int": lambda lib, F, a: F.grad(lambda t: t.sum(), argnums=("a",))(a),
    "input_not_a_tensor": lambda lib, F, a: F.grad(lambda d: d["t"].sum())({"t": a, "n": 3}),
    "output_not_a_tensor": lambda lib, F, a: F.jacrev(lambda t: t.sum().item())(a),
    "vjp_output_not_a_tensor": lambda lib, F, a: F.vjp(lambda t: (t, 3.0), a),
    "cotangent_structure": lambda lib, F, a: F.vjp(lambda t: {"a": t, "b": [t, t]}, a)[1](a),
    "jvp_tangent_shape": lambda lib, F, a: F.jvp(lambda t: t * 2, (a,), (a[:2],)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    ember_error, torch_error = assert_same_error(
        lambda lib, a: ERRORS[name](lib, lib.func, a), X, exact_type=True)
    assert str(ember_error) == str(torch_error)


def test_jacrev_of_several_outputs_has_torch_signed_zeros():
    """One vjp per row of all outputs flattened together, the others seeded with zeros: the
    off-diagonal zeros come out with torch's signs (-0.0 where torch has it)."""
    results = []
    for lib in (ember, torch):
        x = lib.tensor([1.0, 2.0])
        jac = lib.func.jacrev(lambda t: (t.sin(), {"a": t.cos()}))(x)
        results.append(np.signbit(np.stack([jac[0].numpy(), jac[1]["a"].numpy()])))
    assert (results[0] == results[1]).all()


def test_jacrev_chunk_size_must_be_positive():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="jacrev: `chunk_size` should be greater than 0."):
            lib.func.jacrev(lambda t: t, chunk_size=0)


def test_vjp_fn_inside_vmap_neural_tangent_kernel():
    """The NTK tutorial's vjp/jvp form: a vjp_fn made outside a vmap, called inside it on a
    batch of cotangents (the basis) gives one vector-Jacobian product per cotangent."""
    results = []
    for lib in (ember, torch):
        F = lib.func
        params = {"w": to_ember(Y) if lib is ember else to_torch(Y)}
        x1, x2 = (to_ember((X[:2], V[:2])) if lib is ember else to_torch((X[:2], V[:2])))

        def f(p, x):
            return (p["w"].t() @ x).tanh()

        def ntk(a, b):
            out, vjp_fn = F.vjp(lambda p: f(p, a), params)
            return F.vmap(lambda v: F.jvp(lambda p: f(p, b), (params,), vjp_fn(v))[1])(
                lib.eye(out.numel(), dtype=out.dtype))

        results.append(F.vmap(ntk, (0, None))(lib.stack([x1, x1 * 2]), x2))
    assert_same(*results, rtol=1e-10, atol=1e-10)
