"""The quantized Linear layer and its packed parameters (matches
`torch.ao.nn.quantized.modules.linear`): the weight lives packed in a `LinearPackedParams`
child, and the state dict carries it as a (qweight, bias) tuple, as PyTorch's does."""

from ember import _dtype
from ember import _quantized as q
from ember.ao.nn.quantized import _packed
from ember.ao.nn.quantized.modules.utils import (WeightedQuantizedModule,
                                                 _hide_packed_params_repr, _quantize_weight)
from ember.nn.modules.linear import Linear as _FloatLinear
from ember.nn.modules.linear import NonDynamicallyQuantizableLinear
from ember.nn.modules.module import Module
from ember.ops import creation

__all__ = ["LinearPackedParams", "Linear"]


class LinearPackedParams(Module):
    """Holds a Linear's packed (weight, bias) (matches `LinearPackedParams`): a qint8 weight,
    or a float16 one (dynamic quantization to float16)."""

    _version = 3

    def __init__(self, dtype=_dtype.qint8):
        super().__init__()
        self.dtype = dtype
        if dtype is _dtype.qint8:
            wq = q._empty_affine_quantized([1, 1], scale=1.0, zero_point=0, dtype=_dtype.qint8)
        elif dtype is _dtype.float16:
            wq = creation.zeros([1, 1], dtype=_dtype.float32)
        self.set_weight_bias(wq, None)

    def set_weight_bias(self, weight, bias) -> None:
        """Pack weight and bias (`torch.ops.quantized.linear_prepack(_fp16)`)."""
        if self.dtype is _dtype.qint8:
            self._packed_params = _packed.linear_prepack(weight, bias)
        elif self.dtype is _dtype.float16:
            self._packed_params = _packed.linear_prepack_fp16(weight, bias)
        else:
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")

    def _weight_bias(self):
        """(weight, bias) as packed (`torch.ops.quantized.linear_unpack(_fp16)`)."""
        return self._packed_params.unpack()

    def forward(self, x):
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_params"] = self._weight_bias()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        version = local_metadata.get("version", None)
        self.dtype = _dtype.qint8 if version is None or version < 2 else state_dict.pop(
            prefix + "dtype")
        if version is None or version < 3:
            self.set_weight_bias(state_dict.pop(prefix + "weight"),
                                 state_dict.pop(prefix + "bias"))
        if version == 3:
            weight, bias = state_dict.pop(prefix + "_packed_params")
            self.set_weight_bias(weight, bias)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs, assign)

    def __repr__(self):
        return self._weight_bias().__repr__()


class Linear(WeightedQuantizedModule):
    """A Linear layer with a qint8 weight (matches `torch.ao.nn.quantized.Linear`); ember runs
    only its dynamic subclass (`torch.ao.nn.quantized.dynamic.Linear`): the static forward,
    which takes quantized activations, is not implemented."""

    _version = 3
    _FLOAT_MODULE = (_FloatLinear, NonDynamicallyQuantizableLinear)

    def __init__(self, in_features, out_features, bias_=True, dtype=_dtype.qint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bias = creation.zeros(out_features, dtype=_dtype.float32) if bias_ else None
        if dtype is _dtype.qint8:
            qweight = q._empty_affine_quantized([out_features, in_features], scale=1,
                                                zero_point=0, dtype=_dtype.qint8)
        elif dtype is _dtype.float16:
            qweight = creation.zeros([out_features, in_features], dtype=_dtype.float32)
        else:
            raise RuntimeError("Unsupported dtype specified for quantized Linear!")
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(qweight, bias)
        self.scale = 1.0
        self.zero_point = 0

    def _get_name(self):
        return "QuantizedLinear"

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"scale={self.scale}, zero_point={self.zero_point}, "
                f"qscheme={self.weight().qscheme()}")

    def __repr__(self):
        return _hide_packed_params_repr(self, LinearPackedParams)

    def forward(self, x):
        raise NotImplementedError("ember: statically quantized Linear (quantized::linear)")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = creation.tensor(self.scale)
        destination[prefix + "zero_point"] = creation.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        version = local_metadata.get("version", None)
        if version is None or version == 1:
            state_dict[prefix + "_packed_params.weight"] = state_dict.pop(prefix + "weight")
            state_dict[prefix + "_packed_params.bias"] = state_dict.pop(prefix + "bias")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs, assign)

    def _weight_bias(self):
        """(qweight, bias) of the packed parameters."""
        return self._packed_params._weight_bias()

    def weight(self):
        """The packed qint8 weight."""
        return self._weight_bias()[0]

    def bias(self):
        """The packed float bias (or None)."""
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b) -> None:
        """Pack a new qint8 weight and float bias."""
        self._packed_params.set_weight_bias(w, b)


def _weight_from_observer(mod, weight_observer):
    """mod's weight observed and quantized with the observer (qint8)."""
    weight_observer(mod.weight)
    return _quantize_weight(mod.weight.float(), weight_observer)
