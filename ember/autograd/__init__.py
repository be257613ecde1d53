"""Automatic differentiation: backward, grad, Function, grad-mode switches, gradcheck."""

from ember.autograd import forward_ad, functional, grad_mode, graph
from ember.autograd.anomaly_mode import (detect_anomaly, is_anomaly_enabled,
                                         set_detect_anomaly)
from ember.autograd.function import Function, once_differentiable
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.autograd.gradients import backward, grad
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)
from ember.autograd.variable import Variable
from ember.autograd._lazy import __getattr__  # noqa: F401 (profiler, profiler_util: on use)


__all__ = ["Function", "backward", "grad", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "once_differentiable",
           "grad_mode", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "Variable", "functional", "graph", "forward_ad"]
