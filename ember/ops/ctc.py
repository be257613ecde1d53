"""The connectionist temporal classification (CTC) loss as one op: the forward (alpha) and
backward (beta) recursions in log space, on the whole batch at once (a loop over time only).

NOTE [CTC on the extended label sequence]
Target l (length U) becomes l' = (blank, l1, blank, l2, ..., lU, blank) of length 2U+1. A path
through time may stay on a position s, move to s+1, or skip a blank to s+2 when l'[s+2] is a
label different from l'[s]. With y[t, k] = log_probs[t, k] and e[t, s] = y[t, l'[s]]:

    α[0, 0] = e[0, 0],  α[0, 1] = e[0, 1],
    α[t, s] = logsumexp(α[t-1, s], α[t-1, s-1], α[t-1, s-2] if skip allowed) + e[t, s]
    β[T-1, 2U] = e[T-1, 2U],  β[T-1, 2U-1] = e[T-1, 2U-1],
    β[t, s] = logsumexp(β[t+1, s], β[t+1, s+1], β[t+1, s+2] if skip allowed) + e[t, s]
    nll = -logsumexp(α[T-1, 2U], α[T-1, 2U-1])

Every sequence n has its own T_n and U_n: positions past 2U_n are -inf, and β starts at t = T_n-1.

NOTE [PyTorch's CTC gradient]
α·β counts y[t, l'[s]] twice, so Σ_{s: l'[s]=k} α[t,s]·β[t,s] / y[t,k] is the probability mass of
the paths through label k at time t. The true derivative of nll with respect to y[t, k] is minus
that mass over P = e^{-nll}. PyTorch returns
    g[t, k] = exp(y[t, k]) - exp(log Σ_{s: l'[s]=k} α·β + nll - y[t, k])
for t < T_n, and 0 after: the extra exp(y) term is what log_softmax's backward subtracts again, so
the gradient with respect to the logits before a log_softmax is exact, while the gradient with
respect to log_probs itself is PyTorch's convention, not the derivative. ember matches it.
"""

from ember._backend import get_array_module, quiet, xp
from ember._tensor import Tensor
from ember.autograd.function import Op, once_differentiable


def _logsumexp3(a, b, c):
    """log(e^a + e^b + e^c) elementwise, -inf where all three are -inf."""
    top = xp.maximum(xp.maximum(a, b), c)
    finite = xp.where(top == -xp.inf, 0, top)
    with quiet():
        return finite + xp.log(xp.exp(a - finite) + xp.exp(b - finite) + xp.exp(c - finite))


def _shift(array, by: int, fill):
    """array moved `by` places along the last axis (right for by > 0), filled with `fill`."""
    out = xp.full_like(array, fill)
    if by > 0:
        out[..., by:] = array[..., :-by]
    else:
        out[..., :by] = array[..., -by:]
    return out


def extended_labels(targets, target_lengths, blank: int):
    """(l' labels (N, 2U+1), skip allowed (N, 2U+1), valid positions (N, 2U+1))."""
    batch, width = targets.shape
    module = get_array_module(targets)
    labels = module.full((batch, 2 * width + 1), blank, dtype=targets.dtype)
    labels[:, 1::2] = targets
    skip = module.zeros(labels.shape, dtype=bool)
    skip[:, 3::2] = labels[:, 3::2] != labels[:, 1:-2:2]
    valid = module.arange(labels.shape[1])[None, :] < (2 * target_lengths + 1)[:, None]
    return labels, skip, valid


def _forward_alpha(emit, skip, input_lengths):
    """α (T, N, 2U+1) by the forward recursion (NOTE [CTC on the extended label sequence])."""
    steps = emit.shape[0]
    alpha = xp.full_like(emit, -xp.inf)
    alpha[0, :, :2] = emit[0, :, :2]
    for t in range(1, steps):
        prev = alpha[t - 1]
        two_back = xp.where(skip, _shift(prev, 2, -xp.inf), -xp.inf)
        alpha[t] = _logsumexp3(prev, _shift(prev, 1, -xp.inf), two_back) + emit[t]
    return alpha


