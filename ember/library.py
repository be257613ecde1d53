"""`torch.library` for ember: Python custom operators.

`custom_op` makes a function an operator, `torch.ops.<ns>.<name>`, to which `register_fake`,
`register_autograd` and `register_kernel` add a fake kernel, a backward formula and device
kernels; `opcheck` tests that these fit what the op does. The lower-level `Library` (with the
module-level `define` and `impl`) defines ops from schema strings and registers kernels for
dispatch keys (CPU, CompositeExplicitAutograd, CompositeImplicitAutograd, Autograd).

The machinery is in ember/_library/: schemas (schema.py), `infer_schema`, the ops and their
dispatch (ops.py, NOTE [How a custom op is dispatched]), `Library` (lib.py), `custom_op`
(custom_ops.py), the Autograd kernel (autograd.py) and `opcheck` (opcheck.py).
"""

import re

from ember._warnings import warn as _warn
from ember._library import ops as _ops
from ember._library.autograd import make_autograd_impl as _make_autograd_impl
from ember._library.custom_ops import CustomOpDef, custom_op  # noqa: F401 (torch's names)
from ember._library.custom_ops import has_kwarg_only_tensors as _has_kwarg_only_tensors
from ember._library.custom_ops import is_functional as _is_functional
from ember._library.custom_ops import maybe_get_opdef as _maybe_get_opdef
from ember._library.infer_schema import infer_schema
from ember._library.lib import Library, _keep_alive
from ember._library.opcheck import OpCheckError, get_ctx, opcheck  # noqa: F401
from ember._library.ops import OpOverload, fallthrough_kernel

__all__ = ["Library", "impl", "define", "fallthrough_kernel", "impl_abstract", "register_fake",
           "get_ctx", "custom_op", "infer_schema"]
NAMELESS_SCHEMA = re.compile(r"\(.*\) -> .*")


def _parse_namespace(qualname: str) -> tuple:
    """('ns', 'name') of 'ns::name', or torch's ValueError."""
    splits = qualname.split("::")
    if len(splits) != 2:
        raise ValueError(f'Expected `qualname` to be of the form "namespace::name", but got '
                         f"{qualname}. The qualname passed to the torch.library APIs must "
                         "consist of a namespace and a name, e.g. aten::sin")
    return splits[0], splits[1]


def _library_for(namespace, lib):
    """lib, or a new FRAGMENT library of the namespace kept alive for good."""
    if lib is not None:
        return lib
    use_lib = Library(namespace, "FRAGMENT")
    _keep_alive.append(use_lib)
    return use_lib


def define(qualname, schema, *args, lib=None, tags=(), **kwargs):
    """Define an op from 'ns::name' and a schema '(Tensor x) -> Tensor' (matches
    `torch.library.define`); `define(lib, schema)` is the old decorator form."""
    if isinstance(qualname, Library):
        return _legacy_define(qualname, schema, *args, **kwargs)
    if not isinstance(qualname, str):
        raise ValueError(f"define(qualname, schema): expected qualname to be instance of str, "
                         f"got {type(qualname)}")
    namespace, name = _parse_namespace(qualname)
    lib = _library_for(namespace, lib)
    if not NAMELESS_SCHEMA.fullmatch(schema):
        raise ValueError(f"define(qualname, schema, ...): expected schema to look like e.g. "
                         f'"(Tensor x) -> Tensor" but got "{schema}"')
    lib.define(name + schema, alias_analysis="", tags=tags)


def _legacy_define(lib, schema, alias_analysis=""):
    """The old `define(lib, schema)`: a decorator defining the op and registering f for it."""
    def wrap(f):
        name = lib.define(schema, alias_analysis)
        lib.impl(name, f)
        return f

    return wrap


def impl(qualname, types, func=None, *, lib=None):
    """Register func for device types or dispatch keys of an op (matches
    `torch.library.impl`); a decorator when func is not given. `impl(lib, name, key)` is the
    old decorator form."""
    if isinstance(qualname, Library):
        def wrap(f):
            qualname.impl(types, f, func or "")
            return f

        return wrap
    return _impl(qualname, types, func, lib=lib)


