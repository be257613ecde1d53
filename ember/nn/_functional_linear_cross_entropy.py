"""linear_cross_entropy: cross_entropy(linear(input, W, b), target) (matches
`torch.nn.functional.linear_cross_entropy`).

NOTE [Chunked linear_cross_entropy]
Without `options` the loss is ember's linear then cross_entropy (the reference path). With
`options` (and a class-index int64 target, no label smoothing, no out_features, a mean / sum /
none reduction; otherwise PyTorch warns and takes the reference path) it is PyTorch's chunked
op: the batch is read `batch_chunk_size` rows at a time (LinearCrossEntropyOptions._adjust),
so only a (chunk, C) block of logits exists at once, never the (N, C) logits.

- mean / sum: the forward pass computes the loss and the gradients of input, linear_weight
  and linear_bias together (softmax·w - w·onehot, per chunk); backward only scales them by
  the upstream gradient. Without `allow_retain_graph` backward consumes them: a second
  backward is PyTorch's "called twice" RuntimeError.
- none: the forward pass computes the per-row losses; backward recomputes the chunked
  gradients with the upstream gradient folded into each row's weight.

Each row n carries a factor w[n] (PyTorch's neg_weight_target): its class weight (1 without
weights), 0 when its target is ignore_index, negated and divided by the sum of the whole
target's unignored weights for mean (NaN for a zero sum: every loss and gradient is then NaN,
where the reference path's gradients are 0). The target is read as PyTorch reads it (narrow
per chunk, gather of the target logit, index_select of the class weights over the WHOLE
target), which gives PyTorch's errors for a target of the wrong size, rank or range. 16-bit
inputs accumulate in acc_dtype (float32 by default), the loss and gradients are returned in
the input's dtype.
"""

import dataclasses
import math

from ember._warnings import warn as _warn
from functools import cached_property

import ember
from ember import _dtype
from ember.autograd.function import Function
from ember.nn._functional_loss import cross_entropy
from ember.ops.nn_ops import linear

__all__ = ["linear_cross_entropy"]


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction: str = "mean", ignore_index=None,
                         label_smoothing: float = 0.0, options=None):
    """cross_entropy of linear(input, linear_weight, linear_bias) against target, in batch
    chunks when options are given (matches `torch.nn.functional.linear_cross_entropy`)."""
    classes, out_features = _check_shapes(input, linear_weight, linear_bias)
    logits_shape = tuple(input.shape[:-1]) + (classes,) + out_features
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains "
                           "probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100
    if options is not None:
        if _chunkable(target, reduction, label_smoothing, out_features):
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction,
                            ignore_index, options)
        _warn_ignored(target, linear_bias, reduction, label_smoothing, out_features)
    return _reference(input, linear_weight, target, linear_bias, weight, reduction,
                      ignore_index, label_smoothing, out_features)


def _check_shapes(input, linear_weight, linear_bias):
    """(C, out_features) of linear_weight, after PyTorch's checks of the three shapes."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError("expected linear_weight with dimensionality at least 2, got "
                           f"{linear_weight.dim()}")
    features = input.shape[-1]
    if features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions "
                           f"(in_features), got {features} and {linear_weight.shape[-1]}, "
                           "respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got "
                           f"{tuple(linear_bias.shape)}")
    if out_features and input.dim() == 1:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} "
            f"requires batched input, (N, {features}), got unbatched input with shape "
            f"{tuple(input.shape)}")
    return classes, out_features


def _chunkable(target, reduction, label_smoothing, out_features) -> bool:
    """Whether PyTorch's chunked op takes the call (else options are ignored, with a warning)."""
    return (reduction in {"mean", "sum", "none"} and label_smoothing == 0.0
            and target.dtype == _dtype.int64 and not out_features
            and not ember.jit.is_tracing())


def _warn_ignored(target, linear_bias, reduction, label_smoothing, out_features) -> None:
    """PyTorch's UserWarning that the options were ignored (the reference path runs)."""
    bias_shape = tuple(linear_bias.shape) if linear_bias is not None else None
    _warn(
        "linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
        "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == "
        f"(). Got reduction={reduction!r}, label_smoothing={label_smoothing}, "
        f"target.dtype={target.dtype}, out_features={tuple(out_features)}, "
        f"tracing={ember.jit.is_tracing()}, linear_bias.shape={bias_shape}.", stacklevel=3)


