"""The aten-level losses torch exposes at the top level: `torch.kl_div`, `torch.ctc_loss`,
`torch.margin_ranking_loss`, ... with the reduction as aten's integer enum (0 none, 1 mean,
2 sum; any other value reduces nothing) and without nn.functional's Python-level checks
(NOTE [aten forms of the functional ops] in ember/ops/aten_functional.py).

aten's composite losses compute the elementwise loss, then reduce it (`apply_loss_reduction`):
here that is F's loss with reduction "none", then `_reduced`, so the gradient runs through the
same mean or sum node as torch's. Losses with a kernel of their own (binary cross-entropy with
logits, CTC) take F's reduction string instead.
"""

from ember._registry import FUNCTIONS, torch_function
from ember._tensor import Tensor
from ember.ops._util import check_broadcast
from ember.ops.aten_functional import _functional
from ember.ops.comparison import minimum

_REDUCTION_NAMES = {0: "none", 1: "mean", 2: "sum"}  # at::Reduction


def _name(reduction: int) -> str:
    """F's reduction string for aten's enum (an unknown value reduces nothing, as in aten)."""
    return _REDUCTION_NAMES.get(reduction, "none")


def _reduced(loss: Tensor, reduction: int) -> Tensor:
    """aten's apply_loss_reduction: the mean for 1, the sum for 2, else the loss itself."""
    if reduction == 1:
        return loss.mean()
    if reduction == 2:
        return loss.sum()
    return loss


@torch_function()
def kl_div(input: Tensor, target: Tensor, reduction: int = 1, *,
           log_target: bool = False) -> Tensor:
    """Σ target·(log target - input) (matches `torch.kl_div`: no 'batchmean', and no warning
    for the mean)."""
    return _reduced(_functional().kl_div(input, target, reduction="none",
                                         log_target=log_target), reduction)


@torch_function()
def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         reduction: int = 1) -> Tensor:
    """input where target is 1, max(0, margin - input) where it is -1 (matches
    `torch.hinge_embedding_loss`)."""
    loss = _functional().hinge_embedding_loss(input, target, margin, reduction="none")
    return _reduced(loss, reduction)


@torch_function()
def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: int = 1) -> Tensor:
    """1 - cos(x1, x2) where target is 1, max(0, cos - margin) where it is -1 (matches
    `torch.cosine_embedding_loss`)."""
    loss = _functional().cosine_embedding_loss(input1, input2, target, margin,
                                               reduction="none")
    return _reduced(loss, reduction)


@torch_function()
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: int = 1) -> Tensor:
    """max(0, -target·(x1 - x2) + margin) (matches `torch.margin_ranking_loss`).

    aten's formula itself: F.margin_ranking_loss refuses inputs of different ranks, which aten
    broadcasts."""
    return _reduced((-target * (input1 - input2) + margin).clamp_min(0), reduction)


@torch_function()
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: int) -> Tensor:
    """The Poisson negative log-likelihood, every argument required (matches
    `torch.poisson_nll_loss`)."""
    loss = _functional().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                          reduction="none")
    return _reduced(loss, reduction)


@torch_function()
def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        reduction: int = 1) -> Tensor:
    """max(margin + d(a, p) - d(a, n), 0), d the pairwise p-distance (matches
    `torch.triplet_margin_loss`).

    aten's formula itself: F.triplet_margin_loss refuses margin <= 0 (aten takes any), and
    aten adds the margin first."""
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    distance = FUNCTIONS["pairwise_distance"]
    d_pos = distance(anchor, positive, p, eps)
    d_neg = distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative, p, eps))
    return _reduced((margin + d_pos - d_neg).clamp_min(0), reduction)


@torch_function()
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight=None,
                                     pos_weight=None, reduction: int = 1) -> Tensor:
    """Binary cross-entropy of logits (matches `torch.binary_cross_entropy_with_logits`).

    aten does not ask for equal shapes as F does: it computes (1 - target)·input in place in
    target's shape, so an input that broadcasts into the target's shape is taken."""
    if input.shape != target.shape:
        shape = _into_target(input, target)
        input = input.expand(shape)
    return _functional().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_name(reduction), pos_weight=pos_weight)


def _into_target(input: Tensor, target: Tensor) -> tuple:
    """target's shape, when input broadcasts into it; else aten's error."""
    check_broadcast(tuple(target.shape), tuple(input.shape))
    length = max(input.ndim, target.ndim)
    padded = [(1,) * (length - t.ndim) + tuple(t.shape) for t in (input, target)]
    shape = tuple(b if a == 1 else a for a, b in zip(*padded))
    if shape != tuple(target.shape):
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the "
                           f"broadcast shape {list(shape)}")
    return shape


@torch_function()
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: int = 1, zero_infinity: bool = False) -> Tensor:
    """The CTC loss, lengths as tensors or int lists (matches `torch.ctc_loss`)."""
    return _functional().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                                  _name(reduction), zero_infinity)
