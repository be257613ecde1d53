"""Elementwise ops (elementwise.py, unary.py, comparison.py) against torch.

Tables of ops drive generic tests: forward values, dtypes and shapes over a table of inputs
(broadcasting, 0-d, empty, integer and bool inputs), backward gradients, float64 finite
differences, then PyTorch's conventions at ties and edges, and the errors for bad inputs.
"""

import zlib

import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_per_test(request):
    """Each test draws the same values however the tests are selected or ordered."""
    RNG.bit_generator.state = np.random.default_rng(
        zlib.crc32(request.node.nodeid.encode())).bit_generator.state


def _sample(domain, shape, dtype=np.float64):
    """Values in an op's domain, away from its singular points."""
    if domain == "any":
        array = RNG.uniform(-2, 2, shape)
    elif domain == "positive":
        array = RNG.uniform(0.5, 2, shape)
    elif domain == "unit":
        array = RNG.uniform(-0.9, 0.9, shape)
    elif domain == "nonzero":
        array = RNG.uniform(0.5, 2, shape) * RNG.choice([-1, 1], shape)
    elif domain == "int":
        array = RNG.integers(-5, 6, shape)
    elif domain == "posint":
        array = RNG.integers(1, 6, shape)
    elif domain == "bool":
        array = RNG.integers(0, 2, shape).astype(bool)
    else:
        raise ValueError(domain)
    return np.asarray(array).astype(dtype)


def _both(array, requires_grad=False):
    e = ember.from_numpy(array.copy())
    t = torch.from_numpy(array.copy())
    if requires_grad:
        e.requires_grad_()
        t.requires_grad_()
    return e, t


def _assert_close(e, t, rtol=1e-5, atol=1e-6):
    assert isinstance(e, ember.Tensor)
    assert str(e.dtype) == str(t.dtype)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=rtol, atol=atol)


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
    e, t = _both(_sample(UNARY[name][0], shape, dtype))
    _assert_close(getattr(ember, name)(e), getattr(torch, name)(t))
    _assert_close(getattr(e, name)(), getattr(t, name)())


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_integer_inputs(name, dtype):
    array = _sample("posint" if dtype in ("uint8",) else "int", (2, 3)).astype(
        np.bool_ if dtype == "bool" else dtype)
    if UNARY[name][0] in ("positive", "unit") and dtype != "bool":
        array = np.abs(array) % 2
    e, t = _both(array)
    _same_result_or_error(lambda: getattr(ember, name)(e), lambda: getattr(torch, name)(t))


def _same_result_or_error(ember_fn, torch_fn):
    """The same values as torch, or the same exception type when torch has no kernel."""
    try:
        expected = torch_fn()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        with pytest.raises(type(error)):
            ember_fn()
        return
    _assert_close(ember_fn(), expected)


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_backward(name, shape):
    array = _sample(UNARY[name][0], shape)
    gy = _sample("any", shape)
    e, t = _both(array, requires_grad=True)
    ye, yt = getattr(ember, name)(e), getattr(torch, name)(t)
    assert ye.requires_grad and yt.requires_grad
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    _assert_close(e.grad, t.grad)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if n not in {
    "floor", "ceil", "trunc", "sign", "round", "frac", "fix"}))
def test_unary_gradcheck(name):
    x = ember.from_numpy(_sample(UNARY[name][0], (2, 3))).requires_grad_()
    assert ember.autograd.gradcheck(getattr(ember, name), (x,))


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "sigmoid", "log", "sqrt", "erf",
                                  "reciprocal", "atan", "rsqrt"])
def test_unary_second_derivative(name):
    array = _sample(UNARY[name][0], (3,))
    e, t = _both(array, requires_grad=True)
    (ge,) = ember.autograd.grad(getattr(ember, name)(e), e, ember.ones(3, dtype=ember.float64),
                                create_graph=True)
    (gt,) = torch.autograd.grad(getattr(torch, name)(t), t, torch.ones(3, dtype=torch.float64),
                                create_graph=True)
    (gge,) = ember.autograd.grad(ge, e, ember.ones(3, dtype=ember.float64))
    (ggt,) = torch.autograd.grad(gt, t, torch.ones(3, dtype=torch.float64))
    _assert_close(gge, ggt)


