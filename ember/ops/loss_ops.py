"""Fused loss ops: cross-entropy (log_softmax + nll in one op), nll, binary cross-entropy (on
probabilities and on logits), and the pointwise regression losses (mse, l1, smooth-l1, huber).

Each op applies its reduction itself ('none' | 'sum' | 'mean'), so the loss is one node.

NOTE [Cross-entropy as one coefficient matrix]
Every cross-entropy variant is l_n = -Σ_c A[n,c]·log p[n,c] with p = softmax(x) over the class
dim, where A holds the target: w[y_n]·onehot(y_n) for class indices (scaled by 1-ε, plus ε/C·w
with label smoothing ε; zero rows for ignore_index), or target·w for class probabilities. Then
gx = g_n·(Σ_c A[n,c]·p - A), one formula for all of them. The mean divides by Σ_n w[y_n] over
non-ignored n (index targets) or by the number of rows (probability targets), as PyTorch does.
"""

import math

from ember._backend import get_array_module, quiet, xp
from ember._tensor import Tensor
from ember._threads import parallel_blocks
from ember.autograd import grad_mode
from ember.autograd.function import Op
from ember.ops._node_names import cross_entropy_edges, nll_loss_edges
from ember.ops._half_nll import half_nll_reduce
from ember.ops._opmath import is_half, widen
from ember.ops import activation_kernels
from ember.ops._selection import where_array
from ember.ops.unary import sign_array
from ember.ops.activation import LogSigmoid
from ember.ops.comparison import where

_state = grad_mode._state


def _const(array) -> Tensor:
    return Tensor._make(xp.asanyarray(array))


def _put(out, values):
    """out[...] = values (a kernel's chunk of a loss)."""
    out[...] = values


def _reduce_array(loss: xp.ndarray, reduction: str, denominator=None) -> xp.ndarray:
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return total
    with quiet():
        count = loss.size if denominator is None else denominator
        count = get_array_module(loss).asarray(count, dtype=loss.dtype)
        return xp.asanyarray(total / count, dtype=loss.dtype)


def _grad_scale(gy: Tensor, reduction: str, count, extra_dims: int = 0) -> Tensor:
    """The loss's gradient per element: gy itself ('none'), or gy / count ('mean')."""
    if reduction == "mean":  # (an empty input's mean is NaN: its gradient is empty anyway)
        gy = gy / count if count else gy * math.nan
    if reduction == "none" and extra_dims:
        gy = gy.unsqueeze(1)
    return gy


def _log_softmax(x: xp.ndarray, axis: int) -> xp.ndarray:
    if not x.size:
        return x.copy()
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


class _IndexTarget:
    """Class-index targets resolved once: safe indices, w[y_n] (0 where ignored), Σ w[y_n]."""

    def __init__(self, index, weight, ignore_index, num_classes, dtype):
        valid = index != ignore_index
        every = bool(valid.all())
        safe = index if every else xp.where(valid, index, 0)
        if safe.size and (safe.min() < 0 or safe.max() >= num_classes):
            bad = safe[(safe < 0) | (safe >= num_classes)][0]
            raise IndexError(f"Target {bad} is out of bounds.")
        self.valid, self.safe = valid, safe
        if weight is None:  # w = 1: w[y_n] is whether y_n counts, and Σ w[y_n] a count
            self.w = get_array_module(index).ones(num_classes, dtype=dtype)
            self.w_target = valid.astype(dtype)
            self.denominator = float(safe.size if every else xp.count_nonzero(valid))
        else:
            self.w = weight
            self.w_target = (weight[safe] * valid).astype(dtype)
            self.denominator = float(self.w_target.sum(dtype=xp.float64))

    def picked(self, logp):
        """logp[n, y_n] for every n (and spatial position)."""
        if logp.ndim == 2:  # (a plain gather: take_along_axis builds its index in Python)
            return logp[xp.arange(logp.shape[0]), self.safe]
        return xp.take_along_axis(logp, self.safe[:, None], axis=1)[:, 0]

    def coefficients(self, shape, dtype, eps):
        """The dense A of the NOTE, of the input's shape."""
        coeff = get_array_module(self.safe).zeros(shape, dtype=dtype)
        xp.put_along_axis(coeff, self.safe[:, None], ((1 - eps) * self.w_target)[:, None], 1)
        if eps:
            view = (1, -1) + (1,) * (len(shape) - 2)
            coeff += (eps / shape[1]) * self.w.reshape(view) * self.valid[:, None]
        return coeff

    def loss(self, logp, eps):
        """l_n = -Σ_c A[n,c]·logp[n,c] without building A."""
        loss = -(1 - eps) * self.w_target * self.picked(logp)
        if eps:
            shape = (1, -1) + (1,) * (logp.ndim - 2)
            smooth = (logp * self.w.reshape(shape)).sum(axis=1) * self.valid
            loss = loss - (eps / logp.shape[1]) * smooth
        return loss.astype(logp.dtype, copy=False)


