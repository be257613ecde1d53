"""Warnings of the Tensor core (ember/_tensor.py) against torch's: reading `.grad` of a non-leaf,
and float()/complex() of a tensor that requires grad (warned once a process)."""

import subprocess
import sys
import warnings

import pytest
import torch

import ember
from ember import _tensor


def _messages(fn):
    """The messages of the warnings fn() gives, every one recorded."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, str(w.message)) for w in caught]


def _torch_non_leaf_message():
    a = torch.ones(2, requires_grad=True)
    b = a * 2
    return _messages(lambda: b.grad)


# ---- .grad of a non-leaf ---------------------------------------------------------------------
def _non_leaf_cases(lib):
    """(name, fn reading a .grad) for the cases torch tells apart."""
    a = lib.ones(2, requires_grad=True)
    plain = a * 2
    plain.sum().backward()
    kept = a * 3
    kept.retain_grad()
    given = a * 4
    given.grad = lib.ones(2)  # a gradient set by hand: no warning, it is there
    no_grad = lib.ones(2) * 2  # no requires_grad: a leaf
    view = a[0]
    return {"plain": lambda: plain.grad, "retained_unset": lambda: kept.grad,
            "given": lambda: given.grad, "leaf": lambda: a.grad, "no_grad": lambda: no_grad.grad,
            "view": lambda: view.grad, "twice": lambda: (plain.grad, plain.grad)}


@pytest.mark.parametrize("case", ["plain", "retained_unset", "given", "leaf", "no_grad", "view",
                                  "twice"])
def test_non_leaf_grad_warning_matches_torch(case):
    got = _messages(_non_leaf_cases(ember)[case])
    assert got == _messages(_non_leaf_cases(torch)[case])
    if case in ("plain", "view", "twice"):  # (each read warns)
        assert got == _torch_non_leaf_message() * (2 if case == "twice" else 1)


def test_non_leaf_grad_warning_points_at_the_reader():
    b = ember.ones(2, requires_grad=True) * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor") as record:
        assert b.grad is None
    assert record[0].filename == __file__


def test_non_leaf_grad_warning_in_no_grad_too():
    b = ember.ones(2, requires_grad=True) * 2
    with ember.no_grad():
        assert len(_messages(lambda: b.grad)) == 1


def test_backward_inputs_non_leaf_is_silent_and_filled():
    """backward(inputs=[non-leaf]) fills its .grad: the engine's own reads give no warning."""
    results = []
    for lib in (ember, torch):
        a = lib.ones(2, requires_grad=True)
        f = a * 5
        got = _messages(lambda: (f * f).sum().backward(inputs=[f]))
        results.append((got, f.grad.tolist(), _messages(lambda: f.grad)))
    assert results[0] == results[1] == ([], [10.0, 10.0], [])


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_internal_training_step_is_silent(lib):
    """A training step (backward with retain_grad, optimizer, zero_grad, clip) reads no
    non-leaf's .grad."""
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1))
    opt = lib.optim.Adam(model.parameters())

    def step():
        hidden = model[0](lib.ones(2, 3))
        hidden.retain_grad()
        model[2](model[1](hidden)).sum().backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
    assert not [m for m in _messages(step) if "leaf" in m[1]]


# ---- float() / complex() of a tensor that requires grad ----------------------------------------
_SCRIPT = """
import warnings, sys
lib = __import__(sys.argv[1])
warnings.simplefilter("always")
def count(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return len(caught)
a = lib.ones((), requires_grad=True)
out = [count(lambda: (int(a), a.item(), bool(a), a.tolist())), count(lambda: float(a.detach()))]
with lib.no_grad():
    out.append(count(lambda: float(a)))
lib.set_warn_always(True)
out.append(count(lambda: (float(a), complex(a))))  # every time, without using the once up
lib.set_warn_always(False)
out.append(count(lambda: (complex(a * 2), float(a), float(a))))  # once, shared by both
out.append(count(lambda: float(a)))
print(out)
"""


def test_scalar_conversion_warns_once_a_process_as_torch():
    runs = [subprocess.run([sys.executable, "-c", _SCRIPT, name], capture_output=True,
                           text=True, check=True).stdout for name in ("ember", "torch")]
    assert runs[0] == runs[1] == "[0, 0, 0, 2, 1, 0]\n"


def _torch_conversion_message():
    torch.set_warn_always(True)
    try:
        return _messages(lambda: float(torch.ones((), requires_grad=True)))
    finally:
        torch.set_warn_always(False)


@pytest.mark.parametrize("convert", [float, complex])
def test_scalar_conversion_message_matches_torch(convert, monkeypatch):
    monkeypatch.setattr(_tensor, "_SCALAR_CONVERSION_WARNED", [False])
    got = _messages(lambda: convert(ember.ones(1, requires_grad=True)))
    assert got == _torch_conversion_message()


def test_scalar_conversion_warns_before_the_size_error(monkeypatch):
    monkeypatch.setattr(_tensor, "_SCALAR_CONVERSION_WARNED", [False])
    with pytest.warns(UserWarning, match="Converting a tensor"):
        with pytest.raises(ValueError, match="only one element tensors"):
            complex(ember.ones(2, requires_grad=True))


def test_complex_of_many_elements_is_a_value_error():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="only one element tensors can be converted"):
            complex(lib.ones(2))
