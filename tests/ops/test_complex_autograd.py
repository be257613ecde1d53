"""Autograd of complex tensors against torch: PyTorch's conjugate Wirtinger convention
(gz = gy·conj(f'(z)) for a holomorphic f) through every op family that takes complex input.

Each row runs forward in ember and torch on the same complex inputs, backpropagates the same
complex grad_output (no detour through Re/Im/abs), and compares values, dtypes and the
gradients of every input; the float64 finite-difference checks (`gradcheck`, `gradgradcheck`)
run on complex128 leaves. The reductions and divisions are also checked for keeping the
imaginary part in every path (dim/keepdim/dtype, Python scalars, in-place forms), and the ops
PyTorch has no complex kernel for raise its exception with its message.
"""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same

RNG = np.random.default_rng(15)
TOL = {np.complex64: {"rtol": 2e-4, "atol": 2e-5}, np.complex128: {"rtol": 1e-9, "atol": 1e-11}}


def _complex(shape, dtype=np.complex128, scale=1.0):
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    return (scale * z).astype(dtype)


def _real_of(dtype):
    return np.float32 if dtype == np.complex64 else np.float64


# name -> (fn(lib, *tensors), input specs); a spec is a shape (complex input) or ("real", shape)
OPS = {
    "mul": (lambda m, a, b: a * b, [(2, 3), (3,)]),
    "mul_real_operand": (lambda m, a, b: a * b, [(2, 3), ("real", (2, 3))]),
    "mul_python_complex": (lambda m, a: a * (2 - 1j), [(3,)]),
    "rmul_python_complex": (lambda m, a: (0.5 + 2j) * a, [(3,)]),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2 - 1j), [(3,), (3,)]),
    "sub_alpha": (lambda m, a, b: m.sub(a, b, alpha=0.5j), [(3,), (2, 3)]),
    "div": (lambda m, a, b: a / b, [(2, 3), (2, 3)]),
    "div_python_complex": (lambda m, a: a / (1 + 2j), [(3,)]),
    "rdiv": (lambda m, a: (2 - 1j) / a, [(3,)]),
    "true_divide": (lambda m, a: m.true_divide(a, 3), [(3,)]),
    "div_inplace": (lambda m, a: a.clone().div_(2 + 1j), [(3,)]),
    "mul_inplace": (lambda m, a, b: a.clone().mul_(b), [(3,), (3,)]),
    "pow_tensor": (lambda m, a, b: a ** b, [(3,), (3,)]),
    "pow_python_complex": (lambda m, a: a ** (1.5 - 0.5j), [(3,)]),
    "pow_2": (lambda m, a: a ** 2, [(3,)]),
    "pow_negative": (lambda m, a: a ** -1, [(3,)]),
    "rpow": (lambda m, a: 2 ** a, [(3,)]),
    "float_power": (lambda m, a, b: m.float_power(a, b), [(3,), (3,)]),
    "square": (lambda m, a: a.square(), [(3,)]),
    "exp": (lambda m, a: a.exp(), [(3,)]),
    "expm1": (lambda m, a: a.expm1(), [(3,)]),
    "exp2": (lambda m, a: m.exp2(a), [(3,)]),
    "log": (lambda m, a: a.log(), [(3,)]),
    "log2": (lambda m, a: a.log2(), [(3,)]),
    "log10": (lambda m, a: a.log10(), [(3,)]),
    "log1p": (lambda m, a: a.log1p(), [(3,)]),
    "sqrt": (lambda m, a: a.sqrt(), [(3,)]),
    "rsqrt": (lambda m, a: a.rsqrt(), [(3,)]),
    "reciprocal": (lambda m, a: a.reciprocal(), [(3,)]),
    "sigmoid": (lambda m, a: a.sigmoid(), [(3,)]),
    "tanh": (lambda m, a: a.tanh(), [(3,)]),
    "sin": (lambda m, a: a.sin(), [(3,)]),
    "cos": (lambda m, a: a.cos(), [(3,)]),
    "tan": (lambda m, a: a.tan(), [(3,)]),
    "sinh": (lambda m, a: a.sinh(), [(3,)]),
    "cosh": (lambda m, a: a.cosh(), [(3,)]),
    "asin": (lambda m, a: a.asin(), [(3,)]),
    "acos": (lambda m, a: a.acos(), [(3,)]),
    "atan": (lambda m, a: a.atan(), [(3,)]),
    "asinh": (lambda m, a: a.asinh(), [(3,)]),
    "acosh": (lambda m, a: a.acosh(), [(4,)]),
    "atanh": (lambda m, a: a.atanh(), [(3,)]),
    "sinc": (lambda m, a: m.sinc(a), [(3,)]),
    "abs": (lambda m, a: a.abs(), [(3,)]),
    "sgn": (lambda m, a: a.sgn(), [(3,)]),
    "angle": (lambda m, a: a.angle(), [(3,)]),
    "conj_mul": (lambda m, a: a.conj() * a, [(3,)]),
    "real_imag": (lambda m, a: a.real * a.imag, [(3,)]),
    "sum": (lambda m, a: a.sum(), [(2, 3)]),
    "sum_dim_keepdim": (lambda m, a: a.sum(1, keepdim=True), [(2, 3)]),
    "sum_dims_dtype": (lambda m, a: a.sum((0, 1), dtype=m.complex128), [(2, 3)]),
    "mean": (lambda m, a: a.mean(), [(2, 3)]),
    "mean_dim": (lambda m, a: a.mean(0), [(2, 3)]),
    "prod": (lambda m, a: a.prod(), [(2, 3)]),
    "prod_dim": (lambda m, a: a.prod(1, keepdim=True), [(2, 3)]),
    "cumsum": (lambda m, a: a.cumsum(1), [(2, 3)]),
    "cumprod": (lambda m, a: a.cumprod(1), [(2, 3)]),
    "var": (lambda m, a: a.var(1), [(2, 3)]),
    "std": (lambda m, a: a.std(), [(2, 3)]),
    "var_mean": (lambda m, a: m.var_mean(a, 0)[0] + m.var_mean(a, 0)[1], [(2, 3)]),
    "matmul": (lambda m, a, b: a @ b, [(2, 3), (3, 4)]),
    "matmul_batched": (lambda m, a, b: a @ b, [(2, 2, 3), (3, 2)]),
    "matmul_vector_matrix": (lambda m, a, b: a @ b, [(3,), (2, 3, 2)]),
    "mm": (lambda m, a, b: m.mm(a, b), [(2, 3), (3, 2)]),
    "bmm": (lambda m, a, b: m.bmm(a, b), [(2, 2, 3), (2, 3, 2)]),
    "mv": (lambda m, a, b: m.mv(a, b), [(2, 3), (3,)]),
    "dot": (lambda m, a, b: m.dot(a, b), [(3,), (3,)]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [(3,), (3,)]),
    "vdot_method": (lambda m, a, b: a.vdot(b), [(3,), (3,)]),
    "outer": (lambda m, a, b: m.outer(a, b), [(3,), (2,)]),
    "addmm": (lambda m, c, a, b: m.addmm(c, a, b, beta=0.5 + 1j, alpha=2 - 1j),
              [(2, 4), (2, 3), (3, 4)]),
    "addbmm": (lambda m, c, a, b: m.addbmm(c, a, b, beta=0.5 + 1j, alpha=2 - 1j),
               [(2, 4), (3, 2, 5), (3, 5, 4)]),
    "baddbmm": (lambda m, c, a, b: m.baddbmm(c, a, b, beta=1j, alpha=-1j),
                [(3, 2, 4), (3, 2, 5), (3, 5, 4)]),
    "addmv": (lambda m, c, a, b: m.addmv(c, a, b, beta=2j, alpha=0.5), [(2,), (2, 3), (3,)]),
    "trace": (lambda m, a: a.trace(), [(3, 3)]),
    "lerp_scalar": (lambda m, a, b: m.lerp(a, b, 0.25), [(3,), (3,)]),
    "lerp_tensor": (lambda m, a, b, w: m.lerp(a, b, w), [(3,), (3,), (3,)]),
    "addcmul": (lambda m, a, b, c: m.addcmul(a, b, c, value=0.5 - 1j), [(3,), (3,), (3,)]),
    "addcdiv": (lambda m, a, b, c: m.addcdiv(a, b, c, value=2j), [(3,), (3,), (3,)]),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), [(3,), (3,)]),
    "ldexp": (lambda m, a, b: m.ldexp(a, b), [(3,), (3,)]),
    "to_complex_then_mul": (lambda m, x: x.to(m.complex128) * (1 + 2j), [("real", (3,))]),
}


