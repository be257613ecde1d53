"""The normalisation kernels under torch.nn.functional, as PyTorch exposes them in `torch.*`:
native_batch_norm / _native_batch_norm_legit, native_layer_norm and native_group_norm, which
return the normalised tensor with the statistics they used (mean and 1/√(var + ε)).

They run nn_ops.py's `Normalize` op, so their gradients (and node names) are F.batch_norm's,
F.layer_norm's and F.group_norm's. The aten-only kernels `_batch_norm_with_update` and
`native_dropout_backward` (reached through `ember.ops.aten`) are here too.
"""

import math
from ember._backend import get_array_module, xp
from ember._dtype import result_type
from ember._registry import op
from ember._tensor import Tensor, short_name
from ember.ops._opmath import in_opmath, opmath_dtype
from ember.ops._util import check_broadcast
from ember.ops.nn_ops import MaskScale, NormalizeGroup, NormalizeLayer, normalize


def _rstd(var, eps, dtype):
    """1/√(var + ε) as an array of dtype."""
    return (1.0 / xp.sqrt(var + eps)).astype(dtype, copy=False)


def _update(running, batch, momentum):
    """running ← (1 - momentum)·running + momentum·batch, in place (a buffer, no graph)."""
    if running is None:
        return
    new = (1 - momentum) * running._data + momentum * batch.reshape(running._data.shape)
    xp.copyto(running._data, new, casting="unsafe")
    running._version_counter.value += 1


_SIZE_OF_0D = ("SmallVector unable to grow. Requested capacity (18446744073709551615) is larger "
               "than maximum value for size type (4294967295)")
_NO_DIM_1 = "Dimension out of range (expected to be in range of [-1, 0], but got 1)"


def check_batch_norm(input, weight, bias, running_mean, running_var, training: bool) -> None:
    """PyTorch's checks of a batch norm's arguments, in its order (NOTE [batch_norm checks])."""
    if input.ndim == 0:  # PyTorch trips over size(1) of a 0-d tensor with this message
        raise RuntimeError(_SIZE_OF_0D)
    if training and input.ndim == 1:  # training asks for size(1) before the dtype
        raise IndexError(_NO_DIM_1)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise NotImplementedError(f'"batch_norm" not implemented for \'{short_name(input.dtype)}\'')
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    check_norm_dtypes(input, (weight, bias, running_mean, running_var))
    if input.ndim == 1:
        raise IndexError(_NO_DIM_1)
    if training and input.numel() == 0:
        raise RuntimeError("input tensor must have at least one element, but got input_sizes = "
                           f"{list(input.shape)}")
    for stat in (running_mean, running_var):
        if stat is not None and stat.ndim != 1:
            raise RuntimeError(f"TensorAccessor expected 1 dims but tensor has {stat.ndim}")
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")


def check_norm_dtypes(input, parameters) -> None:
    """NOTE [batch_norm checks] (layer_norm's too): parameters of another dtype than the input
    are a "mixed" call when the first given one differs; then all must be float32 and the input
    16-bit. Otherwise each must have the input's dtype."""
    given = [p for p in parameters if p is not None]
    if not given or all(p.dtype == input.dtype for p in given):
        return
    if given[0].dtype != input.dtype:
        if any(p.dtype.name != "float32" for p in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if input.dtype.name not in ("float16", "bfloat16"):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        return
    wrong = next(p for p in given if p.dtype != input.dtype)
    raise RuntimeError(f"expected scalar type {short_name(input.dtype)} but found "
                       f"{short_name(wrong.dtype)}")


def _per_channel(tensor, channels: int, name: str):
    """A per-channel argument as PyTorch's kernel reads it: the first `channels` elements of its
    data. PyTorch reads past the end of a shorter one (undefined); ember refuses that."""
    if tensor is None or (tensor.ndim == 1 and tensor.shape[0] == channels):
        return tensor
    if tensor.numel() < channels:
        raise RuntimeError(f"{name} should contain {channels} elements not {tensor.numel()}")
    return tensor.reshape(-1)[:channels]


@op
def native_batch_norm(input, weight, bias, running_mean, running_var, training: bool,
                      momentum: float, eps: float):
    """(y, mean, 1/√(var + ε)) of batch norm; in eval mode the statistics are empty (matches
    `torch.native_batch_norm`)."""
    check_batch_norm(input, weight, bias, running_mean, running_var, training)
    channels = input.shape[1]
    weight, bias = _per_channel(weight, channels, "weight"), _per_channel(bias, channels, "bias")
    running_mean = _per_channel(running_mean, channels, "running_mean")
    running_var = _per_channel(running_var, channels, "running_var")
    axes = (0,) + tuple(range(2, input.ndim))
    affine = (1, channels) + (1,) * (input.ndim - 2)
    empty = get_array_module(input._data).empty((0,), dtype=input._data.dtype)
    if not training:
        mean = running_mean._data.reshape(affine)
        var = running_var._data.reshape(affine)
        y = normalize(input, weight, bias, axes, eps, affine, mean, var)[0]
        return y, Tensor._make(empty), Tensor._make(empty.copy())
    y, mean, var = normalize(input, weight, bias, axes, eps, affine)
    n = input.numel() // channels
    _update(running_mean, mean, momentum)
    # the unbiased variance: n/(n - 1) is 0/0 for one value per channel, NaN as in torch
    _update(running_var, var * (n / (n - 1) if n > 1 else math.nan), momentum)
    dtype = input._data.dtype
    return (y, Tensor._make(mean.reshape(channels).astype(dtype, copy=False)),
            Tensor._make(_rstd(var, eps, dtype).reshape(channels)))


@op
def _native_batch_norm_legit(input, weight, bias, *args):
    """native_batch_norm with or without running statistics: (input, weight, bias,
    running_mean, running_var, training, momentum, eps) or (input, weight, bias, training,
    momentum, eps) (matches `torch._native_batch_norm_legit`)."""
    if len(args) == 3:
        args = (None, None) + tuple(args)
    else:
        _require_statistics("_native_batch_norm_legit", *args[:2])
    return native_batch_norm(input, weight, bias, *args)


def _require_statistics(name: str, running_mean, running_var) -> None:
    """The overloads taking running statistics take tensors, never None (a TypeError)."""
    for position, (arg, value) in enumerate((("running_mean", running_mean),
                                             ("running_var", running_var)), start=4):
        if value is None:
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            "not NoneType")