@pytest.mark.parametrize("name", ["exp", "sqrt", "abs", "neg", "relu", "sigmoid", "floor",
                                  "clamp_min"])
def test_unary_inplace(name):
    array = _sample("positive", (2, 3))
    e, t = _both(array)
    args = (0.7,) if name == "clamp_min" else ()
    out_e = getattr(e, name + "_")(*args)
    assert getattr(t, name + "_")(*args) is t
    assert out_e is e
    _assert_close(e, t)
    assert e._version.value == 1


@pytest.mark.parametrize("decimals", [0, 1, 2, -1])
def test_round_decimals(decimals):
    e, t = _both(np.array([0.5, 1.5, 2.5, -0.5, 12.345, 1234.5678]))
    _assert_close(ember.round(e, decimals=decimals), torch.round(t, decimals=decimals))


# ---- binary arithmetic --------------------------------------------------------------------------
# name -> (function of (lib, a, b), domain of a, domain of b, differentiable)
BINARY = {
    "add": (lambda lib, a, b: lib.add(a, b), "any", "any"),
    "add_alpha": (lambda lib, a, b: lib.add(a, b, alpha=2.5), "any", "any"),
    "sub": (lambda lib, a, b: lib.sub(a, b), "any", "any"),
    "sub_alpha": (lambda lib, a, b: lib.sub(a, b, alpha=-3), "any", "any"),
    "rsub": (lambda lib, a, b: lib.rsub(a, b), "any", "any"),
    "mul": (lambda lib, a, b: lib.mul(a, b), "any", "any"),
    "div": (lambda lib, a, b: lib.div(a, b), "any", "nonzero"),
    "true_divide": (lambda lib, a, b: lib.true_divide(a, b), "any", "nonzero"),
    "pow": (lambda lib, a, b: lib.pow(a, b), "positive", "any"),
    "float_power": (lambda lib, a, b: lib.float_power(a, b), "positive", "any"),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), "any", "nonzero"),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), "any", "nonzero"),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), "any", "any"),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), "any", "any"),
    "fmax": (lambda lib, a, b: lib.fmax(a, b), "any", "any"),
    "fmin": (lambda lib, a, b: lib.fmin(a, b), "any", "any"),
    "lerp": (lambda lib, a, b: lib.lerp(a, b, 0.3), "any", "any"),
    "lerp_tensor_weight": (lambda lib, a, b: lib.lerp(a, b, b * 0.5), "any", "positive"),
    "where": (lambda lib, a, b: lib.where(a > 0, a, b), "any", "any"),
    "clamp_tensor": (lambda lib, a, b: lib.clamp(a, min=b - 1, max=b + 1), "any", "any"),
    "operator_add": (lambda lib, a, b: a + b, "any", "any"),
    "operator_sub": (lambda lib, a, b: a - b, "any", "any"),
    "operator_mul": (lambda lib, a, b: a * b, "any", "any"),
    "operator_div": (lambda lib, a, b: a / b, "any", "nonzero"),
    "operator_pow": (lambda lib, a, b: a ** b, "positive", "any"),
    "operator_mod": (lambda lib, a, b: a % b, "any", "nonzero"),
}
NOT_DIFFERENTIABLE = {"floor_divide", "div_floor", "div_trunc"}
BINARY_NOGRAD = {
    "floor_divide": (lambda lib, a, b: lib.floor_divide(a, b), "any", "nonzero"),
    "div_floor": (lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), "any", "nonzero"),
    "div_trunc": (lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), "any", "nonzero"),
    "operator_floordiv": (lambda lib, a, b: a // b, "any", "nonzero"),
}
SHAPE_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
               ((), ()), ((0, 3), (3,)), ((4, 1, 3), (2, 1)), ((1,), (0,))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY) + sorted(BINARY_NOGRAD))