def _reference(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
               label_smoothing, out_features):
    """The reference path: the whole logits, reshaped to (*N, C, *out_features), then
    cross_entropy."""
    classes = linear_weight.shape[0]
    logits_shape = tuple(input.shape[:-1]) + (classes,) + out_features
    if out_features:  # K-dimensional: one Linear of C·prod(out_features) rows
        rows = math.prod(out_features, start=classes)
        linear_weight = linear_weight.reshape(rows, input.shape[-1])
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(rows)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction,
                         ignore_index=ignore_index, label_smoothing=label_smoothing)


# ---- the chunked path ---------------------------------------------------------------------
def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
             options):
    """PyTorch's chunked op: an unbatched input is a batch of one (NOTE [Chunked
    linear_cross_entropy])."""
    batched = input.dim() == 2
    if not batched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    options = _ember_options(options)._adjust(
        num_batches=input.shape[0], in_features=input.shape[1],
        num_classes=linear_weight.shape[0], dtype=input.dtype, device=input.device)
    size, acc_dtype = options.batch_chunk_size, options.acc_dtype
    if reduction == "none":
        result = _ChunkedNoReduction.apply(input, linear_weight, target, linear_bias, weight,
                                           ignore_index, size, acc_dtype)
    else:
        retain = options.allow_retain_graph
        if not retain and ember.compiler.is_compiling():
            _warn("linear_cross_entropy: forcing allow_retain_graph=True under "
                          "torch.compile (adds one gradient-sized allocation/call). Construct "
                          "options with allow_retain_graph=True to silence.", stacklevel=3)
            retain = True
        result = _ChunkedReduction.apply(input, linear_weight, target, linear_bias, weight,
                                         reduction, ignore_index, size, acc_dtype, retain)
    return result if batched else result.squeeze(0)


def _ember_options(options):
    """options as ember's LinearCrossEntropyOptions: torch's own instance (same fields, its
    acc_dtype by name) is converted; anything else is used as it is."""
    from ember.nn.modules.linear_cross_entropy import LinearCrossEntropyOptions  # (a cycle)
    if isinstance(options, LinearCrossEntropyOptions) or \
            type(options).__name__ != "LinearCrossEntropyOptions":
        return options
    fields = {field.name: getattr(options, field.name)
              for field in dataclasses.fields(LinearCrossEntropyOptions)}
    if fields["acc_dtype"] is not None and not isinstance(fields["acc_dtype"], _dtype.dtype):
        fields["acc_dtype"] = getattr(_dtype, str(fields["acc_dtype"]).rsplit(".", 1)[-1])
    return LinearCrossEntropyOptions(**fields)


class _ChunkedReduction(Function):
    """mean / sum: the loss and the gradients in one chunked forward pass; backward scales the
    kept gradients by the upstream gradient (PyTorch's precomputing custom op)."""

    node_name = "GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked_defaultBackward"

    @staticmethod
    def forward(ctx, input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
                size, acc_dtype, allow_retain_graph):
        """Loss and kept gradients (only those of inputs that require grad)."""
        needs = ctx.needs_input_grad
        wanted = (needs[0], needs[1], linear_bias is not None and needs[3])
        chunks = _Chunks(input, linear_weight, target, linear_bias, weight, reduction,
                         ignore_index, size, acc_dtype)
        loss, *grads = chunks.run(wanted)
        # private names: the engine's release after backward keeps them (NOTE in the module
        # docstring: consuming them is what makes a second backward PyTorch's error)
        ctx._grads, ctx._retain = grads, allow_retain_graph
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        """The kept gradients times grad_output, in input, linear_weight, linear_bias places."""
        gi, gw, gb = (_scaled(ctx, i, grad_output) for i in range(3))
        return gi, gw, None, gb, None, None, None, None, None, None


