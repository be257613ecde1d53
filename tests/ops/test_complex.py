"""Complex tensors: dtypes and promotion, printing, and the ops of ember/ops/complex.py against
torch (values, dtypes, shapes, gradients with PyTorch's conjugate convention, errors)."""

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error


def _pair(array):
    return (ember.from_numpy(array.copy()).requires_grad_(),
            torch.from_numpy(array.copy()).requires_grad_())


def _complex_array(rng, shape, dtype=np.complex128):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


# name -> (fn(lib, z) on a complex input giving a real or complex tensor)
UNARY = {
    "real": lambda lib, z: lib.real(z),
    "imag": lambda lib, z: lib.imag(z),
    "real_property": lambda lib, z: z.real * 2,
    "imag_property": lambda lib, z: z.imag * 3,
    "conj": lambda lib, z: lib.conj(z).resolve_conj(),
    "conj_physical": lambda lib, z: lib.conj_physical(z),
    "angle": lambda lib, z: lib.angle(z),
    "abs": lambda lib, z: z.abs(),
    "view_as_real": lambda lib, z: lib.view_as_real(z),
    "adjoint": lambda lib, z: z.adjoint().resolve_conj(),
    "mH": lambda lib, z: z.mH.resolve_conj(),
    "H": lambda lib, z: z.H.resolve_conj(),
    "mT_of_conj": lambda lib, z: z.conj().resolve_conj().mT,
}


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, dtype):
    rng = np.random.default_rng(0)
    ze, zt = _pair(_complex_array(rng, (3, 4), dtype))
    ye, yt = UNARY[name](ember, ze), UNARY[name](torch, zt)
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    assert_same(ye, yt, rtol=tol, atol=tol)
    # the same grad_output (complex for a complex result) into both backward passes
    gy = (_complex_array(rng, tuple(yt.shape), dtype) if yt.is_complex()
          else rng.standard_normal(tuple(yt.shape)).astype(dtype(0).real.dtype))
    ye.backward(ember.from_numpy(gy.copy()))
    yt.backward(torch.from_numpy(gy.copy()))
    assert_same(ze.grad, zt.grad.resolve_conj(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(UNARY))
def test_gradcheck(name):
    leaf = ember.from_numpy(_complex_array(np.random.default_rng(1), (3, 3))).requires_grad_()
    assert ember.autograd.gradcheck(lambda z: UNARY[name](ember, z), (leaf,))
    assert ember.autograd.gradgradcheck(lambda z: UNARY[name](ember, z), (leaf,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_complex_and_polar(dtype):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal((3,)).astype(dtype)
    for fn in (lambda lib, x, y: lib.complex(x, y), lambda lib, x, y: lib.polar(x.abs(), y)):
        (ae, at), (be, bt) = _pair(a), _pair(b)
        ye, yt = fn(ember, ae, be), fn(torch, at, bt)
        assert_same(ye, yt, rtol=1e-5, atol=1e-6)
        gy = _complex_array(rng, tuple(yt.shape), ye.dtype.numpy)
        ye.backward(ember.from_numpy(gy.copy()))
        yt.backward(torch.from_numpy(gy.copy()))
        assert_same(ae.grad, at.grad, rtol=1e-5, atol=1e-5)
        assert_same(be.grad, bt.grad, rtol=1e-5, atol=1e-5)


def test_polar_gradient_at_zero_and_negative_abs():
    """torch.polar is its own node (PolarBackward0) whose gradient in abs is
    Re(conj(gz)·sgn z): 0 where abs = 0 and of the opposite sign where abs < 0 (not the
    cos/sin of complex(abs·cos θ, abs·sin θ)); broadcasting sums the gradients back."""
    r = np.array([[0.0, -1.0, 2.0], [0.5, 0.0, -3.0]])
    theta = np.array([0.3, 0.5, 1.0])
    gy = _complex_array(np.random.default_rng(4), (2, 3), np.complex128)
    seen = []
    for lib in (ember, torch):
        re = lib.tensor(r, requires_grad=True)
        te = lib.tensor(theta, requires_grad=True)
        y = lib.polar(re, te)
        y.backward(lib.from_numpy(gy.copy()))
        seen.append((y.grad_fn.name(), y.detach(), re.grad, te.grad))
    assert seen[0][0] == seen[1][0] == "PolarBackward0"
    for e, t in zip(seen[0][1:], seen[1][1:]):
        assert_same(e, t, rtol=1e-12, atol=1e-14)
    r_leaf = ember.tensor(np.abs(r) + 0.5, requires_grad=True)
    t_leaf = ember.tensor(theta, requires_grad=True)
    assert ember.autograd.gradgradcheck(ember.polar, (r_leaf, t_leaf))


def test_real_and_imag_are_select_nodes():
    """z.real / z.imag are view_as_real(z).select(-1, k) in PyTorch: grad_fn SelectBackward0."""
    for lib in (ember, torch):
        z = lib.randn(3, dtype=lib.complex64, requires_grad=True)
        names = {f(z).grad_fn.name() for f in (lib.real, lib.imag, lambda t: t.real,
                                                lambda t: t.imag)}
        assert names == {"SelectBackward0"}


def test_view_as_complex_is_a_view_with_gradients():
    x = np.random.default_rng(3).standard_normal((4, 2))
    xe, xt = _pair(x)
    ze, zt = ember.view_as_complex(xe), torch.view_as_complex(xt)
    assert_same(ze, zt)
    (ze.real * 2 + ze.imag * 5).sum().backward()
    (zt.real * 2 + zt.imag * 5).sum().backward()
    assert_same(xe.grad, xt.grad)
    base = ember.zeros(3, 2)
    assert np.shares_memory(ember.view_as_complex(base).numpy(), base.numpy())
    view = ember.view_as_real(ember.tensor([1 + 2j, 3 - 1j]))
    assert view.shape == (2, 2) and view.tolist() == [[1.0, 2.0], [3.0, -1.0]]


def test_is_complex_and_conj_physical_inplace():
    z = np.array([1 + 2j, 3 - 1j], dtype=np.complex64)
    ze, zt = ember.from_numpy(z.copy()), torch.from_numpy(z.copy())
    assert ember.is_complex(ze) and not ember.is_complex(ember.ones(1))
    ze.conj_physical_()
    zt.conj_physical_()
    assert_same(ze, zt, exact=True)


def test_real_angle_of_real_and_identity():
    x = np.array([-1.0, 0.0, 2.0, np.nan], dtype=np.float32)
    xe, xt = _pair(x)
    assert_same(ember.angle(xe), torch.angle(xt))
    ember.angle(xe).sum().backward()
    torch.angle(xt).sum().backward()
    assert_same(xe.grad, xt.grad)
    assert ember.real(xe) is xe and ember.conj(xe) is xe
    assert_same(ember.angle(ember.tensor([1, -2])), torch.angle(torch.tensor([1, -2])))


PROMOTIONS = [
    ("complex64", "float64"), ("complex64", "int64"), ("complex128", "float32"),
    ("complex64", "complex128"), ("float16", "complex64"), ("bool", "complex64"),
]


@pytest.mark.parametrize("a,b", PROMOTIONS)
def test_promote_types(a, b):
    assert str(ember.promote_types(getattr(ember, a), getattr(ember, b))) == str(
        torch.promote_types(getattr(torch, a), getattr(torch, b)))


@pytest.mark.parametrize("dim_dtype,zero_dim,scalar", [
    ("float32", "complex128", None), ("float64", "complex64", None), ("int64", "complex128", None),
    ("complex64", "float64", None), ("float32", None, 1j), ("float64", None, 1j),
    ("int64", None, 1j), ("complex128", None, 2.0),
])
def test_result_type(dim_dtype, zero_dim, scalar):
    def call(lib):
        operands = [lib.ones(2, dtype=getattr(lib, dim_dtype))]
        operands.append(lib.ones((), dtype=getattr(lib, zero_dim)) if zero_dim else scalar)
        return lib.result_type(*operands)

    assert str(call(ember)) == str(call(torch))


def test_dtype_attributes():
    for name in ("complex64", "complex128"):
        e, t = getattr(ember, name), getattr(torch, name)
        assert (e.is_complex, e.is_floating_point, e.is_signed, e.itemsize) == (
            t.is_complex, t.is_floating_point, t.is_signed, t.itemsize)
        assert str(e.to_real()) == str(t.to_real())
    assert ember.float64.to_complex() is ember.complex128 and ember.cfloat is ember.complex64
    assert ember.tensor([1j]).dtype is ember.complex64
    assert ember.tensor([1j]).type() == "torch.ComplexFloatTensor"
    assert ember.tensor(1 + 2j).item() == 1 + 2j


@pytest.mark.parametrize("values,dtype", [
    ([1.5 + 2j, -3.25 - 1e-5j], None), ([[1.5 + 2j, -3 - 1j]], None), (2 - 0j, None),
    ([1j, 2, 3], "complex128"), ([], "complex64"), ([float("nan") + 1j, -0.0 - 0.0j], None),
])
def test_printing(values, dtype):
    def text(lib):
        kwargs = {"dtype": getattr(lib, dtype)} if dtype else {}
        return repr(lib.tensor(values, **kwargs))

    assert text(ember) == text(torch)


def test_printing_summarised_and_grad():
    e = ember.arange(2000.0).reshape(2, 1000) * 1j
    t = torch.arange(2000.0).reshape(2, 1000) * 1j
    assert repr(e) == repr(t)
    assert repr(ember.tensor([1 + 1j], requires_grad=True)) == repr(
        torch.tensor([1 + 1j], requires_grad=True))


ERRORS = {
    "imag_of_real": lambda lib, x: lib.imag(x),
    "view_as_complex_last_dim": lambda lib, x: lib.view_as_complex(x),
    "view_as_complex_int": lambda lib, x: lib.view_as_complex(x.long()[:, :2]),
    "view_as_real_of_real": lambda lib, x: lib.view_as_real(x),
    "complex_mixed": lambda lib, x: lib.complex(x, x.double()),
    "complex_int": lambda lib, x: lib.complex(x.long(), x.long()),
    "mH_1d": lambda lib, x: x[0].to(lib.complex64).mH,
    "H_3d": lambda lib, x: x[None].to(lib.complex64).H,
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    assert_same_error(ERRORS[name], np.ones((2, 3), dtype=np.float32), exact_type=True)


def test_messages():
    with pytest.raises(RuntimeError, match="Expected object of scalar type Float but got scalar "
                                           "type Double for second argument"):
        ember.complex(ember.ones(2), ember.ones(2, dtype=ember.float64))


def test_complex_and_polar_of_infinities_as_torch():
    """complex(a, b) sets the parts apart: an infinite b leaves the real part alone (a + 1j·b
    would make it nan, 0·inf); polar(inf, 0) is inf + nan·j, as torch computes it."""
    values = np.array([np.inf, -np.inf, 1.0, np.nan], dtype=np.float32)
    for make in (lambda lib, x: lib.complex(x, x), lambda lib, x: lib.complex(x, x.flip(0)),
                 lambda lib, x: lib.polar(x.abs(), lib.zeros(4)),
                 lambda lib, x: lib.complex(x, x).sum()):
        with np.errstate(all="ignore"):
            assert_same(make(ember, ember.tensor(values)), make(torch, torch.tensor(values)))