def test_binary_forward(name, dtype, shapes):
    fn, domain_a, domain_b = {**BINARY, **BINARY_NOGRAD}[name]
    ea, ta = _both(_sample(domain_a, shapes[0], dtype))
    eb, tb = _both(_sample(domain_b, shapes[1], dtype))
    _assert_close(fn(ember, ea, eb), fn(torch, ta, tb), rtol=1e-4)


INT_BINARY = ["add", "sub", "mul", "div", "true_divide", "remainder", "fmod", "maximum",
              "minimum", "floor_divide", "div_floor", "div_trunc", "pow", "operator_mod"]


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("uint8", "int8"),
                                    ("int64", "float32"), ("int16", "float64")], ids=str)
@pytest.mark.parametrize("name", INT_BINARY)
def test_binary_forward_integer_dtypes(name, dtypes):
    fn = {**BINARY, **BINARY_NOGRAD}[name][0]
    a = _sample("int", (2, 3)).astype(dtypes[0])
    b = _sample("posint", (3,)).astype(dtypes[1])
    if dtypes[0] == "uint8":
        a = np.abs(a)
    ea, ta = _both(a)
    eb, tb = _both(b)
    _assert_close(fn(ember, ea, eb), fn(torch, ta, tb))


@pytest.mark.parametrize("scalar", [2, 2.5, -1.5, True], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "int64", "float16", "uint8"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "maximum",
                                  "operator_add", "operator_sub", "operator_mul", "operator_div",
                                  "operator_pow", "operator_mod", "operator_floordiv"])
def test_binary_with_python_scalars(name, dtype, scalar):
    fn = {**BINARY, **BINARY_NOGRAD}[name][0]
    if name in ("maximum",):
        scalar_e, scalar_t = ember.tensor(scalar), torch.tensor(scalar)
    else:
        scalar_e = scalar_t = scalar
    if name.endswith("sub") and scalar is True:
        scalar_e = scalar_t = 1
    if name.endswith("pow") and dtype in ("int64", "uint8") and scalar == -1.5:
        scalar_e = scalar_t = 1.5
    array = _sample("posint", (2, 3)).astype(dtype)
    ea, ta = _both(array)
    _assert_close(fn(ember, ea, scalar_e), fn(torch, ta, scalar_t), rtol=1e-3)
    if name.startswith("operator") or name in ("add", "mul"):
        _assert_close(fn(ember, scalar_e, ea), fn(torch, scalar_t, ta), rtol=1e-3)


@pytest.mark.parametrize("shapes", [s for s in SHAPE_PAIRS if 0 not in s[0] + s[1]], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_backward(name, shapes):
    fn, domain_a, domain_b = BINARY[name]
    ea, ta = _both(_sample(domain_a, shapes[0]), requires_grad=True)
    eb, tb = _both(_sample(domain_b, shapes[1]), requires_grad=True)
    ye, yt = fn(ember, ea, eb), fn(torch, ta, tb)
    gy = _sample("any", tuple(yt.shape))
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    for ge, gt in ((ea.grad, ta.grad), (eb.grad, tb.grad)):
        if gt is None:
            assert ge is None or not np.any(ge.numpy())
        else:
            _assert_close(ge, gt)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    fn, domain_a, domain_b = BINARY[name]
    a = ember.from_numpy(_sample(domain_a, (2, 3))).requires_grad_()
    b = ember.from_numpy(_sample(domain_b, (3,))).requires_grad_()
    if name in ("clamp_tensor", "where", "maximum", "minimum", "fmax", "fmin"):
        b = ember.from_numpy(b.detach().numpy() + 0.05).requires_grad_()  # away from kinks
    assert ember.autograd.gradcheck(lambda x, y: fn(ember, x, y), (a, b))


@pytest.mark.parametrize("name", ["mul", "div", "pow", "sub", "maximum", "lerp_tensor_weight"])
def test_binary_gradgradcheck(name):
    fn, domain_a, domain_b = BINARY[name]
    a = ember.from_numpy(_sample(domain_a, (3,))).requires_grad_()
    b = ember.from_numpy(_sample(domain_b, (3,))).requires_grad_()
    assert ember.autograd.gradgradcheck(lambda x, y: fn(ember, x, y), (a, b))


@pytest.mark.parametrize("name", ["floor_divide", "div_floor", "div_trunc"])
def test_rounding_division_has_zero_gradient(name):
    fn = BINARY_NOGRAD[name][0]
    ea, ta = _both(_sample("any", (3,)), requires_grad=True)
    eb, tb = _both(_sample("nonzero", (3,)))
    ye, yt = fn(ember, ea, eb), fn(torch, ta, tb)
    assert ye.requires_grad == yt.requires_grad
    if name != "floor_divide":  # PyTorch has no derivative for floor_divide itself
        ye.backward(ember.ones(3, dtype=ember.float64))
        yt.backward(torch.ones(3, dtype=torch.float64))
        _assert_close(ea.grad, ta.grad)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "lerp"])
