"""Binary arithmetic (ember/ops/elementwise.py: + - * / // % ** lerp) against torch.

Tables of ops drive generic tests: forward values, dtypes and shapes over a table of inputs
(broadcasting, 0-d, empty, integer and bool inputs), backward gradients, float64 finite
differences, then PyTorch's conventions at ties and edges, and the errors for bad inputs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import (assert_same, assert_same_16_bit, assert_same_error,
                                assert_same_result_or_error, both, sample)
from tests.ops import _tables

RNG = np.random.default_rng(0)


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
    "atan2": (lambda lib, a, b: lib.atan2(a, b), "any", "nonzero"),
    "arctan2": (lambda lib, a, b: lib.arctan2(a, b), "any", "nonzero"),
    "hypot": (lambda lib, a, b: lib.hypot(a, b), "nonzero", "any"),
    "logaddexp": (lambda lib, a, b: lib.logaddexp(a, b), "any", "any"),
    "logaddexp2": (lambda lib, a, b: lib.logaddexp2(a, b), "any", "any"),
    "xlogy": (lambda lib, a, b: lib.xlogy(a, b), "any", "positive"),
    "copysign": (lambda lib, a, b: lib.copysign(a, b), "nonzero", "nonzero"),
    "ldexp": (lambda lib, a, b: lib.ldexp(a, b), "any", "any"),
    "addcmul": (lambda lib, a, b: lib.addcmul(a, a, b, value=0.5), "any", "any"),
    "addcdiv": (lambda lib, a, b: lib.addcdiv(b, a, b, value=-2), "any", "nonzero"),
    "method_addcmul": (lambda lib, a, b: b.addcmul(a, b), "any", "any"),
    "method_atan2": (lambda lib, a, b: a.atan2(b), "any", "nonzero"),
}
NOT_DIFFERENTIABLE = {"floor_divide", "div_floor", "div_trunc"}
BINARY_NOGRAD = {
    "floor_divide": (lambda lib, a, b: lib.floor_divide(a, b), "any", "nonzero"),
    "div_floor": (lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), "any", "nonzero"),
    "div_trunc": (lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), "any", "nonzero"),
    "operator_floordiv": (lambda lib, a, b: a // b, "any", "nonzero"),
    "nextafter": (lambda lib, a, b: lib.nextafter(a, b), "any", "any"),
    "heaviside": (lambda lib, a, b: lib.heaviside(a.round(), b), "any", "any"),
    "igamma": (lambda lib, a, b: lib.igamma(a, b), "positive", "positive"),
    "igammac": (lambda lib, a, b: lib.igammac(a, b), "positive", "positive"),
}
SHAPE_PAIRS = [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)), ((2, 3), ()),
               ((), ()), ((0, 3), (3,)), ((4, 1, 3), (2, 1)), ((1,), (0,))]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(BINARY) + sorted(BINARY_NOGRAD))
def test_binary_forward(name, dtype, shapes):
    fn, domain_a, domain_b = {**BINARY, **BINARY_NOGRAD}[name]
    ea, ta = both(sample(RNG, domain_a, shapes[0], dtype))
    eb, tb = both(sample(RNG, domain_b, shapes[1], dtype))
    assert_same(fn(ember, ea, eb), fn(torch, ta, tb), rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(BINARY) + sorted(BINARY_NOGRAD))
def test_binary_16_bit_floats(name, dtype):
    fn, domain_a, domain_b = {**BINARY, **BINARY_NOGRAD}[name]
    a, b = sample(RNG, domain_a, (2, 3)), sample(RNG, domain_b, (3,))

    def run(lib):
        to = getattr(lib, dtype)
        return fn(lib, lib.tensor(a, dtype=to), lib.tensor(b, dtype=to))

    assert_same_16_bit(lambda: run(ember), lambda: run(torch))


INT_BINARY = ["add", "sub", "mul", "div", "true_divide", "remainder", "fmod", "maximum",
              "minimum", "floor_divide", "div_floor", "div_trunc", "pow", "operator_mod",
              "atan2", "xlogy", "copysign", "ldexp", "float_power"]


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("uint8", "int8"),
                                    ("int64", "float32"), ("int16", "float64")], ids=str)
@pytest.mark.parametrize("name", INT_BINARY)
def test_binary_forward_integer_dtypes(name, dtypes):
    fn = {**BINARY, **BINARY_NOGRAD}[name][0]
    a = sample(RNG, "int", (2, 3)).astype(dtypes[0])
    b = sample(RNG, "posint", (3,)).astype(dtypes[1])
    if dtypes[0] == "uint8":
        a = np.abs(a)
    ea, ta = both(a)
    eb, tb = both(b)
    assert_same(fn(ember, ea, eb), fn(torch, ta, tb))


@pytest.mark.parametrize("scalar", [2, 2.5, -1.5, True], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "int64", "float16", "uint8"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "maximum",
                                  "operator_add", "operator_sub", "operator_mul", "operator_div",
                                  "operator_pow", "operator_mod", "operator_floordiv",
                                  "xlogy", "copysign", "float_power"])
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
    array = sample(RNG, "posint", (2, 3)).astype(dtype)
    ea, ta = both(array)
    assert_same(fn(ember, ea, scalar_e), fn(torch, ta, scalar_t), rtol=1e-3)
    if name.startswith("operator") or name in ("add", "mul"):
        assert_same(fn(ember, scalar_e, ea), fn(torch, scalar_t, ta), rtol=1e-3)


@pytest.mark.parametrize("shapes", [s for s in SHAPE_PAIRS if 0 not in s[0] + s[1]], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_backward(name, shapes):
    fn, domain_a, domain_b = BINARY[name]
    ea, ta = both(sample(RNG, domain_a, shapes[0]), requires_grad=True)
    eb, tb = both(sample(RNG, domain_b, shapes[1]), requires_grad=True)
    ye, yt = fn(ember, ea, eb), fn(torch, ta, tb)
    gy = sample(RNG, "any", tuple(yt.shape))
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    for ge, gt in ((ea.grad, ta.grad), (eb.grad, tb.grad)):
        if gt is None:
            assert ge is None or not np.any(ge.numpy())
        else:
            assert_same(ge, gt)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    fn, domain_a, domain_b = BINARY[name]
    a = ember.from_numpy(sample(RNG, domain_a, (2, 3))).requires_grad_()
    b = ember.from_numpy(sample(RNG, domain_b, (3,))).requires_grad_()
    if name in ("clamp_tensor", "where", "maximum", "minimum", "fmax", "fmin"):
        b = ember.from_numpy(b.detach().numpy() + 0.05).requires_grad_()  # away from kinks
    assert ember.autograd.gradcheck(lambda x, y: fn(ember, x, y), (a, b))


@pytest.mark.parametrize("name", ["mul", "div", "pow", "sub", "maximum", "lerp_tensor_weight",
                                  "atan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "ldexp",
                                  "addcmul", "addcdiv"])
def test_binary_gradgradcheck(name):
    fn, domain_a, domain_b = BINARY[name]
    a = ember.from_numpy(sample(RNG, domain_a, (3,))).requires_grad_()
    b = ember.from_numpy(sample(RNG, domain_b, (3,))).requires_grad_()
    assert ember.autograd.gradgradcheck(lambda x, y: fn(ember, x, y), (a, b))


@pytest.mark.parametrize("name", ["floor_divide", "div_floor", "div_trunc"])
def test_rounding_division_has_zero_gradient(name):
    fn = BINARY_NOGRAD[name][0]
    ea, ta = both(sample(RNG, "any", (3,)), requires_grad=True)
    eb, tb = both(sample(RNG, "nonzero", (3,)))
    ye, yt = fn(ember, ea, eb), fn(torch, ta, tb)
    assert ye.requires_grad == yt.requires_grad
    if name != "floor_divide":  # PyTorch has no derivative for floor_divide itself
        ye.backward(ember.ones(3, dtype=ember.float64))
        yt.backward(torch.ones(3, dtype=torch.float64))
        assert_same(ea.grad, ta.grad)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "remainder", "fmod", "lerp",
                                  "atan2", "arctan2", "hypot", "xlogy", "copysign", "ldexp",
                                  "igamma", "igammac", "nextafter", "heaviside", "true_divide",
                                  "float_power"])
def test_binary_inplace(name):
    e, t = both(sample(RNG, "positive", (2, 3)))
    eb, tb = both(sample(RNG, "positive", (3,)))
    extra_e, extra_t = ((0.25,), (0.25,)) if name == "lerp" else ((), ())
    assert getattr(e, name + "_")(eb, *extra_e) is e
    getattr(t, name + "_")(tb, *extra_t)
    assert_same(e, t)


def test_out_argument():
    out_e, out_t = ember.zeros(3), torch.zeros(3)
    ember.add(ember.ones(3), 2, out=out_e)
    torch.add(torch.ones(3), 2, out=out_t)
    assert_same(out_e, out_t)


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


@pytest.mark.parametrize("call", [lambda lib, x, y: 1 - x, lambda lib, x, y: 2.5 - x * 2,
                                  lambda lib, x, y: lib.rsub(x, 2, alpha=3),
                                  lambda lib, x, y: lib.rsub(x, y, alpha=0.5),
                                  lambda lib, x, y: lib.rsub(y, x), lambda lib, x, y: x.__rsub__(2),
                                  lambda lib, x, y: lib.tensor(1.0) - x])
def test_rsub_nodes_and_gradients(call):
    """`1 - x` is torch's rsub.Scalar (grad_fn=<RsubBackward1>, one next function), rsub of
    two tensors RsubBackward0; values and gradients as torch's."""
    x_arr, y_arr = np.array([0.5, -1.0, 2.0]), np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    results = []
    for lib in (ember, torch):
        x = lib.tensor(x_arr, requires_grad=True)
        y = lib.tensor(y_arr, requires_grad=True)
        out = call(lib, x, y)
        grads = lib.autograd.grad(out.sum(), (x, y), allow_unused=True)
        results.append((out, out.grad_fn.name(),
                        [type(n).__name__ for n, _ in out.grad_fn.next_functions], grads))
    (e, e_name, e_next, e_grads), (t, t_name, t_next, t_grads) = results
    assert_same(e, t)
    assert (e_name, e_next) == (t_name, t_next)
    for ge, gt in zip(e_grads, t_grads):
        assert (ge is None) == (gt is None)
        if gt is not None:
            assert_same(ge, gt)


