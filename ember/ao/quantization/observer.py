"""Observers: modules that watch tensors and choose their quantization parameters (matches
`torch.ao.quantization.observer` for the observers eager dynamic quantization uses:
MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, PlaceholderObserver,
NoopObserver and the `default_*` factories). The scale and zero point are computed with
ember's float32 tensor ops in PyTorch's order, so they are PyTorch's to the bit."""


from ember._warnings import warn as _warn
from functools import partial

from ember import _dtype
from ember import _quantized as q
from ember.ao.quantization.utils import (calculate_qmin_qmax, check_min_max_valid,
                                         is_per_channel, is_per_tensor, validate_qmin_qmax)
from ember.nn.modules.module import Module
from ember.ops import creation

__all__ = ["ObserverBase", "UniformQuantizationObserverBase", "MinMaxObserver",
           "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver", "PlaceholderObserver",
           "NoopObserver", "default_observer", "default_weight_observer",
           "default_per_channel_weight_observer", "default_dynamic_quant_observer",
           "default_placeholder_observer", "default_float_qparams_observer",
           "weight_observer_range_neg_127_to_127",
           "per_channel_weight_observer_range_neg_127_to_127"]

_EPS = float(_dtype.finfo(_dtype.float32).eps)
_ALLOWED_DTYPES = (_dtype.qint8, _dtype.quint8, _dtype.quint4x2, _dtype.qint32, _dtype.int8,
                   _dtype.uint8, _dtype.int16, _dtype.int32, _dtype.float8_e5m2,
                   _dtype.float8_e4m3fn, _dtype.uint16)


class _PartialWrapper:
    """An observer class with some constructor arguments bound (`Observer.with_args(...)`)."""

    def __init__(self, p):
        self.p = p
        self.callable_args = {}

    def __call__(self, *args, **keywords):
        for name, make in self.callable_args.items():
            keywords.setdefault(name, make())
        return self.p(*args, **keywords)

    def __repr__(self):
        return self.p.__repr__() + self.callable_args.__repr__()

    def with_args(self, **kwargs):
        return _with_args(self, **kwargs)

    def with_callable_args(self, **kwargs):
        result = _PartialWrapper(p=self.p)
        result.callable_args = {**self.callable_args, **kwargs}
        return result


def _with_args(cls_or_self, **kwargs):
    """A factory making cls_or_self with these keyword arguments (matches `with_args`)."""
    return _PartialWrapper(partial(cls_or_self, **kwargs))


def _with_callable_args(cls_or_self, **kwargs):
    """A factory whose arguments are called at construction (matches `with_callable_args`)."""
    return _PartialWrapper(partial(cls_or_self)).with_callable_args(**kwargs)


