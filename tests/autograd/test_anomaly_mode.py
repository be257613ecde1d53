"""Anomaly detection against torch: the warning on entering detect_anomaly, and the error when a
node's backward returns NaN (ember/autograd/anomaly_mode.py)."""

import warnings

import pytest
import torch

import ember


def _nan_backward(lib):
    class NanBack(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    return NanBack


def _error_and_warnings(lib, run):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError) as info:
            run(lib)
    return str(info.value), [str(w.message) for w in caught if "Anomaly" in str(w.message)]


@pytest.mark.parametrize("case", ["custom", "log"])
def test_nan_in_backward_raises_as_torch(case):
    def run(lib):
        with lib.autograd.detect_anomaly():
            if case == "custom":
                _nan_backward(lib).apply(lib.ones(2, requires_grad=True)).sum().backward()
            else:  # log'(0) = inf, times the 0 from the multiply: NaN
                z = lib.tensor([0.0, 1.0], requires_grad=True)
                (z.log() * 0).sum().backward()

    assert _error_and_warnings(ember, run) == _error_and_warnings(torch, run)


def test_no_check_without_anomaly_mode_or_check_nan():
    for lib in (ember, torch):
        x = lib.ones(2, requires_grad=True)
        _nan_backward(lib).apply(x).sum().backward()  # no anomaly mode: NaN gradients pass
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            _nan_backward(lib).apply(x).sum().backward()
        assert x.grad.isnan().all()


def test_detect_anomaly_restores_the_previous_mode():
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly() as entered:
                assert entered is None and lib.is_anomaly_enabled()
        assert not lib.is_anomaly_enabled()


def _failing_backward(lib):
    class Fails(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise RuntimeError("Some error in backward")

    return Fails


@pytest.mark.parametrize("case", ["raising_backward", "nan", "modified_in_place"])
def test_anomaly_mode_warns_with_the_forward_trace(case):
    """A failing node made under anomaly mode: torch's warning naming it, with the traceback of
    the forward call (here: this test's line), then the error (its hint changed in place)."""
    seen = []
    for lib in (ember, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                x = lib.tensor([-1.0, 1.0], requires_grad=True)
                if case == "raising_backward":
                    y = _failing_backward(lib).apply(x)
                elif case == "nan":
                    y = x.sqrt()
                else:
                    y = x.exp()
                    y.add_(1)
                with pytest.raises(RuntimeError) as info:
                    y.sum().backward()
        messages = [str(w.message) for w in caught if "Error detected" in str(w.message)]
        assert len(messages) == 1
        first, trace = messages[0].split("\n", 1)
        assert "test_anomaly_mode.py" in trace
        # the trace ends in this test (PyTorch's ops are C++) or in a custom Function's
        # Python apply, then the C++ location
        last_frame = trace.split("  File ")[-1]
        seen.append((first, str(info.value), last_frame.split(", in ")[1].splitlines()[0],
                     last_frame.splitlines()[-1]))
    assert seen[0] == seen[1]