# ---- integer ops: gcd, lcm, bit shifts ----------------------------------------------------------
INTEGER_OPS = {
    "gcd": lambda lib, a, b: lib.gcd(a, b),
    "lcm": lambda lib, a, b: lib.lcm(a, b),
    "bitwise_left_shift": lambda lib, a, b: lib.bitwise_left_shift(a, b),
    "bitwise_right_shift": lambda lib, a, b: lib.bitwise_right_shift(a, b),
    "operator_lshift": lambda lib, a, b: a << b,
    "operator_rshift": lambda lib, a, b: a >> b,
    "method_gcd": lambda lib, a, b: a.gcd(b),
    "shift_by_number": lambda lib, a, b: (a << 3) + (a >> 1),
    "number_shifted": lambda lib, a, b: 5 << b.abs(),
}


@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("int32", "int64"), ("int16", "int16"),
                                    ("uint8", "uint8"), ("int8", "int32")], ids=str)
@pytest.mark.parametrize("name", sorted(INTEGER_OPS))
def test_integer_ops(name, dtypes):
    a = np.array([[12, -9, 0, 7, 100], [-64, 5, 3, 0, -1]])
    b = np.array([4, 6, 5, 0, 3])
    if dtypes[0] == "uint8":
        a = np.abs(a)
    (ea, ta), (eb, tb) = both(a.astype(dtypes[0])), both(b.astype(dtypes[1]))
    assert_same_result_or_error(lambda: INTEGER_OPS[name](ember, ea, eb),
                                lambda: INTEGER_OPS[name](torch, ta, tb))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
