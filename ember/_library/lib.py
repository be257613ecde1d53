"""`Library`: a set of op definitions and kernel registrations that lives as long as the object
(matches `torch.library.Library`).

NOTE [A library's lifetime]
As in PyTorch, what a Library defined and registered is undone when it is destroyed (`_destroy`,
or when it is garbage collected): its ops leave `torch.ops`, its kernels leave their ops. The
module-level `define`/`impl`/`register_*` keep the libraries they make alive (`_keep_alive`),
and `custom_op` keeps one per op until the op is defined again (ember/_library/custom_ops.py).
"""

import inspect
import sys

from ember._warnings import warn as _warn
import weakref

from ember._library import ops
from ember._library.schema import parse_qualname, parse_schema

_impls = set()  # "ns/op/key" of every kernel a live library registered
_defs = set()  # "ns::op" of every op a live library defined
_def_libraries = {}  # namespace -> where its "DEF" library was made
_reserved_namespaces = ["prim"]
_keep_alive = []
_warned_override = []


def get_source(stacklevel: int) -> str:
    """'file:line' of a caller (stacklevel 1: the function calling get_source)."""
    frame = inspect.getframeinfo(sys._getframe(stacklevel))
    return f"{frame.filename}:{frame.lineno}"


class Library:
    """A library of ops in namespace `ns` (matches `torch.library.Library`); kind is "DEF"
    (the one defining library of a namespace), "FRAGMENT" (more definitions) or "IMPL"."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if ns in _reserved_namespaces and kind in ("DEF", "FRAGMENT"):
            raise ValueError(f"{ns} is a reserved namespace. Please try creating a library with "
                             "another name.")
        frame = sys._getframe(1)
        self._location = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        if kind == "DEF":
            _claim_namespace(ns, self._location)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self.m = True  # None once destroyed, as torch's handle
        self._op_defs, self._op_impls, self._registration_handles = set(), set(), []
        self._finalizer = weakref.finalize(
            self, _del_library, self._op_impls, self._op_defs, self._registration_handles,
            ns if kind == "DEF" else None)

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Define an op from its schema 'name.overload(args) -> returns'; returns 'name'."""
        if alias_analysis not in ["", "FROM_SCHEMA", "CONSERVATIVE"]:
            raise RuntimeError(f"Invalid alias_analysis type {alias_analysis}")
        self._check_alive()
        parsed = parse_schema(schema)
        if not self.ns.isidentifier():
            parse_qualname(f"{self.ns}::{parsed.name}")  # (raises torch's parser error)
        op = ops.define(self.ns, schema, self._location)
        for key, kernel in ops.PENDING.pop(op._name, {}).items():
            op.kernels[key] = kernel
        self._op_defs.add(op._name)
        _defs.add(op._name)
        return op._schema.name.split("::")[-1]  # (without the overload, as torch's)

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=True):
        """Register fn as the op's kernel for a dispatch key ("" is the library's key, or
        CompositeImplicitAutograd when the library has none)."""
        if not callable(fn):
            raise TypeError(f"Input function is required to be a callable but found type "
                            f"{type(fn)}")
        dispatch_key = dispatch_key or self.dispatch_key
        name = _op_name(op_name, "impl")
        key = f"{self.ns}/{name.split('::')[-1]}/{dispatch_key}"
        if not allow_override and key in _impls:
            raise RuntimeError(
                "This is not allowed since there's already a kernel registered from python "
                f"overriding {name.split('::')[-1]}'s behavior for {dispatch_key} dispatch key "
                f"and {self.ns} namespace.")
        qualname = name if "::" in name else f"{self.ns}::{name}"
        if dispatch_key == "Meta" and "CompositeImplicitAutograd" in _kernels_of(qualname):
            raise RuntimeError(
                f"We should not register a meta kernel directly to the operator '{name}', "
                "because it has a CompositeImplicitAutograd kernel in core. Instead we should "
                "let the operator decompose, and ensure that we have meta kernels for the base "
                "ops that it decomposes into.")
        self._check_alive()
        if with_keyset:
            fn = _without_keyset(fn)
        self._set_kernel(qualname, dispatch_key or "CompositeImplicitAutograd", fn)
        _impls.add(key)
        self._op_impls.add(key)

    def _set_kernel(self, qualname, dispatch_key, fn):
        """Put fn in the op's table (or keep it for the op's definition), undone on destroy."""
        op = ops.OPS.get(qualname)
        if op is None and qualname.startswith("aten::"):
            raise NotImplementedError(f"ember cannot replace the kernels of its built-in operator "
                                      f"{qualname}: only ops defined through ember.library have "
                                      "kernels registered here")
        table = op.kernels if op is not None else ops.PENDING.setdefault(qualname, {})
        previous = table.get(dispatch_key)
        if previous is not None and not _warned_override:
            _warned_override.append(True)
            _warn(
                "Warning only once for all operators,  other operators may also be overridden.\n"
                "  Overriding a previously registered kernel for the same operator and the same "
                f"dispatch key\n  operator: {op._schema if op else qualname}\n  dispatch key: "
                f"{dispatch_key}", UserWarning, stacklevel=3)
        table[dispatch_key] = fn
        self._registration_handles.append(lambda: _restore(table, dispatch_key, fn, previous))

    def _register_fake(self, op_name, fn, _stacklevel=1, *, allow_override=True):
        """Register the fake kernel (what opcheck compares the op's outputs with)."""
        source = get_source(_stacklevel + 1)
        qualname = f"{self.ns}::{op_name}"
        op = ops.OPS.get(qualname)
        if op is None:
            raise RuntimeError(f"operator {qualname} does not exist")
        holder = op.fake_kernels
        if not allow_override:
            _check_fake_override(op, qualname)
        entry = (fn, source)
        holder.append(entry)
        self._set_kernel(qualname, "Meta", _meta_kernel(holder))
        self._registration_handles.append(lambda: entry in holder and holder.remove(entry))

    def _check_alive(self):
        if self.m is None:
            raise AssertionError("Library object has been destroyed")

    def _destroy(self):
        """Undo everything this library defined and registered (NOTE [A library's lifetime])."""
        self.m = None
        self._finalizer()


