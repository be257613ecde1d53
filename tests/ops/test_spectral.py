"""torch.stft / torch.istft against torch: values, dtypes, shapes, gradients, errors."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import _warnings
from tests.differential import assert_same, assert_same_error

# name -> stft keyword arguments (window given as (function name, length))
STFT_CASES = {
    "default": dict(n_fft=16, window=("hann_window", 16)),
    "hop_win": dict(n_fft=16, hop_length=5, win_length=10, window=("hamming_window", 10)),
    "no_center": dict(n_fft=8, hop_length=3, center=False, window=("hann_window", 8)),
    "constant_pad": dict(n_fft=16, pad_mode="constant", window=("blackman_window", 16)),
    "replicate_pad": dict(n_fft=12, pad_mode="replicate", window=("hann_window", 12)),
    "normalized": dict(n_fft=16, normalized=True, window=("hann_window", 16)),
    "twosided": dict(n_fft=16, onesided=False, window=("hann_window", 16)),
    "no_window": dict(n_fft=10, hop_length=4),
    "align_to_window": dict(n_fft=16, hop_length=4, win_length=10, center=False,
                            align_to_window=True, window=("hann_window", 10)),
    "align_false": dict(n_fft=16, hop_length=4, win_length=10, center=False,
                        align_to_window=False, window=("hann_window", 10)),
}


def _kwargs(lib, case, dtype):
    kwargs = dict(STFT_CASES[case])
    if "window" in kwargs:
        name, length = kwargs["window"]
        kwargs["window"] = getattr(lib, name)(length, dtype=getattr(lib, dtype))
    return kwargs


@pytest.mark.parametrize("shape", [(50,), (2, 45)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(STFT_CASES))
def test_stft(case, dtype, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    xe = ember.from_numpy(x.copy()).requires_grad_()
    xt = torch.from_numpy(x.copy()).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ye = ember.stft(xe, return_complex=True, **_kwargs(ember, case, dtype))
        yt = torch.stft(xt, return_complex=True, **_kwargs(torch, case, dtype))
    tol = 1e-4 if dtype == "float32" else 1e-10
    assert_same(ye, yt, rtol=tol, atol=tol)
    weights = np.random.default_rng(1).standard_normal(tuple(yt.shape) + (2,)).astype(dtype)
    (ember.view_as_real(ye) * ember.from_numpy(weights)).sum().backward()
    (torch.view_as_real(yt) * torch.from_numpy(weights)).sum().backward()
    assert_same(xe.grad, xt.grad, rtol=tol, atol=tol)


@pytest.mark.parametrize("length", [None, 40, 60])
@pytest.mark.parametrize("case", ["default", "hop_win", "normalized", "twosided"])
def test_istft(case, length):
    x = np.random.default_rng(2).standard_normal((2, 50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spectra = torch.stft(torch.from_numpy(x), return_complex=True,
                             **_kwargs(torch, case, "float64")).numpy()
        se = ember.from_numpy(spectra.copy()).requires_grad_()
        st = torch.from_numpy(spectra.copy()).requires_grad_()
        options = {k: v for k, v in STFT_CASES[case].items() if k != "window"}

        def call(lib, spectra):
            return lib.istft(spectra, window=_kwargs(lib, case, "float64")["window"],
                             length=length, **options)

        try:
            yt = call(torch, st)
        except RuntimeError:  # the window envelope vanishes inside the requested length
            with pytest.raises(RuntimeError, match="window overlap add min"):
                call(ember, se)
            return
        ye = call(ember, se)
    assert_same(ye, yt, rtol=1e-9, atol=1e-9)
    weights = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    (ye * ember.from_numpy(weights)).sum().backward()
    (yt * torch.from_numpy(weights)).sum().backward()
    assert_same(se.grad, st.grad, rtol=1e-9, atol=1e-9)


def test_roundtrip_and_complex_input():
    x = ember.randn(3, 64, dtype=ember.float64)
    window = ember.hann_window(16, dtype=ember.float64)
    spectra = ember.stft(x, 16, window=window, return_complex=True)
    assert np.allclose(ember.istft(spectra, 16, window=window, length=64).numpy(), x.numpy())
    c = np.random.default_rng(4).standard_normal((40, 2))
    ce, ct = ember.view_as_complex(ember.from_numpy(c.copy())), torch.view_as_complex(
        torch.from_numpy(c.copy()))
    ye = ember.stft(ce, 8, window=ember.hann_window(8, dtype=ember.float64))
    yt = torch.stft(ct, 8, window=torch.hann_window(8, dtype=torch.float64))
    assert_same(ye, yt, rtol=1e-10, atol=1e-10)
    ie = ember.istft(ye, 8, window=ember.hann_window(8, dtype=ember.float64),
                     return_complex=True)
    it = torch.istft(yt, 8, window=torch.hann_window(8, dtype=torch.float64),
                     return_complex=True)
    assert_same(ie, it, rtol=1e-10, atol=1e-10)


def test_return_complex_false_and_method(monkeypatch):
    monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())  # as in a fresh process
    x = np.random.default_rng(5).standard_normal(30).astype(np.float32)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        ye = ember.from_numpy(x).stft(8, window=ember.hann_window(8), return_complex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = torch.from_numpy(x).stft(8, window=torch.hann_window(8), return_complex=False)
    assert_same(ye, yt, rtol=1e-5, atol=1e-5)


def test_warnings_are_torchs_once_per_process(monkeypatch):
    """stft/istft's C++ warnings (no window, return_complex=False, a short signal padded) are
    TORCH_WARN_ONCE: the first call warns, with torch's text and its "(Triggered internally
    at ...)" suffix, later calls never, whatever the warnings filter."""
    def calls(lib):
        x = lib.from_numpy(np.random.default_rng(6).standard_normal(100).astype(np.float32))
        spec = lib.stft(x, 16, return_complex=True)
        lib.stft(x, 16, window=lib.ones(16), return_complex=False)
        lib.istft(spec, 16)
        lib.istft(spec, 16, window=lib.ones(16), length=200)

    messages = []
    for lib in (torch, ember):
        monkeypatch.setattr(_warnings, "_WARNED_ONCE", set())
        with warnings.catch_warnings(record=True) as first:
            warnings.simplefilter("always")
            calls(lib)
            calls(lib)
        messages.append([str(w.message) for w in first])
    # (torch's own were given once already if another test ran them first in this process)
    assert len(messages[1]) == 4 and set(messages[0]) <= set(messages[1])
    assert all("(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/"
               "SpectralOps.cpp:" in m for m in messages[1])


