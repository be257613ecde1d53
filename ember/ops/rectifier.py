"""ReLU: the op (forward and backward side by side), its recorded gradient and `relu` itself;
the torch-exact array code is in ember/ops/relu_kernels.py."""

from ember._backend import xp
from ember._registry import op
from ember._tensor import Tensor
from ember.autograd.array_recording import RECORDED, array_call, record_unary
from ember.autograd.function import Op
from ember.ops import relu_kernels
from ember.ops.conversion import strided_like


class Relu(Op):
    """y = max(x, 0);  gx = gy where y > 0 or y is NaN, +0 elsewhere (relu'(0) = 0; PyTorch's
    backward zeroes gy where y <= 0, which a NaN is not; ember/ops/relu_kernels.py)."""

    @staticmethod
    def forward(ctx, x):
        y = relu_kernels.relu(x._data)
        if not x._data.flags.c_contiguous:  # (strided_like's common case, without the call)
            y = strided_like(y, x._data)
        if ctx.needs_input_grad[0]:  # the output is saved: an in-place change to it is caught
            y = Tensor._make(y)
            ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, gy):
        (y,) = ctx.saved_tensors
        return ThresholdBackward.apply(gy, y)


class ThresholdBackward(Op):
    """g = gy where y > 0 or y is NaN, +0 elsewhere: ReLU's gradient as an op of (gy, y), as
    PyTorch's threshold_backward, so that under create_graph g has a grad_fn even when only y
    requires grad;  ggy = the same mask applied to gg,  gy_saved = 0."""

    node_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx, gy, y):
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(y)
        return relu_kernels.relu_backward(gy._data, y._data)

    @staticmethod
    def backward(ctx, gg):
        ggy = gzero = None
        if ctx.needs_input_grad[0]:
            (y,) = ctx.saved_tensors
            ggy = ThresholdBackward.apply(gg, y)
        if ctx.needs_input_grad[1]:  # the mask is flat in y: PyTorch returns zeros, not None
            gzero = Tensor._make(xp.zeros(ctx._input_meta[1][0], dtype=gg._data.dtype))
        return ggy, gzero


@op(method=True, inplace=True, writes_in_place=True)
def relu(input: Tensor) -> Tensor:
    """max(input, 0) (matches `torch.relu`); keeps integer dtypes."""
    kind = input._data.dtype.kind
    if kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    mode = array_call(input)
    if mode:  # NOTE [Array forward], NOTE [Recording from arrays]
        data = input._data
        y = Tensor._make(strided_like(relu_kernels.relu(data), data))
        if mode is RECORDED:
            record_unary(Relu, input, y, saves_output=True, elementwise=True)
        return y
    return Relu.apply(input)
