"""Operators defined through `ember.library`: their overloads, packets and dispatch table.

NOTE [How a custom op is dispatched]
PyTorch's dispatcher runs an op's kernel for the first of its dispatch keys that has one. For
ops defined from Python that comes down to these steps, which `OpOverload` runs in order:
  1. CompositeImplicitAutograd: the kernel is the whole op (autograd sees the ops it runs).
  2. Autograd (or AutogradCPU): the kernel decides about gradients; custom_op's kernel wraps
     the rest in an autograd.Function (ember/_library/autograd.py). Without one, PyTorch's
     fallback runs the rest and warns when backward reaches its outputs (`_fallback`).
  3. ADInplaceOrView: custom_op bumps the version of every argument its schema writes.
  4. The backend: the kernel of the arguments' device (CPU), else CompositeExplicitAutograd;
     BackendSelect picks it from a `device` argument for an op without tensor arguments.
Each Python kernel gets the arguments as the dispatcher hands them over (defaults that equal
the schema's dropped, `schema.strip_defaults`), and its result is checked against the schema.
"Meta" holds the fake kernel, which only `opcheck` runs here (ember has no fake tensors).
"""

import sys

from ember._warnings import warn as _warn
import weakref

from ember._library import _namespaces
from ember._registry import FUNCTIONS
from ember._library.schema import bind, check_returns, parse_schema, strip_defaults
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Function

OPS = {}  # "ns::name.overload" (no ".overload" for the default one) -> OpOverload
_RETIRED = weakref.WeakValueDictionary()  # qualname -> OpOverload of an op undefined since
PENDING = {}  # qualname -> {key: kernel} registered before the op was defined (torch allows it)
DEVICE_KEYS = {"cpu": "CPU", "cuda": "CUDA", "mps": "MPS", "xpu": "XPU", "meta": "Meta",
               "xla": "XLA", "hpu": "HPU", "mtia": "MTIA", "privateuseone": "PrivateUse1"}
DISPATCH_KEYS = frozenset((*DEVICE_KEYS.values(), "Autograd", "AutogradCPU", "AutogradCUDA",
                           "CompositeImplicitAutograd", "CompositeExplicitAutograd",
                           "CompositeExplicitAutogradNonFunctional", "BackendSelect",
                           "ADInplaceOrView", "Python", "Functionalize", "FuncTorchBatched",
                           "AutocastCPU", "AutocastCUDA"))


def fallthrough_kernel():
    """A dummy function to pass to ``Library.impl`` in order to register a fallthrough."""
    raise NotImplementedError("fallthrough_kernel() should never be called.")


class OpOverload:
    """One schema of an op, `torch.ops.mylib.foo.default`: callable, dispatched as NOTE
    [How a custom op is dispatched] says."""

    def __init__(self, packet, schema, location):
        self._schema, self.overloadpacket, self._location = schema, packet, location
        self._overloadname = schema.overload_name or "default"
        self.namespace, self._opname = packet._namespace, packet.__name__
        self._name = schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
        self.__name__ = f"{self._opname}.{self._overloadname}"
        self.kernels = {}  # dispatch key -> kernel
        self.fake_kernels = []  # (fn, source), newest last (torch's FakeImplHolder)

    def name(self) -> str:
        return self._name

    @property
    def tags(self) -> list:
        return []

    def __call__(self, *args, **kwargs):
        values = bind(self._schema, args, kwargs)
        kernels = self.kernels
        if "CompositeImplicitAutograd" in kernels:
            return self.call_kernel(kernels["CompositeImplicitAutograd"], values)
        kernel = kernels.get("AutogradCPU") or kernels.get("Autograd")
        if kernel is fallthrough_kernel:
            return self.below_autograd(values)
        if kernel is not None:
            return self.call_kernel(kernel, values)
        return _fallback(self, values)

    def call_kernel(self, kernel, values):
        """Run a Python kernel as the dispatcher does: defaults dropped, result checked."""
        args, kwargs = strip_defaults(self._schema, values)
        return check_returns(self._schema, kernel(*args, **kwargs), self._name)

    def below_autograd(self, values):
        """Steps 3 and 4 of NOTE [How a custom op is dispatched]."""
        bump = self.kernels.get("ADInplaceOrView")
        if bump is not None:
            bump(values)
        return self.call_kernel(self.backend_kernel(values), values)

    def backend_kernel(self, values):
        """The kernel of the backend the arguments select, or torch's NotImplementedError."""
        kernels = self.kernels
        select = kernels.get("BackendSelect")
        key = select(values) if select is not None else _device_key(values)
        kernel = kernels.get(key) if key is not None else None
        kernel = kernel or kernels.get("CompositeExplicitAutograd")
        if kernel is not None and kernel is not fallthrough_kernel:
            return kernel
        if key is None:
            raise NotImplementedError(
                "There were no tensor arguments to this function (e.g., you passed an empty list "
                "of Tensors), but no fallback function is registered for schema "
                f"{self._name}.  This usually means that this function requires a non-empty "
                "list of Tensors, or that you (the operator writer) forgot to register a "
                f"fallback function.  Available functions are {sorted(kernels)}.")
        raise NotImplementedError(
            f"Could not run '{self._name}' with arguments from the '{key}' backend. This could "
            "be because the operator doesn't exist for this backend, or was omitted during the "
            "selective/custom build process (if using custom build). If you are a Facebook "
            "employee using PyTorch on mobile, please visit https://fburl.com/ptmfixes for "
            f"possible resolutions. '{self._name}' is only available for these backends: "
            f"[{', '.join(kernels)}].\n")

    def __repr__(self):
        return (f"<OpOverload(op='{self.namespace}.{self._opname}', "
                f"overload='{self._overloadname}')>")

    def __str__(self):
        return f"{self.namespace}.{self._opname}.{self._overloadname}"