def test_shifts_out_of_range(dtype):
    a = np.array([1, -1, 7, -8, 3, -3]) if dtype != "uint8" else np.array([1, 255, 7, 8, 3, 3])
    b = np.array([0, 1, 7, 8, 63, 64]) if dtype != "int8" else np.array([0, 1, 7, 8, 9, 6])
    (ea, ta), (eb, tb) = both(a.astype(dtype)), both(b.astype(dtype))
    assert_same(ea << eb, ta << tb)
    assert_same(ea >> eb, ta >> tb)
    e, t = both(a.astype(dtype))
    e <<= 2
    t <<= 2
    assert_same(e, t)


@pytest.mark.parametrize("name", ["gcd", "lcm", "bitwise_left_shift", "operator_rshift"])
def test_integer_ops_refuse_floats(name):
    assert_same_error(lambda lib, a, b: INTEGER_OPS[name](lib, a, b), np.ones(3), np.ones(3))


def test_integer_ops_inplace_and_out():
    e, t = both(np.array([12, 18, 7]))
    eb, tb = both(np.array([8, 12, 3]))
    assert e.gcd_(eb) is e
    t.gcd_(tb)
    assert_same(e, t)
    out_e, out_t = ember.empty(3, dtype=ember.int64), torch.empty(3, dtype=torch.int64)
    ember.lcm(e, eb, out=out_e)
    torch.lcm(t, tb, out=out_t)
    assert_same(out_e, out_t)


