"""`custom_op` and `CustomOpDef` (matches `torch.library.custom_op`): a Python function made an
operator, `torch.ops.<ns>.<name>`, with the kernels, fake kernel and autograd formula that are
registered for it.

NOTE [What a custom op registers]
Defining the op registers, as PyTorch does: the schema (inferred from the annotations unless
given), a Meta kernel running the fake kernel (`register_fake`), an Autograd kernel
(ember/_library/autograd.py) using `register_autograd`'s functions, for a schema that writes to
arguments a kernel bumping their versions, and the function itself as the backend kernel of
`device_types` (all devices: CompositeExplicitAutograd). Each backend kernel refuses results
that alias an input or each other.
"""

import contextlib
import inspect
import logging
import weakref

from ember._library import ops
from ember._library.autograd import make_autograd_impl
from ember._library.infer_schema import infer_schema
from ember._library.lib import Library
from ember._library.schema import parse_qualname, parse_schema
from ember._tensor import Tensor
from ember._backend import xp
from ember.autograd.graph import increment_version

log = logging.getLogger(__name__)
OPDEF_TO_LIB = {}  # qualname -> the Library holding the op's registrations
OPDEFS = weakref.WeakValueDictionary()  # qualname -> CustomOpDef


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """Make fn an operator named "namespace::name" (matches `torch.library.custom_op`); a
    decorator when fn is not given."""

    def inner(fn):
        schema_str = infer_schema(fn, mutates_args=mutates_args) if schema is None else schema
        namespace, opname = name.split("::")
        result = CustomOpDef(namespace, opname, schema_str, fn, tags)
        if schema is not None:
            expected = {a.name for a in result._opoverload._schema.arguments if a.is_write}
            if expected != set(mutates_args):
                raise ValueError(
                    f"Attempted to create a custom op with `mutates_args={mutates_args}` and "
                    f"`schema={schema}. The schema suggests that the op mutates {expected}which "
                    "is different from what was provided to us in `mutates_args`. Please make "
                    "these consistent.")
        result.register_kernel(device_types)(fn)
        return result

    return inner if fn is None else inner(fn)


class CustomOpDef:
    """A function wrapped into a custom op (matches torch's `CustomOpDef`); made by
    `custom_op`, with methods registering more of its behaviour."""

    def __init__(self, namespace, name, schema, fn, tags=None):
        self._namespace, self._name, self._schema = namespace, name, schema
        self._tags = () if tags is None else tags
        self._init_fn = fn
        self._backend_fns = {}
        self._abstract_fn = self._setup_context_fn = self._backward_fn = None
        self._disabled_kernel = set()
        self._lib = _library_allowing_overwrite(namespace, name)
        self._register_to_dispatcher()
        OPDEFS[self._qualname] = self

    @property
    def _qualname(self) -> str:
        return f"{self._namespace}::{self._name}"

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):
        return self._opoverload(*args, **kwargs)

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type: str, enabled: bool = True):
        """Disable (or re-enable) the kernel of a device type inside the block: the function
        custom_op wrapped runs instead."""
        action = "enable" if enabled else "disable"
        originally_disabled = device_type in self._disabled_kernel
        if device_type not in self._backend_fns:
            log.warning("Attempted to %s kernel for %s but no kernel was registered for this "
                        "device type.", action, device_type)
        if not enabled:
            if originally_disabled:
                log.warning("Attempted to disable kernel for %s but it was already disabled.",
                            device_type)
            self._disabled_kernel.add(device_type)
        else:
            if not originally_disabled:
                log.warning("Attempted to enable kernel for  %s but it was already enabled.",
                            device_type)
            self._disabled_kernel.discard(device_type)
        try:
            yield
        finally:
            if originally_disabled:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    def register_kernel(self, device_types, fn=None, /):
        """Register fn as the op's implementation for device types ("cpu", "cuda"; None: all of
        them); a decorator when fn is not given."""

        def inner(fn):
            dtypes = [device_types] if device_types is None or isinstance(device_types, str) \
                else list(device_types)
            for device_type in dtypes:
                if device_type not in self._backend_fns:
                    key = "CompositeExplicitAutograd" if device_type is None \
                        else ops.dispatch_key_for_device(device_type)
                    self._lib.impl(self._name, self._backend_impl(device_type), key)
                self._backend_fns[device_type] = self._enabled_or_init(device_type, fn)
            return fn

        schema = self._opoverload._schema
        if device_types is not None and not _has_tensor_arg(schema):
            index = next((i for i, a in enumerate(schema.arguments)
                          if a.type.kind == "base" and a.type.base == "Device"
                          and a.name == "device"), None)
            if index is None:
                raise ValueError("Functions without tensor inputs are required to have a "
                                 "`device: torch.device` argument")
            self._opoverload.kernels["BackendSelect"] = self._backend_select(index)
        return inner if fn is None else inner(fn)

    def _enabled_or_init(self, device_type, fn):
        """fn, or the wrapped function while the device type's kernel is disabled."""

        def wrapped_fn(*args, **kwargs):
            if device_type in self._disabled_kernel:
                return self._init_fn(*args, **kwargs)
            return fn(*args, **kwargs)

        return wrapped_fn

    def _backend_impl(self, device_type):
        """The backend kernel: the registered function, its result checked for aliasing."""

        def backend_impl(*args, **kwargs):
            result = self._backend_fns[device_type](*args, **kwargs)
            if not self._opoverload._schema.is_view():
                module = inspect.getmodule(self._backend_fns[device_type])
                _check_aliasing(self._name, args, kwargs, result, module)
            return result

        return backend_impl

    def _backend_select(self, index):
        """The BackendSelect kernel: the device argument's backend, when it has a kernel."""

        def backend_select(values):
            device = values[index].type
            if device not in self._backend_fns:
                raise RuntimeError(f"{self._name} does not have a kernel registered for "
                                   f"{device}. Please use register_kernel to do so.")
            return ops.dispatch_key_for_device(device)

        return backend_select

    def register_fake(self, fn, /):
        """Register the fake kernel: outputs with the op's shapes/dtypes, computed from the
        inputs' metadata only (opcheck compares them with the op's outputs)."""
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """Make the op differentiable: setup_context(ctx, inputs, output) runs after the
        forward, backward(ctx, *grads) returns one gradient per input."""
        schema = self._opoverload._schema
        if not is_functional(schema, allow_valid_view=True):
            raise RuntimeError(f"Cannot register autograd formula for non-functional operator "
                               f"{self} with schema {schema}. Please create a functional "
                               "operator and register an autograd formula for that.")
        self._backward_fn = backward
        self._setup_context_fn = setup_context

    def _register_to_dispatcher(self):
        """Define the op and register what NOTE [What a custom op registers] lists."""
        schema_str = self._name + self._schema
        schema = parse_schema(schema_str)
        if not self._namespace.isidentifier():
            parse_qualname(self._qualname)  # (raises torch's parser error)
        if has_kwarg_only_tensors(schema):
            raise NotImplementedError(f"custom_op with kwarg-only Tensor args. Please make your "
                                      f"tensors not kwarg-only. Got: {schema_str}")
        self._lib.define(schema_str)
        self._opoverload = ops.lookup(self._qualname)
        self._lib._register_fake(self._name, self._fake_impl, _stacklevel=2)
        self._lib.impl(self._name, make_autograd_impl(self._opoverload, self), "Autograd")
        if schema.is_mutable:
            self._opoverload.kernels["ADInplaceOrView"] = _version_bump(schema)

    def _fake_impl(self, *args, **kwargs):
        """The Meta kernel: the registered fake kernel, or the trivial one of an op that
        writes to its arguments and returns nothing, else torch's error."""
        if self._abstract_fn is None:
            schema = self._opoverload._schema
            if schema.is_mutable and not schema.returns:
                return None
            raise RuntimeError(
                f"There was no fake impl registered for {self}. This is necessary for "
                "torch.compile/export/fx tracing to work. Please use "
                f"`{self._init_fn.__name__}.register_fake` to add an fake impl.")
        return self._abstract_fn(*args, **kwargs)