class OpOverloadPacket:
    """All schemas of one op, `torch.ops.mylib.foo`: calling it picks the first that fits."""

    def __init__(self, namespace, name):
        self._namespace, self.__name__ = namespace, name
        self._qualified_op_name = f"{namespace}::{name}"
        self._overloads = {}

    def __getattr__(self, key):
        if key.startswith("__") and key.endswith("__"):
            raise AttributeError(key)
        raise AttributeError(f"The underlying op of '{self._namespace}.{self.__name__}' has no "
                             f"overload name '{key}'")

    def overloads(self) -> list:
        return list(self._overloads)

    def __call__(self, *args, **kwargs):
        overloads = list(self._overloads.values())
        if len(overloads) == 1:
            return overloads[0](*args, **kwargs)
        problems = []
        for overload in overloads:
            try:
                values = bind(overload._schema, args, kwargs)
            except RuntimeError as problem:
                problems.append(str(problem))
                continue
            args, kwargs = strip_defaults(overload._schema, values)
            return overload(*args, **kwargs)
        raise RuntimeError("Overloaded torch operator invoked from Python failed to match any "
                           "schema:\n" + "\n\n".join(problems))

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self._namespace}.{self.__name__}')>"

    def __str__(self):
        return f"{self._namespace}.{self.__name__}"


def _device_key(values):
    """The backend key of the first tensor argument (ember's tensors are on the CPU)."""
    for value in values:
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, Tensor):
                return DEVICE_KEYS.get(item.device.type, "CPU")
    return None


def dispatch_key_for_device(device_type: str) -> str:
    """The backend key of a device type ('cpu' -> 'CPU'), or torch's error for an unknown one."""
    key = DEVICE_KEYS.get(device_type)
    if key is None:
        raise RuntimeError(f"Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, "
                           f"hip, ve, fpga, maia, xla, lazy, vulkan, mps, meta, hpu, mtia, "
                           f"privateuseone device type at start of device string: {device_type}")
    return key


# ---- definitions ----------------------------------------------------------------------------
def _namespace_object(namespace):
    """Where `torch.ops.<namespace>` finds its ops: a family module of that name (`aten`), else
    the namespace object (NOTE [Custom op namespaces])."""
    ops_package = sys.modules.get("ember.ops")
    found = getattr(ops_package, namespace, None) if namespace.isidentifier() else None
    if isinstance(found, type(sys)) and not isinstance(found, _namespaces.OpNamespace):
        return found
    return _namespaces.namespace(namespace)


def define(namespace, schema_text, location) -> OpOverload:
    """Define the op of `name(args) -> returns` in the namespace; torch's RuntimeError when it
    is defined already. `location` is where the defining library was made ("file:line")."""
    schema = parse_schema(schema_text)
    if "::" not in schema.name:
        schema.name = f"{namespace}::{schema.name}"
    name = schema.name.split("::")[1]
    qualname = schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
    target = _namespace_object(namespace)
    packet = vars(target).get(name)
    _refuse_taken(schema, qualname, target, packet, location)
    if packet is None:
        packet = OpOverloadPacket(namespace, name)
        setattr(target, name, packet)
    overload = _RETIRED.pop(qualname, None)  # (a handle to the old op now runs the new one)
    if overload is not None:
        overload.__init__(packet, schema, location)
    else:
        overload = OpOverload(packet, schema, location)
    packet._overloads[overload._overloadname] = overload
    setattr(packet, overload._overloadname, overload)
    OPS[qualname] = overload
    return overload


