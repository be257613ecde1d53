"""torch._foreach_*: every name torch has, each overload against torch's results, in-place
effects, gradients of the out-of-place forms, and torch's errors (ember/ops/foreach.py)."""

import math

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, to_ember, to_torch

NAMES = sorted(n for n in dir(torch) if n.startswith("_foreach_"))
SHAPES = [(3,), (2, 4), ()]
UNARY = {"abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
         "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
         "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
         "clone", "max", "zero"}
BINARY = {"add", "sub", "mul", "div", "clamp_min", "clamp_max", "maximum", "minimum", "pow"}
WITH_TENSOR = {"add", "sub", "mul", "div"}  # the ops with a `Tensor other` overload


def arrays(rng, dtype, low=0.2, high=0.9, shapes=SHAPES):
    """One array per shape, in (low, high): a domain every op here is smooth on."""
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def cases(name, dtype=np.float32):
    """(label, args) of each overload of `_foreach_<name>` (name without the trailing _)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    xs, ys, zs = (arrays(rng, dtype) for _ in range(3))
    n = len(xs)
    if name in UNARY:
        return [("list", (xs,))]
    if name in BINARY:
        found = [("scalar", (xs, 1.5)), ("scalar_list", (xs, [0.5, 1.5, 2.0][:n])),
                 ("tensor_list", (xs, ys))]
        if name in WITH_TENSOR:
            found.append(("tensor", (xs, np.array(0.75, dtype=dtype))))
        return found
    if name in ("addcmul", "addcdiv"):
        return [("default", (xs, ys, zs)), ("scalar", (xs, ys, zs, 0.5)),
                ("scalar_list", (xs, ys, zs, [0.5, -1.0, 2.0])),
                ("tensor", (xs, ys, zs, np.array([0.5, -1.0, 2.0], dtype=dtype)))]
    if name == "lerp":
        return [("scalar", (xs, ys, 0.3)), ("scalar_list", (xs, ys, [0.1, 0.5, 0.9])),
                ("tensor_list", (xs, ys, zs))]
    if name in ("norm", "powsum"):
        return [("default", (xs,)), ("ord1", (xs, 1)), ("ord3", (xs, 3)), ("ord0", (xs, 0)),
                ("inf", (xs, math.inf)), ("ord2.5", (xs, 2.5))]
    if name == "mm":
        return [("pairs", ([rng.standard_normal((2, 3)).astype(dtype),
                            rng.standard_normal((4, 1)).astype(dtype)],
                           [rng.standard_normal((3, 5)).astype(dtype),
                            rng.standard_normal((1, 2)).astype(dtype)]))]
    if name == "copy":
        return [("list", (xs, ys))]
    raise AssertionError(name)


def overloads(names):
    """pytest params (name, label, args) for each name of torch's list (float32 and float64)."""
    params = []
    for public in names:
        base = public[len("_foreach_"):].rstrip("_")
        for dtype in (np.float32, np.float64):
            for label, args in cases(base, dtype):
                params.append(pytest.param(public, args, id=f"{public}-{label}-"
                                                            f"{np.dtype(dtype).name}"))
        if public == "_foreach_pow":
            base_case = (2.0, arrays(np.random.default_rng(0), np.float32))
            params.append(pytest.param(public, base_case, id=f"{public}-scalar_base"))
    return params


@pytest.mark.parametrize("name", NAMES)
def test_every_foreach_name_exists(name):
    assert callable(getattr(ember, name))


