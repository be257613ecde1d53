"""ember.nn.functional: the stateless forms of the layers (matches `torch.nn.functional`).

Normalization, dropout and embedding live here; activations in
`ember.nn._functional_activation`, distances in `ember.nn._functional_distance`, attention in
`ember.nn._functional_attention`, losses in
`ember.nn._functional_loss`; convolution, pooling, padding and resampling in the
`ember.ops.conv*`/`fold`/`pool*`/`padding` op families. All are re-exported from this module.
"""


from ember._warnings import warn as _warn
from types import FunctionType as _FunctionType

# underscore names: ember.nn.functional is a public namespace (torch.nn.functional's names only)
from ember._backend import get_array_module as _get_array_module, xp as _xp
from ember._registry import FUNCTIONS, tensor_arguments
from ember._schemas import type_name
from ember._tensor import Tensor, short_name as _short_name
from ember.autograd import grad_mode
from ember.nn._functional_activation import (  # noqa: F401 - re-exported
    _SELU_ALPHA, _SELU_SCALE, _maybe_inplace, celu, celu_, elu, elu_, gelu, glu, hardshrink,
    hardsigmoid, hardswish, hardtanh, hardtanh_, leaky_relu, leaky_relu_, log_softmax,
    logsigmoid, mish, prelu, relu, relu6, relu_, rrelu, rrelu_, selu, selu_, sigmoid, silu,
    softmax, softmin, softplus, softshrink, softsign, tanh, tanhshrink, threshold, threshold_)
from ember.nn._functional_activation import _threshold  # noqa: F401 - torch's name for threshold
from ember.nn._functional_embedding_checks import (
    check_embedding_bag as _check_embedding_bag)
from ember.nn._functional_distance import (  # noqa: F401 - re-exported
    cosine_similarity, pairwise_distance, pdist)
from ember.nn._functional_attention import (  # noqa: F401 - re-exported
    _canonical_mask, _mha_shape_check, _none_or_dtype, multi_head_attention_forward,
    scaled_dot_product_attention)
from ember.nn._functional_ctc import ctc_loss  # noqa: F401 - re-exported
from ember.nn._functional_norm import (  # noqa: F401 - re-exported
    batch_norm, group_norm, instance_norm, layer_norm, local_response_norm, normalize, rms_norm)
from ember.ops.pool_fractional import (  # noqa: F401 - re-exported
    fractional_max_pool2d, fractional_max_pool2d_with_indices, fractional_max_pool3d,
    fractional_max_pool3d_with_indices)
from ember.nn._functional_vision import affine_grid, grid_sample  # noqa: F401 - re-exported
from ember.ops.padding import channel_shuffle  # noqa: F401 - re-exported
from ember.nn._functional_loss import (  # noqa: F401 - re-exported
    binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss,
    cross_entropy, gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, l1_loss,
    margin_ranking_loss, mse_loss, multi_margin_loss, multilabel_margin_loss,
    multilabel_soft_margin_loss, nll_loss, poisson_nll_loss, smooth_l1_loss, soft_margin_loss,
    triplet_margin_loss, triplet_margin_with_distance_loss)
from ember.nn._functional_linear_cross_entropy import (  # noqa: F401 - re-exported
    linear_cross_entropy)
from ember.ops import nn_ops as _nn
from ember.ops._opmath import is_half as _is_half
from ember.ops._node_names import renamed_node
from ember.ops.bilinear import bilinear  # noqa: F401 - re-exported
# Convolution, pooling, padding and resampling are written in their own op families.
from ember.ops.conv import conv1d, conv2d, conv3d, conv_tbc  # noqa: F401 - re-exported
from ember.nn import grad  # noqa: F401 - torch.nn.functional.grad is torch.nn.grad
from ember.ops.conv_transpose import (  # noqa: F401 - re-exported
    conv_transpose1d, conv_transpose2d, conv_transpose3d)
from ember.ops.fold import fold, unfold  # noqa: F401 - re-exported
from ember.ops.interpolate import (  # noqa: F401 - re-exported
    interpolate, upsample, upsample_bilinear, upsample_nearest)
from ember.ops.padding import pad, pixel_shuffle, pixel_unshuffle  # noqa: F401 - re-exported
from ember.ops.pool import (  # noqa: F401 - re-exported
    max_pool1d, max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, max_pool3d,
    max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d)
