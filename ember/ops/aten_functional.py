"""The aten-level forms of nn.functional ops that torch exposes at the top level: `torch.dropout`,
`torch.embedding`, `torch.batch_norm`, `torch.convolution`, `torch.grid_sampler`, ... (the
losses are in ember/ops/aten_losses.py).

NOTE [aten forms of the functional ops]
torch.nn.functional's Python functions check their arguments, then call these C++ functions,
whose arguments come in aten's order (`embedding(weight, indices)`, `batch_norm(input, weight,
bias, running_mean, running_var, ...)`), all required where aten has no default, with integer
enums for modes and reductions. Each face here turns its arguments into ember.nn.functional's
and calls it, so values and gradients are that function's; what differs is what F's Python
code refuses before aten sees it: aten checks a dropout probability with a RuntimeError (F: a
ValueError), normalises a batch of one value per channel, takes any padding_idx, and so on.
ember.nn.functional is found on use (`_functional`): importing ember.nn imports ember.ops, this
module included, before it defines its functions.
"""

import math

from ember._backend import xp
from ember._registry import torch_function
from ember._tensor import Tensor, short_name
from ember.autograd.function import Op
from ember.autograd.grad_mode import no_grad
from ember.ops.conv import conv1d, conv2d, conv3d
from ember.ops.conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from ember.ops.creation import empty_like, ones_like, zeros
from ember.ops.grid_sample import grid_sample
from ember.ops.grid_sampler import _names as _grid_modes
from ember.ops.nn_native import native_batch_norm, native_dropout_backward
# (_functional_vision imports only ember.ops and ember.autograd modules)
from ember.nn._functional_vision import affine_grid_generator as _grid_generator



def _functional():
    """ember.nn.functional, imported on first use (see NOTE)."""
    from ember.nn import functional
    return functional


def _norms():
    """ember.nn._functional_norm (F's batch and instance norm helpers), imported on use."""
    from ember.nn import _functional_norm
    return _functional_norm


def cpp_double(value: float) -> str:
    """A double as aten's messages print it (C++ streams: 6 significant digits, "2" for 2.0)."""
    return f"{value:g}"


# ---- dropout --------------------------------------------------------------------------------
def _check_probability(p: float) -> None:
    """aten's check of a dropout probability: a RuntimeError (F.dropout's is a ValueError)."""
    if not 0 <= p <= 1:
        raise RuntimeError(
            f"dropout probability has to be between 0 and 1, but got {cpp_double(p)}")


def _zeroed(input: Tensor, inplace: bool) -> Tensor:
    """aten's dropout at p = 1: input times a zero of its dtype (no draw, any rank)."""
    zero = zeros((), dtype=input.dtype)
    return input.mul_(zero) if inplace else input * zero


def _feature_dropout(input, p, train, inplace):
    """Whole (sample, channel) slices dropped; p = 1 zeroes before the rank is looked at."""
    _check_probability(p)
    if train and p == 1 and input.numel():
        return _zeroed(input, inplace)
    return _functional()._channel_dropout(input, p, train, inplace)


def _alpha(input, p, train, inplace, name):
    """F's alpha dropout (elements or channels by name) with aten's probability check."""
    _check_probability(p)
    return _functional()._alpha_dropout(input, p, train, inplace, name)


@torch_function()
def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Elements zeroed with probability p, the rest scaled by 1/(1-p), when train (matches
    `torch.dropout`; F.dropout without its ValueError)."""
    _check_probability(p)
    return _functional().dropout(input, p, train)


@torch_function()
def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """dropout written into input (matches `torch.dropout_`)."""
    _check_probability(p)
    return _functional().dropout(input, p, train, inplace=True)


@torch_function()
def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout of whole channels of an (N, C, ...) input (matches `torch.feature_dropout`)."""
    return _feature_dropout(input, p, train, False)


@torch_function()
def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """feature_dropout written into input (matches `torch.feature_dropout_`)."""
    return _feature_dropout(input, p, train, True)


@torch_function()
def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout keeping SELU's mean and variance (matches `torch.alpha_dropout`)."""
    return _alpha(input, p, train, False, "alpha_dropout")


