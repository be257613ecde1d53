"""ember.nn.functional: the stateless forms of the layers (matches `torch.nn.functional`).

Activations, normalization, dropout, embedding and distances live here; losses in
`ember.nn._functional_loss`; convolution, pooling, padding and resampling in the
`ember.ops.conv`/`pool`/`padding` families. All are re-exported from this module.
"""

import math
import warnings

import numpy as np

import ember
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops import activation as _act
from ember.ops import nn_ops as _nn
from ember.random import rng as _rng

linear = _nn.linear
bilinear = _nn.bilinear


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._inplace_update(result) if inplace else result


# ---- activations --------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0) (matches `torch.nn.functional.relu`)."""
    return _maybe_inplace(input, input.relu(), inplace)


def relu_(input: Tensor) -> Tensor:
    """In-place relu (matches `torch.nn.functional.relu_`)."""
    return relu(input, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6) (matches `torch.nn.functional.relu6`)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else slope·x (matches `torch.nn.functional.leaky_relu`)."""
    return _maybe_inplace(input, _act.LeakyRelu.apply(input, negative_slope), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu (matches `torch.nn.functional.leaky_relu_`)."""
    return leaky_relu(input, negative_slope, True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else α(eˣ - 1) (matches `torch.nn.functional.elu`)."""
    return _maybe_inplace(input, _act.Elu.apply(input, alpha, 1.0, 1.0), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu (matches `torch.nn.functional.elu_`)."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale·elu(x, α) with SELU's constants (matches `torch.nn.functional.selu`)."""
    return _maybe_inplace(input, _act.Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α(e^(x/α) - 1)) (matches `torch.nn.functional.celu`)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, _act.Elu.apply(input, alpha, 1.0, 1.0 / alpha), inplace)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x·Φ(x), or its tanh approximation (matches `torch.nn.functional.gelu`)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _act.Gelu.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x·σ(x) (matches `torch.nn.functional.silu`)."""
    return _maybe_inplace(input, _act.Silu.apply(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·tanh(softplus(x)) (matches `torch.nn.functional.mish`)."""
    return _maybe_inplace(input, _act.Mish.apply(input), inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val) (matches `torch.nn.functional.hardtanh`)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _maybe_inplace(input, _act.Hardtanh.apply(input, min_val, max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh (matches `torch.nn.functional.hardtanh_`)."""
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """clamp(x/6 + 1/2, 0, 1) (matches `torch.nn.functional.hardsigmoid`)."""
    return _maybe_inplace(input, _act.Hardsigmoid.apply(input), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x·hardsigmoid(x) (matches `torch.nn.functional.hardswish`)."""
    return _maybe_inplace(input, _act.Hardswish.apply(input), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx))/β (matches `torch.nn.functional.softplus`)."""
    return _act.Softplus.apply(input, beta, threshold)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) (matches `torch.nn.functional.softsign`)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x) (matches `torch.nn.functional.tanhshrink`)."""
    return input - input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x), computed stably (matches `torch.nn.functional.logsigmoid`)."""
    return _act.LogSigmoid.apply(input)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) (matches `torch.nn.functional.sigmoid`)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh(x) (matches `torch.nn.functional.tanh`)."""
    return input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value (matches `torch.nn.functional.threshold`)."""
    return _maybe_inplace(input, _act.Threshold.apply(input, threshold, value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold (matches `torch.nn.functional.threshold_`)."""
    return _maybe_inplace(input, _act.Threshold.apply(input, threshold, value), True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else w·x, w per channel (matches `torch.nn.functional.prelu`)."""
    if weight.numel() != 1 and (input.ndim < 2 or input.shape[1] != weight.numel()):
        channels = input.shape[1] if input.ndim >= 2 else 1
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{weight.numel()} and channel size = {channels}.")
    return _act.Prelu.apply(input, weight)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """Leaky relu with a random slope in [lower, upper] when training, their mean otherwise
    (matches `torch.nn.functional.rrelu`)."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    slopes = _rng().uniform(lower, upper, size=input.shape).astype(input._data.dtype)
    slopes = np.where(input._data >= 0, 1, slopes).astype(input._data.dtype)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, slopes), inplace)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0 (matches `torch.nn.functional.hardshrink`)."""
    return input * Tensor._make((np.abs(input._data) > lambd).astype(input._data.dtype))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - λ·sign(x) where |x| > λ, else 0 (matches `torch.nn.functional.softshrink`)."""
    keep = Tensor._make((np.abs(input._data) > lambd).astype(input._data.dtype))
    return (input - input.sign() * lambd) * keep


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a·σ(b) for the two halves a, b of input along dim (matches `torch.nn.functional.glu`)."""
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension "
                           f"{dim % input.ndim} is size {input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def _softmax_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """exp(x)/Σexp(x) along dim (matches `torch.nn.functional.softmax`)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return ember.softmax(input, dim, dtype=dtype)


