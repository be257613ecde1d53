"""The loss functions of ember.nn.functional (matches the losses of `torch.nn.functional`).

The common ones (cross-entropy, nll, binary cross-entropy, mse, l1, smooth-l1, huber) are fused
ops from `ember.ops.loss_ops`; the rarer ones are short compositions of ember ops.
"""

import math
import warnings

from ember._warnings import warn as _warn
from ember._autocast import float32_inputs, is_enabled as autocast_enabled
from ember._dtype import bool as ember_bool
from ember._backend import get_array_module, xp
from ember._schemas import type_name
from ember._tensor import Tensor, short_name
from ember.autograd import grad_mode
from ember.nn._functional_activation import logsigmoid
from ember.nn._functional_distance import check_broadcastable, pairwise_distance
from ember.nn._functional_loss_checks import (
    bce_with_logits_dtype, check_bce_dtypes, check_class_target, check_cross_entropy,
    check_log_softmax_dtype, check_multi_margin_kernel, check_multilabel_margin,
    check_weight_size, pointwise_dtype, require_tensors)
from ember.ops import loss_ops as _loss
from ember.ops._opmath import is_half
from ember.ops.softmax import log_softmax as _log_softmax
from ember.ops.broadcast import expand_to
from ember.ops.comparison import minimum, where
from ember.ops._node_names import class_loss_node, l1_node
from ember.ops.creation import full_like
from ember.ops.elementwise_ext import xlogy


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """Map the deprecated size_average/reduce arguments to a reduction string."""
    if size_average is None and reduce is None:
        return _check_reduction(reduction)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.")
    return result


def _check_reduction(reduction: str) -> str:
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _broadcast_pair(input: Tensor, target: Tensor, stacklevel: int = 3, dtype=None):
    """PyTorch warns when input and target differ in size, then broadcasts them (both in
    `dtype`, when given)."""
    if target.shape != input.shape:
        _warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.",
                      stacklevel=stacklevel)
        shape = _broadcast_shape(input, target)
        input, target = expand_to(input, shape), expand_to(target, shape)
    if dtype is not None:
        input, target = input.to(dtype), target.to(dtype)
    elif target.dtype is not input.dtype and input.dtype.is_floating_point:
        target = target.to(input.dtype)
    return input, target


def _broadcast_shape(input: Tensor, target: Tensor):
    """The common shape, or PyTorch's RuntimeError naming the sizes that do not match."""
    check_broadcastable(tuple(input.shape), tuple(target.shape))
    return xp.broadcast_shapes(tuple(input.shape), tuple(target.shape))