def test_binary_inplace(name):
    e, t = _both(_sample("positive", (2, 3)))
    eb, tb = _both(_sample("positive", (3,)))
    extra_e, extra_t = ((0.25,), (0.25,)) if name == "lerp" else ((), ())
    assert getattr(e, name + "_")(eb, *extra_e) is e
    getattr(t, name + "_")(tb, *extra_t)
    _assert_close(e, t)


def test_inplace_operators_keep_identity_and_dtype():
    e, t = _both(np.arange(6, dtype=np.float32).reshape(2, 3))
    alias = e
    e += 1
    e *= 2.0
    e -= ember.ones(3)
    e /= 3
    e **= 2
    t += 1
    t *= 2.0
    t -= torch.ones(3)
    t /= 3
    t **= 2
    assert e is alias
    _assert_close(e, t)


def test_inplace_float_result_into_integer_raises():
    with pytest.raises(RuntimeError):
        torch.ones(3, dtype=torch.int64).mul_(1.5)
    with pytest.raises(RuntimeError):
        ember.ones(3, dtype=ember.int64).mul_(1.5)


def test_out_argument():
    out_e, out_t = ember.zeros(3), torch.zeros(3)
    ember.add(ember.ones(3), 2, out=out_e)
    torch.add(torch.ones(3), 2, out=out_t)
    _assert_close(out_e, out_t)


@pytest.mark.parametrize("dtype", ["float64", "int32", "bool", "float16"])
def test_cast_backward(dtype):
    e, t = _both(_sample("any", (3,)), requires_grad=True)
    ye, yt = e.to(getattr(ember, dtype)), t.to(getattr(torch, dtype))
    _assert_close(ye, yt)
    assert ye.requires_grad == yt.requires_grad
    if yt.requires_grad:
        ye.backward(ember.ones(3, dtype=getattr(ember, dtype)))
        yt.backward(torch.ones(3, dtype=getattr(torch, dtype)))
        _assert_close(e.grad, t.grad)


def test_clone_backward_and_memory():
    e, t = _both(_sample("any", (3,)), requires_grad=True)
    ce, ct = e.clone(), t.clone()
    assert ce.grad_fn.name() == ct.grad_fn.name()
    assert ce.data_ptr() != e.data_ptr()
    ce.backward(ember.ones(3, dtype=ember.float64))
    ct.backward(torch.ones(3, dtype=torch.float64))
    _assert_close(e.grad, t.grad)


@pytest.mark.parametrize("name,expected", [("add", "AddBackward0"), ("sub", "SubBackward0"),
                                           ("mul", "MulBackward0"), ("div", "DivBackward0"),
                                           ("maximum", "MaximumBackward0"),
                                           ("exp", "ExpBackward0"), ("where", "WhereBackward0")])
def test_grad_fn_names(name, expected):
    e = ember.ones(2, requires_grad=True)
    other = ember.ones(2)
    y = {"exp": lambda: ember.exp(e), "where": lambda: ember.where(other > 0, e, other)}.get(
        name, lambda: getattr(ember, name)(e, other))()
    assert y.grad_fn.name() == expected


# ---- comparison, logical, bitwise ---------------------------------------------------------------
COMPARE = ["eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "not_equal", "less", "less_equal", "greater", "greater_equal"]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "float32"),
                                    ("bool", "int8"), ("float64", "int32")], ids=str)
