"""Batching rules of the matrix products and the nn ops (see ember/func/_rules.py).

Matrix products line the batch up with the products' own batch dims; linear, convolution and
the losses fold vmap's batch into the op's leading dim N (a (B, N, ...) batch is one (B·N, ...)
call) when the weights are not batched, and the losses reduce each batch element on its own.
"""

from ember._backend import xp
from ember._tensor import Tensor
from ember.func._batched import _aligned_array, batch_size, level_of, physical, wrap
from ember.func._rules import _batched_only, _expanded, _register, broadcasting
from ember.ops import conv, linalg, linalg_core, loss_ops, nn_ops, padding, pool, pool_avg
from ember.ops import einsum as einsum_ops
from ember.ops.linalg import matmul
from ember.ops.shape import transpose


# ---- matrix products --------------------------------------------------------------------------
def _as_matrix_operand(t, level, vector_axis, rank):
    """A product operand as a (batch of) matrix of logical rank `rank` (B in front if batched)."""
    value = physical(t, level)
    operand = t if value is None else value
    if t.dim() == 1:
        operand = operand.unsqueeze(vector_axis)
    if value is not None:
        pad = rank - max(t.dim(), 2)
        if pad:
            operand = operand[(slice(None),) + (None,) * pad]
    return operand


def product(cls, level, args, kwargs):
    """matmul/mm/mv/dot: vectors become 1-row/1-column matrices, batch dims padded to match."""
    a, b = args
    rank = max(a.dim(), b.dim(), 2)
    y = matmul(_as_matrix_operand(a, level, -2, rank), _as_matrix_operand(b, level, -1, rank))
    if a.dim() == 1:
        y = y.squeeze(-2)
    if b.dim() == 1:
        y = y.squeeze(-1)
    return wrap(y, level)


def outer(cls, level, args, kwargs):
    """outer(a, b) = a[:, None]·b[None, :] on the batched tensors."""
    a, b = args
    return a.unsqueeze(-1) * b.unsqueeze(-2)


def addmm(cls, level, args, kwargs):
    """beta·c + alpha·(a @ b) on the batched tensors (c ignored when beta is 0, as torch)."""
    c, a, b, beta, alpha = args
    y = matmul(a, b)
    if alpha != 1:
        y = y * alpha
    if beta != 0:
        y = y + (c if beta == 1 else c * beta)
    return y


def einsum(cls, level, args, kwargs):
    """einsum: the batched operands and the output get one more index, in front (the equation
    arrives parsed: (input terms, output term))."""
    (terms, output), operands = args[0], args[1:]
    used = "".join(terms) + output
    letter = next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                  if c not in used)
    new_terms, values = [], []
    for term, x in zip(terms, operands):
        value = physical(x, level)
        new_terms.append(term if value is None else letter + term)
        values.append(x if value is None else value)
    return wrap(cls.apply((new_terms, letter + output), *values), level)


def trace(cls, level, args, kwargs):
    """trace: the sum of each batch element's diagonal."""
    value = physical(args[0], level)
    return wrap(linalg_core.Diagonal.apply(value, 0, 1, 2).sum(-1), level)


_register(einsum, einsum_ops.Einsum)
_register(trace, linalg.Trace)
_register(product, linalg.Matmul, linalg.Mm, linalg.Mv, linalg.Dot)
_register(outer, linalg.Outer)
_register(addmm, linalg.Addmm)


def linear(cls, level, args, kwargs):
    """x·Wᵀ + b: one Linear over every leading dim when W, b are shared, else a product."""
    x, w, b = args
    if _batched_only(args, level, (0,)):
        return wrap(cls.apply(physical(x, level), w, b), level)
    y = matmul(x, transpose(w, 0, 1) if w.dim() == 2 else w)
    return y if b is None else y + b


_register(linear, nn_ops.Linear)


# ---- batch folding ----------------------------------------------------------------------------
def _fold(value):
    """(B, N, *rest) -> (B·N, *rest)."""
    shape = tuple(value.shape)
    return value.reshape((shape[0] * shape[1],) + shape[2:])