from ember.ops.pool_adaptive import (  # noqa: F401 - re-exported
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices, adaptive_max_pool2d, adaptive_max_pool2d_with_indices,
    adaptive_max_pool3d, adaptive_max_pool3d_with_indices)
from ember.ops.pool_avg import (  # noqa: F401 - re-exported
    avg_pool1d, avg_pool2d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d)
from ember.ops.softmax import softmax as _softmax
from ember.ops.scaled_mm import (  # noqa: F401 - re-exported
    ScalingType, SwizzleType, scaled_mm)
from ember.ops import sampling as _sampling
from ember.ops.creation import empty_like as _empty_like, zeros as _zeros

native_channel_shuffle = channel_shuffle
linear = _nn.linear


# ---- dropout ------------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _require_tensor(input, name: str) -> None:
    """torch's C++ dropouts refuse a non-tensor even when they would return it untouched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type_name(input)}")


def _check_scalable(input: Tensor, p: float) -> None:
    """Dropping with 0 < p < 1 scales by the float 1/(1-p), written back into the input's dtype:
    PyTorch refuses integer and bool inputs then (p = 1 multiplies by a zero of their dtype)."""
    if p != 1.0 and not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError("result type Float can't be cast to the desired output type "
                           f"{_short_name(input.dtype)}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) when training
    (matches `torch.nn.functional.dropout`)."""
    _check_p(p)
    _require_tensor(input, "dropout")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    _check_scalable(input, p)
    mask = _sampling.dropout_mask(input.shape, p, input._data.dtype, input._data)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, mask), inplace)


def _feature_dropout(input, p, training, inplace, batched_ndim, name):
    _check_p(p)
    if input.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
                           f"received a {input.ndim}D input. Note that {name} exists to provide "
                           "channel-wise dropout on inputs with spatial dimensions, a channel "
                           "dimension, and an optional batch dimension (i.e. "
                           f"{batched_ndim - 1}D or {batched_ndim}D inputs).")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    _check_scalable(input, p)
    lead = 2 if input.ndim == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    mask = _sampling.dropout_mask(shape, p, input._data.dtype)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, mask), inplace)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) input (matches `torch.nn.functional.dropout1d`)."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def _channel_dropout(input, p, training, inplace):
    """Zero whole (sample, channel) slices: a mask of shape (N, C, 1, ...), as PyTorch's
    feature_dropout (on a 2-D input that is one mask entry per element)."""
    if not training or p == 0.0 or input.numel() == 0:  # PyTorch returns before its checks
        return input
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    _check_scalable(input, p)
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    mask = _sampling.dropout_mask(shape, p, input._data.dtype)
    return _maybe_inplace(input, _nn.MaskScale.apply(input, mask), inplace)


def _warn_feature_dims(input, name: str, spatial: int):
    """PyTorch's deprecation warning for dropout2d/3d inputs of another rank (then it drops
    (N, C, 1, ...) slices of whatever it got)."""
    _warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and "
                  "will result in an error in a future release. To retain the behavior and "
                  f"silence this warning, please use dropout instead. Note that {name} exists "
                  f"to provide channel-wise dropout on inputs with {spatial} spatial "
                  "dimensions, a channel dimension, and an optional batch dimension (i.e. "
                  f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) input (matches `torch.nn.functional.dropout2d`)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        _warn_feature_dims(input, "dropout2d", 2)
    if input.ndim == 3:
        _warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return _channel_dropout(input, p, training, inplace)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) input (matches `torch.nn.functional.dropout3d`);
    an unbatched input is one sample."""
    _check_p(p)
    if input.ndim not in (4, 5):
        _warn_feature_dims(input, "dropout3d", 3)
    if input.ndim == 5:
        return _channel_dropout(input, p, training, inplace)
    if not training or p == 0.0:
        return input
    result = _channel_dropout(input.unsqueeze(0), p, training, False).squeeze(0)
    return _maybe_inplace(input, result, inplace)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout that keeps SELU's mean and variance (matches
    `torch.nn.functional.alpha_dropout`)."""
    return _alpha_dropout(input, p, training, inplace, "alpha_dropout")