def _arrays(spec, dtype):
    arrays = []
    for item in spec:
        if item[0] == "real":
            arrays.append(RNG.standard_normal(item[1]).astype(_real_of(dtype)))
        else:
            arrays.append(_complex(item, dtype))
    return arrays


def _grad_output(shape, dtype):
    sample = _complex(shape, dtype) if np.dtype(dtype).kind == "c" else \
        RNG.standard_normal(shape).astype(dtype)
    return np.asarray(sample)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(OPS))
def test_values_and_gradients(name, dtype):
    fn, spec = OPS[name]
    arrays = _arrays(spec, dtype)
    leaves_e = [ember.from_numpy(a.copy()).requires_grad_() for a in arrays]
    leaves_t = [torch.from_numpy(a.copy()).requires_grad_() for a in arrays]
    ye, yt = fn(ember, *leaves_e), fn(torch, *leaves_t)
    assert_same(ye, yt.resolve_conj(), **TOL[dtype])
    gy = _grad_output(tuple(yt.shape), yt.detach().numpy().dtype)
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    for e, t in zip(leaves_e, leaves_t):
        assert_same(e.grad, t.grad.resolve_conj(), **TOL[dtype])


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_complex128(name):
    fn, spec = OPS[name]
    leaves = [ember.from_numpy(a).requires_grad_() for a in _arrays(spec, np.complex128)]
    assert ember.autograd.gradcheck(lambda *xs: fn(ember, *xs), leaves)