def _scaled(ctx, index, grad_output):
    """Kept gradient `index` times grad_output: a copy with allow_retain_graph, else the kept
    tensor itself, in place, once."""
    kept = ctx._grads[index]
    if kept is None and not ctx.needs_input_grad[(0, 1, 3)[index]]:
        return None
    if ctx._retain:
        return kept * grad_output
    if kept is None:
        raise RuntimeError("linear_cross_entropy chunked backward called twice; "
                           "retain_graph=True / double backward are not supported.")
    ctx._grads[index] = None
    return kept.mul_(grad_output)


class _ChunkedNoReduction(Function):
    """reduction='none': per-row losses in chunks; backward recomputes the chunked gradients
    with the upstream gradient in the row weights (PyTorch's no_reduction custom op)."""

    node_name = ("GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked_"
                 "no_reduction_defaultBackward")

    @staticmethod
    def forward(ctx, input, linear_weight, target, linear_bias, weight, ignore_index, size,
                acc_dtype):
        """The (N,) losses; the inputs are saved for backward's recomputation."""
        ctx.save_for_backward(input, linear_weight, target, linear_bias, weight)
        ctx._settings = (ignore_index, size, acc_dtype)
        return _Chunks(input, linear_weight, target, linear_bias, weight, "none",
                       ignore_index, size, acc_dtype).row_losses()

    @staticmethod
    def backward(ctx, grad_output):
        """The gradients of input, linear_weight and linear_bias, recomputed chunk by chunk."""
        input, linear_weight, target, linear_bias, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        wanted = (needs[0], needs[1], linear_bias is not None and needs[3])
        chunks = _Chunks(input, linear_weight, target, linear_bias, weight, "none",
                         *ctx._settings, grad_output=grad_output)
        _, gi, gw, gb = chunks.run(wanted)
        return gi, gw, None, gb, None, None, None, None


