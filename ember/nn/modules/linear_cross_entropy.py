"""LinearCrossEntropyLoss and LinearCrossEntropyOptions (match `torch.nn.LinearCrossEntropyLoss`
and `torch.nn.LinearCrossEntropyOptions`).

The loss holds a `Linear` whose (num_classes·prod(out_features), in_features) weight is
reshaped to (num_classes, *out_features, in_features) in forward, as PyTorch stores it (so the
state_dict keys are PyTorch's: `weight` (the class weight buffer), `linear.weight`,
`linear.bias`). The options choose the chunked path of `linear_cross_entropy` (NOTE [Chunked
linear_cross_entropy] in ember/nn/_functional_linear_cross_entropy.py).
"""

import dataclasses
import math
from typing import Literal, NamedTuple

from ember import _dtype
from ember.nn._functional_linear_cross_entropy import linear_cross_entropy
from ember.nn.modules.linear import Linear
from ember.nn.modules.loss import _WeightedLoss

__all__ = ["LinearCrossEntropyLoss", "LinearCrossEntropyOptions"]


class _AutoDefault(NamedTuple):
    acc_policy: str
    chunking_method: str


# PyTorch's picks for the "auto" acc_policy / chunking_method, by (device type, input dtype)
_AUTO_DEFAULTS = {
    ("cuda", _dtype.bfloat16): _AutoDefault("compact", "aspect_ratio:2"),
    ("cuda", _dtype.float16): _AutoDefault("compact", "aspect_ratio:2"),
    ("cpu", _dtype.bfloat16): _AutoDefault("accurate", "aspect_ratio"),
    ("cpu", _dtype.float16): _AutoDefault("accurate", "aspect_ratio"),
}
_AUTO_FALLBACK = _AutoDefault("compact", "aspect_ratio:2")
_ACC_DTYPES = (_dtype.float16, _dtype.bfloat16, _dtype.float32, _dtype.float64)


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How linear_cross_entropy chunks its batch (matches `torch.nn.LinearCrossEntropyOptions`).

    allow_retain_graph: keep the precomputed gradients so a second backward works (mean/sum);
    batch_chunk_size: rows per chunk (None: one chunk, or chunking_method's size);
    chunking_method: "auto", "aspect_ratio", "aspect_ratio:N" or None;
    acc_policy: "auto", "accurate", "balanced" or "compact"; acc_dtype: the accumulation dtype
    (None: chosen at call time).
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: Literal["accurate", "balanced", "compact", "auto"] = "auto"
    acc_dtype: _dtype.dtype | None = None

    def __post_init__(self):
        """Refuse bad field values with PyTorch's ValueErrors (also on dataclasses.replace)."""
        if self.acc_policy not in {"auto", "accurate", "balanced", "compact"}:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and self.acc_dtype not in _ACC_DTYPES:
            raise ValueError(
                f"acc_dtype must be one of {{None, torch.float16, torch.bfloat16, "
                f"torch.float32, torch.float64}}, got {self.acc_dtype!r}. Pass "
                "acc_dtype=None to let the op pick automatically.")

    @staticmethod
    def _ceil_div(a: int, b: int) -> int:
        """ceil(a / b) for non-negative integers."""
        return -(-a // b)

    @staticmethod
    def _resolve_auto_acc_dtype(dtype, device):
        """float32 for 16-bit input where mixed-precision matmul exists (CPU; CUDA by
        capability), else None (the input dtype is used)."""
        if device is None or dtype not in (_dtype.float16, _dtype.bfloat16):
            return None
        if device.type == "cuda":
            from ember import cuda  # (lazy: ember.cuda is a namespace of its own)
            if not cuda.is_available():
                return None
            major, _ = cuda.get_device_capability(device)
            needed = 8 if dtype == _dtype.bfloat16 else 7
            return _dtype.float32 if major >= needed else None
        return _dtype.float32 if device.type == "cpu" else None

    def _compute_batch_chunk_size(self, num_batches, in_features, num_classes, method=None):
        """The chunk size of an "aspect_ratio[:N]" method: the (chunk, C) logits about the size
        of the (N, in_features) input, a power of two, divided by N."""
        method = str(method if method is not None else self.chunking_method)
        if method.startswith("aspect_ratio"):
            factor = int(method.split(":", 1)[1]) if ":" in method else 1
            inc_factor = self._ceil_div(num_classes, in_features)
            target = self._ceil_div(num_batches, inc_factor)
            chunk_size = 1 << (target - 1).bit_length()  # the next power of 2 >= target
            return min(chunk_size // factor, num_batches)
        raise AssertionError(f"unhandled chunking_method: {method!r}")

    def _adjust(self, num_batches, in_features, num_classes, dtype, device=None):
        """These options with "auto" and None resolved for one call (PyTorch's internal API):
        a concrete acc_policy, chunking_method, batch_chunk_size (>= 1) and acc_dtype."""
        acc_policy, chunking_method = self.acc_policy, self.chunking_method
        if chunking_method == "auto" and self.batch_chunk_size is not None:
            chunking_method = None  # an explicit size wins over the automatic one
        if "auto" in (acc_policy, chunking_method):
            key = (device.type, dtype) if device is not None else None
            picked = _AUTO_DEFAULTS.get(key, _AUTO_FALLBACK)
            acc_policy = picked.acc_policy if acc_policy == "auto" else acc_policy
            if chunking_method == "auto":
                chunking_method = picked.chunking_method
        size = num_batches if self.batch_chunk_size is None else min(self.batch_chunk_size,
                                                                     num_batches)
        if chunking_method is not None:
            size = self._compute_batch_chunk_size(num_batches, in_features, num_classes,
                                                  chunking_method)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method "
                    f"('{chunking_method}') give different chunk sizes "
                    f"({self.batch_chunk_size} vs {size}); pass only one.")
        return dataclasses.replace(self, acc_policy=acc_policy, chunking_method=chunking_method,
                                   batch_chunk_size=max(1, size),
                                   acc_dtype=self._acc_dtype_for(dtype, device))

    def _acc_dtype_for(self, dtype, device):
        """The accumulation dtype of a call: acc_dtype, else float32 for 16-bit input under the
        "auto" policy where supported, else the input dtype."""
        if self.acc_dtype is not None:
            return self.acc_dtype
        auto = self._resolve_auto_acc_dtype(dtype, device) if self.acc_policy == "auto" else None
        return auto if auto is not None else dtype


class LinearCrossEntropyLoss(_WeightedLoss):
    """cross_entropy of a learned linear projection of the input (matches
    `torch.nn.LinearCrossEntropyLoss`)."""

    __constants__ = ["num_classes", "out_features", "reduction", "ignore_index",
                     "label_smoothing"]

    def __init__(self, in_features: int, num_classes: int, *, out_features=(),
                 bias: bool = False, device=None, dtype=None, reduction: str = "mean",
                 weight=None, ignore_index=None, label_smoothing: float = 0.0,
                 options=None) -> None:
        if weight is not None and weight.shape != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got "
                               f"{tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError("expected label_smoothing to be in range [0, 1], got "
                               f"{label_smoothing}")
        super().__init__(weight=weight, size_average=None, reduce=None, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        # Linear keeps 2-D weights: (C·prod(out_features), in_features), reshaped in forward
        self.linear = Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                             device=device, dtype=dtype)
        self.options = options

    def forward(self, input, target):
        """linear_cross_entropy with the weight as (C, *out_features, in_features)."""
        linear_weight = self.linear.weight.reshape(
            (self.num_classes, *self.out_features, self.linear.in_features))
        linear_bias = (self.linear.bias.reshape((self.num_classes, *self.out_features))
                       if self.linear.bias is not None else None)
        return linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, weight=self.weight,
            reduction=self.reduction, ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing, options=self.options)

    def extra_repr(self) -> str:
        """PyTorch's one-line summary of the options (the Linear is printed as a child)."""
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