def test_gradcheck():
    window = ember.hann_window(8, dtype=ember.float64)

    def fn(x):
        spectra = ember.stft(x, 8, hop_length=3, window=window, return_complex=True)
        return ember.view_as_real(spectra)

    x = ember.randn(20, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(fn, (x,))

    def inverse(s):
        return ember.istft(ember.view_as_complex(s), 8, hop_length=2, window=window)

    s = ember.stft(x.detach(), 8, hop_length=2, window=window, return_complex=True)
    leaf = ember.view_as_real(s).detach().clone().requires_grad_()
    assert ember.autograd.gradcheck(inverse, (leaf,))


ERRORS = {
    "no_return_complex": lambda lib, x: lib.stft(x, 8, window=lib.ones(8)),
    "bad_window": lambda lib, x: lib.stft(x, 16, window=lib.ones(5), return_complex=True),
    "win_length": lambda lib, x: lib.stft(x, 16, win_length=20, return_complex=True,
                                          window=lib.ones(20)),
    "hop_zero": lambda lib, x: lib.stft(x, 16, hop_length=0, window=lib.ones(16),
                                        return_complex=True),
    "n_fft_too_big": lambda lib, x: lib.stft(x, 64, center=False, window=lib.ones(64),
                                             return_complex=True),
    "3d": lambda lib, x: lib.stft(x[None], 16, window=lib.ones(16), return_complex=True),
    "complex_onesided": lambda lib, x: lib.stft(x.to(lib.complex64), 8, window=lib.ones(8),
                                                onesided=True, return_complex=True),
    "integer": lambda lib, x: lib.stft(x.long(), 8, window=lib.ones(8), return_complex=True),
    "istft_real": lambda lib, x: lib.istft(x, 8, window=lib.ones(8)),
    "align_with_center": lambda lib, x: lib.stft(x, 8, window=lib.ones(8), align_to_window=True,
                                                 return_complex=True),
    "istft_zero_envelope": lambda lib, x: lib.istft(
        lib.stft(x, 16, window=lib.hann_window(16), return_complex=True, center=False), 16,
        window=lib.hann_window(16), center=False),
}


ERRORS.update({  # PyTorch's REPR of the call: every argument, window and optionals included
    "window_none_win_length": lambda lib, x: lib.stft(x[0], 4, win_length=5,
                                                      return_complex=True),
    "3d_padded_first": lambda lib, x: lib.stft(x[None], 4, window=lib.hann_window(4),
                                               return_complex=True, onesided=False),
    "4d_pad_refused": lambda lib, x: lib.stft(x[None, None], 4, return_complex=True),
    "complex_window_shape": lambda lib, x: lib.stft(
        x.to(lib.complex64), 4, window=lib.ones(4, 1, dtype=lib.complex128),
        return_complex=True, center=False, normalized=True),
    "align_to_window": lambda lib, x: lib.stft(x.double(), 4, window=lib.ones(3),
                                               center=False, align_to_window=False),
    "istft_window": lambda lib, x: lib.istft(_spectrum(lib, x), 16, window=lib.ones(15)),
    "istft_hop": lambda lib, x: lib.istft(_spectrum(lib, x), 16, hop_length=20, length=70),
    "istft_win_length": lambda lib, x: lib.istft(_spectrum(lib, x), 16, win_length=20),
    "istft_bins": lambda lib, x: lib.istft(_spectrum(lib, x).double(), 20, onesided=False),
    "istft_5d": lambda lib, x: lib.istft(_spectrum(lib, x)[None, None], 16),
    "istft_1d": lambda lib, x: lib.istft(_spectrum(lib, x)[0, 0], 16),
    "istft_empty": lambda lib, x: lib.istft(_spectrum(lib, x)[..., :0], 16),
    "istft_zero_window": lambda lib, x: lib.istft(_spectrum(lib, x), 16, window=lib.zeros(16)),
    "half": lambda lib, x: lib.stft(x.half(), 8, window=lib.ones(8).half(), return_complex=True),
    "bfloat16": lambda lib, x: lib.stft(x.bfloat16(), 8, window=lib.ones(8).bfloat16(),
                                        return_complex=True),
})


def _spectrum(lib, x):
    return lib.stft(x, 16, window=lib.hann_window(16), return_complex=True)


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    x = np.random.default_rng(6).standard_normal((2, 40)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_error(ERRORS[name], x, exact_type=True, same_message=True)