SECOND_ORDER = ["mul", "div", "pow_tensor", "exp", "log", "sqrt", "sigmoid", "tanh", "abs",
                "sgn", "matmul", "mv", "vdot", "prod_dim", "cumprod", "var", "reciprocal",
                "lerp_tensor", "addcdiv", "logaddexp"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_gradgradcheck_complex128(name):
    fn, spec = OPS[name]
    leaves = [ember.from_numpy(a).requires_grad_() for a in _arrays(spec, np.complex128)]
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), leaves)


def test_second_derivative_matches_torch():
    z = _complex((3,))
    grads = []
    for lib in (ember, torch):
        leaf = lib.from_numpy(z.copy()).requires_grad_()
        y = (leaf.exp() * leaf.conj()).sum()
        seed = lib.tensor(0.5 - 2j, dtype=lib.complex128)
        (g,) = lib.autograd.grad(y, leaf, seed, create_graph=True)
        (h,) = lib.autograd.grad((g * g.conj()).real.sum(), leaf)
        grads.append((g.detach(), h))
    assert_same(grads[0][0], grads[1][0], rtol=1e-10, atol=1e-12)
    assert_same(grads[0][1], grads[1][1], rtol=1e-10, atol=1e-12)


# ---- the imaginary part is kept in every path --------------------------------------------------
KEEPS_IMAG = {
    "sum": lambda m, z, i: z.sum(),
    "sum_dim": lambda m, z, i: m.sum(z, 0),
    "sum_keepdim": lambda m, z, i: z.sum(1, keepdim=True),
    "sum_dims": lambda m, z, i: z.sum((0, 1)),
    "sum_empty_dims": lambda m, z, i: z.sum(()),
    "sum_dtype": lambda m, z, i: z.sum(dtype=m.complex128),
    "sum_real_dtype": lambda m, z, i: z.sum(1, dtype=m.float32),
    "sum_int_to_complex": lambda m, z, i: i.sum(dtype=m.complex64),
    "sum_empty": lambda m, z, i: z[:0].sum(0),
    "mean": lambda m, z, i: z.mean(),
    "mean_keepdim": lambda m, z, i: z.mean(1, keepdim=True),
    "mean_dtype": lambda m, z, i: z.mean(dtype=m.complex128),
    "mean_int_to_complex": lambda m, z, i: i.mean(dtype=m.complex64),
    "mean_empty": lambda m, z, i: z[:0].mean(),
    "prod_dtype": lambda m, z, i: z.prod(0, dtype=m.complex128),
    "cumsum_dtype": lambda m, z, i: z.cumsum(0, dtype=m.complex128),
    "cumsum_inplace": lambda m, z, i: z.clone().cumsum_(1),
    "div_int": lambda m, z, i: z / 2,
    "div_float": lambda m, z, i: z / 2.5,
    "div_complex": lambda m, z, i: z / (1 - 2j),
    "rdiv_complex": lambda m, z, i: (1 + 2j) / z,
    "true_divide": lambda m, z, i: m.true_divide(z, 1j),
    "int_tensor_div_complex": lambda m, z, i: i / (1 + 1j),
    "int_tensor_div_complex_tensor": lambda m, z, i: i / z[:2, :2],
    "real_div_complex": lambda m, z, i: z.real / 1j,
    "div_inplace": lambda m, z, i: z.clone().div_(2),
    "div_inplace_complex": lambda m, z, i: z.clone().div_(1 - 1j),
    "true_divide_inplace": lambda m, z, i: z.clone().true_divide_(3),
    "itruediv": lambda m, z, i: z.clone().__itruediv__(2 + 0j),
    "mul_inplace_complex": lambda m, z, i: z.clone().mul_(1j),
    "add_inplace_alpha": lambda m, z, i: z.clone().add_(1j, alpha=2),
    "int_mul_complex": lambda m, z, i: i * (2 - 1j),
    "int_add_imaginary": lambda m, z, i: i + 1j,
    "int_pow_complex": lambda m, z, i: i ** 0.5j,
    "rpow_complex": lambda m, z, i: (2j) ** z,
    "var_mean_mean": lambda m, z, i: m.var_mean(z, 1)[1],
    "nan_to_num": lambda m, z, i: m.nan_to_num(z / 0),
    "trace": lambda m, z, i: z[:, :3].trace(),
    "float_power": lambda m, z, i: m.float_power(z, 2),
    "float_power_complex_exponent": lambda m, z, i: m.float_power(i, 0.5j),
    "float_power_inplace": lambda m, z, i: z.to(m.complex128).float_power_(1.5),
}


