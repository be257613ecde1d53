"""Fractional max pooling (matches `torch.nn.functional.fractional_max_pool2d/3d`): max pooling
whose windows start at pseudo-random, non-uniform strides, so the output can be any size.

NOTE [Fractional pooling windows]
For one axis of input size n, output size m and window k, torch draws a sample u in [0, 1) per
(batch, channel) and starts window i at
    ⌊(i + u)·α⌋ − ⌊u·α⌋  for i < m − 1,   n − k for the last one,   α = (n − k)/(m − 1),
computed in the input's floating dtype. Given the same samples (`_random_samples`), ember picks
the same windows, the same maxima and the same argmax indices (the first maximum of each
window, as torch scans it). The 2-d op takes the width's sample from slot 0 and the height's from
slot 1; the 3-d op takes (time, height, width) from slots (0, 1, 2).
"""

import math

from ember._backend import get_array_module, xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable
from ember.ops.creation import rand


def _window_starts(samples, in_size, out_size, kernel):
    """(N, C, out_size) window starts for one axis (see the NOTE)."""
    dtype = samples.dtype
    starts = xp.empty(samples.shape + (out_size,), dtype=xp.int64)
    if out_size > 1:
        alpha = dtype.type(in_size - kernel) / dtype.type(out_size - 1)
        steps = xp.arange(out_size - 1, dtype=dtype)
        scaled = ((steps + samples[..., None]) * alpha).astype(xp.int64)
        starts[..., :-1] = scaled - (samples * alpha).astype(xp.int64)[..., None]
    if out_size > 0:
        starts[..., -1] = in_size - kernel
    return starts


class FractionalMaxPool(Op):
    """out = max over each fractional window; the gradient goes to each window's argmax."""

    @staticmethod
    def forward(ctx, input, kernel_size, output_size, samples, sample_slots):
        x = input._data
        if x.ndim == len(kernel_size) + 1:  # unbatched: a batch of one, inside the op as torch
            x = x[None]
        n, c, *spatial = x.shape
        plane = x.reshape(n, c, -1)
        # flat index of each window element: sum over axes of (start + offset) · axis stride
        strides = [1] * len(spatial)
        for d in range(len(spatial) - 2, -1, -1):
            strides[d] = strides[d + 1] * spatial[d + 1]
        index = 0
        nd = len(spatial)
        for d, (size, out, k, slot) in enumerate(zip(spatial, output_size, kernel_size,
                                                     sample_slots)):
            starts = _window_starts(samples._data[..., slot], size, out, k)
            k = max(k, 1)  # an empty window (k <= 0) is its start, valued -inf below
            positions = starts[..., :, None] + xp.arange(k)  # (N, C, out, k)
            # place this axis' (out, k) pair at its own slots of the (out..., k...) grid
            shape = [n, c] + [1] * (2 * nd)
            shape[2 + d], shape[2 + nd + d] = out, k
            index = index + (positions * strides[d]).reshape(shape)
        window = math.prod(max(k, 1) for k in kernel_size)
        index = index.reshape(n, c, -1, window)
        if min(kernel_size) > 0:
            values = xp.take_along_axis(plane, index.reshape(n, c, -1), axis=2)
        else:  # NOTE: PyTorch's empty windows are -inf at their start index (maybe past the end)
            values = xp.full(index.shape, -xp.inf, dtype=plane.dtype)
        values = values.reshape(n, c, -1, window)
        best = xp.argmax(values, axis=3)
        indices = xp.take_along_axis(index, best[..., None], axis=3)[..., 0]
        out = xp.take_along_axis(values, best[..., None], axis=3)[..., 0]
        out_shape = input._data.shape[:-len(spatial)] + tuple(output_size)
        ctx.geometry = (x.shape, input._data.shape)
        ctx.indices = indices
        return out.reshape(out_shape), indices.reshape(out_shape)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_indices=None):
        shape, input_shape = ctx.geometry
        n, c = shape[0], shape[1]
        plane_size = int(xp.prod(shape[2:]))
        go = grad_output._data.reshape(n, c, -1)
        module = get_array_module(go)
        flat = (module.arange(n * c).reshape(n, c, 1) * plane_size + ctx.indices).reshape(-1)
        summed = module.bincount(flat, weights=go.reshape(-1), minlength=n * c * plane_size)
        return summed.reshape(input_shape).astype(go.dtype), None, None, None, None