@pytest.mark.parametrize("name,args", overloads(n for n in NAMES if not n.endswith("_")))
def test_out_of_place_matches_torch(name, args):
    expected = getattr(torch, name)(*to_torch(args))
    result = getattr(ember, name)(*to_ember(args))
    assert type(result) is type(expected) is tuple
    assert len(result) == len(expected)
    for e, t in zip(result, expected):
        assert_same(e, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,args", overloads(n for n in NAMES if n.endswith("_")))
def test_in_place_matches_torch(name, args):
    t_args, e_args = to_torch(args), to_ember(args)
    t_versions = [t._version for t in t_args[0]]
    t_returned = getattr(torch, name)(*t_args)
    e_returned = getattr(ember, name)(*e_args)
    assert t_returned is t_args[0] and e_returned is e_args[0]  # the list given, as torch
    for e, t, version in zip(e_args[0], t_args[0], t_versions):
        assert_same(e, t, rtol=1e-5, atol=1e-6)
        assert (e._version > 0) == (t._version > version)


GRAD_SKIPPED = {
    "_foreach_powsum": "torch: derivative for aten::_foreach_powsum is not implemented",
}


@pytest.mark.parametrize("name,args", overloads(
    n for n in NAMES if not n.endswith("_") and n not in GRAD_SKIPPED and n != "_foreach_max"))
def test_out_of_place_gradients_match_torch(name, args):
    packed = name.endswith(("addcmul", "addcdiv")) and isinstance(args[-1], np.ndarray)
    if name == "_foreach_addcdiv":  # torch's backward fails on one-element tensors ("select()")
        args = tuple([np.resize(a, (5,)) if isinstance(a, np.ndarray) and a.size == 1 else a
                      for a in arg] if isinstance(arg, list) else arg for arg in args)
    # torch has no derivative for the packed Tensor-scalars overloads: its scalar-list form,
    # the same values, is the reference there
    t_args = to_torch(args[:-1] + (args[-1].tolist(),) if packed else args, requires_grad=True)
    e_args = to_ember(args, requires_grad=True)
    if isinstance(args[-1], np.ndarray) and not packed:  # a 0-d `Tensor other`: torch
        t_args[-1].requires_grad_(False)  # differentiates the list only ("inconsistent range")
        e_args[-1].requires_grad_(False)
    rng = np.random.default_rng(1)
    results = getattr(torch, name)(*t_args), getattr(ember, name)(*e_args)
    weights = [rng.standard_normal(tuple(r.shape)) for r in results[0]]
    sum(r.mul(torch.from_numpy(w).to(r.dtype)).sum()
        for r, w in zip(results[0], weights)).backward()
    sum(r.mul(ember.from_numpy(w).to(r.dtype)).sum()
        for r, w in zip(results[1], weights)).backward()
    t_leaves = [t for arg in t_args if isinstance(arg, list) for t in arg
                if isinstance(t, torch.Tensor)]
    e_leaves = [t for arg in e_args if isinstance(arg, list) for t in arg
                if isinstance(t, ember.Tensor)]
    for e, t in zip(e_leaves, t_leaves):
        assert (e.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_same(e.grad, t.grad, rtol=1e-4, atol=1e-6)


def test_foreach_max_matches_torch_with_gradient():
    xs = [np.array([0.5, 2.0, 1.0]), np.array([[3.0, -1.0]]), np.array(4.0)]
    t_list, e_list = to_torch(xs, requires_grad=True), to_ember(xs, requires_grad=True)
    t_out, e_out = torch._foreach_max(t_list), ember._foreach_max(e_list)
    for e, t in zip(e_out, t_out):
        assert_same(e, t)
    sum(t_out).backward()
    sum(e_out).backward()
    for e, t in zip(e_list, t_list):
        assert_same(e.grad, t.grad)


# ---- dtypes, promotion and odd overloads ---------------------------------------------------------
def ints():
    return [np.array([1, 2, 3]), np.array([[4, -5]])]


@pytest.mark.parametrize("call", [
    lambda lib, xs: lib._foreach_div(xs, 2),
    lambda lib, xs: lib._foreach_add(xs, 1.5),
    lambda lib, xs: lib._foreach_mul(xs, [1.5, 2]),
    lambda lib, xs: lib._foreach_sqrt(xs),
    lambda lib, xs: lib._foreach_sign(xs),
    lambda lib, xs: lib._foreach_max(xs),
    lambda lib, xs: lib._foreach_pow(2, xs),
    lambda lib, xs: lib._foreach_norm([x.double() for x in xs], 2, dtype=lib.float64),
    lambda lib, xs: lib._foreach_powsum(xs, 2, dtype=lib.float32),
    lambda lib, xs: lib._foreach_add(xs, [1, 2 + 1j]),
    lambda lib, xs: lib._foreach_mul(xs, lib.tensor(2.5, dtype=lib.float64)),
    lambda lib, xs: lib._foreach_add(xs, lib.tensor(2.5, dtype=lib.float64)),
    lambda lib, xs: lib._foreach_addcmul(xs, xs, xs, lib.tensor([2.5, 3.0])),
    lambda lib, xs: lib._foreach_add(xs, xs, alpha=3),
    lambda lib, xs: lib._foreach_abs(self=xs),
], ids=lambda call: "")
def test_integer_lists_match_torch(call):
    expected = call(torch, to_torch(ints()))
    result = call(ember, to_ember(ints()))
    assert len(result) == len(expected)
    for e, t in zip(result, expected):
        assert_same(e, t)


def test_mixed_dtypes_and_broadcasting_match_torch():
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(3).astype(np.float32), rng.standard_normal((2, 2))]
    others = [rng.standard_normal(3), rng.standard_normal(2).astype(np.float32)]
    for name in ("_foreach_add", "_foreach_maximum", "_foreach_copy_"):
        t_xs, e_xs = to_torch(xs), to_ember(xs)
        expected = getattr(torch, name)(t_xs, to_torch(others))
        result = getattr(ember, name)(e_xs, to_ember(others))
        for e, t in zip(result, expected):
            assert_same(e, t)


def test_tuple_input_and_clone_are_new_tensors():
    xs = to_ember(arrays(np.random.default_rng(4), np.float32))
    copies = ember._foreach_clone(tuple(xs))
    assert all(c is not x and c._data is not x._data for c, x in zip(copies, xs))
    returned = ember._foreach_zero_(tuple(xs))
    assert isinstance(returned, tuple) and all(float(x.abs().sum()) == 0 for x in xs)


def test_optimizer_style_update_matches_torch():
    """An EMA / Adam-like step as optimizers write it, in both libraries."""
    rng = np.random.default_rng(5)
    shapes = [(3,), (2, 4), ()]
    params, grads = arrays(rng, np.float32, shapes=shapes), arrays(rng, np.float32, shapes=shapes)
    ema, exp_avg_sq = arrays(rng, np.float32, shapes=shapes), arrays(rng, np.float32, shapes=shapes)

    def step(lib, p, g, e, v):
        lib._foreach_lerp_(e, p, 0.01)
        lib._foreach_mul_(v, 0.999)
        lib._foreach_addcmul_(v, g, g, value=0.001)
        denom = lib._foreach_sqrt(v)
        lib._foreach_add_(denom, 1e-8)
        lib._foreach_addcdiv_(p, e, denom, [-0.1, -0.2, -0.3])
        lib._foreach_sub_(p, g, alpha=0.5)
        lib._foreach_clamp_min_(p, 0.0)
        return p + e + v + [lib.stack(lib._foreach_norm(p))]

    for e, t in zip(step(ember, *to_ember([params, grads, ema, exp_avg_sq])),
                    step(torch, *to_torch([params, grads, ema, exp_avg_sq]))):
        assert_same(e, t)


def test_in_place_on_a_zero_dim_result():
    denom = ember._foreach_sqrt([ember.tensor(0.25)])
    ember._foreach_add_(denom, 1.0)
    assert float(denom[0]) == 1.5


# ---- errors ------------------------------------------------------------------------------------
def two():
    return [np.ones(3, dtype=np.float32), np.ones((2, 2), dtype=np.float32)]


def three():
    return two() + [np.ones(1, dtype=np.float32)]


SAME_MESSAGE = [
    ("add", lambda lib, a, b: lib._foreach_add(a, b), two(), three()),
    ("add_", lambda lib, a, b: lib._foreach_add_(b, a), two(), three()),
    ("empty", lambda lib, a, b: lib._foreach_add([], 1), two(), three()),
    ("empty_lists", lambda lib, a, b: lib._foreach_mul([], []), two(), three()),
    ("empty_unary", lambda lib, a, b: lib._foreach_sqrt_([]), two(), three()),
    ("empty_norm", lambda lib, a, b: lib._foreach_norm([]), two(), three()),
    ("scalar_list", lambda lib, a, b: lib._foreach_mul(a, [1.0]), two(), three()),
    ("scalar_list_", lambda lib, a, b: lib._foreach_div_(a, [1.0, 2.0, 3.0]), two(), three()),
    ("empty_scalar_list", lambda lib, a, b: lib._foreach_add(a, []), two(), three()),
    ("tensor_1d", lambda lib, a, b: lib._foreach_add(a, lib.ones(1)), two(), three()),
    ("tensor_1d_empty", lambda lib, a, b: lib._foreach_mul([], lib.ones(2)), two(), three()),
    ("addcmul_lists", lambda lib, a, b: lib._foreach_addcmul(a, a, b), two(), three()),
    ("addcdiv_scalars", lambda lib, a, b: lib._foreach_addcdiv(a, a, a, [1.0]), two(), three()),
    ("packed_dim0", lambda lib, a, b: lib._foreach_addcmul(a, a, a, lib.tensor(2.0)),
     two(), three()),
    ("packed_dim2", lambda lib, a, b: lib._foreach_addcmul_(a, a, b, lib.ones(1, 2)),
     two(), three()),
    ("packed_length", lambda lib, a, b: lib._foreach_addcmul(a, a, a, lib.ones(3)),
     two(), three()),
    ("lerp_lists", lambda lib, a, b: lib._foreach_lerp(a, b, 0.5), two(), three()),
    ("lerp_weights", lambda lib, a, b: lib._foreach_lerp_(a, a, b), two(), three()),
    ("copy_", lambda lib, a, b: lib._foreach_copy_(a, b), two(), three()),
    ("mm_empty", lambda lib, a, b: lib._foreach_mm([], b), two(), three()),
    ("mm_lengths", lambda lib, a, b: lib._foreach_mm(a, b), two(), three()),
    ("max_empty", lambda lib, a, b: lib._foreach_max(a + [lib.ones(0, 3)]), two(), three()),
    ("norm_inf_empty", lambda lib, a, b: lib._foreach_norm([lib.ones(0)], math.inf),
     two(), three()),
    ("norm_ord_complex", lambda lib, a, b: lib._foreach_norm(a, 2 + 1j), two(), three()),
    ("norm_ord_bool", lambda lib, a, b: lib._foreach_norm(a, True), two(), three()),
    ("norm_int", lambda lib, a, b: lib._foreach_norm([x.long() for x in a]), two(), three()),
    ("powsum_int", lambda lib, a, b: lib._foreach_powsum([x.int() for x in a]), two(), three()),
    ("not_a_list", lambda lib, a, b: lib._foreach_abs(a[0]), two(), three()),
    ("not_a_tensor", lambda lib, a, b: lib._foreach_abs([a[0], 1]), two(), three()),
    ("extra_argument", lambda lib, a, b: lib._foreach_abs(a, 1), two(), three()),
    ("int_add_", lambda lib, a, b: lib._foreach_add_([x.long() for x in a], 1.5), two(), three()),
    ("leaf_", lambda lib, a, b: lib._foreach_mul_([x.requires_grad_() for x in a], 2.0),
     two(), three()),
    ("int_pow", lambda lib, a, b: lib._foreach_pow([x.long() for x in a], -1), two(), three()),
    ("broadcast_", lambda lib, a, b: lib._foreach_add_(a, [lib.ones(5, 3), lib.ones(2, 2)]),
     two(), three()),
]


@pytest.mark.parametrize("call,a,b", [pytest.param(c, a, b, id=label)
                                      for label, c, a, b in SAME_MESSAGE])
def test_errors_match_torch(call, a, b):
    assert_same_error(lambda lib, x, y: call(lib, x, y), a, b, same_message=True)


def test_invalid_combination_is_torchs_type_error():
    error, expected = assert_same_error(lambda lib, a: lib._foreach_mul(a, 2, 3), two(),
                                        exact_type=True)
    assert str(error).splitlines()[0] == str(expected).splitlines()[0]


def test_in_place_with_a_scalar_cast_error_type_matches_torch():
    # torch words clamp_min_'s message "long int"; the type is what both agree on
    assert_same_error(lambda lib, a: lib._foreach_maximum_([x.long() for x in a], 1.5), two(),
                      exact_type=True, match="result type Float can't be cast")
