"""ember.signal.windows against torch.signal.windows: values, dtypes, shapes and errors."""

import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

# name -> extra keyword arguments to try besides the defaults
WINDOWS = {
    "bartlett": [{}],
    "blackman": [{}],
    "cosine": [{}],
    "exponential": [{}, {"tau": 3.0}],
    "gaussian": [{}, {"std": 2.5}],
    "general_cosine": [{"a": [0.5, 0.3, 0.2]}, {"a": (1.0,)}],
    "general_hamming": [{}, {"alpha": 0.6}],
    "hamming": [{}],
    "hann": [{}],
    "kaiser": [{}, {"beta": 4.0}, {"beta": 0.0}],
    "nuttall": [{}],
}
CASES = [(name, kwargs) for name, options in WINDOWS.items() for kwargs in options]


def _call(lib, name, M, **kwargs):
    return getattr(lib.signal.windows, name)(M, **kwargs)


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
@pytest.mark.parametrize("sym", [True, False])
@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("name,kwargs", CASES)
def test_window_values(name, kwargs, M, sym, dtype):
    def call(lib):
        options = dict(kwargs, sym=sym)
        if dtype is not None:
            options["dtype"] = getattr(lib, dtype)
        return _call(lib, name, M, **options)

    assert_same(call(ember), call(torch), rtol=1e-5, atol=1e-6)


def test_exponential_center_and_requires_grad():
    e = ember.signal.windows.exponential(6, center=1.5, sym=False, dtype=ember.float64)
    t = torch.signal.windows.exponential(6, center=1.5, sym=False, dtype=torch.float64)
    assert_same(e, t)
    assert ember.signal.windows.hann(4, requires_grad=True).requires_grad


ERRORS = {
    "negative_length": lambda lib: lib.signal.windows.hann(-1),
    "integer_dtype": lambda lib: lib.signal.windows.hann(3, dtype=lib.int64),
    "float16": lambda lib: lib.signal.windows.blackman(3, dtype=lib.float16),
    "std": lambda lib: lib.signal.windows.gaussian(3, std=0),
    "tau": lambda lib: lib.signal.windows.exponential(3, tau=0),
    "center_sym": lambda lib: lib.signal.windows.exponential(3, center=1.0),
    "beta": lambda lib: lib.signal.windows.kaiser(3, beta=-1),
    "empty_coefficients": lambda lib: lib.signal.windows.general_cosine(3, a=[]),
    "scalar_coefficients": lambda lib: lib.signal.windows.general_cosine(3, a=1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(name):
    ember_error, torch_error = assert_same_error(ERRORS[name], exact_type=True)
    assert str(ember_error) == str(torch_error)