@pytest.mark.parametrize("name", COMPARE)
def test_comparisons(name, dtypes, shapes):
    a = _sample("int", shapes[0]).astype(dtypes[0])
    b = _sample("int", shapes[1]).astype(dtypes[1])
    ea, ta = _both(a)
    eb, tb = _both(b)
    _assert_close(getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb))
    _assert_close(getattr(ea, name)(eb), getattr(ta, name)(tb))


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
@pytest.mark.parametrize("scalar", [0, 0.5, True], ids=repr)
def test_comparison_operators_with_scalars(op, scalar):
    e, t = _both(_sample("int", (2, 3)))
    _assert_close(getattr(e, op)(scalar), getattr(t, op)(scalar))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("bool", "bool"), ("uint8", "int16"),
                                    ("bool", "int32")], ids=str)
def test_bitwise(name, dtypes):
    ea, ta = _both(_sample("int", (2, 3)).astype(dtypes[0]))
    eb, tb = _both(_sample("int", (3,)).astype(dtypes[1]))
    _assert_close(getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb))
    op = {"bitwise_and": "__and__", "bitwise_or": "__or__", "bitwise_xor": "__xor__"}[name]
    _assert_close(getattr(ea, op)(eb), getattr(ta, op)(tb))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8", "int8"])
def test_bitwise_not_and_logical_not(dtype):
    e, t = _both(_sample("int", (2, 3)).astype(dtype))
    _assert_close(~e, ~t)
    _assert_close(ember.bitwise_not(e), torch.bitwise_not(t))
    _assert_close(ember.logical_not(e), torch.logical_not(t))


def test_bitwise_on_floats_raises():
    e, t = _both(_sample("any", (2,)))
    with pytest.raises(TypeError):
        _ = ~t
    with pytest.raises(TypeError):
        _ = ~e
    with pytest.raises(RuntimeError):
        t & t
    with pytest.raises(RuntimeError):
        e & e


SPECIALS = np.array([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf, 1e-30], np.float32)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_float_classification(name):
    e, t = _both(SPECIALS)
    _assert_close(getattr(ember, name)(e), getattr(torch, name)(t))
    _assert_close(getattr(e, name)(), getattr(t, name)())


@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 1e-3}, {"equal_nan": True}],
                         ids=str)
def test_isclose_allclose_equal(kwargs):
    a = np.array([1.0, 2.0, np.nan, 1e-4, 3.0])
    b = a + np.array([1e-6, 0.05, 0.0, 2e-4, 1.0])
    ea, ta = _both(a)
    eb, tb = _both(b)
    _assert_close(ember.isclose(ea, eb, **kwargs), torch.isclose(ta, tb, **kwargs))
    assert ember.allclose(ea, eb, **kwargs) == torch.allclose(ta, tb, **kwargs)
    assert ember.equal(ea, ea) == torch.equal(ta, ta)
    assert ember.equal(ember.ones(2), ember.ones(3)) is torch.equal(torch.ones(2),
                                                                    torch.ones(3)) is False


# ---- where, clamp, maximum/minimum ----------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()),
                                    ((2, 1), (1, 3), (2, 3)), ((), (), ())], ids=str)
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "float64"),
                                    ("float32", "float64")], ids=str)
def test_where_forward_backward(shapes, dtypes):
    condition = _sample("bool", shapes[0], np.bool_)
    ea, ta = _both(_sample("any", shapes[1]).astype(dtypes[0]))
    eb, tb = _both(_sample("any", shapes[2]).astype(dtypes[1]))
    ec, tc = _both(condition)
    _assert_close(ember.where(ec, ea, eb), torch.where(tc, ta, tb))
    _assert_close(ea.where(ec, eb), ta.where(tc, tb))


def test_where_scalar_operands_and_nonzero_form():
    e, t = _both(_sample("any", (2, 3)).astype(np.float32))
    _assert_close(ember.where(e > 0, e, 0.0), torch.where(t > 0, t, 0.0))
    _assert_close(ember.where(e > 0, 1.0, 0.0), torch.where(t > 0, 1.0, 0.0))
    for ie, it in zip(ember.where(e > 0), torch.where(t > 0)):
        _assert_close(ie, it)


