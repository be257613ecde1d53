"""Helpers of the quantized modules (matches `torch.ao.nn.quantized.modules.utils`): weights
quantized with an observer's parameters, and the repr that hides packed parameters."""

from ember import _dtype
from ember import _quantized as q
from ember.nn.modules.module import Module, _addindent

__all__ = ["WeightedQuantizedModule"]


class WeightedQuantizedModule(Module):
    """Base of quantized modules that can be lowered from reference modules."""

    @classmethod
    def from_reference(cls, ref_module, output_scale, output_zero_point):
        raise NotImplementedError


def _get_weight_observer(observer):
    """The observer itself, or a fake-quantize module's observer."""
    return getattr(observer, "activation_post_process", observer)


def _needs_weight_clamping(observer, dtype) -> bool:
    """Whether the observer's range is narrower than the dtype's (e.g. -127..127 for qint8)."""
    observer = _get_weight_observer(observer)
    if dtype in (_dtype.qint8, _dtype.quint8, _dtype.qint32):
        info = _dtype.iinfo(dtype)
        return observer.quant_min > info.min or observer.quant_max < info.max
    return False


def _clamp_weights(qweight, observer, scale, zp):
    """qweight's integers clamped to the observer's range, with the same parameters."""
    if not _needs_weight_clamping(observer, qweight.dtype):
        return qweight
    observer = _get_weight_observer(observer)
    ints = qweight.int_repr().clamp(observer.quant_min, observer.quant_max)
    if observer.qscheme in (q.per_tensor_symmetric, q.per_tensor_affine):
        return q._make_per_tensor_quantized_tensor(ints, scale.item(), zp.item())
    return q._make_per_channel_quantized_tensor(ints, scale, zp, observer.ch_axis)


def _quantize_weight(float_wt, observer):
    """float_wt quantized with the observer's (already observed) scale and zero point."""
    wt_scale, wt_zp = observer.calculate_qparams()
    if observer.qscheme in (q.per_tensor_symmetric, q.per_tensor_affine):
        qweight = q.quantize_per_tensor(float_wt, float(wt_scale), int(wt_zp), _dtype.qint8)
    elif observer.qscheme in (q.per_channel_symmetric, q.per_channel_affine):
        qweight = q.quantize_per_channel(float_wt, wt_scale.to(_dtype.float64),
                                         wt_zp.to(_dtype.int64), observer.ch_axis, _dtype.qint8)
    elif observer.qscheme is q.per_channel_affine_float_qparams:
        qweight = q.quantize_per_channel(float_wt, wt_scale.to(_dtype.float32),
                                         wt_zp.to(_dtype.float32), observer.ch_axis,
                                         observer.dtype)
    else:
        raise ValueError("Unexpected qscheme " + repr(observer.qscheme))
    return _clamp_weights(qweight, observer, wt_scale, wt_zp)


def _hide_packed_params_repr(self, params):
    """nn.Module's repr, leaving out children of type `params` (the packed parameters)."""
    extra = self.extra_repr()
    extra_lines = extra.split("\n") if extra else []
    child_lines = [f"({key}): {_addindent(repr(module), 2)}"
                   for key, module in self._modules.items() if not isinstance(module, params)]
    lines = extra_lines + child_lines
    main = self._get_name() + "("
    if lines:
        if len(extra_lines) == 1 and not child_lines:
            main += extra_lines[0]
        else:
            main += "\n  " + "\n  ".join(lines) + "\n"
    return main + ")"