def _library_allowing_overwrite(namespace, name) -> Library:
    """A fresh library for the op, destroying the one of an earlier op of that name."""
    qualname = f"{namespace}::{name}"
    if qualname in OPDEF_TO_LIB:
        OPDEF_TO_LIB.pop(qualname)._destroy()
    lib = Library(namespace, "FRAGMENT")
    OPDEF_TO_LIB[qualname] = lib
    return lib


def maybe_get_opdef(op):
    """The CustomOpDef of an op given as CustomOpDef, OpOverload or 'ns::name', or None."""
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, ops.OpOverload):
        op = op._name
    return OPDEFS.get(op)


def _has_tensor_arg(schema) -> bool:
    """Whether any argument is a tensor (or list / optional of them)."""
    return any(a.type.is_tensor_like() for a in schema.arguments)


def has_kwarg_only_tensors(schema) -> bool:
    """Whether a keyword-only argument is a tensor, which custom ops refuse."""
    return any(a.kwarg_only and a.type.is_tensor_like() for a in schema.arguments)


def is_functional(schema, *, allow_valid_view=False) -> bool:
    """Whether the schema writes nothing, returns something and (unless a valid view, one
    tensor in and one out) returns no view (torch's `is_functional_schema`)."""
    if schema.is_mutable:
        return False
    if schema.is_view():
        tensors_in = sum(a.type.kind == "base" and a.type.base == "Tensor"
                         for a in schema.arguments)
        tensors_out = sum(r.type.kind == "base" and r.type.base == "Tensor"
                          for r in schema.returns)
        return allow_valid_view and tensors_in == 1 and tensors_out == 1
    return bool(schema.returns)


def _version_bump(schema):
    """The ADInplaceOrView kernel: one version more for every argument the schema writes."""
    written = [i for i, a in enumerate(schema.arguments) if a.is_write]

    def bump(values):
        for index in written:
            value = values[index]
            for tensor in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(tensor, Tensor):
                    increment_version(tensor)

    return bump


def storage(tensor):
    """What identifies a tensor's memory: the array (or buffer) at the root of its views."""
    array = tensor._data
    while isinstance(array.base, xp.ndarray):
        array = array.base
    return id(array if array.base is None else array.base)


def _tensors(values):
    """The tensors among values, looking one level into lists and tuples."""
    for value in values:
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, Tensor):
                yield item


def _check_aliasing(name, args, kwargs, result, module):
    """torch's error for a result that is, or views, an input or another result."""
    seen = {storage(t) for t in _tensors((*args, *kwargs.values()))}
    for tensor in _tensors(result if isinstance(result, tuple) else (result,)):
        key = storage(tensor)
        if key in seen:
            raise RuntimeError(
                f"{name} (with implementation in {module}): The output of this custom operator "
                "(1) must not also be an input to this custom operator and (2) may not alias "
                "any inputs to this custom operator or other returns. The most common way to "
                "trigger this error is if we have y = custom_op(x) and y and x are the same "
                "Tensor. Please instead return a clone of the offending output tensor(s) (e.g. "
                "return x.clone()) or refactor the custom operator to not return y.")
        seen.add(key)
