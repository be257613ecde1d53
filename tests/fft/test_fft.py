"""ember.fft against torch.fft: values, dtypes, shapes, gradients, gradcheck and errors."""

import zlib

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error, run_both
from tests.ops._tables import result_or_error

NORMS = (None, "backward", "forward", "ortho")

# name -> (call(lib, x, norm), input kind, input shape)
TRANSFORMS = {
    "fft": (lambda lib, x, norm: lib.fft.fft(x, norm=norm), "complex", (3, 5)),
    "fft_real": (lambda lib, x, norm: lib.fft.fft(x, norm=norm), "real", (3, 5)),
    "fft_n_pad": (lambda lib, x, norm: lib.fft.fft(x, n=8, dim=0, norm=norm), "complex", (3, 5)),
    "fft_n_cut": (lambda lib, x, norm: lib.fft.fft(x, n=3, norm=norm), "real", (3, 5)),
    "ifft": (lambda lib, x, norm: lib.fft.ifft(x, norm=norm), "complex", (4, 6)),
    "ifft_real": (lambda lib, x, norm: lib.fft.ifft(x, n=7, norm=norm), "real", (6,)),
    "rfft": (lambda lib, x, norm: lib.fft.rfft(x, norm=norm), "real", (3, 6)),
    "rfft_odd": (lambda lib, x, norm: lib.fft.rfft(x, norm=norm, dim=0), "real", (7, 2)),
    "rfft_n": (lambda lib, x, norm: lib.fft.rfft(x, n=9, norm=norm), "real", (2, 6)),
    "irfft": (lambda lib, x, norm: lib.fft.irfft(x, norm=norm), "complex", (3, 5)),
    "irfft_odd": (lambda lib, x, norm: lib.fft.irfft(x, n=9, norm=norm), "complex", (2, 5)),
    "irfft_cut": (lambda lib, x, norm: lib.fft.irfft(x, n=4, norm=norm), "complex", (2, 5)),
    "irfft_real": (lambda lib, x, norm: lib.fft.irfft(x, norm=norm), "real", (4,)),
    "hfft": (lambda lib, x, norm: lib.fft.hfft(x, norm=norm), "complex", (3, 4)),
    "hfft_n": (lambda lib, x, norm: lib.fft.hfft(x, n=7, norm=norm), "complex", (4,)),
    "ihfft": (lambda lib, x, norm: lib.fft.ihfft(x, norm=norm), "real", (3, 7)),
    "fft2": (lambda lib, x, norm: lib.fft.fft2(x, norm=norm), "complex", (2, 3, 4)),
    "ifft2_s": (lambda lib, x, norm: lib.fft.ifft2(x, s=(4, 2), norm=norm), "complex", (3, 3)),
    "rfft2": (lambda lib, x, norm: lib.fft.rfft2(x, norm=norm), "real", (2, 4, 6)),
    "irfft2": (lambda lib, x, norm: lib.fft.irfft2(x, norm=norm), "complex", (3, 4)),
    "irfft2_s": (lambda lib, x, norm: lib.fft.irfft2(x, s=(3, 5), norm=norm), "complex", (3, 4)),
    "hfft2": (lambda lib, x, norm: lib.fft.hfft2(x, norm=norm), "complex", (3, 4)),
    "ihfft2": (lambda lib, x, norm: lib.fft.ihfft2(x, norm=norm), "real", (3, 5)),
    "fftn": (lambda lib, x, norm: lib.fft.fftn(x, norm=norm), "complex", (2, 3, 4)),
    "fftn_dim": (lambda lib, x, norm: lib.fft.fftn(x, s=(5, -1), dim=(0, 2), norm=norm),
                 "real", (2, 3, 4)),
    "ifftn": (lambda lib, x, norm: lib.fft.ifftn(x, dim=(1,), norm=norm), "complex", (2, 3)),
    "rfftn": (lambda lib, x, norm: lib.fft.rfftn(x, norm=norm), "real", (3, 2, 5)),
    "irfftn": (lambda lib, x, norm: lib.fft.irfftn(x, s=(2, 3, 6), norm=norm), "complex",
               (2, 3, 4)),
    "hfftn": (lambda lib, x, norm: lib.fft.hfftn(x, dim=(0, 1), norm=norm), "complex", (3, 4)),
    "ihfftn": (lambda lib, x, norm: lib.fft.ihfftn(x, s=(4, 4), norm=norm), "real", (3, 5)),
}