def _refuse_taken(schema, qualname, target, packet, location):
    """torch's error for an op defined twice (aten has an op for each ember function); an
    error too for a name an ember.ops module of the namespace's name already uses."""
    name = schema.name.split("::")[1]
    existing = OPS.get(qualname)
    taken = packet is not None and not isinstance(packet, OpOverloadPacket)
    if existing is not None or taken and target.__name__ == "ember.ops.aten" or \
            target.__name__ == "ember.ops.aten" and name in FUNCTIONS:
        original = existing._location if existing is not None else target.__name__
        raise RuntimeError(
            f"Tried to register an operator ({schema}) with the same name and overload name "
            "multiple times. Each overload's schema should only be registered with a single call "
            f"to def(). Duplicate registration: registered at {location}. Original "
            f"registration: registered at {original}")
    if taken:
        raise NotImplementedError(f"ember cannot define {qualname}: its namespace is the module "
                                  f"{target.__name__}, which has its own '{name}'")


def undefine(qualname) -> None:
    """Remove an op defined here (its library was destroyed), packet and all when emptied."""
    overload = OPS.pop(qualname, None)
    if overload is None:
        return
    _RETIRED[qualname] = overload
    packet = overload.overloadpacket
    packet._overloads.pop(overload._overloadname, None)
    vars(packet).pop(overload._overloadname, None)
    if not packet._overloads:
        target = _namespace_object(packet._namespace)
        if vars(target).get(packet.__name__) is packet:
            delattr(target, packet.__name__)


def lookup(qualname) -> OpOverload:
    """The OpOverload of 'ns::name' or 'ns::name.overload'; AttributeError as torch.ops'."""
    namespace, name = qualname.split("::")
    name, _, overload = name.partition(".")
    packet = getattr(_namespace_object(namespace), name)
    return getattr(packet, overload or "default")


# ---- the autograd fallback ------------------------------------------------------------------
def _fallback(op, values):
    """Step 2 without an Autograd kernel: run the rest with gradient recording as it is; when
    inputs require grad, backward through the outputs warns (and the outputs this call did
    not record give their inputs no gradient), as PyTorch's "warn" autograd fallback does."""
    tensors = [v for value in values for v in (value if isinstance(value, (list, tuple))
                                               else (value,)) if isinstance(v, Tensor)]
    result = op.below_autograd(values)
    if not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors)):
        return result
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    message = _fallback_warning(op._name)
    recorded = [t for t in outputs if isinstance(t, Tensor) and t.requires_grad]
    for t in recorded:
        t.register_hook(lambda grad: _warn(message, UserWarning, stacklevel=2))
    warn_not_implemented(op._name, [t for t in outputs if not t.requires_grad], tensors)
    return result


def warn_not_implemented(name, outputs, inputs):
    """The float outputs of op `name` (ember computed them unrecorded) given the node of
    PyTorch's "warn" autograd fallback when grad mode is on and an input requires grad:
    backward through them warns and gives the inputs no gradient. For built-in ops without an
    autograd formula too (the quantized ones)."""
    fresh = tuple(t for t in outputs if isinstance(t, Tensor) and
                  (t.dtype.is_floating_point or t.dtype.is_complex))
    if fresh and grad_mode.is_grad_enabled() and any(t.requires_grad for t in inputs):
        _NotImplemented.apply(_Made(fresh, _fallback_warning(name)), *inputs)


def _fallback_warning(name) -> str:
    """The warning of PyTorch's autograd fallback for op `name`."""
    return (f"{name}: an autograd kernel was not registered to the Autograd key(s) but we are "
            "trying to backprop through it. This may lead to silently incorrect behavior. This "
            "behavior is deprecated and will be removed in a future version of PyTorch. If your "
            "operator is differentiable, please ensure you have registered an autograd kernel "
            "to the correct Autograd key (e.g. DispatchKey::Autograd, "
            "DispatchKey::CompositeImplicitAutograd). If your operator is not differentiable, "
            "or to squash this warning and use the previous behavior, please register "
            "torch::CppFunction::makeFallthrough() to DispatchKey::Autograd.")


class _Made:
    """Outputs already computed, handed to `_NotImplemented` to become its outputs."""

    def __init__(self, outputs, message):
        self.outputs, self.message = outputs, message


class _NotImplemented(Function):
    """The node PyTorch's autograd fallback gives outputs: backward warns, grads nothing."""

    node_name = "CppFunction"  # (PyTorch's class: name() and tensor reprs say WarnNotImplemented)
    _python_node = False  # (a C++ node in PyTorch)

    @staticmethod
    def forward(ctx, made, *inputs):
        ctx.message = made.message
        return made.outputs

    @staticmethod
    def backward(ctx, *grads):
        _warn(ctx.message, UserWarning, stacklevel=2)
        return (None,) * len(ctx.needs_input_grad)


_NotImplemented._backward_cls.name = lambda node: "torch::autograd::WarnNotImplemented"
_NotImplemented._backward_cls.__repr__ = lambda node: f"<CppFunction object at {hex(id(node))}>"