def _pointwise(op, input, target, reduction, param=None, kernel=None, to_input=False):
    """op on input and target broadcast together, in the dtype of NOTE [Pointwise loss
    dtypes]."""
    dtype = None
    if input.dtype is not target.dtype or not input.dtype.is_floating_point:
        if input.shape != target.shape:  # PyTorch broadcasts before it looks at dtypes
            _broadcast_shape(input, target)
        dtype = pointwise_dtype(input, target, kernel, to_input)
    input, target = _broadcast_pair(input, target, stacklevel=4, dtype=dtype)
    return op.apply(input, target, reduction, param)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight=None) -> Tensor:
    """Mean (or sum) of |input - target| (matches `torch.nn.functional.l1_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input.shape != target.shape:  # PyTorch broadcasts before it looks at dtypes
        _broadcast_shape(input, target)
    if input.dtype is ember_bool and target.dtype is ember_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if ember_bool in (input.dtype, target.dtype):
        # torch computes input - target here, and subtraction refuses bool tensors
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    dtype = pointwise_dtype(input, target)
    if reduction == "mean" and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {short_name(dtype)}")
    if input.dtype.is_complex or target.dtype.is_complex:  # |z| is real: a real loss
        distance = (input - target).abs()
        return {"mean": distance.mean, "sum": distance.sum}.get(reduction, lambda: distance)()
    return _pointwise(l1_node(_loss.L1Loss, reduction), input, target, reduction)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight=None) -> Tensor:
    """Mean (or sum) of (input - target)² (matches `torch.nn.functional.mse_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise(_loss.MseLoss, input, target, reduction, kernel="mse_cpu")


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Quadratic below beta, linear above (matches `torch.nn.functional.smooth_l1_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:  # PyTorch calls l1_loss then (its checks, dtypes and grad_fn)
        return l1_loss(input, target, reduction=reduction)
    return _pointwise(_loss.SmoothL1Loss, input, target, reduction, beta, kernel="smooth_l1_cpu")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """Quadratic below delta, delta-scaled linear above (matches
    `torch.nn.functional.huber_loss`)."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _pointwise(_loss.HuberLoss, input, target, reduction, delta, kernel="huber_cpu",
                      to_input=True)


def _class_weight(weight, input: Tensor):
    if weight is None:
        return None
    return weight._data.reshape(-1).astype(input._data.dtype, copy=False)


_DTYPE_WORDS = {"float32": "Float", "float64": "Double", "float16": "Half", "int32": "Int",
                "int16": "Short", "int8": "Char", "bool": "Bool"}


def cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy over dim 1 with class-index or class-probability targets
    (matches `torch.nn.functional.cross_entropy`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:  # log_softmax over dim 1
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    probabilities = target.shape == input.shape  # as PyTorch decides
    if probabilities:
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class "
                               f"probabilities, got {target.type()[6:-6]}")
        if input.numel():  # an empty log_softmax never reaches the typed kernel
            check_log_softmax_dtype(input)
        check_weight_size(input, weight, prefix="cross_entropy: ")
        if not input.dtype.is_floating_point:  # empty: the loss is in the target's dtype
            input = input.to(target.dtype)
    else:
        check_cross_entropy(input, target, weight)
        _check_weight_not_differentiable(weight, input.ndim)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.unsqueeze(0), (target.unsqueeze(0) if probabilities
                                                     else target.reshape(1))
    if not probabilities and input.ndim == 2 and is_half(input.dtype) and \
            not autocast_enabled("cpu"):  # (under autocast it runs in float32)
        # PyTorch's cross_entropy is nll_loss of log_softmax: in 16 bits the log-probabilities
        # are rounded (NOTE [nll_loss's 16-bit cascade] in ember/ops/_half_nll.py)
        out = _half_cross_entropy(input, target, weight, ignore_index, reduction,
                                  label_smoothing)
        return out.squeeze(0) if unbatched and reduction == "none" else out
    w = _class_weight(weight, input)
    if probabilities:
        probs = target.to(input.dtype)
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / input.shape[1]
        op = class_loss_node(_loss.CrossEntropy, input.ndim, reduction, probabilities=True)
        out = op.apply(input, probs, None, w, 0.0, ignore_index, reduction)
    else:
        index = target._data.astype(xp.int64, copy=False)
        op = class_loss_node(_loss.CrossEntropy, input.ndim, reduction,
                             smoothing=bool(label_smoothing))
        out = op.apply(input, None, index, w, label_smoothing, ignore_index, reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def _half_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy of a 16-bit (N, C) input with class indices, composed as PyTorch composes
    it (cross_entropy_loss_label_smoothing): every step rounded to the input's dtype."""
    logp = _log_softmax(input, 1)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    smooth = -(logp if weight is None else logp * weight.view(1, -1)).sum(1)
    ignored = target == ignore_index
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        count = (~ignored).sum() if weight is None else \
            weight.gather(0, target.masked_select(~ignored).flatten()).sum()
        smooth = smooth.sum() / count
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / input.shape[1])


def _check_weight_not_differentiable(weight, ndim):
    """PyTorch's NLL kernels take no gradient for the class weights: a weight that requires
    grad is refused while grad mode is on (even when the input does not require grad)."""
    if weight is not None and weight.requires_grad and grad_mode.is_grad_enabled():
        kernel = "nll_loss_forward" if ndim <= 2 else "nll_loss2d_forward"
        raise RuntimeError(f"The function '{kernel}' is not differentiable with respect to "
                           "argument 'weight'. This input cannot have requires_grad True.")