def _batch_norm_with_update(input, weight, bias, running_mean, running_var, momentum: float,
                            eps: float):
    """Training-mode batch norm updating the running statistics in place: (y, mean,
    1/√(var + ε), reserve), reserve empty on the CPU (matches `aten._batch_norm_with_update`)."""
    for number, (name, value) in enumerate((("running_mean", running_mean),
                                            ("running_var", running_var)), start=3):
        if value is None:  # an aten op: torch's dispatcher words it so
            raise RuntimeError("Expected a proper Tensor but got None (or an undefined Tensor in "
                               f"C++) for argument #{number} '{name}'")
    if input.ndim == 0:  # the same overflow as native_batch_norm's, raised as a ValueError
        raise ValueError(_SIZE_OF_0D)
    outputs = native_batch_norm(input, weight, bias, running_mean, running_var, True, momentum,
                                eps)
    reserve = get_array_module(input._data).empty((0,), dtype=xp.uint8)
    return outputs + (Tensor._make(reserve),)


class DropoutBackward(MaskScale):
    """y = gy·mask·scale (dropout's backward as an op);  gx = gx_y·mask·scale."""

    node_name = "NativeDropoutBackwardBackward0"


def native_dropout_backward(grad_output, mask, scale: float):
    """grad_output·mask·scale, 16-bit floats computed in float32 and rounded once (matches
    `aten.native_dropout_backward`)."""
    check_broadcast(tuple(grad_output.shape), tuple(mask.shape))
    if not grad_output.dtype.is_floating_point or grad_output.shape != mask.shape or \
            result_type(grad_output, mask) != grad_output.dtype:
        # integers (the scale promotes to a float), a wider or broadcast mask: the products
        return grad_output * mask * scale
    dtype = opmath_dtype(grad_output._data.dtype)
    factor = mask._data.astype(dtype) * dtype.type(scale)
    return in_opmath(lambda g: DropoutBackward.apply(g, factor), grad_output)


@op
def native_layer_norm(input, normalized_shape, weight, bias, eps: float):
    """(y, mean, 1/√(var + ε)) of layer norm, the statistics shaped (*, 1, ..., 1) (matches
    `torch.native_layer_norm`)."""
    shape = tuple(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y, mean, var = normalize(input, weight, bias, axes, eps, shape, op=NormalizeLayer)
    dtype = input._data.dtype
    return y, Tensor._make(mean.astype(dtype, copy=False)), Tensor._make(_rstd(var, eps, dtype))


def check_group_norm_affine(input, weight, bias, channels: int) -> None:
    """group norm's weight and bias: vectors of one element per channel, else PyTorch's error."""
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(input.shape)}")


@op
def native_group_norm(input, weight, bias, N: int, C: int, HxW: int, group: int, eps: float):
    """(y, mean, 1/√(var + ε)) of group norm, the statistics shaped (N, group) and, as in
    PyTorch, differentiable (matches `torch.native_group_norm`)."""
    check_group_norm_affine(input, weight, bias, C)
    if input.dtype.is_floating_point and input._data.dtype.itemsize == 2:
        # float16/bfloat16: PyTorch normalises and applies the affine map in float32 and
        # rounds once at the end; rounding the normalised values first differs in the last bit
        wide = [None if t is None else t.float() for t in (input, weight, bias)]
        outputs = native_group_norm(*wide, N, C, HxW, group, eps)
        return tuple(t.to(input.dtype) for t in outputs)
    grouped = input.reshape(N, group, C // group * HxW)
    y = normalize(grouped, None, None, (2,), eps, (1,), op=NormalizeGroup)[0].reshape(input.shape)
    affine = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(affine)
    if bias is not None:
        y = y + bias.reshape(affine)
    mean = grouped.mean(2)
    rstd = (grouped.var(2, unbiased=False) + eps).rsqrt()
    return y, mean, rstd