def _impl(qualname, types, func=None, *, lib=None):
    """Register func for each device type or dispatch key (the body of `impl`)."""
    if isinstance(types, str):
        types = (types,)
    keys = {typ if typ in _ops.DISPATCH_KEYS else _device_type_to_key(typ) for typ in types}

    def register(func):
        namespace, _ = _parse_namespace(qualname)
        use_lib = _library_for(namespace, lib)
        for key in keys:
            use_lib.impl(qualname, func, key)

    if func is None:
        return register
    register(func)
    return None


def _device_type_to_key(device_type: str) -> str:
    """The dispatch key of a device type; 'default' is every device's."""
    if device_type == "default":
        return "CompositeExplicitAutograd"
    return _ops.dispatch_key_for_device(device_type)


def _resolve_op_for_registration(op, registration_name):
    """The CustomOpDef of op, else its qualified name."""
    if not isinstance(op, (str, OpOverload, CustomOpDef)):
        raise ValueError(f"{registration_name}({op}): got unexpected type for op: {type(op)}")
    if isinstance(op, OpOverload):
        op = op._name
    return _maybe_get_opdef(op) or op


def register_kernel(op, device_types, func=None, /, *, lib=None):
    """Register func as the op's implementation for device types (matches
    `torch.library.register_kernel`); a decorator when func is not given."""
    op = _resolve_op_for_registration(op, "register_kernel")
    if isinstance(op, CustomOpDef):
        return op.register_kernel(device_types, func)
    if device_types is None:
        device_types = "CompositeExplicitAutograd"
    return _impl(op, device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1, allow_override=True):
    """Register the op's fake kernel, its outputs' metadata from its inputs' (matches
    `torch.library.register_fake`); a decorator when func is not given."""
    op = _resolve_op_for_registration(op, "register_fake")
    if isinstance(op, CustomOpDef):
        return op.register_fake if func is None else op.register_fake(func)
    stacklevel = _stacklevel

    def register(func):
        namespace, op_name = _parse_namespace(op)
        use_lib = _library_for(namespace, lib)
        use_lib._register_fake(op_name, func, _stacklevel=stacklevel + 1,
                               allow_override=allow_override)
        return func

    if func is None:
        return register
    stacklevel += 1
    return register(func)


def impl_abstract(qualname, func=None, *, lib=None, _stacklevel=1):
    """The old name of `register_fake`."""
    _warn("`torch.library.impl_abstract` was renamed to `torch.library.register_fake`. "
                  "Please use that instead; we will remove `torch.library.impl_abstract` in a "
                  "future version of PyTorch.", FutureWarning, stacklevel=2)
    if func is not None:
        _stacklevel = _stacklevel + 1
    return register_fake(qualname, func, lib=lib, _stacklevel=_stacklevel)


class _Info:
    """The backward formula of an op not made by custom_op."""

    def __init__(self, backward, setup_context):
        self._backward_fn, self._setup_context_fn = backward, setup_context


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    """Make the op differentiable with backward(ctx, *grads) and setup_context(ctx, inputs,
    output) (matches `torch.library.register_autograd`)."""
    op = _resolve_op_for_registration(op, "register_autograd")
    if isinstance(op, CustomOpDef):
        op.register_autograd(backward, setup_context=setup_context)
        return
    qualname = op
    overload = _ops.lookup(qualname)
    schema = overload._schema
    if not _is_functional(schema):
        raise RuntimeError(f"Cannot register autograd formula for non-functional operator "
                           f"{overload} with schema {schema}. Please create a functional "
                           "operator and register an autograd formula for that.")
    if _has_kwarg_only_tensors(schema):
        raise NotImplementedError(f"register_autograd with kwarg-only Tensor args. In the "
                                  "original definition of the op, please make your tensors not "
                                  f"kwarg-only. Got: {schema}")
    kernel = _make_autograd_impl(overload, _Info(backward, setup_context))
    namespace, opname = _parse_namespace(qualname)
    _library_for(namespace, lib).impl(opname, kernel, "Autograd")