def _alpha_dropout(input, p, training, inplace, name):
    """Alpha dropout of elements, or of whole channels for feature_alpha_dropout, with PyTorch's
    checks in its order."""
    _check_p(p)
    _require_tensor(input, name)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:  # PyTorch: everything dropped is input·0, a zero of its dtype
        return _maybe_inplace(input, input * _zeros((), dtype=input.dtype), inplace)
    feature = name.startswith("feature")
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        # the noise of an integer (a bool's: an int64) input is scaled in place by a float
        word = "Long" if input.dtype.name == "bool" else _short_name(input.dtype)
        raise RuntimeError(f"result type Float can't be cast to the desired output type {word}")
    if feature:
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
        noise, b = _sampling.alpha_dropout_noise(shape, p, input._data.dtype)
    else:
        noise, b = _sampling.alpha_dropout_noise(tuple(input.shape), p, input._data.dtype,
                                                 input._data)
    result = _nn.MaskScale.apply(input, noise) + Tensor._make(b)
    return _maybe_inplace(input, result, inplace)


# ---- embedding ----------------------------------------------------------------------------
def _type_word(t: Tensor) -> str:
    """How torch's argument checks name a tensor's type (bool's is its old CPUBoolType)."""
    return "CPUBoolType" if t.dtype.name == "bool" else t.type()


def embedding(input: Tensor, weight: Tensor, padding_idx=None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of weight picked by the integer indices in input (matches
    `torch.nn.functional.embedding`)."""
    if input.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_type_word(input)} instead (while checking arguments "
            "for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    indices = input._data.astype(_xp.int64, copy=False)
    if indices.size and (indices.min() < 0 or indices.max() >= num):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm_(weight, indices, max_norm, norm_type)
    return _nn.Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq, bool(sparse))


def embedding_bag(input: Tensor, weight: Tensor, offsets=None, max_norm=None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx=None) -> Tensor:
    """Sum, mean or max of the embeddings of each bag of indices (matches
    `torch.nn.functional.embedding_bag`)."""
    input, weight = _check_embedding_bag(input, weight, offsets, per_sample_weights, mode,
                                         scale_grad_by_freq, sparse)
    if _is_half(weight.dtype):  # bags summed in float32, rounded once (NOTE [opmath])
        if max_norm is not None:  # the renorm writes to the caller's weight
            _embedding_renorm_(weight, input._data.astype(_xp.int64), max_norm, norm_type)
        psw = None if per_sample_weights is None else per_sample_weights.float()
        return embedding_bag(input, weight.float(), offsets, None, norm_type, scale_grad_by_freq,
                             mode, sparse, psw, include_last_offset,
                             padding_idx).to(weight.dtype)
    bags = _bags(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                 per_sample_weights, include_last_offset, padding_idx)
    return renamed_node(bags, "EmbeddingBagBackward0")  # (torch's one kernel)


def _bags(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
          per_sample_weights, include_last_offset, padding_idx):
    """embedding_bag's bags, of float32/64 rows, in several ops."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {offsets.type()}")
        bags, length = input.shape
        starts = _xp.arange(0, bags * length, length)
        ends = starts + length
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = offsets._data.astype(_xp.int64)
        starts = off[:-1] if include_last_offset else off
        ends = off[1:] if include_last_offset else _xp.append(off[1:], input.numel())
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    flat = input.reshape(-1)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                     sparse)  # (a sparse gradient: one entry per index, as PyTorch's)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1)
    # NOTE [Bags as segments]: bag b holds positions starts[b]..ends[b]; padding_idx entries
    # are left out of the sum, the count and the max.
    lengths = ends - starts
    segment = _xp.repeat(_xp.arange(len(starts)), lengths)
    # bag b's positions starts[b]..ends[b] - 1 sit at cumsum(lengths)[b] - lengths[b] onwards
    positions = _xp.arange(int(lengths.sum())) + _xp.repeat(starts - _xp.cumsum(lengths) +
                                                            lengths, lengths)
    in_order = len(positions) == flat.numel() and bool(
        (positions == _xp.arange(len(positions))).all())  # (the bags tile the input)
    keep = _xp.ones(len(positions), dtype=bool)
    if padding_idx is not None:
        keep = flat._data[positions] != padding_idx
    counts = _xp.bincount(segment[keep], minlength=len(starts))
    if mode == "max" and not len(positions):  # every bag empty: zeros, still in the graph
        return rows[:0].sum(0) + Tensor._make(_xp.zeros((len(starts), rows.shape[1]),
                                                         dtype=rows._data.dtype))
    if mode == "max":
        width = max(int(lengths.max()) if len(lengths) else 0, 1)
        slot = _xp.arange(len(positions)) - _xp.repeat(_xp.cumsum(lengths) - lengths, lengths)
        index = _xp.zeros((len(starts), width), dtype=_xp.int64)
        valid = _xp.zeros((len(starts), width), dtype=bool)
        index[segment, slot] = positions
        valid[segment, slot] = keep
        picked = rows[Tensor._make(index)]
        nonempty = (counts > 0)[:, None]
        fill = _xp.where(valid | ~nonempty, 0, -_xp.inf)[..., None].astype(rows._data.dtype)
        best = (picked + Tensor._make(fill)).max(1).values
        if nonempty.all():
            return best
        return best.masked_fill(Tensor._make(~nonempty), 0)  # empty bags give +0
    scale = keep.astype(rows._data.dtype)
    if mode == "mean":
        scale = scale / _xp.maximum(counts, 1)[segment].astype(rows._data.dtype)
    picked = (rows if in_order else rows[Tensor._make(positions)]) * Tensor._make(scale[:, None])
    return _nn.EmbeddingScatter.apply(picked, segment, len(starts), None, False)