def _unfold(value, size):
    """(B·N, *rest) -> (B, N, *rest)."""
    shape = tuple(value.shape)
    return value.reshape((size, shape[0] // size) + shape[1:])


def folded(cls, level, args, kwargs):
    """Ops over a leading N dim (conv, pooling) with shared weights: one call on B·N items."""
    x = args[0]
    if not _batched_only(args, level, (0,)) or x.dim() < 2:
        return NotImplemented
    size = batch_size(x, level)
    out = cls.apply(_fold(physical(x, level)), *args[1:], **kwargs)
    if isinstance(out, tuple):
        return tuple(wrap(_unfold(o, size), level) for o in out)
    return wrap(_unfold(out, size), level)


def add_batch(cls, level, args, kwargs):
    """x[None] of each batch element."""
    return wrap(physical(args[0], level)[:, None], level)


def drop_batch(cls, level, args, kwargs):
    """x[0] of each batch element."""
    return wrap(physical(args[0], level)[:, 0], level)


_register(folded, conv.Convolution, pool.MaxPool, pool_avg.AvgPool)


def constant_pad(cls, level, args, kwargs):
    """pad: the batch dim gets no padding."""
    x, pads, value = args
    if not _batched_only(args, level, (0,)):
        return NotImplemented
    return wrap(cls.apply(physical(x, level), ((0, 0),) + tuple(pads), value), level)


_register(constant_pad, padding.ConstantPad)
_register(broadcasting, nn_ops.MaskScale)
_register(add_batch, conv.AddBatch)
_register(drop_batch, conv.DropBatch)


def normalize(cls, level, args, kwargs):
    """layer/group/batch norm over `axes` with shared affine parameters: axes shifted, the
    statistics (batched arrays when computed from the batch) lined up under it."""
    x, w, b, axes, eps, affine_shape, mean, var, batch_stats = args
    if level_of(w) == level or level_of(b) == level:
        return NotImplemented
    rank = x.dim()
    stats = [_aligned_array(s, level, rank) for s in (mean, var)]
    return wrap(cls.apply(physical(x, level), w, b, tuple(a + 1 for a in axes), eps,
                          affine_shape, *stats, batch_stats), level)


_register(normalize, nn_ops.Normalize)


# ---- losses -----------------------------------------------------------------------------------
def _per_element_reduction(losses, reduction, denominators):
    """(B, ...) unreduced losses -> (B,) sums or means (or unchanged for 'none')."""
    if reduction == "none":
        return losses
    dims = tuple(range(1, losses.dim()))
    total = losses.sum(dim=dims) if dims else losses
    if reduction == "sum":
        return total
    return total / denominators


def _index_denominators(index, weight, ignore_index, dtype):
    """Σ_n w[y_n] over non-ignored n, per batch element (the 'mean' of nll/cross-entropy)."""
    valid = index != ignore_index
    w = valid.astype(dtype) if weight is None else weight[xp.where(valid, index, 0)] * valid
    return w.reshape(w.shape[0], -1).sum(axis=1).astype(dtype)


def class_loss(cls, level, args, kwargs):
    """cross_entropy / nll_loss with class-index targets: B·N rows, reduced per element."""
    if issubclass(cls, loss_ops.CrossEntropy):  # (or its node under another name)
        x, probs, index, weight, eps, ignore_index, reduction = args
        if probs is not None:
            return NotImplemented
    else:
        x, index, weight, ignore_index, reduction = args
    if level_of(weight) == level:
        return NotImplemented
    size = batch_size(x if level_of(x) == level else index, level)
    value = _expanded(x, level, size)
    targets = physical(index, level)
    if targets is None:
        targets = xp.broadcast_to(index, (size,) + index.shape)
    if level_of(targets) or level_of(value):
        return NotImplemented  # nested: the loop handles it
    flat = xp.ascontiguousarray(targets).reshape((-1,) + targets.shape[2:])
    if issubclass(cls, loss_ops.CrossEntropy):  # (or its node under another name)
        out = cls.apply(_fold(value), None, flat, weight, eps, ignore_index, "none")
    else:
        out = cls.apply(_fold(value), flat, weight, ignore_index, "none")
    denominators = None
    if reduction == "mean":
        denominators = _const(_index_denominators(targets, weight, ignore_index,
                                                  value._data.dtype))
    return wrap(_per_element_reduction(_unfold(out, size), reduction, denominators), level)


def pointwise_loss(cls, level, args, kwargs):
    """mse/l1/smooth-l1/huber: unreduced on the batch, then reduced per element."""
    x, y, reduction, param = (tuple(args) + (None,))[:4]
    if tuple(x.shape) != tuple(y.shape):
        return NotImplemented
    size = batch_size(x if level_of(x) == level else y, level)
    losses = cls.apply(_expanded(x, level, size), _expanded(y, level, size), "none", param)
    count = _const(xp.asarray(x.numel(), dtype=losses._data.dtype))
    return wrap(_per_element_reduction(losses, reduction, count), level)


def _const(array):
    return Tensor._make(xp.asarray(array))


def binary_loss(cls, level, args, kwargs):
    """binary cross-entropy (on probabilities or logits): unreduced on the batch, then reduced
    per element; weights shared."""
    x, y, reduction = args[0], args[1], args[-1]
    if not _batched_only(args, level, (0, 1)) or tuple(x.shape) != tuple(y.shape):
        return NotImplemented
    size = batch_size(x if level_of(x) == level else y, level)
    losses = cls.apply(_expanded(x, level, size), _expanded(y, level, size), *args[2:-1],
                       "none")
    count = _const(xp.asarray(x.numel(), dtype=losses._data.dtype))
    return wrap(_per_element_reduction(losses, reduction, count), level)


_register(binary_loss, loss_ops.BinaryCrossEntropy, loss_ops.BinaryCrossEntropyWithLogits)
_register(class_loss, loss_ops.CrossEntropy, loss_ops.NllLoss)
_register(pointwise_loss, *[c for c in vars(loss_ops).values()
                            if isinstance(c, type) and issubclass(c, loss_ops.Pointwise)])
