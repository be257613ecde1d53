"""Eager-mode quantization (matches `torch.ao.quantization`): observers, qconfigs, the module
mappings and `quantize_dynamic`, which swaps Linear and LSTM layers for dynamically quantized
ones (ember/ao/nn/quantized/dynamic). Static quantization (`prepare`, calibration, `QuantStub`)
is not implemented."""

# observer and qconfig before quantize: quantize's mappings import the dynamic modules, which
# import qconfig (ember/ao/__init__.py)
from ember.ao.quantization.observer import (MinMaxObserver, MovingAverageMinMaxObserver,
                                            NoopObserver, ObserverBase,
                                            PerChannelMinMaxObserver, PlaceholderObserver,
                                            UniformQuantizationObserverBase,
                                            default_dynamic_quant_observer,
                                            default_float_qparams_observer, default_observer,
                                            default_per_channel_weight_observer,
                                            default_placeholder_observer,
                                            default_weight_observer,
                                            per_channel_weight_observer_range_neg_127_to_127,
                                            weight_observer_range_neg_127_to_127)
from ember.ao.quantization.qconfig import (QConfig, QConfigAny, QConfigDynamic,
                                           default_dynamic_qconfig, default_per_channel_qconfig,
                                           default_qconfig, float16_dynamic_qconfig,
                                           float16_static_qconfig,
                                           float_qparams_weight_only_qconfig,
                                           per_channel_dynamic_qconfig, qconfig_equals)
from ember.ao.quantization.fuse_modules import (fuse_known_modules, fuse_modules,
                                                fuse_modules_qat)
from ember.ao.quantization.fuser_method_mappings import (fuse_conv_bn, fuse_conv_bn_relu,
                                                         fuse_convtranspose_bn, fuse_linear_bn,
                                                         get_fuser_method)
from ember.ao.quantization.quantization_mappings import (
    get_default_dynamic_quant_module_mappings, get_default_qconfig_propagation_list,
    get_dynamic_quant_module_class)
from ember.ao.quantization.quantize import (convert, propagate_qconfig_, quantize_dynamic,
                                            swap_module)

__all__ = ["MinMaxObserver", "MovingAverageMinMaxObserver", "NoopObserver", "ObserverBase",
           "PerChannelMinMaxObserver", "PlaceholderObserver",
           "UniformQuantizationObserverBase", "default_dynamic_quant_observer",
           "default_float_qparams_observer", "default_observer",
           "default_per_channel_weight_observer", "default_placeholder_observer",
           "default_weight_observer", "per_channel_weight_observer_range_neg_127_to_127",
           "weight_observer_range_neg_127_to_127", "QConfig", "QConfigAny", "QConfigDynamic",
           "default_dynamic_qconfig", "default_per_channel_qconfig", "default_qconfig",
           "float16_dynamic_qconfig", "float16_static_qconfig",
           "float_qparams_weight_only_qconfig", "per_channel_dynamic_qconfig", "qconfig_equals",
           "get_default_dynamic_quant_module_mappings", "get_default_qconfig_propagation_list",
           "get_dynamic_quant_module_class", "convert", "propagate_qconfig_",
           "quantize_dynamic", "swap_module", "fuse_conv_bn", "fuse_conv_bn_relu",
           "fuse_convtranspose_bn", "fuse_known_modules", "fuse_linear_bn", "fuse_modules",
           "fuse_modules_qat", "get_fuser_method"]
