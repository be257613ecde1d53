"""torch.nn.functional's normalisation functions: batch, instance, layer, group, RMS and local
response norm, and `normalize` (re-exported by `ember.nn.functional`).

Their kernels are nn_ops.py's `Normalize` ops; the argument checks PyTorch makes before them
(NOTE [batch_norm checks] in ember/ops/nn_native.py) are shared with the `torch.native_*`
kernels there.
"""

import math

from ember import _dtype
from ember._backend import xp as _xp
from ember._registry import FUNCTIONS, torch_function
from ember._tensor import Tensor, short_name as _short_name
from ember.ops import nn_ops as _nn
from ember.ops._opmath import in_opmath as _in_opmath, is_half as _is_half
from ember.ops.nn_native import (
    check_batch_norm as _check_batch_norm, check_group_norm_affine as _check_group_norm_affine,
    check_norm_dtypes as _check_norm_dtypes)
from ember.ops.conv import _named
from ember.ops.conversion import in_suggested_format
from ember.ops.norm_affine import channel_affine
from ember.ops.shape import View
from ember.ops.padding import pad
from ember.ops.pool_avg import avg_pool2d, avg_pool3d


def _update_running(running: Tensor, batch: _xp.ndarray, momentum: float) -> None:
    """running ← (1 - momentum)·running + momentum·batch, in place (a buffer, no graph)."""
    new = (1 - momentum) * running._data + momentum * batch.reshape(running._data.shape)
    _xp.copyto(running._data, new, casting="unsafe")
    running._version_counter.value += 1


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims (matches
    `torch.nn.functional.batch_norm`)."""
    if training:
        if input.ndim == 0:  # torch's Python check indexes the empty size
            raise IndexError("tuple index out of range")
        if input.shape[0] * math.prod(input.shape[2:]) == 1:
            raise ValueError("Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
    if input.numel() == 0:
        return _empty_batch_norm(input, weight, bias)
    channels = input.shape[1] if input.ndim > 1 else 0  # torch.batch_norm counts 0 for 0-d/1-d
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
        _check_channel_sizes(channels, **{name: stat})
    _check_channel_sizes(channels, weight=weight, bias=bias)
    _check_batch_norm(input, weight, bias, running_mean, running_var, training)
    axes = (0,) + tuple(range(2, input.ndim))
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        y, mean, var = _nn.normalize(input, weight, bias, axes, eps, affine_shape)
        if training and running_mean is not None:
            n = input.numel() // channels
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (n / max(n - 1, 1)), momentum)
    else:
        mean = running_mean._data.reshape(affine_shape)
        var = running_var._data.reshape(affine_shape)
        y = _nn.normalize(input, weight, bias, axes, eps, affine_shape, mean, var)[0]
    # PyTorch's kernel writes a fresh output in the format the input's strides suggest
    if type(y) is Tensor:  # (not a vmap's batched tensor)
        y._data = in_suggested_format(y._data, input._data)
    return y


def _check_channel_sizes(channels, **per_channel):
    """Each given per-channel tensor has one element per channel (torch's message if not)."""
    for name, tensor in per_channel.items():
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")


def _empty_batch_norm(input: Tensor, weight, bias) -> Tensor:
    """NOTE [batch_norm of nothing]: PyTorch returns input·w[0] + b[0] for an empty input (a
    new tensor in the graph, running statistics untouched); w[0] raises IndexError when there
    are no channels either."""
    out = input.clone()
    if weight is not None:
        out = out * weight[0]
    if bias is not None:
        out = out + bias[0]
    return out


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its spatial dims (matches
    `torch.nn.functional.instance_norm`)."""
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input "
                         f"size {input.shape}")
    if _check_instance_norm(input, running_mean, running_var, weight, bias, use_input_stats):
        return _empty_instance_norm(input, running_mean, running_var, weight, bias)
    channels = input.shape[1]
    axes = tuple(range(2, input.ndim))
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        count = math.prod(input.shape[2:])
        y, mean, var = _nn.normalize(input, weight, bias, axes, eps, affine_shape)
        if running_mean is not None:
            _update_running(running_mean, mean.mean(axis=0), momentum)
            unbiased = var * (count / max(count - 1, 1))
            _update_running(running_var, unbiased.mean(axis=0), momentum)
        return y
    mean = running_mean._data.reshape(affine_shape)
    var = running_var._data.reshape(affine_shape)
    return _nn.normalize(input, weight, bias, axes, eps, affine_shape, mean, var)[0]


def _check_instance_norm(input, running_mean, running_var, weight, bias, use_input_stats):
    """NOTE [instance_norm is batch_norm]: PyTorch runs batch_norm on the input viewed as
    (1, N·C, *) with each per-channel argument repeated N times; its errors are that call's.
    Returns whether the input is empty (handled apart)."""
    if not use_input_stats and (running_mean is None or running_var is None):
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    if input.ndim < 2:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions" if input.ndim == 0
                         else "Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)")
    named = (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
             ("bias", bias))
    for _, t in named:
        if t is not None and t.ndim > 1:
            raise RuntimeError("Number of dimensions of repeat dims can not be smaller than "
                               "number of dimensions of tensor")
    if input.numel() == 0:
        return True
    n, channels = input.shape[:2]
    for name, t in named:
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {n * channels} elements not "
                               f"{n * t.numel()}")
    _check_batch_norm(input, weight, bias, running_mean, running_var, use_input_stats)
    return False


def _empty_instance_norm(input, running_mean, running_var, weight, bias):
    """instance_norm of an empty input: batch_norm's empty result, after PyTorch's view of the
    repeated running statistics back to (N, C) (which fails when their size is not C) and their
    mean over N copied back (NaN when N is 0)."""
    n, channels = input.shape[:2]
    if running_mean is not None and running_mean.numel() != channels:
        raise RuntimeError(f"shape '[{n}, {channels}]' is invalid for input of size "
                           f"{n * running_mean.numel()}")
    for stat in (running_mean, running_var):
        if stat is not None and n == 0 and stat.dtype.is_floating_point:
            stat._data.fill(float("nan"))
            stat._version_counter.value += 1
    return _empty_batch_norm(input, weight, bias)


@torch_function()
def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims (matches
    `torch.nn.functional.layer_norm`)."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    for name, value in (("weight", weight), ("bias", bias)):  # torch checks these first
        if isinstance(value, Tensor) and tuple(value.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(value.shape)} and normalized_shape "
                               f"= {list(normalized_shape)}")
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}")
    _check_norm_dtypes(input, (weight, bias))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError('"LayerNormKernelImpl" not implemented for '
                                  f"'{_short_name(input.dtype)}'")
    axes = tuple(range(input.ndim - k, input.ndim))
    y = _nn.normalize(input, weight, bias, axes, eps, normalized_shape, op=_nn.NormalizeLayer)[0]
    if type(y) is Tensor and not y._data.flags.c_contiguous:  # (not a vmap's batched tensor)
        y._data = _xp.ascontiguousarray(y._data)  # (PyTorch's kernel writes C order)
    return y


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each group of channels per sample (matches `torch.nn.functional.group_norm`):
    torch's Python checks, then `torch.group_norm`."""
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    # (sic: PyTorch checks the batch size of (N·C // groups, groups, *): a tensor num_groups
    # makes its `== 1` a tensor, a 0-d tensor 0 a RuntimeError, an int 0 a ZeroDivisionError)
    size = [input.shape[0] * input.shape[1] // num_groups, num_groups, *input.shape[2:]]
    if math.prod(size[2:]) * size[0] == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{size}")
    y = FUNCTIONS["group_norm"](input, num_groups, weight, bias, eps)
    if type(y) is Tensor:  # (not a vmap's batched tensor)
        y._data = in_suggested_format(y._data, input._data)  # (channels-last in, out)
    return y


@torch_function("group_norm")
def _group_norm(input: Tensor, num_groups: int, weight=None, bias=None,
                eps: float = 1e-5) -> Tensor:
    """group_norm's kernel with its checks (matches `torch.group_norm`)."""
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and num_groups="
                           f"{num_groups}")
    _check_group_norm_affine(input, weight, bias, channels)
    _check_norm_dtypes(input, (weight, bias))
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError('"GroupNormKernelImpl" not implemented for '
                                  f"'{_short_name(input.dtype)}'")
    if _is_half(input.dtype):  # affine map included (NOTE [opmath] in ember/ops/_opmath.py)
        return _in_opmath(_group_norm, input, num_groups, weight, bias, eps)
    grouped = input.reshape(n, num_groups, channels // num_groups * math.prod(input.shape[2:]))
    y = _nn.normalize(grouped, None, None, (2,), eps, (1,), op=_nn.NormalizeGroup)[0]
    if weight is None and bias is None:  # (the last node is named as torch's group norm's)
        return _named(View, "NativeGroupNormBackward0").apply(y, tuple(input.shape))
    y = y.reshape(input.shape)
    if y.dtype in (_dtype.float32, _dtype.float64) and all(
            p is None or p.dtype is y.dtype for p in (weight, bias)):
        if weight is None:  # y·1 + b is y + b, bit for bit
            weight = Tensor._make(_xp.ones(channels, dtype=y._data.dtype))
        return channel_affine(y, weight, bias)
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(affine_shape)
    if bias is not None:
        y = y + bias.reshape(affine_shape)
    return y


@torch_function()
def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    """x / √(mean(x²) + ε) over the last dims, times weight (matches
    `torch.nn.functional.rms_norm`)."""
    normalized_shape = tuple(normalized_shape)
    _check_normalized_shape(input, normalized_shape, weight)
    dims = tuple(range(-len(normalized_shape), 0))
    if _is_half(input.dtype):  # in float32, eps too, weight included (NOTE [opmath])
        return _in_opmath(rms_norm, input, normalized_shape, weight, eps)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f'"rms_norm" not implemented for \'{_short_name(input.dtype)}\'')
    if eps is None:
        eps = float(_xp.finfo(input._data.dtype).eps)
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    if weight is None:
        return y
    y = y * weight
    return y if y.dtype == input.dtype else y.to(input.dtype)  # PyTorch: type_as(input)


def _check_normalized_shape(input: Tensor, shape, weight) -> None:
    """PyTorch's checks of an RMS norm's normalized_shape against the input and weight."""
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    if input.ndim < len(shape):
        raise ValueError(f"Input tensor must have at least {len(shape)} dimensions, but got "
                         f"{input.ndim}")
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "  # (sic: "[*2")
            f"[*{', '.join(str(d) for d in shape)}], but got input of size{list(input.shape)}")


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalize across nearby channels (matches `torch.nn.functional.local_response_norm`):
    x / (k + α·mean of x² over `size` channels)^β, averaged by an avg pool over channels."""
    if input.ndim < 3:  # (sic: PyTorch's message has the run of spaces)
        raise ValueError("Expected 3D or higher dimensionality                          input "
                         f"(got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    before, after = size // 2, (size - 1) // 2
    squared = input * input
    if input.ndim == 3:
        padded = pad(squared.unsqueeze(1), (0, 0, before, after))
        div = avg_pool2d(padded, (size, 1), stride=1).squeeze(1)
    else:
        shape = input.shape
        padded = pad(squared.view(shape[0], 1, shape[1], shape[2], -1),
                     (0, 0, 0, 0, before, after))
        div = avg_pool3d(padded, (size, 1, 1), stride=1).squeeze(1).view(shape)
    return input / (div * alpha + k) ** beta


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """input / max(‖input‖_p, eps) along dim (matches `torch.nn.functional.normalize`)."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps)
    return input / denom.expand_as(input)