def test_where_requires_bool_condition():
    e, t = _both(_sample("any", (3,)))
    with pytest.raises(RuntimeError):
        torch.where(t, t, t)
    with pytest.raises(RuntimeError):
        ember.where(e, e, e)


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.0), (0.0, None), (1, 2), (0.5, -0.5)],
                         ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_clamp(bounds, dtype):
    lo, hi = bounds
    array = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 3.0]).astype(dtype)
    e, t = _both(array)
    _assert_close(ember.clamp(e, lo, hi), torch.clamp(t, lo, hi))
    _assert_close(e.clip(lo, hi), t.clip(lo, hi))
    if lo is not None:
        _assert_close(ember.clamp_min(e, lo), torch.clamp_min(t, lo))
    if hi is not None:
        _assert_close(ember.clamp_max(e, hi), torch.clamp_max(t, hi))


def test_clamp_without_bounds_raises():
    with pytest.raises(RuntimeError):
        torch.clamp(torch.ones(2))
    with pytest.raises(RuntimeError):
        ember.clamp(ember.ones(2))


# ---- gradient conventions at ties and edges --------------------------------------------------------
EDGE_INPUT = np.array([-1.0, 0.0, 1.0, 0.5, -0.5])
CONVENTIONS = {
    "relu at 0": lambda lib, x: lib.relu(x),
    "abs at 0": lambda lib, x: lib.abs(x),
    "clamp at bounds": lambda lib, x: lib.clamp(x, -0.5, 0.5),
    "clamp_min at bound": lambda lib, x: lib.clamp(x, min=0.0),
    "clamp tensor bounds": lambda lib, x: lib.clamp(x, min=lib.zeros(5, dtype=lib.float64)),
    "maximum ties": lambda lib, x: lib.maximum(x, lib.zeros(5, dtype=lib.float64)),
    "fmax ties and nan": lambda lib, x: lib.fmax(x, lib.tensor([0.0, 0.0, float("nan"), 0.5,
                                                                1.0], dtype=lib.float64)),
    "fmin ties and nan": lambda lib, x: lib.fmin(lib.tensor([0.0, float("nan"), 1.0, 0.5,
                                                             0.0], dtype=lib.float64), x),
    "minimum ties": lambda lib, x: lib.minimum(x, lib.tensor(0.5, dtype=lib.float64)),
    "pow at 0": lambda lib, x: x ** 2,
    "pow zero exponent": lambda lib, x: x ** 0,
    "sqrt of square": lambda lib, x: lib.sqrt(x * x + 1),
    "sign": lambda lib, x: lib.sign(x),
    "where": lambda lib, x: lib.where(x > 0, x, -x),
    "sigmoid": lambda lib, x: lib.sigmoid(x * 100),
}


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_gradient_conventions(name):
    e, t = _both(EDGE_INPUT, requires_grad=True)
    ye, yt = CONVENTIONS[name](ember, e), CONVENTIONS[name](torch, t)
    ye.backward(ember.ones(5, dtype=ember.float64))
    yt.backward(torch.ones(5, dtype=torch.float64))
    _assert_close(e.grad, t.grad)


def test_maximum_splits_ties_evenly():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    b = ember.tensor([1.0, 3.0], requires_grad=True)
    ember.maximum(a, b).backward(ember.ones(2))
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_relu_and_abs_at_zero_have_zero_gradient():
    x = ember.zeros(1, requires_grad=True)
    ember.relu(x).backward(ember.ones(1))
    assert x.grad.tolist() == [0.0]
    x.grad = None
    ember.abs(x).backward(ember.ones(1))
    assert x.grad.tolist() == [0.0]


def test_clamp_passes_gradient_at_bounds():
    x = ember.tensor([0.0, 1.0, 2.0], requires_grad=True)
    ember.clamp(x, 0.0, 1.0).backward(ember.ones(3))
    assert x.grad.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("base,exponent", [([0.0, 0.0, 2.0, -1.0], [0.0, 2.0, 0.0, 2.0]),
                                           ([0.0, 1.0, 4.0, 0.0], [0.5, 0.5, -1.0, 3.0])])