def _claim_namespace(ns, location):
    """Refuse a second "DEF" library of a namespace, with torch's message."""
    previous = _def_libraries.get(ns)
    if previous is not None:
        raise RuntimeError(
            f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put "
            "all of your definitions in a single TORCH_LIBRARY block.  If you were trying to "
            "specify implementations, consider using TORCH_LIBRARY_IMPL (which can be "
            "duplicated).  If you really intended to define operators for a single namespace "
            "in a distributed way, you can use TORCH_LIBRARY_FRAGMENT to explicitly indicate "
            f"this.  Previous registration of TORCH_LIBRARY was registered at {previous}; latest "
            f"registration was registered at {location}")
    _def_libraries[ns] = location


def _del_library(op_impls, op_defs, handles, def_namespace):
    """What destroying a library undoes (runs once, at _destroy or garbage collection)."""
    _impls.difference_update(op_impls)
    _defs.difference_update(op_defs)
    for handle in reversed(handles):
        handle()
    handles.clear()
    for qualname in op_defs:
        ops.undefine(qualname)
    if def_namespace is not None:
        _def_libraries.pop(def_namespace, None)


def _restore(table, key, fn, previous):
    """Take fn out of a kernel table, giving back the kernel it replaced."""
    if table.get(key) is fn:
        if previous is None:
            del table[key]
        else:
            table[key] = previous


def _op_name(op_name, api_name) -> str:
    """An op given by name or OpOverload, as 'name' or 'name.overload'."""
    if isinstance(op_name, str):
        return op_name
    if isinstance(op_name, ops.OpOverload):
        return op_name._name
    raise RuntimeError(f"{api_name} should be passed either a name or an OpOverload object as "
                       f"the first argument, got {type(op_name)}")


def _kernels_of(qualname) -> dict:
    """The kernel table of a defined op (empty for an undefined one)."""
    op = ops.OPS.get(qualname)
    return op.kernels if op is not None else {}


def _without_keyset(fn):
    """A `with_keyset` kernel called without a keyset (ember's dispatcher has none: None)."""
    return lambda *args, **kwargs: fn(None, *args, **kwargs)


def _check_fake_override(op, qualname):
    """register_fake(..., allow_override=False): torch's errors for an op that has one."""
    if op.fake_kernels:
        raise RuntimeError(f"register_fake(...): the operator {qualname} already has a fake impl "
                           f"registered at {op.fake_kernels[-1][1]}.")
    if "Meta" in op.kernels:
        raise RuntimeError(
            f"register_fake(...): the operator {qualname} already has a DispatchKey::Meta "
            "implementation via a pre-existing torch.library or TORCH_LIBRARY registration. "
            "Please either remove that registration or don't call register_fake.")
    if "CompositeImplicitAutograd" in op.kernels:
        raise RuntimeError(
            f"register_fake(...): the operator {qualname} already has an implementation for "
            "this device type via a pre-existing registration to "
            "DispatchKey::CompositeImplicitAutograd.CompositeImplicitAutograd operators do not "
            "need a fake impl; instead, the operator will decompose into its constituents and "
            "those can have fake impls defined on them.")


def _meta_kernel(holder):
    """The Meta kernel: the newest fake kernel registered."""
    return lambda *args, **kwargs: holder[-1][0](*args, **kwargs)