# ---- gradients PyTorch does not define -----------------------------------------------------------
@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_gradient_in_other_only(name):
    ea, ta = both(sample(RNG, "positive", (2, 3)))
    eb, tb = both(sample(RNG, "positive", (3,)), requires_grad=True)
    getattr(ember, name)(ea, eb).sum().backward()
    getattr(torch, name)(ta, tb).sum().backward()
    assert_same(eb.grad, tb.grad, rtol=1e-8)
    leaf = ember.from_numpy(sample(RNG, "positive", (3,))).requires_grad_()
    assert ember.autograd.gradcheck(lambda v: getattr(ember, name)(ea, v), (leaf,))
    assert_same_error(lambda lib, a: getattr(lib, name)(a, a.detach()).sum().backward(),
                      ea.numpy() + 0, )


def test_heaviside_has_no_derivative():
    def call(lib, a):
        y = lib.heaviside(a.requires_grad_(), lib.ones(3, dtype=lib.float64))
        assert y.requires_grad
        y.sum().backward()
    assert_same_error(call, np.array([-1.0, 0.0, 2.0]), same_message=True, exact_type=True)


def test_nextafter_gradient():
    ea, ta = both(np.array([2.0, 2.0, -1.0]), requires_grad=True)
    eb, tb = both(np.array([2.0, 3.0, -5.0]), requires_grad=True)
    ye, yt = ember.nextafter(ea, eb), torch.nextafter(ta, tb)
    assert_same(ye, yt, exact=True)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(ea.grad, ta.grad)
    assert_same(eb.grad, tb.grad)


def test_copysign_signed_zeros_and_gradient():
    ea, ta = both(np.array([1.0, 0.0, -2.0, 3.0, -0.0]), requires_grad=True)
    eb, tb = both(np.array([-0.0, -1.0, 0.0, np.nan, 2.0]))
    ye, yt = ember.copysign(ea, eb), torch.copysign(ta, tb)
    assert_same(ye, yt, exact=True)
    assert np.array_equal(np.signbit(ye.detach().numpy()), np.signbit(yt.detach().numpy()))
    ye.sum().backward()
    yt.sum().backward()
    assert_same(ea.grad, ta.grad)


