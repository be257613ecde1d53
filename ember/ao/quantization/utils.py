"""Helpers of eager-mode quantization (matches the parts of `torch.ao.quantization.utils` that
the observers and `quantize_dynamic` use): quantized ranges, scheme tests, min/max checks."""


from ember._warnings import warn as _warn
from ember import _dtype
from ember import _quantized as q

__all__ = ["calculate_qmin_qmax", "validate_qmin_qmax", "check_min_max_valid", "is_per_tensor",
           "is_per_channel", "DEPRECATION_WARNING"]

DEPRECATION_WARNING = (
    "torch.ao.quantization is deprecated and will be removed in 2.10. \n"
    "For migrations of users: \n"
    "1. Eager mode quantization (torch.ao.quantization.quantize, "
    "torch.ao.quantization.quantize_dynamic), please migrate to use torchao eager mode "
    "quantize_ API instead \n"
    "2. FX graph mode quantization (torch.ao.quantization.quantize_fx.prepare_fx,"
    "torch.ao.quantization.quantize_fx.convert_fx, please migrate to use torchao pt2e "
    "quantization API instead (prepare_pt2e, convert_pt2e) \n"
    "3. pt2e quantization has been migrated to torchao "
    "(https://github.com/pytorch/ao/tree/main/torchao/quantization/pt2e) \n"
    "see https://github.com/pytorch/ao/issues/2259 for more details"
)


def is_per_tensor(qscheme) -> bool:
    """Whether qscheme quantizes a whole tensor with one scale."""
    return qscheme in (q.per_tensor_affine, q.per_tensor_symmetric)


def is_per_channel(qscheme) -> bool:
    """Whether qscheme quantizes each channel with its own scale."""
    return qscheme in (q.per_channel_affine, q.per_channel_affine_float_qparams,
                       q.per_channel_symmetric)


def validate_qmin_qmax(quant_min, quant_max) -> None:
    """A user's quantized range must hold 0 and not be empty."""
    if not quant_min <= 0 <= quant_max:
        raise AssertionError("Used-specified quantization range must include 0.")
    if quant_min >= quant_max:
        raise AssertionError(
            "qmin must be strictly less than qmax for user-specified quantization range.")


def _default_range(dtype, reduce_range):
    """The 8-bit (or 16/32-bit) range of dtype, halved by reduce_range for 8 bits."""
    if dtype in (_dtype.qint8, _dtype.int8):
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype in (_dtype.quint8, _dtype.uint8):
        return (0, 127) if reduce_range else (0, 255)
    if dtype in (_dtype.qint32, _dtype.int32):
        return -(2 ** 31), 2 ** 31 - 1
    if dtype is _dtype.uint16:
        return 0, 2 ** 16 - 1
    if dtype is _dtype.int16:
        return -(2 ** 15), 2 ** 15 - 1
    return 0, 15


def calculate_qmin_qmax(quant_min, quant_max, has_customized_qrange, dtype, reduce_range):
    """The (qmin, qmax) an observer quantizes to: the user's range (halved by reduce_range) or
    the dtype's (matches `torch.ao.quantization.utils.calculate_qmin_qmax`)."""
    if not has_customized_qrange:
        return _default_range(dtype, reduce_range)
    length = quant_max - quant_min + 1
    if dtype in (_dtype.qint8, _dtype.int8) and not 0 < length <= 256:
        raise AssertionError("quantization range should be positive and not exceed the maximum "
                             "bit range (=256).")
    if dtype in (_dtype.qint32, _dtype.int32) and not 0 < length <= 2 ** 32:
        raise AssertionError("quantization range should be positive and not exceed the maximum "
                             "bit range (=4294967296).")
    if reduce_range:
        quant_min, quant_max = quant_min // 2, quant_max // 2
    return quant_min, quant_max


def check_min_max_valid(min_val, max_val) -> bool:
    """Whether an observer has seen values (else a warning and False); AssertionError when a
    min exceeds its max."""
    unset = min_val.numel() == 0 or max_val.numel() == 0 or (
        (min_val.dim() == 0 or max_val.dim() == 0)
        and float(min_val) == float("inf") and float(max_val) == float("-inf"))
    if unset:
        _warn("must run observer before calling calculate_qparams. Returning default "
                      "values.", stacklevel=3)
        return False
    if bool((min_val > max_val).any()):
        raise AssertionError(f"min {min_val} should be less than max {max_val}")
    return True
