"""torch.overrides and __torch_function__: Tensor subclasses, Tensor-likes, modes, the
switches, compared with torch call by call (what func each override sees, and the results)."""

import functools

import pytest
import torch

import ember
from tests.differential import assert_same


def _logging_subclass(lib):
    """A Tensor subclass recording the name of every func its __torch_function__ sees."""

    class Logged(lib.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(func.__name__)
            return super().__torch_function__(func, types, args, kwargs)

    return Logged


CALLS = {
    "function": lambda lib, t, s: lib.add(t, s),
    "operator": lambda lib, t, s: s + t,
    "reflected": lambda lib, t, s: t - s,
    "number_reflected": lambda lib, t, s: 1 - s,
    "method": lambda lib, t, s: s.sum(dim=1),
    "plain_method": lambda lib, t, s: t.mul(s),
    "functional": lambda lib, t, s: lib.nn.functional.relu(s),
    "linear": lambda lib, t, s: lib.nn.functional.linear(s, lib.ones(4, 3)),
    "list": lambda lib, t, s: lib.cat([t, s]),
    "index": lambda lib, t, s: s[0],
    "property": lambda lib, t, s: s.T,
    "named_tuple": lambda lib, t, s: lib.max(s, 1),
    "comparison": lambda lib, t, s: t < s,
    "inplace": lambda lib, t, s: s.clone().add_(1),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_subclass_sees_the_funcs_torch_passes(name):
    results = []
    for lib in (ember, torch):
        Logged = _logging_subclass(lib)
        lib.manual_seed(0)
        t = lib.randn(2, 3)
        s = lib.randn(2, 3).as_subclass(Logged)
        Logged.calls.clear()
        out = CALLS[name](lib, t, s)
        first = out[0] if isinstance(out, tuple) else out
        results.append((list(Logged.calls), type(out).__name__, type(first).__name__, first))
    (e_calls, e_type, e_first, e_out), (t_calls, t_type, t_first, t_out) = results
    assert e_calls == t_calls
    assert (e_type, e_first) == (t_type, t_first)
    assert_same(e_out.as_subclass(ember.Tensor), t_out.as_subclass(torch.Tensor))


def test_plain_subclass_results_keep_the_subclass_and_the_graph():
    for lib in (ember, torch):
        class Plain(lib.Tensor):
            pass

        x = lib.ones(3, requires_grad=True).as_subclass(Plain)
        y = (x * 2 + 1).sum()
        assert type(y) is Plain and type(x) is Plain
        assert type(x).__name__ == "Plain" and y.grad_fn is not None
        assert x.grad_fn.name() == "AliasBackward0" and not x.is_leaf
        y.backward()
        assert type(lib.nn.Parameter(lib.ones(2)) * 2) is lib.Tensor


def test_subclass_made_like_a_tensor():
    for lib in (ember, torch):
        class Sub(lib.Tensor):
            pass

        base = lib.ones(2)
        alias = Sub(base)
        alias.add_(1)
        assert base.tolist() == [2.0, 2.0] and type(alias) is Sub
        assert Sub([1.0, 2.0]).dtype == lib.float32 and Sub(2, 3).shape == (2, 3)
        made = lib.Tensor._make_subclass(Sub, lib.zeros(2), True)
        assert type(made) is Sub and made.requires_grad and made.is_leaf


def _scalar_tensor(lib):
    """The docs' ScalarTensor: a Tensor-like handling torch.mean and torch.add only."""
    handled = {}

    class ScalarTensor:
        def __init__(self, n, value):
            self.n, self.value = n, value

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            if func not in handled:
                return NotImplemented
            return handled[func](*args, **(kwargs or {}))

    handled[lib.mean] = lambda x: float(x.value) / x.n
    handled[lib.add] = lambda x, y: ScalarTensor(x.n, x.value + y.value)
    return ScalarTensor


def test_tensor_like_takes_the_functions_it_handles():
    for lib in (ember, torch):
        ScalarTensor = _scalar_tensor(lib)
        s = ScalarTensor(5, 2)
        assert lib.mean(s) == 0.4 and lib.add(s, s).value == 4
        assert lib.overrides.is_tensor_like(s) and not lib.overrides.is_tensor_like(3)
        assert lib.overrides.has_torch_function((s,))
        assert not lib.overrides.has_torch_function((lib.ones(1), lib.nn.Parameter(lib.ones(1))))


@pytest.mark.parametrize("call", [
    lambda lib, s: lib.mul(s, 2), lambda lib, s: lib.cat([s, s]),
    lambda lib, s: lib.nn.functional.softmax(s, 0), lambda lib, s: s.mul(2),
    lambda lib, s: s - 1,
])
def test_no_handler_is_torchs_type_error(call):
    messages = []
    for lib in (ember, torch):
        class Refusing(lib.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return NotImplemented

        with pytest.raises(TypeError) as caught:
            call(lib, lib.ones(2).as_subclass(Refusing))
        messages.append(str(caught.value).replace("ember", "torch"))
    assert messages[0] == messages[1]


def test_handle_torch_function_in_library_code():
    for lib in (ember, torch):
        def norm(x, p=2):
            if lib.overrides.has_torch_function_unary(x):
                return lib.overrides.handle_torch_function(norm, (x,), x, p=p)
            return x.abs().pow(p).sum() ** (1 / p)

        @lib.overrides.wrap_torch_function(lambda a: (a,))
        def double(a):
            return a * 2

        class Intercepting:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return func.__name__, kwargs

        assert norm(lib.tensor([3.0, 4.0])).item() == 5.0
        assert norm(Intercepting(), p=3) == ("norm", {"p": 3})
        assert double(Intercepting()) == ("double", {})
        with pytest.raises(TypeError, match="no implementation found for"):
            class Refusing:
                __torch_function__ = classmethod(lambda *a: NotImplemented)
            norm(Refusing())


def test_mode_sees_each_public_call_once():
    names = []
    for lib in (ember, torch):
        class Log(lib.overrides.TorchFunctionMode):
            def __init__(self):
                super().__init__()
                self.seen = []

            def __torch_function__(self, func, types, args=(), kwargs=None):
                self.seen.append(lib.overrides.resolve_name(func))
                return func(*args, **(kwargs or {}))

        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.ReLU())
        x = lib.randn(2, 4)
        with Log() as log:
            y = model(x)
            z = y.sum() * 2
        assert lib.overrides._get_current_function_mode() is None
        names.append((log.seen, z.item()))
    assert names[0][0] == names[1][0]
    assert names[0][1] == pytest.approx(names[1][1], rel=1e-6)


def test_base_mode_and_switches():
    for lib in (ember, torch):
        class Doubling(lib.overrides.BaseTorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                out = super().__torch_function__(func, types, args, kwargs)
                return out * 2 if func is lib.add else out

        with Doubling():
            assert lib.add(lib.ones(2), 1).tolist() == [4.0, 4.0]
            with lib._C.DisableTorchFunction():
                assert lib.add(lib.ones(2), 1).tolist() == [2.0, 2.0]
        Logged = _logging_subclass(lib)
        s = lib.ones(2).as_subclass(Logged)
        Logged.calls.clear()
        with lib._C.DisableTorchFunctionSubclass():
            assert not lib._C._is_torch_function_enabled()
            out = s + 1
        assert Logged.calls == [] and type(out) is lib.Tensor
        assert lib._C._is_torch_function_enabled()
        assert lib.DisableTorchFunctionSubclass is lib._C.DisableTorchFunctionSubclass


def test_overridable_and_ignored_functions():
    for lib in (ember, torch):
        overrides = lib.overrides
        assert lib.add in overrides.get_overridable_functions()[lib]
        assert lib.Tensor.add in overrides.get_overridable_functions()[lib.Tensor]
        assert lib.arange in overrides.get_ignored_functions()
        assert lib.add not in overrides.get_ignored_functions()
        assert overrides.resolve_name(lib.nn.functional.linear) == "torch.nn.functional.linear"
        assert overrides.resolve_name(lib.Tensor.add) == "torch.Tensor.add"
        assert overrides.is_tensor_method_or_property(lib.Tensor.add)
        assert not overrides.is_tensor_method_or_property(lib.add)
        assert overrides.get_testing_overrides()[lib.add](1, 2) == -1


def test_default_torch_function_converts_with_functools_partial_funcs():
    for lib in (ember, torch):
        class Sub(lib.Tensor):
            pass

        func = functools.partial(lib.mul, other=3)
        out = lib.Tensor.__torch_function__.__func__(Sub, func, (Sub,), (lib.ones(2),))
        assert type(out) is Sub and out.tolist() == [3.0, 3.0]


def test_modules_call_the_dispatching_functionals():
    seen = []
    for lib in (ember, torch):
        Logged = _logging_subclass(lib)
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3, padding=1), lib.nn.BatchNorm2d(2),
                                lib.nn.ReLU(), lib.nn.MaxPool2d(2), lib.nn.Flatten(),
                                lib.nn.Linear(8, 3))
        x = lib.randn(2, 1, 4, 4).as_subclass(Logged)
        Logged.calls.clear()
        out = net(x)
        loss = lib.nn.functional.cross_entropy(out, lib.tensor([0, 2]))
        loss.backward()
        seen.append((list(Logged.calls), type(loss).__name__, loss.item()))
    assert seen[0][:2] == seen[1][:2]
    assert seen[0][2] == pytest.approx(seen[1][2], rel=1e-5)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_modules_call_the_dispatching_function(kind):
    seen = []
    for lib in (ember, torch):
        Logged = _logging_subclass(lib)
        lib.manual_seed(0)
        module = getattr(lib.nn, kind)(3, 4, batch_first=True)
        x = lib.randn(2, 5, 3).as_subclass(Logged)
        Logged.calls.clear()
        out, _ = module(x)
        seen.append(([c for c in Logged.calls if c not in ("dim", "size", "__get__")],
                     type(out).__name__, out.sum().item()))
    assert seen[0][:2] == seen[1][:2]
    assert seen[0][2] == pytest.approx(seen[1][2], rel=1e-5)