def softmin(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along dim (matches `torch.nn.functional.softmin`)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return ember.softmax(-input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim=None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along dim, computed stably (matches `torch.nn.functional.log_softmax`)."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return ember.log_softmax(input, dim, dtype=dtype)


# ---- normalization ------------------------------------------------------------------------
def _update_running(running: Tensor, batch: np.ndarray, momentum: float) -> None:
    """running ← (1 - momentum)·running + momentum·batch, in place (a buffer, no graph)."""
    new = (1 - momentum) * running._data + momentum * batch.reshape(running._data.shape)
    np.copyto(running._data, new, casting="unsafe")
    running._version.value += 1


def batch_norm(input: Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalize each channel (dim 1) over the batch and spatial dims (matches
    `torch.nn.functional.batch_norm`)."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    channels = input.shape[1]
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // channels
        if count <= 1:
            raise ValueError("Expected more than 1 value per channel when training, got "
                             f"input size {input.shape}")
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    _check_running(running_mean, running_var, training)
    if training:
        y, mean, var = _nn.normalize(input, weight, bias, axes, eps, affine_shape)
        if training and running_mean is not None:
            n = input.numel() // channels
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (n / max(n - 1, 1)), momentum)
        return y
    mean = running_mean._data.reshape(affine_shape)
    var = running_var._data.reshape(affine_shape)
    return _nn.normalize(input, weight, bias, axes, eps, affine_shape, mean, var)[0]


def _check_running(running_mean, running_var, training: bool) -> None:
    if not training and (running_mean is None or running_var is None):
        name = "running_mean" if running_mean is None else "running_var"
        raise RuntimeError(f"{name} must be defined in evaluation mode")


def instance_norm(input: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalize each (sample, channel) over its spatial dims (matches
    `torch.nn.functional.instance_norm`)."""
    channels = input.shape[1]
    axes = tuple(range(2, input.ndim))
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        count = int(np.prod(input.shape[2:]))
        if count <= 1:
            raise ValueError("Expected more than 1 spatial element when training, got input "
                             f"size {input.shape}")
        y, mean, var = _nn.normalize(input, weight, bias, axes, eps, affine_shape)
        if running_mean is not None:
            _update_running(running_mean, mean.mean(axis=0), momentum)
            unbiased = var * (count / max(count - 1, 1))
            _update_running(running_var, unbiased.mean(axis=0), momentum)
        return y
    mean = running_mean._data.reshape(affine_shape)
    var = running_var._data.reshape(affine_shape)
    return _nn.normalize(input, weight, bias, axes, eps, affine_shape, mean, var)[0]


def layer_norm(input: Tensor, normalized_shape, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """Normalize over the last len(normalized_shape) dims (matches
    `torch.nn.functional.layer_norm`)."""
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return _nn.normalize(input, weight, bias, axes, eps, normalized_shape,
                         op=_nn.NormalizeLayer)[0]


def group_norm(input: Tensor, num_groups: int, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """Normalize each group of channels per sample (matches `torch.nn.functional.group_norm`)."""
    n, channels = input.shape[0], input.shape[1]
    if channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and num_groups="
                           f"{num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    y = _nn.normalize(grouped, None, None, (2,), eps, (1,), op=_nn.NormalizeGroup)[0]
    y = y.reshape(input.shape)
    affine_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(affine_shape)
    if bias is not None:
        y = y + bias.reshape(affine_shape)
    return y


def rms_norm(input: Tensor, normalized_shape, weight=None, eps=None) -> Tensor:
    """x / √(mean(x²) + ε) over the last dims, times weight (matches
    `torch.nn.functional.rms_norm`)."""
    dims = tuple(range(-len(tuple(normalized_shape)), 0))
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalize across nearby channels (matches `torch.nn.functional.local_response_norm`)."""
    squared = (input * input).unsqueeze(1)
    shape = squared.shape
    flat = squared.reshape(shape[0], 1, shape[2], -1)
    flat = pad(flat, (0, 0, size // 2, (size - 1) // 2))  # noqa: F405 - from ember.ops.padding
    div = avg_pool2d(flat, (size, 1), stride=1).reshape(shape).squeeze(1)  # noqa: F405
    return input / (div * alpha + k) ** beta


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """input / max(‖input‖_p, eps) along dim (matches `torch.nn.functional.normalize`)."""
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps)
    return input / denom.expand_as(input)


# ---- dropout ------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(shape, p: float, dtype) -> np.ndarray:
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = _rng().random(shape) >= p
    return keep.astype(dtype) * np.asarray(1.0 / (1.0 - p), dtype=dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) when training
    (matches `torch.nn.functional.dropout`)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    mask = _dropout_mask(input.shape, p, input._data.dtype)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, mask), inplace)


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    _check_p(p)
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
                           f"received a {input.ndim}D input. Note that {name} exists to provide "
                           "channel-wise dropout on inputs with spatial dimensions, a channel "
                           "dimension, and an optional batch dimension (i.e. "
                           f"{batched_ndim - 1}D or {batched_ndim}D inputs).")
    if not training or p == 0.0:
        return input
    lead = 2 if input.ndim == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    mask = _dropout_mask(shape, p, input._data.dtype)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, mask), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) input (matches `torch.nn.functional.dropout1d`)."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input (matches `torch.nn.functional.dropout2d`)."""
    _check_p(p)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.")
        return _feature_dropout(input, p, training, inplace, 3, "dropout1d")
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) input (matches `torch.nn.functional.dropout3d`)."""
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's mean and variance (matches
    `torch.nn.functional.alpha_dropout`)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    keep = (_rng().random(input.shape) >= p).astype(input._data.dtype)
    b = Tensor._make(((1 - keep) * alpha * a + alpha * a * p * -1).astype(input._data.dtype))
    result = _nn.MaskScale.apply(input, keep * np.asarray(a, input._data.dtype)) + b
    return _maybe_inplace(input, result, inplace)


# ---- embedding ----------------------------------------------------------------------------
def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of weight picked by the integer indices in input (matches
    `torch.nn.functional.embedding`)."""
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
            "embedding)")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    indices = input._data.astype(np.int64, copy=False)
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, indices, max_norm, norm_type)
    return _nn.Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq)


