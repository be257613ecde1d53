"""Quantization configurations: which observers make a layer's activation and weight
parameters (matches `torch.ao.quantization.qconfig`'s QConfig and the default configs of
eager dynamic quantization)."""


from ember._warnings import warn as _warn
from collections import namedtuple

from ember import _dtype
from ember.ao.quantization.observer import (PlaceholderObserver, default_dynamic_quant_observer,
                                            default_float_qparams_observer, default_observer,
                                            default_per_channel_weight_observer,
                                            default_placeholder_observer,
                                            default_weight_observer)
from ember.nn.modules.module import Module

__all__ = ["QConfig", "QConfigDynamic", "default_qconfig", "default_per_channel_qconfig",
           "default_dynamic_qconfig", "float16_dynamic_qconfig", "float16_static_qconfig",
           "per_channel_dynamic_qconfig", "float_qparams_weight_only_qconfig", "QConfigAny",
           "qconfig_equals"]


class QConfig(namedtuple("QConfig", ["activation", "weight"])):
    """The observer factories (classes or `with_args` partials) for a layer's activation and
    weight (matches `torch.ao.quantization.QConfig`)."""

    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError(
                "QConfig received observer instance, please pass observer class instead. "
                "Use MyObserver.with_args(x=1) to override arguments to constructor if needed")
        return super().__new__(cls, activation, weight)


class QConfigDynamic(namedtuple("QConfigDynamic", ["activation", "weight"])):
    """The deprecated dynamic form of QConfig (matches `QConfigDynamic`)."""

    __slots__ = ()

    def __new__(cls, activation=None, weight=None):
        _warn("`QConfigDynamic` is going to be deprecated in PyTorch 1.12, please use "
                      "`QConfig` instead", FutureWarning, stacklevel=2)
        if isinstance(weight, Module):
            raise ValueError(
                "QConfigDynamic received observer instance, please pass observer class "
                "instead. Use MyObserver.with_args(x=1) to override arguments to constructor if "
                "needed")
        return super().__new__(cls, activation, weight)


QConfigAny = QConfig  # torch's alias for `QConfig | None`

default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_per_channel_qconfig = QConfig(activation=default_observer,
                                      weight=default_per_channel_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                  weight=default_weight_observer)
float16_dynamic_qconfig = QConfig(
    activation=PlaceholderObserver.with_args(dtype=_dtype.float16, is_dynamic=True),
    weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
float16_static_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=_dtype.float16),
                                 weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer,
                                            weight=default_float_qparams_observer)


def _assert_valid_qconfig(qconfig, mod) -> None:
    """PyTorch's check of a qconfig for a module (only transposed convolutions refuse some)."""
    if qconfig is None or qconfig.weight is None:
        return
    if type(mod).__name__.startswith("ConvTranspose") and type(
            qconfig.weight()).__name__.startswith("PerChannel"):
        raise AssertionError(
            "Per channel weight observer is not supported yet for ConvTranspose{n}d.")


def qconfig_equals(q1, q2) -> bool:
    """Whether two qconfigs make the same observers (their factories compare equal)."""
    if q1 is None or q2 is None:
        return q1 is q2
    return all(_partial_equals(a, b) for a, b in zip(q1, q2))


def _partial_equals(a, b) -> bool:
    """Whether two observer factories make the same observer."""
    p1, p2 = getattr(a, "p", None), getattr(b, "p", None)
    if p1 is None or p2 is None:
        return a == b
    return p1.func == p2.func and p1.keywords == p2.keywords and p1.args == p2.args