class ObserverBase(Module):
    """Base class of observers: forward records statistics, calculate_qparams answers."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype = dtype
        self.is_dynamic = is_dynamic

    def forward(self, x):
        raise NotImplementedError

    def calculate_qparams(self, **kwargs):
        raise NotImplementedError

    with_args = classmethod(_with_args)
    with_callable_args = classmethod(_with_callable_args)


class UniformQuantizationObserverBase(ObserverBase):
    """Scale and zero point from a min and max, affine or symmetric, per tensor or channel."""

    _version = 3

    def __init__(self, dtype=_dtype.quint8, qscheme=q.per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic, **kwargs)
        self.qscheme = qscheme
        if reduce_range:
            _warn("Please use quant_min and quant_max to specify the range for "
                          "observers.                     reduce_range will be deprecated in a "
                          "future release of PyTorch.", stacklevel=2)
        self.reduce_range = reduce_range
        self.register_buffer("eps", creation.tensor([eps]))
        if not (is_per_tensor(qscheme) or is_per_channel(qscheme)):
            raise AssertionError(
                "Default Observer only works for per_tensor_affine, per_tensor_symmetric, "
                "per_channel_affine, per_channel_symmetric and per_channel_float_qparams "
                "quantization scheme")
        if self.dtype not in _ALLOWED_DTYPES:
            raise AssertionError(f"Default Observer only works for {_ALLOWED_DTYPES} data type")
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        if self.has_customized_qrange:
            validate_qmin_qmax(quant_min, quant_max)
        self.quant_min, self.quant_max = calculate_qmin_qmax(
            quant_min, quant_max, self.has_customized_qrange, self.dtype, self.reduce_range)

    def _calculate_qparams(self, min_val, max_val):
        """(scale float32, zero_point int64) tensors of shape (1,) or (channels,), in PyTorch's
        steps: symmetric max(|min|, max) / ((qmax - qmin) / 2), affine (max - min) / (qmax -
        qmin) with a rounded zero point, each scale at least eps."""
        if not check_min_max_valid(min_val, max_val):
            return creation.tensor([1.0]), creation.tensor([0])
        quant_min, quant_max = self.quant_min, self.quant_max
        min_val_neg = min_val.minimum(creation.zeros_like(min_val))
        max_val_pos = max_val.maximum(creation.zeros_like(max_val))
        zero_point = creation.zeros(min_val_neg.size(), dtype=_dtype.int64)
        if self.qscheme in (q.per_tensor_symmetric, q.per_channel_symmetric):
            max_val_pos = (-min_val_neg).maximum(max_val_pos)
            scale = (max_val_pos / (float(quant_max - quant_min) / 2)).maximum(self.eps)
            if self.dtype in (_dtype.quint8, _dtype.uint8):
                middle = (quant_min + quant_max) // 2 if self.has_customized_qrange else 128
                zero_point = zero_point.new_full(zero_point.size(), middle)
            elif self.dtype is _dtype.uint16:
                zero_point = zero_point.new_full(zero_point.size(), 2 ** 15)
        elif self.qscheme is q.per_channel_affine_float_qparams:
            scale = (max_val - min_val) / float(quant_max - quant_min)
            scale = scale.where(scale > self.eps, creation.ones_like(scale))
            zero_point = -1 * min_val / scale
        else:
            scale = ((max_val_pos - min_val_neg) / float(quant_max - quant_min)).maximum(self.eps)
            zero_point = quant_min - (min_val_neg / scale).round().to(_dtype.int32)
            zero_point = zero_point.clamp(quant_min, quant_max)
        if scale.dim() == 0:
            scale = creation.tensor([float(scale)], dtype=scale.dtype)
        if zero_point.dim() == 0:
            zero_point = creation.tensor([int(zero_point)], dtype=zero_point.dtype)
        return scale, zero_point

    def reset_min_max_vals(self):
        raise NotImplementedError("Cannot reset min/max values in the given observer.")


class MinMaxObserver(UniformQuantizationObserverBase):
    """Quantization parameters from the running min and max of the observed tensors (matches
    `torch.ao.quantization.MinMaxObserver`)."""

    def __init__(self, dtype=_dtype.quint8, qscheme=q.per_tensor_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS,
                 is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError(
                "MinMaxObserver's qscheme only support torch.per_tensor_symmetric "
                "                    and torch.per_tensor_affine.")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.register_buffer("min_val", creation.tensor(float("inf")))
        self.register_buffer("max_val", creation.tensor(float("-inf")))
        if qscheme is q.per_tensor_symmetric and reduce_range and dtype is _dtype.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric "
                                      "                                       quantization for "
                                      "quint8")

    def forward(self, x_orig):
        """Record the running min and max of x; return x."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_cur, max_cur = x.aminmax()
        self.min_val.copy_(min_cur.minimum(self.min_val))
        self.max_val.copy_(max_cur.maximum(self.max_val))
        return x_orig

    def calculate_qparams(self):
        """(scale, zero_point) of the values seen so far."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        """Forget the values seen."""
        self.min_val.copy_(creation.tensor(float("inf")))
        self.max_val.copy_(creation.tensor(float("-inf")))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """MinMaxObserver on moving averages of the min and max (matches
    `torch.ao.quantization.MovingAverageMinMaxObserver`)."""

    def __init__(self, averaging_constant=0.01, dtype=_dtype.quint8,
                 qscheme=q.per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_tensor(qscheme):
            raise NotImplementedError(
                f"MovingAverageMinMaxObserver's qscheme only support                 "
                f"torch.per_tensor_symmetric and torch.per_tensor_affine.                 "
                f"but got: {qscheme}")
        self.averaging_constant = averaging_constant
        if is_dynamic and averaging_constant != 1:
            raise NotImplementedError("MovingAverageMinMaxObserver doesn't support dynamic "
                                      f"quantization for averaging constant of "
                                      f"{averaging_constant}")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max, eps=eps,
                         is_dynamic=is_dynamic, **kwargs)

    def forward(self, x_orig):
        """Move the recorded min and max toward x's; return x."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach().to(self.min_val.dtype)
        min_val, max_val = self.min_val, self.max_val
        min_cur, max_cur = x.aminmax()
        if float(min_val) == float("inf") and float(max_val) == float("-inf"):
            min_val, max_val = min_cur, max_cur
        else:
            min_val = min_val + self.averaging_constant * (min_cur - min_val)
            max_val = max_val + self.averaging_constant * (max_cur - max_val)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig


