"""Which quantized module replaces which float module (matches
`torch.ao.quantization.quantization_mappings` for dynamic quantization). The float types PyTorch
also maps and ember cannot quantize yet (GRU and the single-step cells) map to a stand-in whose
`from_float` says so, rather than staying float without a word."""

import copy

from ember.ao.nn.quantized import dynamic as nnqd
from ember.nn.modules import linear as _linear
from ember.nn.modules import rnn as _rnn
from ember.nn.modules import sparse as _sparse

__all__ = ["DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS", "get_default_dynamic_quant_module_mappings",
           "get_dynamic_quant_module_class", "get_default_qconfig_propagation_list"]


class _NotImplemented:
    """The stand-in for a dynamically quantized module ember does not have."""

    def __init__(self, name):
        self.name = name

    def from_float(self, mod, use_precomputed_fake_quant=False):
        """NotImplementedError: ember has no such quantized module."""
        raise NotImplementedError(f"ember: dynamic quantization of nn.{self.name}")


DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS = {
    _rnn.GRUCell: _NotImplemented("GRUCell"),
    _linear.Linear: nnqd.Linear,
    _linear.NonDynamicallyQuantizableLinear: nnqd.Linear,
    _rnn.LSTM: nnqd.LSTM,
    _rnn.GRU: _NotImplemented("GRU"),
    _rnn.LSTMCell: _NotImplemented("LSTMCell"),
    _rnn.RNNCell: _NotImplemented("RNNCell"),
    _sparse.EmbeddingBag: _NotImplemented("EmbeddingBag"),
    _sparse.Embedding: _NotImplemented("Embedding"),
}


def get_default_dynamic_quant_module_mappings():
    """The float-to-dynamic module mapping `quantize_dynamic` uses by default."""
    return DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS


def get_dynamic_quant_module_class(float_module_class, additional_dynamic_quant_mapping=None):
    """The dynamically quantized class of a float module class."""
    mappings = {**DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS, **(additional_dynamic_quant_mapping
                                                            or {})}
    found = mappings.get(float_module_class)
    if found is None:
        raise AssertionError(f"Floating point module class {float_module_class} does not have "
                             "a corresponding quantized module class")
    return copy.deepcopy(found)


def get_default_qconfig_propagation_list():
    """The module types that get a `qconfig` attached."""
    return set(DEFAULT_DYNAMIC_QUANT_MODULE_MAPPINGS)