def embedding_bag(input: Tensor, weight: Tensor, offsets=None, max_norm=None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx=None) -> Tensor:
    """Sum, mean or max of the embeddings of each bag of indices (matches
    `torch.nn.functional.embedding_bag`)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, but got {mode}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub.")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {offsets.type()}")
        bags, length = input.shape
        starts = np.arange(0, bags * length, length)
        ends = starts + length
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data.astype(np.int64)
        starts = off[:-1] if include_last_offset else off
        ends = off[1:] if include_last_offset else np.append(off[1:], input.numel())
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    flat = input.reshape(-1)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    # NOTE [Bags as segments]: bag b holds positions starts[b]..ends[b]; padding_idx entries
    # are left out of the sum, the count and the max.
    lengths = ends - starts
    segment = np.repeat(np.arange(len(starts)), lengths)
    positions = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)]) \
        if len(starts) else np.zeros(0, dtype=np.int64)
    keep = np.ones(len(positions), dtype=bool)
    if padding_idx is not None:
        keep = flat._data[positions] != padding_idx
    counts = np.bincount(segment[keep], minlength=len(starts))
    if mode == "max":
        width = max(int(lengths.max()) if len(lengths) else 0, 1)
        slot = np.arange(len(positions)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        index = np.zeros((len(starts), width), dtype=np.int64)
        valid = np.zeros((len(starts), width), dtype=bool)
        index[segment, slot] = positions
        valid[segment, slot] = keep
        picked = rows[Tensor._make(index)]
        nonempty = (counts > 0)[:, None]
        fill = np.where(valid | ~nonempty, 0, -np.inf)[..., None].astype(rows._data.dtype)
        best = (picked + Tensor._make(fill)).max(1).values
        if nonempty.all():
            return best
        return best * Tensor._make(nonempty.astype(rows._data.dtype))  # empty bags give 0
    scale = keep.astype(rows._data.dtype)
    if mode == "mean":
        scale = scale / np.maximum(counts, 1)[segment].astype(rows._data.dtype)
    picked = rows[Tensor._make(positions)] * Tensor._make(scale[:, None])
    return _nn.EmbeddingScatter.apply(picked, segment, len(starts), None, False)


def _embedding_renorm_(weight: Tensor, indices: np.ndarray, max_norm, norm_type) -> None:
    """Rescale the referenced rows whose norm exceeds max_norm, in place, outside the graph."""
    rows = np.unique(indices)
    data = weight._data
    norms = np.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    data[rows] = (data[rows] * scale[:, None]).astype(data.dtype)
    weight._version.value += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices to one-hot int64 vectors (matches `torch.nn.functional.one_hot`)."""
    if tensor.dtype.is_floating_point:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._data.astype(np.int64)
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    elif values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((values[..., None] == np.arange(num_classes)).astype(np.int64))


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Softmax of (logits + Gumbel noise)/tau; one-hot in value but soft in gradient when hard
    (matches `torch.nn.functional.gumbel_softmax`)."""
    gumbels = -np.log(_rng().exponential(1.0, size=logits.shape)).astype(logits._data.dtype)
    y_soft = ember.softmax((logits + Tensor._make(gumbels)) / tau, dim)
    if not hard:
        return y_soft
    index = np.argmax(y_soft._data, axis=dim)
    y_hard = np.zeros_like(y_soft._data)
    np.put_along_axis(y_hard, np.expand_dims(index, dim), 1, axis=dim)
    return Tensor._make(y_hard) - y_soft.detach() + y_soft


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (matches `torch.nn.functional.feature_alpha_dropout`)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    alpha = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p))
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    keep = (_rng().random(shape) >= p).astype(input._data.dtype)
    b = Tensor._make(((1 - keep) * alpha * a - alpha * a * p).astype(input._data.dtype))
    result = _nn.MaskScale.apply(input, keep * np.asarray(a, input._data.dtype)) + b
    return _maybe_inplace(input, result, inplace)


# ---- distances ----------------------------------------------------------------------------
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 - x2 + eps‖_p along the last dim (matches `torch.nn.functional.pairwise_distance`)."""
    ndim = max(x1.ndim, x2.ndim)
    dim = -1 if ndim > 0 else 0
    return (x1 - x2 + eps).norm(p, dim, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / max(‖x1‖·‖x2‖, eps) along dim (matches `torch.nn.functional.cosine_similarity`)."""
    # NOTE [cosine_similarity eps]: PyTorch clamps each norm at eps in place under no_grad, so
    # the gradient flows through the clamp as if it were the identity; the same here.
    n1 = _clamp_no_grad(x1.norm(2, dim, keepdim=True), eps)
    n2 = _clamp_no_grad(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _clamp_no_grad(x: Tensor, low: float) -> Tensor:
    """max(x, low) in value, with the gradient of x."""
    shift = np.maximum(x._data, low) - x._data
    return x + Tensor._make(shift.astype(x._data.dtype, copy=False))


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Distances between all pairs of rows, upper triangle (matches `torch.nn.functional.pdist`)."""
    n = input.shape[0]
    i, j = np.triu_indices(n, 1)
    a = input[Tensor._make(i)]
    b = input[Tensor._make(j)]
    return (a - b).norm(p, -1)


# ---- attention ----------------------------------------------------------------------------
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale=None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q·kᵀ·scale + mask)·v over the last two dims (matches
    `torch.nn.functional.scaled_dot_product_attention`)."""
    length, source = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    bias = np.zeros((length, source), dtype=query._data.dtype)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        bias[~np.tri(length, source, dtype=bool)] = -np.inf
    if enable_gqa:
        repeat = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(repeat, -3)
        value = value.repeat_interleave(repeat, -3)
    scores = query.matmul(key.transpose(-2, -1)) * scale + Tensor._make(bias)
    if attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            blocked = np.where(attn_mask._data, 0, -np.inf).astype(query._data.dtype)
            scores = scores + Tensor._make(blocked)
        else:
            scores = scores + attn_mask
    weights = ember.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights.matmul(value)


def selu_(input: Tensor) -> Tensor:
    """In-place selu (matches `torch.nn.functional.selu_`)."""
    return selu(input, True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu (matches `torch.nn.functional.celu_`)."""
    return celu(input, alpha, True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place rrelu (matches `torch.nn.functional.rrelu_`)."""
    return rrelu(input, lower, upper, training, True)


# ---- the rest of torch.nn.functional ------------------------------------------------------
from ember.nn._functional_loss import *  # noqa: E402,F403

# Convolution, pooling, padding and resampling are written in their own op families.
from ember.ops.conv import *  # noqa: E402,F403
from ember.ops.padding import *  # noqa: E402,F403
from ember.ops.pool import *  # noqa: E402,F403

no_grad = grad_mode.no_grad
