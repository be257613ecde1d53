"""The dynamically quantized Linear layer (matches `torch.ao.nn.quantized.dynamic.Linear`):
a qint8 weight quantized once, float activations quantized on every call, float outputs, the
arithmetic FBGEMM's (`ember._quantized_arith.linear_dynamic`)."""

from ember import _dtype
from ember.ao.nn.quantized import _packed
from ember.ao.nn.quantized.modules import linear as nnq
from ember.ao.quantization.qconfig import default_dynamic_qconfig
from ember.nn.modules.linear import Linear as _FloatLinear
from ember.nn.modules.linear import NonDynamicallyQuantizableLinear

__all__ = ["Linear"]


class Linear(nnq.Linear):
    """A Linear layer with a qint8 weight whose float input is quantized per call to uint8 with
    a scale and zero point from its min and max (matches
    `torch.ao.nn.quantized.dynamic.Linear`)."""

    _version = 4  # 4: the activations use reduce_range (0..127)

    def __init__(self, in_features, out_features, bias_=True, dtype=_dtype.qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4

    def forward(self, x):
        """x @ weight.T + bias with x quantized on the fly; output in x's dtype."""
        # (the float16 product ignores reduce_range: it quantizes no activation)
        reduce_range = not (self.version is None or self.version < 4)
        y = _packed.linear_dynamic(x, self._packed_params._packed_params, reduce_range)
        return y.to(x.dtype)

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        text = (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"dtype={self._packed_params.dtype}")
        if self._packed_params.dtype is _dtype.qint8:
            text += f", qscheme={self.weight().qscheme()}"
        return text

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        self.version = local_metadata.get("version", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys,
                                      unexpected_keys, error_msgs, assign)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized copy of a float Linear that has a `qconfig`: its weight
        observed and quantized by the qconfig's weight observer (default: symmetric qint8 per
        tensor), its bias kept."""
        float_modules = [_FloatLinear, NonDynamicallyQuantizableLinear]
        if type(mod) not in float_modules:
            raise AssertionError(
                "nn.quantized.dynamic.Linear.from_float only works for one of"
                + str([m.__name__ for m in float_modules]) + f", got {type(mod)}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if mod.qconfig is not None and mod.qconfig.weight is not None:
            weight_observer = mod.qconfig.weight()
        else:
            weight_observer = default_dynamic_qconfig.weight()
        dtype = weight_observer.dtype
        if dtype not in (_dtype.qint8, _dtype.float16):
            raise AssertionError("The only supported dtypes for dynamic quantized linear are "
                                 f"qint8 and float16, got: {dtype}")
        if dtype is _dtype.float16:
            weight_observer(mod.weight)
            qweight = mod.weight.float()
        else:
            qweight = nnq._weight_from_observer(mod, weight_observer)
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        return qlinear

    @classmethod
    def from_reference(cls, ref_qlinear):
        """From a reference quantized Linear (its quantized weight and bias)."""
        qlinear = cls(ref_qlinear.in_features, ref_qlinear.out_features,
                      dtype=ref_qlinear.weight_dtype)
        qlinear.set_weight_bias(ref_qlinear.get_quantized_weight(), ref_qlinear.bias)
        return qlinear
