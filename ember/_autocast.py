"""The autocast state and policy: per device type, whether autocast is on and its dtype, and
which ops run in that lower precision or in float32.

NOTE [Autocast as a policy table]
PyTorch's CPU autocast casts the floating-point inputs (except float64 ones) of a listed set of
ops: matmuls, convolutions, linear, prelu and attention run in the autocast dtype (bfloat16 by
default), and losses and a few numerically delicate ops run in float32; every other op runs in
whatever dtype its inputs have. ember keeps that policy here, keyed by op class name, and
`Function.apply` asks `cast_arguments` before running an op while autocast is on (one list
lookup when it is off). The casts are ordinary `Tensor.to` ops, so gradients flow back to the
float32 parameters in float32. This module sits in the tensor core so the engine can consult it
without importing `ember.amp` (ember/amp/autocast_mode.py), which switches it on and off.
"""

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

# torch's CPU autocast lists (aten/src/ATen/autocast_mode.cpp), by ember op class name
LOWER_PRECISION = frozenset({"Mm", "Mv", "Matmul", "Addmm", "Convolution", "ConvTranspose",
                             "Linear", "LinearNoBias", "Prelu", "ScaledDotProductAttention"})
FLOAT32 = frozenset({"CrossEntropy", "NllLoss", "BinaryCrossEntropy",
                     "BinaryCrossEntropyWithLogits", "MseLoss", "L1Loss", "SmoothL1Loss",
                     "HuberLoss", "Prod", "Cumprod"})


def set_enabled(device_type, enabled) -> None:
    _STATE[device_type][0] = bool(enabled)
    ACTIVE[0] = _STATE["cpu"][0] or _STATE["cuda"][0]


def cast_arguments(op_name, args):
    """args with floating tensors cast as the CPU policy says for this op (float64 is kept)."""
    if op_name in LOWER_PRECISION:
        target = _STATE["cpu"][1]
    elif op_name in FLOAT32:
        target = _dtype.float32
    else:
        return args
    return tuple(_cast(a, target) for a in args)


def _cast(value, target):
    dtype = getattr(value, "dtype", None)
    if not isinstance(dtype, _dtype.dtype) or not dtype.is_floating_point or \
            dtype is target or dtype is _dtype.float64:
        return value
    return value.to(target)


def set_dtype(device_type, dtype) -> None:
    _STATE[device_type][1] = dtype
