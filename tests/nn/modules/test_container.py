"""Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict against torch.nn."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from tests.differential import assert_same, copy_state, run_both


def _seq(nn, lib):
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())


@pytest.mark.parametrize("edit", [
    lambda s, nn: s[1],
    lambda s, nn: s[-1],
    lambda s, nn: s[1:3],
    lambda s, nn: s[::-1],
    lambda s, nn: s.append(nn.Tanh()),
    lambda s, nn: s.insert(1, nn.Tanh()),
    lambda s, nn: s.insert(-1, nn.Tanh()),
    lambda s, nn: s.extend([nn.Tanh(), nn.ReLU()]),
    lambda s, nn: s.__delitem__(1) or s,
    lambda s, nn: s.__delitem__(slice(0, 2)) or s,
    lambda s, nn: s.__setitem__(0, nn.Identity()) or s,
    lambda s, nn: s.pop(0) and s,
    lambda s, nn: s + nn.Sequential(nn.Tanh()),
    lambda s, nn: s * 2,
    lambda s, nn: nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", nn.Tanh())])),
    lambda s, nn: nn.Sequential(),
])
def test_sequential_edits_match_torch(edit):
    e, t = run_both(lambda lib: edit(_seq(lib.nn, lib), lib.nn))
    assert repr(e) == repr(t)
    if isinstance(t, torch.nn.Module):
        assert list(e.state_dict()) == list(t.state_dict())


@pytest.mark.parametrize("bad", [
    lambda s, nn: s[4],
    lambda s, nn: s[-5],
    lambda s, nn: s["a"],
    lambda s, nn: s.insert(9, nn.ReLU()),
    lambda s, nn: s + 3,
    lambda s, nn: s * 0,
])
def test_sequential_errors_match_torch(bad):
    def run(nn, lib):
        try:
            bad(_seq(nn, lib), nn)
        except Exception as exc:  # noqa: BLE001
            return type(exc), str(exc).replace("torch.nn", "").replace("ember.nn", "")
        return None

    e, t = run_both(lambda lib: run(lib.nn, lib))
    assert t is not None and e == t


def test_sequential_forward_len_iter():
    e, t = run_both(lambda lib: _seq(lib.nn, lib))
    copy_state(t, e)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))
    assert len(e) == len(t) == 4
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    assert "0" not in dir(e)


def _mlist(nn, lib):
    return nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)])


@pytest.mark.parametrize("edit", [
    lambda m, nn: m,
    lambda m, nn: m[1:],
    lambda m, nn: m.append(nn.ReLU()),
    lambda m, nn: m.extend([nn.ReLU(), nn.ReLU()]),
    lambda m, nn: m.insert(0, nn.Tanh()) or m,
    lambda m, nn: m.__delitem__(0) or m,
    lambda m, nn: m.__setitem__(-1, nn.Tanh()) or m,
    lambda m, nn: m + nn.ModuleList([nn.Tanh()]),
    lambda m, nn: nn.ModuleList(),
])
def test_module_list_matches_torch(edit):
    e, t = run_both(lambda lib: edit(_mlist(lib.nn, lib), lib.nn))
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert len(e) == len(t)


def test_module_list_errors():
    e = _mlist(ember.nn, ember)
    with pytest.raises(IndexError, match="index 4 is out of range"):
        e[4]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        e.extend(3)


def test_module_dict_matches_torch():
    def build(nn, lib):
        d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
        d["c"] = nn.Tanh()
        d.update([("z", nn.Sigmoid())])
        d.pop("b")
        return d

    e, t = run_both(lambda lib: build(lib.nn, lib))
    assert repr(e) == repr(t)
    assert list(e.keys()) == list(t.keys())
    assert list(e) == list(t)
    assert "a" in e and "b" not in e
    assert len(e) == 3
    assert [type(m).__name__ for m in e.values()] == [type(m).__name__ for m in t.values()]
    assert list(e.state_dict()) == list(t.state_dict())
    e.clear()
    assert len(e) == 0


def test_parameter_list_matches_torch():
    def build(nn, lib):
        p = nn.ParameterList([nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])
        p.append(nn.Parameter(lib.zeros(1, dtype=lib.float64)))
        p.extend([lib.zeros(5)])
        p.append("text")
        return p

    e, t = run_both(lambda lib: build(lib.nn, lib))
    assert repr(e) == repr(t)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert len(e) == len(t) == 5
    assert isinstance(e[1], ember.nn.Parameter) and e[-1] == "text"
    assert len(e[1:3]) == 2
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        e()
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an"):
        e.extend(ember.zeros(2))


def test_parameter_dict_matches_torch():
    def build(nn, lib):
        d = nn.ParameterDict({"b": nn.Parameter(lib.zeros(2)), "a": lib.ones(3)})
        d["c"] = lib.zeros(1)
        d.update(OrderedDict([("z", nn.Parameter(lib.ones(2, 2)))]))
        return d

    e, t = run_both(lambda lib: build(lib.nn, lib))
    assert repr(e) == repr(t)
    assert list(e.keys()) == list(t.keys())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert isinstance(e["a"], ember.nn.Parameter)
    assert "a" in e and len(e) == 4
    assert e.get("missing", 7) == 7
    e.pop("a")
    assert list(e.keys()) == ["b", "c", "z"]
    with pytest.raises(TypeError, match="not a string"):
        e[1]
    with pytest.raises(RuntimeError, match="ParameterDict should not be called."):
        e(1)
