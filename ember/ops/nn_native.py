"""The normalisation kernels under torch.nn.functional, as PyTorch exposes them in `torch.*`:
native_batch_norm / _native_batch_norm_legit, native_layer_norm and native_group_norm, which
return the normalised tensor with the statistics they used (mean and 1/√(var + ε)).

They run nn_ops.py's `Normalize` op, so their gradients (and node names) are F.batch_norm's,
F.layer_norm's and F.group_norm's. The aten-only kernels `_batch_norm_with_update` and
`native_dropout_backward` (reached through `ember.ops.aten`) are here too.
"""

from ember._backend import get_array_module, xp
from ember._registry import op
from ember._tensor import Tensor
from ember.ops._opmath import in_opmath, opmath_dtype
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
    running._version.value += 1


@op
def native_batch_norm(input, weight, bias, running_mean, running_var, training: bool,
                      momentum: float, eps: float):
    """(y, mean, 1/√(var + ε)) of batch norm; in eval mode the statistics are empty (matches
    `torch.native_batch_norm`)."""
    channels = input.shape[1]
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
    _update(running_var, var * (n / max(n - 1, 1)), momentum)
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
    return native_batch_norm(input, weight, bias, *args)


def _batch_norm_with_update(input, weight, bias, running_mean, running_var, momentum: float,
                            eps: float):
    """Training-mode batch norm updating the running statistics in place: (y, mean,
    1/√(var + ε), reserve), reserve empty on the CPU (matches `aten._batch_norm_with_update`)."""
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
    if not grad_output.dtype.is_floating_point:  # integers: the scale promotes to a float
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


@op
def native_group_norm(input, weight, bias, N: int, C: int, HxW: int, group: int, eps: float):
    """(y, mean, 1/√(var + ε)) of group norm, the statistics shaped (N, group) and, as in
    PyTorch, differentiable (matches `torch.native_group_norm`)."""
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