REAL_TO_COMPLEX = {np.float32: np.complex64, np.float64: np.complex128}


def _input(rng, kind, shape, dtype):
    values = rng.standard_normal(shape)
    if kind == "complex":
        values = values + 1j * rng.standard_normal(shape)
        return values.astype(REAL_TO_COMPLEX[dtype])
    return values.astype(dtype)


def _real_view(lib, y):
    return lib.view_as_real(y.resolve_conj()) if y.is_complex() else y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_values_and_gradients(name, norm, dtype):
    call, kind, shape = TRANSFORMS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}{norm}".encode()))
    x = _input(rng, kind, shape, dtype)
    xe = ember.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    ye, yt = call(ember, xe, norm), call(torch, xt, norm).resolve_conj()
    tol = 1e-4 if dtype == np.float32 else 1e-10
    assert_same(ye, yt, rtol=tol, atol=tol)
    weights = rng.standard_normal(tuple(_real_view(torch, yt).shape)).astype(dtype)
    (_real_view(ember, ye) * ember.from_numpy(weights)).sum().backward()
    (_real_view(torch, yt) * torch.from_numpy(weights)).sum().backward()
    assert_same(xe.grad, xt.grad.resolve_conj(), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_gradcheck(name):
    call, kind, shape = TRANSFORMS[name]
    rng = np.random.default_rng(1)
    if kind == "complex":
        leaf = ember.from_numpy(rng.standard_normal(shape + (2,))).requires_grad_()

        def fn(x):
            return _real_view(ember, call(ember, ember.view_as_complex(x), "ortho"))
    else:
        leaf = ember.from_numpy(rng.standard_normal(shape)).requires_grad_()

        def fn(x):
            return _real_view(ember, call(ember, x, "ortho"))
    assert ember.autograd.gradcheck(fn, (leaf,))


@pytest.mark.parametrize("name", [n for n, case in TRANSFORMS.items() if case[1] == "complex"])
def test_gradcheck_complex_leaves(name):
    """gradcheck on complex128 leaves directly (real and imaginary parts as coordinates), the
    complex outputs compared as torch's gradcheck does."""
    call, _, shape = TRANSFORMS[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    leaf = ember.from_numpy(x.astype(np.complex128)).requires_grad_()
    assert ember.autograd.gradcheck(lambda t: call(ember, t, "forward"), (leaf,))


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "hfft", "ihfft", "rfft2"])
def test_second_derivative(name):
    call, kind, shape = TRANSFORMS[name]
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape + ((2,) if kind == "complex" else ()))

    def fn(lib, leaf):
        inner = lib.view_as_complex(leaf) if kind == "complex" else leaf
        y = _real_view(lib, call(lib, inner, None))
        (g,) = lib.autograd.grad((y ** 2).sum(), leaf, create_graph=True)
        return (g ** 2).sum()

    xe = ember.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    fn(ember, xe).backward()
    fn(torch, xt).backward()
    assert_same(xe.grad, xt.grad.resolve_conj(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "float64", "complex64"])
