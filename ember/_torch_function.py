"""Tensor's side of `__torch_function__` (NOTE [__torch_function__ in ember] in
ember/overrides.py): the default `Tensor.__torch_function__`, the dispatching methods a subclass
with a `__torch_function__` gets when it is made, and those Tensor itself has while a mode is
active; `Tensor._make_subclass`."""

from ember import overrides
from ember._registry import rewrap_tensor_method, tensor_method
from ember._tensor import Tensor

# the dunders torch dispatches (Tensor.__iter__, __hash__, __deepcopy__, ... it does not)
_DUNDERS = frozenset(
    "__len__ __float__ __int__ __index__ __bool__ __complex__ __format__ __repr__ __eq__ __ne__ "
    "__lt__ __le__ __gt__ __ge__ __and__ __rand__ __iand__ __or__ __ror__ __ior__ __xor__ "
    "__rxor__ __ixor__ __invert__ __abs__ __neg__ __pos__ __getitem__ __setitem__ __add__ "
    "__iadd__ __sub__ __rsub__ __isub__ __mul__ __imul__ __truediv__ __div__ __itruediv__ "
    "__idiv__ __radd__ __rmul__ __rtruediv__ __rdiv__ __floordiv__ __rfloordiv__ __ifloordiv__ "
    "__mod__ __rmod__ __imod__ __pow__ __rpow__ __ipow__ __lshift__ __rlshift__ __ilshift__ "
    "__rshift__ __rrshift__ __irshift__ __matmul__ __rmatmul__ __contains__ __reversed__".split())
_NOT_DISPATCHED = frozenset(("as_subclass", "__iter__"))
_BINARY = frozenset(("__eq__", "__and__", "__iand__", "__or__", "__ior__", "__xor__", "__ixor__",
                     "__floordiv__", "__ifloordiv__", "__imod__", "__ipow__", "__lshift__",
                     "__ilshift__", "__rshift__", "__irshift__"))

# operator -> (the Tensor method torch passes as func, and for a reflected operator the one it
# passes when the left operand is a number; with a tensor there Python tried the subclass's
# reflected operator first, and torch's func is the forward method on (left, right))
_OPERATORS = {
    "__add__": ("add", None), "__sub__": ("sub", None), "__mul__": ("mul", None),
    "__truediv__": ("div", None), "__div__": ("div", None), "__mod__": ("remainder", None),
    "__pow__": ("pow", None), "__matmul__": ("matmul", None), "__lt__": ("lt", None),
    "__le__": ("le", None), "__gt__": ("gt", None), "__ge__": ("ge", None),
    "__ne__": ("ne", None), "__neg__": ("neg", None), "__abs__": ("abs", None),
    "__pos__": ("positive", None), "__iadd__": ("add_", None), "__isub__": ("sub_", None),
    "__imul__": ("mul_", None), "__itruediv__": ("div_", None), "__idiv__": ("div_", None),
    "__radd__": ("add", "add"), "__rmul__": ("mul", "mul"), "__rsub__": ("sub", "__rsub__"),
    "__rtruediv__": ("div", "__rdiv__"), "__rdiv__": ("div", "__rdiv__"),
    "__rfloordiv__": ("__floordiv__", "__rfloordiv__"), "__rmod__": ("remainder", "__rmod__"),
    "__rpow__": ("pow", "__rpow__"), "__rmatmul__": ("matmul", "__rmatmul__"),
    "__rand__": ("__and__", "__rand__"), "__ror__": ("__or__", "__ror__"),
    "__rxor__": ("__xor__", "__rxor__"), "__rlshift__": ("__lshift__", "__rlshift__"),
    "__rrshift__": ("__rshift__", "__rrshift__"),
}
_NEVER_TENSORS = (type(None), str, bytes, list, tuple, dict, set)
_ORIGINALS = overrides.ORIGINALS  # name -> Tensor's own method, while a mode makes them dispatch
_NOWRAP = []
_NAMED = []


def _dispatched_names():
    """The Tensor methods that dispatch, and its properties."""
    methods, properties = [], []
    for name, value in vars(Tensor).items():
        if isinstance(value, property):
            if not name.startswith("_"):
                properties.append(name)
        elif callable(value) and not isinstance(value, (classmethod, staticmethod, type)) and \
                name not in _NOT_DISPATCHED and \
                (not name.startswith("_") or name in _DUNDERS):
            methods.append(name)
    return methods, properties


def _name_methods():
    """Name each Tensor method bound under one name only by that name, as torch's are named
    (what a `__torch_function__` sees as `func.__name__`: 'to', not ember's 'tensor_to'); done
    once, when dispatch first may happen."""
    if _NAMED:
        return
    _NAMED.append(True)
    names = {}
    for name, value in vars(Tensor).items():
        names.setdefault(id(value), []).append(name)
    for name in _dispatched_names()[0]:
        value = vars(Tensor)[name]
        if len(names[id(value)]) == 1 and getattr(value, "__name__", name) != name:
            try:
                value.__name__, value.__qualname__ = name, "Tensor." + name
            except (AttributeError, TypeError):  # (a builtin)
                pass


def dispatching_method(name, original):
    """`Tensor.<name>` calling through `__torch_function__` (with the func torch passes)."""
    forward, reflected = _OPERATORS.get(name, (name, None))
    equality = name in ("__eq__", "__ne__")
    operator = name in _OPERATORS or name in _BINARY

    def method(self, *args, **kwargs):
        if reflected is not None and args:
            other = args[0]
            public, call = (forward, (other, self)) if isinstance(other, Tensor) else \
                (reflected, (self, other))
        else:
            public, call = forward, (self, *args)
        if equality and args and isinstance(args[0], _NEVER_TENSORS) or \
                not overrides.wants_dispatch(call, kwargs):
            return original(self, *args, **kwargs)
        func = getattr(Tensor, public, original)
        if not operator:
            return overrides.dispatch_method(func, public, call, kwargs)
        try:
            return overrides.dispatch_method(func, public, call, kwargs)
        except TypeError:  # no handler took it: Python's own error for the operator, as torch
            return NotImplemented

    method.__name__ = method.__qualname__ = name
    method.__doc__ = getattr(original, "__doc__", None)
    method.__wrapped__ = original
    return method