@pytest.mark.parametrize("name", ["add", "sub", "add_", "sub_"])
def test_float32_alpha_is_one_fused_multiply_add(name):
    """float32 add/sub with an alpha: PyTorch's vectorized kernel is fmadd(other, ±alpha,
    input), rounded once (x.add_(g, alpha=-lr) is every SGD step), bit for bit; broadcasting
    both ways and a Python-number other too."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 4099)).astype(np.float32)
    for alpha in (-0.1, 0.9, 3e-4):
        for x, y in ((a, b), (a[:1], b), (a, b[:1]), (a, 0.7)):
            if name.endswith("_") and x.shape != a.shape:
                continue  # (an in-place target does not broadcast)
            results = []
            for lib in (ember, torch):
                other = lib.tensor(y) if isinstance(y, np.ndarray) else y
                results.append(getattr(lib.tensor(x), name)(other, alpha=alpha).numpy())
            np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("name", ["add", "add_", "sub_"])
def test_big_float32_alpha_in_chunks_matches_torch(name):
    """The fused multiply-add of a big add/sub with alpha runs in cache-sized chunks on the
    threads (ember/ops/_opmath.py `fused_add32`), in place for add_/sub_: still bit for bit,
    contiguous or not, and the in-place result is the input's own storage."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 600_001)).astype(np.float32)
    for x, y in ((a, b), (a[::2], b[::2])):
        ours, theirs = ember.tensor(x), torch.tensor(x)
        pointer = ours.data_ptr()
        got = getattr(ours, name)(ember.tensor(y), alpha=-0.01)
        want = getattr(theirs, name)(torch.tensor(y), alpha=-0.01)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert (got.data_ptr() == pointer) == name.endswith("_")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addc_rounds_as_torch_kernel(name, dtype):
    """Bit for bit as PyTorch's CPU kernels: addcmul is fma(value·t1, t2, input) (its
    `self + value * t1 * t2` compiled to an FMA), addcdiv input + (value·t1)/t2; 16-bit floats
    in float32, rounded once (an Adam or RMSprop step is made of these)."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(4099) * 3 for _ in range(3)]
    for value in (0.1, -0.37, 1e-3):
        results = [getattr(lib, name)(*[lib.tensor(a).to(getattr(lib, dtype)) for a in arrays],
                                      value=value).float().numpy() for lib in (ember, torch)]
        np.testing.assert_array_equal(*results)


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addc_three_tensor_gradients(name):
    arrays = [sample(RNG, "nonzero", shape) for shape in [(2, 1), (1, 3), (3,)]]
    pairs = [both(a, requires_grad=True) for a in arrays]
    ye = getattr(ember, name)(*[p[0] for p in pairs], value=0.7)
    yt = getattr(torch, name)(*[p[1] for p in pairs], value=0.7)
    assert_same(ye, yt)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    ye.sum().backward()
    yt.sum().backward()
    for e, t in pairs:
        assert_same(e.grad, t.grad)
    (e, t), (e1, t1) = both(arrays[0]), both(arrays[0] * 2)
    assert getattr(e, name + "_")(e1, e1, value=3) is e
    getattr(t, name + "_")(t1, t1, value=3)
    assert_same(e, t)


@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "xlogy", "copysign", "ldexp",
                                  "igamma", "nextafter", "float_power", "true_divide", "fmod",
                                  "lerp"])
def test_binary_out(name):
    fn = {**BINARY, **BINARY_NOGRAD}[name][0]
    ea, ta = both(sample(RNG, "positive", (2, 3)))
    eb, tb = both(sample(RNG, "positive", (3,)))
    dtype = "float64"
    out_e, out_t = ember.empty(2, 3, dtype=ember.float64), torch.empty(2, 3, dtype=torch.float64)
    kwargs = {} if name != "lerp" else {"weight": 0.3}
    result = getattr(ember, name)(ea, eb, out=out_e, **kwargs)
    getattr(torch, name)(ta, tb, out=out_t, **kwargs)
    assert result is out_e and fn is not None and dtype
    assert_same(out_e, out_t)


def test_float_power_inplace_needs_float64():
    e, t = both(np.array([1.5, 2.0]))
    assert e.float_power_(2) is e
    t.float_power_(2)
    assert_same(e, t)
    assert_same_error(lambda lib, x: x.float_power_(2), np.ones(2, dtype=np.float32))


# ---- gradient conventions at ties and edges ------------------------------------------------------
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
    e, t = both(EDGE_INPUT, requires_grad=True)
    ye, yt = CONVENTIONS[name](ember, e), CONVENTIONS[name](torch, t)
    ye.backward(ember.ones(5, dtype=ember.float64))
    yt.backward(torch.ones(5, dtype=torch.float64))
    assert_same(e.grad, t.grad)


@pytest.mark.parametrize("base,exponent", [([0.0, 0.0, 2.0, -1.0], [0.0, 2.0, 0.0, 2.0]),
                                           ([0.0, 1.0, 4.0, 0.0], [0.5, 0.5, -1.0, 3.0])])
def test_pow_gradients_at_zero(base, exponent):
    ea, ta = both(np.array(base), requires_grad=True)
    eb, tb = both(np.array(exponent), requires_grad=True)
    (ea ** eb).backward(ember.ones(4, dtype=ember.float64))
    (ta ** tb).backward(torch.ones(4, dtype=torch.float64))
    assert_same(ea.grad, ta.grad)
    assert_same(eb.grad, tb.grad)


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
    lambda lib: lib.addcmul(lib.tensor([3]), lib.tensor([4]), lib.tensor([2]), value=0.5),
    lambda lib: lib.addcdiv(lib.tensor([3]), lib.tensor([4.0]), lib.tensor([2]), value=0.5),
    lambda lib: lib.atan2(lib.tensor([0.0, -0.0, 0.0, 1.0]), lib.tensor([0.0, 0.0, -0.0, 0.0])),
    lambda lib: lib.hypot(lib.tensor([float("inf"), 3.0]), lib.tensor([float("nan"), 4.0])),
    lambda lib: lib.logaddexp(lib.tensor([float("-inf"), 1e30]), lib.tensor([float("-inf"), 1.0])),
    lambda lib: lib.xlogy(lib.tensor([0.0, 0.0, 2.0]), lib.tensor([0.0, float("nan"), 0.0])),
    lambda lib: lib.ldexp(lib.tensor([1.5, -2.0]), lib.tensor([3, -2])),
    lambda lib: lib.heaviside(lib.tensor([-1.0, 0.0, 2.0]), lib.tensor([0.5])),
    lambda lib: lib.true_divide(lib.tensor([3, 4]), 2),
    lambda lib: lib.float_power(lib.tensor([2, 3]), -1),
    lambda lib: lib.fmod(lib.tensor([5.5, -3.25, 1e10, 7.0]), lib.tensor([0.0, 2.0, 3.0, -2.0])),
    lambda lib: lib.fmod(lib.tensor([5, -7, 7]), lib.tensor([3, 2, -2])),
    lambda lib: lib.div(lib.tensor([5.5, -5.5, 0.0]), 0.0, rounding_mode="trunc"),
    lambda lib: lib.div(lib.tensor([7, -7, 6, -6]), lib.tensor([2, 2, -4, 4]),
                        rounding_mode="trunc"),
    lambda lib: lib.floor_divide(lib.tensor([5.5, -5.5, 0.0]), 0.0),
    lambda lib: lib.lerp(lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0]),
                         lib.tensor(0.5, dtype=lib.float64)),
    lambda lib: lib.tensor([True, False]) << 1,
    lambda lib: lib.add(2, 3),
    lambda lib: lib.mul(2, 3.5),
    lambda lib: lib.true_divide(2, 3),
    lambda lib: 2 / lib.tensor([1, 4]),
    lambda lib: lib.tensor([1, 4]).__rdiv__(2),
    lambda lib: 2.5 * lib.tensor([1, 4]),
    lambda lib: True + lib.tensor([1, 4], dtype=lib.uint8),
], ids=lambda f: "")
def test_special_values(expression):
    assert_same(expression(ember), expression(torch))


# ---- errors --------------------------------------------------------------------------------------
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
    "atan2 of numbers": (lambda lib: lib.atan2(1.0, 2.0), TypeError),
    "atan2 number other": (lambda lib: lib.atan2(lib.ones(2), 2.0), TypeError),
    "hypot of numbers": (lambda lib: lib.hypot(1, 2), TypeError),
    "logaddexp of numbers": (lambda lib: lib.logaddexp(1.0, 2.0), TypeError),
    "pow of numbers": (lambda lib: lib.pow(2, 3), TypeError),
    "xlogy of numbers": (lambda lib: lib.xlogy(2, 3), TypeError),
    "remainder of numbers": (lambda lib: lib.remainder(2.0, 3.0), TypeError),
    "fmod number input": (lambda lib: lib.fmod(2, lib.ones(2)), TypeError),
    "copysign of numbers": (lambda lib: lib.copysign(2, 3), TypeError),
    "float_power of numbers": (lambda lib: lib.float_power(2, 3), TypeError),
    "gcd of numbers": (lambda lib: lib.gcd(2, 3), TypeError),
    "lerp of numbers": (lambda lib: lib.lerp(2.0, 3.0, 0.5), TypeError),
    "nextafter number": (lambda lib: lib.nextafter(lib.ones(2), 3.0), TypeError),
    "heaviside number": (lambda lib: lib.heaviside(lib.ones(2), 3.0), TypeError),
    "heaviside dtypes": (lambda lib: lib.heaviside(lib.ones(2), lib.tensor(1)), RuntimeError),
    "hypot of ints": (lambda lib: lib.hypot(lib.tensor([3]), lib.tensor([4])),
                      NotImplementedError),
    "logaddexp of ints": (lambda lib: lib.logaddexp(lib.tensor([3]), lib.tensor([4])),
                          NotImplementedError),
    "igamma of ints": (lambda lib: lib.igamma(lib.tensor([3]), lib.tensor([4])),
                       NotImplementedError),
    "addcdiv of ints": (lambda lib: lib.addcdiv(lib.tensor([3]), lib.tensor([4]),
                                                lib.tensor([2])), RuntimeError),
    "addcmul broadcast": (lambda lib: lib.addcmul(lib.ones(2), lib.ones(3), lib.ones(3)),
                          RuntimeError),
    "true_divide_ of ints": (lambda lib: lib.tensor([3]).true_divide_(2), RuntimeError),
    "int fmod by zero": (lambda lib: lib.fmod(lib.tensor([5, 3]), 0), RuntimeError),
    "int fmod by zero tensor": (lambda lib: lib.fmod(lib.tensor([5]), lib.tensor([0])),
                                RuntimeError),
    "div unknown rounding": (lambda lib: lib.div(lib.ones(2), 2, rounding_mode="round"),
                             RuntimeError),
    "lerp of ints": (lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([3, 4]), 0.5),
                     NotImplementedError),
    "lerp end dtype": (lambda lib: lib.lerp(lib.ones(2), lib.ones(2, dtype=lib.float64), 0.5),
                       RuntimeError),
    "lerp weight dtype": (lambda lib: lib.lerp(lib.ones(2), lib.ones(2),
                                               lib.ones(2, dtype=lib.float64)), RuntimeError),
    "shift of bools": (lambda lib: lib.tensor([True]) << lib.tensor([True]),
                       NotImplementedError),
    "gcd of floats": (lambda lib: lib.gcd(lib.ones(2), lib.ones(2)), NotImplementedError),
    # torch's alpha_check: alpha must fit the result dtype's kind
    "add bool alpha, float result": (lambda lib: lib.add(lib.ones(2), lib.ones(2), alpha=True),
                                     RuntimeError),
    "sub bool alpha": (lambda lib: lib.ones(2).sub(lib.ones(2), alpha=True), RuntimeError),
    "add float alpha, int result": (lambda lib: lib.add(lib.tensor([1]), 2, alpha=1.0),
                                    RuntimeError),
    "sub_ float alpha, int result": (lambda lib: lib.tensor([1]).sub_(2, alpha=0.5),
                                     RuntimeError),
    "add complex alpha, float result": (lambda lib: lib.add(lib.ones(2), 1, alpha=1j),
                                        RuntimeError),
    "unbound __radd__": (lambda lib: lib.Tensor.__radd__(2, lib.ones(2)), TypeError),
    "unbound __rmul__": (lambda lib: lib.Tensor.__rmul__(2, lib.ones(2)), TypeError),
    "unbound __rdiv__": (lambda lib: lib.Tensor.__rdiv__(2, lib.ones(2)), AttributeError),
    "unbound __rtruediv__": (lambda lib: lib.Tensor.__rtruediv__(2.0, lib.ones(2)),
                             AttributeError),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    fn, error = ERRORS[name]
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error):
        fn(ember)


@pytest.mark.parametrize("dtype, alpha", [("bool", True), ("bool", 2), ("int64", 2),
                                          ("float32", 1.5), ("float32", 2),
                                          ("complex64", 1j)])
def test_alpha_that_fits_the_result_matches_torch(dtype, alpha):
    """alpha of the result's kind (or a lower one) is accepted, as torch's alpha_check does;
    the error messages of the rest match torch's."""
    results = [lib.add(lib.ones(3, dtype=getattr(lib, dtype)), lib.ones(3, dtype=getattr(
        lib, dtype)), alpha=alpha).tolist() for lib in (torch, ember)]
    assert results[0] == results[1]
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as error:
            lib.add(lib.ones(2, dtype=lib.int64), 1, alpha=0.5)
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_broadcast_error_message_matches_torch():
    with pytest.raises(RuntimeError) as torch_error:
        torch.ones(2, 3) + torch.ones(4)
    with pytest.raises(RuntimeError) as ember_error:
        ember.ones(2, 3) + ember.ones(4)
    assert str(ember_error.value) == str(torch_error.value)


