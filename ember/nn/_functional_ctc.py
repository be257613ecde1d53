"""F.ctc_loss: argument checks, target layouts and reductions around the fused CTC op of
`ember.ops.ctc` (matches `torch.nn.functional.ctc_loss`)."""


from ember._warnings import warn as _warn
from ember._backend import xp
from ember._schemas import parser
from ember._tensor import Tensor
from ember.ops.ctc import CtcLoss
from ember.ops.reduction import _type_word

__all__ = ["ctc_loss"]

_WHERE = " (while checking arguments for ctc_loss_allocate_outputs)"


def _lengths(lengths, name: str, batch: int):
    """Lengths given as a tensor, a tuple or a list, as an int64 array of size batch."""
    if isinstance(lengths, Tensor):
        if lengths.dtype.is_floating_point or lengths.dtype.name == "bool":
            raise RuntimeError(f"{name} must be integral")
        array = lengths._data.reshape(-1)
    else:
        array = xp.asarray(lengths).reshape(-1)
        if array.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
    if array.shape[0] != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return array.astype(xp.int64)


def _check_range(values, name: str, upper=None):
    if values.size and values.min() < 0:
        raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                           f"{int(values.min())}{_WHERE}")
    if upper is not None and values.size and values.max() > upper:
        raise RuntimeError(f"Expected {name} to have value at most {upper}, but got value "
                           f"{int(values.max())}{_WHERE}")


def _padded_targets(targets: Tensor, target_lengths, batch: int):
    """Targets as a padded (N, max length) int64 array, from the padded or concatenated form."""
    data = targets._data.astype(xp.int64)
    longest = int(target_lengths.max()) if target_lengths.size else 0
    if data.ndim == 1:
        total = int(target_lengths.sum())
        if data.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got "
                               f"size {data.shape[0]} for argument #2 'targets'{_WHERE}")
        starts = xp.concatenate([[0], xp.cumsum(target_lengths)[:-1]]).astype(xp.int64)
        column = xp.arange(longest)
        index = xp.minimum(starts[:, None] + column[None, :], max(total - 1, 0))
        padded = data[index] if total else xp.zeros((batch, longest), dtype=xp.int64)
        return xp.where(column[None, :] < target_lengths[:, None], padded, 0)
    if data.shape[1] < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, "
                           f"but got size {data.shape[1]} for argument #2 'targets'{_WHERE}")
    return data[:, :longest]


_REDUCTIONS = {"none": 0, "mean": 1, "elementwise_mean": 1, "sum": 2}


def _parsed(log_probs, targets, input_lengths, target_lengths, blank, reduction,
            zero_infinity):
    """The arguments as torch.ctc_loss's parser takes them from PyTorch's F.ctc_loss, which
    turns `reduction` into its number first: lengths both tensors or both int lists, blank an
    int, zero_infinity a bool (else its TypeError); reduction back as "none"/"mean"/"sum"."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "elementwise_mean":
        _warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        reduction = "mean"
    (args, _), _ = parser("torch.ctc_loss").parse(
        (log_probs, targets, input_lengths, target_lengths, blank, _REDUCTIONS[reduction],
         zero_infinity), {})
    return (*args[:5], reduction, args[6])


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of log_probs (T, N, C) against targets (matches
    `torch.nn.functional.ctc_loss`)."""
    log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity = \
        _parsed(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity)
    unbatched = log_probs.ndim != 3  # PyTorch adds the batch dim to any other rank
    if unbatched:  # targets stay 1-D: the concatenated layout of a batch of one
        log_probs = log_probs.unsqueeze(1)
    if not log_probs.dtype.is_floating_point:  # the kernel's dtype comes before its checks
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for '
                                  f"'{_type_word(log_probs.dtype)}'")
    if log_probs.ndim != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.ndim}-dimensional "
                           f"tensor for argument #1 'log_probs'{_WHERE}")
    if not 1 <= targets.ndim <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.ndim}-dimensional "
                           f"tensor for argument #2 'targets'{_WHERE}")
    steps, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    input_lengths = _lengths(input_lengths, "input_lengths", batch)
    target_lengths = _lengths(target_lengths, "target_lengths", batch)
    _check_range(input_lengths, "input_lengths", steps)
    _check_range(target_lengths, "target_lengths")
    padded = _padded_targets(targets, target_lengths, batch)
    nll = CtcLoss.apply(log_probs, padded, input_lengths, target_lengths, int(blank),
                        bool(zero_infinity))
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":
        divisor = xp.maximum(target_lengths, 1).astype(log_probs._data.dtype)
        return (nll / Tensor._make(divisor)).mean()
    return nll.squeeze(0) if unbatched else nll
