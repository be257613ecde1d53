"""`torch.jit.script` / `torch.jit.trace` on ember: the result runs the same Python code.

NOTE [What scripting means on ember]
TorchScript compiles a module to a static graph that runs without Python. ember has no
compiler: `script(m)` returns a `RecursiveScriptModule` that shares m's parameters, buffers and
attributes (submodules are scripted the same way) and runs m's own `forward` eagerly, so its
outputs, gradients, state_dict keys and training flag are m's. `trace(m, inputs)` runs m once
on the inputs (as torch does, so shape errors surface at trace time) and returns the same kind
of wrapper. `.code` shows the Python source of forward (torch shows TorchScript); `save`/`load`
go through ember's checkpoint format with the module pickled, so loading needs the module's
class importable, unlike a real TorchScript archive.
"""

import inspect
import pickle
import textwrap

from ember.jit._trace_graph import record_run
from ember.nn.modules.module import Module
from ember.serialization import load as _load_checkpoint
from ember.serialization import save as _save_checkpoint


class ScriptModule(Module):
    """Base class of scripted modules (matches `torch.jit.ScriptModule` as a type)."""


class RecursiveScriptModule(ScriptModule):
    """A scripted module: shares the original's state and runs its forward (see the NOTE)."""

    def __init__(self, module):
        state = dict(module.__dict__)
        state["_modules"] = {name: self._wrap_child(child) if child is not None else None
                             for name, child in module._modules.items()}
        object.__setattr__(self, "__dict__", state)
        object.__setattr__(self, "_original_class", type(module))

    def _wrap_child(self, child):
        return _script_module(child)

    @property
    def original_name(self) -> str:
        return self._original_class.__name__

    def forward(self, *args, **kwargs):
        return self._original_class.forward(self, *args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            pass
        cls = self.__dict__.get("_original_class")
        try:
            attribute = inspect.getattr_static(cls, name)
        except AttributeError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute "
                                 f"'{name}'") from None
        if hasattr(attribute, "__get__"):  # methods and properties of the original class
            return attribute.__get__(self, cls)
        return attribute

    # Containers (Sequential, ModuleList, ModuleDict) keep their indexing and iteration; Python
    # looks these methods up on the type, past __getattr__.
    def __getitem__(self, index):
        return self._original_class.__getitem__(self, index)

    def __len__(self):
        return self._original_class.__len__(self)

    def __iter__(self):
        return self._original_class.__iter__(self)

    def __contains__(self, item):
        return self._original_class.__contains__(self, item)

    @property
    def code(self) -> str:
        """The Python source of the original forward (torch shows TorchScript here)."""
        return _source(self._original_class.forward)

    def save(self, f, _extra_files=None) -> None:
        """Save this module (matches `ScriptModule.save`; see `ember.jit.save`)."""
        save(self, f, _extra_files)

    def extra_repr(self):
        return f"original_name={self.original_name}"

    def _repr_name(self):
        return "RecursiveScriptModule"

    def __repr__(self):
        children = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self._modules.items()]
        if not children:
            return f"{self._repr_name()}({self.extra_repr()})"
        return (f"{self._repr_name()}(\n  {self.extra_repr()}\n" + "\n".join(children)
                + "\n)")


class TracedModule(RecursiveScriptModule):
    """A traced module: a scripted module that prints with its original class names."""

    def _repr_name(self):
        return self.original_name

    def _wrap_child(self, child):
        return TracedModule(child)


class ScriptFunction:
    """A scripted function: calls the original (matches `torch.jit.ScriptFunction` in use)."""

    def __init__(self, fn):
        self._fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    @property
    def code(self) -> str:
        return _source(self._fn)

    def save(self, f, _extra_files=None) -> None:
        save(self, f, _extra_files)


def _source(fn) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return f"# source of {getattr(fn, '__qualname__', fn)} is not available\n"


def _script_module(module):
    if isinstance(module, ScriptModule):
        return module
    return RecursiveScriptModule(module)


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """A module or function that runs obj's code (matches `torch.jit.script`; see NOTE)."""
    if isinstance(obj, Module):
        return _script_module(obj)
    if isinstance(obj, type):
        return obj  # scripted classes: the class itself
    if callable(obj):
        return obj if isinstance(obj, ScriptFunction) else ScriptFunction(obj)
    raise RuntimeError(f"ember.jit.script cannot script {obj!r}: pass a module or a function")


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Run func once on the example inputs and return it scripted (matches `torch.jit.trace`)."""
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided")
    args = example_inputs if isinstance(example_inputs, tuple) else \
        (() if example_inputs is None else (example_inputs,))
    _, graph = record_run(func, args, example_kwarg_inputs or {}, _input_names(func),
                          func.named_parameters() if isinstance(func, Module) else ())
    traced = TracedModule(func) if isinstance(func, Module) else ScriptFunction(func)
    object.__setattr__(traced, "graph", graph)  # NOTE [What a traced graph shows]
    object.__setattr__(traced, "inlined_graph", graph)
    return traced


def _input_names(func):
    """The names of func's (or its forward's) parameters, as torch's graph header shows."""
    target = func.forward if isinstance(func, Module) else func
    try:
        return list(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return []


def trace_module(mod, inputs, **kwargs):
    """Trace the named methods of mod (matches `torch.jit.trace_module`)."""
    for method, example in inputs.items():
        getattr(mod, method)(*(example if isinstance(example, tuple) else (example,)))
    return TracedModule(mod)


def save(m, f, _extra_files=None) -> None:
    """Write a scripted module or function to f (ember's checkpoint format, pickled)."""
    _save_checkpoint({"ember.jit": m, "extra_files": dict(_extra_files or {})}, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Read what `ember.jit.save` wrote (matches `torch.jit.load`; see NOTE on classes)."""
    try:
        payload = _load_checkpoint(f, weights_only=False)
    except (pickle.UnpicklingError, EOFError, KeyError) as error:
        payload = error
    if not isinstance(payload, dict) or "ember.jit" not in payload:
        raise RuntimeError("ember.jit.load reads files written by ember.jit.save; this file is "
                           "not one (real TorchScript archives cannot be run by ember)")
    if _extra_files is not None:
        for name in _extra_files:
            _extra_files[name] = payload["extra_files"].get(name, _extra_files[name])
    return payload["ember.jit"]


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """The scripted module itself (nothing to fold on ember; matches `torch.jit.freeze`)."""
    return mod


def optimize_for_inference(mod, other_methods=None):
    return mod
