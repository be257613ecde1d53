"""`torch.overrides`: the `__torch_function__` protocol (matches torch's).

NOTE [__torch_function__ in ember]
An object whose type has a `__torch_function__` (a Tensor subclass, or any class defining it)
takes over the public functions it is passed to: `torch.add(t, s)`, `F.relu(s)`, `s.sum()`,
`s + t`, `s.shape` call `type(s).__torch_function__(func, types, args, kwargs)` with func the
public object (`torch.add`, `Tensor.sum`, `Tensor.shape.__get__`), as in torch. A
`TorchFunctionMode` pushed with `with` takes over every call while it is active. Where:

- The faces of ember/_registry.py (the `torch.*`, `torch.nn.functional.*`, `torch.linalg.*`,
  ... functions, and checked `Tensor` methods) dispatch. Their hot path tests the type of the
  leading tensors against `PLAIN`, the Tensor classes that never dispatch (Tensor, Parameter,
  ember's own sparse / quantized / batched classes); any other type takes the slow path, which
  asks `wants_dispatch`. `ACTIVE[0]` turns on once dispatch may be wanted (an overloaded class
  was made, a mode entered, an overloaded object seen): only then do the faces look past their
  leading tensors. While a mode is active `PLAIN` is empty, so every call asks.
- A Tensor subclass with a `__torch_function__` gets, on creation, dispatching versions of the
  Tensor methods, operators and properties it does not define itself (ember/_torch_function.py);
  while a mode is active Tensor's own methods dispatch the same way.
- `Tensor.__torch_function__`, the default, runs func with subclass dispatch disabled and makes
  tensor results instances of the subclass, as torch's does.

The dispatch state (modes, `DisableTorchFunction[Subclass]`) is per process, not per thread.
"""

import contextlib
import functools
import importlib
import sys

from ember._tensor import Tensor
from ember._warnings import warn

__all__ = ["get_ignored_functions", "get_overridable_functions", "get_testing_overrides",
           "handle_torch_function", "has_torch_function", "resolve_name", "is_tensor_like",
           "is_tensor_method_or_property", "wrap_torch_function", "enable_reentrant_dispatch",
           "redispatch_function", "has_torch_function_unary", "has_torch_function_variadic",
           "TorchFunctionMode", "BaseTorchFunctionMode"]

PLAIN = set()  # the Tensor classes faces take for plain tensors (empty while a mode is on)
_PLAIN_CLASSES = set()  # the Tensor classes that never dispatch
ACTIVE = [False]  # dispatch may be wanted (NOTE): faces look past their leading tensors
_MODES = []  # the TorchFunctionMode stack, innermost last
_ENABLED, _SUBCLASSES_DISABLED, _DISABLED = 0, 1, 2
_STATE = [_ENABLED]
ORIGINALS = {}  # name -> Tensor's own method, while a mode makes them dispatch
_OVERLOADED = {}  # type -> whether its __torch_function__ takes calls (cache)
_NEVER = frozenset((int, float, bool, complex, str, type(None), slice, type(Ellipsis)))


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """The `__torch_function__` of classes that never dispatch (torch.nn.Parameter)."""
    return NotImplemented


_DISABLED_IMPL = _disabled_torch_function_impl


def add_plain_class(cls):
    """Make cls a Tensor class whose instances never dispatch."""
    _PLAIN_CLASSES.add(cls)
    _OVERLOADED[cls] = False
    if not _MODES:
        PLAIN.add(cls)


def note_overloaded(cls):
    """An overloaded class now exists: the faces start looking for its instances."""
    _OVERLOADED[cls] = True
    ACTIVE[0] = True


def _is_overloaded(cls) -> bool:
    """Whether instances of cls take calls through their `__torch_function__`."""
    known = _OVERLOADED.get(cls)
    if known is None:
        impl = getattr(cls, "__torch_function__", _DISABLED_IMPL)
        known = getattr(impl, "__func__", impl) is not _DISABLED_IMPL
        _OVERLOADED[cls] = known
        if known:
            ACTIVE[0] = True
    return known


def _scan(values):
    """Whether any value (or item of a list / tuple value) is overloaded."""
    for value in values:
        cls = type(value)
        if cls in _NEVER:
            continue
        if cls is list or cls is tuple:
            if _scan(value):
                return True
        elif _is_overloaded(cls):
            return True
    return False


def wants_dispatch(args, kwargs=None) -> bool:
    """Whether a call with these arguments goes to a mode or a `__torch_function__`."""
    state = _STATE[0]
    if state == _DISABLED:
        return False
    if _MODES:
        return True
    if state == _SUBCLASSES_DISABLED:
        return False
    return _scan(args) or bool(kwargs) and _scan(kwargs.values())


def relevant(args, kwargs):
    """The arguments a face's dispatch looks at: args and kwargs, lists and tuples opened."""
    found = []
    for value in (*args, *kwargs.values()) if kwargs else args:
        if type(value) is list or type(value) is tuple:
            found.extend(value)
        else:
            found.append(value)
    return found