def nll_loss(input: Tensor, target: Tensor, weight=None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-input[n, target[n]] weighted and reduced (matches `torch.nn.functional.nll_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_class_target(input, target, weight)
    _check_weight_not_differentiable(weight, input.ndim)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = input.unsqueeze(0), target.reshape(1)
    index = target._data.astype(xp.int64, copy=False)
    op = class_loss_node(_loss.NllLoss, input.ndim, reduction)
    out = op.apply(input, index, _class_weight(weight, input), ignore_index, reduction)
    return out.squeeze(0) if unbatched and reduction == "none" else out


def binary_cross_entropy(input: Tensor, target: Tensor, weight=None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-(y·log x + (1-y)·log(1-x)) on probabilities (matches
    `torch.nn.functional.binary_cross_entropy`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if target.dtype is not input.dtype or not input.dtype.is_floating_point:
        check_bce_dtypes(input, target)
    if weight is not None:
        weight = weight.to(input.dtype).expand(input.shape)
    data = input._data
    if data.size and not ((data >= 0) & (data <= 1)).all():  # NaN fails both tests too
        raise RuntimeError("all elements of input should be between 0 and 1")
    return _loss.BinaryCrossEntropy.apply(input, target.to(input.dtype), weight, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Binary cross-entropy on logits, computed stably (matches
    `torch.nn.functional.binary_cross_entropy_with_logits`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    result = None
    if target.dtype is not input.dtype or not input.dtype.is_floating_point:
        compute, result = bce_with_logits_dtype(input, target)
        input, target = input.to(compute), target.to(compute)
    if weight is not None:
        weight = weight.to(input.dtype).expand(input.shape)
    if pos_weight is not None:
        pos_weight = pos_weight.to(input.dtype).expand(input.shape)
    loss = _loss.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)
    return loss if result is None else loss.to(result)  # in the target's dtype, as PyTorch


@float32_inputs
def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Σ target·(log target - input), input being log-probabilities (matches
    `torch.nn.functional.kl_div`)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    require_tensors("kl_div", input=input, target=target)
    if input.dtype.is_complex or target.dtype.is_complex:
        raise RuntimeError("kl_div: Complex inputs not supported.")
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "mean":
        _warn("reduction: 'mean' divides the total loss by both the batch size and the "
              "support size.'batchmean' divides only by the batch size, and aligns with "
              "the KL div math definition.'mean' will be changed to behave the same as "
              "'batchmean' in the next major release.", stacklevel=2)  # (at kl_div's caller)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = xlogy(target, target) - target * input  # PyTorch's own formula: 0 at 0, NaN
        # for a negative target, and its gradients (NaN at a zero target)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + e^(-y·x)) (matches `torch.nn.functional.soft_margin_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input.dtype is ember_bool:  # PyTorch computes -input · target
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator "
                           "instead.")
    if target.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    if target.shape != input.shape:  # target broadcasts to input's shape, without a warning
        check_broadcastable(tuple(input.shape), tuple(target.shape))
        shape = xp.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        if shape != tuple(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        target = target.expand(input.shape)
    if target.dtype is not input.dtype or not input.dtype.is_floating_point:
        target = target.to(pointwise_dtype(input, target, to_input=True, floating=True))
    return _loss.SoftMarginLoss.apply(input, target, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y·(x1 - x2) + margin) (matches `torch.nn.functional.margin_ranking_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


@float32_inputs
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (matches
    `torch.nn.functional.hinge_embedding_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    require_tensors("hinge_embedding_loss", input=input, target=target)
    # margin - input as torch computes it: margin filled into input's dtype (an integer input
    # truncates it, and the loss stays integer), then input subtracted
    margin_part = where(target != 1, (full_like(input, margin) - input).clamp(min=0), 0)
    self_part = where(target != -1, input, 0)
    return _reduce(margin_part + self_part, reduction)


@float32_inputs
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos - margin) where y = -1 (matches
    `torch.nn.functional.cosine_embedding_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_cosine_embedding(input1, input2, target)
    dim = target.ndim
    eps = 1e-12
    dot = (input1 * input2).sum(dim)
    mag = (((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)).sqrt()
    cos = dot / mag
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp(min=0),
                                                    0.0)
    return _reduce(loss, reduction)


def _check_cosine_embedding(input1, input2, target) -> None:
    """PyTorch's checks: three tensors; a 1-D target with 2-D inputs or a 0-d one with 1-D."""
    for position, (name, value) in enumerate((("input1", input1), ("input2", input2),
                                              ("target", target)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"cosine_embedding_loss(): argument '{name}' (position {position}) "
                            f"must be Tensor, not {type_name(value)}")
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != target.ndim + 1 or input2.ndim != target.ndim + 1:
        raise RuntimeError(f"{target.ndim}D target tensor expects {target.ndim + 1}D input "
                           f"tensors, but found inputs with sizes {list(input1.shape)} and "
                           f"{list(input2.shape)}.")


@float32_inputs
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) (matches `torch.nn.functional.triplet_margin_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:  # pairwise_distance would broadcast
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """triplet_margin_loss with any distance function (matches PyTorch)."""
    reduction = _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    distance = distance_function or pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp(min=0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight=None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """Per-class logistic loss averaged over classes (matches
    `torch.nn.functional.multilabel_soft_margin_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    # F.logsigmoid refuses integer inputs, as PyTorch's kernel does
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(dim=input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction)


def _check_margin_input(input: Tensor) -> None:
    """The margin losses take a non-empty vector or a matrix (rows may be none)."""
    if not (input.ndim <= 1 and input.numel() or input.ndim == 2 and input.shape[1]):
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")


@float32_inputs
def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight=None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """Σ_{i≠y} max(0, margin - x[y] + x[i])^p / C (matches
    `torch.nn.functional.multi_margin_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_margin_input(input)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    if target.ndim > 1 or target.numel() != x.shape[0]:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{x.shape[0]}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    check_multi_margin_kernel(x, target, weight)
    index = target._data.reshape(-1).astype(xp.int64)
    picked = x.gather(1, Tensor._make(index[:, None]))
    hinge = (margin - picked) + x  # in PyTorch's order, which rounds as it does
    hinge = where(hinge > 0, hinge, 0.0)  # PyTorch sums only z > 0: a NaN z counts as 0
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * Tensor._make(weight._data[index][:, None])
    not_target = get_array_module(x._data).ones(x.shape, dtype=x._data.dtype)
    not_target[xp.arange(x.shape[0]), index] = 0
    loss = (hinge * Tensor._make(not_target)).sum(1) / x.shape[1]
    if input.ndim < 2:  # one sample: the loss has the target's shape, () or (1,)
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


@float32_inputs
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Σ over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C; each
    target row lists class indices ended by -1 (matches
    `torch.nn.functional.multilabel_margin_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_margin_input(input)
    check_multilabel_margin(input, target)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x.shape).astype(xp.int64)
    # A row's targets are its entries before the first -1. NOTE [multilabel_margin_loss
    # repeats]: PyTorch sums over the listed entries, so a class listed twice counts twice.
    listed = xp.cumprod(t >= 0, axis=1).astype(bool)
    times_listed = get_array_module(t).zeros(x.shape, dtype=x._data.dtype)
    rows = xp.nonzero(listed)[0]
    xp.add.at(times_listed, (rows, t[listed]), 1)
    is_target = times_listed > 0
    pairs = times_listed[:, :, None] * ~is_target[:, None, :]
    hinge = 1 - x.unsqueeze(2) + x.unsqueeze(1)
    # the pairs whose hinge is positive (PyTorch's `z > 0`: a NaN z adds nothing), selected
    # rather than multiplied by a 0/1 mask (inf·0 outside them)
    counted = Tensor._make((pairs > 0) & (hinge._data > 0))
    loss = where(counted, hinge * Tensor._make(pairs), 0.0).sum((1, 2)) / x.shape[1]
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


@float32_inputs
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of a Poisson target (matches
    `torch.nn.functional.poisson_nll_loss`)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    require_tensors("poisson_nll_loss", input=input, target=target)
    if full and target.dtype is ember_bool:  # Stirling's term subtracts the target
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:  # Stirling's term t·log t - t + ½log(2πt) for t > 1, differentiable in t
        above_one = Tensor._make(target._data > 1)
        safe = where(above_one, target, 1.0)
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + where(above_one, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """½(log max(var, eps) + (input - target)²/max(var, eps)) (matches
    `torch.nn.functional.gaussian_nll_loss`)."""
    _check_reduction(reduction)
    if var is None or isinstance(var, (bool, int, list, tuple, str)) or not isinstance(
            var, (Tensor, float)):  # PyTorch takes a float or a tensor (torch.any(var < 0))
        raise TypeError(f"gaussian_nll_loss(): var must be a float or a Tensor, not "
                        f"{type(var).__name__}")
    if not isinstance(var, Tensor):
        module = get_array_module(input._data)
        var = Tensor._make(module.full(input.shape, var, dtype=input._data.dtype))
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if xp.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    if not var.dtype.is_floating_point:  # PyTorch clamps var in place: a float can't go there
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{'bool' if var.dtype is ember_bool else 'long int'}")
    if ember_bool in (input.dtype, getattr(target, "dtype", None)) or \
            isinstance(target, bool):  # PyTorch computes input - target
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    # NOTE [gaussian_nll clamp]: PyTorch clamps var in place under no_grad, so the gradient
    # flows through the clamp as if it were the identity.
    clamped = xp.maximum(var._data, eps).astype(var._data.dtype)
    var = var + Tensor._make(clamped - var._data)
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