def _backward_beta(emit, skip, input_lengths, target_lengths):
    """β (T, N, 2U+1) by the backward recursion, started at each sequence's last step."""
    steps, batch, width = emit.shape
    module = get_array_module(emit)
    beta = xp.full_like(emit, -xp.inf)
    ends = 2 * target_lengths
    rows = module.arange(batch)
    start = module.full((batch, width), -xp.inf, dtype=emit.dtype)
    skip_next = _shift(skip, -2, False)
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            after = beta[t + 1]
            two_on = xp.where(skip_next, _shift(after, -2, -xp.inf), -xp.inf)
            beta[t] = _logsumexp3(after, _shift(after, -1, -xp.inf), two_on) + emit[t]
        last = input_lengths - 1 == t
        if last.any():
            start.fill(-xp.inf)
            start[rows, ends] = emit[t, rows, ends]
            has = ends > 0
            start[rows[has], ends[has] - 1] = emit[t, rows[has], ends[has] - 1]
            beta[t] = xp.where(last[:, None], start, beta[t])
        beta[t] = xp.where((t >= input_lengths)[:, None], -xp.inf, beta[t])
    return beta


class CtcLoss(Op):
    """nll[n] = -log P(target_n | log_probs[:, n]) by the α recursion; the gradient is
    PyTorch's (NOTE [PyTorch's CTC gradient]) from α and β, scaled by gy[n]."""

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        y = log_probs._data
        rows = get_array_module(y).arange(y.shape[1])
        labels, skip, valid = extended_labels(targets, target_lengths, blank)
        emit = xp.where(valid[None], y[:, rows[:, None], labels], -xp.inf)
        alpha = _forward_alpha(emit, skip, input_lengths)
        last = alpha[xp.maximum(input_lengths - 1, 0), rows]
        ends = 2 * target_lengths
        end_minus = xp.where(ends > 0, last[rows, xp.maximum(ends - 1, 0)], -xp.inf)
        nll = -_logsumexp3(last[rows, ends], end_minus, xp.full_like(end_minus, -xp.inf))
        empty = input_lengths == 0  # no frames: probability 1 for an empty target, else 0
        nll = xp.where(empty, xp.where(target_lengths == 0, 0.0, xp.inf), nll).astype(y.dtype)
        ctx.arrays = (emit, alpha, labels, skip, input_lengths, target_lengths, nll)
        ctx.zero_infinity = zero_infinity
        ctx.save_for_backward(log_probs)
        if zero_infinity:
            nll = xp.where(nll == xp.inf, 0, nll).astype(y.dtype)
        return nll

    @staticmethod
    @once_differentiable
    def backward(ctx, gy):
        (log_probs,) = ctx.saved_tensors
        emit, alpha, labels, skip, input_lengths, target_lengths, nll = ctx.arrays
        y = log_probs._data
        beta = _backward_beta(emit, skip, input_lengths, target_lengths)
        mass = _label_log_mass(alpha + beta, labels, y.shape[-1])
        with quiet():
            grad = xp.exp(y) - xp.exp(mass + nll[None, :, None] - y)
        grad *= gy._data.reshape(1, -1, 1).astype(y.dtype)
        frames = get_array_module(y).arange(y.shape[0])[:, None] < input_lengths[None, :]
        keep = frames if not ctx.zero_infinity else frames & (nll != xp.inf)[None, :]
        return (Tensor._make(xp.where(keep[..., None], grad, 0).astype(y.dtype)),
                None, None, None, None, None)


def _label_log_mass(log_ab, labels, classes: int):
    """log Σ_{s: l'[s]=k} exp(log_ab[t, n, s]) for every class k: (T, N, C), one matmul."""
    top = log_ab.max(axis=-1, keepdims=True)
    top = xp.where(top == -xp.inf, 0, top)
    with quiet():
        weights = xp.exp(log_ab - top)
    classes = get_array_module(labels).arange(classes)
    one_hot = (labels[:, :, None] == classes[None, None, :]).astype(log_ab.dtype)
    summed = xp.matmul(weights.transpose(1, 0, 2), one_hot).transpose(1, 0, 2)
    with quiet():
        return xp.log(summed) + top