def dispatching_property(prop):
    """A Tensor property whose getter calls through `__torch_function__` (func: its __get__)."""
    getter = prop.__get__

    def get(self):
        if not overrides.wants_dispatch((self,)):
            return getter(self)
        return overrides.handle_torch_function(getter, (self,), self)

    def set_(self, value):
        prop.__set__(self, value)

    return property(get, set_ if prop.fset is not None else None, doc=prop.__doc__)


def _install(cls):
    """Give an overloaded subclass dispatching versions of the Tensor methods and properties it
    does not define itself."""
    _name_methods()
    methods, properties = _dispatched_names()
    tensor_attributes = vars(Tensor)
    for name in methods:
        original = getattr(cls, name)
        if original is _ORIGINALS.get(name, tensor_attributes[name]) or \
                original is tensor_attributes[name]:
            setattr(cls, name, dispatching_method(name, original))
    for name in properties:
        if getattr(cls, name) is tensor_attributes[name]:
            setattr(cls, name, dispatching_property(tensor_attributes[name]))


def install_early_subclasses():
    """_install again, once every op is loaded, for the overloaded subclasses ember itself
    defines (nn's UninitializedParameter: made while `import ember` had not yet registered
    every Tensor method), and the methods registered since named again."""
    _NAMED.clear()
    _name_methods()
    for cls, overloaded in list(overrides._OVERLOADED.items()):
        if overloaded and cls.__module__.startswith("ember."):
            _install(cls)


def methods_dispatch(on: bool):
    """Make Tensor's own methods dispatch (a mode is entered) or not (the last one left)."""
    if on == bool(_ORIGINALS):
        return
    if on:
        _name_methods()
        for name in _dispatched_names()[0]:
            _ORIGINALS[name] = vars(Tensor)[name]
            rewrap_tensor_method(name, lambda original, name=name: dispatching_method(name,
                                                                                    original))
    else:
        for name, original in _ORIGINALS.items():
            rewrap_tensor_method(name, lambda _, original=original: original)
        _ORIGINALS.clear()


def _init_subclass(cls, **kwargs):
    """A new Tensor subclass: plain (never dispatching) if its `__torch_function__` is the
    disabled one, or it is one of ember's own classes that define none; else overloaded."""
    super(Tensor, cls).__init_subclass__(**kwargs)
    impl = getattr(cls, "__torch_function__")
    own = any("__torch_function__" in vars(k) for k in cls.__mro__[:-2])
    if getattr(impl, "__func__", impl) is overrides._DISABLED_IMPL or \
            not own and cls.__module__.startswith("ember."):
        overrides.add_plain_class(cls)
        return
    overrides.note_overloaded(cls)
    _install(cls)


def _convert(ret, cls):
    """ret with its tensors made instances of cls (torch's `_convert`)."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor) and not isinstance(ret, cls):
        ret = ret.as_subclass(cls)
    if isinstance(ret, (tuple, list)):
        items = [_convert(r, cls) for r in ret]
        ret = type(ret)(*items) if hasattr(ret, "_fields") else type(ret)(items)
    return ret


def get_default_nowrap_functions():
    """The functions whose results the default `__torch_function__` leaves as they are."""
    if not _NOWRAP:
        _NOWRAP.append({vars(Tensor)["_base"].__get__, vars(Tensor)["grad"].__get__,
                        vars(Tensor)["_grad"].__get__})
    return _NOWRAP[0]


def __torch_function__(cls, func, types, args=(), kwargs=None):
    """func(*args, **kwargs) with subclass dispatch off, tensor results made instances of cls
    (matches `Tensor.__torch_function__`)."""
    kwargs = kwargs or {}
    if not all(issubclass(cls, t) for t in types):
        return NotImplemented
    with overrides.DisableTorchFunctionSubclass():
        ret = func(*args, **kwargs)
        if func in get_default_nowrap_functions():
            return ret
        return _convert(ret, cls)


def made_like_a_tensor(cls, args):
    """`cls(*args)` for a Tensor subclass constructed as torch.Tensor is: of a tensor, its
    alias; else the tensor torch.Tensor(*args) makes. (ember's own classes, and Tensor without
    arguments, start as a bare object.)"""
    if cls is Tensor or cls.__module__.startswith("ember."):
        return object.__new__(cls)
    data = args[0] if len(args) == 1 and isinstance(args[0], Tensor) else Tensor(*(args or (0,)))
    return _make_subclass(cls, data)


def _make_subclass(cls, data, require_grad=False, dispatch_sizes_strides_policy=None,
                   dispatch_device=False, dispatch_layout=False, _extra_dispatch_keys=None,
                   storage_size=None):
    """data's memory as a new leaf of class cls (matches `Tensor._make_subclass`)."""
    out = cls._make(data._data, bool(require_grad))
    out._version_counter = data._version_counter
    return out


tensor_method("__torch_function__")(classmethod(__torch_function__))
tensor_method("__init_subclass__")(classmethod(_init_subclass))
tensor_method("_make_subclass")(staticmethod(_make_subclass))
overrides.add_plain_class(Tensor)
overrides.methods_dispatch = methods_dispatch
