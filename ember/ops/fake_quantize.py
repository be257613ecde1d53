"""`torch.fake_quantize_per_tensor_affine` and `fake_quantize_per_channel_affine`: values
rounded to the quantized grid and back, with the straight-through gradient (matches torch's).

y = (clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) · scale, and
gx = gy where round(x / scale) + zero_point lies in [quant_min, quant_max], 0 elsewhere. As in
torch's kernels, x / scale is x · (1 / scale) with the reciprocal taken in float32, rounding
is half to even, and the result is formed in float32 (then cast to x's dtype).
"""

from ember import _dtype
from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor, short_name, wrap_dim
from ember.autograd.function import Op

_FLOATS = (_dtype.float32, _dtype.float64, _dtype.float16, _dtype.bfloat16)


class FakeQuantize(Op):
    """y = x on the quantized grid;  gx = gy where x lies inside the grid's range."""

    node_name = "FakeQuantizePerTensorAffineCachemaskBackward0"

    @staticmethod
    def forward(ctx, x, scale, zero_point, quant_min, quant_max, integer_zero_point):
        """scale and zero_point: arrays broadcasting against x's."""
        data = x._data
        inverse = (xp.float32(1) / scale.astype(xp.float32))
        if data.dtype.itemsize < 4:
            data = data.astype(xp.float32)  # (half, bfloat16: float32 arithmetic)
        scaled = data * inverse.astype(data.dtype)
        if integer_zero_point:
            q = xp.rint(scaled) + zero_point
        else:
            q = xp.rint(scaled + zero_point)
        ctx.mask = (q >= quant_min) & (q <= quant_max)
        values = (xp.clip(q, quant_min, quant_max) - zero_point).astype(xp.float32)
        return (values * scale.astype(xp.float32)).astype(x._data.dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy * Tensor._make(ctx.mask.astype(gy._data.dtype)), None, None, None, None, None


class FakeQuantizeTensorQparams(FakeQuantize):
    node_name = "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"


class FakeQuantizePerChannel(FakeQuantize):
    node_name = "FakeQuantizePerChannelAffineCachemaskBackward0"


def _check_input(input, kernel):
    if input.dtype not in _FLOATS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(input.dtype)}\'')


def _check_range(quant_min, quant_max, zero_points):
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or         equal to `quant_max`.")
    if zero_points.size and (zero_points.min() < quant_min or zero_points.max() > quant_max):
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


@op
def fake_quantize_per_tensor_affine(input: Tensor, scale, zero_point, quant_min: int,
                                    quant_max: int) -> Tensor:
    """input rounded to the quantized grid of one scale and zero point and back (matches
    `torch.fake_quantize_per_tensor_affine`); scale and zero_point may be 1-element tensors."""
    tensor_qparams = isinstance(scale, Tensor)
    if tensor_qparams:
        scale, zero_point = scale.item(), int(zero_point.item())
    _check_input(input, "fake_quantize_tensor_cachemask_kernel_type_handling")
    _check_range(quant_min, quant_max, xp.asarray([zero_point]))
    kind = FakeQuantizeTensorQparams if tensor_qparams else FakeQuantize
    return kind.apply(input, xp.asarray(scale, dtype=xp.float32), xp.int64(zero_point),
                      quant_min, quant_max, True)


@op
def fake_quantize_per_channel_affine(input: Tensor, scale: Tensor, zero_point: Tensor,
                                     axis: int, quant_min: int, quant_max: int) -> Tensor:
    """input rounded to the quantized grid of one scale and zero point per slice along axis
    and back (matches `torch.fake_quantize_per_channel_affine`)."""
    if zero_point.dtype not in (_dtype.int32, _dtype.float32, _dtype.float16):
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found "
                           f"{short_name(zero_point.dtype)}")
    if scale.dtype not in (_dtype.float32, _dtype.bfloat16):
        raise RuntimeError(f"Scale must be Float or BFloat16, found {short_name(scale.dtype)}")
    if scale.dim() != 1 or scale.shape != zero_point.shape or \
            scale.shape[0] != input.shape[wrap_dim(axis, input.dim())]:
        raise RuntimeError("dimensions of scale and zero-point are not consistent with input "
                           "tensor")
    if not 0 <= axis < input.dim():  # (a negative axis too, as torch)
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    _check_input(input, "fake_quantize_channel_cachemask_kernel_type_handling")
    _check_range(quant_min, quant_max, zero_point._data)
    shape = [1] * input.dim()
    shape[axis] = -1
    integer = zero_point.dtype is _dtype.int32
    zero_points = zero_point._data.reshape(shape).astype(xp.int64 if integer else xp.float32)
    return FakeQuantizePerChannel.apply(input, scale._data.reshape(shape), zero_points,
                                        quant_min, quant_max, integer)
