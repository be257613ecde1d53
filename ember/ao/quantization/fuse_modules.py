"""Fusing a model's modules by name for inference or QAT (matches
`torch.ao.quantization.fuse_modules`).

`fuse_modules(model, [['conv1', 'bn1', 'relu1'], ...])` puts the fused module (see
fuser_method_mappings.py) in the first name's place and `nn.Identity()` in the others', on a
deep copy of the model unless `inplace=True`.
"""

import copy

from ember import nn
from ember.ao.quantization.fuser_method_mappings import get_fuser_method
from ember.nn.utils.parametrize import type_before_parametrizations

__all__ = ["fuse_known_modules", "fuse_modules", "fuse_modules_qat"]


def _get_module(model, submodule_key: str):
    """The submodule at a dotted name."""
    module = model
    for name in submodule_key.split("."):
        module = getattr(module, name)
    return module


def _set_module(model, submodule_key: str, module) -> None:
    """Put module at a dotted name."""
    *path, last = submodule_key.split(".")
    setattr(_get_module(model, ".".join(path)) if path else model, last, module)


def fuse_known_modules(mod_list, is_qat, additional_fuser_method_mapping=None):
    """[fused, Identity(), ...] for a known sequence of modules (conv-bn(-relu), ...)."""
    types = tuple(type_before_parametrizations(m) for m in mod_list)
    fused = get_fuser_method(types, additional_fuser_method_mapping)(is_qat, *mod_list)
    # the first module's pre-hooks and the last one's hooks move to the fused module
    for hook in mod_list[0]._forward_pre_hooks.values():
        fused.register_forward_pre_hook(hook)
    mod_list[0]._forward_pre_hooks.clear()
    for hook in mod_list[-1]._forward_hooks.values():
        fused.register_forward_hook(hook)
    mod_list[-1]._forward_hooks.clear()
    identities = []
    for _ in mod_list[1:]:
        identity = nn.Identity()
        identity.training = mod_list[0].training
        identities.append(identity)
    return [fused, *identities]


def _fuse_modules_helper(model, modules_to_fuse, is_qat, fuser_func, fuse_custom_config_dict):
    """Fuse one list of names in place."""
    additional = (fuse_custom_config_dict or {}).get("additional_fuser_method_mapping", {})
    mod_list = [_get_module(model, name) for name in modules_to_fuse]
    for name, module in zip(modules_to_fuse, fuser_func(mod_list, is_qat, additional)):
        _set_module(model, name, module)


def _fuse_modules(model, modules_to_fuse, is_qat, inplace=False, fuser_func=fuse_known_modules,
                  fuse_custom_config_dict=None):
    """Fuse one list of names, or each of a list of lists."""
    if not inplace:
        model = copy.deepcopy(model)
    if all(isinstance(name, str) for name in modules_to_fuse):
        modules_to_fuse = [modules_to_fuse]
    for names in modules_to_fuse:
        _fuse_modules_helper(model, names, is_qat, fuser_func, fuse_custom_config_dict)
    return model


def fuse_modules(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                 fuse_custom_config_dict=None):
    """Fuse the named modules for inference (matches `torch.ao.quantization.fuse_modules`)."""
    return _fuse_modules(model, modules_to_fuse, is_qat=False, inplace=inplace,
                         fuser_func=fuser_func, fuse_custom_config_dict=fuse_custom_config_dict)


def fuse_modules_qat(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                     fuse_custom_config_dict=None):
    """Fuse the named modules for quantization-aware training, keeping BatchNorm modules."""
    return _fuse_modules(model, modules_to_fuse, is_qat=True, inplace=inplace,
                         fuser_func=fuser_func, fuse_custom_config_dict=fuse_custom_config_dict)