def dispatch(face, args, kwargs, python_level=False):
    """face(*args, **kwargs) through the overrides, for a face of ember/_registry.py: the func
    passed on is the public object the face is part of (`torch.add`, `Tensor.add`), and the
    error when no handler takes the call is torch's for a C++ function (or for a Python one,
    python_level)."""
    public, name = _public(face)
    if python_level:  # (only torch.nn.functional has Python functions among the faces)
        name = "torch.nn.functional." + name.rsplit(".", 1)[-1]
    return _handle(public, relevant(args, kwargs), args, kwargs or {}, name, not python_level)


def dispatch_method(func, name, args, kwargs):
    """func(*args, **kwargs) through the overrides, for the Tensor method `name`."""
    return _handle(func, relevant(args, kwargs), args, kwargs or {}, f"torch.Tensor.{name}",
                   True)


_PUBLIC = {}  # a face, or a function it wraps -> (the public object, torch's name for it)
# where ember's public functions are, and how torch's C++ dispatch names them
_NAMESPACES = (("ember.nn.functional", "torch.nn.{}"), ("ember.linalg", "torch.linalg.linalg_{}"),
               ("ember.special", "torch.special.special_{}"), ("ember.fft", "torch.fft.fft_{}"))


def _public(face):
    """(public object, torch's name) of a face (NOTE: faces may wrap faces)."""
    found = _PUBLIC.get(face)
    if found is None:
        _index_public()
        found = _PUBLIC.setdefault(face, (face, f"torch.{getattr(face, '__name__', face)}"))
    return found


def _index_public():
    """Fill _PUBLIC from the public namespaces loaded so far."""
    functions = sys.modules["ember._registry"].FUNCTIONS
    # (Tensor's own methods, if a mode made them dispatch)
    spaces = [("torch.{}", functions), ("torch.Tensor.{}", {**vars(Tensor), **ORIGINALS})]
    spaces += [(form, vars(sys.modules[module])) for module, form in _NAMESPACES
               if module in sys.modules]
    for form, namespace in spaces:
        for name, value in list(namespace.items()):
            if name.startswith("_") and not name.startswith("__") or not callable(value):
                continue
            inner = value
            while inner is not None and not isinstance(inner, type):
                _PUBLIC.setdefault(inner, (value, form.format(name)))
                inner = getattr(inner, "__wrapped__", None)


def _get_overloaded_args(relevant_args, get_type_fn=None):
    """The arguments whose `__torch_function__` is tried, subclasses before their bases, else
    left to right, one per type (NEP-18's order, as torch's)."""
    get_type_fn = get_type_fn or type
    if _STATE[0] != _ENABLED:
        return []
    types, found = set(), []
    for arg in relevant_args:
        cls = get_type_fn(arg)
        if cls in types or cls in _NEVER or not _is_overloaded(cls):
            continue
        types.add(cls)
        index = next((i for i, old in enumerate(found) if issubclass(cls, get_type_fn(old))),
                     len(found))
        found.insert(index, arg)
    return found


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """public_api(*args, **kwargs) as the active mode or the overloaded arguments'
    `__torch_function__` make it (matches `torch.overrides.handle_torch_function`)."""
    name = f"{getattr(public_api, '__module__', None)}.{getattr(public_api, '__name__', '')}"
    return _handle(public_api, relevant_args, args, kwargs, name, False)