@torch_function()
def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """alpha_dropout written into input (matches `torch.alpha_dropout_`)."""
    return _alpha(input, p, train, True, "alpha_dropout_")


@torch_function()
def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout of whole channels (matches `torch.feature_alpha_dropout`)."""
    return _alpha(input, p, train, False, "feature_alpha_dropout")


@torch_function()
def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """feature_alpha_dropout written into input (matches `torch.feature_alpha_dropout_`)."""
    return _alpha(input, p, train, True, "feature_alpha_dropout_")


class NativeDropout(Op):
    """y = x·mask·scale, the scale rounded to x's dtype first, as aten's `input.mul(mask)
    .mul_(scale)` computes it (a 16-bit x too); gx = native_dropout_backward(gy, mask,
    grad_scale)."""

    @staticmethod
    def forward(ctx, x, keep, scale, grad_scale):
        ctx.keep, ctx.grad_scale = keep, grad_scale
        dtype = x._data.dtype
        return x._data * keep.astype(dtype) * dtype.type(scale)

    @staticmethod
    def backward(ctx, gy):
        gx = native_dropout_backward(gy, Tensor._make(ctx.keep), ctx.grad_scale)
        return gx, None, None, None


@torch_function()
def native_dropout(input: Tensor, p: float, train) -> tuple:
    """(output, bool mask) of dropout; train=None trains, train=False gives a copy and an
    all-true mask (matches `torch.native_dropout`)."""
    if input.numel() == 0:  # aten returns the input itself and an empty "mask" of its dtype
        return input, empty_like(input)
    if train is False:
        keep = ones_like(input, dtype=bool)
        return NativeDropout.apply(input, keep._data, 1.0, 1.0), keep
    keep = empty_like(input, dtype=bool).bernoulli_(1.0 - p)  # bernoulli_'s check of 1 - p
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{short_name(input.dtype)}")
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    # aten's derivative reads train=None as not training: the gradient is not scaled then
    grad_scale = 1.0 if train is None else scale
    return NativeDropout.apply(input, keep._data, scale, grad_scale), keep


# ---- embedding ------------------------------------------------------------------------------
def _check_indices(indices: Tensor, name: str, position: int = 1) -> None:
    """aten's checkScalarTypes: indices are Long or Int."""
    if indices.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            f"Expected tensor for argument #{position} 'indices' to have one of the following "
            f"scalar types: Long, Int; but got {indices.type()} instead (while checking "
            f"arguments for {name})")