def test_bool_negation_raises():
    with pytest.raises(RuntimeError, match="Negation"):
        -ember.tensor([True])


# ---- special values -----------------------------------------------------------------------------
# PyTorch computes x/0, x%0 and 0**-1 silently; ember must not leak NumPy warnings.
SPECIAL_VALUES = {
    "div": lambda m, x: x / (x * 0),
    "remainder": lambda m, x: x % (x * 0),
    "pow": lambda m, x: x ** -1.0,
}
test_special_values_match_torch_without_warnings = _tables.special_values_without_warnings(
    SPECIAL_VALUES)


@pytest.mark.parametrize("shapes", [((), (), ()), ((2,), (2,), ()), ((), (2,), ())])
def test_lerp_0d_weight_takes_part_in_promotion_only_among_0d(shapes):
    """lerp(0-d f32, 0-d f32, 0-d f64) is float64; with a dimensioned operand, float32."""
    def run(lib):
        x, y, w = (lib.full(s, v, dtype=d) for s, v, d in zip(
            shapes, (1.0, 2.0, 0.25), (lib.float32, lib.float32, lib.float64)))
        return lib.lerp(x, y, w)

    assert_same(run(ember), run(torch))


# PyTorch's lerp kernel starts from the nearer end and fuses the multiply-add: ember's is its
# value bit for bit, infinities included (a quantile between -inf and a number is -inf)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weight", ["tensor", 0.1, 0.7, 1.0, -0.6, 1.5])
def test_lerp_is_torchs_kernel_bit_for_bit(dtype, weight):
    rng = np.random.default_rng(3)
    a, b, w = (rng.normal(size=257).astype(dtype) for _ in range(3))
    a[:4], b[:4] = [-np.inf, 1.0, np.nan, 2.0], [3.0, np.inf, 1.0, -np.inf]

    def run(lib):
        weight_ = lib.tensor(w * 1.5) if weight == "tensor" else weight
        return lib.lerp(lib.tensor(a), lib.tensor(b), weight_)

    expected, result = run(torch).numpy(), run(ember).numpy()
    np.testing.assert_array_equal(result, expected)