@pytest.mark.parametrize("fn", ["fft", "ifft", "irfft", "hfft", "fftn"])
def test_output_dtypes(fn, dtype):
    x = np.arange(6).astype(dtype)
    ye, yt = run_both(lambda lib, a: getattr(lib.fft, fn)(a), x)
    assert_same(ye, yt.resolve_conj(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["int64", "float64"])
@pytest.mark.parametrize("fn", ["rfft", "ihfft", "rfftn", "ihfftn"])
def test_real_only_output_dtypes(fn, dtype):
    x = np.arange(6).astype(dtype)
    ye, yt = run_both(lambda lib, a: getattr(lib.fft, fn)(a), x)
    assert_same(ye, yt.resolve_conj(), rtol=1e-5, atol=1e-5)


def test_fftn_of_0d_and_out():
    ye, yt = run_both(lambda lib, a: lib.fft.fftn(a), np.array(2.5, dtype=np.float32))
    assert_same(ye, yt)
    out_e, out_t = ember.empty(0, dtype=ember.complex64), torch.empty(0, dtype=torch.complex64)
    x = np.arange(4.0, dtype=np.float32)
    ember.fft.fft(ember.from_numpy(x), out=out_e)
    torch.fft.fft(torch.from_numpy(x), out=out_t)
    assert_same(out_e, out_t)


ERRORS = {
    "n0": lambda lib, x: lib.fft.fft(x, n=0),
    "norm": lambda lib, x: lib.fft.fft(x, norm="foo"),
    "dim": lambda lib, x: lib.fft.fft(x, dim=2),
    "s_dim_lengths": lambda lib, x: lib.fft.fftn(x, s=(2, 3), dim=(0,)),
    "rfft_complex": lambda lib, x: lib.fft.rfft(x.to(lib.complex64)),
    "ihfft_complex": lambda lib, x: lib.fft.ihfft(x.to(lib.complex64)),
    "half": lambda lib, x: lib.fft.rfft(x.half()),
    "bfloat16": lambda lib, x: lib.fft.fft(x.bfloat16()),
    "bfloat16_irfft": lambda lib, x: lib.fft.irfft(x.bfloat16()),
    "duplicate_dims": lambda lib, x: lib.fft.fftn(x, dim=(0, 0)),
    "irfft_n0": lambda lib, x: lib.fft.irfft(x, n=0),
    "irfft_one_bin": lambda lib, x: lib.fft.irfft(x[:, :1]),
    "fft_0d": lambda lib, x: lib.fft.fft(x.sum()),
    "rfftn_0d": lambda lib, x: lib.fft.rfftn(x.sum()),
    "fft2_1d": lambda lib, x: lib.fft.fft2(x[0]),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    assert_same_error(ERRORS[name], x, exact_type=True, same_message=True)


def test_messages():
    x = ember.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"Invalid number of data points \(0\) specified"):
        ember.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match='Invalid normalization mode: "foo"'):
        ember.fft.fft(x, norm="foo")
    with pytest.raises(RuntimeError, match="rfft expects a real input tensor, but got "
                                           "ComplexFloat"):
        ember.fft.rfft(x.to(ember.complex64))


@pytest.mark.parametrize("n", [0, 1, 5, 8])
@pytest.mark.parametrize("kwargs", [{}, {"d": 0.5}, {"dtype": "float64"}])
@pytest.mark.parametrize("fn", ["fftfreq", "rfftfreq"])
def test_frequencies(fn, n, kwargs):
    def call(lib):
        options = dict(kwargs)
        if "dtype" in options:
            options["dtype"] = getattr(lib, options["dtype"])
        return getattr(lib.fft, fn)(n, **options)

    assert_same(call(ember), call(torch))


@pytest.mark.parametrize("dim", [None, 0, (1,), (0, 1), -1])
@pytest.mark.parametrize("fn", ["fftshift", "ifftshift"])
def test_shifts(fn, dim):
    x = np.arange(15.0).reshape(3, 5)
    xe = ember.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    ye, yt = getattr(ember.fft, fn)(xe, dim=dim), getattr(torch.fft, fn)(xt, dim=dim)
    assert_same(ye, yt, exact=True)
    weights = np.arange(15.0).reshape(3, 5)
    (ye * ember.from_numpy(weights)).sum().backward()
    (yt * torch.from_numpy(weights)).sum().backward()
    assert_same(xe.grad, xt.grad, exact=True)


def test_roundtrips():
    x = ember.randn(4, 6, dtype=ember.float64)
    assert np.allclose(ember.fft.irfft(ember.fft.rfft(x), n=6).numpy(), x.numpy())
    assert np.allclose(ember.fft.ifftn(ember.fft.fftn(x)).real.numpy(), x.numpy())
    assert np.allclose(ember.fft.hfft(ember.fft.ihfft(x), n=6).numpy(), x.numpy())