@torch_function()
def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight picked by indices (matches `torch.embedding`: weight first; a padding_idx
    outside [0, rows) marks no row, where F.embedding would wrap or refuse it)."""
    if weight.ndim != 2:  # aten looks at the weight before the indices (F: the other way)
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(indices, "embedding")
    padding = padding_idx if 0 <= padding_idx < weight.shape[0] else None
    return _functional().embedding(indices, weight, padding, None, 2.0, scale_grad_by_freq,
                                   sparse)


@torch_function()
def embedding_renorm_(input: Tensor, indices: Tensor, max_norm: float,
                      norm_type: float) -> Tensor:
    """Each row named in indices scaled to norm max_norm when its norm exceeds it, in place
    (matches `torch.embedding_renorm_`, row by row in sorted order as aten's loop goes)."""
    if input.ndim != 2:
        raise RuntimeError(f"Expected 2-dimensional tensor, but got {input.ndim}-dimensional "
                           "tensor for argument #1 'self' (while checking arguments for "
                           "embedding_renorm_)")
    _check_indices(indices, "embedding_renorm_", 2)
    input._check_inplace()
    previous = None
    with no_grad():
        for index in sorted(indices._data.reshape(-1).tolist()):
            if index != previous:  # a repeated index is renormed once
                _renorm_row(input.select(0, index), max_norm, norm_type)
            previous = index
    return input


def _renorm_row(row: Tensor, max_norm: float, norm_type: float) -> None:
    """row scaled by max_norm / (‖row‖ + 1e-7) when ‖row‖ > max_norm: the norm in row's
    dtype, the scale a double rounded to row's dtype before the product, as aten's kernel
    computes them (a 16-bit row is not multiplied by the float32 scale)."""
    norm = aten_norm(row, norm_type).item()
    if norm > max_norm:
        row.mul_(Tensor._make(xp.asarray(max_norm / (norm + 1e-7), dtype=row._data.dtype)))


def aten_norm(t: Tensor, p, *dim) -> Tensor:
    """t.norm(p, *dim) with the dtype error of aten's C++ norm, which torch's C++ ops call
    (Tensor.norm goes through linalg.vector_norm, which words it otherwise)."""
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {short_name(t.dtype)} instead.")
    return t.norm(p, *dim)


_BAG_MODES = ("sum", "mean", "max")


def _check_bag(weight, indices, offsets, mode, per_sample_weights, include_last_offset):
    """aten's embedding_bag checks, in its order (check_arguments in EmbeddingBag.cpp)."""
    _check_indices(indices, "embedding_bag")
    if offsets.dtype.name not in ("int64", "int32"):
        raise RuntimeError("Expected tensor for argument #1 'offsets' to have one of the "
                           f"following scalar types: Long, Int; but got {offsets.type()} "
                           "instead (while checking arguments for embedding_bag)")
    if not weight.dtype.is_floating_point:
        raise RuntimeError("Expected tensor for argument #1 'weight' to have one of the "
                           "following scalar types: Half, BFloat16, Float, Double; but got "
                           f"{weight.type()} instead (while checking arguments for "
                           "embedding_bag)")
    _check_offsets(indices, offsets)
    if per_sample_weights is not None and mode != 0:
        raise RuntimeError("embedding_bag: per_sample_weights only supported with mode='sum'")
    if include_last_offset and offsets.shape[0] < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if indices.ndim != 1:  # torch checks a 2-D one's offsets by rows, then sums its elements
        raise RuntimeError("embedding_bag: ember takes 1-D indices only (torch.embedding_bag "
                           f"reads {indices.ndim}-D ones inconsistently)")


def _check_offsets(indices, offsets) -> None:
    """The offsets start at 0 and end within the indices (aten prints offsets[0], a tensor)."""
    if not offsets.numel():
        return
    first, last = int(offsets._data[0]), int(offsets._data[-1])
    if first != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {first}\n"
                           f"[ {offsets.type()}{{}} ]")
    if last > indices.shape[0]:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length "
                           f"{indices.shape[0]} but got offsets[-1] of {last}")


@torch_function()
def embedding_bag(weight: Tensor, indices: Tensor, offsets: Tensor,
                  scale_grad_by_freq: bool = False, mode: int = 0, sparse: bool = False,
                  per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx=None) -> tuple:
    """(output, offset2bag, bag_size, max_indices) of the bags of indices starting at offsets,
    mode 0/1/2 = sum/mean/max (matches `torch.embedding_bag`).

    With include_last_offset the last offset is dropped and the last bag runs to the end of
    indices, as aten's offset2bag and bag_size have it (and its float64, max and padded-sum
    kernels; its float32 sum and mean kernels stop that bag's values at the last offset)."""
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{rows} "
                               f"through {rows - 1}, but got {padding_idx}")
        padding_idx %= rows
    _check_bag(weight, indices, offsets, mode, per_sample_weights, include_last_offset)
    starts = offsets[:offsets.shape[0] - bool(include_last_offset)]
    name = _BAG_MODES[mode]
    if mode == 2:  # aten's max backward ignores scale_grad_by_freq (F refuses both flags)
        scale_grad_by_freq = sparse = False
        if indices.numel() == 0:  # only empty bags, zeros in any mode (F's max trips on them)
            name = "sum"
    output = _functional().embedding_bag(indices, weight, starts, None, 2, scale_grad_by_freq,
                                         name, sparse, per_sample_weights, False, padding_idx)
    return (output,) + _bag_outputs(weight, indices, offsets, starts, mode, padding_idx)