def test_quantile_between_minus_inf_and_a_number_is_minus_inf():
    x = [[-np.inf, 1.0, 3.0], [2.0, -np.inf, -np.inf]]
    q = [0.25, 0.5, 0.75]
    assert_same(ember.quantile(ember.tensor(x), ember.tensor(q), dim=1),
                torch.quantile(torch.tensor(x), torch.tensor(q), dim=1))


def _modulo_operands(rng, n):
    """float32 dividends and divisors over all magnitudes (quotients past 2^29 included),
    with zeros of both signs, infinities, NaN and subnormals, and multiples that divide."""
    a = (rng.standard_normal(n) * 10.0 ** rng.integers(-40, 39, n)).astype(np.float32)
    b = (rng.standard_normal(n) * 10.0 ** rng.integers(-40, 39, n)).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -3e-39, 0.7], np.float32)
    a[: 64] = np.repeat(special, 8)
    b[: 64] = np.tile(special, 8)
    b[64: 128] = a[64: 128] / rng.integers(1, 1000, 64)  # near and exact multiples
    a[128: 192] = b[128: 192] * rng.integers(-5000, 5000, 64)
    return a, b


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_fmod_and_remainder_bits_over_all_magnitudes(name):
    """float32 fmod / remainder (through float64: NOTE [fmod through float64]) give torch's
    bits, and the sign of zero as torch (remainder keeps fmod's)."""
    a, b = _modulo_operands(np.random.default_rng(7), 200_000)
    e = getattr(ember, name)(ember.tensor(a), ember.tensor(b)).numpy()
    t = getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_array_equal(np.isnan(e), np.isnan(t))
    number = ~np.isnan(t)
    np.testing.assert_array_equal(e[number].view(np.uint32), t[number].view(np.uint32))
