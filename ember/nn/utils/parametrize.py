"""Parametrizations: a module attribute computed from other parameters on every access, e.g. a
weight kept symmetric or normalised (matches `torch.nn.utils.parametrize`).

NOTE [How a parametrization takes over an attribute]
`register_parametrization(m, "weight", p)` moves the parameter to
`m.parametrizations.weight.original` (a ParametrizationList, itself a Module, so the state_dict
key becomes `parametrizations.weight.original`), and gives m a class of its own,
`Parametrized<Class>`, with a property `weight` that returns `p(original)`. Python finds a
class property before Module.__getattr__, so `m.weight` calls the parametrization; assigning
`m.weight = X` stores `p.right_inverse(X)` when p has one. A parametrization whose right_inverse
returns a tuple keeps one original per element (`original0`, `original1`, ...).
"""

import contextlib

from ember.nn.modules.container import ModuleDict, ModuleList
from ember.nn.parameter import Parameter

_CACHE = {"enabled": False, "values": {}}


@contextlib.contextmanager
def cached():
    """Compute each parametrized tensor once inside the block (matches `parametrize.cached`)."""
    _CACHE["enabled"] = True
    try:
        yield
    finally:
        _CACHE["enabled"] = False
        _CACHE["values"].clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, and its original(s)."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        if hasattr(first, "right_inverse"):
            original_value = first.right_inverse(original.detach())
        else:
            original_value = original.detach()
        if isinstance(original_value, (tuple, list)):
            self.is_tensor = False
            self.ntensors = len(original_value)
            for i, value in enumerate(original_value):
                setattr(self, f"original{i}", Parameter(value, original.requires_grad))
        else:
            self.is_tensor = True
            self.ntensors = 1
            if hasattr(first, "right_inverse"):
                original.data = original_value  # the same Parameter object, as torch's set_
            self.original = original if isinstance(original, Parameter) else \
                Parameter(original, original.requires_grad)

    def right_inverse(self, value):
        """Store `value` as the new original(s), through each right_inverse in reverse."""
        for module in reversed(list(self)):
            if not hasattr(module, "right_inverse"):  # (registering assumed the identity)
                raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                   "implement right_inverse.")
            value = module.right_inverse(value)
        if self.is_tensor:
            self.original.data = value.detach()
        else:
            for i, part in enumerate(value):
                getattr(self, f"original{i}").data = part.detach()

    def forward(self):
        originals = (self.original,) if self.is_tensor else \
            tuple(getattr(self, f"original{i}") for i in range(self.ntensors))
        value = self[0](*originals)
        for module in list(self)[1:]:
            value = module(value)
        return value


def _parametrized_property(tensor_name):
    def getter(module):
        parametrization = module.parametrizations[tensor_name]
        if _CACHE["enabled"]:
            key = (id(module), tensor_name)
            if key not in _CACHE["values"]:
                _CACHE["values"][key] = parametrization()
            return _CACHE["values"][key]
        return parametrization()

    def setter(module, value):
        module.parametrizations[tensor_name].right_inverse(value)

    return property(getter, setter)


def _make_parametrized_class(module):
    """Give module a class of its own, so properties can be added to it alone."""
    cls = type(module)
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})


def is_parametrized(module, tensor_name=None) -> bool:
    """Whether module (or its attribute tensor_name) has a parametrization."""
    parametrizations = module._modules.get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return tensor_name is None or tensor_name in parametrizations


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make module.tensor_name = parametrization(original) (see the NOTE above)."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    if not unsafe:
        _check_parametrization(parametrization, original)
    if not is_parametrized(module):
        _make_parametrized_class(module)
        module.parametrizations = ModuleDict()
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    module.parametrizations[tensor_name] = ParametrizationList([parametrization], original,
                                                               unsafe)
    setattr(type(module), tensor_name, _parametrized_property(tensor_name))
    return module


def _check_parametrization(parametrization, original):
    """torch's checks: the parametrized tensor keeps the original's shape and dtype."""
    if hasattr(parametrization, "right_inverse"):
        value = parametrization.right_inverse(original)
        new = parametrization(*value) if isinstance(value, (tuple, list)) else \
            parametrization(value)
    else:
        new = parametrization(original)
    if getattr(new, "shape", None) != original.shape:
        raise ValueError("Registering a parametrization may not change the shape of the "
                         f"tensor, unless `unsafe` flag is enabled.\nunparametrized shape: "
                         f"{original.shape}\nparametrized shape: {new.shape}")
    if new.dtype != original.dtype:
        raise ValueError("Registering a parametrization may not change the dtype of the "
                         f"tensor, unless `unsafe` flag is enabled.\nunparametrized dtype: "
                         f"{original.dtype}\nparametrized dtype: {new.dtype}")


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo register_parametrization: keep the current value (or the original) as a Parameter."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if leave_parametrized:
        value = getattr(module, tensor_name).detach()
        kept = Parameter(value, True)
    elif parametrizations.is_tensor:
        kept = parametrizations.original
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, kept)
    if not module.parametrizations:
        del module._modules["parametrizations"]
        module.__class__ = type(module).__mro__[1]
    return module


def type_before_parametrizations(module) -> type:
    """The class module had before it was parametrized."""
    return type(module).__mro__[1] if is_parametrized(module) else type(module)


__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]