def test_torch_module_path():
    import ember.fft as fft_module

    assert fft_module is ember.fft
    assert ember.fft.fft.__doc__.endswith("(matches `torch.fft.fft`).")


@pytest.mark.parametrize("fn,kind", [("fft", "real"), ("fft", "complex"), ("rfft", "real"),
                                     ("irfft", "complex"), ("ifft", "complex")])
def test_node_names(fn, kind):
    x = _input(np.random.default_rng(3), kind, (4,), np.float64)
    ye = getattr(ember.fft, fn)(ember.from_numpy(x.copy()).requires_grad_())
    yt = getattr(torch.fft, fn)(torch.from_numpy(x.copy()).requires_grad_())
    assert ye.grad_fn.name() == yt.grad_fn.name()


# ---- issue #19's fuzz: empty batches (MKL refuses to plan them) and n= on an empty input ----
EMPTY_CALLS = [
    lambda m: m.fft.fft(m.zeros(0, 3)),
    lambda m: m.fft.rfft(m.zeros(2, 0, 3)),
    lambda m: m.fft.irfft(m.zeros(0, 3, dtype=m.complex64)),
    lambda m: m.fft.hfft(m.zeros(2, 0, 3, dtype=m.int64)),
    lambda m: m.fft.hfft(m.zeros(2, 0, 3, dtype=m.int64), n=10, dim=1, norm="ortho"),
    lambda m: m.fft.hfftn(m.zeros(2, 0, 3, dtype=m.float64)),
    lambda m: m.fft.fft(m.zeros(0, 3), dim=0, n=4),
    lambda m: m.fft.fft2(m.zeros(2, 0, 3), s=(2, 2)),
    lambda m: m.fft.fftshift(m.tensor(1.0)),
    lambda m: m.fft.ifftshift(m.tensor(1.0)),
    lambda m: m.fft.fftshift(m.ones(2, 3), dim=()),
]


test_empty_inputs = result_or_error({str(i): call for i, call in enumerate(EMPTY_CALLS)})


@pytest.mark.parametrize("n", [8, 7, 12])
@pytest.mark.parametrize("forward", [True, False])
def test_fft_of_a_real_signal_is_exactly_hermitian(n, forward):
    """PyTorch's 1-d (i)fft of a real signal is a two-sided R2C whose second half is filled
    with conjugates: X[n-k] = conj(X[k]) exactly, and the bins 0 and n/2 have zero imaginary
    parts (so it prints as torch's does); the values are torch's."""
    x = np.random.default_rng(7).standard_normal((3, 8)).astype(np.float32)
    fn = "fft" if forward else "ifft"
    ye = getattr(ember.fft, fn)(ember.from_numpy(x), n=n)
    yt = getattr(torch.fft, fn)(torch.from_numpy(x), n=n).resolve_conj()  # (a conj view)
    assert_same(ye, yt, rtol=1e-5, atol=1e-6)
    y = ye.numpy()
    np.testing.assert_array_equal(y[:, 1:], np.conj(y[:, 1:][:, ::-1]))
    assert (y[:, 0].imag == 0).all() and (n % 2 or (y[:, n // 2].imag == 0).all())


@pytest.mark.parametrize("call", [lambda m, x: m.fft.fftn(x), lambda m, x: m.fft.fft2(x),
                                  lambda m, x: m.fft.ifftn(x, dim=(1, 0)),
                                  lambda m, x: m.fft.ifft(x)])
def test_node_names_of_real_signals(call):
    """n-d transforms of a real signal cast it to complex (ToCopyBackward0) for a C2C; a 1-d
    inverse one is the conjugate of a two-sided R2C."""
    x = np.random.default_rng(8).standard_normal((4, 6))
    names = []
    for m in (ember, torch):
        y = call(m, m.from_numpy(x.copy()).requires_grad_())
        names.append((y.grad_fn.name(), y.grad_fn.next_functions[0][0].name()))
    assert names[0] == names[1]