@pytest.mark.parametrize("call", [lambda m: m.ones(2, dtype=m.float64).float_power_(1j),
                                  lambda m: m.ones(2, dtype=m.complex64).float_power_(2)],
                         ids=["real_base", "complex64_base"])
def test_float_power_inplace_errors(call):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as info:
            call(lib)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", sorted(KEEPS_IMAG))
def test_keeps_the_imaginary_part(name):
    z = _complex((3, 4), np.complex64)
    i = np.array([[1, 2], [3, 4]])
    ye = KEEPS_IMAG[name](ember, ember.from_numpy(z.copy()), ember.from_numpy(i.copy()))
    yt = KEEPS_IMAG[name](torch, torch.from_numpy(z.copy()), torch.from_numpy(i.copy()))
    assert_same(ye, yt, rtol=1e-5, atol=1e-6)


# ---- ops without a complex kernel in PyTorch ---------------------------------------------------
REFUSED = ["floor", "ceil", "round", "trunc", "sign", "frac", "relu", "erf", "erfc", "erfinv",
           "logit", "deg2rad", "rad2deg", "signbit", "isposinf", "fmod", "remainder",
           "floor_divide", "hypot", "atan2", "xlogy", "copysign", "logaddexp2", "nextafter",
           "igamma", "heaviside", "nansum", "nanmean"]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name", REFUSED)
def test_refused_like_torch(name, dtype):
    errors = []
    for lib in (torch, ember):
        z = lib.tensor([1 + 1j, 2 - 1j], dtype=getattr(lib, dtype))
        fn = getattr(lib, name)
        with pytest.raises(Exception) as info:
            try:
                fn(z)
            except TypeError:  # a binary op: called with two complex tensors
                fn(z, z)
        errors.append(info.value)
    assert type(errors[1]) is type(errors[0])
    assert str(errors[1]) == str(errors[0])


def test_real_results_are_unchanged():
    # the conjugations are skipped for real tensors: the very same numbers as before
    x = RNG.standard_normal((3, 4))
    w = RNG.standard_normal((4, 2))
    xe = ember.from_numpy(x.copy()).requires_grad_()
    we = ember.from_numpy(w.copy()).requires_grad_()
    ((xe @ we).exp() / (xe.sum() + 10)).sum().backward()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    wt = torch.from_numpy(w.copy()).requires_grad_()
    ((xt @ wt).exp() / (xt.sum() + 10)).sum().backward()
    assert xe.grad.dtype is ember.float64
    assert_same(xe.grad, xt.grad, rtol=1e-12, atol=1e-12)
    assert_same(we.grad, wt.grad, rtol=1e-12, atol=1e-12)