class PerChannelMinMaxObserver(UniformQuantizationObserverBase):
    """Quantization parameters from the running min and max of each channel (matches
    `torch.ao.quantization.PerChannelMinMaxObserver`)."""

    def __init__(self, ch_axis=0, dtype=_dtype.quint8, qscheme=q.per_channel_affine,
                 reduce_range=False, quant_min=None, quant_max=None, factory_kwargs=None,
                 eps=_EPS, is_dynamic=False, **kwargs):
        if not is_per_channel(qscheme):
            raise NotImplementedError(
                "PerChannelMinMaxObserver's qscheme only support                     "
                "torch.per_channel_symmetric, torch.per_channel_affine and "
                "torch.per_channel_affine_float_qparams.")
        if is_dynamic:
            raise NotImplementedError(
                "PerChannelMinMaxObserver doesn't support dynamic quantization")
        super().__init__(dtype=dtype, qscheme=qscheme, reduce_range=reduce_range,
                         quant_min=quant_min, quant_max=quant_max,
                         factory_kwargs=factory_kwargs, eps=eps, is_dynamic=is_dynamic,
                         **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", creation.tensor([]))
        self.register_buffer("max_val", creation.tensor([]))
        if qscheme is q.per_channel_symmetric and reduce_range and dtype is _dtype.quint8:
            raise NotImplementedError("Cannot reduce range for symmetric quantization for quint8")

    def forward(self, x_orig):
        """Record each channel's running min and max; return x."""
        if x_orig.numel() == 0:
            return x_orig
        x = x_orig.detach()
        order = list(range(x.dim()))
        order[self.ch_axis], order[0] = 0, self.ch_axis
        y = x.permute(order).to(self.min_val.dtype).flatten(start_dim=1)
        min_val, max_val = y.aminmax(dim=1)
        if self.min_val.numel() and self.max_val.numel():
            min_val, max_val = min_val.minimum(self.min_val), max_val.maximum(self.max_val)
        self.min_val.resize_(min_val.shape)
        self.max_val.resize_(max_val.shape)
        self.min_val.copy_(min_val)
        self.max_val.copy_(max_val)
        return x_orig

    def calculate_qparams(self):
        """(scales, zero_points) of each channel seen so far."""
        return self._calculate_qparams(self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"

    def reset_min_max_vals(self):
        """Forget the values seen."""
        self.min_val = creation.tensor([])
        self.max_val = creation.tensor([])


class PlaceholderObserver(ObserverBase):
    """An observer that observes nothing and only carries a dtype to `from_float` (matches
    `torch.ao.quantization.PlaceholderObserver`): the dynamic activations' one."""

    def __init__(self, dtype=_dtype.float32, custom_op_name="", compute_dtype=None,
                 quant_min=None, quant_max=None, qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype=dtype, is_dynamic=is_dynamic)
        self.qscheme = q.per_tensor_affine if qscheme is None else qscheme
        self.quant_min, self.quant_max = quant_min, quant_max
        self.eps = _EPS if eps is None else eps
        self.custom_op = custom_op_name
        if compute_dtype:
            _warn("Please use `is_dynamic` instead of `compute_dtype`.                   "
                          "  `compute_dtype` will be deprecated in a future release             "
                          "        of PyTorch.", stacklevel=2)

    def forward(self, x):
        return x

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")


class NoopObserver(ObserverBase):
    """An observer that passes its dtype on and observes nothing (matches `NoopObserver`)."""

    def __init__(self, dtype=_dtype.float16, custom_op_name=""):
        super().__init__(dtype=dtype, is_dynamic=False)
        self.custom_op = custom_op_name

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for NoopObserver")


def _is_activation_post_process(module) -> bool:
    """Whether module is an observer (what `convert` strips)."""
    return isinstance(module, ObserverBase)


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_placeholder_observer = PlaceholderObserver
default_weight_observer = MinMaxObserver.with_args(dtype=_dtype.qint8,
                                                   qscheme=q.per_tensor_symmetric)
weight_observer_range_neg_127_to_127 = MinMaxObserver.with_args(
    dtype=_dtype.qint8, qscheme=q.per_tensor_symmetric, quant_min=-127, quant_max=127,
    eps=2 ** -12)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=_dtype.qint8, qscheme=q.per_channel_symmetric)
per_channel_weight_observer_range_neg_127_to_127 = PerChannelMinMaxObserver.with_args(
    dtype=_dtype.qint8, qscheme=q.per_channel_symmetric, quant_min=-127, quant_max=127,
    eps=2 ** -12)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=_dtype.quint8, quant_min=0, quant_max=255, is_dynamic=True)
default_float_qparams_observer = PerChannelMinMaxObserver.with_args(
    dtype=_dtype.quint8, qscheme=q.per_channel_affine_float_qparams, ch_axis=0)