def test_pow_gradients_at_zero(base, exponent):
    ea, ta = _both(np.array(base), requires_grad=True)
    eb, tb = _both(np.array(exponent), requires_grad=True)
    (ea ** eb).backward(ember.ones(4, dtype=ember.float64))
    (ta ** tb).backward(torch.ones(4, dtype=torch.float64))
    _assert_close(ea.grad, ta.grad)
    _assert_close(eb.grad, tb.grad)


@pytest.mark.parametrize("expression", [
    lambda lib: lib.tensor([1.0, -1.0]) / 0.0,
    lambda lib: lib.tensor([0.0]) / 0.0,
    lambda lib: lib.log(lib.tensor([0.0, -1.0])),
    lambda lib: lib.sqrt(lib.tensor([-1.0])),
    lambda lib: lib.exp(lib.tensor([1000.0, -1000.0])),
    lambda lib: lib.sigmoid(lib.tensor([1000.0, -1000.0])),
    lambda lib: lib.tensor([5, -5]) // lib.tensor([2, 2]),
    lambda lib: lib.tensor([5, -5]) % lib.tensor([3, 3]),
    lambda lib: lib.tensor([5.5, -5.5]) % lib.tensor([-2.0, 2.0]),
    lambda lib: lib.fmod(lib.tensor([5.5, -5.5]), lib.tensor([-2.0, 2.0])),
    lambda lib: lib.tensor([2, 3]) ** 2,
    lambda lib: lib.tensor([2, 3]) ** 0.5,
    lambda lib: 2 ** lib.tensor([1, 2]),
    lambda lib: lib.tensor([-2, -1, 0, 1, 2, 3]) ** lib.tensor([-1, -2, -3, -1, -2, -1]),
    lambda lib: lib.tensor([-2, -1, 0, 1, 2, 3], dtype=lib.int32) ** lib.tensor(-3),
    lambda lib: lib.tensor([True, False]) + lib.tensor([True, True]),
    lambda lib: lib.tensor([True, False]) * 2.5,
    lambda lib: lib.tensor([1, 2], dtype=lib.uint8) - 3,
    lambda lib: lib.tensor([100], dtype=lib.int8) * 2,
    lambda lib: lib.ones(2, dtype=lib.uint8) + 300,
    lambda lib: lib.ones(2, dtype=lib.int8) - 200,
], ids=lambda f: "")
def test_special_values(expression):
    _assert_close(expression(ember), expression(torch))


# ---- errors ---------------------------------------------------------------------------------------
ERRORS = {
    "broadcast mismatch": (lambda lib: lib.ones(2, 3) + lib.ones(4), RuntimeError),
    "broadcast mismatch mul": (lambda lib: lib.ones(2, 3) * lib.ones(2), RuntimeError),
    "broadcast mismatch compare": (lambda lib: lib.ones(3) < lib.ones(2), RuntimeError),
    "broadcast mismatch where": (lambda lib: lib.where(lib.ones(3) > 0, lib.ones(3),
                                                       lib.ones(2)), RuntimeError),
    "bool subtraction": (lambda lib: lib.tensor([True]) - lib.tensor([False]), RuntimeError),
    "bool negation": (lambda lib: -lib.tensor([True]), RuntimeError),
    "int negative power": (lambda lib: lib.tensor([2, 3]) ** -1, RuntimeError),
    "int division by zero": (lambda lib: lib.tensor([1]) // lib.tensor([0]), RuntimeError),
    "int remainder by zero": (lambda lib: lib.tensor([1]) % 0, RuntimeError),
    "requires_grad int": (lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
                          RuntimeError),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    fn, error = ERRORS[name]
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error):
        fn(ember)


def test_broadcast_error_message_matches_torch():
    with pytest.raises(RuntimeError) as torch_error:
        torch.ones(2, 3) + torch.ones(4)
    with pytest.raises(RuntimeError) as ember_error:
        ember.ones(2, 3) + ember.ones(4)
    assert str(ember_error.value) == str(torch_error.value)


def test_bool_negation_raises():
    with pytest.raises(RuntimeError, match="Negation"):
        -ember.tensor([True])
