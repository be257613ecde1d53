"""Packed weights of the quantized linear layers: what `torch.ops.quantized.linear_prepack`
makes (an FBGEMM `PackedLinearWeight`, a TorchScript object in PyTorch) and the dynamically
quantized product `torch.ops.quantized.linear_dynamic` computes with it (the arithmetic is
`ember._quantized_arith.linear_dynamic`, FBGEMM's to the bit)."""

from ember import _dtype
from ember import _quantized_arith as arith
from ember._backend import xp
from ember._quantized import QuantizedTensor, per_channel_affine, per_tensor_affine
from ember._library.ops import warn_not_implemented
from ember._tensor import Tensor


class PackedLinearWeight:
    """An int8 weight (per tensor or per channel) and float bias ready for FBGEMM's product:
    the weight's integers, scales, zero points and column offsets (NOTE [Quantizing as FBGEMM
    rounds])."""

    def __init__(self, weight, bias):
        self.weight, self.bias = weight, bias
        self._w_int = weight._qint
        if weight.qscheme() is per_tensor_affine:
            self._scales = xp.asarray([weight.q_scale()], dtype=xp.float64)
            self._zero_points = xp.asarray([weight.q_zero_point()], dtype=xp.int64)
        else:
            self._scales, self._zero_points = weight._qscales, weight._qzero_points
        self._col_offsets = arith.col_offsets_of(self._w_int, self._zero_points)
        self._bias = None if bias is None else bias.detach()._data.astype(xp.float32)

    def __str__(self):
        return "ScriptObject <__torch__.torch.classes.quantized.LinearPackedParamsBase>"

    def __repr__(self):
        return f"<torch.ScriptObject object at {id(self):#x}>"

    def __getstate__(self):
        """(weight, bias) as PyTorch's packed params give them (`__getstate__()[0]`)."""
        return ((self.weight, self.bias),)

    def __setstate__(self, state):
        self.__init__(*state[0])

    def unpack(self):
        """(weight, bias) (matches `torch.ops.quantized.linear_unpack`)."""
        return self.weight, self.bias

    def apply_dynamic(self, input, reduce_range=False):
        """input @ weight.T + bias, the activations quantized on the fly (FBGEMM's
        `PackedLinearWeight::apply_dynamic`); float32 input of 2 or more dims."""
        if input.dim() < 2:
            raise RuntimeError("The dimension of input tensor should be larger than or equal to 2")
        K = self._w_int.shape[1]
        if input.shape[-1] != K:
            raise RuntimeError(f"The number of rows in the packB should be equal to K: "
                               f"{input.shape[-1]}")
        if input.dtype is not _dtype.float32:
            raise RuntimeError(f"expected scalar type Float but found "
                               f"{_dtype._SHORT.get(input.dtype.name, input.dtype.name)}")
        x = xp.ascontiguousarray(input.detach()._data)
        out = arith.linear_dynamic(x, self._w_int, self._scales.astype(xp.float32),
                                   self._zero_points.astype(xp.float64), self._col_offsets,
                                   self._bias, reduce_range)
        out = Tensor._make(out)
        warn_not_implemented("quantized::linear_dynamic", (out,), (input,))
        return out


class PackedLinearWeightFp16:
    """A float weight stored as float16 and a float bias for FBGEMM's fp16 product (matches
    `PackedLinearWeightFp16`): the product in float32 of the input and the float16 weight,
    then the bias added in place (differentiable in the bias, as in PyTorch)."""

    def __init__(self, weight, bias):
        self._w16 = weight.detach()._data.astype(xp.float16)
        self.bias = bias

    __str__ = PackedLinearWeight.__str__
    __repr__ = PackedLinearWeight.__repr__

    def __getstate__(self):
        return (self.unpack(),)

    def __setstate__(self, state):
        self.__init__(*state[0])

    def unpack(self):
        """(float32 weight holding the float16 values, bias) (`linear_unpack_fp16`)."""
        return Tensor._make(self._w16.astype(xp.float32)), self.bias

    def apply_dynamic(self, input, reduce_range=False):
        """input @ weight.T + bias with the float16 weight (`linear_dynamic_fp16`); its
        checks in FBGEMM's order: dtype, then K, then rank."""
        if input.dtype is not _dtype.float32:
            raise RuntimeError(f"expected scalar type Float but found "
                               f"{_dtype._SHORT.get(input.dtype.name, input.dtype.name)}")
        if input.dim() == 0:
            raise IndexError("Dimension specified as -1 but tensor has no dimensions")
        if input.shape[-1] != self._w16.shape[1]:
            check = "input.size(input.dim() - 1) == packed_weight_fp16.numRows()"
        elif input.dim() < 2:
            check = "input.dim() >= 2"
        else:
            check = None
        if check is not None:
            raise RuntimeError(
                f"Expected {check} to be true, but got false.  (Could this error message be "
                "improved?  If so, please report an enhancement request to PyTorch.)")
        x = input.detach()._data
        out = Tensor._make(xp.matmul(x, self._w16.astype(xp.float32).T))
        return out if self.bias is None else out.add_(self.bias)


def linear_prepack_fp16(weight, bias=None):
    """Pack a float weight as float16, values beyond float16's range saturated (matches
    `torch.ops.quantized.linear_prepack_fp16`, which logs that from C++, not as a warning)."""
    array = xp.clip(weight.detach()._data, -65504.0, 65504.0)
    return PackedLinearWeightFp16(Tensor._make(array), bias)


def linear_prepack(weight, bias=None):
    """Pack a qint8 weight (out_features, in_features) and float bias (matches
    `torch.ops.quantized.linear_prepack` on FBGEMM)."""
    if not isinstance(weight, QuantizedTensor):
        raise NotImplementedError(
            "Could not run 'quantized::linear_prepack' with arguments from the 'CPU' backend. "
            "This could be because the operator doesn't exist for this backend, or was omitted "
            "during the selective/custom build process (if using custom build).")
    if weight.dim() != 2:
        raise RuntimeError("The weight tensor for quantized::linear_prepack (fbgemm) should be "
                           "2-dimensional.")
    if weight.dtype is not _dtype.qint8:
        raise RuntimeError(f"expected scalar type QInt8 but found "
                           f"{'QUInt8' if weight.dtype is _dtype.quint8 else 'QInt32'}")
    if weight.qscheme() not in (per_tensor_affine, per_channel_affine):
        raise RuntimeError(f"Unsupported qscheme: {weight.qscheme()}")
    if bias is not None:
        if bias.dim() != 1:
            raise RuntimeError("bias should be a vector (1D Tensor)")
        if bias.shape[0] != weight.shape[0]:
            raise RuntimeError(f"bias should have N elements: {weight.shape[0]}")
    return PackedLinearWeight(weight.contiguous(), bias)


def linear_dynamic(input, packed, reduce_range=False):
    """`torch.ops.quantized.linear_dynamic`: the packed layer's product, activations quantized
    per call to uint8 (0..127 with reduce_range)."""
    return packed.apply_dynamic(input, reduce_range)