class _Chunks:
    """One chunked pass over the batch (NOTE [Chunked linear_cross_entropy]): the row factors,
    the per-chunk logits, and the loss / gradient accumulation."""

    def __init__(self, input, linear_weight, target, linear_bias, weight, reduction,
                 ignore_index, size, acc_dtype, grad_output=None):
        self.input, self.target, self.weight = input, target, weight
        self.reduction, self.ignore_index, self.size = reduction, ignore_index, size
        self.grad_output = grad_output
        self.dtype, self.acc = input.dtype, acc_dtype
        self.classes = linear_weight.shape[0]
        _check_acc_dtype(self.dtype, acc_dtype)
        mixed = self.dtype != acc_dtype
        # 16-bit input: the matmuls run on float32 copies (PyTorch's CPU "accurate" layout)
        self.linear_weight = linear_weight.to(acc_dtype) if mixed else linear_weight
        self.linear_bias = None if linear_bias is None else linear_bias.to(acc_dtype)
        # the scalar loss accumulates in float32 for float16, in the input dtype otherwise
        self.out_dtype = acc_dtype if mixed and self.dtype == _dtype.float16 else self.dtype

    @cached_property
    def _mask(self):
        """Where the target is ignore_index."""
        return self.target == self.ignore_index

    @cached_property
    def corrected_target(self):
        """The target with an out-of-range ignore_index replaced by 0 (a safe gather index)."""
        if 0 <= self.ignore_index < self.classes:
            return self.target
        return ember.where(self._mask, 0, self.target)

    @cached_property
    def row_factors(self):
        """w[n]: the class weight of row n's target (0 if ignored), signed and scaled for the
        reduction, times the upstream gradient in the none backward."""
        if self.weight is None:
            rows = (~self._mask).to(self.acc)
        else:
            picked = self.weight.index_select(0, self.corrected_target).to(self.acc)
            rows = ember.where(self._mask, 0, picked)
        if self.reduction == "mean":
            total = rows.sum()
            return rows / ember.where(total == 0, math.nan, -total)
        if self.reduction == "sum":
            return -rows
        if self.grad_output is not None:
            return -rows * self.grad_output.to(self.acc)
        return rows  # the none forward: the bare weight of each row's loss

    def chunks(self):
        """(start, input rows, target rows, row factors) of each chunk, read as PyTorch reads
        them (the target's narrow before the factors, which index the whole target)."""
        count = self.input.shape[0]
        for start in range(0, count, self.size):
            length = min(self.size, count - start)
            rows = self.input.narrow(0, start, length)
            target = _narrow_rows(self.corrected_target, start, length)
            factors = self.row_factors.narrow(0, start, length)
            yield start, rows.to(self.acc), target, factors

    def shifted_logits(self, rows, target):
        """(logits of the chunk minus their row max, the target's shifted logit)."""
        logits = ember.mm(rows, self.linear_weight.t())
        if self.linear_bias is not None:
            logits = logits + self.linear_bias
        logits = logits - logits.amax(1, keepdim=True)  # exp stays finite
        return logits, logits.gather(1, target.unsqueeze(1)).squeeze(1)

    def row_losses(self):
        """The none forward: w[n]·(logsumexp - target logit) of every row, as one (N,) tensor."""
        parts = [ember.empty(0, dtype=self.dtype)]
        for _, rows, target, factors in self.chunks():
            logits, picked = self.shifted_logits(rows, target)
            denominator = logits.exp().sum(1, dtype=self.acc)
            parts.append(((denominator.log() - picked) * factors).to(self.dtype))
        return ember.cat(parts)

    def run(self, wanted):
        """(loss, grad input, grad linear_weight, grad linear_bias), grads only where wanted."""
        gi, gw, gb = self._gradient_buffers(wanted)
        loss = ember.zeros((), dtype=self.out_dtype)
        if self.reduction == "mean" and self.input.shape[0] == 0:
            loss = ember.full((), math.nan, dtype=self.out_dtype)
        for start, rows, target, factors in self.chunks():
            logits, picked = self.shifted_logits(rows, target)
            exp = logits.exp()
            denominator = exp.sum(1, dtype=self.acc)
            loss = (loss + factors.dot(picked)).to(self.out_dtype)
            loss = (loss - factors.dot(denominator.log())).to(self.out_dtype)
            if any(wanted):
                # softmax·w: the rows' gradient of the loss w.r.t. the logits is w·onehot - this
                scaled = exp * (factors / denominator).unsqueeze(1)
                self._accumulate(scaled, rows, target, factors, start, gi, gw, gb)
        return loss.to(self.dtype), (ember.cat(gi) if gi is not None else None), gw, gb

    def _gradient_buffers(self, wanted):
        """A list for the input gradient's chunks, zeroed linear_weight and bias gradients in
        the input dtype; None where not wanted."""
        gi = [ember.empty(0, self.input.shape[1], dtype=self.dtype)] if wanted[0] else None
        gw = ember.zeros(tuple(self.linear_weight.shape), dtype=self.dtype) if wanted[1] \
            else None
        gb = ember.zeros(self.classes, dtype=self.dtype) if wanted[2] else None
        return gi, gw, gb

    def _accumulate(self, scaled, rows, target, factors, start, gi, gw, gb):
        """Add one chunk's gradients: d logits = w·onehot - softmax·w, pulled back through the
        linear map (grads of the bias, the input rows, the weight)."""
        if gb is not None:
            bias = (-scaled.sum(0)).index_add_(0, target, factors)
            gb.add_(bias.to(self.dtype))
        if gi is not None:
            weight = self.linear_weight
            part = weight.index_select(0, target) * factors.unsqueeze(1) - scaled.mm(weight)
            gi.append(part.to(self.dtype))
        if gw is not None:
            gw.sub_(scaled.t().mm(rows).to(self.dtype))
            gw.index_add_(0, target, (rows * factors.unsqueeze(1)).to(self.dtype))


def _narrow_rows(tensor, start: int, length: int):
    """tensor.narrow(0, start, length), with PyTorch's error for a start at the very end (ember's
    narrow reads start == size as 0 there): a target shorter than the batch."""
    size = tensor.shape[0] if tensor.dim() else None
    if size is not None and start == size and length > 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return tensor.narrow(0, start, length)


def _check_acc_dtype(dtype, acc_dtype) -> None:
    """PyTorch's chunked op accumulates in the input dtype, or in float32 for 16-bit input."""
    if dtype != acc_dtype and not (
            dtype in (_dtype.float16, _dtype.bfloat16) and acc_dtype == _dtype.float32):
        raise RuntimeError("linear_cross_entropy supports float32 acc_dtype with float16/"
                           f"bfloat16 inputs, but got {acc_dtype} acc_dtype and {dtype} inputs.")