class FractionalMaxPool2d(FractionalMaxPool):
    node_name = "FractionalMaxPool2DBackward0"


class FractionalMaxPool3d(FractionalMaxPool):
    node_name = "FractionalMaxPool3DBackward0"


def _pair(value, nd, name):
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_floating_point() or value.is_complex():
            position = {"kernel_size": 2, "output_size": 3}.get(name, 3)
            raise TypeError(f"fractional_max_pool{nd}d(): argument '{name}' (position "
                            f"{position}) must be tuple of ints, not Tensor")
        value = int(value.item())  # torch's parser takes a one-element integer/bool tensor
    if isinstance(value, (tuple, list)):
        if name != "output_ratio" and value and not isinstance(value[0], (int, xp.integer, Tensor)):
            position = {"kernel_size": 2, "output_size": 3}[name]
            raise TypeError(f"fractional_max_pool{nd}d(): argument '{name}' (position "
                            f"{position}) must be tuple of ints, but found element of type "
                            f"{type(value[0]).__name__} at pos 0")
        if len(value) != nd:
            raise ValueError(f"fractional_max_pool{nd}d requires {name} to either be a single "
                             f"Int or tuple of Ints.")
        return tuple(_pair(v, 1, name)[0] for v in value)
    return (value,) * nd


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                         _random_samples, nd):
    """NOTE [fractional pooling's order]: torch.nn.functional works out the output size from a
    ratio (len() of it first) and draws the samples in the input's dtype (refusing integers)
    before its kernel checks the rank and sizes."""
    if output_size is None and output_ratio is None:
        raise ValueError(f"fractional_max_pool{nd}d requires specifying either an output_size "
                         "or an output_ratio")
    if output_size is None:
        if len(output_ratio) > nd:  # (a float ratio: TypeError from len(), as in PyTorch)
            raise ValueError(f"fractional_max_pool{nd}d requires output_ratio to either be a "
                             "single Int or tuple of Ints.")
        ratio = _pair(output_ratio, nd, "output_ratio")
        output_size = tuple(int(input.size(d - nd) * r) for d, r in enumerate(ratio))
    samples = _random_samples
    if samples is None:
        batch = 1 if input.dim() == nd + 1 else input.size(0)
        samples = rand(batch, input.size(-nd - 1), nd, dtype=input.dtype)
    dims = input.dim()
    if dims > nd + 2:
        raise RuntimeError(f"fractional_max_pool{nd}d(): Expected {nd + 1}D or {nd + 2}D tensor, "
                           f"but got: {list(input.shape)}")
    unbatched = dims == nd + 1
    kernel = _pair(kernel_size, nd, "kernel_size")
    spatial = tuple(input.shape[1 if unbatched else 2:])
    output_size = _pair(output_size, nd, "output_size")
    if min(output_size) < 0:
        shape = list(input.shape[:dims - nd]) + list(output_size)
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(output_size)}: "
                           f"{shape}")
    for axis, (size, out, k) in enumerate(zip(spatial, output_size, kernel)):
        if out + k - 1 > size:
            name = ("time", "height", "width")[3 - nd + axis]
            raise RuntimeError(f"fractional_max_pool{nd}d(): pool {name} {k} too large "
                               f"relative to input {name} {size}")
    op, slots = (FractionalMaxPool2d, (1, 0)) if nd == 2 else (FractionalMaxPool3d, (0, 1, 2))
    out, indices = op.apply(input, kernel, output_size, samples, slots)
    return (out, indices) if return_indices else out


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-d fractional max pooling (matches `torch.nn.functional.fractional_max_pool2d`)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-d fractional max pooling (matches `torch.nn.functional.fractional_max_pool3d`)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 3)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]
