"""The autocast state and policy: per device type, whether autocast is on and its dtype, and
which ops run in that lower precision or in float32.

NOTE [Autocast as a policy table]
PyTorch's CPU autocast casts the floating-point inputs (except float64 ones) of a listed set of
ops: matmuls, convolutions, linear, prelu and attention run in the autocast dtype (bfloat16 by
default), and losses and a few numerically delicate ops run in float32; every other op runs in
whatever dtype its inputs have. ember keeps that policy here, keyed by op class name, and
`Function.apply` asks `cast_arguments` before running an op while autocast is on (one list
lookup when it is off). The casts are ordinary `Tensor.to` ops, so gradients flow back to the
float32 parameters in float32. Two decorators cover what the class table cannot see: the public
faces of the lower-precision ops (`lower_precision`: mm, linear, conv, sdpa, ...) cast before
their dtype checks, so a bfloat16 activation meets a float32 weight as in torch, and the float32
functions ember builds from several ops (`float32_inputs`: kl_div, cdist, quantile, ...).
This module sits in the tensor core so the engine can consult it without importing
`ember.amp` (ember/amp/autocast_mode.py), which switches it on and off.
"""

import functools

from ember import _dtype

# device type -> [enabled, dtype]; PyTorch's defaults (CPU autocasts to bfloat16).
_STATE = {"cpu": [False, _dtype.bfloat16],
          "cuda": [False, _dtype.float16]}


def is_enabled(device_type="cuda") -> bool:
    """Whether autocast is on for this device type (matches `torch.is_autocast_enabled`)."""
    return _STATE[device_type][0] if device_type in _STATE else False


def get_dtype(device_type):
    """The dtype autocast casts to on this device type (matches `torch.get_autocast_dtype`)."""
    if device_type not in _STATE:
        raise RuntimeError(f"unsupported autocast device_type '{device_type}'")
    return _STATE[device_type][1]


ACTIVE = [False]  # whether any device type's autocast is on: the engine's quick check

# torch's CPU autocast lists (aten/src/ATen/autocast_mode.cpp), by ember op class name. `mv`,
# `dot`, `outer`, `addmv`, `addr` are on neither list (they keep their inputs' dtype); 3-D pools
# and einsum depend on their arguments (`_CONDITIONAL`).
LOWER_PRECISION = frozenset({"Mm", "Matmul", "Addmm", "Bmm", "Baddbmm", "Addbmm",
                             "Convolution", "ConvTranspose", "Linear", "LinearNoBias", "Prelu",
                             "ScaledDotProductAttention", "LSTMLayer"})
FLOAT32 = frozenset({"CrossEntropy", "NllLoss", "BinaryCrossEntropy",
                     "BinaryCrossEntropyWithLogits", "MseLoss", "L1Loss", "SmoothL1Loss",
                     "HuberLoss", "SoftMarginLoss", "CtcLoss", "Prod", "ProdAll",
                     "Trace", "GridSampler", "FractionalMaxPool2d", "FractionalMaxPool3d",
                     "MaxUnpool", "Inv", "Cholesky", "QR", "SVD", "Eigh", "Solve", "R2C",
                     "C2C", "C2R"})


def _einsum_contracts(args) -> bool:
    """einsum runs as bmm (lower precision) when two operands share a summed-away index."""
    inputs, out = args[0]
    summed = {ch for term in inputs for ch in term if ch not in out and ch != "@"}
    return len(inputs) > 1 and any(sum(ch in term for term in inputs) > 1 for ch in summed)


def _is_3d_pool(args) -> bool:
    """A pool over 3 spatial dimensions (batched 5-D input): on torch's float32 list."""
    first = args[0] if args else None
    return getattr(first, "ndim", 0) == 5


_CONDITIONAL = {"Einsum": ("lower", _einsum_contracts),
                "MaxPool": ("float32", _is_3d_pool), "AdaptiveAvg": ("float32", _is_3d_pool),
                "AdaptiveMaxPool": ("float32", _is_3d_pool), "AvgPool": ("float32", _is_3d_pool)}


def set_enabled(device_type, enabled) -> None:
    _STATE[device_type][0] = bool(enabled)
    ACTIVE[0] = _STATE["cpu"][0] or _STATE["cuda"][0]


def cast_arguments(op_name, args):
    """args with floating tensors cast as the CPU policy says for this op (float64 is kept)."""
    if not _STATE["cpu"][0]:
        return args
    if op_name in LOWER_PRECISION:
        target = _STATE["cpu"][1]
    elif op_name in FLOAT32:
        target = _dtype.float32
    elif op_name in _CONDITIONAL and _CONDITIONAL[op_name][1](args):
        target = _STATE["cpu"][1] if _CONDITIONAL[op_name][0] == "lower" else _dtype.float32
    else:
        return args
    if target is _dtype.float32:  # an accumulate dtype the op took from its 16-bit input
        return tuple(_cast(a, target) if not isinstance(a, _dtype.dtype) else
                     target if a in (_dtype.float16, _dtype.bfloat16) else a for a in args)
    return tuple(_cast(a, target) for a in args)


def lower_precision(fn):
    """Decorator for a public op on torch's CPU lower-precision list: under autocast its
    floating arguments are cast before the op checks their dtypes (so `linear(bf16, f32)`
    works inside autocast, as in torch)."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if ACTIVE[0] and _STATE["cpu"][0]:
            target = _STATE["cpu"][1]
            args = tuple(_cast(a, target) for a in args)
            kwargs = {k: v if k == "out" else _cast(v, target) for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    return call


def _cast(value, target):
    dtype = getattr(value, "dtype", None)
    if not isinstance(dtype, _dtype.dtype) or not dtype.is_floating_point or \
            dtype is target or dtype is _dtype.float64:
        return value
    return value.to(target)


def set_dtype(device_type, dtype) -> None:
    _STATE[device_type][1] = dtype


def float32_inputs(fn=None, *, when=None):
    """Decorator for a public function on torch's CPU float32 list that ember builds from
    several ops (kl_div, cdist, ...): under autocast its 16-bit float arguments become float32.
    `when(args, kwargs)` limits it to the calls torch lists (F.pad's reflect/replicate modes)."""
    if fn is None:
        return functools.partial(float32_inputs, when=when)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if ACTIVE[0] and _STATE["cpu"][0] and (when is None or when(args, kwargs)):
            args = tuple(_cast(a, _dtype.float32) for a in args)
            kwargs = {k: v if k == "out" else _cast(v, _dtype.float32)
                      for k, v in kwargs.items()}
        return fn(*args, **kwargs)

    return call
