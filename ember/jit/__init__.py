"""ember.jit: TorchScript's API, run eagerly (see NOTE [What scripting means on ember] in
ember/jit/_script.py). The annotations and decorators scripts sprinkle over their code
(`is_scripting`, `ignore`, `unused`, `export`, `Final`, `annotate`, `fork`/`wait`) behave as they
do in eager PyTorch."""

import typing
from ember._warnings import warn as _warn
from ember.jit._script import (RecursiveScriptModule, ScriptFunction, ScriptModule, TracedModule,
                               freeze, load, optimize_for_inference, save, script, trace,
                               trace_module)

Final = typing.Final


class TracerWarning(Warning):
    """Warned by torch's tracer about code it cannot record (matches the torch class)."""


class Error(RuntimeError):
    """TorchScript's runtime error type (matches `torch.jit.Error`)."""


def is_scripting() -> bool:
    """False: code always runs as eager Python on ember (as outside TorchScript in torch)."""
    return False


def is_tracing() -> bool:
    """False: ember's tracing runs the code eagerly."""
    return False


def _decorator(fn=None, **kwargs):
    """@ignore, @ignore(drop=True), @unused, @export: the function itself, unchanged."""
    if fn is None or isinstance(fn, bool):
        return lambda f: f
    return fn


ignore = unused = export = _decorator


def interface(obj):
    """@torch.jit.interface: the class itself."""
    return obj


def annotate(the_type, the_value):
    """the_value (the type annotation only matters to TorchScript's compiler)."""
    return the_value


def Attribute(value, type=None):  # noqa: N802 - torch's name
    """the value (a TorchScript attribute annotation)."""
    return value


class Future:
    """The result of `fork`: already computed, since ember runs it at once."""

    def __init__(self, value):
        self._value = value

    def wait(self):
        return self._value

    def value(self):
        return self._value

    def done(self) -> bool:
        return True


def fork(func, *args, **kwargs):
    """Run func now and return its result as a Future (matches `torch.jit.fork` eagerly)."""
    return Future(func(*args, **kwargs))


def wait(future):
    return future.wait()


def set_fusion_strategy(strategy):
    """Accepted; returns the strategy (there is no fuser)."""
    return strategy


def enable_onednn_fusion(enabled: bool) -> None:
    """Accepted and ignored."""


def onednn_fusion_enabled() -> bool:
    return False


def script_if_tracing(fn):
    """The function itself (matches `torch.jit.script_if_tracing` outside a trace)."""
    return fn


def script_method(fn):
    """@torch.jit.script_method on a legacy ScriptModule subclass: the method itself, with
    torch's deprecation warning."""
    _warn("`torch.jit.script_method` is deprecated. Please switch to `torch.compile` "
                  "or `torch.export`.", DeprecationWarning, stacklevel=2)
    return fn


__all__ = ["Attribute", "Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction",
           "ScriptModule", "TracedModule", "TracerWarning", "annotate", "enable_onednn_fusion",
           "export", "fork",
           "freeze", "ignore", "interface", "is_scripting", "is_tracing", "load",
           "onednn_fusion_enabled", "optimize_for_inference", "save", "script",
           "script_if_tracing", "script_method", "set_fusion_strategy", "trace",
           "trace_module", "unused", "wait"]
