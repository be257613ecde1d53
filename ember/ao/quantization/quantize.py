"""Eager-mode module swapping (matches `torch.ao.quantization.quantize` for dynamic
quantization): `propagate_qconfig_` gives each module its qconfig, `convert` swaps every module
whose type the mapping names for its quantized version (`from_float`), `quantize_dynamic` does
both on a copy of the model. Static quantization (`prepare` with observers and calibration) is
not implemented."""

import copy
import inspect

from ember._warnings import warn as _warn
from ember import _dtype
from ember.ao.quantization.observer import _is_activation_post_process
from ember.ao.quantization.qconfig import (_assert_valid_qconfig, default_dynamic_qconfig,
                                           float16_dynamic_qconfig,
                                           float_qparams_weight_only_qconfig)
from ember.ao.quantization.quantization_mappings import get_default_dynamic_quant_module_mappings
from ember.ao.quantization.utils import DEPRECATION_WARNING
from ember.nn.modules import linear as _linear
from ember.nn.modules import rnn as _rnn
from ember.nn.modules import sparse as _sparse

__all__ = ["propagate_qconfig_", "convert", "swap_module", "quantize_dynamic"]


def _deprecated(fn):
    """fn, warning as PyTorch's `@deprecated(DEPRECATION_WARNING)` functions warn."""

    def wrapper(*args, **kwargs):
        _warn(DEPRECATION_WARNING, DeprecationWarning, stacklevel=2)
        return fn(*args, **kwargs)

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = fn.__name__, fn.__qualname__, \
        fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def _propagate_qconfig_helper(module, qconfig_dict, qconfig_parent=None, prefix="",
                              prepare_custom_config_dict=None):
    """Give module its qconfig (by type, then by name, then its own), then its children."""
    module_qconfig = qconfig_dict.get(type(module), qconfig_parent)
    module_qconfig = qconfig_dict.get(prefix, module_qconfig)
    module_qconfig = getattr(module, "qconfig", module_qconfig)
    _assert_valid_qconfig(module_qconfig, module)
    module.qconfig = module_qconfig
    custom = prepare_custom_config_dict or {}
    for name, child in module.named_children():
        child_prefix = prefix + "." + name if prefix else name
        if name in custom.get("non_traceable_module_name", []) or type(child) in custom.get(
                "non_traceable_module_class", []):
            continue
        _propagate_qconfig_helper(child, qconfig_dict, module_qconfig, child_prefix)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Attach a `qconfig` to every module of the tree, from a dict keyed by type or name
    (matches `torch.ao.quantization.propagate_qconfig_`)."""
    _propagate_qconfig_helper(module, qconfig_dict or {},
                              prepare_custom_config_dict=prepare_custom_config_dict or {})


def _remove_qconfig(module):
    """Delete the `qconfig` attributes (and observers) left on the tree."""
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, "qconfig"):
        del module.qconfig
    if hasattr(module, "activation_post_process") and _is_activation_post_process(
            module.activation_post_process):
        delattr(module, "activation_post_process")


@_deprecated
def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """Swap each module that has a qconfig and a type in mapping for mapping[type].from_float
    (matches `torch.ao.quantization.convert`)."""
    if not inplace:
        module = copy.deepcopy(module)
    _convert(module, mapping, inplace=True, is_reference=is_reference,
             use_precomputed_fake_quant=use_precomputed_fake_quant)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def _convert(module, mapping=None, inplace=False, is_reference=False,
             use_precomputed_fake_quant=False):
    """Children first, then swap the children themselves."""
    if mapping is None:
        if is_reference:
            raise NotImplementedError("ember: reference quantized modules")
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        module = copy.deepcopy(module)
    swapped = {}
    for name, child in module.named_children():
        _convert(child, mapping, True, is_reference, use_precomputed_fake_quant)
        swapped[name] = swap_module(child, mapping, {}, use_precomputed_fake_quant)
    for name, child in swapped.items():
        module._modules[name] = child
    return module


def swap_module(mod, mapping, custom_module_class_mapping, use_precomputed_fake_quant=False):
    """mod's quantized counterpart when it has a qconfig and its type is mapped, keeping its
    forward hooks (matches `torch.ao.quantization.swap_module`); else mod."""
    if getattr(mod, "qconfig", None) is None:
        return mod
    if type(mod) in custom_module_class_mapping:
        new_mod = custom_module_class_mapping[type(mod)].from_observed(mod)
    elif type(mod) in mapping:
        qmod = mapping[type(mod)]
        if "use_precomputed_fake_quant" in inspect.signature(qmod.from_float).parameters:
            new_mod = qmod.from_float(mod, use_precomputed_fake_quant=use_precomputed_fake_quant)
        else:
            new_mod = qmod.from_float(mod)
    else:
        return mod
    for hook in mod._forward_pre_hooks.values():
        new_mod.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        new_mod.register_forward_hook(hook)
    return new_mod


_DEFAULT_TYPES = (_linear.Linear, _rnn.LSTM, _rnn.GRU, _rnn.LSTMCell, _rnn.RNNCell, _rnn.GRUCell)


def _default_qconfig_spec(dtype):
    """The {type: qconfig} quantize_dynamic uses when given none, per dtype."""
    if dtype is _dtype.qint8:
        return dict.fromkeys(_DEFAULT_TYPES, default_dynamic_qconfig)
    if dtype is _dtype.float16:
        return dict.fromkeys(_DEFAULT_TYPES, float16_dynamic_qconfig)
    if dtype is _dtype.quint8:
        return dict.fromkeys((_sparse.EmbeddingBag, _sparse.Embedding),
                             float_qparams_weight_only_qconfig)
    raise ValueError(f"Don't know how to quantize with default settings for {dtype}. Provide "
                     "full qconfig please")


@_deprecated
def quantize_dynamic(model, qconfig_spec=None, dtype=_dtype.qint8, mapping=None, inplace=False):
    """model with its Linear and LSTM layers (or those qconfig_spec names, by type or by name)
    replaced by dynamically quantized ones: qint8 weights, activations quantized per call
    (matches `torch.ao.quantization.quantize_dynamic`). A copy unless inplace."""
    if qconfig_spec is None:
        qconfig_spec = _default_qconfig_spec(dtype)
    elif isinstance(qconfig_spec, set):
        defaults = {_dtype.qint8: default_dynamic_qconfig,
                    _dtype.float16: float16_dynamic_qconfig,
                    _dtype.quint8: float_qparams_weight_only_qconfig}
        if dtype not in defaults:
            raise RuntimeError("Unknown dtype specified for quantize_dynamic: ", str(dtype))
        qconfig_spec = dict.fromkeys(qconfig_spec, defaults[dtype])
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    convert(model, mapping, inplace=True)
    return model