class CrossEntropy(Op):
    """l = -Σ_c A·log_softmax(x) (see NOTE);  gx = g·(ΣA·p - A),  g(probability target) =
    -g·w·log_softmax(x)."""

    node_name = "NllLossBackward0"
    torch_edges = staticmethod(cross_entropy_edges)

    @staticmethod
    def forward(ctx, x, probs, index, weight, eps, ignore_index, reduction):
        ctx.ndim = x._data.ndim
        if probs is None and not eps:  # NOTE [Cross-entropy with class indices]
            target = _IndexTarget(index, weight, ignore_index, x._data.shape[1], x._data.dtype)
            ctx.exp_shifted, ctx.exp_sum, picked = _softmax_parts(x._data, target)
            loss = (-target.w_target * picked).astype(x._data.dtype, copy=False)
            ctx.logp, ctx.target, ctx.eps, ctx.weight = None, target, eps, weight
            ctx.reduction, ctx.denominator = reduction, target.denominator
            ctx.save_for_backward(x, probs)
            return _reduce_array(loss, reduction, target.denominator)
        logp = _log_softmax(x._data, 1)
        if probs is None:
            target = _IndexTarget(index, weight, ignore_index, logp.shape[1], logp.dtype)
            loss, denominator = target.loss(logp, eps), target.denominator
        else:
            target = None
            coeff = probs._data if weight is None else probs._data * _class_view(weight,
                                                                                 logp.ndim)
            # the mean divides by numel / C, which is 0/0 (NaN) without classes, as in PyTorch
            loss = -(coeff * logp).sum(axis=1)
            denominator = logp.size // logp.shape[1] if logp.shape[1] else float("nan")
        ctx.logp, ctx.target, ctx.eps, ctx.weight = logp, target, eps, weight
        ctx.reduction, ctx.denominator = reduction, denominator
        ctx.save_for_backward(x, probs)
        return _reduce_array(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, gy):
        x, probs = ctx.saved_tensors
        if not _state["enabled"] and probs is None and not ctx.eps:
            return (_index_target_grad(ctx, gy._data), None, None, None, None, None, None)
        g = _grad_scale(gy, ctx.reduction, ctx.denominator, extra_dims=1)
        if _state["enabled"]:  # create_graph: p and log p as functions of x
            logp = x.log_softmax(1)
            p = logp.exp()
        else:
            logp = _const(ctx.logp)
            p = _const(xp.exp(ctx.logp))
        weight = None if ctx.weight is None else _const(_class_view(ctx.weight, x.ndim))
        if probs is None:
            coeff = _const(ctx.target.coefficients(x._data.shape, x._data.dtype, ctx.eps))
        else:
            coeff = probs if weight is None else probs * weight
        gx = gprobs = None
        if ctx.needs_input_grad[0]:
            gx = g * (coeff.sum(1, keepdim=True) * p - coeff)
        if ctx.needs_input_grad[1]:
            gprobs = -g * (logp if weight is None else logp * weight)
        return gx, gprobs, None, None, None, None, None