def _embedding_renorm_(weight: Tensor, indices: _xp.ndarray, max_norm, norm_type) -> None:
    """Rescale the referenced rows whose norm exceeds max_norm, in place, outside the graph."""
    rows = _xp.unique(indices)
    data = weight._data
    norms = _xp.linalg.norm(data[rows].astype(_xp.float64), ord=norm_type, axis=1)
    scale = _xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    data[rows] = (data[rows] * scale[:, None]).astype(data.dtype)
    weight._version_counter.value += 1


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices to one-hot int64 vectors (matches `torch.nn.functional.one_hot`)."""
    if tensor.dtype.name != "int64":  # int32, uint8 and bool too
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    values = tensor._data
    if not values.size and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if values.size and values.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(values.max()) + 1 if values.size else 0
    elif values.size and values.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    module = _get_array_module(values)
    out = module.zeros(values.shape + (num_classes,), dtype=_xp.int64)
    if values.size and num_classes:  # a 1 per row: one scatter, not a (n, classes) comparison
        out.reshape(-1, num_classes)[module.arange(values.size), values.reshape(-1)] = 1
    return Tensor._make(out)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Softmax of (logits + Gumbel noise)/tau; one-hot in value but soft in gradient when hard
    (matches `torch.nn.functional.gumbel_softmax`)."""
    gumbels = -_empty_like(logits).exponential_().log()  # torch's draws (log rounds may differ)
    y_soft = _softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = _xp.argmax(y_soft._data, axis=dim)
    y_hard = _xp.zeros_like(y_soft._data)
    _xp.put_along_axis(y_hard, _xp.expand_dims(index, dim), 1, axis=dim)
    return Tensor._make(y_hard) - y_soft.detach() + y_soft


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels (matches `torch.nn.functional.feature_alpha_dropout`)."""
    return _alpha_dropout(input, p, training, inplace, "feature_alpha_dropout")


no_grad = grad_mode.no_grad


def _check_tensor_arguments(namespace):
    """Give every public function taking `input` first torch's TypeError for a non-tensor
    (NOTE [Not a tensor is a TypeError] in ember/_registry.py); modules call the unwrapped ops.
    A function that is also `ember.<name>` gets that very face, so `F.conv1d is torch.conv1d`
    holds as in torch."""
    faces = {}
    for face in FUNCTIONS.values():  # every layer of a face's wrappers (autocast's included)
        inner = face
        while hasattr(inner, "__wrapped__"):
            inner = inner.__wrapped__
            faces.setdefault(id(inner), face)
    for name, fn in list(namespace.items()):
        if not name.startswith("_") and isinstance(fn, _FunctionType):
            namespace[name] = faces.get(id(fn)) or tensor_arguments(fn, python_level=True)


_check_tensor_arguments(globals())