def _handle(public_api, relevant_args, args, kwargs, name, cpp):
    """handle_torch_function; the error names public_api `name`, worded as torch's C++
    dispatch words it (cpp) or as its Python one."""
    overloaded = _get_overloaded_args(relevant_args)
    types = tuple(map(type, overloaded))
    if _MODES and _STATE[0] != _DISABLED:
        with _pop_mode_temporarily() as mode:
            result = mode.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    for arg in overloaded:
        result = arg.__torch_function__(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    mode = _get_current_function_mode() if _MODES and _STATE[0] != _DISABLED else None
    if cpp:
        lines = [f"  - mode object {mode!r}"] if mode is not None else []
        lines += [f"  - tensor subclass {type(arg)!r}" for arg in overloaded]
        raise TypeError(f"Multiple dispatch failed for '{name}'; all __torch_function__ "
                        "handlers returned NotImplemented:\n\n" + "\n".join(lines) +
                        "\n\nFor more information, try re-running with "
                        "TORCH_LOGS=not_implemented")
    message = (f"no implementation found for '{name}' on types that implement "
               f"__torch_function__: {[type(arg) for arg in overloaded]}")
    if mode is not None:
        message += f" nor in mode {mode}"
    raise TypeError(message)


def has_torch_function(relevant_args) -> bool:
    """Whether a mode is active or an argument is overloaded (exact Tensors and Parameters
    are not) (matches `torch.overrides.has_torch_function`)."""
    return wants_dispatch(tuple(relevant_args))


def has_torch_function_unary(arg) -> bool:
    """`has_torch_function((arg,))`."""
    return wants_dispatch((arg,))


def has_torch_function_variadic(*args) -> bool:
    """`has_torch_function(args)`."""
    return wants_dispatch(args)


def wrap_torch_function(dispatcher):
    """Decorator: make func dispatch on the arguments `dispatcher(*args, **kwargs)` returns
    (matches `torch.overrides.wrap_torch_function`)."""

    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant_args = dispatcher(*args, **kwargs)
            if has_torch_function(relevant_args):
                return handle_torch_function(wrapped, relevant_args, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return inner


def is_tensor_like(inp) -> bool:
    """Whether inp is a Tensor or its type has a `__torch_function__`."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


# ---- the switches -------------------------------------------------------------------------
class _TorchFunctionState(contextlib.ContextDecorator):
    """A context setting the dispatch state, restoring the previous one on exit."""

    _state = _ENABLED

    def __enter__(self):
        self._previous = _STATE[0]
        _STATE[0] = max(self._state, self._previous)
        return self

    def __exit__(self, *exc):
        _STATE[0] = self._previous
        return False


class DisableTorchFunctionSubclass(_TorchFunctionState):
    """`with torch._C.DisableTorchFunctionSubclass():` subclasses' `__torch_function__` is not
    called (modes still are)."""

    _state = _SUBCLASSES_DISABLED


class DisableTorchFunction(_TorchFunctionState):
    """`with torch._C.DisableTorchFunction():` neither subclasses nor modes are called."""

    _state = _DISABLED


@contextlib.contextmanager
def _enable_torch_function():
    """Dispatch on again inside a disabled region."""
    previous, _STATE[0] = _STATE[0], _ENABLED
    try:
        yield
    finally:
        _STATE[0] = previous


def _is_torch_function_enabled() -> bool:
    return _STATE[0] == _ENABLED


def _is_torch_function_mode_enabled() -> bool:
    return bool(_MODES) and _STATE[0] != _DISABLED


@contextlib.contextmanager
def enable_reentrant_dispatch():
    """A no-op context in ember (torch's restores its dispatch TLS snapshot)."""
    yield


def redispatch_function(func, types, args, kwargs):
    """func(*args, **kwargs) one level of `__torch_function__` down: subclass dispatch off for
    this call only, on again for the calls func makes."""
    kwargs = kwargs or {}
    with DisableTorchFunctionSubclass():
        return func(*args, **kwargs)


# ---- modes --------------------------------------------------------------------------------
def methods_dispatch(on: bool):
    """Make Tensor's own methods dispatch or not (ember/_torch_function.py puts its own here)."""


class TorchFunctionMode:
    """A context in which every overridable call goes to `self.__torch_function__` (matches
    `torch.overrides.TorchFunctionMode`); the mode is off while its handler runs."""

    def __init__(self):
        pass

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        methods_dispatch(True)
        _push_mode(self)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        _pop_mode()
        if not _MODES:
            methods_dispatch(False)

    @classmethod
    def push(cls, *args, **kwargs):
        warn("`Mode.push()` is no longer necessary and can be replaced with just `with Mode()`",
             stacklevel=2)
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    """A mode that calls every function as it is."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _push_mode(mode):
    """Push a mode: from now on every call dispatches (NOTE)."""
    _MODES.append(mode)
    ACTIVE[0] = True
    PLAIN.clear()


def _pop_mode():
    """Pop the innermost mode (faces take plain tensors directly again once none is left)."""
    mode = _MODES.pop()
    if not _MODES:
        PLAIN.update(_PLAIN_CLASSES)
    return mode


@contextlib.contextmanager
def _pop_mode_temporarily():
    old = _pop_mode()
    try:
        yield old
    finally:
        _push_mode(old)


def _get_current_function_mode():
    return _MODES[-1] if _MODES else None


def _get_current_function_mode_stack():
    return list(_MODES)


def _len_torch_function_stack() -> int:
    return len(_MODES)


# ---- what can be overridden (the tables: ember/_overrides_tables.py, loaded on first use) ---
def _tables():
    return importlib.import_module("ember._overrides_tables")


def get_ignored_functions() -> set:
    """The public functions that cannot be overridden."""
    return _tables().get_ignored_functions()


def get_overridable_functions() -> dict:
    """{namespace: [the functions in it a `__torch_function__` can override]}."""
    return _tables().get_overridable_functions()


def get_testing_overrides() -> dict:
    """{overridable function: a dummy of its signature returning -1}."""
    return _tables().get_testing_overrides()


def resolve_name(f):
    """torch's name of a function passed to `__torch_function__` ('torch.Tensor.add')."""
    return _tables().resolve_name(f)


def is_tensor_method_or_property(func) -> bool:
    """Whether func is a Tensor method, or a property's __get__."""
    return _tables().is_tensor_method_or_property(func)


def get_default_nowrap_functions() -> set:
    """The functions whose results `Tensor.__torch_function__` does not wrap."""
    return _tables().get_default_nowrap_functions()
