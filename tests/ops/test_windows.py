"""The top-level windows (hann_window, ...) against torch: values, dtypes, shapes, errors."""

import pytest
import torch

import ember
from tests.differential import assert_same, assert_same_error

# name -> extra arguments to try (positional after periodic)
WINDOWS = {
    "hann_window": [()],
    "hamming_window": [(), (0.5,), (0.6, 0.3)],
    "blackman_window": [()],
    "bartlett_window": [()],
    "kaiser_window": [(), (5.0,), (0.0,)],
}
CASES = [(name, extra) for name, options in WINDOWS.items() for extra in options]


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("length", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("name,extra", CASES)
def test_window_values(name, extra, length, periodic, dtype):
    def call(lib):
        options = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        return getattr(lib, name)(length, periodic, *extra, **options)

    assert_same(call(ember), call(torch), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("name,extra", [case for case in CASES if case[0] != "kaiser_window"])
def test_window_values_bit_for_bit(name, extra, periodic, dtype):
    """PyTorch computes the cosine windows op by op in the window's dtype (its scalars cast to
    it first; 16-bit dtypes compute each op in float32 and round): the same roundings give
    the same bits, e.g. blackman_window's exact 0 at the ends in float64, where the textbook
    sum 0.42 - 0.5 + 0.08 is -1.4e-17."""
    def call(lib):
        window = getattr(lib, name)(257, periodic, *extra, dtype=getattr(lib, dtype))
        assert window.dtype == getattr(lib, dtype)
        return window.float() if dtype == "bfloat16" else window  # (exactly: bf16 ⊂ float32)

    assert_same(call(ember), call(torch), exact=True)


def test_defaults_and_requires_grad():
    assert_same(ember.hann_window(8), torch.hann_window(8))
    assert_same(ember.kaiser_window(8, dtype=ember.float64),
                torch.kaiser_window(8, dtype=torch.float64))
    assert ember.hann_window(4, requires_grad=True).requires_grad


@pytest.mark.parametrize("name", list(WINDOWS))
def test_errors(name):
    assert_same_error(lambda lib: getattr(lib, name)(-1), exact_type=True,
                      match="requires non-negative window_length, got window_length=-1")
    assert_same_error(lambda lib: getattr(lib, name)(3, dtype=lib.int64), exact_type=True,
                      match="expects floating point dtypes")


# ---- issue #19's fuzz: M as PyTorch's window functions read it ---------------------------------
@pytest.mark.parametrize("name", ["bartlett", "general_hamming", "hann", "kaiser", "nuttall"])
@pytest.mark.parametrize("M", ["tensor(0.)", "True", "tensor(1.)", "tensor(4)"])
def test_signal_window_length_tensor_or_bool(name, M):
    """Lengths 0 and 1 return before M is used; a 0-d integer tensor is an int."""
    def call(lib):
        length = True if M == "True" else lib.tensor(eval(M[7:-1]))
        return getattr(lib.signal.windows, name)(length)
    assert_same(call(ember), call(torch))


@pytest.mark.parametrize("name", ["bartlett", "general_cosine", "hamming", "kaiser", "blackman"])
@pytest.mark.parametrize("M", [3.0, "tensor(3.)", "tensor([3.])"])
def test_signal_window_float_length(name, M):
    """A float M longer than 1 reaches linspace's `steps`: its argument parser's TypeError."""
    kwargs = {"a": [0.5, 0.5]} if name == "general_cosine" else {}

    def call(lib):
        length = M if isinstance(M, float) else lib.tensor(eval(M[7:-1]))
        return getattr(lib.signal.windows, name)(length, **kwargs)
    assert_same_error(call, exact_type=True)


SIGNAL_WINDOWS = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_hamming",
                  "hamming", "hann", "kaiser", "nuttall"]


@pytest.mark.parametrize("name,M", [
    *((name, M) for name in SIGNAL_WINDOWS
      for M in ("[3]", "[[2]]", "2.5", "float('nan')", "3.0")),
    *((name, M) for name in ("cosine", "exponential", "gaussian")
      for M in ("[1]", "[1.]", "[True]", "True"))])
def test_signal_window_length_refused_by_linspace(name, M):
    """M is linspace's `steps` in PyTorch's window code: a 1-element tensor (even [1] for the
    windows without a length-1 shortcut), a bool tensor (refused by M - 1 first), a float or
    NaN are TypeError/RuntimeError there, never a window."""
    def call(lib):
        value = eval(M)
        length = lib.tensor(value) if isinstance(value, list) else value
        return getattr(lib.signal.windows, name)(length)
    assert_same_error(call, exact_type=True)


@pytest.mark.parametrize("name", SIGNAL_WINDOWS)
@pytest.mark.parametrize("M", ["tensor(False)", "tensor([0])", "tensor(0.)", "tensor(3)", "0.0"])
def test_signal_window_length_zero_or_int_tensor(name, M):
    """M == 0 returns the empty window before M is used (even [0] or False); 0-d int: an int."""
    def call(lib):
        length = eval(M) if M == "0.0" else lib.tensor(eval(M[7:-1]))
        return getattr(lib.signal.windows, name)(length)
    assert_same(call(ember), call(torch))


@pytest.mark.parametrize("name", SIGNAL_WINDOWS)
def test_signal_window_huge_length(name):
    """A length no memory holds: the allocator's RuntimeError, as torch's, not NumPy's."""
    assert_same_error(lambda lib: getattr(lib.signal.windows, name)(lib.tensor(2**52)),
                      exact_type=True)