def _bag_outputs(weight, indices, offsets, starts, mode, padding_idx) -> tuple:
    """aten's offset2bag, bag_size and max_indices: offset2bag empty on the fast sum path
    (float32/16-bit rows of unit stride, no padding_idx); bag_size the bags' non-padding
    counts for mean and max, else zeros (one per offset unless the weight requires grad)."""
    dtype = xp.int32 if indices.dtype.name == offsets.dtype.name == "int32" else xp.int64
    index = indices._data.astype(xp.int64)
    bag_of = _offset2bag(index.shape[0], starts._data.astype(xp.int64))
    keep = xp.ones(index.shape, dtype=bool) if padding_idx is None else index != padding_idx
    fast = mode == 0 and padding_idx is None and weight.stride(1) == 1 and \
        weight.dtype.name in ("float32", "float16", "bfloat16")
    offset2bag = xp.zeros(0, dtype) if fast else bag_of.astype(dtype)
    if mode == 0:
        count = starts.shape[0] if weight.requires_grad else offsets.shape[0]
        bag_size = xp.zeros(count, dtype)
        return tuple(map(Tensor._make, (offset2bag, bag_size, bag_size.copy())))
    bag_size = xp.bincount(bag_of[keep & (bag_of >= 0)], minlength=starts.shape[0])
    bag_size = bag_size.astype(dtype)
    max_indices = bag_size.copy() if mode == 1 else _max_rows(weight, index, bag_of, keep,
                                                              starts.shape[0]).astype(dtype)
    return tuple(map(Tensor._make, (offset2bag, bag_size, max_indices)))


def _offset2bag(count: int, starts):
    """The bag of each index position (-1 before the first bag: no bags at all)."""
    marks = xp.zeros(count + 1, dtype=xp.int64)
    xp.add.at(marks, starts, 1)
    marks[0] -= 1
    return xp.cumsum(marks)[:count]


def _max_rows(weight, index, bag_of, keep, bags: int):
    """For each bag and column, the weight row holding the bag's first maximum (0 for a bag
    with no rows but padding)."""
    kept = keep & (bag_of >= 0)
    values = weight._data[index[kept]].astype(xp.float64)
    bag, position = bag_of[kept], xp.flatnonzero(kept)
    top = xp.full((bags, weight.shape[1]), -xp.inf)
    xp.maximum.at(top, bag, values)
    none = index.shape[0]  # a position past the end: "no row"
    first = xp.full((bags, weight.shape[1]), none)
    xp.minimum.at(first, bag, xp.where(values == top[bag], position[:, None], none))
    return xp.append(index, 0)[first]


# ---- normalisation --------------------------------------------------------------------------
def _one_value_per_channel(input: Tensor) -> bool:
    """Whether F.batch_norm's Python check would refuse a training call (a 0-d input, or one
    value per channel): aten normalises those."""
    return input.ndim == 0 or input.shape[0] * math.prod(input.shape[2:]) == 1


@torch_function()
def batch_norm(input: Tensor, weight, bias, running_mean, running_var, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """Batch norm in aten's argument order (matches `torch.batch_norm`)."""
    if input.numel() == 0:
        return _empty_batch_norm(input, weight, bias)
    if training and _one_value_per_channel(input):
        return _batch_norm_one_value(input, weight, bias, running_mean, running_var, momentum,
                                     eps)
    return _functional().batch_norm(input, running_mean, running_var, weight, bias, training,
                                     momentum, eps)


def _empty_batch_norm(input: Tensor, weight, bias) -> Tensor:
    """aten's batch norm of an empty input: input·w[0] + b[0], a new tensor in the graph (w[0]
    is select's IndexError when there is no channel); the running statistics untouched."""
    output = input.clone()
    if weight is not None:
        output = output * weight.select(0, 0)
    if bias is not None:
        output = output + bias.select(0, 0)
    return output


def _batch_norm_one_value(input, weight, bias, running_mean, running_var, momentum, eps):
    """Training batch norm of one value per channel: each output is its bias, and the running
    variance takes the unbiased variance of one value, 0/0 = NaN, as aten's kernel computes."""
    norms = _norms()
    channels = input.shape[1] if input.ndim > 1 else 0
    norms._check_channel_sizes(channels, running_mean=running_mean, running_var=running_var,
                               weight=weight, bias=bias)
    output = native_batch_norm(input, weight, bias, running_mean, running_var, True, momentum,
                               eps)[0]
    if running_var is not None:
        with no_grad():
            running_var.fill_(math.nan)
    return output


@torch_function()
def instance_norm(input: Tensor, weight, bias, running_mean, running_var, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool) -> Tensor:
    """Instance norm in aten's argument order and by aten's own path (matches
    `torch.instance_norm`): batch norm of the input seen as (1, N·C, ...) with the per-channel
    tensors repeated N times, the running statistics (when updated) then the mean of their N
    copies. Unlike F.instance_norm it normalises one value per instance (to the bias)."""
    norms = _norms()
    norms._check_instance_norm(input, running_mean, running_var, weight, bias, use_input_stats)
    n, c = input.shape[:2]
    weight, bias, mean, var = (None if t is None else t.repeat(n)
                               for t in (weight, bias, running_mean, running_var))
    flat = input.contiguous().view([1, n * c] + list(input.shape[2:]))
    output = batch_norm(flat, weight, bias, mean, var, use_input_stats, momentum, eps,
                        cudnn_enabled)
    for running, repeated in ((running_mean, mean), (running_var, var)):
        if running is not None and use_input_stats:  # (the updated copies, averaged back)
            with no_grad():
                running.copy_(repeated.view(n, c).mean(0))
    return output.view(input.shape)


# ---- convolution ----------------------------------------------------------------------------
_CONVOLUTIONS = {(1, False): conv1d, (2, False): conv2d, (3, False): conv3d,
                 (1, True): conv_transpose1d, (2, True): conv_transpose2d,
                 (3, True): conv_transpose3d}


def _expand(values, name: str, dim: int) -> list:
    """A convolution parameter list of one value per spatial dim (a single one repeated)."""
    values = list(values)
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} "
                           f"values to match the convolution dimensions, but got {name}="
                           f"{values}")
    return values


