"""PyTorch's checks of an out= tensor against its own memory and its op's inputs."""

from ember._backend import xp
from ember._tensor import Tensor


def check_out_overlap(out: Tensor, inputs, result_shape=None) -> None:
    """PyTorch's errors for an out= tensor that overlaps itself or an input. An out= of the
    wrong shape is first resized in its own memory by PyTorch, so its extent then counts."""
    if any(st == 0 and n > 1 for st, n in zip(out._data.strides, out._data.shape)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the "
            "operation.")
    grown = (result_shape is not None and out._data.size and
             tuple(result_shape) != out._data.shape)
    for t in inputs:
        if grown:
            lo, hi = _byte_range(t._data)
            start = out._data.__array_interface__["data"][0]
            size = 1
            for n in result_shape:
                size *= n
            overlap = t._data.size and start < hi and lo < start + size * out._data.itemsize
        else:
            overlap = (xp.may_share_memory(out._data, t._data) and
                       xp.shares_memory(out._data, t._data))
        if overlap or t is out:
            raise RuntimeError(
                "unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location. Please clone() the tensor before "
                "performing the operation.")


def _byte_range(array) -> tuple:
    """[first byte, one past the last byte) of an array's elements."""
    start = array.__array_interface__["data"][0]
    low = sum(min(0, st * (n - 1)) for st, n in zip(array.strides, array.shape))
    high = sum(max(0, st * (n - 1)) for st, n in zip(array.strides, array.shape))
    return start + low, start + high + array.itemsize
