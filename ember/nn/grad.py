"""The gradients of convolutions with respect to their input and weight, as functions
(matches `torch.nn.grad`, also `torch.nn.functional.grad`).

Each differentiates the convolution itself: a convolution is linear in its input and in its
weight, so its gradient with respect to one does not depend on the value the other is
differentiated at, and a zero tensor of the asked size stands in for it. Under grad mode the
result is itself differentiable in weight/input and grad_output, as PyTorch's is.
"""

from ember import autograd
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops import conv as _conv
from ember.ops.creation import zeros

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _gradient(convolution, input, weight, grad_output, wrt_input, options):
    """d<convolution(input, weight), grad_output>/d(input or weight)."""
    given = weight if wrt_input else input
    graph = is_grad_enabled() and (given.requires_grad or grad_output.requires_grad)
    with autograd.enable_grad():
        free = (input if wrt_input else weight).requires_grad_()
        output = convolution(input, weight, None, *options)
    return autograd.grad(output, free, grad_output, create_graph=graph)[0]


def _input_gradient(convolution):
    def input_gradient(input_size, weight, grad_output, stride=1, padding=0, dilation=1,
                       groups=1):
        stand_in = zeros(tuple(input_size), dtype=grad_output.dtype)
        return _gradient(convolution, stand_in, weight, grad_output, True,
                         (stride, padding, dilation, groups))
    return input_gradient


def _weight_gradient(convolution):
    def weight_gradient(input, weight_size, grad_output, stride=1, padding=0, dilation=1,
                        groups=1):
        stand_in = zeros(tuple(weight_size), dtype=grad_output.dtype)
        return _gradient(convolution, input, stand_in, grad_output, False,
                         (stride, padding, dilation, groups))
    return weight_gradient


def _named(fn, name, what):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The gradient of {what} (matches `torch.nn.grad.{name}`)."
    return fn


conv1d_input = _named(_input_gradient(_conv.conv1d), "conv1d_input", "conv1d w.r.t. its input")
conv2d_input = _named(_input_gradient(_conv.conv2d), "conv2d_input", "conv2d w.r.t. its input")
conv3d_input = _named(_input_gradient(_conv.conv3d), "conv3d_input", "conv3d w.r.t. its input")
conv1d_weight = _named(_weight_gradient(_conv.conv1d), "conv1d_weight",
                       "conv1d w.r.t. its weight")
conv2d_weight = _named(_weight_gradient(_conv.conv2d), "conv2d_weight",
                       "conv2d w.r.t. its weight")
conv3d_weight = _named(_weight_gradient(_conv.conv3d), "conv3d_weight",
                       "conv3d w.r.t. its weight")