@torch_function()
def convolution(input: Tensor, weight: Tensor, bias, stride, padding, dilation,
                transposed: bool, output_padding, groups: int) -> Tensor:
    """Convolution or transposed convolution of as many spatial dims as weight has, with every
    parameter a list (matches `torch.convolution`; output_padding only counts transposed)."""
    dim = weight.ndim - 2
    if dim <= 0:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    stride, padding, dilation, output_padding = (
        _expand(v, n, dim) for v, n in ((stride, "stride"), (padding, "padding"),
                                        (dilation, "dilation"), (output_padding,
                                                                 "output_padding")))
    _check_convolution(input, weight, stride, padding, dilation, output_padding)
    conv = _CONVOLUTIONS.get((dim, bool(transposed)))
    if conv is None:
        raise RuntimeError("unsupported ConvNd parameters")
    if transposed:
        return conv(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return conv(input, weight, bias, stride, padding, dilation, groups)


def _check_convolution(input, weight, stride, padding, dilation, output_padding) -> None:
    """aten's check_shape_forward, up to the rank (F.conv*d checks the rest in its order)."""
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if input.ndim != weight.ndim:  # aten takes no unbatched input here (F.conv*d does)
        raise RuntimeError(
            f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
            f"{list(weight.shape)}, but got {input.ndim}-dimensional input of size "
            f"{list(input.shape)} instead")


# ---- spatial transformers -------------------------------------------------------------------
@torch_function()
def grid_sampler(input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int,
                 align_corners: bool) -> Tensor:
    """grid_sample with aten's integer modes: grid_sampler_2d's for a 4-D input, else
    grid_sampler_3d's, with their checks in torch's order (matches `torch.grid_sampler`)."""
    mode, padding = _grid_modes(interpolation_mode, padding_mode)  # (ember refuses unknown ones)
    return grid_sample(input, grid, mode, padding, align_corners)


@torch_function()
def affine_grid_generator(theta: Tensor, size, align_corners: bool) -> Tensor:
    """The sampling grid of the affine maps theta for an output of size (N, C, H, W) or
    (N, C, D, H, W): the homogeneous base grid times thetaᵀ, batch by batch (matches
    `torch.affine_grid_generator`, without F.affine_grid's checks of theta and size; its node
    is AffineGridGeneratorBackward0, which saves no tensor)."""
    size = list(size)
    if len(size) not in (4, 5):
        raise RuntimeError("AffineGridGenerator needs 4d (spatial) or 5d (volumetric) inputs.")
    return _grid_generator(theta, size, align_corners)