def _softmax_parts(x, target):
    """e = exp(x - max x) (over the class dim), Σ e, and log_softmax(x) at the targets.

    NOTE [Cross-entropy with class indices]
    With class-index targets and no label smoothing, neither the loss nor its first-order
    gradient needs the whole log_softmax: the loss needs log p[n, y_n] = (x - max)[n, y_n] -
    log Σ e, and the gradient g·w_y·(p - onehot(y)) needs p = e / Σ e. So the forward makes one
    array (x - max, exponentiated in place) in four passes and keeps it; the backward is one
    pass over it. (create_graph recomputes log_softmax from x.) Big 2-D logits are done in
    blocks of rows on the intra-op threads: each row's arithmetic is the same either way.
    """
    if x.ndim != 2 or x.size < 2 * _ROW_BLOCK:
        e = x - x.max(axis=1, keepdims=True)
        picked = target.picked(e)
        xp.exp(e, out=e)
        total = e.sum(axis=1)
        return e, total, picked - xp.log(total)
    module = get_array_module(x)
    e, total = module.empty_like(x), module.empty(x.shape[0], dtype=x.dtype)
    picked = module.empty(x.shape[0], dtype=x.dtype)

    def rows(start, stop):
        block = e[start:stop]
        xp.subtract(x[start:stop], x[start:stop].max(axis=1, keepdims=True), out=block)
        picked[start:stop] = block[xp.arange(stop - start), target.safe[start:stop]]
        xp.exp(block, out=block)
        block.sum(axis=1, out=total[start:stop])

    parallel_blocks(rows, x.shape[0], max(1, _ROW_BLOCK // x.shape[1]))
    return e, total, picked - xp.log(total)


# Logit elements per thread below which the cross-entropy passes run as one block.
_ROW_BLOCK = 1 << 15


def _index_target_grad(ctx, g):
    """The first-order gradient for class-index targets without label smoothing, in one pass
    over the logits: gx = g·w_y·(p − onehot(y)), since ΣA = w_y and A = w_y·onehot(y)."""
    e, total, target = ctx.exp_shifted, ctx.exp_sum, ctx.target
    if ctx.reduction == "mean":  # (on arrays: the op's own gy / count, without its dispatch)
        with quiet():
            g = g / ctx.denominator
    with quiet():  # (0·inf where every row is ignored: replaced just below)
        rows = target.w_target * g  # g·w_y (reduction='none': g has one value per row)
    if not target.valid.all():  # ignored rows get 0, even where g is a mean over no row (inf)
        rows = xp.where(target.valid, rows, rows.dtype.type(0))
    scale = (rows / total)[:, None]
    if e.ndim != 2 or e.size < 2 * _ROW_BLOCK or scale.dtype != e.dtype:
        gx = e * scale
    else:
        gx = get_array_module(e).empty_like(e)
        parallel_blocks(lambda start, stop: xp.multiply(e[start:stop], scale[start:stop],
                                                        out=gx[start:stop]),
                        e.shape[0], max(1, _ROW_BLOCK // e.shape[1]))
    if e.ndim == 2:  # (a plain scatter: put_along_axis builds its index in Python)
        gx[xp.arange(e.shape[0]), target.safe] -= rows
    else:
        index = target.safe[:, None]
        xp.put_along_axis(gx, index, xp.take_along_axis(gx, index, axis=1) - rows[:, None],
                          axis=1)
    return Tensor._make(gx.astype(e.dtype, copy=False))


def _class_view(weight: xp.ndarray, ndim: int) -> xp.ndarray:
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


class NllLoss(Op):
    """l_n = -w[y_n]·x[n, y_n] (0 where y_n = ignore_index);  gx = -g·A (see NOTE)."""

    torch_edges = staticmethod(nll_loss_edges)

    @staticmethod
    def forward(ctx, x, index, weight, ignore_index, reduction):
        target = _IndexTarget(index, weight, ignore_index, x._data.shape[1], x._data.dtype)
        ctx.target, ctx.input_meta = target, (x._data.shape, x._data.dtype)
        ctx.reduction, ctx.denominator = reduction, target.denominator
        loss = target.loss(x._data, 0.0)
        if reduction != "none" and is_half(x._data.dtype) and x._data.ndim == 2:
            total, ctx.denominator = half_nll_reduce(loss, target, weight is not None,
                                                     reduction, x._data.dtype)
            return total
        return _reduce_array(loss, reduction, target.denominator)

    @staticmethod
    def backward(ctx, gy):
        if not _state["enabled"]:  # a plain backward: one scatter into zeros
            return _nll_input_grad(ctx, gy._data), None, None, None, None
        g = _grad_scale(gy, ctx.reduction, ctx.denominator, extra_dims=1)
        coeff = ctx.target.coefficients(*ctx.input_meta, 0.0)
        return g * _const(-coeff), None, None, None, None


def _nll_input_grad(ctx, gy) -> Tensor:
    """NLL's gx on arrays as PyTorch's kernel writes it: zeros, and g·(-w[y_n]) at each counted
    target (g = gy, or gy / Σ w[y_n] for 'mean'): one scatter where the dense A of the NOTE
    takes three passes over (N, C) (and gave -0 off the targets, and NaN everywhere for a
    mean over no counted target)."""
    shape, dtype = ctx.input_meta
    target = ctx.target
    with quiet():  # (a mean over no counted target divides by 0: those values are dropped)
        g = gy / ctx.denominator if ctx.reduction == "mean" else gy
        values = (g * -target.w_target).astype(dtype, copy=False)
    if not target.valid.all():
        values = xp.where(target.valid, values, dtype.type(0))
    gx = get_array_module(values).zeros(shape, dtype=dtype)
    xp.put_along_axis(gx, target.safe[:, None], values[:, None], axis=1)
    return Tensor._make(gx)


class BinaryCrossEntropy(Op):
    """l = -w·(y·log x + (1-y)·log(1-x)), logs clamped at -100;
    gx = g·w·(x - y)/max(x(1-x), 1e-12),  gy = g·w·(log(1-x) - log x)."""

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        d, t = x._data, y._data
        if xp.any((d < 0) | (d > 1)):
            raise RuntimeError("all elements of input should be between 0 and 1")
        with quiet():
            log_x = xp.maximum(xp.log(d), -100)
            log_1mx = xp.maximum(xp.log1p(-d), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if w is not None:
            loss = loss * w._data
        ctx.reduction = reduction
        ctx.save_for_backward(x, y, w)
        return _reduce_array(loss.astype(d.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, gy):
        x, y, w = ctx.saved_tensors
        g = _grad_scale(gy, ctx.reduction, x.numel())
        if w is not None:
            g = g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / (x * (1 - x)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gt, None, None


class BinaryCrossEntropyWithLogits(Op):
    """l = -w·(p·y·log σ(x) + (1-y)·log σ(-x)) = w·((1-y)·x - (1 + (p-1)·y)·log σ(x));
    gx = g·w·((p·y + 1 - y)·σ(x) - p·y),  gy = g·w·(log σ(-x) - p·log σ(x))."""

    @staticmethod
    def forward(ctx, x, y, w, pos_weight, reduction):
        d, t = x._data, y._data
        wide = widen(d)  # log σ(x), stably; 16-bit floats in float32 as PyTorch's log_sigmoid
        log_sig = xp.minimum(wide, 0) - xp.log1p(xp.exp(-xp.abs(wide)))
        log_sig = log_sig.astype(d.dtype, copy=False)
        if pos_weight is None:
            loss = (1 - t) * d - log_sig
        else:
            loss = (1 - t) * d - (1 + (pos_weight._data - 1) * t) * log_sig
        if w is not None:
            loss = loss * w._data
        ctx.reduction = reduction
        ctx.save_for_backward(x, y, w, pos_weight)
        return _reduce_array(loss.astype(d.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, gy):
        x, y, w, p = ctx.saved_tensors
        gx = gt = None
        if ctx.needs_input_grad[0]:  # PyTorch's order: ((σ(x) - y)·grad)·w / N
            if p is None:
                gx = x.sigmoid() - y
            else:
                py = p * y
                gx = (py + 1 - y) * x.sigmoid() - py
            gx = gx * gy
            if w is not None:
                gx = gx * w
            if ctx.reduction == "mean":
                gx = gx / x.numel()
        g = _grad_scale(gy, ctx.reduction, x.numel())
        if w is not None:
            g = g * w
        if ctx.needs_input_grad[1]:
            log_sig = LogSigmoid.apply(x)
            gt = g * (LogSigmoid.apply(-x) - (log_sig if p is None else p * log_sig))
        return gx, gt, None, None, None


class Pointwise(Op):
    """Base of the losses l = f(x - y): gx = g·f'(x - y),  gy = -gx."""

    @staticmethod
    def loss(d, param):
        raise NotImplementedError

    @staticmethod
    def derivative(diff, param):
        raise NotImplementedError

    opmath = False  # True: 16-bit floats computed in float32, rounded once (NOTE [opmath])
    in_chunks = False  # True: a loss of many passes, computed chunk by chunk (same bits)

    @classmethod
    def forward(cls, ctx, x, y, reduction, param=None):
        ctx.reduction, ctx.param = reduction, param
        ctx.save_for_backward(x, y)
        a, b = x._data, y._data
        if cls.opmath:
            a, b = widen(a), widen(b)
        if cls.in_chunks and a.shape == b.shape and a.dtype == b.dtype and a.dtype.char in "fd":
            # element by element as below, in cache-sized chunks (NOTE [Activation kernels in
            # cache-sized chunks]): the loss's passes and temporaries stay in the cache
            loss = activation_kernels.apply(lambda o, a, b: _put(o, cls.loss(a - b, param)), a, b)
        else:
            loss = cls.loss(a - b, param)
        return _reduce_array(loss.astype(x._data.dtype, copy=False), reduction)

    # first-order gradient on arrays, as PyTorch's kernel computes it: (norm·f'(d))·gy with
    # norm = scale/N for 'mean', else scale (None: the op-level formula only)
    gradient_factor = None  # f'(d) written over d (an array of x - y)
    gradient_scale = 1.0

    @classmethod
    def has_gradient_factor(cls, param) -> bool:
        return cls.gradient_factor is not None

    @classmethod
    def backward(cls, ctx, gy):
        x, y = ctx.saved_tensors
        a, b = x._data, y._data
        if (not _state["enabled"] and cls.has_gradient_factor(ctx.param) and a.shape == b.shape
                and a.dtype == b.dtype == gy._data.dtype and a.dtype.char in "fd"):
            return cls._array_grads(ctx, a, b, gy._data)
        g = _grad_scale(gy, ctx.reduction, x.numel())
        local = g * cls.derivative(x - y, ctx.param)
        gx = local if ctx.needs_input_grad[0] else None
        gt = -local if ctx.needs_input_grad[1] else None
        return gx, gt, None, None

    @classmethod
    def _array_grads(cls, ctx, a, b, gy):
        """(gx, gt) of a plain backward on arrays, in the order of PyTorch's CPU kernel."""
        norm = cls.gradient_scale
        if ctx.reduction == "mean":  # (an empty input's mean is NaN; its gradient is empty)
            norm = norm / a.size if a.size else math.nan
        local = cls.gradient_factor(xp.subtract(a, b, out=xp.empty_like(a)), ctx.param)
        xp.multiply(local, a.dtype.type(norm), out=local)
        xp.multiply(local, gy, out=local)
        gx = Tensor._make(local) if ctx.needs_input_grad[0] else None
        gt = None
        if ctx.needs_input_grad[1]:
            gt = Tensor._make(xp.negative(local, out=xp.empty_like(local)))
        return gx, gt, None, None


class MseLoss(Pointwise):
    """l = (x - y)²;  gx = 2g·(x - y)."""

    gradient_scale = 2.0

    @staticmethod
    def gradient_factor(d, param):
        return d

    @staticmethod
    def loss(d, param):
        return d * d

    @staticmethod
    def derivative(diff, param):
        return diff * 2


class L1Loss(Pointwise):
    """l = |x - y|;  gx = g·sign(x - y) (its node is named per reduction by `l1_loss`)."""

    @staticmethod
    def loss(d, param):
        return xp.abs(d)

    @staticmethod
    def derivative(diff, param):
        return _const(sign_array(diff._data))  # (|d|'s gradient: 0 at NaN, as PyTorch's)


class SmoothL1Loss(Pointwise):
    """l = d²/(2β) if |d| < β else |d| - β/2;  gx = g·(d/β if |d| < β else sign d)."""

    in_chunks = True  # (1M elements: forward 3.1 -> 2.1 ms)

    @staticmethod
    def loss(d, beta):
        a = xp.abs(d)
        if beta == 0:
            return a
        return where_array(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def derivative(diff, beta):
        if beta == 0:  # PyTorch's L1 loss then: 0 at NaN
            return _const(sign_array(diff._data))
        return where(_const(xp.abs(diff._data) < beta), diff / beta, _const(xp.sign(diff._data)))

    @classmethod
    def has_gradient_factor(cls, beta) -> bool:
        return beta != 0  # (β = 0 is the L1 loss's sign)

    @staticmethod
    def gradient_factor(d, beta):
        """d/β inside (-β, β), ±1 outside (NaN stays NaN), over d."""
        xp.divide(d, d.dtype.type(beta), out=d)
        return xp.clip(d, -1, 1, out=d)


class HuberLoss(Pointwise):
    """l = d²/2 if |d| < δ else δ·(|d| - δ/2);  gx = g·(d if |d| < δ else δ·sign d)."""

    opmath = True
    in_chunks = True

    @staticmethod
    def loss(d, delta):
        a = xp.abs(d)
        return where_array(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def derivative(diff, delta):
        sign = _const(xp.sign(diff._data) * delta)
        return where(_const(xp.abs(diff._data) < delta), diff, sign)

    @classmethod
    def has_gradient_factor(cls, delta) -> bool:
        # PyTorch multiplies (norm·grad)·δ outside (-δ, δ), (norm·d)·grad inside: the array
        # path's (norm·f')·grad is those bits for δ = 1 only
        return delta == 1

    @staticmethod
    def gradient_factor(d, delta):
        """d inside (-1, 1), ±1 outside (NaN stays NaN), over d (δ = 1)."""
        return xp.clip(d, -1, 1, out=d)


class SoftMarginLoss(Op):
    """l = log(1 + z), z = e^(-y·x);  gx = -g·y·z/(1 + z).

    NOTE [soft_margin_loss as PyTorch writes it]: PyTorch computes log1p(exp(-y·x)) step by
    step in the input dtype, so z overflows to inf (float16 past -y·x ≈ 11, float32 past
    ≈ 88) and the loss is inf and the gradient nan there; a stable softplus would differ.
    """

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.reduction = reduction
        ctx.save_for_backward(x, y)
        with quiet():
            loss = xp.log1p(xp.exp(-x._data * y._data))
        return _reduce_array(loss, reduction)

    @staticmethod
    def backward(ctx, gy):
        x, y = ctx.saved_tensors
        g = _grad_scale(gy, ctx.reduction, x.numel())
        z = (-x * y).exp()
        return -g * y * z / (z + 1), None, None
